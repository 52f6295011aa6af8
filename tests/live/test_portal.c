// SPDX-License-Identifier: GPL-2.0
/*
 * Live: the advisor behind a real portal. A web portal (tools/portal: an
 * HTTP server reading PostgreSQL through a pool of 4 connections as role
 * "portail", tagging each request with SET application_name =
 * 'portail/USER'), 20 advisors each browsing from an address of their own
 * in a network namespace (1 to 5 records every 2-3 s, with curl), and after
 * 40 s one of them pulling about 150 records a second for 55 s. Vigie runs
 * with the built-in defaults and only databases.app_user set.
 *  - the records Vigie counts for each application user are exactly the
 *    records that advisor's client received;
 *  - the extracting advisor is alerted as an application user within 60 s
 *    of the extraction's start, named with the portal and the account;
 *  - on the portal's own host, the extracting address is alerted within
 *    60 s, with the portal process among the contributors;
 *  - no honest advisor and no honest address is alerted.
 * Beside it, the same portal without tagging (its own port, 15 agents
 * "agt0001"... at other addresses, one extracting at the same time): the
 * extracting address is alerted within 60 s as well, and no application
 * user is guessed for anybody.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/live.h"

#define N_ADV 20
#define N_PLAIN 15 /* agents of the portal that does not tag */
#define THIEF 13
#define WARMUP_S 40
#define EXTRACT_S 55
#define TABLE_ROWS 20000
#define NET_IDX 61 /* 10.213.61.0/30 for the veth, 10.215.61.0/24 for advisors */

static const char *pg_port, *psql;

static bool setup_db(void)
{
	return live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d postgres "
		       "-c \"CREATE TABLE job_seekers AS SELECT i AS id, lpad(i::text, 13, '0') AS nir, "
		       "'Person ' || i AS name, 'City ' || (i %% 97) AS city, repeat('n', 560) AS notes "
		       "FROM generate_series(1, %d) i; ALTER TABLE job_seekers ADD PRIMARY KEY (id); "
		       "CREATE ROLE portail LOGIN; "
		       "GRANT SELECT ON job_seekers TO portail\"",
		       psql, pg_port, TABLE_ROWS) == 0;
}

/* One group of agents (prefix adv or agt, addresses from 10.215.N.BASE+1)
 * browsing one portal, and the thief's extraction after WARMUP_S. */
static char *group_script(const char *host, int port, const char *dir, const char *prefix,
			  int base, int n_agents)
{
	char *text = NULL;

	if (asprintf(&text,
		     "H=%s; P=%d; D=%s\n"
		     "for i in $(seq 1 %d); do\n"
		     "  ( u=$(printf %s%%04d $i); ip=10.215.%d.$((%d + i)); off=$((i * 500))\n"
		     "    while [ ! -f $D/stop ]; do\n"
		     "      n=$(( (i + off) %% 5 + 1 ))\n"
		     "      curl -s --max-time 60 --interface $ip \"http://$H:$P/records?user=$u&n=$n&offset=$off\" >> $D/$u.rows || echo \"$u $off curl:$?\" >> $D/failed\n"
		     "      off=$((off + n)); sleep $(( 2 + (i + off) %% 2 ))\n"
		     "    done ) &\n"
		     "done\n"
		     "( sleep %d; u=$(printf %s%%04d %d); ip=10.215.%d.$((%d + %d)); off=15000\n"
		     "  date +%%s.%%N > $D/$u.start\n"
		     "  end=$(( $(date +%%s) + %d ))\n"
		     "  while [ $(date +%%s) -lt $end ]; do\n"
		     "    curl -s --max-time 60 --interface $ip \"http://$H:$P/records?user=$u&n=150&offset=$off\" >> $D/$u.rows || echo \"$u $off curl:$?\" >> $D/failed\n"
		     "    off=$(( (off + 150) %% 19000 )); sleep 0.9\n"
		     "  done\n"
		     "  touch $D/$u.done ) &\n",
		     host, port, dir, n_agents, prefix, NET_IDX, base, WARMUP_S, prefix, THIEF, NET_IDX,
		     base, THIEF, EXTRACT_S) < 0)
		return NULL;
	return text;
}

/* Both groups, run inside the namespace. */
static char *client_script(const char *host, int tagged_port, int plain_port, const char *dir)
{
	char *a = group_script(host, tagged_port, dir, "adv", 9, N_ADV);
	char *b = group_script(host, plain_port, dir, "agt", 39, N_PLAIN);
	char *text = NULL, *path = NULL;

	if (a && b && asprintf(&text, "#!/bin/sh\n%s%swait\n", a, b) >= 0)
		path = live_write_file("clients.sh", text);
	free(a);
	free(b);
	free(text);
	return path;
}

static long long count_lines(const char *path)
{
	size_t len = 0;
	char *text = live_read_file(path, &len);
	long long n = 0;

	for (size_t i = 0; text && i < len; i++)
		n += text[i] == '\n';
	free(text);
	return text || len ? n : -1;
}

/* Records of application user `user` over the usage events of role portail. */
static long long app_records(const struct events *ev, const char *user)
{
	long long sum = 0;

	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i], *a;
		const char *act = jstr(e, "event.action"), *u = jstr(e, "vigie.db_user");
		size_t k;

		if (!act || strcmp(act, "usage") || !u || strcmp(u, "portail"))
			continue;
		json_array_foreach(jpath(e, "vigie.app_users"), k, a) {
			const char *name = json_string_value(json_object_get(a, "user"));

			if (name && !strcmp(name, user))
				sum += json_integer_value(json_object_get(a, "records"));
		}
	}
	return sum;
}

static json_t *first_alert(const struct events *ev, const char *kind, const char *id)
{
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *act = jstr(e, "event.action"), *k = jstr(e, "vigie.principal.kind"),
			   *p = jstr(e, "vigie.principal.id");

		if (act && !strcmp(act, "exfiltration-volume") && k && !strcmp(k, kind) && p &&
		    !strcmp(p, id))
			return e;
	}
	return NULL;
}

/* "kind:id" of every alert, in order (the first ones that fit). */
static void alerted(const struct events *ev, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ev->n && used + 1 < size; i++) {
		json_t *e = ev->ev[i];
		const char *act = jstr(e, "event.action");
		int n;

		if (!act || strcmp(act, "exfiltration-volume"))
			continue;
		n = snprintf(buf + used, size - used, "%s%s:%s", used ? " " : "",
			     jstr(e, "vigie.principal.kind") ?: "?", jstr(e, "vigie.principal.id") ?: "?");
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static bool names_process(json_t *alert, const char *exe_prefix)
{
	size_t i;
	json_t *p;

	json_array_foreach(jpath(alert, "vigie.top_processes"), i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));

		if (id && !strncmp(id, exe_prefix, strlen(exe_prefix)))
			return true;
	}
	return false;
}

int main(void)
{
	struct spawn_opts capture = { .capture = true }, in_ns = { 0 };
	struct child portal, portal_plain, clients;
	struct vigie v;
	struct events ev;
	struct netns ns;
	char portal_bin[PATH_MAX], conninfo[256], listen_at[64], line[256], stop[PATH_MAX];
	char path[PATH_MAX], id[64], *script;
	double t_start = -1;
	int port = -1, plain_port = -1;
	double t_plain = -1;

	live_init("portal");
	snprintf(portal_bin, sizeof(portal_bin), "%s", live_tool("portal"));
	if (access(portal_bin, X_OK)) {
		CHECK(false, "%s built (make all)", portal_bin);
		return live_finish();
	}
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start() || !(pg_port = getenv("PGPORT")) || !(psql = pgcluster_psql()) ||
	    !setup_db()) {
		CHECK(false, "throw-away cluster with %d job seekers and role portail", TABLE_ROWS);
		return live_finish();
	}
	if (netns_create(&ns, "ptl", NET_IDX) ||
	    live_sh("ip route add 10.215.%d.0/24 via %s", NET_IDX, ns.ns_ip)) {
		CHECK(false, "network namespace for the advisors");
		return live_finish();
	}
	for (int i = 1; i <= N_ADV + N_PLAIN; i++)
		if (live_sh("ip -n %s addr add 10.215.%d.%d/32 dev %s", ns.name, NET_IDX,
			    i <= N_ADV ? 9 + i : 39 + i - N_ADV, ns.ns_if)) {
			CHECK(false, "advisor address %d", i);
			return live_finish();
		}

	live_section("vigie with the built-in defaults and databases.app_user only");
	if (vigie_start(&v, "{\"databases\": {\"app_user\": {\"pattern\": \"portail/{user}\"}}}",
			NULL)) {
		CHECK(false, "vigie started");
		return live_finish();
	}
	unsetenv("PGSSLMODE"); /* pgcluster_psql's: the portal keeps libpq's default */
	snprintf(conninfo, sizeof(conninfo),
		 "host=127.0.0.1 port=%s user=portail dbname=postgres", pg_port); /* default sslmode: TLS */
	snprintf(listen_at, sizeof(listen_at), "%s:0", ns.host_ip);
	/* each portal says "listening" once its pool's 4 TLS connections are
	 * up: 30 s bounds a hang, on a machine busy with other tests too */
	{
		char *argv[] = { portal_bin, "--listen", listen_at, "--conninfo", conninfo,
				 "--pool", "4", "--tag", "portail", NULL };
		char *plain[] = { portal_bin, "--listen", listen_at, "--conninfo", conninfo,
				  "--pool", "4", NULL };

		if (child_spawn(&portal, &capture, argv) ||
		    child_readline(&portal, line, sizeof(line), 30000) ||
		    sscanf(line, "listening %d", &port) != 1 ||
		    child_spawn(&portal_plain, &capture, plain) ||
		    child_readline(&portal_plain, line, sizeof(line), 30000) ||
		    sscanf(line, "listening %d", &plain_port) != 1) {
			CHECK(false, "portals started");
			return live_finish();
		}
	}
	live_log("portal on %s:%d (tagging) and %s:%d (not tagging), pools of 4 connections as "
		 "portail", ns.host_ip, port, ns.host_ip, plain_port);
	script = client_script(ns.host_ip, port, plain_port, live_tmpdir());
	snprintf(stop, sizeof(stop), "%s/stop", live_tmpdir());
	in_ns.netns = ns.name;
	{
		char *argv[] = { "/bin/sh", script, NULL };

		if (!script || child_spawn(&clients, &in_ns, argv)) {
			CHECK(false, "advisors' clients started");
			return live_finish();
		}
	}
	snprintf(path, sizeof(path), "%s/agt%04d.done", live_tmpdir(), THIEF);
	for (int i = 0; i < (WARMUP_S + EXTRACT_S + 30) * 10 && access(path, F_OK); i++)
		usleep(100000);
	snprintf(path, sizeof(path), "%s/adv%04d.done", live_tmpdir(), THIEF);
	for (int i = 0; i < 300 && access(path, F_OK); i++)
		usleep(100000);
	CHECK(access(path, F_OK) == 0, "the extractions ran their %d s", EXTRACT_S);
	if (live_write_file("stop", "") == NULL)
		CHECK(false, "stop file written");
	/* each client ends after its current request (at most curl's 60 s) */
	child_wait(&clients, 90000);
	{
		char *fp = live_path("failed"), *failed = live_read_file(fp, NULL);

		/* a request cut short leaves records the portal read that its
		 * client never got: the exact counts below would differ */
		CHECK(!failed, "every client request completed (failed: %s)",
		      failed ? failed : "none");
		free(failed);
		free(fp);
	}
	child_kill(&portal);
	child_wait(&portal, 5000);
	child_kill(&portal_plain);
	child_wait(&portal_plain, 5000);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	{
		char *s;

		snprintf(path, sizeof(path), "%s/adv%04d.start", live_tmpdir(), THIEF);
		s = live_read_file(path, NULL);
		t_start = s ? strtod(s, NULL) : -1;
		free(s);
		snprintf(path, sizeof(path), "%s/agt%04d.start", live_tmpdir(), THIEF);
		s = live_read_file(path, NULL);
		t_plain = s ? strtod(s, NULL) : -1;
		free(s);
	}
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}

	live_section("records per application user, exact (the pool's connections are TLS)");
	CHECK(jint(events_find(&ev, "sensor-stop"), "vigie.stats.postgres.tls_writes", 0) > 1000,
	      "the portal's connections used TLS, as libpq does by default on a server with "
	      "ssl = on (%lld plaintext writes walked)",
	      jint(events_find(&ev, "sensor-stop"), "vigie.stats.postgres.tls_writes", 0));
	for (int i = 1; i <= N_ADV; i++) {
		char user[16];
		long long got, want;

		snprintf(user, sizeof(user), "adv%04d", i);
		snprintf(path, sizeof(path), "%s/%s.rows", live_tmpdir(), user);
		want = count_lines(path);
		got = app_records(&ev, user);
		CHECK(want > 0 && got == want, "%s: Vigie counted %lld records, its client received %lld",
		      user, got, want);
	}

	live_section("alerts");
	{
		/* what a missing alert needs to be understood: the thieves'
		 * volumes and what detection did */
		json_t *stop_ev = events_find(&ev, "sensor-stop");
		long long adv_rows, agt_rows;
		char user[16], who[1024];

		snprintf(user, sizeof(user), "adv%04d", THIEF);
		snprintf(path, sizeof(path), "%s/%s.rows", live_tmpdir(), user);
		adv_rows = count_lines(path);
		snprintf(path, sizeof(path), "%s/agt%04d.rows", live_tmpdir(), THIEF);
		agt_rows = count_lines(path);
		live_log("%s received %lld records (Vigie counted %lld); agt%04d received %lld; "
			 "detection: %lld alerts, %lld suppressed, %lld principals, %lld ticks",
			 user, adv_rows, app_records(&ev, user), THIEF, agt_rows,
			 jint(stop_ev, "vigie.stats.detection.alerts", -1),
			 jint(stop_ev, "vigie.stats.detection.suppressed", -1),
			 jint(stop_ev, "vigie.stats.detection.principals", -1),
			 jint(stop_ev, "vigie.stats.ticks", -1));
		alerted(&ev, who, sizeof(who));
		live_log("alerts: %s", who);
	}
	{
		char thief_ip[32];
		json_t *a;

		snprintf(id, sizeof(id), "adv%04d@portail", THIEF);
		a = first_alert(&ev, "app_user", id);
		CHECK(a != NULL, "an alert naming application user %s", id);
		if (a) {
			double lat = live_parse_ts(jstr(a, "@timestamp")) - t_start;

			live_log("%s", jstr(a, "message"));
			CHECK(t_start > 0 && lat >= 0 && lat <= 60,
			      "application user alert %.1f s after the extraction's start (want <= 60)", lat);
			/* user.name is an OS user: the advisor is vigie.app_user */
			CHECK(!jpath(a, "user.name"), "no user.name on an application user's alert");
			ASSERT_EQ_STR(jstr(a, "vigie.app_user"), "adv0013", "vigie.app_user");
			{
				char *rel = json_dumps(jpath(a, "related.user"), JSON_COMPACT);

				ASSERT_EQ_STR(rel, "[\"adv0013\",\"portail\"]", "related.user");
				free(rel);
			}
			ASSERT_EQ_STR(jstr(a, "vigie.app_name"), "portail", "vigie.app_name");
			ASSERT_EQ_STR(jstr(a, "vigie.db_user"), "portail", "vigie.db_user");
		}
		snprintf(thief_ip, sizeof(thief_ip), "10.215.%d.%d", NET_IDX, 9 + THIEF);
		a = first_alert(&ev, "peer", thief_ip);
		CHECK(a != NULL, "an alert naming the extracting address %s (portal host)", thief_ip);
		if (a) {
			double lat = live_parse_ts(jstr(a, "@timestamp")) - t_start;

			live_log("%s", jstr(a, "message"));
			CHECK(t_start > 0 && lat >= 0 && lat <= 60,
			      "address alert %.1f s after the extraction's start (want <= 60)", lat);
			CHECK(names_process(a, portal_bin), "the address alert names the portal process");
			ASSERT_EQ_STR(jstr(a, "destination.ip"), thief_ip, "destination.ip of the peer alert");
		}
		for (int i = 1; i <= N_ADV; i++) {
			char ip[32];

			if (i == THIEF)
				continue;
			snprintf(id, sizeof(id), "adv%04d@portail", i);
			snprintf(ip, sizeof(ip), "10.215.%d.%d", NET_IDX, 9 + i);
			CHECK(!first_alert(&ev, "app_user", id) && !first_alert(&ev, "peer", ip),
			      "no alert for honest advisor %s (%s)", id, ip);
		}
	}
	live_section("every event conforms to ECS (tests/data/ecs)");
	live_check_ecs(&ev, v.out_path);
	live_section("the portal that does not tag");
	{
		char thief_ip[32];
		size_t app_alerts = 0;
		json_t *a;

		snprintf(thief_ip, sizeof(thief_ip), "10.215.%d.%d", NET_IDX, 39 + THIEF);
		a = first_alert(&ev, "peer", thief_ip);
		CHECK(a != NULL, "an alert naming the extracting address %s", thief_ip);
		if (a) {
			double lat = live_parse_ts(jstr(a, "@timestamp")) - t_plain;

			CHECK(t_plain > 0 && lat >= 0 && lat <= 60,
			      "address alert %.1f s after the extraction's start (want <= 60)", lat);
			CHECK(names_process(a, portal_bin), "the address alert names the portal process");
			ASSERT_EQ_STR(jstr(a, "destination.ip"), thief_ip, "destination.ip of the peer alert");
		}
		for (int i = 1; i <= N_PLAIN; i++) {
			char ip[32];

			if (i == THIEF)
				continue;
			snprintf(ip, sizeof(ip), "10.215.%d.%d", NET_IDX, 39 + i);
			CHECK(!first_alert(&ev, "peer", ip), "no alert for honest agent address %s", ip);
		}
		for (size_t i = 0; i < ev.n; i++) {
			const char *k = jstr(ev.ev[i], "vigie.principal.kind"),
				   *p = jstr(ev.ev[i], "vigie.principal.id");

			app_alerts += k && p && !strcmp(k, "app_user") && !strncmp(p, "agt", 3);
		}
		ASSERT_EQ_INT(app_alerts, 0, "no application user guessed for untagged requests");
	}
	events_free(&ev);
	netns_destroy(&ns);
	return live_finish();
}
