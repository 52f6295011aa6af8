// SPDX-License-Identifier: GPL-2.0
/*
 * Live end-to-end test against a real PostgreSQL (issue: PostgreSQL
 * awareness): a throw-away cluster, a table of job seekers, 20 advisor
 * roles doing small lookups (one over the unix socket) and one role doing
 * a bulk extraction (SELECT and COPY). Asserts, from the sensor's own
 * output: exact rows per role in the usage events and in the recorded
 * trace, each backend attributed to its role and client port, and an
 * alert naming the extracting role and no other role.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"
#include "trace/trace.h"

#define N_ROLES 20
#define TABLE_ROWS 50000
#define BULK "adv0666"

static const char *pg_port, *pg_sock;

static bool cluster_start(void)
{
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start())
		return false;
	pg_port = getenv("PGPORT");
	pg_sock = getenv("PGHOST");
	return pg_port && pg_sock;
}

/* psql as role (password "t") over TCP, or the unix socket when local;
 * the output of the first statement (the client port) in *port. */
static int psql_mode(const char *role, bool local, const char *sql, long *port,
		     const char *sslmode)
{
	char *out = live_path("psql.out"), *text;
	int st;

	/* sslmode=disable unless asked: the TLS case is its own */
	st = live_sh("PGSSLMODE=%s PGPASSWORD=t psql -X -q -At -v ON_ERROR_STOP=1 -h '%s' -p %s -U %s "
		     "-d postgres -o '%s' -c 'SELECT coalesce(inet_client_port(), 0)' -c \"%s\"",
		     sslmode, local ? pg_sock : "127.0.0.1", pg_port, role, out, sql);
	text = live_read_file(out, NULL);
	if (port)
		*port = text ? strtol(text, NULL, 10) : -1;
	free(text);
	unlink(out);
	free(out);
	return st;
}

static int psql(const char *role, bool local, const char *sql, long *port)
{
	return psql_mode(role, local, sql, port, "disable");
}

static bool setup_sql(void)
{
	return live_sh("PGPASSWORD= psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres "
		       "-d postgres -c \"CREATE TABLE job_seekers (id int PRIMARY KEY, nir text, "
		       "name text, city text, allowance numeric); INSERT INTO job_seekers SELECT i, "
		       "lpad(i::text, 13, '0'), 'Person ' || i, 'City ' || (i %% 97), i %% 1500 "
		       "FROM generate_series(1, %d) i; DO \\$\\$ BEGIN FOR i IN 1..%d LOOP "
		       "EXECUTE format('CREATE ROLE adv%%s LOGIN PASSWORD ''t''', lpad(i::text, 4, "
		       "'0')); EXECUTE format('GRANT SELECT ON job_seekers TO adv%%s', "
		       "lpad(i::text, 4, '0')); END LOOP; END \\$\\$; CREATE ROLE " BULK
		       " LOGIN PASSWORD 't'; GRANT SELECT ON job_seekers TO " BULK "; CREATE ROLE adv_tls "
		       "LOGIN PASSWORD 't'; GRANT SELECT ON job_seekers TO adv_tls;\"",
		       pg_port, TABLE_ROWS, N_ROLES) == 0;
}

static char *make_config(void)
{
	char path[PATH_MAX];
	json_error_t err;
	json_t *cfg, *ports;
	char *text;

	snprintf(path, sizeof(path), "%s", live_source_path("examples/vigie.json"));
	cfg = json_load_file(path, 0, &err);
	if (!cfg)
		return NULL;
	ports = json_object_get(json_object_get(cfg, "databases"), "ports");
	json_array_append_new(ports, json_integer(atoi(pg_port)));
	json_object_set_new(json_object_get(cfg, "sensor"), "usage_interval", json_integer(600));
	json_object_set_new(json_object_get(cfg, "databases"), "postgres", json_string("on"));
	text = json_dumps(cfg, JSON_INDENT(1));
	json_decref(cfg);
	return text;
}

struct role {
	char name[16];
	bool local;
	long port;
	unsigned long long rows, copy_rows;
};

/* Sum of vigie.rows / vigie.copy_rows of usage events of a db_user;
 * checks the client attribution of each. */
static void usage_rows(const struct events *ev, const struct role *r, unsigned long long *rows,
		       unsigned long long *copy_rows, int *bad_client)
{
	*rows = *copy_rows = 0;
	*bad_client = 0;
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *u = jstr(e, "vigie.db_user");

		if (!u || strcmp(u, r->name) || !jstr(e, "event.action") ||
		    strcmp(jstr(e, "event.action"), "usage"))
			continue;
		*rows += (unsigned long long)jint(e, "vigie.rows", 0);
		*copy_rows += (unsigned long long)jint(e, "vigie.copy_rows", 0);
		if (r->local) {
			const char *a = jstr(e, "source.address");

			*bad_client += !a || strcmp(a, "[local]");
		} else {
			*bad_client += jint(e, "source.port", -1) != r->port ||
				       !jstr(e, "source.ip") || strcmp(jstr(e, "source.ip"), "127.0.0.1");
		}
		*bad_client += !jstr(e, "vigie.db_name") || strcmp(jstr(e, "vigie.db_name"), "postgres");
	}
}

static unsigned long long trace_rows(const char *path, const char *db_user, unsigned long long *n)
{
	char err[256];
	struct trace_reader *r = trace_reader_open(path, err, sizeof(err));
	struct trace_sample s;
	unsigned long long rows = 0;

	*n = 0;
	if (!r) {
		live_log("cannot read the trace: %s", err);
		return 0;
	}
	while (trace_reader_next(r, &s) == 1) {
		if (!strcmp(s.db_user, db_user)) {
			rows += s.db_rows;
			(*n)++;
		}
	}
	trace_reader_close(r);
	return rows;
}

int main(void)
{
	struct role roles[N_ROLES + 1];
	char msg[2048], *cfg, *trace;
	struct events ev;
	struct vigie v;
	int ok = 0;

	live_init("postgres");
	if (!cluster_start()) {
		CHECK(false, "throw-away PostgreSQL cluster started");
		return live_finish();
	}
	live_log("cluster on 127.0.0.1:%s, socket %s", pg_port, pg_sock);
	CHECK(setup_sql(), "table of %d job seekers and %d roles created", TABLE_ROWS, N_ROLES + 1);
	cfg = make_config();
	CHECK(cfg != NULL, "configuration from examples/vigie.json");
	if (!cfg)
		return live_finish();
	trace = live_path("trace.jsonl");
	if (vigie_start(&v, cfg, "--tick", "0.5", "--record", trace, NULL)) {
		CHECK(false, "vigie started");
		return live_finish();
	}

	live_section("one program per socket send: PostgreSQL's walk is sock_send_btf's tail call");
	ASSERT_EQ_INT(live_bpf_prog_state(v.c.pid, "sock_send_btf"), 2, "sock_send_btf attached");
	ASSERT_EQ_INT(live_bpf_prog_state(v.c.pid, "pg_sock_send"), 1,
		      "pg_sock_send loaded, not attached on its own");

	live_section("20 advisors: small lookups (advisor 20 over the unix socket)");
	for (int i = 0; i < N_ROLES; i++) {
		struct role *r = &roles[i];
		unsigned k = 3 + (unsigned)i % 5;
		char sql[256];

		snprintf(r->name, sizeof(r->name), "adv%04d", i + 1);
		r->local = i == N_ROLES - 1;
		snprintf(sql, sizeof(sql), "SELECT * FROM job_seekers WHERE id BETWEEN %u AND %u",
			 100u * (unsigned)i + 1, 100u * (unsigned)i + k);
		ok += psql(r->name, r->local, sql, &r->port) == 0;
		r->rows = 1 + k; /* the client port query, then k records */
		r->copy_rows = 0;
	}
	ASSERT_EQ_INT(ok, N_ROLES, "advisor queries succeeded");

	live_section("one account extracts everything: SELECT * and COPY TO STDOUT");
	{
		struct role *r = &roles[N_ROLES];

		snprintf(r->name, sizeof(r->name), BULK);
		r->local = false;
		ASSERT_EQ_INT(psql(r->name, false, "SELECT * FROM job_seekers; COPY job_seekers TO STDOUT",
				   &r->port), 0, "bulk extraction ran");
		r->rows = 1 + TABLE_ROWS + TABLE_ROWS;
		r->copy_rows = TABLE_ROWS;
	}
	live_section("an encrypted connection: rows counted through TLS (be_tls_write)");
	ASSERT_EQ_INT(psql_mode("adv_tls", false, "SELECT * FROM job_seekers WHERE id <= 10", NULL,
				"require"), 0, "TLS query ran (sslmode=require)");
	ASSERT_TRUE(vigie_wait_action(&v, "exfiltration-volume", 15000),
		    "an exfiltration-volume alert was raised");
	usleep(1200 * 1000); /* a last tick for the trailing rows */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return live_finish();
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");
	ASSERT_EQ_STR(jstr(events_find(&ev, "sensor-start"), "vigie.postgres"), "on",
		      "sensor-start: PostgreSQL row counting on");
	/* every plaintext session: its start-up answer and its queries' */
	ASSERT_GT_U64((unsigned long long)jint(events_find(&ev, "sensor-stop"),
					       "vigie.stats.postgres.sends_walked", 0),
		      2 * (N_ROLES + 1) - 1, "sensor-stop: the plaintext sessions' sends walked");

	live_section("exact rows per role, usage events and trace");
	for (int i = 0; i <= N_ROLES; i++) {
		const struct role *r = &roles[i];
		unsigned long long rows, copy_rows, trows, nsamples;
		int bad_client;

		usage_rows(&ev, r, &rows, &copy_rows, &bad_client);
		snprintf(msg, sizeof(msg), "%s: vigie.rows in usage events", r->name);
		ASSERT_EQ_U64(rows, r->rows, msg);
		snprintf(msg, sizeof(msg), "%s: vigie.copy_rows", r->name);
		ASSERT_EQ_U64(copy_rows, r->copy_rows, msg);
		snprintf(msg, sizeof(msg), "%s: attributed to its client %s (port %ld) and database",
			 r->name, r->local ? "[local]" : "127.0.0.1", r->port);
		ASSERT_EQ_INT(bad_client, 0, msg);
		trows = trace_rows(trace, r->name, &nsamples);
		snprintf(msg, sizeof(msg), "%s: db_rows in the recorded trace", r->name);
		ASSERT_EQ_U64(trows, r->rows, msg);
	}

	live_section("the encrypted connection");
	{
		size_t n = 0, unknown = 0;
		unsigned long long bytes = 0, rows = 0, trows, nsamples;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i];
			const char *u = jstr(e, "vigie.db_user");

			if (!u || strcmp(u, "adv_tls") || strcmp(jstr(e, "event.action"), "usage"))
				continue;
			n++;
			bytes += (unsigned long long)jint(e, "vigie.bytes", 0);
			rows += (unsigned long long)jint(e, "vigie.rows", 0);
			unknown += json_is_null(jpath(e, "vigie.rows")) ||
				   json_is_false(jpath(e, "vigie.rows_known"));
		}
		ASSERT_GT_U64(n, 0, "adv_tls: usage events");
		ASSERT_EQ_U64(unknown, 0, "adv_tls: rows known in every usage event");
		/* 10 rows and the client port psql_mode asks first */
		ASSERT_EQ_U64(rows, 11, "adv_tls: rows through TLS, exact");
		ASSERT_GT_U64(bytes, 0, "adv_tls: encrypted bytes counted");
		trows = trace_rows(trace, "adv_tls", &nsamples);
		ASSERT_EQ_U64(trows, 11, "adv_tls: db_rows in the recorded trace");
	}

	live_section("alerts: the extracting role, and no other role");
	{
		size_t bulk_alerts = 0, other_alerts = 0;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i];
			const char *a = jstr(e, "event.action"), *kind, *id;

			if (!a || strcmp(a, "exfiltration-volume"))
				continue;
			kind = jstr(e, "vigie.principal.kind");
			id = jstr(e, "vigie.principal.id");
			if (!kind || strcmp(kind, "db_user") || !id)
				continue;
			if (!strcmp(id, BULK))
				bulk_alerts++;
			else
				other_alerts++;
		}
		ASSERT_GT_U64(bulk_alerts, 0, "alerts naming db_user " BULK);
		ASSERT_EQ_U64(other_alerts, 0, "alerts naming any other db_user");
		{
			json_t *e = NULL;

			for (size_t i = 0; i < ev.n && !e; i++) {
				const char *id = jstr(ev.ev[i], "vigie.principal.id");

				if (id && !strcmp(id, BULK))
					e = ev.ev[i];
			}
			ASSERT_EQ_STR(e ? jstr(e, "event.kind") : NULL, "alert", "alert event.kind");
		}
	}
	events_free(&ev);
	free(trace);
	free(cfg);
	return live_finish();
}
