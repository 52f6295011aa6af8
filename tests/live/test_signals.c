// SPDX-License-Identifier: GPL-2.0
/*
 * Live: faults a daemon meets in the field (issue 11, item 2).
 * - 1,000 SIGHUPs (a logrotate gone wild) while 5,000,000 bytes go to a
 *   netns peer: the bytes are exact, no line is broken, nothing is lost,
 *   and the daemon holds the same number of files before and after.
 * - SIGKILL during the save of a 4 MB detection state (2,900 principals,
 *   from a replayed day), at varied moments after SIGTERM, six times: each
 *   restart loads a whole state with every principal (the file is either
 *   the old or the new one, never half), and leaves no temporary behind.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/live.h"

#define BYTES 5000000

static void sighup_storm(void)
{
	struct spawn_opts in_ns = { 0 };
	struct netns ns;
	struct child sink;
	struct vigie v;
	struct events ev;
	char port[16], bytes[16];
	long long sent = -1;
	pid_t sender = 0, hupper;
	int before, after, port_n;
	json_t *stop;

	live_section("1,000 SIGHUPs during a 5 MB send");
	if (netns_create(&ns, "sig", 77)) {
		CHECK(false, "network namespace");
		return;
	}
	in_ns.netns = ns.name;
	port_n = tg_server(&sink, &in_ns, "sink", "0", NULL);
	if (port_n < 0 || vigie_start(&v, NULL, NULL)) {
		CHECK(false, "sink and vigie started");
		return;
	}
	before = live_count_fds(v.c.pid);
	hupper = fork();
	if (hupper == 0) {
		for (int i = 0; i < 1000; i++) {
			kill(v.c.pid, SIGHUP);
			usleep(1000);
		}
		_exit(0);
	}
	snprintf(port, sizeof(port), "%d", port_n);
	snprintf(bytes, sizeof(bytes), "%d", BYTES);
	CHECK(tg_run(&sender, &sent, NULL, "send", ns.ns_ip, port, bytes, "1000", NULL) == 0 &&
		      sent == BYTES, "5,000,000 bytes sent during the storm");
	waitpid(hupper, NULL, 0);
	usleep(1500 * 1000);
	after = live_count_fds(v.c.pid);
	CHECK(before > 0 && after == before, "vigie's open files before and after: %d, %d", before,
	      after);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return;
	}
	ASSERT_EQ_U64(ev.bad_lines, 0, "lines that are not whole JSON events");
	ASSERT_EQ_U64(usage_bytes(&ev, sender, "egress", NULL), BYTES, "egress bytes, exact");
	stop = events_find(&ev, "sensor-stop");
	ASSERT_EQ_INT(jint(stop, "vigie.stats.output.events_lost", -1), 0, "events lost");
	events_free(&ev);
	child_wait(&sink, 5000);
}

static int count_temporaries(const char *state)
{
	char pattern[600];
	glob_t g;
	int n;

	snprintf(pattern, sizeof(pattern), "%s.tmp.*", state);
	n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	globfree(&g);
	return n;
}

/* The principals of a state file as a set: "kind/id" -> true. */
static json_t *state_principals(const char *state)
{
	char *all = live_read_file(state, NULL);
	json_t *j = all ? json_loads(all, 0, NULL) : NULL, *set = json_object(), *p;
	size_t i;

	json_array_foreach(json_object_get(j, "principals"), i, p) {
		char key[600];

		snprintf(key, sizeof(key), "%s/%s", jstr(p, "kind") ? jstr(p, "kind") : "?",
			 jstr(p, "id") ? jstr(p, "id") : "?");
		json_object_set_new(set, key, json_true());
	}
	json_decref(j);
	free(all);
	return set;
}

static void kill_during_save(void)
{
	char *trace = live_path("day.trace.gz"), *state = live_path("state.json"), *err;
	int hits = 0, whole = 0, clean = 0;
	long long want, kept = 0;
	json_t *before, *after, *one;
	const char *key;

	live_section("SIGKILL while the state is saved, six times");
	CHECK(live_sh("'%s' -o '%s' --days 1 --advisors 3000", live_tool("tracegen"), trace) == 0,
	      "a generated day of 3,000 advisors");
	CHECK(live_sh("'%s' replay --state '%s' '%s'", live_vigie_bin(), state, trace) == 0,
	      "its replayed state");
	before = state_principals(state);
	want = (long long)json_object_size(before);
	CHECK(want > 2000, "principals in the state: %lld", want);
	for (int round = 0; round < 6; round++) {
		struct vigie v;
		int st;

		if (vigie_start(&v, NULL, "--state", state, NULL)) {
			CHECK(false, "round %d: vigie started", round);
			break;
		}
		kill(v.c.pid, SIGTERM);
		usleep((useconds_t)(5000 + round * 25000)); /* 5 to 130 ms */
		kill(v.c.pid, SIGKILL);
		vigie_stop(&v);
		hits += count_temporaries(state) > 0;
		/* the next start: the state whole, every principal back */
		st = vigie_exec(NULL, &err, 30000, "run", "--duration", "1", "-o", "/dev/null",
				"--state", state, NULL);
		whole += st == 0 && err && !strstr(err, "refused") &&
			 !strstr(err, "previous save");
		clean += count_temporaries(state) == 0;
		if (st != 0 || !err || strstr(err, "refused"))
			printf("  ..    round %d: exit %d: %s\n", round, st, err ? err : "");
		free(err);
	}
	ASSERT_EQ_INT(whole, 6, "restarts that loaded a whole state");
	ASSERT_EQ_INT(clean, 6, "restarts that left no temporary file");
	printf("  ..    %d of 6 kills landed during the save (a temporary was left)\n", hits);
	/* every replayed principal is still there; the live runs may add the
	 * host's own (whatever else runs on the machine) */
	after = state_principals(state);
	json_object_foreach(before, key, one)
		kept += json_object_get(after, key) != NULL;
	ASSERT_EQ_INT(kept, want, "replayed principals still in the state after it all");
	printf("  ..    %zu principals in the state after it all (%lld replayed)\n",
	       json_object_size(after), want);
	json_decref(before);
	json_decref(after);
	free(trace);
	free(state);
}

int main(void)
{
	live_init("signals");
	sighup_storm();
	kill_during_save();
	return live_finish();
}
