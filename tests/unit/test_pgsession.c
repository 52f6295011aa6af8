// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/pgsession.c: a backend's counts split exactly between
 * the application users (and roles) a pooled connection served in turn. */
#define _GNU_SOURCE
#include <string.h>
#include "check.h"
#include "postgres/pgsession.h"

static struct pgwire_param_event change(int param, const char *value, uint64_t records,
					uint64_t bytes, unsigned flags)
{
	struct pgwire_param_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.param = (uint8_t)param;
	ev.records_at = records;
	ev.bytes_at = bytes;
	ev.flags = (uint8_t)flags;
	ev.len = (uint8_t)strnlen(value, PGWIRE_PARAM_MAX);
	memcpy(ev.value, value, ev.len);
	return ev;
}

static void queue(struct pg_session *s, int param, const char *v, uint64_t rec, uint64_t bytes,
		  unsigned flags)
{
	struct pgwire_param_event ev = change(param, v, rec, bytes, flags);

	CHECK_EQ_INT(pg_session_queue(s, &ev), 0);
}

/* Three users in turn within one drain, a fourth after it. */
static void test_split(void)
{
	struct pg_session s = { 0 };
	struct pg_segment *g = NULL;
	size_t cap = 0;
	int n;

	queue(&s, PGWIRE_PARAM_APP_NAME, "portal", 0, 300, 0);     /* at startup */
	queue(&s, PGWIRE_PARAM_APP_NAME, "adv0001", 0, 400, 0);    /* SET before any row */
	queue(&s, PGWIRE_PARAM_APP_NAME, "adv0002", 150, 9000, 0); /* after 150 records */
	queue(&s, PGWIRE_PARAM_APP_NAME, "adv0001", 151, 9100, 0);
	queue(&s, PGWIRE_PARAM_APP_NAME, "adv0003", 500, 40000, 0); /* next drain */
	n = pg_session_split(&s, 0, 0, 400, 30000, &g, &cap);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		/* the start-up bytes before any name, then under "portal" */
		CHECK(!g[0].app.set);
		CHECK_EQ_INT(g[0].records, 0);
		CHECK_EQ_INT(g[0].bytes, 300);
		CHECK_EQ_STR(g[1].app.s, "portal");
		CHECK_EQ_INT(g[1].records, 0);
		CHECK_EQ_INT(g[1].bytes, 100);
		CHECK_EQ_STR(g[2].app.s, "adv0001");
		CHECK_EQ_INT(g[2].records, 150);
		CHECK_EQ_INT(g[2].bytes, 8600);
		CHECK_EQ_STR(g[3].app.s, "adv0002");
		CHECK_EQ_INT(g[3].records, 1);
		CHECK_EQ_INT(g[3].bytes, 100);
		CHECK_EQ_STR(g[4].app.s, "adv0001");
		CHECK_EQ_INT(g[4].records, 249);
		CHECK_EQ_INT(g[4].bytes, 30000 - 9100);
		CHECK_EQ_INT(g[0].records + g[2].records + g[3].records + g[4].records, 400);
	}
	CHECK_EQ_INT(s.n, 1); /* adv0003 waits for the drain that reaches it */
	n = pg_session_split(&s, 400, 30000, 700, 50000, &g, &cap);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_STR(g[0].app.s, "adv0001");
		CHECK_EQ_INT(g[0].records, 100);
		CHECK_EQ_INT(g[0].bytes, 10000);
		CHECK_EQ_STR(g[1].app.s, "adv0003");
		CHECK_EQ_INT(g[1].records, 200);
		CHECK_EQ_INT(g[1].bytes, 10000);
	}
	CHECK_EQ_INT(s.n, 0);
	/* nothing new: one empty segment of the current user */
	n = pg_session_split(&s, 700, 50000, 700, 50000, &g, &cap);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(g[0].app.s, "adv0003");
	CHECK_EQ_INT(g[0].records, 0);
	pg_session_free(&s);
	free(g);
}

/* Roles and unread or truncated values; a value with bytes after a NUL. */
static void test_values(void)
{
	struct pg_session s = { 0 };
	struct pg_segment *g = NULL;
	size_t cap = 0;
	char long_name[PGWIRE_PARAM_MAX + 1];
	int n;

	memset(long_name, 'x', PGWIRE_PARAM_MAX);
	long_name[PGWIRE_PARAM_MAX] = '\0';
	queue(&s, PGWIRE_PARAM_SESSION_AUTH, "auditor", 10, 100, 0);
	queue(&s, PGWIRE_PARAM_APP_NAME, "", 20, 200, PGWIRE_PF_UNREAD);
	queue(&s, PGWIRE_PARAM_APP_NAME, long_name, 30, 300, PGWIRE_PF_TRUNCATED);
	n = pg_session_split(&s, 0, 0, 40, 400, &g, &cap);
	CHECK_EQ_INT(n, 4);
	if (n == 4) {
		CHECK(!g[0].app.set && !g[0].role.set);
		CHECK_EQ_INT(g[0].records, 10);
		CHECK_EQ_STR(g[1].role.s, "auditor");
		CHECK(g[1].role.set && !g[1].app.set);
		CHECK(g[2].app.set && g[2].app.unread);
		CHECK_EQ_STR(g[2].app.s, "");
		CHECK(g[3].app.truncated);
		CHECK_EQ_INT(strlen(g[3].app.s), PGWIRE_PARAM_MAX);
		CHECK_EQ_STR(g[3].role.s, "auditor");
	}
	pg_session_free(&s);
	s = (struct pg_session){ 0 };
	{
		struct pgwire_param_event ev = change(PGWIRE_PARAM_APP_NAME, "ab", 0, 0, 0);

		ev.value[2] = '\0';
		ev.value[3] = 'z';
		ev.len = 4; /* "ab\0z": the value is "ab" */
		CHECK_EQ_INT(pg_session_queue(&s, &ev), 0);
	}
	n = pg_session_split(&s, 0, 0, 5, 50, &g, &cap);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(g[0].app.s, "ab");
	pg_session_free(&s);
	free(g);
}

int main(void)
{
	test_split();
	test_values();
	return check_summary();
}
