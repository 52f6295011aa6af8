// SPDX-License-Identifier: GPL-2.0
/* PostgreSQL row counting: loader and drain. See pgwire.h. */
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
#include "probes/probes.h"
#include "pgwire.skel.h"


/* One backend's entry as read at the start of a drain. */
struct read_entry {
	uint32_t tgid;
	struct pgwire_backend v;
};

struct pgwire {
	struct pgwire_bpf *skel;
	struct bpf_link *links[4];
	enum pgwire_probe probe;
	int backends_fd;
	int postmasters_fd;
	int stats_fd;
	int ncpus;
	/* open addressing, linear probing, power-of-two size */
	struct seen_table seen;
	uint32_t mark;
	struct ring_buffer *params_rb;   /* pg_params: session parameter changes */
	uint64_t params_dropped;         /* changes of a backend not matched */
	struct read_entry *reads;        /* drain: the entries read */
	size_t reads_cap;
	struct pg_segment *segs;         /* drain: a backend's segments */
	size_t segs_cap;
	struct pgtls tls;                /* be_tls_write hooks per executable */
	pgwire_contained_fn contained_fn; /* the kernel ended a backend */
	void *contained_ctx;
	int chain_fd;                    /* send_chain holding pg_sock_send, or -1 */
};

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

static struct pgwire_bpf *open_load(enum pgwire_probe probe, int *errp)
{
	struct pgwire_bpf *skel;
	int err;

	skel = pgwire_bpf__open();
	if (!skel) {
		*errp = -errno;
		return NULL;
	}
	bpf_program__set_autoload(skel->progs.pg_sock_send, probe == PGWIRE_PROBE_SOCK);
	bpf_program__set_autoload(skel->progs.pg_sys_exit_sendto, probe == PGWIRE_PROBE_SYSCALL);
	err = pgwire_bpf__load(skel);
	if (err) {
		*errp = err;
		pgwire_bpf__destroy(skel);
		return NULL;
	}
	*errp = 0;
	return skel;
}

struct pgwire *pgwire_start(const struct pgwire_opts *opts)
{
	enum pgwire_probe want = opts ? opts->probe : PGWIRE_PROBE_AUTO;
	struct pgwire *pg = NULL;
	struct bpf_program *send_prog;
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
		pg->skel = open_load(PGWIRE_PROBE_SOCK, &err);
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
		pg->skel = open_load(PGWIRE_PROBE_SYSCALL, &err);
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
	if (pg->probe == PGWIRE_PROBE_SOCK && opts && opts->send_chain_fd > 0) {
		/* the sensor's sock_send_btf calls it: one program per send */
		int fd = bpf_program__fd(send_prog);
		__u32 zero = 0;

		if (bpf_map_update_elem(opts->send_chain_fd, &zero, &fd, BPF_ANY) == 0)
			pg->chain_fd = opts->send_chain_fd;
		else
			log_info("pgwire: pg_sock_send cannot run as the sensor's tail call (%s): "
				 "attached on its own", strerror(errno));
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

bool pgwire_chained(const struct pgwire *pg)
{
	return pg && pg->chain_fd >= 0;
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

/* Why the rows of a delta whose rows are not known are not. */
static uint32_t unknown_why(const struct pgwire *pg, uint32_t flags, const struct pgwire_delta *d)
{
	bool mid = flags & PGWIRE_F_MIDSTREAM;

	if (!d->encrypted || d->tls_walked)
		return mid ? PGWIRE_UNKNOWN_BEFORE_START : PGWIRE_UNKNOWN_UNSYNCED;
	if (flags & PGWIRE_F_GSSENC)
		return PGWIRE_UNKNOWN_GSSAPI;
	if (mid)
		return pgtls_hooked(&pg->tls) ? PGWIRE_UNKNOWN_BEFORE_START
					      : PGWIRE_UNKNOWN_TLS_NOT_HOOKED;
	if (!(flags & PGWIRE_F_TLS_START) && (flags & PGWIRE_F_TLS_HOOKED))
		return PGWIRE_UNKNOWN_DIRECT_TLS;
	return PGWIRE_UNKNOWN_TLS_NOT_HOOKED;
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
		__u32 zero = 0;

		/* before the program goes: the slot holds a reference */
		bpf_map_delete_elem(pg->chain_fd, &zero);
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

/* ---- drain ---- */

/* Every entry of the backends map, as it is now. */
static int read_entries(struct pgwire *pg, size_t *n)
{
	uint32_t key, next;
	bool first = true;

	*n = 0;
	while (bpf_map_get_next_key(pg->backends_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (*n == pg->reads_cap) {
			size_t nc = pg->reads_cap ? pg->reads_cap * 2 : 64;
			struct read_entry *t = realloc(pg->reads, nc * sizeof(*t));

			if (!t)
				return -ENOMEM;
			pg->reads = t;
			pg->reads_cap = nc;
		}
		if (bpf_map_lookup_elem(pg->backends_fd, &key, &pg->reads[*n].v))
			continue; /* deleted meanwhile */
		pg->reads[(*n)++].tgid = key;
	}
	return 0;
}

int pgwire_drain(struct pgwire *pg, pgwire_cb cb, void *ctx)
{
	uint32_t *gone = NULL;
	size_t ngone = 0, gone_cap = 0, nread = 0;
	struct pgwire_delta d;
	int calls = 0, err = 0;

	if (!pg || !cb)
		return -EINVAL;
	pg->mark++;
	err = read_entries(pg, &nread);
	if (err)
		goto cleanup;
	/* the changes up to now: every change included in the counts just
	 * read was reported before those counts were updated */
	if (pg->params_rb)
		ring_buffer__consume(pg->params_rb);
	for (size_t r = 0; r < nread; r++) {
		uint32_t key = pg->reads[r].tgid;
		const struct pgwire_backend *v = &pg->reads[r].v;
		struct seen *s = seen_find(&pg->seen, key);

		if (s && s->created_ns != v->created_ns) {
			seen_del(&pg->seen, s); /* pid reused: a new backend */
			s = NULL;
		}
		if (!s) {
			s = seen_add(&pg->seen, key);
			if (!s) {
				err = -ENOMEM;
				goto cleanup;
			}
			s->created_ns = v->created_ns;
		}
		s->mark = pg->mark;
		memset(&d, 0, sizeof(d));
		d.tgid = key;
		d.flags = v->flags;
		d.created_ns = v->created_ns;
		d.rows = (v->rows - s->rows) + (v->copy_rows - s->copy_rows);
		d.copy_rows = v->copy_rows - s->copy_rows;
		d.bytes = v->bytes - s->bytes;
		d.unparsed_bytes = v->unparsed_bytes - s->unparsed_bytes;
		d.msgs = v->msgs - s->msgs;
		d.lost_syncs = v->lost_syncs - s->lost_syncs;
		d.resyncs = v->resyncs - s->resyncs;
		d.encrypted = v->flags & PGWIRE_F_ENCRYPTED;
		d.tls_walked = (v->flags & PGWIRE_F_TLS_PLAIN) ||
			       ((v->flags & PGWIRE_F_TLS_HOOKED) && (v->flags & PGWIRE_F_TLS_START) &&
				!(v->flags & PGWIRE_F_MIDSTREAM));
		d.rows_known = (!d.encrypted || d.tls_walked) && d.unparsed_bytes == 0;
		if (!d.rows_known)
			d.unknown_why = unknown_why(pg, v->flags, &d);
		d.exited = v->flags & (PGWIRE_F_EXITED | PGWIRE_F_EXECED);
		if (v->flags & PGWIRE_F_TITLE)
			d.title_ok = pgb_parse_title(v->title, sizeof(v->title), &d.title) == 0;
		if (s->sess) {
			int n = pg_session_split(s->sess, s->rows + s->copy_rows, s->bytes,
						 v->rows + v->copy_rows, v->bytes, &pg->segs,
						 &pg->segs_cap);

			if (n < 0) {
				err = n;
				goto cleanup;
			}
			d.segs = pg->segs;
			d.n_segs = (size_t)n;
		}
		s->rows = v->rows;
		s->copy_rows = v->copy_rows;
		s->bytes = v->bytes;
		s->unparsed_bytes = v->unparsed_bytes;
		s->msgs = v->msgs;
		s->lost_syncs = v->lost_syncs;
		s->resyncs = v->resyncs;
		if (d.exited) {
			if (ngone == gone_cap) {
				size_t nc = gone_cap ? gone_cap * 2 : 64;
				uint32_t *t = realloc(gone, nc * sizeof(*t));

				if (!t) {
					err = -ENOMEM;
					goto cleanup;
				}
				gone = t;
				gone_cap = nc;
			}
			gone[ngone++] = key;
		}
		if (d.exited || d.bytes || d.msgs || d.lost_syncs || d.resyncs) {
			cb(&d, ctx);
			calls++;
		}
	}
	/* deleting while walking get_next_key would restart the walk */
	for (size_t i = 0; i < ngone; i++) {
		struct seen *s = seen_find(&pg->seen, gone[i]);

		bpf_map_delete_elem(pg->backends_fd, &gone[i]);
		if (s)
			seen_del(&pg->seen, s);
	}
	/* entries deleted elsewhere (pgwire_forget, map cleared) */
	for (size_t i = 0; i < pg->seen.cap; i++) {
		if (pg->seen.v[i].tgid && pg->seen.v[i].mark != pg->mark) {
			seen_del(&pg->seen, &pg->seen.v[i]);
			i--; /* backward shift may have moved one here */
		}
	}
	err = calls;

cleanup:
	free(gone);
	return err;
}

int pgwire_forget(struct pgwire *pg, uint32_t tgid)
{
	struct seen *s;

	if (!pg || !tgid)
		return -EINVAL;
	s = seen_find(&pg->seen, tgid);
	if (s)
		seen_del(&pg->seen, s);
	if (bpf_map_delete_elem(pg->backends_fd, &tgid) && errno != ENOENT)
		return -errno;
	return 0;
}

void pgwire_stats(struct pgwire *pg, struct pgwire_stats *st)
{
	uint64_t *vals = NULL;
	struct pgwire_backend v;
	uint32_t key, next;
	bool first = true;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!pg)
		return;
	while (bpf_map_get_next_key(pg->backends_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(pg->backends_fd, &key, &v))
			continue;
		st->backends++;
		if ((v.flags & PGWIRE_F_ENCRYPTED) && !(v.flags & PGWIRE_F_EXITED)) {
			if (v.flags & PGWIRE_F_TLS_PLAIN)
				st->tls_walked_connections++;
			else
				st->unparsed_connections++;
		}
	}
	first = true;
	while (bpf_map_get_next_key(pg->postmasters_fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		st->postmasters++;
	}
	vals = calloc((size_t)pg->ncpus, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t i = 0; i < PGWIRE_STAT_MAX; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(pg->stats_fd, &i, vals))
			continue;
		for (int c = 0; c < pg->ncpus; c++)
			sum += vals[c];
		switch (i) {
		case PGWIRE_STAT_SENDS: st->sends = sum; break;
		case PGWIRE_STAT_ENCRYPTED: st->encrypted_total = sum; break;
		case PGWIRE_STAT_LOST_SYNC: st->lost_syncs = sum; break;
		case PGWIRE_STAT_RESYNC: st->resyncs = sum; break;
		case PGWIRE_STAT_UNSYNCED_BYTES: st->unsynced_bytes = sum; break;
		case PGWIRE_STAT_LOOP_CAP: st->loop_caps = sum; break;
		case PGWIRE_STAT_READ_FAIL: st->read_fails = sum; break;
		case PGWIRE_STAT_FOREIGN_SEND: st->foreign_sends = sum; break;
		case PGWIRE_STAT_BACKEND_FULL: st->backend_full = sum; break;
		case PGWIRE_STAT_PID_REUSE: st->pid_reuse = sum; break;
		case PGWIRE_STAT_FORKS: st->forks = sum; break;
		case PGWIRE_STAT_PARAMS: st->param_changes = sum; break;
		case PGWIRE_STAT_TLS_WRITES: st->tls_writes = sum; break;
		case PGWIRE_STAT_TLS_RETRIES: st->tls_retries = sum; break;
		case PGWIRE_STAT_PARAM_LOST: st->param_changes_lost += sum; break;
		}
	}
	st->param_changes_lost += pg->params_dropped;
	st->tls_hooked_executables = (uint64_t)pgtls_hooked(&pg->tls);
	free(vals);
}
