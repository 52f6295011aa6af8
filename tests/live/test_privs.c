// SPDX-License-Identifier: GPL-2.0
/*
 * Live: least privilege after start. Once its probes are attached, the
 * daemon keeps CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH only (effective, permitted and bounding sets; none
 * inheritable or ambient), runs with no_new_privs, and says so in
 * sensor-start, as the kernel says in /proc/PID/status. What it still has
 * is what it uses: a PostgreSQL started after it, with TLS, has its rows
 * counted exactly (its programs load at run time; its be_tls_write was
 * hooked at start on the installed executable, since a uprobe needs
 * CAP_SYS_ADMIN); a process of another user is named by its executable
 * (the identity tests run after the drop too).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

/* CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19), CAP_PERFMON (38), CAP_BPF (39) */
#define KEEP_MASK "000000c000080004"

/* The value of "Name:\t..." in /proc/pid/status, into buf. */
static const char *status_field(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64], line[256];
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			char *v = line + n + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(buf, size, "%s", v);
			break;
		}
	}
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	struct vigie v;
	struct events ev;
	char buf[64];
	const char *psql, *port;
	json_t *start, *caps;
	long long rows = 0;

	live_init("privs");
	live_on_cleanup(pgcluster_stop);
	if (vigie_start(&v, NULL, NULL)) {
		CHECK(false, "vigie started");
		return live_finish();
	}

	live_section("the kernel's view of the running daemon");
	ASSERT_EQ_STR(status_field(v.c.pid, "CapEff", buf, sizeof(buf)), KEEP_MASK, "CapEff");
	ASSERT_EQ_STR(status_field(v.c.pid, "CapPrm", buf, sizeof(buf)), KEEP_MASK, "CapPrm");
	ASSERT_EQ_STR(status_field(v.c.pid, "CapBnd", buf, sizeof(buf)), KEEP_MASK, "CapBnd");
	ASSERT_EQ_STR(status_field(v.c.pid, "CapInh", buf, sizeof(buf)), "0000000000000000", "CapInh");
	ASSERT_EQ_STR(status_field(v.c.pid, "CapAmb", buf, sizeof(buf)), "0000000000000000", "CapAmb");
	ASSERT_EQ_STR(status_field(v.c.pid, "NoNewPrivs", buf, sizeof(buf)), "1", "NoNewPrivs");

	live_section("what it still does: a TLS PostgreSQL started after it");
	if (pgcluster_start() || !(port = getenv("PGPORT")) || !(psql = pgcluster_psql())) {
		CHECK(false, "throw-away cluster");
		vigie_stop(&v);
		return live_finish();
	}
	CHECK(live_sh("PGSSLMODE=disable '%s' -X -q -h 127.0.0.1 -p %s -U postgres -d postgres "
		      "-c 'CREATE ROLE priv_tls LOGIN' -c 'GRANT pg_read_all_stats TO priv_tls'",
		      psql, port) == 0, "role priv_tls");
	sleep(2); /* the postmaster is found within a tick or two */
	CHECK(live_sh("PGSSLMODE=require '%s' -X -q -h 127.0.0.1 -p %s -U priv_tls -d postgres "
		      "-c 'SELECT i FROM generate_series(1, 4321) i'", psql, port) == 0,
	      "4,321 rows with sslmode=require");
	sleep(2);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}
	start = events_find(&ev, "sensor-start");
	caps = jpath(start, "vigie.privileges.capabilities");
	ASSERT_EQ_INT(json_array_size(caps), 4, "sensor-start: capabilities kept");
	ASSERT_EQ_STR(json_string_value(json_array_get(caps, 0)), "cap_dac_read_search", "kept 1");
	ASSERT_EQ_STR(json_string_value(json_array_get(caps, 1)), "cap_sys_ptrace", "kept 2");
	ASSERT_EQ_STR(json_string_value(json_array_get(caps, 2)), "cap_perfmon", "kept 3");
	ASSERT_EQ_STR(json_string_value(json_array_get(caps, 3)), "cap_bpf", "kept 4");
	CHECK(json_is_true(jpath(start, "vigie.privileges.no_new_privs")),
	      "sensor-start: no_new_privs true");
	for (size_t i = 0; i < ev.n; i++) {
		const char *u = jstr(ev.ev[i], "vigie.db_user"), *a = jstr(ev.ev[i], "event.action");

		if (u && !strcmp(u, "priv_tls") && a && !strcmp(a, "usage"))
			rows += jint(ev.ev[i], "vigie.rows", -1000000);
	}
	ASSERT_EQ_INT(rows, 4321, "rows through TLS of a server started after the drop");
	if (rows != 4321) {
		char *log = live_read_file(v.err_path, NULL);

		printf("  ..    vigie's log:\n%s", log ? log : "(none)\n");
		free(log);
	}
	CHECK(jint(events_find(&ev, "sensor-stop"), "vigie.stats.postgres.tls_hooked_executables", 0) ==
		      1, "be_tls_write of the installed executable hooked (at start)");
	events_free(&ev);
	return live_finish();
}
