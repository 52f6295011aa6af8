// SPDX-License-Identifier: GPL-2.0
/* ECS conformance: every golden event passes the checker (tools/ecs-check's
 * functions over tests/data/ecs), and hand-made bad events are rejected,
 * each naming its field. */
#define _GNU_SOURCE
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/event.h"
#include "output/ecs_check.h"

static struct ecs_schema *schema;
static json_t *tpl; /* packaging/siem/vigie-index-template.json */

static void test_goldens(void)
{
	glob_t g;
	int files = 0, lines = 0, good = 0, mapped = 0;
	char err[512];

	CHECK_EQ_INT(glob("tests/golden/replay/*/expected.jsonl", 0, NULL, &g), 0);
	CHECK_EQ_INT(glob("tests/golden/usage/expected.jsonl", GLOB_APPEND, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		char *line = NULL;
		size_t cap = 0;
		int n = 0;

		CHECK(f != NULL);
		if (!f)
			continue;
		files++;
		while (getline(&line, &cap, f) > 0) {
			lines++;
			n++;
			json_t *ev = json_loads(line, 0, NULL);

			if (ev && ecs_template_check(tpl, ev, err, sizeof(err)) == 0)
				mapped++;
			else
				fprintf(stderr, "%s:%d: %s\n", g.gl_pathv[i], n, err);
			json_decref(ev);
			if (ecs_check_line(schema, line, err, sizeof(err)) == 0)
				good++;
			else
				fprintf(stderr, "%s:%d: %s\n", g.gl_pathv[i], n, err);
		}
		free(line);
		fclose(f);
	}
	globfree(&g);
	CHECK_EQ_INT(files, 10); /* one per golden replay directory */
	CHECK(lines >= 80);
	CHECK_EQ_INT(good, lines);
	CHECK_EQ_INT(mapped, lines);
}

/* A conforming alert, built by the same helpers as the daemon's. */
static json_t *good_alert(void)
{
	json_t *ev = event_new(1795416000000000000ull, "alert", "intrusion_detection", "info",
			       "exfiltration-volume");

	event_set(ev, "event.risk_score", json_real(78));
	event_set(ev, "event.severity", json_integer(73));
	event_set(ev, "user.name", json_string("postgres"));
	event_set(ev, "user.audit.name", json_string("alice"));
	event_set(ev, "destination.address", json_string("10.0.0.1"));
	event_set(ev, "destination.ip", json_string("10.0.0.1"));
	event_set(ev, "vigie.ratio", json_real(400));
	event_set(ev, "vigie.db_user", json_string("adv1"));
	event_set(ev, "vigie.top_peers", json_pack("[{s:s,s:i}]", "id", "10.0.0.1", "volume", 5));
	event_set(ev, "vigie.episode.opened", json_string("2026-11-23T06:40:00.000000Z"));
	event_set(ev, "rule.id", json_string("vigie-exfiltration-volume-db_rows"));
	event_relate(ev);
	return ev;
}

/* The good alert with one field replaced (value NULL: removed) must be
 * rejected with a message starting with want. */
static void expect_bad(const char *path, json_t *value, const char *want)
{
	json_t *ev = good_alert();
	char err[512] = "";
	int rc;

	if (value) {
		event_set(ev, path, value);
	} else {
		char parent[64];
		const char *dot = strrchr(path, '.');

		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
		json_object_del(json_object_get(ev, parent), dot + 1);
	}
	rc = ecs_check_event(schema, ev, err, sizeof(err));
	CHECK_EQ_INT(rc, -1);
	if (strncmp(err, want, strlen(want)))
		fprintf(stderr, "  %s: got \"%s\", want \"%s...\"\n", path, err, want);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	json_decref(ev);
}

static void test_bad_events(void)
{
	json_t *ev = good_alert();
	char err[512] = "";

	CHECK_EQ_INT(ecs_check_event(schema, ev, err, sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	json_decref(ev);

	expect_bad("vigie.ratio", json_integer(400),
		   "vigie.ratio: double field holds an integer (400)");
	expect_bad("event.risk_score", json_integer(78),
		   "event.risk_score: float field holds an integer (78)");
	expect_bad("vigie.ratioo", json_real(1), "vigie.ratioo: unknown field");
	expect_bad("user.nmae", json_string("x"), "user.nmae: unknown field");
	expect_bad("event.type", json_pack("[s]", "creation"),
		   "event.type: \"creation\" is not expected with event.category "
		   "\"intrusion_detection\"");
	expect_bad("event.category", json_pack("[s]", "exfiltration"),
		   "event.category: \"exfiltration\" is not an allowed value");
	expect_bad("event.kind", json_string("alarm"), "event.kind: \"alarm\" is not an allowed value");
	expect_bad("event.type", json_pack("[s]", "information"),
		   "event.type: \"information\" is not an allowed value");
	expect_bad("event.category", json_string("intrusion_detection"),
		   "event.category: array field holds a single value");
	expect_bad("related.user", json_string("postgres"),
		   "related.user: array field holds a single value");
	expect_bad("destination.ip", json_string("db.example"),
		   "destination.ip: not an IP address");
	expect_bad("related.ip", json_pack("[s]", "10.0.0.300"), "related.ip: not an IP address");
	expect_bad("destination.port", json_string("5432"),
		   "destination.port: long field holds a non-number");
	expect_bad("vigie.episode.opened", json_string("yesterday"),
		   "vigie.episode.opened: not an RFC 3339 date");
	expect_bad("vigie.records.estimate", json_string("true"),
		   "vigie.records.estimate: boolean field holds a non-boolean");
	expect_bad("vigie.top_peers", json_pack("{s:s}", "id", "x"),
		   "vigie.top_peers: nested field holds an object");
	expect_bad("vigie.top_peers", json_pack("[{s:s}]", "ip", "x"),
		   "vigie.top_peers.ip: unknown field");
	expect_bad("user.name", json_pack("{s:s}", "first", "x"),
		   "user.name: keyword field holds an object");
	expect_bad("user.name", json_string(""), "user.name: empty string");
	expect_bad("event.id", NULL, "event.id: missing");
	expect_bad("ecs.version", NULL, "ecs.version: missing");

	ev = good_alert();
	json_object_set_new(ev, "user.name", json_string("x"));
	CHECK_EQ_INT(ecs_check_event(schema, ev, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "user.name: dotted or empty key (write objects)");
	json_decref(ev);
	CHECK_EQ_INT(ecs_check_line(schema, "{\"a\":", err, sizeof(err)), -1);
	CHECK(strncmp(err, "not JSON: ", 10) == 0);
	CHECK_EQ_INT(ecs_check_line(schema, "[1]", err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "event is not a JSON object");
}

static void test_schema(void)
{
	char err[512] = "";
	struct ecs_schema *s = ecs_schema_load("/nonexistent", err, sizeof(err));

	CHECK(s == NULL);
	CHECK_EQ_STR(err, "/nonexistent/ecs_fields.tsv: No such file or directory");
	/* 240 ECS fields of the subset, 190 of Vigie's */
	CHECK_EQ_INT((int)ecs_schema_fields(schema), 240 + 190);
}

int main(void)
{
	char err[512] = "";

	schema = ecs_schema_load("tests/data/ecs", err, sizeof(err));
	if (!schema) {
		fprintf(stderr, "%s\n", err);
		CHECK(schema != NULL);
		return check_summary();
	}
	tpl = json_load_file("packaging/siem/vigie-index-template.json", 0, NULL);
	CHECK(tpl != NULL);
	CHECK_EQ_STR(ecs_template_type(tpl, "vigie.ratio"), "double");
	CHECK_EQ_STR(ecs_template_type(tpl, "vigie.episode.max_ratio"), "double");
	CHECK_EQ_STR(ecs_template_type(tpl, "user.audit.name"), "keyword");
	CHECK_EQ_STR(ecs_template_type(tpl, "related.ip"), "ip");
	CHECK_EQ_STR(ecs_template_type(tpl, "event.risk_score"), "float");
	CHECK_EQ_STR(ecs_template_type(tpl, "event.outcome"), "keyword");
	CHECK_EQ_STR(ecs_template_type(tpl, "vigie.app_users"), "object");
	CHECK_EQ_STR(ecs_template_type(tpl, "vigie.app_users.records"), "long");
	CHECK(ecs_template_type(tpl, "vigie.nope") == NULL);
	{
		json_t *ev = json_pack("{s:{s:i}}", "vigie", "ratio", 3);

		CHECK_EQ_INT(ecs_template_check(tpl, ev, err, sizeof(err)), -1);
		CHECK_EQ_STR(err, "vigie.ratio: mapped as double by the index template");
		json_decref(ev);
		ev = json_pack("{s:{s:s}}", "vigie", "nope", "x");
		CHECK_EQ_INT(ecs_template_check(tpl, ev, err, sizeof(err)), -1);
		CHECK_EQ_STR(err, "vigie.nope: not mapped by the index template");
		json_decref(ev);
	}
	test_schema();
	test_goldens();
	test_bad_events();
	ecs_schema_free(schema);
	json_decref(tpl);
	return check_summary();
}
