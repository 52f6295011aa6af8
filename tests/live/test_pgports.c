// SPDX-License-Identifier: GPL-2.0
/*
 * Live: PostgreSQL on a port nobody configured. With the built-in defaults
 * (databases.ports 5432, 3306, ...), a cluster listening on a random port
 * is recognised and its own listening port becomes a database port: its
 * sends there are db_server bytes, with exact rows, whether the cluster
 * ran before vigie started (the port is in sensor-start) or started while
 * vigie ran (the port is in sensor-stop's statistics). Once it is, the
 * walk of backends' answers runs for sends from database ports only. A
 * cluster on its unix socket only has no port to find: known as soon as
 * it listens there, its rows exact. More servers starting at once than
 * vigie watches leave it unsure of their ports (every send walked) only
 * until a later look at the running servers finds them watched or ended.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "lib/live.h"

#define TABLE_ROWS 20000
#define ROLE "port_probe"

static const char *const default_ports[] = { "5432", "3306", "1521", "50000", "1433", "27017" };
static const char *psql_bin;

/* A cluster on a port that is not a default database port. */
static const char *cluster_start(void)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		const char *port;
		bool is_default = false;

		if (pgcluster_start())
			return NULL;
		port = getenv("PGPORT");
		psql_bin = pgcluster_psql();
		if (!port || !psql_bin)
			return NULL;
		for (size_t i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
			is_default |= strcmp(port, default_ports[i]) == 0;
		if (!is_default)
			return port;
		pgcluster_stop();
	}
	return NULL;
}

static bool setup_sql(const char *port)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d postgres "
		       "-c \"CREATE TABLE t AS SELECT i, repeat('x', 100) AS pad FROM "
		       "generate_series(1, %d) i; CREATE ROLE " ROLE " LOGIN; GRANT SELECT ON t TO "
		       ROLE "\"", psql_bin, port, TABLE_ROWS) == 0;
}

static bool select_all(const char *port)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U " ROLE " -d postgres "
		       "-o /dev/null -c 'SELECT * FROM t'", psql_bin, port) == 0;
}

/* The same over the cluster's unix socket (PGHOST, its directory). */
static bool unix_setup(void)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h '%s' -p %s -U postgres -d postgres "
		       "-c \"CREATE TABLE t AS SELECT i, repeat('x', 100) AS pad FROM "
		       "generate_series(1, %d) i; CREATE ROLE " ROLE " LOGIN; GRANT SELECT ON t TO "
		       ROLE "\"", psql_bin, getenv("PGHOST"), getenv("PGPORT"), TABLE_ROWS) == 0;
}

static bool unix_select_all(void)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h '%s' -p %s -U " ROLE " -d postgres "
		       "-o /dev/null -c 'SELECT * FROM t'", psql_bin, getenv("PGHOST"),
		       getenv("PGPORT")) == 0;
}

/* db_server bytes and rows of the role's usage events */
static void role_usage(const struct events *ev, unsigned long long *bytes, unsigned long long *rows,
		       size_t *unknown)
{
	*bytes = *rows = 0;
	*unknown = 0;
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *u = jstr(e, "vigie.db_user"), *a = jstr(e, "event.action");

		if (!u || strcmp(u, ROLE) || !a || strcmp(a, "usage"))
			continue;
		if (jstr(e, "vigie.class") && strcmp(jstr(e, "vigie.class"), "db_server") == 0)
			*bytes += (unsigned long long)jint(e, "vigie.bytes", 0);
		*rows += (unsigned long long)jint(e, "vigie.rows", 0);
		*unknown += json_is_false(jpath(e, "vigie.rows_known")) ||
			    json_is_null(jpath(e, "vigie.rows"));
	}
}

static bool has_port(json_t *arr, long port)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_integer_value(v) == port)
			return true;
	return false;
}

static void check_run(struct vigie *v, const char *port, const char *where)
{
	struct events ev;
	unsigned long long bytes, rows;
	size_t unknown;

	ASSERT_EQ_INT(vigie_stop(v), 0, "vigie exit status");
	if (events_load(&ev, v->out_path)) {
		CHECK(false, "events of the run loaded");
		return;
	}
	CHECK(has_port(jpath(events_find(&ev, "sensor-stop"), "vigie.stats.postgres.ports"),
		      atol(port)),
	      "sensor-stop vigie.stats.postgres.ports lists %s (%s)", port, where);
	CHECK(!has_port(jpath(events_find(&ev, "sensor-start"), "vigie.db_ports"), atol(port)),
	      "port %s is not a configured database port", port);
	role_usage(&ev, &bytes, &rows, &unknown);
	live_log("%s: db_server bytes %llu, rows %llu", where, bytes, rows);
	/* each DataRow carries at least its 100-byte pad */
	CHECK(bytes >= 100ull * TABLE_ROWS, "%s: db_server bytes of " ROLE " %llu >= %d", where,
	      bytes, 100 * TABLE_ROWS);
	ASSERT_EQ_U64(rows, TABLE_ROWS, "rows of " ROLE " exact");
	ASSERT_EQ_U64(unknown, 0, "no usage event of " ROLE " has rows unknown");
	events_free(&ev);
}

/* Whether the sensor's log has `after`, then `want` after it, within
 * tenths of a second. */
static bool log_has_after(const struct vigie *v, const char *after, const char *want, int tenths)
{
	for (int i = 0; i < tenths; i++) {
		char *err = live_read_file(v->err_path, NULL);
		char *at = err ? strstr(err, after) : NULL;
		bool seen = at && (!want || strstr(at, want));

		free(err);
		if (seen)
			return true;
		usleep(100000);
	}
	return false;
}

/* One more server starting at once than vigie watches (PGA_PENDING, 16):
 * copies of sleep at DIR/bin/postgres, a path only root could have
 * written, which vigie takes for PostgreSQL servers; none listens. */
#define N_STANDINS 17

static void too_many_servers(void)
{
	const char *warn = "too many servers starting at once";
	char dir[64], bin[96];
	pid_t pids[N_STANDINS];
	struct vigie v;
	int n = 0;

	live_section("more servers starting at once than vigie watches, then ended");
	snprintf(dir, sizeof(dir), "/run/vigie-pgports-%d", (int)getpid());
	snprintf(bin, sizeof(bin), "%s/bin/postgres", dir);
	if (live_sh("mkdir -p '%s/bin' && chmod 755 '%s' '%s/bin' && cp /bin/sleep '%s'", dir, dir,
		    dir, bin)) {
		CHECK(false, "stand-in server %s", bin);
		return;
	}
	if (vigie_start(&v, NULL, "-v", "--tick", "0.2", NULL)) {
		CHECK(false, "vigie started with the built-in defaults");
		live_sh("rm -rf '%s'", dir);
		return;
	}
	for (int i = 0; i < N_STANDINS; i++) {
		pid_t p = fork();

		if (p == 0) {
			execl(bin, "postgres", "60", (char *)NULL);
			_exit(127);
		}
		if (p > 0)
			pids[n++] = p;
	}
	CHECK(n == N_STANDINS, "%d stand-in servers started", n);
	CHECK(log_has_after(&v, warn, NULL, 150), "vigie warned: %s", warn);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	/* the ended servers leave the watch at the next ticks; the one never
	 * watched is looked for again at the next look at /proc (every 30
	 * ticks, 6 s here), and then every server's ports are known */
	CHECK(log_has_after(&v, warn, "every server's ports known: the walk runs for sends from "
			      "database ports and unix sockets", 200),
	      "after the servers ended, vigie logged that the walk narrowed again, within 20 s");
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	live_sh("rm -rf '%s'", dir);
}

int main(void)
{
	struct vigie v;
	struct events ev;
	const char *port;
	char first_port[16];
	bool seen = false;

	live_init("pgports");
	live_on_cleanup(pgcluster_stop);
	too_many_servers();
	live_section("a cluster running before vigie, on a port nobody configured");
	port = cluster_start();
	if (!port || !setup_sql(port)) {
		CHECK(false, "throw-away cluster on a non-default port, with a table");
		return live_finish();
	}
	live_log("cluster on 127.0.0.1:%s", port);
	snprintf(first_port, sizeof(first_port), "%s", port);
	if (vigie_start(&v, NULL, NULL)) {
		CHECK(false, "vigie started with the built-in defaults");
		return live_finish();
	}
	if (events_load(&ev, v.out_path) == 0) {
		json_t *s = events_find(&ev, "sensor-start");

		CHECK(has_port(jpath(s, "vigie.postgres_ports"), atol(port)),
		      "sensor-start vigie.postgres_ports lists %s", port);
		events_free(&ev);
	}
	CHECK(select_all(port), "SELECT * of %d rows as " ROLE, TABLE_ROWS);
	check_run(&v, port, "running before");
	pgcluster_stop();

	live_section("a cluster started while vigie runs");
	if (vigie_start(&v, NULL, "-v", NULL)) { /* -v: the port found is logged */
		CHECK(false, "vigie started with the built-in defaults");
		return live_finish();
	}
	port = cluster_start();
	if (!port || !setup_sql(port)) {
		CHECK(false, "second throw-away cluster on a non-default port, with a table");
		vigie_stop(&v);
		return live_finish();
	}
	live_log("cluster on 127.0.0.1:%s (the first was on %s)", port, first_port);
	/* the port is found within a few ticks of the server's start */
	for (int i = 0; i < 100 && !seen; i++) {
		char *err = live_read_file(v.err_path, NULL);
		char want[64];

		snprintf(want, sizeof(want), "listens on port %s: a database port", port);
		seen = err && strstr(err, want);
		free(err);
		if (!seen)
			usleep(100000);
	}
	CHECK(seen, "vigie logged port %s as a database port within 10 s", port);
	/* then the walk of backends' answers runs for sends from database
	 * ports (and unix sockets) only: the rows below are walked so */
	seen = false;
	for (int i = 0; i < 50 && !seen; i++) {
		char *err = live_read_file(v.err_path, NULL);
		char want[64], *at;

		snprintf(want, sizeof(want), "listens on port %s: a database port", port);
		at = err ? strstr(err, want) : NULL;
		seen = at && strstr(at, "every server's ports known: the walk runs for sends from "
					"database ports and unix sockets");
		free(err);
		if (!seen)
			usleep(100000);
	}
	CHECK(seen, "after port %s, vigie logged that the walk runs for database ports' sends",
	      port);
	CHECK(select_all(port), "SELECT * of %d rows as " ROLE, TABLE_ROWS);
	check_run(&v, port, "started while running");
	pgcluster_stop();

	live_section("a cluster on its unix socket only, started while vigie runs");
	if (vigie_start(&v, NULL, "-v", NULL)) {
		CHECK(false, "vigie started with the built-in defaults");
		return live_finish();
	}
	setenv("PGCLUSTER_LISTEN", "", 1);
	if (pgcluster_start() || !(port = getenv("PGPORT")) || !(psql_bin = pgcluster_psql()) ||
	    !unix_setup()) {
		CHECK(false, "throw-away cluster listening on no TCP address, with a table");
		vigie_stop(&v);
		return live_finish();
	}
	unsetenv("PGCLUSTER_LISTEN");
	live_log("cluster on the unix socket %s/.s.PGSQL.%s only", getenv("PGHOST"), port);
	/* no TCP port will come: known at once, the walk narrowed (it takes
	 * unix sockets' sends), rather than open to every send of the host
	 * while the server runs */
	seen = false;
	for (int i = 0; i < 100 && !seen; i++) {
		char *err = live_read_file(v.err_path, NULL);
		char *at = err ? strstr(err, "listens on unix sockets only") : NULL;

		seen = at && strstr(at, "every server's ports known: the walk runs for sends from "
					"database ports and unix sockets");
		free(err);
		if (!seen)
			usleep(100000);
	}
	CHECK(seen, "vigie logged the unix-only server, then the walk narrowed, within 10 s");
	CHECK(unix_select_all(), "SELECT * of %d rows as " ROLE " over the unix socket",
	      TABLE_ROWS);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path) == 0) {
		unsigned long long bytes, rows;
		size_t unknown;

		role_usage(&ev, &bytes, &rows, &unknown);
		ASSERT_EQ_U64(rows, TABLE_ROWS, "rows of " ROLE " over the unix socket, exact");
		ASSERT_EQ_U64(unknown, 0, "no usage event of " ROLE " has rows unknown");
		events_free(&ev);
	} else {
		CHECK(false, "events of the run loaded");
	}
	return live_finish();
}
