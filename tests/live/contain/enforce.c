// SPDX-License-Identifier: GPL-2.0
/*
 * live_contain, enforce: a database account extracting, a pooled
 * connection switching users, an egress transfer; containment ends them
 * within its budget, quarantines, releases, and leaves the others alone.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "contain_test.h"

#define QUARANTINE_S 4
#define LATENCY_BUDGET_S 1.0

/* The pooled connection: mallory@portail is ended, alice goes on. */
static void pooled(const struct events *ev)
{
	json_t *al = find_alert(ev, "app_user", "mallory@portail", NULL), *x, *rel;
	double t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0, t_rel = 0;
	long long alice_after = 0, mallory_rows_in_q = 0, broken = 0;
	char *txt = read_out("pool"), *line, *save = NULL;
	size_t cnt, by_kernel = 0;

	CHECK(al != NULL, "an alert for app_user mallory@portail");
	/* the backend that served it in the alert is ended, unless the pool
	 * has switched it to another user since (then its next switch back
	 * is ended by the quarantine, and the event says so) */
	x = find_contain(ev, "end-sessions", "mallory@portail", &cnt);
	CHECK(x && (!strcmp(jstr(x, "event.outcome"), "success") ||
		    strstr(jstr(x, "vigie.containment.reason") ?: "", "no longer serves this user")),
	      "the backend serving mallory@portail ended, or said to serve another user: %s %s",
	      x ? jstr(x, "event.outcome") : "-", x ? jstr(x, "vigie.containment.reason") : "-");
	/* the quarantine ends in the kernel at its "until"; the release
	 * event follows at the next tick */
	rel = find_contain(ev, "quarantine-sessions", "mallory@portail", &cnt);
	t_rel = rel ? live_parse_ts(jstr(rel, "vigie.containment.until")) : 0;
	CHECK(t_rel > t_alert, "mallory@portail in quarantine until %s",
	      rel ? jstr(rel, "vigie.containment.until") : "-");
	rel = find_contain(ev, "release", "mallory@portail", &cnt);
	CHECK(rel && live_parse_ts(jstr(rel, "vigie.containment.until")) == t_rel,
	      "the release says when the quarantine ended");
	for (size_t i = 0; i < ev->n; i++)
		if (jstr(ev->ev[i], "vigie.containment.by") &&
		    !strcmp(jstr(ev->ev[i], "vigie.principal.id"), "mallory@portail"))
			by_kernel += (size_t)jint(ev->ev[i], "vigie.containment.sessions", 0);
	CHECK(by_kernel >= 1, "switches to mallory@portail ended by the quarantine: %zu", by_kernel);
	x = find_contain(ev, "skip", "portal", &cnt);
	ASSERT_EQ_STR(x ? jstr(x, "vigie.containment.reason") : NULL, "never",
		      "the pool's own account is never contained");
	for (line = txt ? strtok_r(txt, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		double t;
		long long n;
		char kind[16];

		if (sscanf(line, "%15s %lf %lld", kind, &t, &n) != 3)
			continue;
		if (!strcmp(kind, "ALICE") && t > t_alert + LATENCY_BUDGET_S && n == 20)
			alice_after++;
		if (!strcmp(kind, "MALLORY") && t > t_alert + LATENCY_BUDGET_S && t < t_rel)
			mallory_rows_in_q += n;
		if (!strcmp(kind, "BROKEN") && strstr(line, " mallory "))
			broken++;
	}
	live_log("pool: alert %s, %lld alice queries after it, %lld mallory switches ended",
		 al ? jstr(al, "@timestamp") : "-", alice_after, broken);
	ASSERT_EQ_INT(mallory_rows_in_q, 0, "rows to mallory@portail in quarantine");
	CHECK(alice_after >= 5, "alice@portail kept working on the pool: %lld queries", alice_after);
	CHECK(broken >= 2, "mallory's switches ended: %lld", broken);
	free(txt);
}

void enforce(void)
{
	struct child thief, again, again_tls, after, batch, honest[3], snk, snd, pool;
	static const char *const hn[] = { "honest_a", "honest_b", "honest_c" };
	char cfg[1024], rest[256];
	long long pm_before = -1, rows = 0, n;
	double t_alert, t_end = 0, t;
	struct vigie v;
	struct events ev;
	json_t *al, *x;
	size_t cnt;
	char *txt;
	int pm, fd;
	bool ok, thief_done = false, egress_done = false;

	live_section("enforce: a database account extracting, an egress transfer");
	{
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/data/postmaster.pid", getenv("PGCLUSTER_DIR"));
		f = fopen(path, "r");
		if (f && fscanf(f, "%lld", &pm_before) != 1)
			pm_before = -1;
		if (f)
			fclose(f);
	}
	CHECK(pm_before > 0, "postmaster pid read");
	snprintf(cfg, sizeof(cfg),
		 "{\"containment\": {\"mode\": \"enforce\", \"on_severity\": \"medium\", "
		 "\"quarantine_s\": %d, \"never\": [\"db_user:portal\"], \"actions\": "
		 "{\"stop_processes\": true}}, \"detection\": {\"allow\": [\"db_user:batch\"]}, "
		 "\"databases\": {\"app_user\": {\"pattern\": \"portail/{user}\"}}, "
		 "\"sensor\": {\"metrics_listen\": \"127.0.0.1:19471\"}}",
		 QUARANTINE_S);
	if (vigie_start(&v, cfg, NULL)) {
		CHECK(false, "vigie started (enforce)");
		return;
	}
	for (int i = 0; i < 3; i++)
		client(&honest[i], hn[i], "honest", hn[i], "8", false);
	/* the sink and the paced sender */
	snk.pid = 0;
	CHECK(child_fork(&snk, sink, NULL) == 0, "sink in the namespace");
	for (int i = 0; i < 200 && !transfer->port; i++)
		usleep(10000);
	CHECK(transfer->port > 0, "sink listening");
	usleep(300 * 1000);
	client(&thief, "thief", "extract", "thief", "50000000", false);
	client(&pool, "pool", "pool", "portal", "8", false);
	client(&batch, "batch", "extract", "batch", "400000", false);
	CHECK(child_fork(&snd, sender, NULL) == 0, "sender started");

	/* the thief is ended, the transfer stopped: in either order */
	for (int i = 0; i < 1500 && !(thief_done && egress_done); i++) {
		if (!thief_done && child_exited(&thief)) {
			thief_done = true;
			wait_exit(&thief, "thief", 1000);
			/* it reconnects at once: plain and TLS, every try gets no row */
			client(&again, "again", "reconnect", "thief", "2", false);
			client(&again_tls, "again_tls", "reconnect", "thief", "1.2", true);
		}
		if (!egress_done && transfer->last_rx > 0 && live_now() - transfer->last_rx > 0.2) {
			egress_done = true;
			check_egress_stopped(snd.pid);
		}
		usleep(20 * 1000);
	}
	CHECK(thief_done && egress_done, "the thief ended and the transfer stopped");
	rest[0] = '\0';
	ok = last_line("thief", "END", &t_end, &rows, rest, sizeof(rest));
	CHECK(ok, "the extracting session was ended: %s", rest);
	/* libpq says the server's FATAL, or, when its next request met the
	 * closed socket first, that the server closed the connection */
	CHECK(strstr(rest, "terminating connection due to administrator command") ||
	      strstr(rest, "server closed the connection unexpectedly"),
	      "what the client sees: %s", rest);
	wait_exit(&again, "reconnect", 8000);
	wait_exit(&again_tls, "reconnect tls", 8000);
	wait_exit(&batch, "batch", 30000);
	for (int i = 0; i < 3; i++)
		wait_exit(&honest[i], hn[i], 20000);
	wait_exit(&pool, "pool", 20000);

	/* after the quarantine */
	{
		bool released = false;

		for (int i = 0; i < 200 && !released; i++) {
			usleep(100 * 1000);
			events_load(&ev, v.out_path);
			released = find_contain(&ev, "release", "thief", &cnt) != NULL;
			events_free(&ev);
		}
		CHECK(released, "the quarantine of thief was released");
	}
	client(&after, "after", "reconnect", "thief", "0.1", false);
	wait_exit(&after, "after", 8000);
	fd = tcp_connect(peer_ns.ns_ip, transfer->port);
	CHECK(fd >= 0, "a connection to the peer works after the quarantine (%d)", fd);
	if (fd >= 0)
		close(fd);
	child_kill(&snk);
	child_kill(&snd);
	{
		char *m = live_path("metrics.txt"), *text;

		live_sh("curl -s -o '%s' http://127.0.0.1:19471/metrics", m);
		text = live_read_file(m, NULL);
		ASSERT_CONTAINS(text, "\nvigie_containment_events_total{action=\"block-address\"} 1\n",
				"metrics: the address block");
		ASSERT_CONTAINS(text, "\nvigie_containment_events_total{action=\"end-connections\"} 1\n",
				"metrics: the connections ended");
		CHECK(text && !strstr(text, "vigie_containment_failures_total{action=\"block-address\"}"),
		      "metrics: no failed block");
		free(text);
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");

	/* ---- figures ---- */
	events_load(&ev, v.out_path);
	live_check_ecs(&ev, v.out_path);
	{
		json_t *caps = jpath(events_find(&ev, "sensor-start"), "vigie.privileges.capabilities");
		char *c = caps ? json_dumps(caps, JSON_COMPACT) : NULL;

		ASSERT_EQ_STR(c, "[\"cap_dac_read_search\",\"cap_kill\",\"cap_net_admin\","
				 "\"cap_sys_ptrace\",\"cap_perfmon\",\"cap_bpf\"]",
			      "enforced: CAP_KILL and CAP_NET_ADMIN kept");
		free(c);
	}
	al = find_alert(&ev, "db_user", "thief", NULL);
	CHECK(al != NULL, "an alert for db_user thief");
	t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0;
	if (al) {
		long long at = rows_at("thief", t_alert);

		live_log("thief: alert %s (%s) at %lld rows received, ended %.3f s after it with "
			 "%lld rows: %lld after the alert", jstr(al, "vigie.severity"),
			 jstr(al, "@timestamp"), at, t_end - t_alert, rows, rows - at);
		CHECK(t_end - t_alert <= LATENCY_BUDGET_S, "session ended %.3f s after its alert "
		      "(budget %.1f s)", t_end - t_alert, LATENCY_BUDGET_S);
		CHECK(rows - at <= 20000, "rows received after the alert: %lld", rows - at);
	}
	/* the first quarantine (it may come again once released: thief's
	 * rows after the release take its volume further) */
	x = find_contain(&ev, "quarantine-sessions", "thief", &cnt);
	CHECK(cnt >= 1, "thief in quarantine (%zu times)", cnt);
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "quarantine outcome");
	ASSERT_EQ_STR(x ? event_type(x) : NULL, "denied", "quarantine event.type");
	ASSERT_EQ_STR(x ? jstr(x, "vigie.episode.id") : NULL, al ? jstr(al, "vigie.episode.id") : "",
		      "the alert's episode");
	CHECK(x && jstr(x, "vigie.containment.until") &&
	      live_parse_ts(jstr(x, "vigie.containment.until")) - t_alert > QUARANTINE_S - 1,
	      "quarantine end stated");
	x = find_contain(&ev, "end-sessions", "thief", &cnt);
	CHECK(cnt >= 1, "sessions of thief ended (%zu events)", cnt);
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "end-sessions outcome");
	ASSERT_EQ_INT(x ? jint(x, "vigie.containment.sessions", -1) : -1, 1,
		      "one session of thief ended by the alert");
	/* the reconnections: no row, each ended by the kernel */
	x = find_contain(&ev, "quarantine-sessions", "thief", &cnt);
	txt = read_out("again");
	n = 0;
	t = x && jstr(x, "vigie.containment.until") ?
		    live_parse_ts(jstr(x, "vigie.containment.until")) : 0;
	{
		/* one check for all of them: how many reconnections fit in the
		 * quarantine depends on timing, the suite's count must not */
		long long with_rows = 0, first_rows = 0;

		for (char *p = txt; p && (p = strstr(p, "TRY ")); p++) {
			double tt;
			long long r;

			if (sscanf(p, "TRY %lf %lld", &tt, &r) == 2 && tt < t - 0.1) {
				n++;
				if (r != 0 && !with_rows++)
					first_rows = r;
			}
		}
		CHECK(with_rows == 0, "reconnections in quarantine that got rows: %lld of %lld "
		      "(the first got %lld)", with_rows, n, first_rows);
	}
	CHECK(n >= 3, "reconnections tried in quarantine: %lld", n);
	free(txt);
	txt = read_out("again_tls");
	CHECK(txt && strstr(txt, "TRY ") && !strstr(txt, " 5000 "), "TLS reconnections get no row: "
	      "%s", txt ? txt : "");
	free(txt);
	{
		size_t by_kernel = 0, by_thief = 0, by_alert = 0;
		int logged;

		for (size_t i = 0; i < ev.n; i++) {
			const char *a = jstr(ev.ev[i], "vigie.containment.action");

			if (!a || strcmp(a, "end-sessions"))
				continue;
			if (jstr(ev.ev[i], "vigie.containment.by")) {
				size_t k = (size_t)jint(ev.ev[i], "vigie.containment.sessions", 0);

				by_kernel += k; /* one event a tick for the sessions it ended */
				if (!strcmp(jstr(ev.ev[i], "vigie.principal.id"), "thief"))
					by_thief += k;
			} else if (!strcmp(jstr(ev.ev[i], "event.outcome"), "success")) {
				by_alert += json_array_size(jpath(ev.ev[i], "vigie.containment.pids"));
			}
		}
		CHECK(by_thief >= (size_t)n, "thief's sessions ended by the quarantine: %zu (tries "
		      "%lld)", by_thief, n);
		/* as pg_terminate_backend ends them: the server says so for
		 * each of thief's, at least (a pooled backend may be signalled
		 * twice: by the alert, then at a switch before it ended) */
		logged = server_log_count("terminating connection due to administrator command");
		CHECK(logged >= (int)by_thief + 1 && logged <= (int)(by_kernel + by_alert),
		      "sessions the server ended on SIGTERM: %d (thief %zu + 1, all %zu)", logged,
		      by_thief, by_kernel + by_alert);
	}
	n = -1;
	ok = last_line("after", "TRY", &t, &n, rest, sizeof(rest));
	CHECK(ok && n == 5000, "after the quarantine thief gets its 5,000 rows (%lld %s)", n, rest);
	/* the honest and the allow-listed go on */
	for (int i = 0; i < 3; i++) {
		n = -1;
		ok = last_line(hn[i], "DONE", &t, &n, NULL, 0);
		CHECK(ok && n >= 40, "%s kept working: %lld queries", hn[i], n);
		CHECK(!find_contain(&ev, "end-sessions", hn[i], &cnt), "%s never contained", hn[i]);
	}
	n = -1;
	ok = last_line("batch", "DONE", &t, &n, NULL, 0);
	CHECK(ok && n == 400000, "allow-listed batch extracted its 400,000 rows (%lld)", n);
	CHECK(!find_alert(&ev, "db_user", "batch", NULL), "no alert for batch");
	CHECK(!find_contain(&ev, "quarantine-sessions", "batch", &cnt), "batch never contained");
	pm = (int)pm_before;
	CHECK(pm > 0 && kill(pm, 0) == 0, "the postmaster %d is alive", pm);
	CHECK(live_sh("'%s' -X -q -c 'SELECT 1'", psql_bin) == 0, "the server answers");

	/* egress */
	al = find_alert(&ev, "user", "nobody", NULL);
	CHECK(al != NULL, "an egress alert");
	t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0;
	if (al) {
		live_log("egress: alert %s at %s, the peer's last bytes %.3f s after it, "
			 "%llu bytes sent, %llu received", jstr(al, "vigie.severity"),
			 jstr(al, "@timestamp"), transfer->last_rx - t_alert,
			 (unsigned long long)transfer->sent,
			 (unsigned long long)transfer->received);
		CHECK(transfer->last_rx - t_alert <= LATENCY_BUDGET_S,
		      "transfer ended %.3f s after its alert (budget %.1f s)",
		      transfer->last_rx - t_alert, LATENCY_BUDGET_S);
	}
	x = find_contain(&ev, "block-address", NULL, &cnt);
	ASSERT_EQ_INT(cnt, 1, "one block of the peer address");
	ASSERT_EQ_STR(x ? jstr(x, "destination.ip") : NULL, peer_ns.ns_ip, "blocked address");
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "block outcome");
	x = find_contain(&ev, "end-connections", NULL, &cnt);
	ASSERT_EQ_INT(cnt, 1, "one end-connections");
	ASSERT_EQ_INT(x ? jint(x, "vigie.containment.connections", -1) : -1, 1,
		      "the transfer's connection destroyed");
	{
		char want[64];

		snprintf(want, sizeof(want), "->%s:%d", peer_ns.ns_ip, transfer->port);
		ASSERT_CONTAINS(x ? json_string_value(json_array_get(jpath(x, "vigie.containment.sockets"),
								     0)) : NULL, want, "which connection");
	}
	x = events_find_last(&ev, "sensor-stop");
	ASSERT_EQ_INT(x ? jint(x, "vigie.stats.containment.quarantines", -1) : -1, 0,
		      "sensor-stop: no quarantine left");
	CHECK(x && jint(x, "vigie.stats.containment.alerts_acted", 0) >= 3 &&
	      jint(x, "vigie.stats.containment.sessions_ended_by_quarantine", 0) >= 3 &&
	      jint(x, "vigie.stats.containment.skipped_never", 0) >= 1,
	      "sensor-stop: containment's counts (acted %lld, ended by quarantine %lld, never %lld)",
	      x ? jint(x, "vigie.stats.containment.alerts_acted", 0) : -1,
	      x ? jint(x, "vigie.stats.containment.sessions_ended_by_quarantine", 0) : -1,
	      x ? jint(x, "vigie.stats.containment.skipped_never", 0) : -1);
	x = find_contain(&ev, "stop-process", "nobody", &cnt);
	ASSERT_EQ_INT(cnt, 1, "one stop of nobody's process");
	ASSERT_EQ_INT(x ? json_integer_value(json_array_get(jpath(x, "vigie.containment.pids_stopped"),
							    0)) : -1, snd.pid, "the sender stopped");
	x = find_contain(&ev, "release", "thief", &cnt);
	CHECK(cnt >= 1, "thief released (%zu times)", cnt);
	cnt = 0;
	for (size_t i = 0; i < ev.n; i++)
		cnt += jstr(ev.ev[i], "vigie.containment.action") &&
		       !strcmp(jstr(ev.ev[i], "vigie.containment.action"), "release") &&
		       jstr(ev.ev[i], "destination.ip") && !strcmp(jstr(ev.ev[i], "destination.ip"),
								   peer_ns.ns_ip);
	ASSERT_EQ_INT(cnt, 1, "the address released");
	pooled(&ev);
	events_free(&ev);
}
