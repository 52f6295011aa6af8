// SPDX-License-Identifier: GPL-2.0
/*
 * Detection: histogram and window math, config errors naming the field,
 * the alert rule (ratio and floor), references (profile, learned, peer
 * group), episodes (follow-ups, end), allow-lists, rate limits, state file
 * round trip, determinism.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "detect/baseline.h"
#include "check.h"
#include "detect_capture.h"
#include "detect/detect.h"
#include "base/log.h"

#define MIN_NS 60000000000ull
#define T0 1709510400000000000ull /* 2024-03-04T00:00:00Z, a Monday */

/* ---- helpers ---- */

/* ---- baseline math ---- */

static void test_lhist(void)
{
	struct lhist h;

	CHECK_EQ_INT(lhist_bucket(1), 0);
	CHECK_EQ_INT(lhist_bucket(2), 2);
	CHECK_EQ_INT(lhist_bucket(3), 3); /* 3 >= 2*sqrt(2) */
	CHECK_EQ_INT(lhist_bucket(1024), 20);
	CHECK_EQ_INT(lhist_bucket(1448), 20);
	CHECK_EQ_INT(lhist_bucket(1449), 21);
	CHECK_EQ_INT(lhist_bucket(UINT64_MAX), LHIST_BUCKETS - 1);

	memset(&h, 0, sizeof(h));
	CHECK(lhist_quantile(&h, 0.9) == 0);
	for (int i = 0; i < 100; i++)
		lhist_add(&h, 1000, 0, 0.5);
	CHECK_EQ_INT(h.n, 100);
	/* all in [724, 1024): any quantile lies in that bucket */
	CHECK(lhist_quantile(&h, 0.5) >= 724 && lhist_quantile(&h, 0.5) <= 1024);
	CHECK(lhist_quantile(&h, 1.0) <= 1024.001);
	/* a few outliers do not move a 0.9 quantile */
	for (int i = 0; i < 5; i++)
		lhist_add(&h, 1000000, 0, 0.5);
	CHECK(lhist_quantile(&h, 0.9) <= 1024.001);
	CHECK(lhist_quantile(&h, 0.99) > 500000);
	/* decay: one day later with factor 0.5, the old weight halves */
	lhist_add(&h, 10, 1, 0.5);
	CHECK(fabs(h.total - (105 * 0.5 + 1)) < 1e-3);
	CHECK_EQ_INT(h.n, 106);
}

static void test_mwin(void)
{
	struct mwin w;
	struct mwin_closed c;
	int64_t m0 = 1000 * 1440; /* a day start */

	mwin_init(&w);
	mwin_roll(&w, m0, &c);
	mwin_add(&w, (uint64_t)m0 * MIN_NS, 10);
	CHECK_EQ_INT(mwin_observed(&w, 0), 10);
	mwin_roll(&w, m0 + 1, &c);
	CHECK(c.minute_closed && c.minute == 10);
	CHECK(!c.hour_closed);
	mwin_add(&w, (uint64_t)(m0 + 1) * MIN_NS, 5);
	CHECK_EQ_INT(mwin_observed(&w, 0), 5);
	CHECK_EQ_INT(mwin_observed(&w, 1), 15);
	CHECK_EQ_INT(mwin_observed(&w, 2), 15);
	/* 60 minutes after the first: it left the 1 h window; hour closed */
	mwin_roll(&w, m0 + 60, &c);
	CHECK(c.hour_closed && c.hour == 15);
	CHECK_EQ_INT(mwin_observed(&w, 1), 5);
	mwin_roll(&w, m0 + 61, &c);
	CHECK_EQ_INT(mwin_observed(&w, 1), 0);
	CHECK_EQ_INT(mwin_observed(&w, 2), 15);
	/* next day: the day closes with its total; 24 h later all is gone */
	mwin_roll(&w, m0 + 1440, &c);
	CHECK(c.day_closed && c.day == 15);
	CHECK_EQ_INT(mwin_observed(&w, 2), 0);
	/* a long gap clears everything */
	mwin_add(&w, (uint64_t)(m0 + 1440) * MIN_NS, 7);
	mwin_roll(&w, m0 + 100000, &c);
	CHECK_EQ_INT(mwin_observed(&w, 0) + mwin_observed(&w, 1) + mwin_observed(&w, 2), 0);
}

/* ---- config ---- */

static void expect_cfg_error(const char *text, const char *want)
{
	struct detect_config c;
	char err[512];
	json_t *j = json_loads(text, 0, NULL);

	CHECK_EQ_INT(detect_config_parse(j, &c, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fprintf(stderr, "  config error '%s' lacks '%s'\n", err, want);
	CHECK(strstr(err, want) != NULL);
	detect_config_free(&c);
	json_decref(j);
}

static void test_config(void)
{
	struct detect_config c = parse_cfg(NULL);

	CHECK(c.ratio == 10 && c.ratio_high == 100 && c.ratio_critical == 1000);
	CHECK(c.floor[M_DB_ROWS][W_1M] == 1000);
	CHECK(c.kinds[PK_PEER]);
	detect_config_free(&c);
	c = parse_cfg("{\"ratio\":5,\"principals\":[\"user\"],\"profiles\":[{\"name\":\"a\","
		      "\"match\":{\"uids\":[[1000,1999],\"3000-3005\",0]},\"per_day\":{\"db_rows\":10}}],"
		      "\"allow\":[\"db_user:backup*\"]}");
	CHECK(c.ratio == 5 && c.kinds[PK_USER] && !c.kinds[PK_PEER]);
	CHECK_EQ_INT(c.n_profiles, 1);
	CHECK_EQ_INT(c.profiles[0].n_uids, 3);
	CHECK_EQ_INT(c.profiles[0].uids[1].hi, 3005);
	CHECK(c.profiles[0].per_day[M_DB_ROWS] == 10);
	detect_config_free(&c);

	expect_cfg_error("{\"profiles\":[{\"name\":\"a\",\"match\":{}},{\"name\":\"b\",\"match\":{}},"
			 "{\"name\":\"c\",\"match\":{},\"per_day\":{\"db_rows\":-3}}]}",
			 "detection.profiles[2].per_day.db_rows: must be a positive number");
	expect_cfg_error("{\"ratoi\":3}", "detection: unknown field 'ratoi'");
	expect_cfg_error("{\"floors\":{\"db_rows\":{\"2m\":1}}}",
			 "detection.floors.db_rows: unknown field '2m'");
	expect_cfg_error("{\"allow\":[\"robot:x\"]}", "detection.allow[0]: must be \"kind:pattern\"");
	expect_cfg_error("{\"profiles\":[{\"name\":\"a\"}]}", "detection.profiles[0].match: missing");
	expect_cfg_error("{\"profiles\":[{\"name\":\"a\",\"match\":{}},{\"name\":\"a\",\"match\":{}}]}",
			 "duplicate profile name");
	expect_cfg_error("{\"ratio\":50,\"ratio_high\":20}", "detection.ratio_high: must be >=");
	expect_cfg_error("{\"rate_limit\":{\"global_per_minute\":0}}",
			 "detection.rate_limit.global_per_minute: must be an integer");
	expect_cfg_error("{\"profiles\":[{\"name\":\"a\",\"match\":{\"uids\":[\"x\"]}}]}",
			 "detection.profiles[0].match.uids[0]");
	expect_cfg_error("[]", "detection: must be an object");
}

/* ---- alert rule and episodes ---- */

#define ADV_CFG                                                                        \
	"{\"principals\":[\"db_user\"],\"profiles\":[{\"name\":\"adv\",\"match\":"     \
	"{\"db_users\":[\"adv*\"]},\"per_day\":{\"db_rows\":500}},{\"name\":\"svc\","  \
	"\"match\":{\"db_users\":[\"backup\"]},\"alert\":false}]%s}"

static struct detect_config adv_cfg(const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), ADV_CFG, extra ? extra : "");
	return parse_cfg(text);
}

static void test_rule(void)
{
	struct detect_config c = adv_cfg(NULL);
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	struct detect_summary sum;

	/* 1 m normal = 500 * 0.05 = 25 rows; floor 1000: 999 rows is 40x but tiny */
	feed_rows(d, T0 + 10 * 3600 * 1000000000ull, "adv1", 999);
	detector_advance(d, T0 + 10 * 3600 * 1000000000ull + 1);
	CHECK_EQ_INT(cap.n, 0);
	/* 2000 rows in the next minute: 80x the profile: medium */
	feed_rows(d, T0 + 10 * 3600 * 1000000000ull + MIN_NS, "adv1", 2000);
	detector_advance(d, T0 + 10 * 3600 * 1000000000ull + MIN_NS);
	CHECK_EQ_INT(cap.n, 1);
	if (cap.n) {
		CHECK_EQ_STR(json_string_value(field(cap.lines[0], "event.action")), "exfiltration-volume");
		CHECK_EQ_STR(json_string_value(field(cap.lines[0], "vigie.principal.id")), "adv1");
		CHECK_EQ_STR(json_string_value(field(cap.lines[0], "vigie.reference")), "profile");
		CHECK_EQ_STR(json_string_value(field(cap.lines[0], "vigie.window")), "1m");
		CHECK_EQ_INT(json_integer_value(field(cap.lines[0], "vigie.observed")), 2000);
		CHECK_EQ_INT(json_integer_value(field(cap.lines[0], "vigie.normal")), 25);
		CHECK(json_number_value(field(cap.lines[0], "vigie.ratio")) == 80);
		CHECK_EQ_INT(json_integer_value(field(cap.lines[0], "event.severity")), 47);
		CHECK(json_is_false(field(cap.lines[0], "vigie.records.estimate")));
	}
	/* allow-listed: never */
	feed_rows(d, T0 + 10 * 3600 * 1000000000ull + 2 * MIN_NS, "backup", 50000000);
	/* no reference at all (no profile, nothing learned): over the ceiling
	 * of a new principal (3000 records a minute) it alerts, under it not */
	feed_rows(d, T0 + 10 * 3600 * 1000000000ull + 2 * MIN_NS, "stranger", 50000000);
	feed_rows(d, T0 + 10 * 3600 * 1000000000ull + 2 * MIN_NS, "quiet", 2999);
	detector_advance(d, T0 + 10 * 3600 * 1000000000ull + 2 * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "\"backup\""), 0);
	CHECK_EQ_INT(count_with(&cap, "\"quiet\""), 0);
	CHECK_EQ_INT(count_with(&cap, "\"stranger\""), 1);
	if (cap.n == 2) {
		CHECK_EQ_STR(json_string_value(field(cap.lines[1], "vigie.reference")), "new_principal");
		CHECK_EQ_INT(json_integer_value(field(cap.lines[1], "vigie.ceiling")), 3000);
		CHECK_EQ_INT(json_integer_value(field(cap.lines[1], "vigie.normal")), 300);
		CHECK(json_is_real(field(cap.lines[1], "vigie.ratio")));
		CHECK(json_real_value(field(cap.lines[1], "vigie.ratio")) == 166667.0);
		CHECK_EQ_STR(json_string_value(field(cap.lines[1], "vigie.severity")), "critical");
		CHECK_EQ_STR(json_string_value(field(cap.lines[1], "message")),
			     "db_user stranger: 50000000 records read in 1m, no profile and no "
			     "established history of its own, over the ceiling of 3000 records for a "
			     "new principal");
	}
	detector_finish(d, T0 + 11 * 3600 * 1000000000ull);
	CHECK_EQ_INT(count_with(&cap, "exfiltration-volume-end"), 2);
	detector_summary(d, &sum);
	CHECK_EQ_INT(sum.alerts, 2);
	CHECK_EQ_INT(sum.principals, 4);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

static void test_episode(void)
{
	struct detect_config c = adv_cfg(",\"episode_quiet_s\":300");
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	uint64_t t = T0 + 9 * 3600 * 1000000000ull;

	/* 1500 rows a minute: 60x the 1 m normal (medium), growing total */
	for (int i = 0; i < 3; i++)
		feed_rows(d, t + (uint64_t)i * MIN_NS, "adv7", 1500);
	detector_advance(d, t + 2 * MIN_NS);
	/* minute 0: new; 1: total 3000 = 2x 1500: volume; 2: 4500 < 6000: quiet */
	CHECK_EQ_INT(count_with(&cap, "\"reason\":\"new\""), 1);
	CHECK_EQ_INT(count_with(&cap, "\"reason\":\"volume\""), 1);
	/* 30000 in one minute: 1200x: critical: severity follow-up */
	feed_rows(d, t + 3 * MIN_NS, "adv7", 30000);
	detector_advance(d, t + 3 * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "\"reason\":\"severity\""), 1);
	CHECK_EQ_INT(count_with(&cap, "\"severity\":\"critical\""), 1);
	/* same episode id throughout */
	if (cap.n >= 3) {
		char *id0 = strdup(json_string_value(field(cap.lines[0], "vigie.episode.id")));

		CHECK_EQ_STR(json_string_value(field(cap.lines[2], "vigie.episode.id")), id0);
		free(id0);
	}
	/* silence: the 1 h window stays over 10x the 1 h normal (125) for an hour,
	 * then 300 s quiet closes the episode with its totals */
	detector_advance(d, t + 30 * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "exfiltration-volume-end"), 0);
	for (int i = 31; i < 24 * 60 + 20; i++)
		detector_advance(d, t + (uint64_t)i * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "exfiltration-volume-end"), 1);
	CHECK_EQ_INT(count_with(&cap, "\"total\":34500,\"alerts\":3"), 1);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

static void test_rate_limit(void)
{
	struct detect_config c = adv_cfg(",\"rate_limit\":{\"per_principal_per_hour\":2,"
					  "\"global_per_minute\":3}");
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	struct detect_summary sum;
	uint64_t t = T0 + 9 * 3600 * 1000000000ull;
	char name[16];

	/* 10 principals at once: 3 pass the global limit, 7 suppressed */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "adv%02d", i);
		feed_rows(d, t, name, 5000);
	}
	detector_advance(d, t);
	detector_summary(d, &sum);
	CHECK_EQ_INT(sum.alerts, 3);
	CHECK_EQ_INT(sum.suppressed, 7);
	/* deterministic choice: creation order */
	CHECK_EQ_INT(count_with(&cap, "\"adv00\""), 1);
	CHECK_EQ_INT(count_with(&cap, "\"adv09\""), 0);
	/* one principal doubling every minute: 2 per hour, the rest counted;
	 * only the rise to "high" (100x) passes the per-principal limit */
	for (int i = 1; i < 8; i++)
		feed_rows(d, t + (uint64_t)i * MIN_NS, "adv00", 5000ull << i);
	detector_advance(d, t + 8 * MIN_NS);
	detector_summary(d, &sum);
	CHECK_EQ_INT(count_with(&cap, "\"adv00\""), 3);
	CHECK_EQ_INT(count_with(&cap, "\"reason\":\"severity\""), 1);
	CHECK(sum.suppressed > 7);
	/* the next hour: allowed again, and it tells what was suppressed */
	feed_rows(d, t + 61 * MIN_NS, "adv00", 50000000);
	detector_advance(d, t + 61 * MIN_NS);
	CHECK(strstr(cap.lines[cap.n - 1], "suppressed_alerts") != NULL);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* Peer group covers a new principal; learned baseline raises normal. */
static void test_references(void)
{
	struct detect_config c = parse_cfg(
		"{\"principals\":[\"db_user\"],\"learned\":{\"min_windows\":{\"1m\":5,\"1h\":3,\"24h\":2}},"
		"\"profiles\":[{\"name\":\"adv\",\"match\":{\"db_users\":[\"adv*\"]}}]}");
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	uint64_t t = T0 + 9 * 3600 * 1000000000ull;
	char name[16];

	/* 10 peers reading ~100-190 rows a minute for 3 hours, and advheavy
	 * reading 700: 4x its peers, under the ratio (and 42,000 an hour,
	 * under a new principal's ceiling of 50,000) */
	for (int m = 0; m < 180; m++) {
		for (int i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "adv%02d", i);
			feed_rows(d, t + (uint64_t)m * MIN_NS, name, 100 + (uint64_t)(i * 10));
		}
		feed_rows(d, t + (uint64_t)m * MIN_NS, "advheavy", 700);
	}
	detector_advance(d, t + 180 * MIN_NS);
	CHECK_EQ_INT(cap.n, 0);
	/* a newcomer at 5000 a minute: peer group says ~190: alert */
	feed_rows(d, t + 181 * MIN_NS, "advnew", 5000);
	feed_rows(d, t + 181 * MIN_NS, "advheavy", 2100); /* 3x its own */
	detector_advance(d, t + 181 * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "\"advnew\""), 1);
	CHECK_EQ_INT(count_with(&cap, "\"peer_group\""), 1);
	CHECK_EQ_INT(count_with(&cap, "\"advheavy\""), 0);
	/* the heavy one at 20x its own: learned reference */
	feed_rows(d, t + 182 * MIN_NS, "advheavy", 14000);
	detector_advance(d, t + 182 * MIN_NS);
	CHECK_EQ_INT(count_with(&cap, "\"reference\":\"learned\""), 1);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* Profile matching by uid range, executable and peer; allow-list globs;
 * bounded principal table; idle principals forgotten. */
static void test_matching(void)
{
	struct detect_config c = parse_cfg(
		"{\"max_principals\":6,\"idle_expiry_days\":1,\"profiles\":["
		"{\"name\":\"staff\",\"match\":{\"uids\":[[1000,1999]],\"exes\":[\"/usr/bin/*\"],"
		"\"peers\":[\"203.0.113.*\"]},\"per_day\":{\"egress_bytes\":1000000}}],"
		"\"allow\":[\"process:/usr/bin/rsync@*\"]}");
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	struct detect_summary sum;
	struct trace_sample s;
	uint64_t t = T0 + 20 * 3600 * 1000000000ull;

	trace_sample_init(&s);
	s.ts_ns = t;
	s.uid = 1500; /* no user name: principal uid:1500 */
	strcpy(s.exe, "/usr/bin/curl");
	strcpy(s.peer, "203.0.113.9");
	s.egress_bytes = 500000000; /* 10000x the 1 m normal of 50000 */
	detector_feed(d, &s);
	s.uid = 1600;
	strcpy(s.exe, "/usr/bin/rsync"); /* allow-listed process, same peer */
	detector_feed(d, &s);
	detector_advance(d, t);
	CHECK_EQ_INT(count_principal(&cap, "user", "uid:1500"), 1);
	CHECK_EQ_INT(count_principal(&cap, "process", "/usr/bin/curl@uid:1500"), 1);
	CHECK_EQ_INT(count_principal(&cap, "peer", "203.0.113.9"), 1);
	CHECK_EQ_INT(count_principal(&cap, "user", "uid:1600"), 1);
	CHECK_EQ_INT(count_principal(&cap, "process", "/usr/bin/rsync@uid:1600"), 0);
	CHECK_EQ_INT(count_with(&cap, "\"profile\":\"staff\""), 4);
	CHECK_EQ_INT(count_with(&cap, "\"severity\":\"critical\""), 4);
	/* 6 principals at most: two more are dropped, counted */
	s.uid = 1700;
	strcpy(s.exe, "/usr/bin/wget");
	s.egress_bytes = 10;
	detector_feed(d, &s);
	detector_summary(d, &sum);
	CHECK_EQ_INT(sum.principals, 6);
	CHECK_EQ_INT(sum.principals_dropped, 1);
	/* three days later, the idle ones are forgotten (open episodes kept
	 * until they end) */
	detector_advance(d, t + 3 * 86400000000000ull);
	detector_advance(d, t + 4 * 86400000000000ull);
	detector_summary(d, &sum);
	CHECK_EQ_INT(sum.principals, 0);
	CHECK_EQ_INT(sum.episodes_open, 0);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* ---- state and determinism ---- */

static void run_days(struct detector *d, int from_day, int days)
{
	char name[16];

	for (int day = from_day; day < from_day + days; day++) {
		for (int h = 9; h < 17; h++) {
			for (int i = 0; i < 8; i++) {
				uint64_t ts = T0 + (uint64_t)day * 86400000000000ull +
					      (uint64_t)h * 3600000000000ull + (uint64_t)i * 7 * MIN_NS;

				snprintf(name, sizeof(name), "adv%d", i);
				feed_rows(d, ts, name, 10 + (uint64_t)((day * 7 + h * 3 + i) % 13));
			}
		}
	}
}

static void test_state(void)
{
	struct detect_config c = adv_cfg(NULL);
	struct captured a = { 0 }, b = { 0 };
	struct detector *d1 = detector_new(&c, capture, &a), *d2, *d3;
	char p1[] = "/tmp/vigie-state-1-XXXXXX", p2[] = "/tmp/vigie-state-2-XXXXXX";
	char *s1, *s2;
	int fd;

	fd = mkstemp(p1);
	close(fd);
	fd = mkstemp(p2);
	close(fd);
	unlink(p1);
	CHECK_EQ_INT(detector_state_load(d1, p1), 1); /* absent: fresh start */
	run_days(d1, 0, 3);
	detector_advance(d1, T0 + 3 * 86400000000000ull);
	CHECK_EQ_INT(detector_state_save(d1, p1), 0);
	d2 = detector_new(&c, capture, &b);
	CHECK_EQ_INT(detector_state_load(d2, p1), 0);
	CHECK_EQ_INT(detector_state_save(d2, p2), 0);
	s1 = check_slurp(p1);
	s2 = check_slurp(p2);
	CHECK(s1 && s2 && strstr(s1, "\"adv3\""));
	/* identical but for the time (d2 has seen no sample) */
	if (s1 && s2) {
		char *t1 = strstr(s1, "\"principals\""), *t2 = strstr(s2, "\"principals\"");

		CHECK(t1 && t2 && strcmp(t1, t2) == 0);
	}
	free(s1);
	free(s2);
	/* both continue the same way */
	run_days(d1, 3, 1);
	run_days(d2, 3, 1);
	feed_rows(d1, T0 + 4 * 86400000000000ull + 36000000000000ull, "adv1", 100000);
	feed_rows(d2, T0 + 4 * 86400000000000ull + 36000000000000ull, "adv1", 100000);
	detector_finish(d1, T0 + 5 * 86400000000000ull);
	detector_finish(d2, T0 + 5 * 86400000000000ull);
	CHECK(a.n > 0);
	CHECK_EQ_INT(a.n, b.n);
	/* the same events but for event.id (one counter for both detectors) */
	for (int i = 0; i < a.n && i < b.n; i++)
		CHECK_EQ_STR(strip_event_id(a.lines[i]), strip_event_id(b.lines[i]));
	/* an older trace on this newer state: windows start afresh, the
	 * samples are not piled onto the state's future windows */
	{
		struct captured e = { 0 };
		struct detector *d4 = detector_new(&c, capture, &e);

		CHECK_EQ_INT(detector_state_load(d4, p1), 0);
		for (int i = 0; i < 300; i++)
			feed_rows(d4, T0 + 3600000000000ull * 10 + (uint64_t)i * MIN_NS, "adv1", 5);
		detector_finish(d4, T0 + 86400000000000ull);
		CHECK_EQ_INT(e.n, 0);
		detector_free(d4);
		captured_free(&e);
	}
	/* a damaged file is refused and leaves a fresh detector */
	{
		FILE *f = fopen(p2, "w");

		fputs("{\"format\":\"vigie-detect-state\",\"version\":1,\"principals\":[{\"kind\":\"x\"}]}", f);
		fclose(f);
		d3 = detector_new(&c, capture, &b);
		fprintf(stderr, "(an error about a damaged state file is expected here)\n");
		CHECK_EQ_INT(detector_state_load(d3, p2), -1);
		{
			struct detect_summary s;

			detector_summary(d3, &s);
			CHECK_EQ_INT(s.principals, 0);
		}
		detector_free(d3);
	}
	unlink(p1);
	unlink(p2);
	{
		/* the save keeps the previous file as PATH.prev */
		char prev[sizeof(p2) + 8];

		snprintf(prev, sizeof(prev), "%s.prev", p1);
		unlink(prev);
		snprintf(prev, sizeof(prev), "%s.prev", p2);
		unlink(prev);
	}
	detector_free(d1);
	detector_free(d2);
	captured_free(&a);
	captured_free(&b);
	detect_config_free(&c);
}

int main(void)
{
	log_set_level(LOG_WARN);
	test_lhist();
	test_mwin();
	test_config();
	test_rule();
	test_episode();
	test_rate_limit();
	test_references();
	test_matching();
	test_state();
	field(NULL, NULL);
	return check_summary();
}
