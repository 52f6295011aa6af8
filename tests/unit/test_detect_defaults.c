// SPDX-License-Identifier: GPL-2.0
/*
 * Detection with the built-in defaults (no configuration at all): a new
 * account judged by its host group from its first minutes, a group that
 * heavy service accounts do not move, ceilings for principals with no
 * reference, stricter ceilings for egress first seen (and what was seen
 * kept across a restart), the database server's own principals never
 * alerted on, byte floors derived from the record floors, a drift that is
 * never learned, a ramp judged against the normal of days before, a
 * nightly backup alerted on its first night only.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "detect_capture.h"
#include "detect/detect_int.h"
#include "base/log.h"

#define S_NS 1000000000ull
#define MIN_NS (60 * S_NS)
#define HOUR_NS (60 * MIN_NS)
#define DAY_NS (24 * HOUR_NS)
#define T0 1709510400000000000ull /* 2024-03-04T00:00:00Z, a Monday */

static struct detector *new_default(struct detect_config *c, struct captured *cap)
{
	*c = parse_cfg(NULL);
	return detector_new(c, capture, cap);
}

static void feed_egress(struct detector *d, uint64_t ts, const char *user, const char *exe,
			const char *peer, uint64_t bytes)
{
	struct trace_sample s;

	trace_sample_init(&s);
	s.ts_ns = ts;
	s.pid = 4242;
	s.uid = strcmp(user, "root") ? 1000 : 0;
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.exe, sizeof(s.exe), "%s", exe);
	snprintf(s.peer, sizeof(s.peer), "%s", peer);
	s.egress_bytes = bytes;
	detector_feed(d, &s);
}

/* First alert naming kind:id, or NULL. */
static const char *first_alert(const struct captured *c, const char *kind, const char *id)
{
	char part[300];

	snprintf(part, sizeof(part), "\"principal\":{\"kind\":\"%s\",\"id\":\"%s\"", kind, id);
	for (int i = 0; i < c->n; i++)
		if (strstr(c->lines[i], part) && strstr(c->lines[i], "\"exfiltration-volume\""))
			return c->lines[i];
	return NULL;
}

static int alerts_on_day(const struct captured *c, const char *id, const char *date)
{
	char a[128], b[64];
	int n = 0;

	snprintf(a, sizeof(a), "\"id\":\"%s\"", id);
	snprintf(b, sizeof(b), "\"@timestamp\":\"%s", date);
	for (int i = 0; i < c->n; i++)
		n += strstr(c->lines[i], a) && strstr(c->lines[i], b) &&
		     strstr(c->lines[i], "\"exfiltration-volume\"");
	return n;
}

/* 20 roles doing small lookups, then a new role at 150 records/s: judged by
 * its host group within its first minute; no honest role, and not the
 * server's own user or executable (they serve everybody), alerts. */
static void test_cold_start(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	uint64_t t = T0 + 10 * HOUR_NS;
	char name[32];
	const char *a;

	for (int m = 0; m < 6; m++) {
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "role_%c%c", 'a' + i % 7, 'a' + i);
			feed_rows(d, t + (uint64_t)m * MIN_NS + (uint64_t)i * S_NS, name,
				  20 + (uint64_t)((i * 37 + m * 11) % 130));
		}
		if (m >= 3)
			feed_rows(d, t + (uint64_t)m * MIN_NS + 30 * S_NS, "zz_new", 4500);
		detector_advance(d, t + (uint64_t)m * MIN_NS + 59 * S_NS);
	}
	a = first_alert(&cap, "db_user", "zz_new");
	CHECK(a != NULL);
	if (a) {
		CHECK_EQ_STR(json_string_value(field(a, "@timestamp")), "2024-03-04T10:03:30.000000Z");
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "peer_group");
		CHECK_EQ_STR(json_string_value(field(a, "vigie.peer_group.name")), "host");
		CHECK_EQ_INT(json_integer_value(field(a, "vigie.peer_group.members")), 20);
		/* the heaviest member of 20 (149 records), not 10x beyond */
		CHECK_MSG(json_integer_value(field(a, "vigie.normal")) >= 149 &&
				  json_integer_value(field(a, "vigie.normal")) <= 450,
			  "normal %lld", (long long)json_integer_value(field(a, "vigie.normal")));
		CHECK(strstr(json_string_value(field(a, "message")), "peer group (host db_user, 20 members)"));
	}
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "role_%c%c", 'a' + i % 7, 'a' + i);
		CHECK_EQ_INT(count_principal(&cap, "db_user", name), 0);
	}
	CHECK_EQ_INT(count_principal(&cap, "user", "postgres"), 0);
	CHECK_EQ_INT(count_principal(&cap, "process", "/usr/bin/postgres@postgres"), 0);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* z with P(N(0,1) < z) = q, by bisection on erfc (independent of the
 * approximation the detector uses) */
static double probit(double q)
{
	double lo = -10, hi = 10;

	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / M_SQRT2) < q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* The group's normal is its heaviest ordinary member: the votes' median
 * times their spread (0.9 quantile over median, on a log scale) taken out
 * to sqrt(2 ln n) standard deviations. */
static void test_group_extreme(void)
{
	double s = exp(0.9 * probit(0.9)); /* q90 / median of a lognormal, sigma 0.9 */

	CHECK_NEAR(group_extreme(100, 100 * s, 0.9, 2300), 100 * exp(0.9 * sqrt(2 * log(2300.0))),
		   5.0); /* the approximation of z(0.9) is within 4.5e-4 */
	CHECK_NEAR(group_extreme(100, 100 * s, 0.9, 20), 100 * exp(0.9 * sqrt(2 * log(20.0))), 1.0);
	/* no spread: the median; never below the quantile */
	CHECK_NEAR(group_extreme(50, 50, 0.9, 2300), 50, 1e-9);
	CHECK_NEAR(group_extreme(100, 300, 0.9, 2), 300, 1e-9);
	/* volumes under one record count as one */
	CHECK_NEAR(group_extreme(0.2, 0.5, 0.9, 100), 1, 1e-9);
}

/* Three hours of a heavy-tailed group (200 members, lognormal volumes with
 * sigma 1.2, and five supervisors reading 5x a heavy member): no member is
 * alerted against its own group, which a plain 0.9 quantile would (a
 * supervisor reads 15x it); a newcomer at the breach's rate is. */
static void test_group_heavy_tail(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	uint64_t t = T0 + 8 * HOUR_NS;
	uint64_t rows[205];
	char name[32];

	for (int i = 0; i < 205; i++) {
		/* member i at the normal quantile (i + 0.5) / 200 */
		double z = i < 200 ? probit((i + 0.5) / 200) : 2.2;

		rows[i] = (uint64_t)(5 * exp(1.2 * z) * (i < 200 ? 1 : 5));
	}
	/* 15x the members' 0.9 quantile (5 x e^(1.2 x 1.28) = 23 a minute) */
	CHECK_MSG(rows[204] >= 345, "supervisor reads %llu", (unsigned long long)rows[204]);
	for (int m = 0; m < 180; m++) {
		for (int i = 0; i < 205; i++) {
			snprintf(name, sizeof(name), "%s%03d", i < 200 ? "agent" : "lead", i);
			feed_rows(d, t + (uint64_t)m * MIN_NS + (uint64_t)i * 100000000ull, name,
				  rows[i]);
		}
		if (m == 179)
			feed_rows(d, t + (uint64_t)m * MIN_NS + 30 * S_NS, "newcomer", 9000);
		detector_advance(d, t + (uint64_t)m * MIN_NS + 59 * S_NS);
	}
	CHECK(first_alert(&cap, "db_user", "newcomer") != NULL);
	for (int i = 0; i < 205; i++) {
		snprintf(name, sizeof(name), "%s%03d", i < 200 ? "agent" : "lead", i);
		CHECK_MSG(count_principal(&cap, "db_user", name) == 0, "%s (%llu records a minute) alerted",
			  name, (unsigned long long)rows[i]);
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* Two service accounts reading 25x a person's volume are two votes out of
 * 22: the group's normal stays a person's, and a new account reading as
 * much as the services is alerted against it. */
static void test_group_robust(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	uint64_t t = T0 + 8 * HOUR_NS;
	char name[32];
	const char *a;

	for (int m = 0; m < 150; m++) {
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "p%02d", i);
			feed_rows(d, t + (uint64_t)m * MIN_NS, name, 80 + (uint64_t)i);
		}
		feed_rows(d, t + (uint64_t)m * MIN_NS, "svc_sync", 2500);
		feed_rows(d, t + (uint64_t)m * MIN_NS, "svc_report", 2400);
		detector_advance(d, t + (uint64_t)m * MIN_NS + 1);
	}
	feed_rows(d, t + 150 * MIN_NS, "late_joiner", 2500);
	detector_advance(d, t + 150 * MIN_NS + 1);
	a = first_alert(&cap, "db_user", "late_joiner");
	CHECK(a != NULL);
	if (a) {
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "peer_group");
		CHECK_EQ_INT(json_integer_value(field(a, "vigie.peer_group.members")), 22);
		/* the heaviest of 20 members reading 80-99 records, within the
		 * half-octave buckets of the votes; nowhere near 2,400 */
		CHECK_MSG(json_integer_value(field(a, "vigie.normal")) >= 90 &&
				  json_integer_value(field(a, "vigie.normal")) <= 250, "normal %lld",
			  (long long)json_integer_value(field(a, "vigie.normal")));
	}
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "p%02d", i);
		CHECK_EQ_INT(count_principal(&cap, "db_user", name), 0);
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* Byte floors follow the record floors x bytes_per_record. */
static void test_floors(void)
{
	struct detect_config c = parse_cfg(NULL);
	char err[512];
	json_t *j;

	CHECK(c.floor[M_DB_BYTES][W_1M] == 700000);
	CHECK(c.floor[M_EGRESS_BYTES][W_1M] == 700000);
	CHECK(c.floor[M_EGRESS_BYTES][W_24H] == 1400000);
	CHECK(c.ceiling[M_DB_BYTES][W_1M] == 2100000);
	/* the breach's rate: 150 records/s of 700 bytes is over every floor */
	CHECK(150 * 60 * 700 >= c.floor[M_EGRESS_BYTES][W_1M]);
	CHECK(150 * 60 >= c.floor[M_DB_ROWS][W_1M]);
	detect_config_free(&c);
	c = parse_cfg("{\"bytes_per_record\":1200,\"floors\":{\"db_rows\":{\"1m\":500}}}");
	CHECK(c.floor[M_EGRESS_BYTES][W_1M] == 600000);
	CHECK(c.floor[M_DB_BYTES][W_1H] == 1200000);
	detect_config_free(&c);
	j = json_loads("{\"floors\":{\"egress_bytes\":{\"1m\":20000000}}}", 0, NULL);
	CHECK(detect_config_parse(j, &c, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "detection.floors.egress_bytes.1m: 20000000 bytes would hide what "
			  "floors.db_rows.1m (1000 records) catches at bytes_per_record 700: at "
			  "most 700000");
	json_decref(j);
	j = json_loads("{\"ceilings\":{\"db_rows\":{\"1h\":0}}}", 0, NULL);
	CHECK(detect_config_parse(j, &c, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "detection.ceilings.db_rows.1h: must be a positive number");
	json_decref(j);
	j = json_loads("{\"novelty\":{\"factor\":0.5}}", 0, NULL);
	CHECK(detect_config_parse(j, &c, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "detection.novelty.factor: must be a number >= 1 and <= 1e+06");
	json_decref(j);
}

/* Egress to a destination first seen after the sensor's first minute, by
 * a process that never sent: a quarter of the ceilings. A restart keeps
 * what was seen and when the sensor started watching. */
static void test_first_seen(void)
{
	struct detect_config c;
	struct captured cap = { 0 }, cap2 = { 0 };
	struct detector *d = new_default(&c, &cap), *d2;
	char path[] = "/tmp/vigie-test-novelty-XXXXXX";
	uint64_t t = T0 + 20 * HOUR_NS;
	const char *a;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	/* within the warm-up: 40 MB a minute to a destination, under the
	 * ceiling of a new principal (100 MB), not yet "first seen" */
	feed_egress(d, t, "www", "/usr/sbin/portal", "192.0.2.10", 40000000);
	detector_advance(d, t + 30 * S_NS);
	CHECK_EQ_INT(cap.n, 0);
	/* two hours later: root's scp to a never seen address, 40 MB a minute */
	for (int m = 0; m < 3; m++)
		feed_egress(d, t + 2 * HOUR_NS + (uint64_t)m * MIN_NS, "root", "/usr/bin/scp",
			    "198.51.100.77", 40000000);
	detector_advance(d, t + 2 * HOUR_NS + 3 * MIN_NS);
	a = first_alert(&cap, "peer", "198.51.100.77");
	CHECK(a != NULL);
	if (a) {
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "first_seen");
		CHECK_EQ_INT(json_integer_value(field(a, "vigie.ceiling")), 25000000);
		CHECK_EQ_STR(json_string_value(field(a, "destination.address")), "198.51.100.77");
		CHECK_EQ_STR(json_string_value(field(a, "@timestamp")), "2024-03-04T22:00:00.000000Z");
	}
	a = first_alert(&cap, "process", "/usr/bin/scp@root");
	CHECK(a != NULL);
	if (a)
		CHECK_EQ_STR(json_string_value(field(a, "process.executable")), "/usr/bin/scp");
	CHECK_EQ_INT(count_principal(&cap, "peer", "192.0.2.10"), 0);
	CHECK_EQ_INT(detector_state_save(d, path), 0);

	/* restart: the portal's destination was seen; a new one is new */
	d2 = detector_new(&c, capture, &cap2);
	CHECK_EQ_INT(detector_state_load(d2, path), 0);
	feed_egress(d2, t + 3 * HOUR_NS, "www", "/usr/sbin/portal", "192.0.2.10", 30000000);
	feed_egress(d2, t + 3 * HOUR_NS, "www", "/usr/sbin/portal", "192.0.2.99", 30000000);
	detector_advance(d2, t + 3 * HOUR_NS + 1);
	CHECK_EQ_INT(count_principal(&cap2, "peer", "192.0.2.10"), 0);
	a = first_alert(&cap2, "peer", "192.0.2.99");
	CHECK(a != NULL);
	if (a)
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "first_seen");
	unlink(path);
	detector_free(d);
	detector_free(d2);
	captured_free(&cap);
	captured_free(&cap2);
	detect_config_free(&c);
}

/* An account reading 20 records an hour through working hours, 20x that
 * from the third day of its history: alerted that day, against its own
 * normal, and still on day five; the extraction never becomes normal. */
static void test_drift(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	const char *a;

	for (int day = 0; day < 5; day++) {
		for (int h = 9; h < 17; h++) {
			for (int k = 0; k < 4; k++) {
				uint64_t ts = T0 + (uint64_t)day * DAY_NS + (uint64_t)h * HOUR_NS +
					      (uint64_t)(k * 15 + 3) * MIN_NS;

				feed_rows(d, ts, "m.lefebvre", day < 2 ? 5 : 100);
				detector_advance(d, ts + 1);
			}
		}
	}
	detector_advance(d, T0 + 5 * DAY_NS);
	CHECK_EQ_INT(alerts_on_day(&cap, "m.lefebvre", "2024-03-04"), 0);
	CHECK_EQ_INT(alerts_on_day(&cap, "m.lefebvre", "2024-03-05"), 0);
	CHECK(alerts_on_day(&cap, "m.lefebvre", "2024-03-06") >= 1);
	CHECK(alerts_on_day(&cap, "m.lefebvre", "2024-03-08") >= 1);
	a = first_alert(&cap, "db_user", "m.lefebvre");
	if (a) {
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "learned");
		CHECK_EQ_STR(json_string_value(field(a, "vigie.window")), "24h");
	}
	/* the last alert (day five): normal still the first days' */
	for (int i = cap.n - 1; i >= 0; i--) {
		if (strstr(cap.lines[i], "\"@timestamp\":\"2024-03-08") &&
		    strstr(cap.lines[i], "\"exfiltration-volume\"")) {
			CHECK(json_integer_value(field(cap.lines[i], "vigie.references.learned")) <= 256);
			break;
		}
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* 200 records a day for a week, then doubling every day: alerted against
 * the normal of four days before, before it reaches 20x; with the lag
 * off, the ramp teaches itself and goes unseen. */
static int ramp_first_alert_day(const char *cfg)
{
	struct detect_config c = parse_cfg(cfg);
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	int first = -1;

	for (int day = 0; day < 12 && first < 0; day++) {
		double f = day < 7 ? 1 : fmin(pow(2, day - 6), 50);

		for (int h = 9; h < 17; h++) {
			uint64_t ts = T0 + (uint64_t)day * DAY_NS + (uint64_t)h * HOUR_NS + 5 * MIN_NS;

			feed_rows(d, ts, "j.roux", (uint64_t)(25 * f));
			detector_advance(d, ts + 1);
		}
		detector_advance(d, T0 + (uint64_t)(day + 1) * DAY_NS - 1);
		if (cap.n) {
			const char *a = first_alert(&cap, "db_user", "j.roux");

			first = day;
			if (a && !cfg) {
				CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "learned");
				CHECK_EQ_INT(json_integer_value(field(a, "vigie.lag_days")), 4);
			}
		}
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
	return first;
}

static void test_ramp(void)
{
	int with_lag = ramp_first_alert_day(NULL);

	/* day 10 is 16x, day 11 32x */
	CHECK(with_lag >= 9 && with_lag <= 10);
	CHECK_EQ_INT(ramp_first_alert_day("{\"learned\":{\"lag_days\":0}}"), -1);
}

/* A rise of a quarter over four days (new duties, or only the noise of the
 * quantile) is trusted: the current normal is used, not the one of four
 * days before, and the alert carries no lag_days. */
static void test_small_rise_trusted(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	const char *a;

	for (int day = 0; day < 12; day++) {
		for (int h = 9; h < 17; h++) {
			uint64_t ts = T0 + (uint64_t)day * DAY_NS + (uint64_t)h * HOUR_NS + 5 * MIN_NS;
			uint64_t rows = day < 7 ? 100 : 125;

			if (day == 11 && h == 10)
				rows = 2000;
			feed_rows(d, ts, "m.petit", rows);
			detector_advance(d, ts + 1);
		}
		detector_advance(d, T0 + (uint64_t)(day + 1) * DAY_NS - 1);
	}
	a = first_alert(&cap, "db_user", "m.petit");
	CHECK(a != NULL);
	if (a) {
		CHECK_EQ_STR(json_string_value(field(a, "vigie.reference")), "learned");
		CHECK(field(a, "vigie.lag_days") == NULL);
		CHECK_MSG(json_integer_value(field(a, "vigie.normal")) >= 125, "normal %lld",
			  (long long)json_integer_value(field(a, "vigie.normal")));
		CHECK(strstr(json_string_value(field(a, "message")), "learned from its history") != NULL);
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

static void feed_app_rows(struct detector *d, uint64_t ts, const char *user, uint64_t rows)
{
	struct trace_sample s;

	trace_sample_init(&s);
	s.ts_ns = ts;
	s.pid = 300;
	s.uid = 105;
	strcpy(s.user, "postgres");
	strcpy(s.exe, "/usr/bin/postgres");
	strcpy(s.db_user, "portail");
	strcpy(s.app_user, user);
	strcpy(s.app_name, "portail");
	strcpy(s.peer, "10.9.0.4");
	s.db_rows = rows;
	s.db_bytes = rows * 700;
	detector_feed(d, &s);
}

/* Twenty advisors behind one pooled account: the one who pulls the
 * breach's rate is alerted as an application user, named with its
 * application and database account; the pooled account's own alert does
 * not name an advisor, and no honest advisor is alerted. */
static void test_app_users(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	uint64_t t = T0 + 9 * HOUR_NS;
	char name[32];
	const char *a;

	for (int m = 0; m < 30; m++) {
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "adv%04d", i + 1);
			feed_app_rows(d, t + (uint64_t)m * MIN_NS + (uint64_t)i * S_NS, name,
				      2 + (uint64_t)((i * 7 + m) % 9));
		}
		if (m >= 25)
			feed_app_rows(d, t + (uint64_t)m * MIN_NS + 30 * S_NS, "adv0007", 9000);
		detector_advance(d, t + (uint64_t)m * MIN_NS + 59 * S_NS);
	}
	a = first_alert(&cap, "app_user", "adv0007@portail");
	CHECK(a != NULL);
	if (a) {
		/* user.name is an OS user: none for an application user */
		CHECK(field(a, "user.name") == NULL);
		CHECK(json_dumps_eq(field(a, "related.user"), "[\"adv0007\", \"portail\"]"));
		CHECK_EQ_STR(json_string_value(field(a, "vigie.app_user")), "adv0007");
		CHECK_EQ_STR(json_string_value(field(a, "vigie.app_name")), "portail");
		CHECK_EQ_STR(json_string_value(field(a, "vigie.db_user")), "portail");
		CHECK_EQ_STR(json_string_value(field(a, "@timestamp")), "2024-03-04T09:25:30.000000Z");
		CHECK(strstr(json_string_value(field(a, "message")), "app_user adv0007@portail") != NULL);
	}
	for (int i = 0; i < 20; i++) {
		char id[48];

		snprintf(id, sizeof(id), "adv%04d@portail", i + 1);
		if (i + 1 != 7)
			CHECK_MSG(count_principal(&cap, "app_user", id) == 0, "%s alerted", id);
	}
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* A nightly dump by an account never seen: its first night alerts, the
 * following nights are its normal. */
static void test_backup_first_night(void)
{
	struct detect_config c;
	struct captured cap = { 0 };
	struct detector *d = new_default(&c, &cap);
	struct detect_summary sum;

	for (int day = 0; day < 5; day++) {
		for (int m = 0; m < 120; m++) {
			uint64_t ts = T0 + (uint64_t)day * DAY_NS + 2 * HOUR_NS + (uint64_t)m * MIN_NS;

			feed_rows(d, ts, "svc_nightly", 300000 + (uint64_t)((m * 7919) % 20000));
			detector_advance(d, ts + 1);
		}
	}
	detector_finish(d, T0 + 5 * DAY_NS);
	detector_summary(d, &sum);
	CHECK(alerts_on_day(&cap, "svc_nightly", "2024-03-04") >= 1);
	for (int day = 5; day <= 8; day++) {
		char date[16];

		snprintf(date, sizeof(date), "2024-03-%02d", day);
		CHECK_EQ_INT(alerts_on_day(&cap, "svc_nightly", date), 0);
	}
	/* one episode for the account, one for the address it reads from */
	CHECK_EQ_INT(sum.episodes, 2);
	CHECK_EQ_INT(alerts_on_day(&cap, "10.0.0.1", "2024-03-05"), 0);
	CHECK_EQ_INT(alerts_on_day(&cap, "10.0.0.1", "2024-03-08"), 0);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

int main(void)
{
	log_set_level(LOG_WARN);
	test_cold_start();
	test_group_robust();
	test_group_extreme();
	test_group_heavy_tail();
	test_floors();
	test_first_seen();
	test_drift();
	test_ramp();
	test_small_rise_trusted();
	test_app_users();
	test_backup_first_night();
	field(NULL, NULL);
	return check_summary();
}
