// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/contain/: the containment section, peers, the
 * kernel's session quarantine keys, and the policy from alerts to actions
 * (recorded, not done), its limits, events and releases. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>
#include "base/event.h"
#include "contain/contain.h"
#include "contain/contain_keys.h"
#include "contain/contain_proc.h"
#include "check.h"

#define S 1000000000ull

static int parse(const char *text, bool det_on, struct contain_config *c, char *err, size_t n)
{
	json_error_t je;
	json_t *j = text ? json_loads(text, 0, &je) : NULL;
	int r;

	if (text && !j)
		return -2;
	r = contain_config_parse(j, det_on, c, err, n);
	json_decref(j);
	return r;
}

static void test_config(void)
{
	struct contain_config c;
	char err[256] = "";
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{\"mode\": \"on\"}", "containment.mode: must be \"off\", \"dry-run\" or \"enforce\"" },
		{ "{\"on_severity\": \"low\"}", "containment.on_severity: must be" },
		{ "{\"quarantine_s\": 0.5}", "containment.quarantine_s: must be from 1 second" },
		{ "{\"quarantine_s\": \"soon\"}", "containment.quarantine_s: not a duration" },
		{ "{\"quarantine_s\": 864000}", "containment.quarantine_s: must be from" },
		{ "{\"metrics\": [\"rows\"]}", "containment.metrics: item 0: unknown name \"rows\"" },
		{ "{\"metrics\": []}", "containment.metrics: must be a non-empty array" },
		{ "{\"kinds\": [\"db_user\", 3]}", "containment.kinds: item 1: unknown name" },
		{ "{\"never\": [\"alice\"]}", "containment.never: item 0: must be \"KIND:PATTERN\"" },
		{ "{\"never\": [\"host:x\"]}", "containment.never: item 0" },
		{ "{\"never\": \"db_user:x\"}", "containment.never: must be an array" },
		{ "{\"max_actions_per_hour\": 0}", "containment.max_actions_per_hour: must be an "
						  "integer from 1 to 1000" },
		{ "{\"max_actions_per_hour\": 2.5}", "containment.max_actions_per_hour" },
		{ "{\"actions\": {\"kill\": true}}", "containment.actions: unknown field \"kill\"" },
		{ "{\"actions\": {\"end_sessions\": false, \"block_peers\": false}}",
		  "containment.actions: every action is off" },
		{ "{\"actions\": {\"stop_processes\": 1}}",
		  "containment.actions.stop_processes: must be true or false" },
		{ "{\"mode\": \"enforce\", \"typo\": 1}", "containment.typo: unknown field" },
		{ "[1]", "containment: must be an object" },
	};

	/* defaults: off, critical, 900 s, sessions and peers, no SIGSTOP */
	CHECK_EQ_INT(parse(NULL, true, &c, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.mode, CONTAIN_OFF);
	CHECK_EQ_INT(c.on_severity, 3);
	CHECK_NEAR(c.quarantine_s, 900, 0);
	CHECK(c.end_sessions && c.block_peers && !c.stop_processes);
	CHECK_EQ_INT(c.max_actions_per_hour, 10);
	CHECK(c.kinds[PK_DB_USER] && c.kinds[PK_PEER] && c.metrics[M_EGRESS_BYTES]);
	contain_config_free(&c);

	CHECK_EQ_INT(parse("{\"mode\": \"enforce\", \"on_severity\": \"high\", \"quarantine_s\": "
			   "\"15m\", \"kinds\": [\"db_user\"], \"metrics\": [\"db_rows\"], "
			   "\"never\": [\"db_user:postgres\", \"peer:10.*\"], \"actions\": "
			   "{\"stop_processes\": true}, \"max_actions_per_hour\": 3}",
			   true, &c, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.mode, CONTAIN_ENFORCE);
	CHECK_EQ_INT(c.on_severity, 2);
	CHECK_NEAR(c.quarantine_s, 900, 0);
	CHECK(c.kinds[PK_DB_USER] && !c.kinds[PK_USER] && c.metrics[M_DB_ROWS] &&
	      !c.metrics[M_EGRESS_BYTES]);
	CHECK_EQ_INT(c.n_never, 2);
	CHECK(c.stop_processes && c.end_sessions);
	CHECK_EQ_INT(c.max_actions_per_hour, 3);
	contain_config_free(&c);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(parse(bad[i].json, true, &c, err, sizeof(err)), -1);
		CHECK_MSG(strstr(err, bad[i].msg) != NULL, "%s: '%s', want '%s'", bad[i].json, err,
			  bad[i].msg);
		CHECK_EQ_INT(c.mode, CONTAIN_OFF); /* refused: nothing half set */
		contain_config_free(&c);
	}
	/* unsafe: acting with nothing to trigger it */
	CHECK_EQ_INT(parse("{\"mode\": \"dry-run\"}", false, &c, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "containment.mode: needs detection (detection.enabled is false): nothing "
			  "would ever trigger it");
	CHECK_EQ_INT(parse("{\"mode\": \"off\"}", false, &c, err, sizeof(err)), 0);
}

static void test_peers(void)
{
	struct contain_addr a;

	CHECK_EQ_INT(contain_parse_peer("203.0.113.5:443", &a), 0);
	CHECK_EQ_INT(a.family, AF_INET);
	CHECK_EQ_STR(a.text, "203.0.113.5");
	CHECK_EQ_INT(contain_parse_peer("203.0.113.5", &a), 0);
	CHECK_EQ_STR(a.text, "203.0.113.5");
	CHECK_EQ_INT(contain_parse_peer("[2001:db8::1]:443", &a), 0);
	CHECK_EQ_INT(a.family, AF_INET6);
	CHECK_EQ_STR(a.text, "2001:db8::1");
	CHECK_EQ_INT(contain_parse_peer("2001:db8::2", &a), 0);
	CHECK_EQ_STR(a.text, "2001:db8::2");
	CHECK_EQ_INT(contain_parse_peer("[::ffff:10.1.2.3]:80", &a), 0);
	CHECK_EQ_INT(a.family, AF_INET);
	CHECK_EQ_STR(a.text, "10.1.2.3");
	CHECK_EQ_INT(contain_parse_peer("example.org:443", &a), -1);
	CHECK_EQ_INT(contain_parse_peer("", &a), -1);
	CHECK_EQ_INT(contain_parse_peer(NULL, &a), -1);
	CHECK_EQ_INT(contain_parse_peer("[::1", &a), -1);
}

static void test_keys(void)
{
	struct app_user_cfg au = { 0 };
	struct pgwire_guard_key k[2];
	json_t *j;
	char err[128];

	CHECK_EQ_INT(contain_guard_keys(&au, PK_DB_USER, "thief", k, 2), 1);
	CHECK_EQ_INT(k[0].kind, PGWIRE_GUARD_LOGIN_ROLE);
	CHECK_EQ_INT(k[0].len, 5);
	CHECK(!memcmp(k[0].value, "thief\0\0", 7));
	/* no databases.app_user: an application user has no key */
	CHECK_EQ_INT(contain_guard_keys(&au, PK_APP_USER, "alice@portail", k, 2), 0);
	CHECK_EQ_INT(contain_guard_keys(&au, PK_PEER, "10.0.0.1", k, 2), 0);

	j = json_pack("{s:s}", "pattern", "portail/{user}");
	CHECK_EQ_INT(app_user_parse(j, &au, err, sizeof(err)), 0);
	json_decref(j);
	CHECK_EQ_INT(contain_guard_keys(&au, PK_APP_USER, "alice@portail", k, 2), 1);
	CHECK_EQ_INT(k[0].kind, PGWIRE_GUARD_APP_NAME);
	CHECK_EQ_STR(k[0].value, "portail/alice");
	/* a user name with an '@' in it */
	CHECK_EQ_INT(contain_guard_keys(&au, PK_APP_USER, "a.b@x.fr@portail", k, 2), 1);
	CHECK_EQ_STR(k[0].value, "portail/a.b@x.fr");
	/* what the pattern cannot have produced */
	CHECK_EQ_INT(contain_guard_keys(&au, PK_APP_USER, "alice@other", k, 2), 0);
	app_user_free(&au);

	j = json_pack("{s:s,s:b}", "pattern", "{app}:{user}", "session_authorization", 1);
	CHECK_EQ_INT(app_user_parse(j, &au, err, sizeof(err)), 0);
	json_decref(j);
	CHECK_EQ_INT(contain_guard_keys(&au, PK_APP_USER, "bob@crm", k, 2), 2);
	CHECK_EQ_STR(k[0].value, "crm:bob");
	CHECK_EQ_INT(k[1].kind, PGWIRE_GUARD_SET_ROLE);
	CHECK_EQ_STR(k[1].value, "bob");
	app_user_free(&au);
}

/* ---- the policy, with recorded operations ---- */

struct rec {
	char log[4096];
	int fail_end; /* end_db_sessions returns this */
	int fail_guard; /* guard_sessions (on) returns this */
	json_t *events;
};

static void logf_(struct rec *r, const char *what, const char *a, const char *b)
{
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s(%s%s%s);", what, a, b[0] ? "," : "", b);
}

static int r_end_db(void *ctx, const char *db_user, json_t *detail)
{
	struct rec *r = ctx;

	logf_(r, "end_db", db_user, "");
	if (r->fail_end)
		return r->fail_end;
	json_object_set_new(detail, "pids", json_pack("[ii]", 4242, 4243));
	json_object_set_new(detail, "sessions", json_integer(2));
	return 0;
}

static int r_end_app(void *ctx, uint32_t pid, const char *app_user, json_t *detail)
{
	char p[16];

	(void)detail;
	snprintf(p, sizeof(p), "%u", pid);
	logf_(ctx, "end_app", p, app_user);
	return 0;
}

static int r_guard(void *ctx, enum principal_kind kind, const char *id, uint64_t until, bool on)
{
	(void)until;
	char k[300];

	snprintf(k, sizeof(k), "%s:%s", principal_kind_name(kind), id);
	logf_(ctx, on ? "guard" : "unguard", k, "");
	return on ? ((struct rec *)ctx)->fail_guard : 0;
}

static int r_conns(void *ctx, const struct contain_addr *a, json_t *detail)
{
	logf_(ctx, "end_conns", a->text, "");
	json_object_set_new(detail, "connections", json_integer(1));
	return 0;
}

static int r_block(void *ctx, const struct contain_addr *a, uint64_t until, bool on)
{
	(void)until;
	logf_(ctx, on ? "block" : "unblock", a->text, "");
	return 0;
}

static int r_stop(void *ctx, uint32_t pid, const char *process_id, json_t *detail)
{
	char p[16];

	(void)detail;
	snprintf(p, sizeof(p), "%u", pid);
	logf_(ctx, "stop", p, process_id ? process_id : "-");
	return 0;
}

static const struct contain_ops rec_ops = { r_end_db, r_end_app, r_guard, r_conns, r_block,
					    r_stop };

static void collect(json_t *ev, void *ctx)
{
	struct rec *r = ctx;

	json_array_append_new(r->events, ev);
}

static json_t *alert(const char *sev, const char *kind, const char *id, const char *metric)
{
	return json_pack("{s:{s:s},s:{s:s,s:{s:s,s:s},s:s,s:{s:s},s:[{s:s,s:i}],s:[{s:s}]}}",
			 "event", "kind", "alert", "vigie", "severity", sev, "principal", "kind",
			 kind, "id", id, "metric", metric, "episode", "id", "1700000000-7",
			 "top_processes", "id", "/usr/bin/curl@jdupont", "pid", 31337, "top_peers",
			 "id", "203.0.113.45:443");
}

static const char *ev_str(struct rec *r, size_t i, const char *path)
{
	json_t *v = json_array_get(r->events, i);
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return json_is_string(v) ? json_string_value(v) : json_is_array(v) ?
		json_string_value(json_array_get(v, 0)) : NULL;
}

static struct containment *make(struct contain_config *cfg, struct detect_config *dc,
				 struct rec *r, const char *json)
{
	char err[256];

	memset(r, 0, sizeof(*r));
	r->events = json_array();
	CHECK_EQ_INT(parse(json, true, cfg, err, sizeof(err)), 0);
	return containment_new(cfg, dc, &rec_ops, r, collect, r);
}

static void test_db_user(struct detect_config *dc)
{
	struct contain_config cfg;
	struct rec r;
	struct containment *c = make(&cfg, dc, &r, "{\"mode\": \"enforce\", \"quarantine_s\": 120}");
	struct contain_stats st;
	json_t *a;

	/* below on_severity: nothing */
	a = alert("high", "db_user", "thief", "db_rows");
	containment_on_alert(c, a, 1 * S, 1700000000 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	CHECK_EQ_INT(json_array_size(r.events), 0);

	a = alert("critical", "db_user", "thief", "db_rows");
	containment_on_alert(c, a, 2 * S, 1700000001 * S);
	CHECK_EQ_STR(r.log, "guard(db_user:thief);end_db(thief);");
	CHECK_EQ_INT(json_array_size(r.events), 2);
	CHECK_EQ_STR(ev_str(&r, 0, "vigie.containment.action"), "quarantine-sessions");
	CHECK_EQ_STR(ev_str(&r, 0, "event.kind"), "alert");
	CHECK_EQ_STR(ev_str(&r, 0, "event.category"), "intrusion_detection");
	CHECK_EQ_STR(ev_str(&r, 0, "event.type"), "denied");
	CHECK_EQ_STR(ev_str(&r, 0, "event.action"), "containment");
	CHECK_EQ_STR(ev_str(&r, 0, "event.outcome"), "success");
	CHECK_EQ_STR(ev_str(&r, 0, "event.dataset"), "vigie.containment");
	CHECK_EQ_STR(ev_str(&r, 0, "vigie.episode.id"), "1700000000-7");
	CHECK_EQ_STR(ev_str(&r, 0, "vigie.containment.until"), "2023-11-14T22:15:21.000000Z");
	CHECK_EQ_STR(ev_str(&r, 0, "vigie.containment.mode"), "enforce");
	CHECK_EQ_STR(ev_str(&r, 1, "vigie.containment.action"), "end-sessions");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_object_get(
		json_array_get(r.events, 1), "vigie"), "containment"), "sessions")), 2);
	CHECK_EQ_STR(ev_str(&r, 1, "message"), "containment (enforce) of db_user thief: ended its "
					       "sessions");
	/* the same principal again: contained already, nothing more */
	containment_on_alert(c, a, 3 * S, 1700000002 * S);
	CHECK_EQ_INT(json_array_size(r.events), 2);
	json_decref(a);

	/* the kernel ends new sessions: said at the next tick, one event for
	 * all of them, with the quarantine's episode */
	containment_kernel_ended(c, 5151, PK_DB_USER, "thief", 1700000010 * S);
	CHECK_EQ_INT(json_array_size(r.events), 2);
	containment_tick(c, 10 * S, 1700000010 * S);
	CHECK_EQ_STR(ev_str(&r, 2, "vigie.containment.by"), "quarantine");
	CHECK_EQ_STR(ev_str(&r, 2, "vigie.episode.id"), "1700000000-7");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_array_get(r.events, 2),
			"process"), "pid")), 5151);
	containment_kernel_ended(c, 5152, PK_DB_USER, "thief", 1700000011 * S);
	containment_kernel_ended(c, 5153, PK_DB_USER, "thief", 1700000011 * S);
	containment_tick(c, 11 * S, 1700000011 * S); /* within the minute: later */
	CHECK_EQ_INT(json_array_size(r.events), 3);
	containment_tick(c, 70 * S, 1700000011 * S);
	CHECK_EQ_INT(json_array_size(r.events), 4);
	CHECK_EQ_STR(ev_str(&r, 3, "message"), "containment (enforce) of db_user thief: 2 new "
					       "sessions ended by its quarantine");
	CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(json_object_get(
		json_array_get(r.events, 3), "vigie"), "containment"), "pids")), 2);
	CHECK(json_object_get(json_array_get(r.events, 3), "process") == NULL);
	containment_tick(c, 71 * S, 1700000012 * S); /* nothing new: no event */
	CHECK_EQ_INT(json_array_size(r.events), 4);
	/* the last ones are said at the release */
	containment_kernel_ended(c, 5154, PK_DB_USER, "thief", 1700000013 * S);

	/* released at the end of its quarantine, not before */
	containment_tick(c, 121 * S, 1700000120 * S);
	CHECK_EQ_INT(json_array_size(r.events), 4);
	containment_tick(c, 122 * S, 1700000121 * S);
	CHECK_EQ_STR(r.log, "guard(db_user:thief);end_db(thief);unguard(db_user:thief);");
	CHECK_EQ_STR(ev_str(&r, 4, "vigie.containment.by"), "quarantine"); /* the last one */
	CHECK_EQ_STR(ev_str(&r, 5, "vigie.containment.action"), "release");
	CHECK_EQ_STR(ev_str(&r, 5, "event.type"), "allowed");
	CHECK_EQ_STR(ev_str(&r, 5, "vigie.containment.reason"), "quarantine_ended");
	containment_stats(c, &st);
	CHECK_EQ_INT(st.alerts_acted, 1);
	CHECK_EQ_INT(st.actions, 2);
	CHECK_EQ_INT(st.kernel_ended, 4);
	CHECK_EQ_INT(st.active, 0);
	/* an end read after the release (the kernel ended it just before the
	 * release removed its keys): said at once, with its pid */
	containment_kernel_ended(c, 5155, PK_DB_USER, "thief", 1700000122 * S);
	CHECK_EQ_INT(json_array_size(r.events), 7);
	CHECK_EQ_STR(ev_str(&r, 6, "vigie.containment.by"), "quarantine");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_array_get(r.events, 6),
			"process"), "pid")), 5155);
	/* one no key names any more: counted, no event */
	containment_kernel_ended(c, 5156, PK_DB_USER, NULL, 1700000123 * S);
	CHECK_EQ_INT(json_array_size(r.events), 7);
	containment_stats(c, &st);
	CHECK_EQ_INT(st.kernel_ended, 6);

	/* a failure is reported, never silent */
	r.fail_end = -ESRCH;
	a = alert("critical", "db_user", "thief", "db_rows");
	containment_on_alert(c, a, 200 * S, 1700000200 * S);
	json_decref(a);
	CHECK_EQ_STR(ev_str(&r, 8, "vigie.containment.action"), "end-sessions");
	CHECK_EQ_STR(ev_str(&r, 8, "event.outcome"), "failure");
	CHECK_EQ_STR(ev_str(&r, 8, "error.message"), "No such process");
	containment_stats(c, &st);
	CHECK_EQ_INT(st.failures, 1);
	containment_free(c);
	json_decref(r.events);
	contain_config_free(&cfg);
}

static void test_egress_and_limits(struct detect_config *dc)
{
	struct contain_config cfg;
	struct rec r;
	struct containment *c =
		make(&cfg, dc, &r, "{\"mode\": \"enforce\", \"max_actions_per_hour\": 2, "
				   "\"never\": [\"db_user:postgres\", \"peer:198.51.100.*\"]}");
	struct contain_stats st;
	json_t *a;

	a = alert("critical", "user", "jdupont", "egress_bytes");
	containment_on_alert(c, a, 1 * S, 1700000000 * S);
	json_decref(a);
	/* the block first, so what the destroy ends cannot reconnect */
	CHECK_EQ_STR(r.log, "block(203.0.113.45);end_conns(203.0.113.45);");
	CHECK_EQ_STR(ev_str(&r, 0, "destination.ip"), "203.0.113.45");
	CHECK_EQ_STR(ev_str(&r, 1, "vigie.containment.action"), "end-connections");

	/* never: the principal, then a peer */
	r.log[0] = '\0';
	a = alert("critical", "db_user", "postgres", "db_rows");
	containment_on_alert(c, a, 2 * S, 1700000001 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	CHECK_EQ_STR(ev_str(&r, 2, "vigie.containment.action"), "skip");
	CHECK_EQ_STR(ev_str(&r, 2, "vigie.containment.reason"), "never");
	a = alert("critical", "peer", "198.51.100.7:443", "egress_bytes");
	containment_on_alert(c, a, 3 * S, 1700000002 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	/* allow-listed in detection (alert: false profiles, allow): never */
	a = alert("critical", "db_user", "batch", "db_rows");
	containment_on_alert(c, a, 4 * S, 1700000003 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	/* no action applies: process of an executable, stop_processes off */
	a = alert("critical", "process", "/usr/bin/pg_dump@bob", "db_rows");
	containment_on_alert(c, a, 5 * S, 1700000004 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	containment_stats(c, &st);
	CHECK_EQ_INT(st.skipped_no_action, 1);
	CHECK_EQ_STR(ev_str(&r, json_array_size(r.events) - 1, "vigie.containment.reason"),
		     "never"); /* no event for it */

	/* the rate: 2 an hour, the third skipped and said */
	a = alert("critical", "db_user", "eve", "db_rows");
	containment_on_alert(c, a, 6 * S, 1700000005 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "guard(db_user:eve);end_db(eve);");
	r.log[0] = '\0';
	a = alert("critical", "db_user", "mallory", "db_rows");
	containment_on_alert(c, a, 7 * S, 1700000006 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "");
	CHECK_EQ_STR(ev_str(&r, json_array_size(r.events) - 1, "vigie.containment.reason"),
		     "rate_limit");
	containment_stats(c, &st);
	CHECK_EQ_INT(st.skipped_rate, 1);
	CHECK_EQ_INT(st.skipped_never, 3);
	CHECK_EQ_INT(st.active, 2);
	/* an hour later the budget is back */
	a = alert("critical", "db_user", "mallory", "db_rows");
	containment_on_alert(c, a, 3602 * S, 1700003601 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "guard(db_user:mallory);end_db(mallory);");
	/* stop: everything released, an event each */
	r.log[0] = '\0';
	containment_release_all(c, 3603 * S, 1700003602 * S);
	CHECK(strstr(r.log, "unblock(203.0.113.45);") && strstr(r.log, "unguard(db_user:eve);") &&
	      strstr(r.log, "unguard(db_user:mallory);"));
	CHECK_EQ_STR(ev_str(&r, json_array_size(r.events) - 1, "vigie.containment.reason"),
		     "sensor_stopped");
	containment_free(c);
	json_decref(r.events);
	contain_config_free(&cfg);
}

static void test_dry_run_and_processes(struct detect_config *dc)
{
	struct contain_config cfg;
	struct rec r;
	struct containment *c = make(&cfg, dc, &r, "{\"mode\": \"dry-run\", \"on_severity\": "
						   "\"medium\", \"actions\": {\"stop_processes\": true}}");
	json_t *a;

	a = alert("medium", "user", "jdupont", "egress_bytes");
	containment_on_alert(c, a, 1 * S, 1700000000 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, ""); /* dry-run: nothing done */
	CHECK_EQ_INT(json_array_size(r.events), 3);
	/* the process first, frozen before its connections end */
	CHECK_EQ_STR(ev_str(&r, 0, "vigie.containment.action"), "stop-process");
	CHECK_EQ_STR(ev_str(&r, 1, "vigie.containment.mode"), "dry-run");
	CHECK_EQ_STR(ev_str(&r, 1, "event.outcome"), "unknown");
	CHECK_EQ_STR(ev_str(&r, 1, "event.type"), "info");
	CHECK_EQ_STR(ev_str(&r, 1, "message"), "containment (dry-run) of user jdupont: would "
					       "refuse connections and datagrams to 203.0.113.45");
	containment_tick(c, 901 * S, 1700000900 * S);
	CHECK_EQ_STR(r.log, "");
	CHECK_EQ_STR(ev_str(&r, 3, "vigie.containment.action"), "release");
	CHECK_EQ_STR(ev_str(&r, 3, "event.outcome"), "unknown");
	containment_free(c);
	json_decref(r.events);
	contain_config_free(&cfg);

	c = make(&cfg, dc, &r, "{\"mode\": \"enforce\", \"actions\": {\"stop_processes\": true, "
			       "\"end_sessions\": false, \"block_peers\": false}}");
	a = alert("critical", "process", "/usr/bin/pg_dump@bob", "db_rows");
	containment_on_alert(c, a, 1 * S, 1700000000 * S);
	json_decref(a);
	a = alert("critical", "app_user", "alice@portail", "db_rows");
	containment_on_alert(c, a, 2 * S, 1700000001 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "stop(0,/usr/bin/pg_dump@bob);");
	containment_free(c);
	json_decref(r.events);
	contain_config_free(&cfg);

	c = make(&cfg, dc, &r, "{\"mode\": \"enforce\"}");
	a = alert("critical", "app_user", "alice@portail", "db_rows");
	containment_on_alert(c, a, 2 * S, 1700000001 * S);
	json_decref(a);
	CHECK_EQ_STR(r.log, "guard(app_user:alice@portail);end_app(31337,alice@portail);");
	/* a quarantine that cannot hold says why, and is not in force */
	r.fail_guard = -ENOKEY;
	a = alert("critical", "app_user", "bob@crm", "db_rows");
	containment_on_alert(c, a, 3 * S, 1700000002 * S);
	json_decref(a);
	{
		size_t i = json_array_size(r.events) - 2;

		CHECK_EQ_STR(ev_str(&r, i, "vigie.containment.action"), "quarantine-sessions");
		CHECK_EQ_STR(ev_str(&r, i, "event.outcome"), "failure");
		CHECK_EQ_STR(ev_str(&r, i, "vigie.containment.reason"),
			     "nothing a backend reports names this user (databases.app_user)");
		CHECK(ev_str(&r, i, "vigie.containment.until") == NULL);
	}
	/* off: no containment at all */
	CHECK(containment_new(&(struct contain_config){ .mode = CONTAIN_OFF }, dc, &rec_ops, &r,
			      collect, &r) == NULL);
	containment_free(c);
	json_decref(r.events);
	contain_config_free(&cfg);
}

/* The processes no action touches, and bad arguments (nothing is
 * signalled: each case is refused before any signal). */
static void test_untouchable(void)
{
	json_t *d = json_object();

	CHECK_EQ_INT(contain_stop_process(1, NULL, d), -EPERM);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")), "pid 1");
	CHECK_EQ_INT(contain_stop_process((uint32_t)getpid(), NULL, d), -EPERM);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")), "the sensor itself");
	CHECK_EQ_INT(contain_stop_process(2, NULL, d), -EPERM); /* kthreadd */
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")), "a kernel thread");
	CHECK_EQ_INT(contain_end_backend((uint32_t)getpid(), NULL, NULL, d), -EPERM);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")),
		     "not a PostgreSQL backend serving a client");
	CHECK_EQ_INT(contain_end_backend(0x7ffffff0, NULL, NULL, d), -ESRCH);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")), "the backend has exited");
	CHECK_EQ_INT(contain_stop_process(0, "/nonexistent/exe@nobody", d), -ESRCH);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "reason")), "no such process runs");
	CHECK_EQ_INT(contain_stop_process(0, "no-user-part", d), -EINVAL);
	CHECK_EQ_INT(contain_stop_process(0, NULL, d), -EINVAL);
	CHECK_EQ_INT(contain_end_db_sessions("", d), -EINVAL);
	CHECK_EQ_INT(contain_end_db_sessions(NULL, d), -EINVAL);
	CHECK(json_object_get(d, "pids_stopped") == NULL);
	json_decref(d);
}

int main(void)
{
	struct detect_config dc;
	char err[256];
	json_t *d = json_pack("{s:[s]}", "allow", "db_user:batch");

	event_set_host("unit");
	test_config();
	test_peers();
	test_keys();
	test_untouchable();
	CHECK_EQ_INT(detect_config_parse(d, &dc, err, sizeof(err)), 0);
	json_decref(d);
	test_db_user(&dc);
	test_egress_and_limits(&dc);
	test_dry_run_and_processes(&dc);
	detect_config_free(&dc);
	return check_summary();
}
