// SPDX-License-Identifier: GPL-2.0
/*
 * Live: every event a real sensor writes conforms to ECS. Vigie with the
 * built-in defaults; a throw-away PostgreSQL read over TCP by its own role
 * (1,000 rows), and 120 MB sent to a new peer in a network namespace (over
 * the 100 MB ceiling of a new principal: an alert). Checks the new ECS
 * fields with exact figures (source.bytes, destination.bytes, related.*,
 * network.direction, host.id, event.id unique, rule.*, reals, event.outcome
 * of sensor-stop), then runs the checker in process and
 * build/tools/ecs-check (exit 0; 1 on a copy with one event broken), and
 * checks every field is mapped by packaging/siem/vigie-index-template.json.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

#define ROLE "ecsreader"
#define ROWS 1000
#define XFER 120000000ll
#define NET_IDX 197

static bool has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

int main(void)
{
	struct netns ns = { 0 };
	struct spawn_opts in_ns = { 0 };
	struct child sink;
	struct vigie v;
	struct events ev;
	const char *psql, *port;
	char portbuf[16], bytes[32], broken[600];
	long long sent = -1, src_bytes = 0, rows = 0, dst_bytes = 0, db_bytes = 0;
	int sink_port, egress_events = 0, db_events = 0, rel_ok = 0, ids_unique = 1;
	pid_t pid = 0;
	json_t *a, *ids;

	live_init("ecs");
	live_on_cleanup(pgcluster_stop);
	if (pgcluster_start() || !(port = getenv("PGPORT")) || !(psql = pgcluster_psql())) {
		CHECK(false, "throw-away PostgreSQL cluster started");
		return live_finish();
	}
	CHECK(live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U postgres -d postgres "
		      "-o /dev/null -c \"CREATE TABLE t AS SELECT i, repeat('r', 50) AS pad FROM "
		      "generate_series(1, %d) i; CREATE ROLE " ROLE " LOGIN; GRANT SELECT ON t TO "
		      ROLE "\"", psql, port, ROWS) == 0, "table of %d rows, role " ROLE, ROWS);
	if (netns_create(&ns, "ecs", NET_IDX)) {
		CHECK(false, "network namespace created");
		return live_finish();
	}
	in_ns.netns = ns.name;
	if (vigie_start(&v, NULL, "--tick", "0.5", "--usage-interval", "2", "--heartbeat", "2",
			NULL)) {
		CHECK(false, "vigie started with the built-in defaults");
		return live_finish();
	}
	CHECK(live_sh("'%s' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p %s -U " ROLE " -d postgres "
		      "-o /dev/null -c 'SELECT * FROM t'", psql, port) == 0,
	      "%d rows read by " ROLE " over TCP", ROWS);
	sink_port = tg_server(&sink, &in_ns, "sink", "0", NULL);
	snprintf(portbuf, sizeof(portbuf), "%d", sink_port);
	snprintf(bytes, sizeof(bytes), "%lld", XFER);
	CHECK(sink_port > 0 && tg_run(&pid, &sent, NULL, "send", ns.ns_ip, portbuf, bytes, NULL) == 0,
	      "120 MB sent to %s:%d", ns.ns_ip, sink_port);
	ASSERT_EQ_INT(sent, XFER, "bytes sent by trafficgen");
	child_wait(&sink, 5000);
	CHECK(vigie_wait_action(&v, "exfiltration-volume", 10000), "an alert written");
	usleep(4500 * 1000); /* the last usage interval and a heartbeat */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path)) {
		CHECK(false, "events loaded");
		return live_finish();
	}
	ASSERT_EQ_INT((long long)ev.bad_lines, 0, "lines that are not one JSON object");

	live_section("ECS fields, exact");
	ids = json_object();
	for (size_t i = 0; i < ev.n; i++) {
		json_t *e = ev.ev[i];
		const char *act = jstr(e, "event.action"), *id = jstr(e, "event.id");
		const char *dst = jstr(e, "destination.ip"), *du = jstr(e, "vigie.db_user");

		if (!id || json_object_get(ids, id))
			ids_unique = 0;
		else
			json_object_set_new(ids, id, json_true());
		if (!act || strcmp(act, "usage"))
			continue;
		if (dst && !strcmp(dst, ns.ns_ip) && jint(e, "process.pid", 0) == pid) {
			egress_events++;
			src_bytes += jint(e, "source.bytes", -1);
			rel_ok += has(jpath(e, "related.ip"), ns.ns_ip) &&
				  !strcmp(jstr(e, "network.direction") ?: "", "egress");
		}
		if (du && !strcmp(du, ROLE) && !strcmp(jstr(e, "vigie.class") ?: "", "db_server")) {
			db_events++;
			rows += jint(e, "vigie.rows", 0);
			dst_bytes += jint(e, "destination.bytes", -1);
			db_bytes += jint(e, "vigie.bytes", 0);
			rel_ok += has(jpath(e, "related.user"), ROLE) &&
				  has(jpath(e, "related.user"), "postgres") &&
				  !strcmp(jstr(e, "user.name") ?: "", "postgres") &&
				  has(jpath(e, "related.ip"), "127.0.0.1") &&
				  !strcmp(jstr(e, "network.direction") ?: "", "ingress");
		}
	}
	json_decref(ids);
	CHECK(ids_unique, "event.id present and unique over %zu events", ev.n);
	CHECK(egress_events > 0, "usage events of the transfer (%d)", egress_events);
	ASSERT_EQ_INT(src_bytes, XFER, "source.bytes of the transfer's usage events");
	CHECK(db_events > 0, "db_server usage events of " ROLE " (%d)", db_events);
	ASSERT_EQ_INT(rows, ROWS, "vigie.rows of " ROLE);
	ASSERT_EQ_INT(dst_bytes, db_bytes, "destination.bytes = vigie.bytes (db_server)");
	ASSERT_EQ_INT(rel_ok, egress_events + db_events,
		      "usage events with related.*, user.name and network.direction as expected");
	{
		char *mid = live_read_file("/etc/machine-id", NULL);

		if (mid)
			mid[strcspn(mid, " \n")] = '\0';
		ASSERT_EQ_STR(jstr(events_find(&ev, "sensor-start"), "host.id"), mid,
			      "host.id of sensor-start is /etc/machine-id");
		free(mid);
	}
	ASSERT_EQ_STR(jstr(events_find(&ev, "sensor-stop"), "event.outcome"), "success",
		      "event.outcome of sensor-stop (SIGTERM)");
	a = NULL;
	for (size_t i = 0; i < ev.n && !a; i++)
		if (!strcmp(jstr(ev.ev[i], "event.action") ?: "", "exfiltration-volume") &&
		    has(jpath(ev.ev[i], "related.ip"), ns.ns_ip))
			a = ev.ev[i];
	CHECK(a != NULL, "an alert naming %s in related.ip", ns.ns_ip);
	if (a) {
		live_log("%s", jstr(a, "message"));
		ASSERT_EQ_STR(jstr(a, "rule.id"), "vigie-exfiltration-volume-egress_bytes", "rule.id");
		ASSERT_EQ_STR(jstr(a, "rule.ruleset"), "vigie", "rule.ruleset");
		CHECK(json_is_real(jpath(a, "vigie.ratio")) && json_is_real(jpath(a, "event.risk_score")),
		      "vigie.ratio and event.risk_score are JSON reals");
	}

	live_section("every event conforms to ECS (tests/data/ecs)");
	live_check_ecs(&ev, v.out_path);
	ASSERT_EQ_INT(live_sh("'%s/tools/ecs-check' -q -d '%s' '%s' 2>/dev/null", live_build_dir(),
			      live_source_path("tests/data/ecs"), v.out_path),
		      0, "build/tools/ecs-check exit status");
	snprintf(broken, sizeof(broken), "%s/broken.json", live_tmpdir());
	ASSERT_EQ_INT(live_sh("sed '2s/\"kind\":\"[a-z]*\"/\"kind\":\"metrics\"/' '%s' > '%s' && "
			      "'%s/tools/ecs-check' -q -d '%s' '%s' 2>/dev/null", v.out_path, broken,
			      live_build_dir(), live_source_path("tests/data/ecs"), broken), 1,
		      "ecs-check exit status with event.kind 'metrics' on line 2");
	events_free(&ev);
	netns_destroy(&ns);
	return live_finish();
}
