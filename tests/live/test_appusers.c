// SPDX-License-Identifier: GPL-2.0
/*
 * Live: application users through one pooled connection. A client names
 * its end user with application_name; PostgreSQL reports every change to
 * the client (ParameterStatus), and the kernel walker sees it in order with
 * the DataRows. One psql session serving users in turn (SET
 * application_name between queries): the db_server usage event of its
 * backend splits the rows exactly by user (vigie.app_users), names that a
 * process could use against a SIEM (quotes, backslashes, 70 bytes) come
 * out as valid JSON with the truncation stated, and a session role change
 * (SET SESSION AUTHORIZATION) is told apart. Built-in defaults, no -c.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

#define TABLE_ROWS 1000
#define POOL_ROLE "portail"

static const char *psql_bin, *pg_port;

static bool cluster_start(void)
{
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start())
		return false;
	pg_port = getenv("PGPORT");
	psql_bin = pgcluster_psql();
	return pg_port && psql_bin;
}

static bool sql_as(const char *role, const char *args)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U %s -d postgres "
		       "-o /dev/null %s", psql_bin, pg_port, role, args) == 0;
}

/* The app_users array of the db_server usage events of POOL_ROLE, merged
 * (name -> records, bytes) over events; the number of events with it. */
struct tally {
	char name[128];
	bool is_null, unread, truncated;
	char role[64];
	long long records, bytes;
};

static int collect(const struct events *ev, struct tally *t, int max, long long *rows,
		   long long *bytes)
{
	int n = 0;

	*rows = *bytes = 0;
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i], *apps, *a;
		const char *u = jstr(e, "vigie.db_user"), *act = jstr(e, "event.action");
		size_t k;

		if (!u || strcmp(u, POOL_ROLE) || !act || strcmp(act, "usage"))
			continue;
		*rows += jint(e, "vigie.rows", 0);
		*bytes += jint(e, "vigie.bytes", 0);
		apps = jpath(e, "vigie.app_users");
		json_array_foreach(apps, k, a) {
			const char *name = json_string_value(json_object_get(a, "name"));
			const char *role = json_string_value(json_object_get(a, "role"));
			int j;

			for (j = 0; j < n; j++)
				if ((name ? !t[j].is_null && !strcmp(t[j].name, name) : t[j].is_null) &&
				    !strcmp(t[j].role, role ? role : ""))
					break;
			if (j == n) {
				if (n == max)
					continue;
				memset(&t[n], 0, sizeof(t[n]));
				snprintf(t[n].name, sizeof(t[n].name), "%s", name ? name : "");
				snprintf(t[n].role, sizeof(t[n].role), "%s", role ? role : "");
				t[n].is_null = !name;
				n++;
			}
			t[j].records += json_integer_value(json_object_get(a, "records"));
			t[j].bytes += json_integer_value(json_object_get(a, "bytes"));
			t[j].unread |= json_is_true(json_object_get(a, "name_unread"));
			t[j].truncated |= json_is_true(json_object_get(a, "name_truncated"));
		}
	}
	return n;
}

static const struct tally *find(const struct tally *t, int n, const char *name, const char *role)
{
	for (int i = 0; i < n; i++)
		if (!t[i].is_null && !strcmp(t[i].name, name) && !strcmp(t[i].role, role))
			return &t[i];
	return NULL;
}

static void expect(const struct tally *t, int n, const char *name, const char *role,
		   long long records)
{
	const struct tally *x = find(t, n, name, role);

	CHECK(x != NULL, "application user '%s'%s%s listed", live_printable(0, name),
	      role[0] ? " as role " : "", role);
	if (x)
		CHECK(x->records == records, "application user '%s'%s%s: %lld records, want %lld",
		      live_printable(0, name), role[0] ? " as role " : "", role, x->records, records);
}

int main(void)
{
	struct tally t[32];
	struct vigie v;
	struct events ev;
	long long rows = 0, sum = 0, bytes = 0, sum_bytes = 0;
	char long_name[80], args[4096];
	int n;

	live_init("appusers");
	if (!cluster_start()) {
		CHECK(false, "throw-away PostgreSQL cluster started");
		return live_finish();
	}
	CHECK(sql_as("postgres", "-c \"CREATE TABLE t AS SELECT i, repeat('r', 50) AS pad FROM "
				 "generate_series(1, 1000) i; CREATE ROLE " POOL_ROLE " LOGIN; "
				 "GRANT SELECT ON t TO " POOL_ROLE "; CREATE ROLE auditor; "
				 "GRANT SELECT ON t TO auditor; GRANT auditor TO " POOL_ROLE "; "
				 "ALTER ROLE " POOL_ROLE " SUPERUSER\""),
	      "table of %d rows, role " POOL_ROLE " (and auditor)", TABLE_ROWS);
	if (vigie_start(&v, NULL, NULL)) {
		CHECK(false, "vigie started with the built-in defaults");
		return live_finish();
	}
	/* 70 bytes: PostgreSQL keeps 63 of them */
	memset(long_name, 'L', 70);
	long_name[70] = '\0';
	snprintf(args, sizeof(args),
		 "-c \"SET application_name = 'adv0001'\" -c 'SELECT * FROM t LIMIT 150' "
		 "-c \"SET application_name = 'adv0002'\" -c 'SELECT * FROM t LIMIT 1' "
		 "-c \"SET application_name = 'adv0001'\" -c 'SELECT * FROM t LIMIT 249' "
		 "-c \"SET application_name = 'quo\\\"te''s \\\\back'\" -c 'SELECT * FROM t LIMIT 7' "
		 "-c \"SET application_name = '%s'\" -c 'SELECT * FROM t LIMIT 11' "
		 "-c \"SET SESSION AUTHORIZATION auditor\" -c 'SELECT * FROM t LIMIT 13' "
		 "-c \"SET application_name = ''\" -c 'SELECT * FROM t LIMIT 17'",
		 long_name);
	CHECK(sql_as(POOL_ROLE, args), "one psql session serving users in turn");
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded (every line valid JSON)");
		return live_finish();
	}
	n = collect(&ev, t, 32, &rows, &bytes);
	for (int i = 0; i < n; i++) {
		live_log("app user %s%s%s%s: %lld records, %lld bytes%s", t[i].is_null ? "(none)" : "'",
			 t[i].is_null ? "" : live_printable(0, t[i].name), t[i].is_null ? "" : "'",
			 t[i].role[0] ? " (role set)" : "", t[i].records, t[i].bytes,
			 t[i].truncated ? ", truncated" : "");
		sum += t[i].records;
		sum_bytes += t[i].bytes;
	}
	ASSERT_EQ_INT(rows, 150 + 1 + 249 + 7 + 11 + 13 + 17, "rows of " POOL_ROLE "'s backend");
	ASSERT_EQ_INT(sum, rows, "app_users records add up to the backend's rows");
	ASSERT_EQ_INT(sum_bytes, bytes, "app_users bytes add up to the backend's db_server bytes");
	expect(t, n, "psql", "", 0);
	expect(t, n, "adv0001", "", 150 + 249);
	expect(t, n, "adv0002", "", 1);
	expect(t, n, "quo\"te's \\back", "", 7);
	long_name[63] = '\0';
	expect(t, n, long_name, "", 11);
	CHECK(find(t, n, long_name, "") && find(t, n, long_name, "")->truncated,
	      "the 63-byte name (PostgreSQL's limit) is marked name_truncated");
	expect(t, n, long_name, "auditor", 13);
	{
		const struct tally *none = NULL;

		for (int i = 0; i < n; i++)
			if (t[i].is_null && !strcmp(t[i].role, "auditor"))
				none = &t[i];
		CHECK(none && none->records == 17,
		      "an empty application_name is no user: name null, %lld records (want 17)",
		      none ? none->records : -1);
	}
	live_section("user.name is the OS user; the account is in vigie.db_user and related.user");
	{
		int usage = 0, good = 0;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i], *rel = jpath(e, "related.user");
			const char *u = jstr(e, "vigie.db_user"), *act = jstr(e, "event.action");
			const char *os = jstr(e, "user.name");
			bool has_role = false;
			size_t k;
			json_t *r;

			if (!u || strcmp(u, POOL_ROLE) || !act || strcmp(act, "usage"))
				continue;
			usage++;
			json_array_foreach(rel, k, r)
				has_role |= !strcmp(json_string_value(r), POOL_ROLE);
			good += os && !strcmp(os, "postgres") && has_role &&
				!strcmp(json_string_value(json_array_get(rel, 0)), "postgres");
		}
		CHECK(usage > 0 && good == usage,
		      "%d of %d usage events of " POOL_ROLE " with user.name postgres (the backend's "
		      "OS user) and related.user [postgres, ..., " POOL_ROLE "]", good, usage);
	}
	live_section("every event conforms to ECS (tests/data/ecs)");
	live_check_ecs(&ev, v.out_path);
	events_free(&ev);
	return live_finish();
}
