// SPDX-License-Identifier: GPL-2.0
/* PostgreSQL row counting: loader and tracking (the drain:
 * pgwire_drain.c). See pgwire.h. */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "base/log.h"
#include "postgres/pgbackend.h"
#include "postgres/pgseen.h"
#include "postgres/pgsession.h"
#include "postgres/pgtls.h"
#include "postgres/pgwire.h"
#include "postgres/pgwire_int.h"
#include "probes/probes.h"
#include "vigie.h" /* send_chain's slots */
#include "pgwire.skel.h"


/* A session parameter change from the kernel, queued on its backend until
 * a drain reaches it. */
static int on_param(void *ctx, void *data, size_t size)
{
	const struct pgwire_param_event *ev = data;
	struct pgwire *pg = ctx;
	struct seen *s;

	if (size < sizeof(*ev))
		return 0;
	if ((ev->flags & PGWIRE_PF_CONTAINED) && pg->contained_fn)
		pg->contained_fn(ev, pg->contained_ctx);
	s = seen_find(&pg->seen, ev->tgid);
	if (!s) {
		s = seen_add(&pg->seen, ev->tgid);
		if (!s) {
			pg->params_dropped++;
			return 0;
		}
		s->created_ns = ev->created_ns;
		s->mark = pg->mark; /* not deleted as stale before the walk */
	}
	if (s->created_ns != ev->created_ns || (!s->sess && !(s->sess = calloc(1, sizeof(*s->sess)))) ||
	    pg_session_queue(s->sess, ev)) {
		pg->params_dropped++; /* a reused pid not drained yet, or no memory */
		return 0;
	}
	return 0;
}

/* ---- start / stop ---- */

/* slab: the backends' entries allocated one at a time (BPF_F_NO_PREALLOC),
 * from the kernel's slab, which the direct map covers with 2 MB pages; a
 * preallocated hash keeps them in vmalloc'd 4 KB pages. 14 ns less a walked
 * send in pairs (docs/benchmarks.md), and 129 KB instead of 3.8 MB. */
static struct pgwire_bpf *open_load_as(enum pgwire_probe probe, bool chained, bool slab,
					int *errp)
{
	struct pgwire_bpf *skel;
	int err;

	skel = pgwire_bpf__open();
	if (!skel) {
		*errp = -errno;
		return NULL;
	}
	bpf_program__set_autoload(skel->progs.pg_sock_send, probe == PGWIRE_PROBE_SOCK);
	bpf_program__set_autoload(skel->progs.pg_sock_send_db, probe == PGWIRE_PROBE_SOCK && chained);
	bpf_program__set_autoload(skel->progs.pg_sys_exit_sendto, probe == PGWIRE_PROBE_SYSCALL);
	err = slab ? bpf_map__set_map_flags(skel->maps.pg_backends,
					    bpf_map__map_flags(skel->maps.pg_backends) |
						    BPF_F_NO_PREALLOC)
		   : 0;
	if (!err)
		err = pgwire_bpf__load(skel);
	if (err) {
		*errp = err;
		pgwire_bpf__destroy(skel);
		return NULL;
	}
	*errp = 0;
	return skel;
}

/* Linux < 6.1 refuses a hash that is not preallocated in tracing
 * programs: the second try preallocates. chained: the sensor's send_chain
 * will call the send programs (pg_sock_send_db is only for it). */
static struct pgwire_bpf *open_load(enum pgwire_probe probe, bool chained, int *errp)
{
	struct pgwire_bpf *skel = open_load_as(probe, chained, true, errp);

	if (!skel) {
		skel = open_load_as(probe, chained, false, errp);
		if (skel)
			log_debug("pgwire: backends map preallocated (this kernel refuses it "
				  "allocated per entry in tracing programs)");
	}
	return skel;
}

struct pgwire *pgwire_start(const struct pgwire_opts *opts)
{
	enum pgwire_probe want = opts ? opts->probe : PGWIRE_PROBE_AUTO;
	struct pgwire *pg = NULL;
	struct bpf_program *send_prog;
	bool chained = opts && opts->send_chain_fd > 0;
	int err = 0, i;

	pg = calloc(1, sizeof(*pg));
	if (!pg) {
		log_error("pgwire: out of memory");
		return NULL;
	}
	pg->backends_fd = -1;
	pg->postmasters_fd = -1;
	pg->stats_fd = -1;
	pg->chain_fd = -1;

	pg->ncpus = libbpf_num_possible_cpus();
	if (pg->ncpus <= 0) {
		err = pg->ncpus ? pg->ncpus : -EINVAL;
		log_error("pgwire: cannot count CPUs: %s", strerror(-err));
		goto cleanup;
	}

	if (want == PGWIRE_PROBE_AUTO || want == PGWIRE_PROBE_SOCK) {
		pg->skel = open_load(PGWIRE_PROBE_SOCK, chained, &err);
		if (pg->skel)
			pg->probe = PGWIRE_PROBE_SOCK;
		else if (want == PGWIRE_PROBE_SOCK) {
			log_error("pgwire: cannot load the sock_send_length probe: %s",
				  strerror(-err));
			goto cleanup;
		} else {
			log_info("pgwire: sock_send_length probe does not load (%s), "
				 "trying the sendto syscall tracepoint", strerror(-err));
		}
	}
	if (!pg->skel) {
		probes_mount_fs(); /* the syscall tracepoint needs tracefs */
		pg->skel = open_load(PGWIRE_PROBE_SYSCALL, false, &err);
		if (!pg->skel) {
			log_error("pgwire: cannot load the PostgreSQL probes: %s "
				  "(root and a kernel with BTF are needed)", strerror(-err));
			goto cleanup;
		}
		pg->probe = PGWIRE_PROBE_SYSCALL;
	}

	send_prog = pg->probe == PGWIRE_PROBE_SOCK ? pg->skel->progs.pg_sock_send
						   : pg->skel->progs.pg_sys_exit_sendto;
	struct bpf_program *progs[4] = {
		pg->skel->progs.pg_fork, pg->skel->progs.pg_exit,
		pg->skel->progs.pg_exec, send_prog,
	};
	if (pg->probe == PGWIRE_PROBE_SOCK && chained) {
		/* the sensor's sock_send_btf calls it: one program per send */
		int fd = bpf_program__fd(send_prog), db_fd;
		__u32 slot = VIGIE_SEND_CHAIN_ANY;

		if (bpf_map_update_elem(opts->send_chain_fd, &slot, &fd, BPF_ANY) == 0)
			pg->chain_fd = opts->send_chain_fd;
		else
			log_info("pgwire: pg_sock_send cannot run as the sensor's tail call (%s): "
				 "attached on its own", strerror(errno));
		/* without it, sends from database ports take the ANY slot */
		db_fd = bpf_program__fd(pg->skel->progs.pg_sock_send_db);
		slot = VIGIE_SEND_CHAIN_DB_PORT;
		if (pg->chain_fd >= 0 && bpf_map_update_elem(pg->chain_fd, &slot, &db_fd, BPF_ANY))
			log_info("pgwire: pg_sock_send_db cannot run as the sensor's tail call "
				 "(%s): pg_sock_send takes its sends", strerror(errno));
	}
	for (i = 0; i < 4; i++) {
		if (progs[i] == send_prog && pg->chain_fd >= 0)
			continue;
		pg->links[i] = bpf_program__attach(progs[i]);
		if (!pg->links[i]) {
			err = -errno;
			log_error("pgwire: cannot attach %s: %s",
				  bpf_program__name(progs[i]), strerror(-err));
			goto cleanup;
		}
	}
	pg->backends_fd = bpf_map__fd(pg->skel->maps.pg_backends);
	pg->postmasters_fd = bpf_map__fd(pg->skel->maps.pg_postmasters);
	pg->stats_fd = bpf_map__fd(pg->skel->maps.pg_stats);
	if (opts && opts->no_tls_hook) {
		log_warn("pgwire: be_tls_write not hooked (configuration): rows of TLS "
			 "connections are not counted (bytes are)");
	} else {
		pg->tls.enter = pg->skel->progs.pg_tls_write_enter;
		/* now, while uprobes can still be attached (privs.h): a
		 * server started later from one of these has its TLS rows
		 * counted */
		pgtls_hook_installed(&pg->tls);
	}
	pg->params_rb = ring_buffer__new(bpf_map__fd(pg->skel->maps.pg_params), on_param, pg, NULL);
	if (!pg->params_rb) {
		err = -errno;
		log_error("pgwire: cannot read the session parameter changes: %s", strerror(-err));
		goto cleanup;
	}
	log_info("pgwire: PostgreSQL row counting attached (%s probe%s)",
		 pgwire_probe_name(pg), pg->chain_fd >= 0 ? ", a tail call of sock_send_btf" : "");
	return pg;

cleanup:
	pgwire_stop(pg);
	return NULL;
}

void pgwire_on_contained(struct pgwire *pg, pgwire_contained_fn fn, void *ctx)
{
	if (!pg)
		return;
	pg->contained_fn = fn;
	pg->contained_ctx = ctx;
}

const struct pg_session *pgwire_session(struct pgwire *pg, uint32_t tgid)
{
	struct seen *s = pg ? seen_find(&pg->seen, tgid) : NULL;

	return s ? s->sess : NULL;
}

int pgwire_guard_map_fd(const struct pgwire *pg)
{
	return pg ? bpf_map__fd(pg->skel->maps.pg_guards) : -1;
}

const char *pgwire_probe_name(const struct pgwire *pg)
{
	if (!pg)
		return "none";
	return pg->probe == PGWIRE_PROBE_SOCK ? "sock" : "syscall";
}

const char *pgwire_unknown_name(uint32_t bit)
{
	switch (bit) {
	case PGWIRE_UNKNOWN_TLS_NOT_HOOKED: return "tls_not_hooked";
	case PGWIRE_UNKNOWN_GSSAPI: return "gssapi";
	case PGWIRE_UNKNOWN_BEFORE_START: return "opened_before_start";
	case PGWIRE_UNKNOWN_DIRECT_TLS: return "direct_tls";
	case PGWIRE_UNKNOWN_UNSYNCED: return "unsynced";
	default: return NULL;
	}
}

int pgwire_send_prog_fd(const struct pgwire *pg)
{
	if (!pg || !pg->skel)
		return -1;
	return bpf_program__fd(pg->probe == PGWIRE_PROBE_SOCK ? pg->skel->progs.pg_sock_send
							 : pg->skel->progs.pg_sys_exit_sendto);
}

int pgwire_tls_prog_fd(const struct pgwire *pg)
{
	if (!pg || !pg->skel)
		return -1;
	return bpf_program__fd(pg->skel->progs.pg_tls_write_enter);
}

void pgwire_stop(struct pgwire *pg)
{
	if (!pg)
		return;
	if (pg->chain_fd >= 0) {
		/* before the programs go: the slots hold a reference */
		for (__u32 slot = 0; slot < VIGIE_SEND_CHAIN_SLOTS; slot++)
			bpf_map_delete_elem(pg->chain_fd, &slot);
	}
	ring_buffer__free(pg->params_rb);
	pgtls_release(&pg->tls);
	for (int i = 0; i < 4; i++)
		bpf_link__destroy(pg->links[i]);
	pgwire_bpf__destroy(pg->skel);
	seen_free(&pg->seen);
	free(pg->reads);
	free(pg->segs);
	free(pg);
}

/* ---- tracking ---- */

/* After an insert: if the process had already exited, the kernel's exit
 * hook ran before the entry existed and would never clean it up. */
static bool process_gone(uint32_t tgid)
{
	return kill((pid_t)tgid, 0) != 0 && errno == ESRCH;
}

int pgwire_add_postmaster(struct pgwire *pg, uint32_t tgid)
{
	uint8_t v = PGWIRE_PM_TRACKED;

	if (!pg || !tgid)
		return -EINVAL;
	/* hooked first: its backends forked from now on know it */
	if (pgtls_hook_process(&pg->tls, (pid_t)tgid) == 0) /* logs why not */
		v |= PGWIRE_PM_TLS_HOOKED;
	if (bpf_map_update_elem(pg->postmasters_fd, &tgid, &v, BPF_ANY))
		return -errno;
	if (process_gone(tgid)) {
		bpf_map_delete_elem(pg->postmasters_fd, &tgid);
		return -ESRCH;
	}
	return 0;
}

/* Mark a running backend for the kernel's first check (task storage is
 * addressed by a pidfd from user space). 0 or -errno. */
static int mark_task(struct pgwire *pg, uint32_t tgid)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)tgid, 0);
	uint8_t one = 1;
	int err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(pg->skel->maps.pg_task_mark), &fd, &one, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

int pgwire_add_backend(struct pgwire *pg, uint32_t tgid)
{
	struct pgwire_backend b;
	struct timespec ts;

	if (!pg || !tgid)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	b.created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	b.flags = PGWIRE_F_MIDSTREAM;
	b.conn.fd = -1;
	b.conn.sync = PGWIRE_SYNC_LOST; /* join at the next result */
	b.conn.proto = PGWIRE_PROTO_PG;
	if (bpf_map_update_elem(pg->backends_fd, &tgid, &b, BPF_NOEXIST)) {
		if (errno == EEXIST)
			return 0; /* already tracked from birth */
		return -errno;
	}
	if (process_gone(tgid) || mark_task(pg, tgid)) {
		bpf_map_delete_elem(pg->backends_fd, &tgid);
		return -ESRCH;
	}
	return 0;
}

int pgwire_scan(struct pgwire *pg)
{
	struct pgb_scan s;
	int err;
	size_t i;

	if (!pg)
		return -EINVAL;
	err = pgb_scan(NULL, &s);
	if (err) {
		log_warn("pgwire: cannot scan /proc for PostgreSQL: %s", strerror(-err));
		return err;
	}
	/* postmasters first: a backend forked after this is caught by the
	 * kernel, one forked before by the scan */
	for (i = 0; i < s.n_postmasters; i++) {
		err = pgwire_add_postmaster(pg, s.postmasters[i]);
		if (err && err != -ESRCH) /* ESRCH: exited meanwhile */
			log_warn("pgwire: cannot track postmaster %u: %s",
				 s.postmasters[i], strerror(-err));
	}
	for (i = 0; i < s.n_backends; i++) {
		err = pgwire_add_backend(pg, s.backends[i].pid);
		if (err && err != -ESRCH)
			log_warn("pgwire: cannot track backend %u: %s",
				 s.backends[i].pid, strerror(-err));
	}
	err = (int)s.n_postmasters;
	pgb_scan_free(&s);
	return err;
}
