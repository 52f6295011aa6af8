// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "postgres/pgsession.h"

#define PG_NAME_MAX 63 /* NAMEDATALEN - 1 */

int pg_session_queue(struct pg_session *s, const struct pgwire_param_event *ev)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4;
		struct pgwire_param_event *q = realloc(s->queue, nc * sizeof(*q));

		if (!q)
			return -ENOMEM;
		s->queue = q;
		s->cap = nc;
	}
	s->queue[s->n++] = *ev;
	return 0;
}

static void set_value(struct pg_param_value *v, const struct pgwire_param_event *ev)
{
	size_t len = ev->len < PGWIRE_PARAM_MAX ? ev->len : PGWIRE_PARAM_MAX;

	v->set = true;
	v->unread = ev->flags & PGWIRE_PF_UNREAD;
	v->truncated = ev->flags & PGWIRE_PF_TRUNCATED;
	memcpy(v->s, ev->value, v->unread ? 0 : len);
	v->s[v->unread ? 0 : len] = '\0';
	/* a value stops at its NUL: anything after it is not the value */
	v->s[strnlen(v->s, PGWIRE_PARAM_MAX)] = '\0';
	/* PostgreSQL keeps 63 bytes (NAMEDATALEN - 1) of these names: at
	 * that length the client may have sent more */
	if (strlen(v->s) >= PG_NAME_MAX)
		v->truncated = true;
}

static void apply(struct pg_session *s, const struct pgwire_param_event *ev)
{
	if (ev->param == PGWIRE_PARAM_APP_NAME)
		set_value(&s->app, ev);
	else if (ev->param == PGWIRE_PARAM_SESSION_AUTH)
		set_value(&s->role, ev);
}

static bool same_user(const struct pg_segment *g, const struct pg_session *s)
{
	return g->app.set == s->app.set && g->app.unread == s->app.unread &&
	       strcmp(g->app.s, s->app.s) == 0 && g->role.set == s->role.set &&
	       g->role.unread == s->role.unread && strcmp(g->role.s, s->role.s) == 0;
}

/* Add records and bytes under the session's current user. */
static int add(struct pg_session *s, struct pg_segment **segs, size_t *cap, int n,
	       uint64_t records, uint64_t bytes)
{
	struct pg_segment *g;

	if (n > 0 && same_user(&(*segs)[n - 1], s)) {
		(*segs)[n - 1].records += records;
		(*segs)[n - 1].bytes += bytes;
		return n;
	}
	if (n > 0 && !(*segs)[n - 1].records && !(*segs)[n - 1].bytes) {
		n--; /* the previous user had nothing: replaced */
	} else if (n > 0 && !records && !bytes) {
		return n; /* nothing to attribute to this one */
	}
	if ((size_t)n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct pg_segment *t = realloc(*segs, nc * sizeof(*t));

		if (!t)
			return -ENOMEM;
		*segs = t;
		*cap = nc;
	}
	g = &(*segs)[n];
	g->app = s->app;
	g->role = s->role;
	g->records = records;
	g->bytes = bytes;
	return n + 1;
}

static uint64_t diff(uint64_t to, uint64_t from)
{
	return to > from ? to - from : 0;
}

int pg_session_split(struct pg_session *s, uint64_t rec0, uint64_t bytes0, uint64_t rec1,
		     uint64_t bytes1, struct pg_segment **segs, size_t *cap)
{
	uint64_t rec = rec0, bytes = bytes0;
	size_t used = 0;
	int n = 0;

	for (; used < s->n; used++) {
		const struct pgwire_param_event *ev = &s->queue[used];

		if (ev->records_at > rec1 || ev->bytes_at > bytes1)
			break; /* after what these counts include: next drain */
		/* before the counts already reported (a change late in the
		 * queue): it applies from here */
		n = add(s, segs, cap, n, diff(ev->records_at, rec), diff(ev->bytes_at, bytes));
		if (n < 0)
			return n;
		if (ev->records_at > rec)
			rec = ev->records_at;
		if (ev->bytes_at > bytes)
			bytes = ev->bytes_at;
		apply(s, ev);
	}
	n = add(s, segs, cap, n, diff(rec1, rec), diff(bytes1, bytes));
	if (n < 0)
		return n;
	memmove(s->queue, s->queue + used, (s->n - used) * sizeof(*s->queue));
	s->n -= used;
	return n;
}

void pg_session_current(const struct pg_session *s, struct pg_param_value *app,
			struct pg_param_value *role)
{
	bool app_done = false, role_done = false;

	*app = s->app;
	*role = s->role;
	for (size_t i = s->n; i-- > 0 && !(app_done && role_done);) {
		const struct pgwire_param_event *ev = &s->queue[i];
		bool is_app = ev->param == PGWIRE_PARAM_APP_NAME;
		if (is_app ? app_done : role_done)
			continue;
		set_value(is_app ? app : role, ev);
		if (is_app)
			app_done = true;
		else
			role_done = true;
	}
}

void pg_session_free(struct pg_session *s)
{
	if (!s)
		return;
	free(s->queue);
	memset(s, 0, sizeof(*s));
}
