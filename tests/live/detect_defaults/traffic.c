// SPDX-License-Identifier: GPL-2.0
/*
 * live_detect_defaults: the traffic. A throw-away PostgreSQL cluster on a
 * random port, queried with its own psql over TCP; the honest roles' loops
 * (a forked process each, until the stop file exists); the new role's
 * extraction, a psql script on a schedule.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "detect_defaults_test.h"

const char *pg_port;
char psql_bin[PATH_MAX];
char stop_file[PATH_MAX];

/* ---- PostgreSQL ------------------------------------------------------ */

bool cluster_start(void)
{
	const char *bin;

	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start())
		return false;
	pg_port = getenv("PGPORT");
	bin = getenv("PGCLUSTER_BIN");
	if (!pg_port || !bin)
		return false;
	/* the real binary, not Debian's pg_wrapper (a Perl script per run) */
	snprintf(psql_bin, sizeof(psql_bin), "%s/psql", bin);
	/* plain connections: rows of TLS connections are not counted */
	setenv("PGSSLMODE", "disable", 1);
	unsetenv("PGPASSWORD");
	return access(psql_bin, X_OK) == 0;
}

bool setup_sql(void)
{
	/* rows of about 700 bytes on the wire (5 columns, a 640-byte note) */
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d postgres "
		       "-c \"CREATE TABLE records (id int PRIMARY KEY, nir text, name text, "
		       "city text, note text); INSERT INTO records SELECT i, lpad(i::text, 13, '0'), "
		       "'Person ' || i, 'City ' || (i %% 97), rpad(md5(i::text), 640, md5((i+1)::text)) "
		       "FROM generate_series(1, %d) i; DO \\$\\$ BEGIN FOR i IN 1..%d LOOP "
		       "EXECUTE format('CREATE ROLE clerk%%s LOGIN', lpad(i::text, 2, '0')); "
		       "EXECUTE format('GRANT SELECT ON records TO clerk%%s', lpad(i::text, 2, '0')); "
		       "END LOOP; END \\$\\$; CREATE ROLE " NEW_ROLE " LOGIN; "
		       "GRANT SELECT ON records TO " NEW_ROLE ";\"",
		       psql_bin, pg_port, TABLE_ROWS, N_ROLES) == 0;
}

/* psql as role over TCP (127.0.0.1), output discarded: exit status. */
static int run_psql(const char *role, const char *sql)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(psql_bin, "psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", pg_port, "-U",
		      role, "-d", "postgres", "-c", sql, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the honest roles: a forked loop each ----------------------------- */

static bool stopped(void)
{
	return access(stop_file, F_OK) == 0;
}

/* Sleep ms, by 100 ms slices, returning early when the stop file exists. */
static void nap(unsigned ms)
{
	while (ms && !stopped()) {
		unsigned n = ms < 100 ? ms : 100;

		usleep(n * 1000);
		ms -= n;
	}
}

int honest_loop(void *arg)
{
	struct role *r = arg;
	unsigned long long rows = 0, queries = 0, failures = 0;
	unsigned seed = r->seed;
	char path[PATH_MAX], sql[160];
	FILE *f;

	nap(rand_r(&seed) % 4000); /* not all in step */
	while (!stopped()) {
		unsigned k = 1 + (unsigned)rand_r(&seed) % 5;
		unsigned first = 1 + (unsigned)rand_r(&seed) % (TABLE_ROWS - 5);

		snprintf(sql, sizeof(sql), "SELECT * FROM records WHERE id BETWEEN %u AND %u", first,
			 first + k - 1);
		if (run_psql(r->name, sql) == 0) {
			rows += k;
			queries++;
		} else {
			failures++;
		}
		nap(2000 + (unsigned)rand_r(&seed) % 4001);
	}
	snprintf(path, sizeof(path), "%s/%s.count", live_tmpdir(), r->name);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%llu %llu %llu\n", rows, queries, failures);
	return fclose(f) ? 1 : 0;
}

void honest_collect(struct role *r)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.count", live_tmpdir(), r->name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu %llu %llu", &r->rows, &r->queries, &r->failures) != 3)
		r->failures = ~0ull;
	if (f)
		fclose(f);
}

/* The extraction: one psql session running a script, 30 records every
 * 0.2 s on a schedule (pg_sleep until the next slot). Expected rows on the
 * wire: records + one pg_sleep row per batch + the \gset row. */
char *extraction_script(unsigned long long *rows)
{
	int batches = EXT_SECONDS * EXT_BATCHES_PER_S, per = EXT_ROWS_PER_S / EXT_BATCHES_PER_S;
	char *path = live_path("extract.sql");
	FILE *f = fopen(path, "w");

	if (!f)
		return NULL;
	fprintf(f, "SELECT extract(epoch FROM clock_timestamp()) AS t0 \\gset\n");
	for (int i = 0; i < batches; i++) {
		fprintf(f, "SELECT * FROM records WHERE id BETWEEN %d AND %d;\n", i * per + 1,
			(i + 1) * per);
		fprintf(f, "SELECT pg_sleep(:t0 + %.3f - extract(epoch FROM clock_timestamp()));\n",
			(i + 1) / (double)EXT_BATCHES_PER_S);
	}
	if (fclose(f))
		return NULL;
	*rows = (unsigned long long)batches * (unsigned long long)per + (unsigned long long)batches + 1;
	return path;
}
