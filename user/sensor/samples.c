// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sensor/samples.h"
#include "sensor/usage.h"

#define DB_BUCKETS 1024

struct tick_entry {
	struct trace_sample s;
	const struct identity *id; /* borrowed until the tick is delivered */
	uint8_t cls;
	int32_t next_db;           /* next db_server entry in its pid bucket */
};

/* Records and bytes of one application user on one backend this tick. */
struct app_part {
	uint32_t pid;
	char user[APP_USER_MAX], app[APP_USER_MAX];
	uint64_t records, bytes;
};

struct tick_samples {
	uint64_t ts_ns;
	struct tick_entry *v;
	size_t n, cap;
	int32_t db_head[DB_BUCKETS]; /* db_server entries by pid, -1: none */
	struct app_part *parts;
	size_t n_parts, cap_parts;
};

struct tick_samples *tick_samples_new(void)
{
	struct tick_samples *t = calloc(1, sizeof(*t));

	if (t)
		tick_samples_begin(t, 0);
	return t;
}

void tick_samples_free(struct tick_samples *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->parts);
	free(t);
}

void tick_samples_begin(struct tick_samples *t, uint64_t ts_ns)
{
	t->ts_ns = ts_ns;
	t->n = 0;
	t->n_parts = 0;
	memset(t->db_head, 0xff, sizeof(t->db_head));
}

/* Index a db_server entry by pid: rows are merged into it later. */
static void index_db_server(struct tick_samples *t, size_t i)
{
	uint32_t b = (uint32_t)t->v[i].s.pid % DB_BUCKETS;

	t->v[i].next_db = t->db_head[b];
	t->db_head[b] = (int32_t)i;
}

static struct tick_entry *find_db_server(struct tick_samples *t, uint32_t pid)
{
	for (int32_t i = t->db_head[pid % DB_BUCKETS]; i >= 0; i = t->v[i].next_db)
		if (t->v[i].s.pid == (int64_t)pid)
			return &t->v[i];
	return NULL;
}

static struct tick_entry *push(struct tick_samples *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct tick_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	return &t->v[t->n++];
}

/* Copy at most size-1 bytes; the trace writer escapes what it must. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && n + 1 < size && src[n]; n++)
		dst[n] = src[n];
	dst[n] = '\0';
}

void sample_set_identity(struct trace_sample *s, const struct identity *id, uint32_t pid,
			 uint32_t uid)
{
	const char *name = user_name_of(uid);

	s->pid = pid;
	s->uid = uid;
	copy_str(s->user, sizeof(s->user), name);
	if (!id)
		return;
	copy_str(s->comm, sizeof(s->comm), id->comm);
	copy_str(s->exe, sizeof(s->exe), id->exe);
	copy_str(s->db_user, sizeof(s->db_user), id->db_user);
}

void tick_samples_add(struct tick_samples *t, const struct vigie_flow_key *key,
		      const struct vigie_counter *val, const struct identity *id)
{
	struct tick_entry *e = push(t);

	if (!e)
		return;
	trace_sample_init(&e->s);
	e->cls = key->cls;
	e->id = id;
	e->s.ts_ns = t->ts_ns;
	e->s.pid = key->tgid;
	e->s.uid = key->uid;
	if (key->family)
		format_addr(key->family, key->raddr, e->s.peer, sizeof(e->s.peer));
	e->s.ops = val->ops;
	switch (key->cls) {
	case VIGIE_CLASS_EGRESS:
		e->s.egress_bytes = val->bytes;
		break;
	case VIGIE_CLASS_DB_CLIENT:
		e->s.db_bytes = val->bytes;
		break;
	case VIGIE_CLASS_DB_SERVER:
		e->s.db_bytes = val->bytes;
		index_db_server(t, t->n - 1);
		break;
	case VIGIE_CLASS_DB_FILE:
		e->s.dbfile_bytes = val->bytes;
		break;
	default:
		t->n--;
		break;
	}
}

void tick_samples_add_rows(struct tick_samples *t, const struct identity *id, uint64_t rows,
			   bool rows_known, uint64_t bytes)
{
	struct tick_entry *e = find_db_server(t, id->pid);

	if (e) {
		e->s.db_rows += rows;
		e->s.db_rows_unknown |= !rows_known;
		return;
	}
	e = push(t);
	if (!e)
		return;
	trace_sample_init(&e->s);
	e->cls = VIGIE_CLASS_DB_SERVER;
	e->id = id;
	e->s.ts_ns = t->ts_ns;
	e->s.pid = id->pid;
	e->s.uid = id->uid;
	if (id->client_local)
		copy_str(e->s.peer, sizeof(e->s.peer), "[local]");
	else
		copy_str(e->s.peer, sizeof(e->s.peer), id->client_ip);
	e->s.db_rows = rows;
	e->s.db_rows_unknown = !rows_known;
	e->s.db_bytes = bytes;
	index_db_server(t, t->n - 1);
}

void tick_samples_add_app_users(struct tick_samples *t, const struct identity *id,
				const struct pg_segment *segs, size_t n,
				const struct app_user_cfg *cfg)
{
	for (size_t i = 0; i < n && app_user_enabled(cfg); i++) {
		const struct pg_segment *g = &segs[i];
		const char *name = g->app.set && !g->app.unread ? g->app.s : NULL;
		const char *role = g->role.set && !g->role.unread &&
						   (!id->db_user || strcmp(g->role.s, id->db_user)) ?
					   g->role.s : NULL;
		char user[APP_USER_MAX], app[APP_USER_MAX];
		struct app_part *p = NULL;

		if (!g->records && !g->bytes)
			continue;
		if (!app_user_of(cfg, name, role, user, app))
			continue;
		for (size_t j = 0; j < t->n_parts && !p; j++)
			if (t->parts[j].pid == id->pid && !strcmp(t->parts[j].user, user) &&
			    !strcmp(t->parts[j].app, app))
				p = &t->parts[j];
		if (!p) {
			if (t->n_parts == t->cap_parts) {
				size_t nc = t->cap_parts ? 2 * t->cap_parts : 16;
				struct app_part *np = realloc(t->parts, nc * sizeof(*np));

				if (!np)
					return;
				t->parts = np;
				t->cap_parts = nc;
			}
			p = &t->parts[t->n_parts++];
			memset(p, 0, sizeof(*p));
			p->pid = id->pid;
			copy_str(p->user, sizeof(p->user), user);
			copy_str(p->app, sizeof(p->app), app);
		}
		p->records += g->records;
		p->bytes += g->bytes;
	}
}

static bool has_part(const struct tick_samples *t, uint32_t pid)
{
	for (size_t k = 0; k < t->n_parts; k++)
		if (t->parts[k].pid == pid)
			return true;
	return false;
}

/* Split each backend's db_server sample by application user: a sample per
 * user with its records and bytes (bytes at most what the sample had), the
 * rest in the original sample, dropped when nothing is left. */
static void split_app_users(struct tick_samples *t)
{
	size_t n0 = t->n;

	for (size_t k = 0; k < t->n_parts; k++) {
		const struct app_part *p = &t->parts[k];
		struct tick_entry *e = find_db_server(t, p->pid), *x;
		uint64_t rows, bytes;
		size_t ei;

		if (!e)
			continue;
		ei = (size_t)(e - t->v);
		rows = p->records < e->s.db_rows ? p->records : e->s.db_rows;
		bytes = p->bytes < e->s.db_bytes ? p->bytes : e->s.db_bytes;
		if (!rows && !bytes)
			continue;
		x = push(t); /* may move t->v */
		if (!x)
			return;
		e = &t->v[ei];
		*x = *e;
		x->next_db = -1;
		copy_str(x->s.app_user, sizeof(x->s.app_user), p->user);
		copy_str(x->s.app_name, sizeof(x->s.app_name), p->app);
		x->s.db_rows = rows;
		x->s.db_bytes = bytes;
		x->s.ops = 0;
		e->s.db_rows -= rows;
		e->s.db_bytes -= bytes;
	}
	/* originals left empty: gone */
	size_t j = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct tick_entry *e = &t->v[i];
		bool empty = i < n0 && e->cls == VIGIE_CLASS_DB_SERVER && !e->s.db_rows &&
			     !e->s.db_bytes && !e->s.db_rows_unknown && has_part(t, (uint32_t)e->s.pid);

		if (!empty)
			t->v[j++] = *e;
	}
	t->n = j;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct tick_entry *x = a, *y = b;

	if (x->s.pid != y->s.pid)
		return x->s.pid < y->s.pid ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (strcmp(x->s.peer, y->s.peer))
		return strcmp(x->s.peer, y->s.peer);
	return strcmp(x->s.app_user, y->s.app_user);
}

void tick_samples_deliver(struct tick_samples *t, struct detector *det, struct trace_writer *rec)
{
	/* Identity fields last: the PostgreSQL drain attributes backends
	 * after the socket counters were drained. */
	for (size_t i = 0; i < t->n; i++)
		sample_set_identity(&t->v[i].s, t->v[i].id, (uint32_t)t->v[i].s.pid,
				    (uint32_t)t->v[i].s.uid);
	if (t->n_parts)
		split_app_users(t);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_entry);
	for (size_t i = 0; i < t->n; i++) {
		if (det)
			detector_feed(det, &t->v[i].s);
		if (rec)
			trace_writer_write(rec, &t->v[i].s);
	}
	if (rec && t->n == 0) {
		/* A tick with no traffic still moves the replay's clock, so that
		 * windows and episodes close when they closed live. */
		struct trace_sample tick;

		trace_sample_init(&tick);
		tick.ts_ns = t->ts_ns;
		trace_writer_write(rec, &tick);
	}
	if (det)
		detector_advance(det, t->ts_ns);
	if (rec)
		trace_writer_flush(rec);
}
