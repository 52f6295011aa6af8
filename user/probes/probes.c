// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vigie.h"
#include "vigie.skel.h"
#include "base/cgroups.h"
#include "base/log.h"
#include "probes/probes.h"

#define TRACEFS_MAGIC_NUM 0x74726163
#define BPF_FS_MAGIC_NUM 0xcafe4a11

static const char *const variant_names[VARIANT_MAX] = { "sock-btf", "sock-tracepoint",
							 "syscalls" };

const char *probe_variant_name(enum probe_variant v)
{
	return v < VARIANT_MAX ? variant_names[v] : "none";
}

static bool is_fs(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

int probes_mount_fs(void)
{
	if (!is_fs("/sys/kernel/tracing", TRACEFS_MAGIC_NUM) &&
	    access("/sys/kernel/debug/tracing/events", F_OK) != 0) {
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
			log_warn("cannot mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
		else
			log_info("mounted tracefs on /sys/kernel/tracing");
	}
	if (!is_fs("/sys/fs/bpf", BPF_FS_MAGIC_NUM)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
			log_warn("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		else
			log_info("mounted bpffs on /sys/fs/bpf");
	}
	return 0;
}

/* Syscalls each feature needs (enter and exit programs of each). */
static const char *const sock_syscalls[] = { "sendto", "sendmsg", "sendmmsg", "write",
					     "writev", "recvfrom", "recvmsg", "recvmmsg",
					     "read", "readv", "sendfile64", "splice", NULL };
static const char *const dbfile_syscalls[] = { "read", "readv", "pread64", "preadv",
					       "preadv2", "sendfile64", "splice",
					       "copy_file_range", NULL };

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* sys_ret: the exit only programs (sys_ret_NAME) rather than the
 * enter/exit pairs, for the syscalls of syscalls mode and db_file. */
static void choose_programs(struct vigie_bpf *skel, enum probe_variant v, bool dbfile,
			    bool uring, bool sys_ret)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool on = false;

		if (!strcmp(name, "process_exec") || !strcmp(name, "process_exit"))
			on = true;
		else if (!strcmp(name, "tcp_state_btf"))
			on = v == VARIANT_SOCK_BTF;
		else if (!strcmp(name, "tcp_state"))
			on = v != VARIANT_SOCK_BTF;
		else if (!strcmp(name, "uring_complete"))
			on = uring && (v == VARIANT_SYSCALLS || dbfile);
		else if (!strcmp(name, "udp_sendmsg4") || !strcmp(name, "udp_sendmsg6"))
			on = v != VARIANT_SYSCALLS; /* syscalls mode reads the arguments */
		else if (!strcmp(name, "sock_send_btf") || !strcmp(name, "sock_recv_btf"))
			on = v == VARIANT_SOCK_BTF;
		else if (!strcmp(name, "sock_send_tp") || !strcmp(name, "sock_recv_tp"))
			on = v == VARIANT_SOCK_TP;
		else if (!strncmp(name, "sys_enter_", 10) || !strncmp(name, "sys_exit_", 9) ||
			 !strncmp(name, "sys_ret_", 8)) {
			bool ret = name[4] == 'r';
			const char *sc = name + (ret ? 8 : name[4] == 'e' && name[5] == 'n' ? 10 : 9);

			on = ret == sys_ret &&
			     ((v == VARIANT_SYSCALLS && in_list(sc, sock_syscalls)) ||
			      (dbfile && in_list(sc, dbfile_syscalls)));
		}
		bpf_program__set_autoload(prog, on);
	}
}

static void set_settings(struct vigie_bpf *skel, const struct vigie_config *cfg,
			 enum probe_variant v, bool dbfile)
{
	for (int i = 0; i < cfg->n_db_ports; i++) {
		uint16_t port = cfg->db_ports[i];

		skel->rodata->db_port_bits[port >> 6] |= 1ull << (port & 63);
	}
	skel->rodata->exclude_loopback = cfg->exclude_loopback;
	skel->rodata->have_excluded_nets = cfg->n_internal_nets > 0;
	skel->rodata->have_db_endpoints = cfg->n_db_endpoints > 0;
	skel->rodata->self_tgid = (uint32_t)getpid();
	skel->rodata->count_sock_syscalls = v == VARIANT_SYSCALLS;
	skel->rodata->count_dbfile = dbfile;
	bpf_map__set_max_entries(skel->maps.flows_a, cfg->flow_entries);
	bpf_map__set_max_entries(skel->maps.flows_b, cfg->flow_entries);
	bpf_map__set_max_entries(skel->maps.totals_a, cfg->total_entries);
	bpf_map__set_max_entries(skel->maps.totals_b, cfg->total_entries);
	/* the arrays keep their compiled size (a map of maps wants its
	 * template's): the mask uses the first flow_cache_slots of them */
	skel->rodata->cache_on = cfg->flow_cache_slots > 0;
	skel->rodata->cache_mask = cfg->flow_cache_slots ? cfg->flow_cache_slots - 1 : 0;
}

/* Walk a data directory and mark every regular file under it by inode, so
 * that a hard link to a data file elsewhere is still a data file. */
static struct {
	int map_fd;
	uint32_t idx;
	uint64_t files;
	bool full;
} walk;

static int mark_data_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct vigie_inode_key k = { 0 };

	(void)path;
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	k.ino = st->st_ino;
	k.dev = (uint32_t)((major(st->st_dev) << 20) | minor(st->st_dev));
	if (bpf_map_update_elem(walk.map_fd, &k, &walk.idx, BPF_ANY)) {
		walk.full = true;
		return 1; /* stop: the kernel's path walk covers the rest */
	}
	walk.files++;
	return 0;
}

static void mark_data_files(struct probes *p, const char *dir, uint32_t idx)
{
	walk.map_fd = bpf_map__fd(p->skel->maps.data_inodes);
	walk.idx = idx;
	walk.full = false;
	walk.files = 0;
	nftw(dir, mark_data_file, 64, FTW_PHYS);
	log_info("data directory '%s': %llu files%s", dir, (unsigned long long)walk.files,
		 walk.full ? " (inode map full: the rest is found by path)" : "");
}

static int fill_maps(struct probes *p, const struct vigie_config *cfg)
{
	struct vigie_bpf *skel = p->skel;
	uint8_t one = 1;
	int err;

	for (int i = 0; i < cfg->n_internal_nets; i++) {
		struct vigie_net_key k = { .prefixlen = cfg->internal_nets[i].prefix };

		memcpy(k.addr, cfg->internal_nets[i].addr, 16);
		err = bpf_map__update_elem(skel->maps.excluded_nets, &k, sizeof(k), &one, 1, BPF_ANY);
		if (err) {
			log_error("cannot add internal network %d: %s", i, strerror(-err));
			return err;
		}
	}
	for (int i = 0; i < cfg->n_db_endpoints; i++) {
		struct vigie_endpoint_key k = { .family = cfg->db_endpoints[i].family,
						.port = cfg->db_endpoints[i].port };

		memcpy(k.addr, cfg->db_endpoints[i].addr, 16);
		err = bpf_map__update_elem(skel->maps.db_endpoints, &k, sizeof(k), &one, 1, BPF_ANY);
		if (err) {
			log_error("cannot add database endpoint %d: %s", i, strerror(-err));
			return err;
		}
	}
	p->n_data_dirs = 0;
	for (int i = 0; i < cfg->n_data_dirs && p->dbfile; i++) {
		struct vigie_inode_key k = { 0 };
		uint32_t idx = (uint32_t)i;
		struct stat st;

		p->data_dir_paths[i] = cfg->data_dirs[i];
		if (stat(cfg->data_dirs[i], &st) || !S_ISDIR(st.st_mode)) {
			log_warn("data directory '%s' is not a directory now; not watched",
				 cfg->data_dirs[i]);
			continue;
		}
		k.ino = st.st_ino;
		k.dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
		err = bpf_map__update_elem(skel->maps.data_dirs, &k, sizeof(k), &idx, sizeof(idx),
					   BPF_ANY);
		if (err) {
			log_error("cannot watch data directory '%s': %s", cfg->data_dirs[i],
				  strerror(-err));
			return err;
		}
		mark_data_files(p, cfg->data_dirs[i], idx);
		p->n_data_dirs++;
	}
	return 0;
}

/* Unconnected UDP sends carry their destination in the message only: the
 * cgroup sendmsg hooks see it. Without them such sends are counted with an
 * unknown destination. */
static void attach_udp_hooks(struct probes *p)
{
	struct bpf_program *progs[2] = { p->skel->progs.udp_sendmsg4, p->skel->progs.udp_sendmsg6 };
	char root[512];
	int fd;

	if (p->variant == VARIANT_SYSCALLS)
		return;
	if (!cgroup2_mount(root, sizeof(root))) {
		log_warn("no cgroup v2 hierarchy mounted: destinations of unconnected UDP sends "
			 "will be unknown");
		return;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("cannot open %s: %s", root, strerror(errno));
		return;
	}
	for (int i = 0; i < 2; i++) {
		p->udp_links[i] = bpf_program__attach_cgroup(progs[i], fd);
		if (!p->udp_links[i]) {
			log_warn("cannot attach the UDP destination hook to %s: %s; destinations "
				 "of unconnected UDP sends will be unknown", root, strerror(errno));
			break;
		}
	}
	close(fd);
	p->udp_dest = p->udp_links[0] && p->udp_links[1];
}

static int try_variant(struct probes *p, const struct vigie_config *cfg, enum probe_variant v,
		       bool uring, bool sys_ret)
{
	struct vigie_bpf *skel = NULL;
	int err;

	skel = vigie_bpf__open();
	if (!skel) {
		err = -errno;
		log_error("cannot open the BPF object: %s", strerror(-err));
		goto cleanup;
	}
	choose_programs(skel, v, p->dbfile, uring, sys_ret);
	set_settings(skel, cfg, v, p->dbfile);
	err = vigie_bpf__load(skel);
	if (err) {
		log_info("probe variant %s does not load here (%s)", probe_variant_name(v),
			 strerror(-err));
		goto cleanup;
	}
	p->skel = skel;
	err = fill_maps(p, cfg);
	if (err)
		goto cleanup;
	err = vigie_bpf__attach(skel);
	if (err) {
		log_info("probe variant %s does not attach here (%s)", probe_variant_name(v),
			 strerror(-err));
		goto cleanup;
	}
	p->variant = v;
	p->uring = uring && (v == VARIANT_SYSCALLS || p->dbfile);
	p->sys_ret = sys_ret && (v == VARIANT_SYSCALLS || p->dbfile);
	p->n_attached = 0;
	{
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, skel->obj)
			p->n_attached += bpf_program__autoload(prog);
	}
	return 0;
cleanup:
	p->skel = NULL;
	vigie_bpf__destroy(skel);
	return err;
}

int probes_start(struct probes *p, const struct vigie_config *cfg)
{
	enum probe_variant first = VARIANT_SOCK_BTF, last = VARIANT_SYSCALLS;
	int err = -ENOENT;

	memset(p, 0, sizeof(*p));
	p->variant = VARIANT_MAX;
	p->dbfile = cfg->n_data_dirs > 0;
	if (cfg->probes == PROBES_SOCK)
		last = VARIANT_SOCK_TP;
	else if (cfg->probes == PROBES_SYSCALLS)
		first = VARIANT_SYSCALLS;
	probes_mount_fs();
	for (enum probe_variant v = first; v <= last; v++) {
		bool sys = v == VARIANT_SYSCALLS || p->dbfile;
		/* VIGIE_SYSCALLS_PAIR=1: the fallback, as on a kernel without
		 * bpf_task_pt_regs (tests, diagnosis) */
		const char *pair = getenv("VIGIE_SYSCALLS_PAIR");
		bool ret = sys && !(pair && !strcmp(pair, "1"));

		/* Syscall tracepoints: exit only where the kernel lets a program
		 * read the entry registers (bpf_task_pt_regs), else the pairs.
		 * io_uring completions need tp_btf/io_uring_complete; without it
		 * the variant still works, io_uring I/O aside. */
		err = try_variant(p, cfg, v, true, ret);
		if (err && ret)
			err = try_variant(p, cfg, v, true, false);
		if (err && sys) {
			err = try_variant(p, cfg, v, false, ret);
			if (err && ret)
				err = try_variant(p, cfg, v, false, false);
			if (!err)
				log_warn("io_uring completions cannot be traced here: io_uring %s not counted",
					 v == VARIANT_SYSCALLS ? "socket and file I/O is" : "file reads are");
		}
		if (!err) {
			attach_udp_hooks(p);
			log_info("probes: %s (%d programs%s%s)", probe_variant_name(v), p->n_attached,
				 p->dbfile ? ", db_file on" : "",
				 !sys ? "" : p->sys_ret ? ", syscalls at exit only" :
							  ", syscalls at enter and exit");
			return 0;
		}
	}
	log_error("no probe variant could be loaded and attached (--probes %s): %s; "
		  "run with -v for the verifier's and libbpf's messages",
		  config_probe_mode_name(cfg->probes), strerror(-err));
	return err;
}

void probes_stop(struct probes *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(p->udp_links[i]);
		p->udp_links[i] = NULL;
	}
	vigie_bpf__destroy(p->skel);
	p->skel = NULL;
}

int probes_add_db_port(struct probes *p, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);

	if (!p || !p->skel || !p->skel->bss || !port)
		return -EINVAL;
	if (__atomic_fetch_or(&p->skel->bss->db_port_found[port >> 6], bit, __ATOMIC_SEQ_CST) &
	    bit)
		return 0;
	/* sockets classified before now take the full path again */
	__atomic_add_fetch(&p->skel->bss->class_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

bool probes_is_db_port(const struct probes *p, uint16_t port)
{
	uint64_t bit = 1ull << (port & 63);

	if (!p || !p->skel)
		return false;
	return (p->skel->rodata->db_port_bits[port >> 6] & bit) ||
	       (p->skel->bss && (p->skel->bss->db_port_found[port >> 6] & bit));
}

int probes_send_chain_fd(const struct probes *p)
{
	if (!p || !p->skel || p->variant != VARIANT_SOCK_BTF)
		return -1;
	return bpf_map__fd(p->skel->maps.send_chain);
}

int probes_pg_ports_known(struct probes *p, bool known)
{
	if (probes_send_chain_fd(p) < 0 || !p->skel->bss)
		return -EINVAL;
	__atomic_store_n(&p->skel->bss->pg_ports_known, known ? 1u : 0u, __ATOMIC_SEQ_CST);
	return 0;
}
