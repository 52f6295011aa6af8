// SPDX-License-Identifier: GPL-2.0
/*
 * live_pgwire, part 2: a real cluster (tests/lib/pgcluster.sh, started by
 * main) queried with psql over TCP, the unix socket and TLS, asserting
 * exact row counts and the attribution read from backend titles; the
 * psql helpers, the cases and the database they query.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgwire_test.h"

/* The throw-away cluster's postmaster (main reads it at start). */
uint32_t cluster_postmaster;

const struct conn conn_tcp = { "127.0.0.1", NULL, "alice", "vigie" };
const struct conn conn_unix = { NULL, NULL, "alice", "vigie" };
static const struct conn conn_tls = { "127.0.0.1", "require", "alice", "vigie" };
static const struct conn conn_admin = { NULL, NULL, "postgres", "postgres" };

/* The title the kernel kept (the process is gone by now). */
static void check_title(const struct acc *a, const struct conn *c, const char *name)
{
	CHECK(a->title_ok, "%s: title kept by the kernel", name);
	if (!a->title_ok)
		return;
	CHECK(strcmp(a->title.db_user, c->user) == 0 && strcmp(a->title.db_name, c->db) == 0,
	      "%s: title user %s db %s", name, a->title.db_user, a->title.db_name);
	if (c->host)
		CHECK(a->title.family == AF_INET && a->title.client_port != 0,
		      "%s: title client %s(%u)", name, a->title.client, a->title.client_port);
	else
		CHECK(a->title.local, "%s: title [local]", name);
}

static bool quiet; /* psql_spawn: stderr to /dev/null too */

/* Start psql running sql; output to /dev/null, or to out_fd. */
static pid_t psql_spawn(const struct conn *c, const char *sql, int out_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (c->host)
		setenv("PGHOST", c->host, 1);
	setenv("PGSSLMODE", c->sslmode ? c->sslmode : "disable", 1);
	setenv("PGUSER", c->user, 1);
	setenv("PGDATABASE", c->db, 1);
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		close(out_fd);
		execlp("psql", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
		       (char *)NULL);
	} else {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0) {
			dup2(dn, 1);
			if (quiet)
				dup2(dn, 2);
		}
		execlp("psql", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-o",
		       "/dev/null", "-c", sql, (char *)NULL);
	}
	_exit(127);
}

int psql_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int psql(const struct conn *c, const char *sql)
{
	return psql_wait(psql_spawn(c, sql, -1));
}

/* Run sql and capture its output (trimmed). */
static int psql_capture(const struct conn *c, const char *sql, char *out, size_t size)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe(p))
		return -1;
	pid = psql_spawn(c, sql, p[1]);
	close(p[1]);
	while (got + 1 < size && (n = read(p[0], out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	out[got] = '\0';
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	return psql_wait(pid);
}

/* Background processes tracked when no client is connected. */
uint64_t idle_backends;

/* Wait until the backends of previous cases exited and were drained. */
static void settle(struct pgwire *pg)
{
	struct pgwire_stats st;

	for (int i = 0; i < 200; i++) {
		pgwire_drain(pg, on_delta, NULL);
		pgwire_stats(pg, &st);
		if (st.backends <= idle_backends)
			break;
		sleep_ms(25);
	}
	acc_reset();
}

static uint64_t sum_rows(void)
{
	uint64_t s = 0;

	for (size_t i = 0; i < naccs; i++)
		s += accs[i].rows;
	return s;
}

/* One psql query, exact count expected over the backends it used. */
static void case_query_rc(struct pgwire *pg, const char *name, const struct conn *c,
			  const char *sql, uint64_t rows, uint64_t copy_rows, int want_rc)
{
	char what[160];
	int rc;

	settle(pg);
	quiet = want_rc != 0; /* the expected ERROR line */
	rc = psql(c, sql);
	quiet = false;
	CHECK(rc == want_rc, "%s: psql exit %d", name, rc);
	drain_until_exits(pg, 1);
	CHECK_EQ(naccs, 1, "backends used by one psql");
	if (naccs < 1)
		return;
	snprintf(what, sizeof(what), "%s: rows", name);
	CHECK_EQ(accs[0].rows, rows, what);
	snprintf(what, sizeof(what), "%s: copy_rows", name);
	CHECK_EQ(accs[0].copy_rows, copy_rows, what);
	CHECK(!accs[0].unknown, "%s: rows known", name);
	CHECK(accs[0].lost == 0, "%s: no lost sync", name);
	check_title(&accs[0], c, name);
	printf("  %-44s rows %llu copy_rows %llu bytes %llu msgs %llu\n", name,
	       (unsigned long long)accs[0].rows, (unsigned long long)accs[0].copy_rows,
	       (unsigned long long)accs[0].bytes, (unsigned long long)accs[0].msgs);
}

static void case_query(struct pgwire *pg, const char *name, const struct conn *c,
		       const char *sql, uint64_t rows, uint64_t copy_rows)
{
	case_query_rc(pg, name, c, sql, rows, copy_rows, 0);
}

static void case_concurrent(struct pgwire *pg, const char *name, const struct conn *c, int n)
{
	pid_t pids[64];
	uint64_t want = 0;
	bool seen[64] = { false };
	char sql[128];
	int bad = 0;

	settle(pg);
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "select * from t5 limit %d", 10000 + 1000 * i);
		want += 10000 + 1000 * (uint64_t)i;
		pids[i] = psql_spawn(c, sql, -1);
	}
	for (int i = 0; i < n; i++)
		bad += psql_wait(pids[i]) != 0;
	CHECK(bad == 0, "%s: %d psql failed", name, bad);
	drain_until_exits(pg, (size_t)n);
	CHECK_EQ(naccs, n, "concurrent backends");
	CHECK_EQ(sum_rows(), want, name);
	/* each backend got exactly one of the limits */
	for (size_t k = 0; k < naccs; k++) {
		uint64_t r = accs[k].rows;
		bool ok = r >= 10000 && (r - 10000) % 1000 == 0 && (r - 10000) / 1000 < (uint64_t)n &&
			  !seen[(r - 10000) / 1000];

		if (ok)
			seen[(r - 10000) / 1000] = true;
		CHECK(ok && !accs[k].unknown, "%s: backend %u rows %llu", name, accs[k].tgid,
		      (unsigned long long)r);
		check_title(&accs[k], c, name);
	}
	printf("  %-44s %d connections, rows %llu\n", name, n, (unsigned long long)sum_rows());
}

/* Extended query protocol (Parse/Bind/Describe/Execute/Sync): pgbench
 * with a custom script sends nothing else. 2 clients x 100 x 10 rows. */
static void case_pgbench(struct pgwire *pg, const char *mode)
{
	char script[PATH_MAX + 32], name[64];
	FILE *f;
	pid_t pid;
	int rc;

	snprintf(name, sizeof(name), "pgbench -M %s, 2 x 100 x 10 rows", mode);
	snprintf(script, sizeof(script), "%s/pgwire-bench.sql", getenv("PGCLUSTER_DIR"));
	f = fopen(script, "w");
	if (!f) {
		CHECK(0, "%s: cannot write the script", name);
		return;
	}
	fprintf(f, "select * from t5 where id <= 10;\n");
	fclose(f);
	settle(pg);
	pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		setenv("PGHOST", "127.0.0.1", 1);
		setenv("PGSSLMODE", "disable", 1);
		setenv("PGUSER", "alice", 1);
		setenv("PGDATABASE", "vigie", 1);
		execlp("pgbench", "pgbench", "-n", "-M", mode, "-f", script, "-t", "100", "-c", "2",
		       "-j", "1", (char *)NULL);
		_exit(127);
	}
	rc = psql_wait(pid);
	CHECK(rc == 0, "%s: exit %d", name, rc);
	drain_until_exits(pg, 3);
	CHECK_EQ(sum_rows(), 2000, name);
	/* pgbench also opens (and closes) one connection of its own */
	for (size_t k = 0; k < naccs; k++)
		CHECK((accs[k].rows == 1000 || accs[k].rows == 0) && !accs[k].unknown,
		      "%s: backend rows %llu", name, (unsigned long long)accs[k].rows);
	printf("  %-44s rows %llu\n", name, (unsigned long long)sum_rows());
}

static void case_tls(struct pgwire *pg)
{
	struct pgwire_stats st0, st1;
	int rc;

	settle(pg);
	pgwire_stats(pg, &st0);
	rc = psql(&conn_tls, "select * from t5 limit 1000");
	CHECK(rc == 0, "tls: psql exit %d", rc);
	drain_until_exits(pg, 1);
	pgwire_stats(pg, &st1);
	CHECK_EQ(naccs, 1, "tls: backends");
	if (naccs < 1)
		return;
	CHECK(accs[0].encrypted, "tls: connection marked encrypted");
	check_title(&accs[0], &conn_tls, "tls");
	/* the plaintext is walked at be_tls_write (user/pgtls.c) */
	CHECK(!accs[0].unknown, "tls: rows known");
	CHECK_EQ(accs[0].rows, 1000, "tls: rows through TLS");
	CHECK(accs[0].bytes > 1000 * 30, "tls: bytes counted (%llu)",
	      (unsigned long long)accs[0].bytes);
	CHECK_EQ(accs[0].unparsed, 0, "tls: nothing unparsed");
	CHECK_EQ(st1.encrypted_total - st0.encrypted_total, 1, "tls: encrypted connection counted");
	CHECK(st1.tls_writes > st0.tls_writes, "tls: plaintext writes walked");
	printf("  %-44s encrypted, rows %llu, bytes %llu\n", "TLS (sslmode=require)",
	       (unsigned long long)accs[0].rows, (unsigned long long)accs[0].bytes);
}

/* A long query to catch the backend title while it runs. */
void case_title(const struct conn *c, const char *label)
{
	struct pgb_scan s;
	struct pgb_title t;
	bool found = false;
	char out[256], sql[256];
	pid_t q;

	q = psql_spawn(c, "select pg_sleep(1.5)", -1);
	for (int i = 0; i < 40 && !found; i++) {
		sleep_ms(50);
		if (pgb_scan(NULL, &s))
			continue;
		for (size_t k = 0; k < s.n_backends && !found; k++) {
			if (s.backends[k].ppid != cluster_postmaster)
				continue;
			if (pgb_read_title(NULL, s.backends[k].pid, &t) ||
			    strcmp(t.db_user, c->user) != 0 || strstr(t.state, "SELECT") == NULL)
				continue;
			found = true;
			CHECK(strcmp(t.db_name, c->db) == 0, "%s title: db %s", label, t.db_name);
			if (c->host) {
				CHECK(t.family == AF_INET && strcmp(t.client, "127.0.0.1") == 0,
				      "%s title: client %s", label, t.client);
				snprintf(sql, sizeof(sql),
					 "select client_port from pg_stat_activity where pid = %u",
					 s.backends[k].pid);
				if (psql_capture(&conn_admin, sql, out, sizeof(out)) == 0)
					CHECK(strtoul(out, NULL, 10) == t.client_port,
					      "%s title: port %u, pg_stat_activity %s", label,
					      t.client_port, out);
				else
					CHECK(0, "%s: pg_stat_activity query failed", label);
			} else {
				CHECK(t.local && t.family == AF_UNIX && t.client_port == 0,
				      "%s title: local", label);
			}
			printf("  title %-38s user=%s db=%s client=%s port=%u state=%s\n", label,
			       t.db_user, t.db_name, t.client, t.client_port, t.state);
		}
		pgb_scan_free(&s);
	}
	CHECK(found, "%s: backend title found by scan", label);
	psql_wait(q);
}

int setup_db(void)
{
	static const char *const sql[] = {
		"create role alice login",
		"create database vigie owner alice",
	};
	static const char *const sql2[] = {
		"create table t5 (id int primary key, name text, email text, "
		"nir text, balance numeric)",
		"insert into t5 select i, 'advisor ' || i, 'user' || i || '@example.org', "
		"lpad((1000000000000 + i)::text, 15, '0'), i * 1.5 "
		"from generate_series(1, 1000000) i",
		"analyze t5",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if (psql(&conn_admin, sql[i]))
			return -1;
	for (size_t i = 0; i < sizeof(sql2) / sizeof(sql2[0]); i++)
		if (psql(&conn_unix, sql2[i]))
			return -1;
	return 0;
}

uint32_t read_postmaster_pid(void)
{
	char path[PATH_MAX], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/postmaster.pid", getenv("PGDATA"));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return (uint32_t)strtoul(line, NULL, 10);
}

void real_cases(struct pgwire *pg, bool full)
{
	const char *mode = pgwire_probe_name(pg);
	char name[96];

	printf("real cluster (%s probe)\n", mode);
#define NAME(s) (snprintf(name, sizeof(name), "%s [%s]", s, mode), name)
	case_query(pg, NAME("1 row, TCP"), &conn_tcp, "select 1", 1, 0);
	case_query(pg, NAME("1,000,000 rows x 5 columns, TCP"), &conn_tcp, "select * from t5",
		   1000000, 0);
	case_query(pg, NAME("100 rows of 20 KB, TCP"), &conn_tcp,
		   "select i, repeat('x', 20000) from generate_series(1, 100) i", 100, 0);
	case_query(pg, NAME("COPY TO STDOUT 100,000 rows, TCP"), &conn_tcp,
		   "copy (select * from t5 where id <= 100000) to stdout", 100000, 100000);
	if (full) {
		case_query(pg, NAME("1 row, unix"), &conn_unix, "select 1", 1, 0);
		case_query(pg, NAME("1,000,000 rows x 5 columns, unix"), &conn_unix,
			   "select * from t5", 1000000, 0);
		case_query(pg, NAME("10 rows of 1 MB, unix"), &conn_unix,
			   "select repeat(md5(i::text), 32768) from generate_series(1, 10) i", 10, 0);
		case_query(pg, NAME("zero-column rows x 200,000, TCP"), &conn_tcp,
			   "select from generate_series(1, 200000)", 200000, 0);
		case_query(pg, NAME("zero-column rows x 50,000, unix"), &conn_unix,
			   "select from generate_series(1, 50000)", 50000, 0);
		case_query(pg, NAME("COPY t5 TO STDOUT 1,000,000 rows, unix"), &conn_unix,
			   "copy t5 to stdout", 1000000, 1000000);
		case_query(pg, NAME("COPY binary 100,000 rows, TCP"), &conn_tcp,
			   "copy (select * from t5 where id <= 100000) to stdout (format binary)",
			   100000, 100000);
		case_query(pg, NAME("COPY csv header 1,000 rows, TCP"), &conn_tcp,
			   "copy (select * from t5 where id <= 1000) to stdout (format csv, header)",
			   1000, 1000);
		case_query(pg, NAME("two statements, 0 + 12,345 rows, TCP"), &conn_tcp,
			   "select * from t5 where id < 0; select * from t5 where id <= 12345", 12345,
			   0);
		/* the rows before the failing one were sent */
		case_query_rc(pg, NAME("error after 99,999 rows, TCP"), &conn_tcp,
			      "select 1 / (100000 - i) from generate_series(1, 100000) i", 99999, 0,
			      1);
		if (access("/usr/bin/pgbench", X_OK) == 0) {
			case_pgbench(pg, "extended");
			case_pgbench(pg, "prepared");
		}
		case_concurrent(pg, NAME("16 concurrent, TCP"), &conn_tcp, 16);
		case_concurrent(pg, NAME("8 concurrent, unix"), &conn_unix, 8);
	}
	if (getenv("PGCLUSTER_SSL") && strcmp(getenv("PGCLUSTER_SSL"), "1") == 0)
		case_tls(pg);
	else
		printf("  TLS case skipped: no openssl to make a certificate\n");
#undef NAME
}
