// SPDX-License-Identifier: GPL-2.0
/*
 * Live: events to a real rsyslog (Debian's rsyslogd, started by the test
 * on 127.0.0.1:10514 with imtcp, writing each message's text to a file).
 * Every event of the -o file reaches the collector, the same JSON in the
 * same order; the collector stopped for 20 s mid-stream and started again
 * loses nothing (the events wait in memory); a collector that never
 * answers fills the queue to its bound, and sensor-stop's counts add up
 * exactly (sent + queued + dropped = events emitted); with a disk spool,
 * a collector down while the daemon is stopped and started again loses
 * nothing either: the first run's events (spilled beyond a 64 KB memory
 * queue, then kept at stop) reach the collector first, in order, then the
 * second run's.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

#define PORT "10514"

static char dir[512], conf[600], pidf[600], received[600];

static int rsyslog_start(void)
{
	return live_sh("rsyslogd -f '%s' -i '%s'", conf, pidf);
}

static void rsyslog_stop(void)
{
	if (pidf[0])
		live_sh("test -f '%s' && kill $(cat '%s'); for i in $(seq 50); do "
			"test -f '%s' || break; sleep 0.1; done", pidf, pidf, pidf);
}

/* Lines of a file, NULL-terminated array (malloc'ed), *n their count. */
static char **lines_of(const char *path, size_t *n)
{
	char *all = live_read_file(path, NULL), *save = NULL, *l;
	char **v = calloc(100000, sizeof(*v));

	*n = 0;
	for (l = all ? strtok_r(all, "\n", &save) : NULL; l && *n < 99999;
	     l = strtok_r(NULL, "\n", &save))
		v[(*n)++] = strdup(l);
	free(all);
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool among(char **v, size_t n, const char *l)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], l))
			return true;
	return false;
}

/* The collector's lines against the -o file's: every event arrived, the
 * first arrivals in the file's order; a line seen again is one the daemon
 * wrote again after the collector reset the connection (at most resent).
 * Returns how many lines came twice. */
static size_t check_delivery(const char *file, long long resent, size_t at_least)
{
	size_t nf = 0, nr = 0, missing = 0, in_order = 0, twice = 0, stray = 0;
	char **fl = lines_of(file, &nf), **rl = lines_of(received, &nr);

	for (size_t i = 0; i < nf; i++)
		missing += !among(rl, nr, fl[i]);
	for (size_t i = 0; i < nr; i++) {
		if (among(rl, i, rl[i]))
			twice++;
		else if (in_order < nf && !strcmp(rl[i], fl[in_order]))
			in_order++;
		else
			stray++;
	}
	CHECK(nf >= at_least, "events in the -o file: %zu (heartbeats every 0.2 s: %zu at least)",
	      nf, at_least);
	ASSERT_EQ_INT(missing, 0, "events of the file the collector never received");
	ASSERT_EQ_INT(in_order, nf, "events received in the file's order (first arrivals)");
	ASSERT_EQ_INT(stray, 0, "lines the file does not have, or out of order");
	CHECK(resent >= 0 && twice <= (size_t)resent,
	      "lines received twice (%zu) are events written again (%lld)", twice, resent);
	free_lines(fl, nf);
	free_lines(rl, nr);
	return twice;
}

/* vigie.stats.syslog.resent in the sensor-stop event of path; -1 if none. */
static long long stop_resent(const char *path)
{
	struct events ev;
	long long n;

	if (events_load(&ev, path))
		return -1;
	n = jint(events_find_last(&ev, "sensor-stop"), "vigie.stats.syslog.resent", -1);
	events_free(&ev);
	return n;
}

/* The collector stopped mid-stream, then started again: by SIGTERM (it
 * may close with bytes unread), for 20 s, the events waiting in memory; or
 * frozen for 1 s with events arriving, then killed (it does close with
 * bytes unread: the kernel resets the connection, and those events must
 * be written again), for 2 s. */
static void collector_outage(bool frozen_then_killed)
{
	struct vigie v;
	long long resent;
	size_t twice;

	live_section(frozen_then_killed
			     ? "rsyslog frozen 1 s, killed with events unread, back 2 s later"
			     : "rsyslog on 127.0.0.1:" PORT ", stopped for 20 s mid-stream");
	live_sh("rm -f '%s'", received);
	if (rsyslog_start()) {
		CHECK(false, "rsyslogd started");
		return;
	}
	sleep(1);
	if (vigie_start(&v, "{\"sensor\": {\"syslog\": \"tcp://127.0.0.1:" PORT "\"}}",
			"--heartbeat", "0.2", "--tick", "0.1", NULL)) {
		CHECK(false, "vigie started");
		return;
	}
	sleep(3);
	if (frozen_then_killed) {
		live_sh("kill -STOP $(cat '%s'); sleep 1; kill -KILL $(cat '%s'); "
			"for i in $(seq 50); do kill -0 $(cat '%s') 2>/dev/null || break; "
			"sleep 0.1; done; rm -f '%s'", pidf, pidf, pidf, pidf);
	} else {
		rsyslog_stop();
	}
	sleep(frozen_then_killed ? 2 : 20);
	{
		size_t before = 0, now = 0;

		free_lines(lines_of(received, &before), before);
		CHECK(rsyslog_start() == 0, "rsyslogd started again");
		/* reconnected (the backoff is at most 5 s): the waiting events arrive */
		for (int i = 0; i < 100 && now <= before; i++) {
			usleep(100 * 1000);
			free_lines(lines_of(received, &now), now);
		}
		sleep(1);
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	sleep(1);
	rsyslog_stop();
	resent = stop_resent(v.out_path);
	/* heartbeats every 0.2 s for about 25 s or 7 s */
	twice = check_delivery(v.out_path, resent, frozen_then_killed ? 30 : 100);
	if (frozen_then_killed)
		CHECK(resent >= 4 && resent <= 30,
		      "events written again: %lld (those of the frozen second at least, "
		      "those of the last 5 s at most; %zu of them had arrived)",
		      resent, twice);
}

static char *metrics_scrape(void)
{
	char *path = live_path("metrics.txt"), *text;

	live_sh("curl -s -o '%s' http://127.0.0.1:19464/metrics", path);
	text = live_read_file(path, NULL);
	free(path);
	return text;
}

/* The value of an unlabelled sample in the exposition text; -1 if absent. */
static double metric(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ' ')
			return atof(l + n + 1);
	return -1;
}

static void collector_never_back(void)
{
	struct vigie v;
	struct events ev;
	json_t *stop;
	long long sent, queued, dropped;

	live_section("a collector that never answers, a 64 KB queue");
	if (vigie_start(&v, "{\"sensor\": {\"syslog\": \"tcp://127.0.0.1:10515\", "
			    "\"syslog_queue_bytes\": 65536, \"metrics_listen\": \"127.0.0.1:19464\"}}",
			"--heartbeat", "0.05", "--tick", "0.05", NULL)) {
		CHECK(false, "vigie started");
		return;
	}
	/* heartbeats of ~1.4 KB every 0.05 s pass 64 KB in about 2.5 s; on a
	 * loaded machine later: wait for the first drop, up to 30 s */
	for (int i = 0; i < 150; i++) {
		char *m = metrics_scrape();
		double d = metric(m, "vigie_syslog_dropped_total");

		free(m);
		if (d > 0)
			break;
		usleep(200 * 1000);
	}
	{
		/* the same figures on the metrics endpoint */
		char *m = metrics_scrape();
		double depth = metric(m, "vigie_output_queue_depth"),
		       qb = metric(m, "vigie_syslog_queued_bytes");

		ASSERT_EQ_INT((long long)metric(m, "vigie_syslog_sent_total"), 0, "metrics: sent");
		CHECK(metric(m, "vigie_syslog_dropped_total") > 0, "metrics: dropped %g",
		      metric(m, "vigie_syslog_dropped_total"));
		CHECK(depth > 0 && qb > 0 && qb <= 65536, "metrics: %g events waiting, %g bytes", depth,
		      qb);
		free(m);
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return;
	}
	stop = events_find_last(&ev, "sensor-stop");
	sent = jint(stop, "vigie.stats.syslog.sent", -1);
	queued = jint(stop, "vigie.stats.syslog.queued", -1);
	dropped = jint(stop, "vigie.stats.syslog.dropped", -1);
	ASSERT_EQ_INT(sent, 0, "sent");
	CHECK(dropped > 0, "dropped beyond the bound, counted: %lld", dropped);
	CHECK(queued > 0 && queued * 1000 <= 65536, "queued within 64 KB: %lld", queued);
	ASSERT_EQ_INT(sent + queued + dropped, (long long)ev.n - 1,
		      "sent + queued + dropped = events before sensor-stop");
	events_free(&ev);
}

/* The most events spilled to the spool that a heartbeat of the file PATH
 * counts (0: none yet). */
static long long heartbeat_spooled(const char *path)
{
	struct events ev;
	long long most = 0;

	if (events_load(&ev, path))
		return 0;
	for (size_t i = 0; i < ev.n; i++) {
		const char *a = jstr(ev.ev[i], "event.action");
		long long n = jint(ev.ev[i], "vigie.stats.syslog.spooled", 0);

		if (a && !strcmp(a, "heartbeat") && n > most)
			most = n;
	}
	events_free(&ev);
	return most;
}

static void spool_across_restart(void)
{
	char cfg[1024], *spool = live_path("spool/syslog.spool"), *out1 = live_path("run1.ndjson");
	struct vigie v;
	struct events ev;
	json_t *stop;
	size_t n1 = 0, n2 = 0, nr = 0, same = 0;
	char **l1, **l2, **rl;

	live_section("collector down, a 64 KB memory queue, a disk spool, the daemon restarted");
	live_sh("mkdir -p '%s/spool' && rm -f '%s'", live_tmpdir(), received);
	snprintf(cfg, sizeof(cfg), "{\"sensor\": {\"syslog\": \"tcp://127.0.0.1:" PORT "\", "
		 "\"syslog_queue_bytes\": 65536, \"syslog_spool\": \"%s\", "
		 "\"syslog_spool_bytes\": 4194304}}", spool);
	if (vigie_start_at(&v, out1, cfg, "--heartbeat", "0.05", "--tick", "0.05", NULL)) {
		CHECK(false, "vigie started");
		goto out;
	}
	/* heartbeats of ~1.4 KB every 0.05 s pass the memory queue in about
	 * 2.5 s; on a loaded machine later: wait for one that says 20 events
	 * went to the spool, up to 30 s */
	for (int i = 0; i < 150 && heartbeat_spooled(out1) < 20; i++)
		usleep(200 * 1000);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "first run: exit status");
	if (events_load(&ev, out1) == 0) {
		long long sent, queued, spooled, dropped, hb_spooled = 0;

		for (size_t i = 0; i < ev.n; i++) {
			const char *a = jstr(ev.ev[i], "event.action");

			if (a && !strcmp(a, "heartbeat"))
				hb_spooled = jint(ev.ev[i], "vigie.stats.syslog.spooled", 0) > hb_spooled ?
						     jint(ev.ev[i], "vigie.stats.syslog.spooled", 0) :
						     hb_spooled;
		}
		stop = events_find_last(&ev, "sensor-stop");
		sent = jint(stop, "vigie.stats.syslog.sent", -1);
		queued = jint(stop, "vigie.stats.syslog.queued", -1);
		spooled = jint(stop, "vigie.stats.syslog.spooled", -1);
		dropped = jint(stop, "vigie.stats.syslog.dropped", -1);
		ASSERT_EQ_INT(sent, 0, "first run: sent");
		ASSERT_EQ_INT(dropped, 0, "first run: nothing dropped");
		CHECK(hb_spooled > 0, "first run: heartbeats show events spilled to disk (%lld)",
		      hb_spooled);
		ASSERT_EQ_INT(queued + spooled, (long long)ev.n - 1,
			      "first run: queued + spooled = events before sensor-stop");
		events_free(&ev);
	} else {
		CHECK(false, "first run: events loaded");
	}
	if (rsyslog_start()) {
		CHECK(false, "rsyslogd started");
		goto out;
	}
	sleep(1);
	if (vigie_start(&v, cfg, "--heartbeat", "0.5", "--tick", "0.1", NULL)) {
		CHECK(false, "vigie started again");
		goto out;
	}
	sleep(3);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "second run: exit status");
	sleep(1);
	rsyslog_stop();
	l1 = lines_of(out1, &n1);
	l2 = lines_of(v.out_path, &n2);
	rl = lines_of(received, &nr);
	for (size_t i = 0; i < nr; i++)
		same += i < n1 ? !strcmp(rl[i], l1[i]) : i - n1 < n2 && !strcmp(rl[i], l2[i - n1]);
	CHECK(n1 > 50 && n2 > 5, "events: %zu in the first run, %zu in the second", n1, n2);
	ASSERT_EQ_INT(nr, n1 + n2, "events the collector received = both runs' events");
	ASSERT_EQ_INT(same, n1 + n2, "the same JSON, the first run's first, in order");
	{
		struct stat st;
		int rc = stat(spool, &st);

		CHECK(rc == 0 && st.st_size == 16,
		      "the spool is emptied to its header once sent (%lld bytes)",
		      (long long)st.st_size);
	}
	free_lines(l1, n1);
	free_lines(l2, n2);
	free_lines(rl, nr);
out:
	free(spool);
	free(out1);
}

int main(void)
{
	FILE *f;

	live_init("syslog");
	if (system("command -v rsyslogd >/dev/null 2>&1")) {
		CHECK(false, "rsyslogd installed (scripts/setup.sh)");
		return live_finish();
	}
	snprintf(dir, sizeof(dir), "%s/rsyslog", live_tmpdir());
	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", dir);
	snprintf(pidf, sizeof(pidf), "%s/rsyslog.pid", dir);
	snprintf(received, sizeof(received), "%s/received.log", dir);
	live_sh("mkdir -p '%s/work'", dir);
	f = fopen(conf, "w");
	if (!f) {
		CHECK(false, "rsyslog configuration");
		return live_finish();
	}
	fprintf(f, "global(workDirectory=\"%s/work\" maxMessageSize=\"256k\")\n"
		   "module(load=\"imtcp\")\n"
		   "template(name=\"msgonly\" type=\"string\" string=\"%%msg%%\\n\")\n"
		   "ruleset(name=\"vigie\") {\n"
		   "  action(type=\"omfile\" file=\"%s\" template=\"msgonly\")\n"
		   "}\n"
		   "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" PORT "\" ruleset=\"vigie\")\n",
		dir, received);
	fclose(f);
	live_on_cleanup(rsyslog_stop);
	collector_outage(false);
	collector_outage(true);
	collector_never_back();
	spool_across_restart();
	return live_finish();
}
