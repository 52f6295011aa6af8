// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "netguard_abi.h"
#include "netguard.skel.h"
#include "base/cgroups.h"
#include "base/log.h"
#include "contain/netguard.h"

#define NG_N_PROGS 5

/* Where a cgroup2 file system is mounted when none is: the usual place of
 * a hybrid hierarchy first, then a directory of our own (when /sys/fs/cgroup
 * is not a writable tmpfs). */
static const char *const mount_candidates[] = { "/sys/fs/cgroup/unified", "/run/vigie/cgroup2" };

struct netguard {
	struct netguard_bpf *skel;
	struct bpf_link *links[NG_N_PROGS];
	int blocked_fd;          /* ng_blocked, -1 until loaded */
	char cgroup_root[512];
	bool mounted_here;       /* cgroup_root was mounted by netguard_open */
};

/* ---- set-up ------------------------------------------------------------ */

static int mount_cgroup2_at(const char *dir)
{
	if (!strncmp(dir, "/run/vigie/", 11) && mkdir("/run/vigie", 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

/* The cgroup v2 root into g->cgroup_root, mounting the hierarchy when no
 * cgroup2 file system is mounted. 0 or -errno. */
static int find_cgroup2_root(struct netguard *g, char *err, size_t errlen)
{
	int ret = -ENOENT;

	if (cgroup2_mount(g->cgroup_root, sizeof(g->cgroup_root)))
		return 0;
	for (size_t i = 0; i < sizeof(mount_candidates) / sizeof(mount_candidates[0]); i++) {
		ret = mount_cgroup2_at(mount_candidates[i]);
		if (ret == 0) {
			snprintf(g->cgroup_root, sizeof(g->cgroup_root), "%s", mount_candidates[i]);
			g->mounted_here = true;
			log_info("netguard: no cgroup v2 hierarchy was mounted; mounted one at %s",
				 g->cgroup_root);
			return 0;
		}
		log_debug("netguard: cannot mount cgroup2 at %s: %s", mount_candidates[i],
			  strerror(-ret));
	}
	snprintf(err, errlen, "no cgroup v2 hierarchy mounted and none could be mounted (%s, %s: %s)",
		 mount_candidates[0], mount_candidates[1], strerror(-ret));
	return ret;
}

static int attach_programs(struct netguard *g, char *err, size_t errlen)
{
	struct bpf_program *progs[NG_N_PROGS] = {
		g->skel->progs.ng_connect4, g->skel->progs.ng_connect6, g->skel->progs.ng_sendmsg4,
		g->skel->progs.ng_sendmsg6, g->skel->progs.ng_egress,
	};
	int cg_fd, ret = 0;

	cg_fd = open(g->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the cgroup v2 root %s: %s", g->cgroup_root,
			 strerror(-ret));
		return ret;
	}
	for (int i = 0; i < NG_N_PROGS; i++) {
		g->links[i] = bpf_program__attach_cgroup(progs[i], cg_fd);
		if (!g->links[i]) {
			ret = -errno;
			snprintf(err, errlen, "cannot attach %s to the cgroup v2 root %s: %s",
				 bpf_program__name(progs[i]), g->cgroup_root, strerror(-ret));
			break;
		}
	}
	close(cg_fd);
	return ret;
}

struct netguard *netguard_open(uint32_t self_tgid, char *err, size_t errlen)
{
	struct netguard *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	g->blocked_fd = -1;
	if (find_cgroup2_root(g, err, errlen))
		goto cleanup;
	g->skel = netguard_bpf__open();
	if (!g->skel) {
		snprintf(err, errlen, "cannot open the netguard BPF object: %s", strerror(errno));
		goto cleanup;
	}
	g->skel->rodata->ng_self_tgid = self_tgid;
	ret = netguard_bpf__load(g->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load the netguard BPF programs: %s", strerror(-ret));
		goto cleanup;
	}
	g->blocked_fd = bpf_map__fd(g->skel->maps.ng_blocked);
	if (attach_programs(g, err, errlen))
		goto cleanup;
	log_info("netguard: containment programs attached to the cgroup v2 root %s",
		 g->cgroup_root);
	return g;
cleanup:
	netguard_close(g);
	return NULL;
}

void netguard_close(struct netguard *g)
{
	if (!g)
		return;
	for (int i = 0; i < NG_N_PROGS; i++)
		bpf_link__destroy(g->links[i]);
	netguard_bpf__destroy(g->skel);
	/* the links held the cgroup, not the mount: a mount of ours can go */
	if (g->mounted_here && umount2(g->cgroup_root, MNT_DETACH))
		log_warn("netguard: cannot unmount %s: %s", g->cgroup_root, strerror(errno));
	free(g);
}

/* ---- blocked addresses ------------------------------------------------- */

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The map key of an address, as the programs build it (v4-mapped IPv6 is
 * the IPv4 address). -EINVAL for a bad family or address. */
static int make_key(struct ng_addr *k, int family, const void *addr)
{
	const uint8_t *a = addr;

	memset(k, 0, sizeof(*k));
	if (!addr)
		return -EINVAL;
	if (family == AF_INET) {
		k->family = NG_AF_INET;
		memcpy(k->addr, a, 4);
	} else if (family == AF_INET6 && !memcmp(a, v4_mapped_prefix, 12)) {
		k->family = NG_AF_INET;
		memcpy(k->addr, a + 12, 4);
	} else if (family == AF_INET6) {
		k->family = NG_AF_INET6;
		memcpy(k->addr, a, 16);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Entries in the map, counted by walking it (bounded by its size). */
static uint32_t count_entries(int fd)
{
	struct ng_addr cur, next;
	uint32_t n = 0;
	void *prev = NULL;

	while (n <= NG_MAX_BLOCKED && bpf_map_get_next_key(fd, prev, &next) == 0) {
		cur = next;
		prev = &cur;
		n++;
	}
	return n;
}

/* ng_active follows the map: the programs skip every lookup at 0. Counted
 * rather than tracked, so that a failed update cannot leave it wrong. */
static void sync_active(struct netguard *g)
{
	__atomic_store_n(&g->skel->bss->ng_active, count_entries(g->blocked_fd), __ATOMIC_RELEASE);
}

int netguard_block(struct netguard *g, int family, const void *addr, uint64_t until_mono_ns)
{
	struct ng_block val = { .until_ns = until_mono_ns };
	struct ng_addr k;
	int ret;

	if (!g)
		return -EINVAL;
	ret = make_key(&k, family, addr);
	if (ret)
		return ret;
	/* a new deadline for a known address keeps its hit count */
	if (bpf_map_lookup_elem(g->blocked_fd, &k, &val) == 0)
		val.until_ns = until_mono_ns;
	ret = bpf_map_update_elem(g->blocked_fd, &k, &val, BPF_ANY) ? -errno : 0;
	sync_active(g);
	return ret;
}

int netguard_unblock(struct netguard *g, int family, const void *addr)
{
	struct ng_addr k;
	int ret;

	if (!g)
		return -EINVAL;
	ret = make_key(&k, family, addr);
	if (ret)
		return ret;
	ret = bpf_map_delete_elem(g->blocked_fd, &k) ? -errno : 0;
	sync_active(g);
	return ret;
}

uint32_t netguard_active(const struct netguard *g)
{
	return g ? __atomic_load_n(&g->skel->bss->ng_active, __ATOMIC_ACQUIRE) : 0;
}

/* ---- statistics -------------------------------------------------------- */

static uint64_t stat_sum(struct netguard *g, uint32_t slot, uint64_t *percpu, int ncpus)
{
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(g->skel->maps.ng_stats), &slot, percpu))
		return 0;
	for (int i = 0; i < ncpus; i++)
		sum += percpu[i];
	return sum;
}

void netguard_stats(struct netguard *g, struct netguard_stats *st)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *percpu;

	memset(st, 0, sizeof(*st));
	if (!g || ncpus <= 0)
		return;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return;
	st->connects_refused = stat_sum(g, NG_STAT_CONNECT_REFUSED, percpu, ncpus);
	st->sends_refused = stat_sum(g, NG_STAT_SEND_REFUSED, percpu, ncpus);
	st->packets_dropped = stat_sum(g, NG_STAT_PACKET_DROPPED, percpu, ncpus);
	free(percpu);
}
