// SPDX-License-Identifier: GPL-2.0
/*
 * Live: the volume a SIEM receives with the built-in usage_detail
 * ("summary"). 21 database accounts each do small lookups, a new
 * connection each (as psql does): each account's rows come out exact, in
 * one event per coarse period instead of one per backend and client port;
 * an account that pulls 5,000 rows gets an event of its own interval,
 * naming its backend and client; every event is counted in its
 * vigie.summary.flows; every event conforms to ECS and the shipped index
 * template. The usage interval (2 s) and the coarse period (8 s)
 * are shortened so that the test sees several; the floors are the defaults.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

#define ROLES 21
#define LOOKUPS 4
#define ROWS_PER_LOOKUP 7
#define HEAVY_ROWS 5000

static const char *psql_bin, *pg_port;

static bool sql_as(const char *role, const char *args)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U %s -d postgres "
		       "-o /dev/null %s", psql_bin, pg_port, role, args) == 0;
}

static bool is_usage_of(json_t *e, const char *role)
{
	const char *a = jstr(e, "event.action"), *u = jstr(e, "vigie.db_user");

	return a && !strcmp(a, "usage") && u && !strcmp(u, role);
}

int main(void)
{
	char role[32], sql[256];
	struct vigie v;
	struct events ev;
	bool ok = true;

	live_init("volume");
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start() || !(pg_port = getenv("PGPORT")) || !(psql_bin = pgcluster_psql())) {
		CHECK(false, "throw-away cluster");
		return live_finish();
	}
	ok = sql_as("postgres", "-c 'CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM "
				"generate_series(1, 10000) i'");
	for (int r = 0; ok && r <= ROLES; r++) {
		snprintf(role, sizeof(role), r == ROLES ? "vol_heavy" : "vol_%02d", r);
		snprintf(sql, sizeof(sql), "-c 'CREATE ROLE %s LOGIN; GRANT SELECT ON t TO %s'", role,
			 role);
		ok = sql_as("postgres", sql);
	}
	if (!ok) {
		CHECK(false, "table and %d roles", ROLES + 1);
		return live_finish();
	}

	live_section("built-in usage_detail (summary), usage every 2 s, coarse every 8 s");
	/* (the test library asks for per-flow events unless told: say the
	 * default; test_summary checks that it is the default) */
	if (vigie_start(&v, "{\"sensor\": {\"usage_interval\": 2, \"usage_coarse_interval\": 8}}",
			"--usage-detail", "summary", NULL)) {
		CHECK(false, "vigie started");
		return live_finish();
	}
	snprintf(sql, sizeof(sql), "-c 'SELECT * FROM t WHERE i <= %d'", ROWS_PER_LOOKUP);
	for (int k = 0; k < LOOKUPS && ok; k++) {
		for (int r = 0; r < ROLES && ok; r++) {
			snprintf(role, sizeof(role), "vol_%02d", r);
			ok = sql_as(role, sql);
		}
		usleep(1500 * 1000);
	}
	CHECK(ok, "%d accounts x %d lookups of %d rows, a connection each", ROLES, LOOKUPS,
	      ROWS_PER_LOOKUP);
	snprintf(sql, sizeof(sql), "-c 'SELECT * FROM t WHERE i <= %d'", HEAVY_ROWS);
	CHECK(sql_as("vol_heavy", sql), "vol_heavy: %d rows", HEAVY_ROWS);
	usleep(2500 * 1000);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}

	live_section("each small account: exact rows, only coarse events, all its flows");
	{
		int exact = 0, only_coarse = 0, flows_ok = 0;
		size_t events = 0, most = 0;

		for (int r = 0; r < ROLES; r++) {
			long long rows = 0, flows = 0;
			size_t n = 0, coarse = 0;

			snprintf(role, sizeof(role), "vol_%02d", r);
			for (size_t i = 0; i < ev.n; i++) {
				const char *p = jstr(ev.ev[i], "vigie.summary.period");

				if (!is_usage_of(ev.ev[i], role))
					continue;
				n++;
				coarse += p && !strcmp(p, "coarse");
				rows += jint(ev.ev[i], "vigie.rows", 0);
				flows += jint(ev.ev[i], "vigie.summary.flows", 0);
			}
			exact += rows == LOOKUPS * ROWS_PER_LOOKUP;
			only_coarse += n > 0 && coarse == n;
			flows_ok += flows >= LOOKUPS;
			events += n;
			most = n > most ? n : most;
			if (rows != LOOKUPS * ROWS_PER_LOOKUP || coarse != n)
				printf("  ..    %s: %lld rows in %zu events (%zu coarse)\n", role, rows, n,
				       coarse);
		}
		ASSERT_EQ_INT(exact, ROLES, "accounts whose rows add up exactly (28 each)");
		ASSERT_EQ_INT(only_coarse, ROLES, "accounts summarised only in coarse events");
		ASSERT_EQ_INT(flows_ok, ROLES, "accounts whose events stand for all their lookups");
		/* ~10 s of lookups: at most 3 coarse periods of 8 s, plus the stop */
		CHECK(most <= 3, "at most 3 events per small account (got %zu at most; %zu in all, "
				 "against %d per-backend events in flow mode)", most, events,
		      ROLES * LOOKUPS);
	}

	live_section("the heavy account: an interval event naming its backend and client");
	{
		json_t *hit = NULL;
		long long rows = 0;

		for (size_t i = 0; i < ev.n; i++) {
			const char *p = jstr(ev.ev[i], "vigie.summary.period");

			if (!is_usage_of(ev.ev[i], "vol_heavy"))
				continue;
			rows += jint(ev.ev[i], "vigie.rows", 0);
			if (p && !strcmp(p, "interval") && jint(ev.ev[i], "vigie.rows", 0) == HEAVY_ROWS)
				hit = ev.ev[i];
		}
		ASSERT_EQ_INT(rows, HEAVY_ROWS, "vol_heavy: rows in all its events");
		CHECK(hit != NULL, "vol_heavy: one interval event with its %d rows", HEAVY_ROWS);
		ASSERT_EQ_STR(jstr(hit, "vigie.summary.by"), "db_user", "vol_heavy: summary by account");
		ASSERT_EQ_STR(jstr(hit, "source.ip"), "127.0.0.1", "vol_heavy: its client");
		CHECK(jint(hit, "process.pid", 0) > 0, "vol_heavy: its backend's pid");
		ASSERT_EQ_INT(jint(hit, "vigie.summary.flows", 0), 1, "vol_heavy: one flow");
		CHECK(jpath(hit, "vigie.top_flows") == NULL,
		      "vol_heavy: its one flow is the event itself (no vigie.top_flows)");
		ASSERT_EQ_STR(jstr(hit, "user.name"), "postgres", "vol_heavy: user.name is the OS user");
	}
	live_section("every event of the summarised stream conforms to ECS and the template");
	live_check_ecs(&ev, v.out_path);
	events_free(&ev);
	return live_finish();
}
