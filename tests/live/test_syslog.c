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

static void collector_outage(void)
{
	struct vigie v;
	size_t nf = 0, nr = 0, same = 0;
	char **fl, **rl;

	live_section("rsyslog on 127.0.0.1:" PORT ", stopped for 20 s mid-stream");
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
	rsyslog_stop();
	sleep(20);
	{
		size_t before = 0, now = 0;

		free_lines(lines_of(received, &before), before);
		CHECK(rsyslog_start() == 0, "rsyslogd started again after 20 s");
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
	fl = lines_of(v.out_path, &nf);
	rl = lines_of(received, &nr);
	for (size_t i = 0; i < nf && i < nr; i++)
		same += !strcmp(fl[i], rl[i]);
	CHECK(nf > 100, "events in the -o file: %zu (heartbeats every 0.2 s for 30 s)", nf);
	ASSERT_EQ_INT(nr, nf, "events the collector received = events in the file");
	ASSERT_EQ_INT(same, nf, "the same JSON, in the same order");
	free_lines(fl, nf);
	free_lines(rl, nr);
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
	collector_outage();
	collector_never_back();
	spool_across_restart();
	return live_finish();
}
