// SPDX-License-Identifier: GPL-2.0
/* PostgreSQL row counting: the drain (per-backend increments, and the
 * backends that are gone). See pgwire.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "base/log.h"
#include "postgres/pgbackend.h"
#include "postgres/pgseen.h"
#include "postgres/pgsession.h"
#include "postgres/pgtls.h"
#include "postgres/pgwire.h"
#include "postgres/pgwire_int.h"

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
		pg->sends_walked += (uint32_t)(v->sends - s->sends);
		s->sends = v->sends;
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
	/* entries deleted elsewhere (the map cleared) */
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
	st->sends = pg->sends_walked;
	st->tls_hooked_executables = (uint64_t)pgtls_hooked(&pg->tls);
	free(vals);
}
