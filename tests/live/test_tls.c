// SPDX-License-Identifier: GPL-2.0
/*
 * Live: records through TLS. A cluster with ssl = on (a self-signed
 * certificate, as Debian's snakeoil), psql with its default sslmode
 * (prefer: TLS) and with sslmode=require at TLS 1.2 and 1.3; Vigie with the
 * built-in defaults (databases.app_user set for the application user
 * case). Rows are exact from 1 to 1,000,000, COPY rows too, every usage
 * event says rows_known, the connection is checked to be TLS by
 * PostgreSQL itself (pg_stat_ssl), and an application user is split out
 * through TLS as on a plain connection. A TLS session opened before Vigie
 * started is counted from its next result. With databases.postgres_tls
 * "off" (the fallback, as where be_tls_write is missing) TLS rows are
 * unknown and say why; plain rows stay exact.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include "postgres/pgwire.h"
#include "lib/live.h"

#define BIG 1000000

/* A server whose executable has no be_tls_write (another build of
 * PostgreSQL): /usr/bin/sleep stands for it. Tracked, not hooked, and the
 * log says so. */
static void missing_symbol(void)
{
	struct pgwire *pg = pgwire_start(NULL);
	struct pgwire_stats st0, st1;
	struct child c;
	char *argv[] = { "sleep", "30", NULL }, *log, *path = live_path("missing.log");
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;

	if (!pg || fd < 0 || saved < 0 || child_spawn(&c, &(struct spawn_opts){ .exe = "/usr/bin/sleep" }, argv)) {
		CHECK(false, "pgwire and a process to hook");
		goto out;
	}
	/* the child has exec'ed sleep (not still this program after fork) */
	for (int i = 0; i < 100; i++) {
		char exe[64], link[PATH_MAX];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)c.pid);
		n = readlink(exe, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strcmp(link, "/usr/bin/sleep")))
			break;
		usleep(10 * 1000);
	}
	pgwire_stats(pg, &st0);
	fflush(stderr);
	dup2(fd, 2);
	rc = pgwire_add_postmaster(pg, (uint32_t)c.pid);
	fflush(stderr);
	dup2(saved, 2);
	pgwire_stats(pg, &st1);
	ASSERT_EQ_INT(rc, 0, "a server without be_tls_write is still tracked");
	ASSERT_EQ_INT(st1.tls_hooked_executables, st0.tls_hooked_executables,
		      "and its executable is not counted as hooked");
	log = live_read_file(path, NULL);
	CHECK(log && strstr(log, "PostgreSQL /usr/bin/sleep: cannot hook be_tls_write") &&
	      strstr(log, "rows of its TLS connections are not counted (bytes are)"),
	      "the log names the executable and what is not counted: %s", log ? log : "(nothing)");
	free(log);
	child_kill(&c);
out:
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	free(path);
	pgwire_stop(pg);
}

static const char *pg_port, *psql;

/* Run SQL as role over TCP with sslmode and an optional TLS version;
 * psql output to out (or /dev/null). */
static int run(const char *role, const char *mode, const char *tls_max, const char *args,
	       const char *out)
{
	return live_sh("PGSSLMODE=%s %s%s '%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U %s "
		       "-d postgres -At -o '%s' %s",
		       mode, tls_max ? "PGSSLMAXPROTOCOLVERSION=" : "", tls_max ? tls_max : "", psql,
		       pg_port, role, out ? out : "/dev/null", args);
}

struct role_rows {
	unsigned long long rows, copy_rows;
	size_t events, unknown;
};

static struct role_rows rows_of(const struct events *ev, const char *role)
{
	struct role_rows r = { 0 };

	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *u = jstr(e, "vigie.db_user"), *a = jstr(e, "event.action");

		if (!u || strcmp(u, role) || !a || strcmp(a, "usage"))
			continue;
		r.events++;
		r.rows += (unsigned long long)jint(e, "vigie.rows", 0);
		r.copy_rows += (unsigned long long)jint(e, "vigie.copy_rows", 0);
		r.unknown += json_is_null(jpath(e, "vigie.rows")) ||
			     json_is_false(jpath(e, "vigie.rows_known"));
	}
	return r;
}

static void expect_rows(const struct events *ev, const char *role, unsigned long long rows,
			unsigned long long copy_rows)
{
	struct role_rows r = rows_of(ev, role);

	CHECK(r.events > 0 && r.unknown == 0, "%s: %zu usage events, rows known in all (%zu not)",
	      role, r.events, r.unknown);
	CHECK(r.rows == rows, "%s: %llu rows through TLS, want %llu", role, r.rows, rows);
	CHECK(r.copy_rows == copy_rows, "%s: %llu COPY rows, want %llu", role, r.copy_rows,
	      copy_rows);
}

/* The session is TLS (pg_stat_ssl says so): adds one row to the role's. */
#define IS_TLS "-c 'SELECT ssl::text || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()'"

static void expect_tls(const char *out, const char *version)
{
	char *text = live_read_file(out, NULL);

	CHECK(text && !strncmp(text, "true", 4) && (!version || strstr(text, version)),
	      "PostgreSQL says the session was TLS%s%s (%s)", version ? " " : "",
	      version ? version : "", text ? strtok(text, "\n") : "no output");
	free(text);
}

int main(void)
{
	static const char *const roles[] = { "tls_one", "tls_k", "tls_m", "tls_copy", "tls12",
					     "tls13", "tls_app", "tls_dump", "tls_short",
					     "plain_dump", "tls_slow", "tls_py", "tls_early", "tls_off",
					     "plain_off" };
	char sql[2048], out[4][256], early_done[256];
	struct vigie v;
	struct events ev;
	bool ok;

	live_init("tls");
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start() || !(pg_port = getenv("PGPORT")) || !(psql = pgcluster_psql())) {
		CHECK(false, "throw-away cluster");
		return live_finish();
	}
	if (!getenv("PGCLUSTER_SSL") || strcmp(getenv("PGCLUSTER_SSL"), "1")) {
		CHECK(false, "cluster with ssl = on (openssl makes its certificate)");
		return live_finish();
	}
	snprintf(sql, sizeof(sql), "-c \"CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM "
				   "generate_series(1, %d) i\"", BIG);
	ok = run("postgres", "disable", NULL, sql, NULL) == 0;
	for (size_t i = 0; ok && i < sizeof(roles) / sizeof(roles[0]); i++) {
		snprintf(sql, sizeof(sql), "-c \"CREATE ROLE %s LOGIN; GRANT SELECT ON t TO %s; "
					   "GRANT pg_read_all_stats TO %s\"", roles[i], roles[i], roles[i]);
		ok = run("postgres", "disable", NULL, sql, NULL) == 0;
	}
	if (!ok) {
		CHECK(false, "table of %d rows and roles", BIG);
		return live_finish();
	}
	for (int i = 0; i < 4; i++)
		snprintf(out[i], sizeof(out[i]), "%s/tls%d.out", live_tmpdir(), i);

	/* a TLS session that is open before vigie starts, whose query returns after */
	snprintf(early_done, sizeof(early_done), "%s/early.done", live_tmpdir());
	CHECK(live_sh("(PGSSLMODE=require '%s' -X -q -h 127.0.0.1 -p %s -U tls_early -d postgres "
		      "-c 'SELECT pg_sleep(8)' -c 'SELECT * FROM t WHERE i <= 400' >/dev/null 2>&1; "
		      "echo $? > '%s') </dev/null >/dev/null 2>&1 &", psql, pg_port, early_done) == 0,
	      "a TLS session opened before vigie starts");
	usleep(1000 * 1000);

	live_section("vigie with the built-in defaults (databases.app_user for the last case)");
	if (vigie_start(&v, "{\"databases\": {\"app_user\": {\"pattern\": \"portail/{user}\"}}}",
			NULL)) {
		CHECK(false, "vigie started");
		return live_finish();
	}
	/* the socket side of the walk runs inside sock_send_btf (a tail call) */
	ASSERT_EQ_INT(live_bpf_prog_state(v.c.pid, "pg_sock_send"), 1,
		      "pg_sock_send loaded, run as sock_send_btf's tail call");
	/* default sslmode (prefer): TLS, as every libpq client on a stock server */
	CHECK(run("tls_one", "prefer", NULL, IS_TLS " -c 'SELECT * FROM t WHERE i = 1'", out[0]) == 0,
	      "1 row, default sslmode");
	expect_tls(out[0], NULL);
	CHECK(run("tls_k", "prefer", NULL, "-c 'SELECT * FROM t WHERE i <= 1000'", NULL) == 0,
	      "1,000 rows, default sslmode");
	CHECK(run("tls_m", "prefer", NULL, "-c 'SELECT * FROM t'", NULL) == 0,
	      "1,000,000 rows, default sslmode");
	CHECK(run("tls_copy", "require", NULL, "-c 'COPY t TO STDOUT'", NULL) == 0,
	      "COPY of 1,000,000 rows, sslmode=require");
	/* a client slower than the server: psql's COPY output goes to a reader
	 * that sleeps first, the backend's sends block, be_tls_write is called
	 * again with the same buffer: each write walked once */
	CHECK(live_sh("PGSSLMODE=require '%s' -X -q -h 127.0.0.1 -p %s -U tls_slow -d postgres "
		      "-c 'COPY t TO STDOUT' | (sleep 2; cat > /dev/null)", psql, pg_port) == 0,
	      "COPY of 1,000,000 rows to a slow reader, sslmode=require");
	/* psycopg2 from Debian (its python3, not one earlier in PATH), default sslmode */
	CHECK(live_sh("env -u PGSSLMODE /usr/bin/python3 -c \"import sys, psycopg2; "
		      "c = psycopg2.connect(host='127.0.0.1', port=%s, user='tls_py', dbname='postgres'); "
		      "k = c.cursor(); "
		      "k.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'); "
		      "s = k.fetchone()[0]; k.execute('SELECT * FROM t WHERE i <= 3000'); "
		      "open(sys.argv[1], 'w').write('%%s %%d\\n' %% (s, len(k.fetchall())))\" '%s'",
		      pg_port, out[3]) == 0,
	      "psycopg2, default sslmode: 3,000 rows");
	{
		char *got = live_read_file(out[3], NULL);

		ASSERT_EQ_STR(got, "True 3000\n", "psycopg2: its connection is TLS, 3,000 rows fetched");
		free(got);
	}
	CHECK(run("tls12", "require", "TLSv1.2", IS_TLS " -c 'SELECT * FROM t WHERE i <= 5000'",
		  out[1]) == 0, "5,000 rows at TLS 1.2");
	expect_tls(out[1], "TLSv1.2");
	CHECK(run("tls13", "require", "TLSv1.3", IS_TLS " -c 'SELECT * FROM t WHERE i <= 7000'",
		  out[2]) == 0, "7,000 rows at TLS 1.3");
	expect_tls(out[2], "TLSv1.3");
	CHECK(run("tls_app", "require", NULL,
		  "-c \"SET application_name = 'portail/adv0042'\" -c 'SELECT * FROM t WHERE i <= 42' "
		  "-c \"SET application_name = 'portail/adv0043'\" -c 'SELECT * FROM t WHERE i <= 43'",
		  NULL) == 0, "application users through TLS");
	{
		char *dump = NULL;

		if (asprintf(&dump, "PGSSLMODE=prefer '%s/pg_dump' -h 127.0.0.1 -p %s -U tls_dump -t t "
			     "postgres > /dev/null", getenv("PGCLUSTER_BIN"), pg_port) > 0)
			CHECK(live_sh("%s", dump) == 0, "pg_dump of the table, default sslmode");
		free(dump);
		/* the same dump in plain text: its catalog queries return the same rows */
		if (asprintf(&dump, "PGSSLMODE=disable '%s/pg_dump' -h 127.0.0.1 -p %s -U plain_dump "
			     "-t t postgres > /dev/null", getenv("PGCLUSTER_BIN"), pg_port) > 0)
			CHECK(live_sh("%s", dump) == 0, "the same pg_dump without TLS");
		free(dump);
	}
	/* short TLS connections: nothing per connection is kept by vigie */
	{
		int before, after;

		before = live_count_fds(v.c.pid);
		/* one process, 1,000 connections in turn (psycopg2, libpq) */
		CHECK(live_sh("/usr/bin/python3 -c \"import psycopg2\n"
			      "for i in range(1000):\n"
			      "  c = psycopg2.connect(host='127.0.0.1', port=%s, user='tls_short', "
			      "dbname='postgres', sslmode='require'); k = c.cursor(); "
			      "k.execute('SELECT 1'); k.fetchall(); c.close()\"", pg_port) == 0,
		      "1,000 short TLS connections");
		usleep(1500 * 1000);
		after = live_count_fds(v.c.pid);
		CHECK(before > 0 && after == before, "vigie's open files before and after 1,000 short "
						     "TLS connections: %d, %d", before, after);
	}
	{
		char *st = NULL;

		for (int i = 0; i < 200 && !(st = live_read_file(early_done, NULL)); i++)
			usleep(100 * 1000);
		ASSERT_EQ_STR(st, "0\n", "the session opened before vigie: psql exit status");
		free(st);
	}
	usleep(1500 * 1000); /* a last tick */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}

	live_section("rows through TLS, exact");
	expect_rows(&ev, "tls_one", 1 + 1, 0);
	expect_rows(&ev, "tls_k", 1000, 0);
	expect_rows(&ev, "tls_m", BIG, 0);
	expect_rows(&ev, "tls_copy", BIG, BIG);
	expect_rows(&ev, "tls12", 1 + 5000, 0);
	expect_rows(&ev, "tls13", 1 + 7000, 0);
	expect_rows(&ev, "tls_app", 42 + 43, 0);
	{
		struct role_rows d = rows_of(&ev, "tls_dump"), p = rows_of(&ev, "plain_dump");

		CHECK(d.copy_rows == BIG && p.copy_rows == BIG, "pg_dump COPY rows: %llu through TLS, "
		      "%llu in plain text, want %d", d.copy_rows, p.copy_rows, BIG);
		CHECK(d.rows == p.rows && d.unknown == 0, "pg_dump rows (COPY and catalog queries): "
		      "%llu through TLS, %llu in plain text", d.rows, p.rows);
	}
	expect_rows(&ev, "tls_short", 1000, 0);
	expect_rows(&ev, "tls_slow", BIG, BIG);
	expect_rows(&ev, "tls_py", 1 + 3000, 0);
	/* open before vigie: its first result after the start resynchronises
	 * the walker (pg_sleep's one row), the next is exact */
	expect_rows(&ev, "tls_early", 1 + 400, 0);
	{
		long long a42 = 0, a43 = 0;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *a;
			size_t k;

			json_array_foreach(jpath(ev.ev[i], "vigie.app_users"), k, a) {
				const char *u = json_string_value(json_object_get(a, "user"));

				if (u && !strcmp(u, "adv0042"))
					a42 += json_integer_value(json_object_get(a, "records"));
				if (u && !strcmp(u, "adv0043"))
					a43 += json_integer_value(json_object_get(a, "records"));
			}
		}
		ASSERT_EQ_INT(a42, 42, "application user adv0042 through TLS: records");
		ASSERT_EQ_INT(a43, 43, "application user adv0043 through TLS: records");
	}
	{
		size_t rows_alerts = 0;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i];
			const char *a = jstr(e, "event.action"), *id = jstr(e, "vigie.principal.id"),
				   *m = jstr(e, "vigie.metric");

			rows_alerts += a && !strcmp(a, "exfiltration-volume") && id &&
				       !strcmp(id, "tls_m") && m && !strcmp(m, "db_rows");
		}
		CHECK(rows_alerts > 0, "the 1,000,000-row extraction through TLS alerted on its records "
				       "(db_user tls_m, db_rows), built-in thresholds");
	}
	{
		json_t *stop = events_find(&ev, "sensor-stop");

		CHECK(jint(stop, "vigie.stats.postgres.tls_hooked_executables", 0) >= 1,
		      "sensor-stop: a PostgreSQL executable hooked at be_tls_write");
		CHECK(jint(stop, "vigie.stats.postgres.tls_writes", 0) > 0,
		      "sensor-stop: TLS plaintext writes walked (%lld)",
		      jint(stop, "vigie.stats.postgres.tls_writes", 0));
		CHECK(jint(stop, "vigie.stats.postgres.tls_write_retries", 0) > 0,
		      "sensor-stop: TLS writes called again after a blocked send, not walked twice "
		      "(%lld; the slow reader's COPY rows above are exact)",
		      jint(stop, "vigie.stats.postgres.tls_write_retries", 0));
	}
	events_free(&ev);

	live_section("the fallback: databases.postgres_tls \"off\" (as where be_tls_write is missing)");
	if (vigie_start(&v, "{\"databases\": {\"postgres_tls\": \"off\"}}", NULL)) {
		CHECK(false, "vigie started with postgres_tls off");
		return live_finish();
	}
	CHECK(run("tls_off", "prefer", NULL, "-c 'SELECT * FROM t WHERE i <= 500'", NULL) == 0,
	      "500 rows through TLS, not hooked");
	CHECK(run("plain_off", "disable", NULL, "-c 'SELECT * FROM t WHERE i <= 600'", NULL) == 0,
	      "600 rows in plain text");
	usleep(2500 * 1000);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}
	expect_rows(&ev, "plain_off", 600, 0);
	{
		size_t events = 0, as_unknown = 0, said = 0;
		long long bytes = 0;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i], *why = jpath(e, "vigie.rows_unknown_reason");
			const char *u = jstr(e, "vigie.db_user"), *a = jstr(e, "event.action");

			if (!u || strcmp(u, "tls_off") || !a || strcmp(a, "usage"))
				continue;
			events++;
			bytes += jint(e, "vigie.bytes", 0);
			as_unknown += json_is_null(jpath(e, "vigie.rows")) &&
				      json_is_false(jpath(e, "vigie.rows_known"));
			said += json_array_size(why) == 1 &&
				!strcmp(json_string_value(json_array_get(why, 0)) ?: "", "tls_not_hooked");
		}
		CHECK(events > 0 && as_unknown == events && said == events,
		      "tls_off: %zu usage events, %zu with rows null and rows_known false, %zu with "
		      "rows_unknown_reason [\"tls_not_hooked\"]", events, as_unknown, said);
		CHECK(bytes > 500 * 40, "tls_off: its bytes are counted (%lld)", bytes);
	}
	{
		json_t *stop = events_find(&ev, "sensor-stop");
		char *log = live_read_file(v.err_path, NULL);

		ASSERT_EQ_INT(jint(stop, "vigie.stats.postgres.tls_hooked_executables", -1), 0,
			      "sensor-stop: no executable hooked");
		CHECK(log && strstr(log, "be_tls_write not hooked (configuration): rows of TLS "
					 "connections are not counted (bytes are)"),
		      "the log says why TLS rows are not counted");
		free(log);
	}
	events_free(&ev);

	live_section("an executable without be_tls_write");
	missing_symbol();
	return live_finish();
}
