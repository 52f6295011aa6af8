// SPDX-License-Identifier: GPL-2.0
/*
 * Live test of PostgreSQL row counting (bpf/pgwire.bpf.c, user/pgwire.c,
 * user/pgbackend.c). Root only: loads the real probes.
 *
 * Part 1, synthetic: a fake postmaster (a child of this test, registered
 * as a postmaster) forks "backends" that send crafted protocol streams
 * over socket pairs: split headers, one byte at a time, binary COPY
 * trailers, garbage (lost sync, then resync), TLS, a foreign socket.
 * Part 2, real: a throw-away cluster (tests/lib/pgcluster.sh) queried with
 * psql over TCP, the unix socket and TLS, asserting exact row counts and
 * the attribution read from backend titles.
 * Both parts run with the sock probe, then part 1 and a subset of part 2
 * with the syscall probe.
 * This file: main (the runs in that order, and the sessions connected
 * before tracking starts) and --hold; part 1 is tests/live/pgwire/
 * synthetic.c, part 2's cases tests/live/pgwire/real_cluster.c, the
 * deltas they check tests/live/pgwire/deltas.c.
 *
 * Exit 0 pass, 1 fail, 77 cannot run (not root, no BTF, no PostgreSQL).
 * Usage: live_pgwire [--hold SECONDS [auto|sock|syscall [POSTMASTER_PID]]]
 * (--hold: only attach row counting to every running PostgreSQL, or to the
 * one postmaster given, for SECONDS or until SIGINT/SIGTERM, and print the
 * totals; used by tools/bench-pgwire.sh)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "base/log.h"
#include "lib/live.h"
#include "postgres/pgbackend.h"
#include "postgres/pgwire.h"
#include "pgwire/pgwire_test.h"

static void on_signal(int sig)
{
	pgcluster_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A psql session connected before the probes: joins mid-stream. */
struct session {
	FILE *in;
	pid_t pid;
};

static int session_open(struct session *s, const struct conn *c)
{
	int p[2];

	if (pipe(p))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if (dn >= 0)
			dup2(dn, 1);
		if (c->host)
			setenv("PGHOST", c->host, 1);
		setenv("PGSSLMODE", "disable", 1);
		setenv("PGUSER", c->user, 1);
		setenv("PGDATABASE", c->db, 1);
		execlp("psql", "psql", "-X", "-q", "-A", "-t", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	s->in = fdopen(p[1], "w");
	return s->in ? 0 : -1;
}

static volatile sig_atomic_t hold_stop;

static void on_hold_signal(int sig)
{
	(void)sig;
	hold_stop = 1;
}

/* Track one postmaster (and its running backends) only. */
static int track_one(struct pgwire *pg, uint32_t pm)
{
	struct pgb_scan scan;

	if (pgwire_add_postmaster(pg, pm))
		return 0;
	if (pgb_scan(NULL, &scan) == 0) {
		for (size_t i = 0; i < scan.n_backends; i++)
			if (scan.backends[i].ppid == pm)
				pgwire_add_backend(pg, scan.backends[i].pid);
		pgb_scan_free(&scan);
	}
	return 1;
}

static int hold(int seconds, const char *probe, uint32_t only)
{
	struct pgwire_opts opts = { .probe = PGWIRE_PROBE_AUTO };
	struct pgwire *pg;
	int n, stats_fd;

	if (probe && strcmp(probe, "sock") == 0)
		opts.probe = PGWIRE_PROBE_SOCK;
	else if (probe && strcmp(probe, "syscall") == 0)
		opts.probe = PGWIRE_PROBE_SYSCALL;

	signal(SIGINT, on_hold_signal);
	signal(SIGTERM, on_hold_signal);

	pg = pgwire_start(&opts);
	if (!pg)
		return 1;
	n = only ? track_one(pg, only) : pgwire_scan(pg);
	/* run time statistics of our program only while we hold this fd
	 * (reference counted: does not disturb anyone else) */
	stats_fd = getenv("PGWIRE_PROG_STATS") ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
	fprintf(stderr, "pgwire: %d postmaster(s), %s probe, holding %d s\n", n,
		pgwire_probe_name(pg), seconds);
	for (int i = 0; i < seconds * 10 && !hold_stop; i++) {
		pgwire_drain(pg, on_delta, NULL);
		sleep_ms(100);
	}
	pgwire_drain(pg, on_delta, NULL);
	uint64_t rows = 0, bytes = 0;

	for (size_t i = 0; i < naccs; i++) {
		rows += accs[i].rows;
		bytes += accs[i].bytes;
	}
	printf("rows %llu bytes %llu backends %zu\n", (unsigned long long)rows,
	       (unsigned long long)bytes, naccs);
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		printf("tls_writes %llu\n", (unsigned long long)st.tls_writes);
	}
	if (stats_fd >= 0) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(pgwire_send_prog_fd(pg), &info, &len) == 0)
			printf("prog run_time_ns %llu run_cnt %llu\n",
			       (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(pgwire_tls_prog_fd(pg), &info, &len) == 0)
			printf("tls_prog run_time_ns %llu run_cnt %llu\n",
			       (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		close(stats_fd);
	}
	pgwire_stop(pg);
	return 0;
}

int main(int argc, char **argv)
{
	struct pgwire_opts sys_opts = { .probe = PGWIRE_PROBE_SYSCALL };
	struct pgwire *pg = NULL;
	struct session sess = { NULL, -1 }, busy = { NULL, -1 };
	struct pgb_scan scan;
	struct timespec t0, t1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(getenv("VIGIE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	log_route_libbpf();
	if (geteuid() != 0) {
		printf("SKIP: live_pgwire needs root\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("SKIP: no kernel BTF (/sys/kernel/btf/vmlinux)\n");
		return 77;
	}
	if (argc >= 3 && strcmp(argv[1], "--hold") == 0)
		return hold(atoi(argv[2]), argc > 3 ? argv[3] : NULL,
			    argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* part 1 does not need PostgreSQL */
	pg = pgwire_start(NULL);
	if (!pg) {
		printf("FAIL: pgwire_start\n0 passed, 1 failed\n");
		return 1;
	}
	CHECK(strcmp(pgwire_probe_name(pg), "sock") == 0, "auto probe is sock on this kernel: %s",
	      pgwire_probe_name(pg));
	synthetic_streams(pg, pgwire_probe_name(pg));

	if (access(live_source_path("tests/lib/pgcluster.sh"), X_OK) ||
	    access("/usr/bin/psql", X_OK) != 0) {
		printf("SKIP part 2: no tests/lib/pgcluster.sh or psql\n");
		goto done;
	}
	atexit(pgcluster_stop);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (pgcluster_start()) {
		CHECK(0, "throw-away cluster did not start");
		goto done;
	}
	cluster_postmaster = read_postmaster_pid();
	CHECK(cluster_postmaster != 0, "postmaster pid");
	if (setup_db()) {
		CHECK(0, "database setup failed");
		goto done;
	}

	/* a session connected before tracking starts (restart the probes) */
	pgwire_stop(pg);
	pg = NULL;
	if (session_open(&sess, &conn_tcp) == 0) {
		fprintf(sess.in, "select 1;\n");
		fflush(sess.in);
	}
	/* and one busy sending a 1,000,000-row result when tracking starts */
	if (session_open(&busy, &conn_unix) == 0) {
		fprintf(busy.in, "select 1;\n");
		fflush(busy.in);
	}
	sleep_ms(500);
	if (busy.in) {
		fprintf(busy.in, "select * from t5;\n");
		fflush(busy.in);
		sleep_ms(300);
	}
	pg = pgwire_start(NULL);
	if (!pg) {
		CHECK(0, "pgwire_start");
		goto done;
	}
	/* what pgwire_scan does, limited to our cluster */
	CHECK(pgb_scan(NULL, &scan) == 0, "pgb_scan");
	{
		bool pm = false;
		size_t nb = 0;

		for (size_t i = 0; i < scan.n_postmasters; i++)
			pm |= scan.postmasters[i] == cluster_postmaster;
		CHECK(pm, "scan finds the postmaster %u", cluster_postmaster);
		CHECK(pgwire_add_postmaster(pg, cluster_postmaster) == 0, "add postmaster");
		for (size_t i = 0; i < scan.n_backends; i++) {
			if (scan.backends[i].ppid != cluster_postmaster)
				continue;
			CHECK(pgwire_add_backend(pg, scan.backends[i].pid) == 0, "add backend");
			nb++;
		}
		/* checkpointer, bgwriter, walwriter, launcher, our sessions */
		CHECK(nb >= 6, "scan finds the running backends (%zu)", nb);
		pgb_scan_free(&scan);
	}
	/* deltas accumulate from here for both sessions */
	acc_reset();
	if (sess.in) {
		fprintf(sess.in, "select * from t5 limit 5000;\n\\q\n");
		fclose(sess.in);
		psql_wait(sess.pid);
		drain_until_exits(pg, 1);
		struct acc *a = NULL;

		/* the TCP one (the busy one is on the unix socket) */
		for (size_t i = 0; i < naccs; i++)
			if (accs[i].title_ok && !accs[i].title.local && accs[i].exited)
				a = &accs[i];
		CHECK(a != NULL, "mid-stream session reported");
		if (a) {
			CHECK_EQ(a->rows, 5000, "mid-stream session: rows after resync");
			CHECK_EQ(a->resyncs, 1, "mid-stream session: resyncs");
			CHECK(a->midstream, "mid-stream flag");
			printf("  %-44s rows %llu (joined at the next result)\n",
			       "session connected before start", (unsigned long long)a->rows);
		}
	}
	if (busy.in) {
		struct acc *a = NULL;

		fprintf(busy.in, "select * from t5 limit 7777;\n\\q\n");
		fclose(busy.in);
		psql_wait(busy.pid);
		drain_until_exits(pg, 2);
		for (size_t i = 0; i < naccs; i++)
			if (accs[i].title_ok && accs[i].title.local && accs[i].exited)
				a = &accs[i];
		CHECK(a != NULL, "busy session reported");
		if (a) {
			/* the rest of the 1,000,000-row result is not walked
			 * (unparsed, rows unknown), the next result is */
			CHECK_EQ(a->rows, 7777, "busy session: rows after resync");
			CHECK_EQ(a->resyncs, 1, "busy session: resyncs");
			printf("  %-44s rows %llu, %llu bytes unparsed before the resync\n",
			       "session busy at start", (unsigned long long)a->rows,
			       (unsigned long long)a->unparsed);
			if (a->unparsed > 0)
				CHECK(a->unknown, "busy session: rows unknown while unsynced");
			else
				printf("  (the busy result ended before tracking started)\n");
		}
	}
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		idle_backends = st.backends;
	}
	case_title(&conn_tcp, "TCP");
	case_title(&conn_unix, "unix");
	real_cases(pg, true);

	/* syscall probe */
	pgwire_stop(pg);
	pg = pgwire_start(&sys_opts);
	if (!pg) {
		CHECK(0, "pgwire_start(syscall)");
		goto done;
	}
	CHECK(strcmp(pgwire_probe_name(pg), "syscall") == 0, "syscall probe");
	synthetic_streams(pg, "syscall");
	CHECK(pgwire_add_postmaster(pg, cluster_postmaster) == 0, "add postmaster");
	idle_backends = 0; /* background processes not added this time */
	real_cases(pg, false);
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		printf("stats (syscall run): backends %llu forks %llu sends %llu lost %llu "
		       "resyncs %llu encrypted %llu loop_caps %llu read_fails %llu foreign %llu\n",
		       (unsigned long long)st.backends, (unsigned long long)st.forks,
		       (unsigned long long)st.sends, (unsigned long long)st.lost_syncs,
		       (unsigned long long)st.resyncs, (unsigned long long)st.encrypted_total,
		       (unsigned long long)st.loop_caps, (unsigned long long)st.read_fails,
		       (unsigned long long)st.foreign_sends);
		CHECK(st.loop_caps == 0 && st.read_fails == 0, "no loop cap, no read failure");
	}

done:
	pgwire_stop(pg);
	pgcluster_stop();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("time %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
					 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("%d passed, %d failed\n", live_passed, live_failed);
	return live_failed ? 1 : 0;
}
