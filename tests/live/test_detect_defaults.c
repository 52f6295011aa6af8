// SPDX-License-Identifier: GPL-2.0
/*
 * Live test (issue 7): detection alerts with the built-in defaults, no
 * configuration file at all, from a cold start.
 *
 * vigie run -o FILE, nothing else (no -c, no option), real probes, a
 * throw-away PostgreSQL cluster on a random port (not one of the default
 * database ports: rows still come from the PostgreSQL walker).
 *
 * 1. 20 honest roles do small lookups (1-5 records every 2-6 s, random per
 *    role, TCP to 127.0.0.1, sslmode=disable) for the whole run; 40 s after
 *    the start a role never used before pulls 150 records per second
 *    (~700-byte rows) for 70 s. Asserts an exfiltration-volume alert naming
 *    db_user NEW_ROLE on db_rows within 60 s of the extraction's start
 *    (test clock vs the alert's @timestamp) and no alert naming an honest
 *    role.
 * 2. After the sensor has watched for more than a minute, a process that
 *    never sent egress (a copy of trafficgen named "scp" in the test's
 *    directory) sends 500 MB over TCP, paced over ~40 s, to a peer in a
 *    network namespace made by the test. Asserts alerts naming the peer
 *    (kind peer, destination.address) and the process (kind process, id
 *    EXE@root) within 120 s of the transfer's start.
 * 3. sensor-stop's vigie.stats.detection.alerts equals the alert lines.
 * Every alert is printed; rows per role (client side and usage events) and
 * the byte classes of the database traffic are printed too.
 *
 * LIVE_SEED=N makes the honest roles' timing reproducible (printed).
 * The sensor watches every PostgreSQL server of the host: the role names
 * (clerk01..clerk20, newrole7) differ from those of the other tests and
 * the demo (adv0001...), whose traffic would otherwise add to them.
 *
 * This file: main (the run, then its checks); the cluster, the honest
 * roles and the extraction's script are tests/live/detect_defaults/
 * traffic.c, the alerts and usage events read back alerts.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "detect_defaults/detect_defaults_test.h"

/* ---- main ------------------------------------------------------------- */

int main(void)
{
	static struct role roles[N_ROLES];
	struct watch w = { 0 };
	struct vigie v;
	struct events ev;
	struct netns ns;
	struct spawn_opts in_ns = { 0 }, snd_opts = { 0 };
	struct child ext, sink, snd;
	bool ext_started = false, xfer_started = false, ext_done = false, xfer_done = false;
	bool loops_ok = true;
	unsigned long long ext_rows_want = 0;
	long long xfer_sent = -1, xfer_received = -1;
	int ext_status = -1, snd_status = -1, sink_port = -1;
	char *script, *scp;
	unsigned seed;
	double last_scan = 0;

	live_init("detect_defaults");
	seed = getenv("LIVE_SEED") ? (unsigned)strtoul(getenv("LIVE_SEED"), NULL, 10) :
				     (unsigned)time(NULL);
	live_log("seed %u (LIVE_SEED to repeat)", seed);
	if (!cluster_start()) {
		CHECK(false, "throw-away PostgreSQL cluster started");
		return live_finish();
	}
	live_log("cluster on 127.0.0.1:%s (not a default database port)", pg_port);
	CHECK(setup_sql(), "table of %d records (~700-byte rows), %d roles and " NEW_ROLE " created",
	      TABLE_ROWS, N_ROLES);
	script = extraction_script(&ext_rows_want);
	CHECK(script != NULL, "extraction script written");
	if (netns_create(&ns, "ddef", 47)) {
		CHECK(false, "network namespace for the transfer's peer");
		return live_finish();
	}
	in_ns.netns = ns.name;
	w.peer_ip = ns.ns_ip;
	/* a process that never sent anything: trafficgen copied as "scp" */
	scp = live_path("scp");
	if (live_sh("cp '%s' '%s' && chmod 755 '%s'", live_trafficgen_bin(), scp, scp) ||
	    !realpath(scp, w.exe)) {
		CHECK(false, "copy of trafficgen as %s", scp);
		return live_finish();
	}
	snprintf(w.proc_id, sizeof(w.proc_id), "%s@root", w.exe);
	snprintf(stop_file, sizeof(stop_file), "%s/stop", live_tmpdir());
	if (!script)
		return live_finish();

	live_section("vigie run with no configuration file and no option");
	if (vigie_start(&v, NULL, NULL)) {
		CHECK(false, "vigie started without -c");
		return live_finish();
	}
	w.t0 = live_now();
	if (events_load(&ev, v.out_path) == 0) {
		json_t *s = events_find(&ev, "sensor-start");

		live_log("sensor-start: vigie.postgres %s, vigie.detection %s, probes %s",
			 jstr(s, "vigie.postgres") ? jstr(s, "vigie.postgres") : "?",
			 json_is_true(jpath(s, "vigie.detection")) ? "on" : "off",
			 jstr(s, "vigie.probe_mode") ? jstr(s, "vigie.probe_mode") : "?");
		events_free(&ev);
	}

	live_section("20 honest roles (1-5 records every 2-6 s); " NEW_ROLE " extracts at +%ds; "
		     "scp sends 500 MB at +%ds", EXT_AFTER_S, XFER_AFTER_S);
	for (int i = 0; i < N_ROLES; i++) {
		struct role *r = &roles[i];

		snprintf(r->name, sizeof(r->name), "clerk%02d", i + 1);
		r->seed = seed ^ (unsigned)(i + 1) * 2654435761u;
		if (child_fork(&r->c, honest_loop, r))
			loops_ok = false;
	}
	CHECK(loops_ok, "%d honest role loops started", N_ROLES);

	for (;;) {
		double now = live_now();

		if (!ext_started && now >= w.t0 + EXT_AFTER_S) {
			char *argv[] = { psql_bin, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
					 "127.0.0.1", "-p", (char *)pg_port, "-U", NEW_ROLE, "-d",
					 "postgres", "-o", "/dev/null", "-f", script, NULL };
			struct spawn_opts o = { .stderr_path = live_path("extract.err") };

			w.ext_start = live_now();
			ext_started = true;
			if (child_spawn(&ext, &o, argv))
				ext_done = true;
			else
				live_log("+%.1fs extraction by " NEW_ROLE " started (%d records/s, %d s)",
					 w.ext_start - w.t0, EXT_ROWS_PER_S, EXT_SECONDS);
		}
		if (!xfer_started && now >= w.t0 + XFER_AFTER_S) {
			char port[16], bytes[32], chunk[16], pause[16];

			xfer_started = true;
			sink_port = tg_server(&sink, &in_ns, "sink", "0", NULL);
			snprintf(port, sizeof(port), "%d", sink_port);
			snprintf(bytes, sizeof(bytes), "%llu", XFER_BYTES);
			snprintf(chunk, sizeof(chunk), "%d", XFER_CHUNK);
			snprintf(pause, sizeof(pause), "%d", XFER_PAUSE_US);
			{
				char *argv[] = { "scp", "-P", pause, "send", (char *)ns.ns_ip, port,
						 bytes, chunk, NULL };

				snd_opts.capture = true;
				snd_opts.exe = w.exe;
				w.xfer_start = live_now();
				if (sink_port < 0 || child_spawn(&snd, &snd_opts, argv)) {
					xfer_done = true;
					snd_status = -1;
				} else {
					live_log("+%.1fs transfer of 500 MB by %s to %s:%d started",
						 w.xfer_start - w.t0, w.exe, ns.ns_ip, sink_port);
				}
			}
		}
		if (ext_started && !ext_done && child_exited(&ext)) {
			ext_status = child_wait(&ext, 1000);
			ext_done = true;
			live_log("+%.1fs extraction ended (exit %d, %.1f s)", live_now() - w.t0, ext_status,
				 live_now() - w.ext_start);
		}
		if (xfer_started && !xfer_done && child_exited(&snd)) {
			xfer_sent = child_read_value(&snd, "sent", 1000);
			snd_status = child_wait(&snd, 1000);
			xfer_received = child_read_value(&sink, "received", 10000);
			child_wait(&sink, 5000);
			xfer_done = true;
			live_log("+%.1fs transfer ended (exit %d, %.1f s)", live_now() - w.t0, snd_status,
				 live_now() - w.xfer_start);
		}
		if (now - last_scan >= 1.0) {
			bool had_ext = w.ext_alert, had_peer = w.peer_alert, had_proc = w.proc_alert;

			scan_alerts(&w, v.out_path);
			last_scan = now;
			if (!had_ext && w.ext_alert)
				live_log("+%.1fs alert db_user " NEW_ROLE " db_rows seen", now - w.t0);
			if (!had_peer && w.peer_alert)
				live_log("+%.1fs alert peer %s seen", now - w.t0, w.peer_ip);
			if (!had_proc && w.proc_alert)
				live_log("+%.1fs alert process %s seen", now - w.t0, w.proc_id);
			if (child_exited(&v.c)) {
				live_log("vigie exited early");
				break;
			}
		}
		/* a child that never ends (its peer unreachable, its server gone)
		 * fails the test at the budget, it does not hang it */
		if (ext_started && !ext_done && now >= w.ext_start + EXT_SECONDS + EXT_DEADLINE_S) {
			live_log("+%.1fs extraction still running after %d s: killed", now - w.t0,
				 EXT_SECONDS + EXT_DEADLINE_S);
			child_kill(&ext);
			ext_status = -1;
			ext_done = true;
		}
		if (xfer_started && !xfer_done && now >= w.xfer_start + XFER_DEADLINE_S + 3) {
			live_log("+%.1fs transfer still running after %d s: killed", now - w.t0,
				 XFER_DEADLINE_S + 3);
			child_kill(&snd);
			child_kill(&sink);
			snd_status = -1;
			xfer_done = true;
		}
		if (ext_done && xfer_done) {
			bool all = w.ext_alert && w.peer_alert && w.proc_alert;

			if (all || now >= w.xfer_start + XFER_DEADLINE_S + 3)
				break;
		}
		usleep(250 * 1000);
	}

	/* the honest loops end at their next check of the stop file */
	{
		FILE *f = fopen(stop_file, "w");

		if (f)
			fclose(f);
		for (int i = 0; i < N_ROLES; i++) {
			if (child_wait(&roles[i].c, 10000) != 0)
				loops_ok = false;
			honest_collect(&roles[i]);
		}
	}
	usleep(1500 * 1000); /* a last tick */
	live_log("+%.1fs stopping vigie", live_now() - w.t0);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return live_finish();
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");

	live_section("traffic");
	ASSERT_TRUE(loops_ok, "honest role loops ended cleanly");
	ASSERT_EQ_INT(ext_status, 0, "extraction psql exit status");
	ASSERT_EQ_INT(snd_status, 0, "scp (trafficgen copy) exit status");
	ASSERT_EQ_INT(xfer_sent, (long long)XFER_BYTES, "scp: bytes sent");
	ASSERT_EQ_INT(xfer_received, (long long)XFER_BYTES, "sink in the namespace: bytes received");

	live_section("rows per role: client side vs usage events");
	{
		unsigned long long tot_q = 0, tot_rows = 0, tot_fail = 0, rows, n;

		for (int i = 0; i < N_ROLES; i++) {
			struct role *r = &roles[i];

			usage_rows(&ev, r->name, &r->ev_rows, &r->ev_events);
			live_log("%s: %llu queries (%llu failed), %llu records; usage events: %llu rows "
				 "in %llu events", r->name, r->queries, r->failures, r->rows,
				 r->ev_rows, r->ev_events);
			tot_q += r->queries;
			tot_rows += r->rows;
			tot_fail += r->failures;
		}
		live_log("honest roles: %llu queries (%llu failed), %llu records", tot_q, tot_fail,
			 tot_rows);
		usage_rows(&ev, NEW_ROLE, &rows, &n);
		live_log(NEW_ROLE ": %llu rows on the wire expected (%d records/s x %d s + pg_sleep "
			 "rows); usage events: %llu rows in %llu events", ext_rows_want,
			 EXT_ROWS_PER_S, EXT_SECONDS, rows, n);
		print_classes(&ev, NULL, "honest roles");
		print_classes(&ev, NEW_ROLE, NEW_ROLE);
	}

	live_section("alerts");
	print_alerts(&ev, &w);

	live_section("1. extraction by a new role");
	{
		size_t honest = 0;

		scan_alerts(&w, v.out_path);
		CHECK(w.ext_alert > 0, "an exfiltration-volume alert naming db_user " NEW_ROLE
		      " on db_rows");
		if (w.ext_alert > 0)
			CHECK(w.ext_alert - w.ext_start <= EXT_DEADLINE_S,
			      "alert " NEW_ROLE " latency %.1f s from the extraction's start "
			      "(want <= %d s)", w.ext_alert - w.ext_start, EXT_DEADLINE_S);
		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i];
			const char *kind = jstr(e, "vigie.principal.kind");
			const char *id = jstr(e, "vigie.principal.id"), *du = jstr(e, "vigie.db_user");

			if (!is_alert(e))
				continue;
			for (int r = 0; r < N_ROLES; r++)
				if ((str_is(kind, "db_user") && str_is(id, roles[r].name)) ||
				    str_is(du, roles[r].name)) {
					honest++;
					break;
				}
		}
		ASSERT_EQ_U64(honest, 0, "alerts naming one of the 20 honest roles");
	}

	live_section("2. scp-like transfer to a new peer");
	{
		json_t *peer = NULL, *proc = NULL;

		for (size_t i = 0; i < ev.n; i++) {
			json_t *e = ev.ev[i];
			const char *kind = jstr(e, "vigie.principal.kind");
			const char *id = jstr(e, "vigie.principal.id");

			if (!is_alert(e))
				continue;
			if (!peer && str_is(kind, "peer") && str_is(id, ns.ns_ip))
				peer = e;
			if (!proc && str_is(kind, "process") && str_is(id, w.proc_id))
				proc = e;
		}
		CHECK(peer != NULL, "an alert naming peer %s", ns.ns_ip);
		if (peer) {
			double lat = live_parse_ts(jstr(peer, "@timestamp")) - w.xfer_start;

			ASSERT_EQ_STR(jstr(peer, "destination.address"), ns.ns_ip,
				      "peer alert destination.address");
			CHECK(lat <= XFER_DEADLINE_S, "peer alert latency %.1f s from the transfer's "
			      "start (want <= %d s; %s %s, reference %s)", lat, XFER_DEADLINE_S,
			      jstr(peer, "vigie.metric"), jstr(peer, "vigie.window"),
			      jstr(peer, "vigie.reference"));
		}
		CHECK(proc != NULL, "an alert naming process %s", live_printable(0, w.proc_id));
		if (proc) {
			double lat = live_parse_ts(jstr(proc, "@timestamp")) - w.xfer_start;

			ASSERT_EQ_STR(jstr(proc, "process.executable"), w.exe,
				      "process alert process.executable");
			CHECK(lat <= XFER_DEADLINE_S, "process alert latency %.1f s from the "
			      "transfer's start (want <= %d s; %s %s, reference %s)", lat,
			      XFER_DEADLINE_S, jstr(proc, "vigie.metric"), jstr(proc, "vigie.window"),
			      jstr(proc, "vigie.reference"));
		}
	}

	live_section("3. sensor-stop counts the alerts");
	{
		json_t *stop = events_find_last(&ev, "sensor-stop");
		size_t n = events_count(&ev, "exfiltration-volume"), kind_alert = 0;

		for (size_t i = 0; i < ev.n; i++)
			kind_alert += str_is(jstr(ev.ev[i], "event.kind"), "alert");
		live_log("sensor-stop: detection principals %lld, alerts %lld, suppressed %lld; "
			 "lines with event.kind alert: %zu",
			 jint(stop, "vigie.stats.detection.principals", -1),
			 jint(stop, "vigie.stats.detection.alerts", -1),
			 jint(stop, "vigie.stats.detection.suppressed", -1), kind_alert);
		ASSERT_TRUE(stop != NULL, "sensor-stop written");
		ASSERT_EQ_INT(jint(stop, "vigie.stats.detection.alerts", -1), (long long)n,
			      "sensor-stop vigie.stats.detection.alerts == exfiltration-volume lines");
	}
	live_log("run took %.0f s after the sensor started", live_now() - w.t0);
	events_free(&ev);
	free(script);
	free(scp);
	return live_finish();
}
