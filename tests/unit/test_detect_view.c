// SPDX-License-Identifier: GPL-2.0
/*
 * The detector's read-only view (detect/detect_view.h): windows rolled to
 * the detector's time without rolling them, normals and references as the
 * alert rule computes them, floors, ratios, episodes, flags, contributors,
 * the walk (order, since, stop) and, above all, that looking changes
 * nothing: the same input with and without views gives the same events and
 * the same state file.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "detect_capture.h"
#include "detect/detect.h"
#include "detect/detect_view.h"
#include "base/log.h"

#define MIN_NS 60000000000ull
#define HOUR_NS (60 * MIN_NS)
#define DAY_NS (24 * HOUR_NS)
#define T0 1709510400000000000ull /* 2024-03-04T00:00:00Z */
#define T10 (T0 + 10 * HOUR_NS)

#define ADV_CFG                                                                        \
	"{\"principals\":[\"db_user\"],\"profiles\":[{\"name\":\"adv\",\"match\":"     \
	"{\"db_users\":[\"adv*\"]},\"per_day\":{\"db_rows\":500}},{\"name\":\"svc\","  \
	"\"match\":{\"db_users\":[\"backup\"]},\"alert\":false}]}"

/* The rows of one walk, copied (ids live during the callback only). */
struct rows {
	int n;
	struct detect_view_row r[16];
	char id[16][128];
	char top_process[16][128], top_peer[16][128];
	int stop_at; /* return 7 at this row (1-based), 0 never */
};

static int collect(const struct detect_view_row *row, void *arg)
{
	struct rows *rs = arg;

	if (rs->n < 16) {
		rs->r[rs->n] = *row;
		snprintf(rs->id[rs->n], sizeof(rs->id[0]), "%s", row->id);
		snprintf(rs->top_process[rs->n], 128, "%s", row->top_process ? row->top_process : "-");
		snprintf(rs->top_peer[rs->n], 128, "%s", row->top_peer ? row->top_peer : "-");
		rs->r[rs->n].id = rs->id[rs->n];
	}
	rs->n++;
	return rs->stop_at && rs->n == rs->stop_at ? 7 : 0;
}

/* The row of id, NULL if absent. */
static const struct detect_view_row *row_of(struct detector *d, struct rows *rs, const char *id)
{
	memset(rs, 0, sizeof(*rs));
	detect_view_each(d, collect, rs);
	for (int i = 0; i < rs->n && i < 16; i++)
		if (!strcmp(rs->id[i], id))
			return &rs->r[i];
	return NULL;
}

static void feed(struct detector *d, uint64_t ts, const char *user, const char *db_user,
		 const char *peer, uint64_t rows, uint64_t egress)
{
	struct trace_sample s;

	trace_sample_init(&s);
	s.ts_ns = ts;
	s.pid = 100;
	s.uid = 105;
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.exe, sizeof(s.exe), "/usr/bin/%s", db_user[0] ? "postgres" : "curl");
	snprintf(s.db_user, sizeof(s.db_user), "%s", db_user);
	snprintf(s.peer, sizeof(s.peer), "%s", peer);
	s.db_rows = rows;
	s.egress_bytes = egress;
	detector_feed(d, &s);
}

static void test_empty(void)
{
	struct detect_config c = parse_cfg(ADV_CFG);
	struct detector *d = detector_new(&c, capture, NULL);
	struct rows rs = { 0 };

	CHECK_EQ_INT(detect_view_now(d), 0);
	CHECK_EQ_INT(detect_view_each(d, collect, &rs), 0);
	CHECK_EQ_INT(rs.n, 0);
	CHECK_EQ_INT(detect_view_now(NULL), 0);
	CHECK_EQ_INT(detect_view_each(NULL, collect, &rs), 0);
	detector_free(d);
	detect_config_free(&c);
}

/* Windows as of the detector's time, though the principal's own windows
 * were last rolled at its last sample. */
static void test_windows(void)
{
	struct detect_config c = parse_cfg(ADV_CFG);
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	const struct detect_view_row *r;
	struct rows rs;

	feed_rows(d, T10, "adv1", 100);
	feed_rows(d, T10 + MIN_NS, "adv1", 50);
	CHECK_EQ_INT(detect_view_now(d), T10 + MIN_NS);
	r = row_of(d, &rs, "adv1");
	CHECK(r != NULL);
	if (r) {
		const struct detect_view_metric *m = &r->m[M_DB_ROWS];

		CHECK_EQ_INT(r->kind, PK_DB_USER);
		CHECK_EQ_INT(r->last_seen_ns, T10 + MIN_NS);
		CHECK(m->active && !m->episode_open && m->episode_level == 0 && !m->episode_id[0]);
		CHECK_EQ_INT(m->w[W_1M].observed, 50);
		CHECK_EQ_INT(m->w[W_1H].observed, 150);
		CHECK_EQ_INT(m->w[W_24H].observed, 150);
		/* profile: 500 a day, 1 h = 0.25 x, 1 m = 0.05 x */
		CHECK_NEAR(m->w[W_1M].normal, 25, 1e-9);
		CHECK_NEAR(m->w[W_1H].normal, 125, 1e-9);
		CHECK_NEAR(m->w[W_24H].normal, 500, 1e-9);
		for (int w = 0; w < W_MAX; w++)
			CHECK_EQ_STR(m->w[w].reference, "profile");
		CHECK_NEAR(m->w[W_1M].floor, 1000, 0);
		CHECK_NEAR(m->w[W_1H].floor, 1000, 0);
		CHECK_NEAR(m->w[W_24H].floor, 2000, 0);
		CHECK_NEAR(m->w[W_1M].ratio, 2.0, 1e-12);
		CHECK_NEAR(m->w[W_1H].ratio, 1.2, 1e-12);
		CHECK_NEAR(m->w[W_24H].ratio, 0.3, 1e-12);
		/* a metric without data: no normal, never shown as 0 */
		CHECK(!r->m[M_DB_BYTES].active);
		CHECK(r->m[M_DB_BYTES].w[W_1M].normal < 0 && r->m[M_DB_BYTES].w[W_1M].ratio < 0);
		CHECK(r->m[M_DB_BYTES].w[W_1M].reference == NULL);
		CHECK_NEAR(r->m[M_DB_BYTES].w[W_1M].floor, 700000, 0);
		CHECK_NEAR(r->m[M_DB_BYTES].w[W_24H].floor, 1400000, 0);
	}
	/* time moves on through another principal: adv1's minute is over */
	feed_rows(d, T10 + 2 * MIN_NS, "adv2", 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].observed == 0 && r->m[M_DB_ROWS].w[W_1H].observed == 150);
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].ratio == 0);
	/* the same as the detector says once it rolls them itself */
	feed_rows(d, T10 + 2 * MIN_NS, "adv1", 7);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].observed == 7 && r->m[M_DB_ROWS].w[W_1H].observed == 157);
	/* 10:00 and 10:01 leave the 1 h window at 11:00 and 11:01; 10:02 at 11:02 */
	feed_rows(d, T10 + 61 * MIN_NS, "adv2", 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_1H].observed == 7 && r->m[M_DB_ROWS].w[W_24H].observed == 157);
	feed_rows(d, T10 + 62 * MIN_NS, "adv2", 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_1H].observed == 0 && r->m[M_DB_ROWS].w[W_24H].observed == 157);
	/* the 24 h window slides by the hour: hour 10 leaves it at 10:00 the next day */
	feed_rows(d, T10 + DAY_NS - MIN_NS, "adv2", 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_24H].observed == 157);
	feed_rows(d, T10 + DAY_NS, "adv2", 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].w[W_24H].observed == 0);
	CHECK_EQ_INT(cap.n, 0);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* References: new_principal (ceilings over the ratio), learned (a quantile
 * of its own closed minutes), first_seen (egress ceilings / novelty). */
static void test_references(void)
{
	struct detect_config c = parse_cfg("{\"learned\":{\"min_windows\":{\"1m\":5}}}");
	struct detector *d = detector_new(&c, capture, NULL);
	const struct detect_view_row *r;
	struct rows rs;

	feed(d, T10, "postgres", "stranger", "10.0.0.1", 10, 0);
	r = row_of(d, &rs, "stranger");
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_STR(r->m[M_DB_ROWS].w[W_1M].reference, "new_principal");
		CHECK_NEAR(r->m[M_DB_ROWS].w[W_1M].normal, 300, 1e-9);  /* 3000 / 10 */
		CHECK_NEAR(r->m[M_DB_ROWS].w[W_1H].normal, 5000, 1e-9); /* 50000 / 10 */
		CHECK_NEAR(r->m[M_DB_ROWS].w[W_24H].normal, 50000, 1e-9);
		CHECK_NEAR(r->m[M_DB_ROWS].w[W_1M].ratio, 10.0 / 300, 1e-12);
		CHECK(!r->allowed && !r->aggregate);
	}
	/* five closed minutes of 10 records: its own 1 m normal, the 0.99
	 * quantile of half-octave bucket 6 ([8, 11.3)): 2^(6.99 / 2) */
	for (int i = 1; i <= 5; i++)
		feed(d, T10 + (uint64_t)i * MIN_NS, "postgres", "stranger", "10.0.0.1", 10, 0);
	r = row_of(d, &rs, "stranger");
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].reference &&
	      !strcmp(r->m[M_DB_ROWS].w[W_1M].reference, "learned"));
	CHECK(r && fabs(r->m[M_DB_ROWS].w[W_1M].normal - pow(2, 6.99 / 2)) < 1e-6);
	CHECK(r && r->m[M_DB_ROWS].w[W_1H].reference &&
	      !strcmp(r->m[M_DB_ROWS].w[W_1H].reference, "new_principal"));
	/* the database server's own user and executable serve every account */
	r = row_of(d, &rs, "postgres");
	CHECK(r && r->kind == PK_USER && r->aggregate);
	CHECK(r && !strcmp(rs.top_process[r - rs.r], "/usr/bin/postgres@postgres"));
	CHECK(r && !strcmp(rs.top_peer[r - rs.r], "10.0.0.1"));
	r = row_of(d, &rs, "/usr/bin/postgres@postgres");
	CHECK(r && r->kind == PK_PROCESS && r->aggregate && !strcmp(rs.top_process[r - rs.r], "-"));
	r = row_of(d, &rs, "10.0.0.1");
	CHECK(r && r->kind == PK_PEER && !strcmp(rs.top_peer[r - rs.r], "-") &&
	      !strcmp(rs.top_process[r - rs.r], "/usr/bin/postgres@postgres"));
	/* egress to an address first seen after the warm-up: ceilings / 4 */
	feed(d, T10 + 10 * MIN_NS, "jdupont", "", "203.0.113.9", 0, 1000);
	r = row_of(d, &rs, "203.0.113.9");
	CHECK(r && r->m[M_EGRESS_BYTES].active && !r->m[M_DB_ROWS].active);
	CHECK(r && r->m[M_EGRESS_BYTES].w[W_1M].reference &&
	      !strcmp(r->m[M_EGRESS_BYTES].w[W_1M].reference, "first_seen"));
	CHECK(r && fabs(r->m[M_EGRESS_BYTES].w[W_1M].normal - 2500000) < 1e-6); /* 100 MB / 4 / 10 */
	CHECK(r && fabs(r->m[M_EGRESS_BYTES].w[W_24H].normal - 250000000) < 1e-3);
	detector_free(d);
	detect_config_free(&c);
}

static void test_episode_and_flags(void)
{
	struct detect_config c = parse_cfg(ADV_CFG);
	struct captured cap = { 0 };
	struct detector *d = detector_new(&c, capture, &cap);
	const struct detect_view_row *r;
	struct rows rs;

	feed_rows(d, T10, "adv1", 2000);
	feed_rows(d, T10, "backup", 50000000);
	detector_advance(d, T10 + MIN_NS);
	CHECK_EQ_INT(cap.n, 1);
	r = row_of(d, &rs, "adv1");
	CHECK(r && r->m[M_DB_ROWS].episode_open && r->m[M_DB_ROWS].episode_level == 1);
	if (r && cap.n)
		CHECK_EQ_STR(r->m[M_DB_ROWS].episode_id,
			     json_string_value(field(cap.lines[0], "vigie.episode.id")));
	/* as of the evaluation's time, its minute is over */
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].observed == 0 && r->m[M_DB_ROWS].w[W_1H].observed == 2000);
	r = row_of(d, &rs, "backup");
	CHECK(r && r->allowed && !r->m[M_DB_ROWS].episode_open);
	CHECK(r && r->m[M_DB_ROWS].w[W_1M].reference == NULL && r->m[M_DB_ROWS].w[W_1M].normal < 0);
	detector_finish(d, T10 + 2 * HOUR_NS);
	r = row_of(d, &rs, "adv1");
	CHECK(r && !r->m[M_DB_ROWS].episode_open && !r->m[M_DB_ROWS].episode_id[0]);
	field(NULL, NULL);
	detector_free(d);
	captured_free(&cap);
	detect_config_free(&c);
}

/* Creation order, since (last sample at or after), stop. */
static void test_walk(void)
{
	struct detect_config c = parse_cfg(ADV_CFG);
	struct detector *d = detector_new(&c, capture, NULL);
	struct rows rs = { 0 };

	feed_rows(d, T10, "adv2", 1);
	feed_rows(d, T10, "adv1", 1);
	feed_rows(d, T10 + 5 * MIN_NS, "adv3", 1);
	CHECK_EQ_INT(detect_view_each(d, collect, &rs), 0);
	CHECK_EQ_INT(rs.n, 3);
	CHECK_EQ_STR(rs.id[0], "adv2");
	CHECK_EQ_STR(rs.id[1], "adv1");
	CHECK_EQ_STR(rs.id[2], "adv3");
	memset(&rs, 0, sizeof(rs));
	CHECK_EQ_INT(detect_view_each_since(d, T10 + MIN_NS, collect, &rs), 0);
	CHECK_EQ_INT(rs.n, 1);
	CHECK_EQ_STR(rs.id[0], "adv3");
	memset(&rs, 0, sizeof(rs));
	CHECK_EQ_INT(detect_view_each_since(d, T10, collect, &rs), 0);
	CHECK_EQ_INT(rs.n, 3);
	memset(&rs, 0, sizeof(rs));
	rs.stop_at = 2;
	CHECK_EQ_INT(detect_view_each(d, collect, &rs), 7);
	CHECK_EQ_INT(rs.n, 2);
	detector_free(d);
	detect_config_free(&c);
}

static int count_rows(const struct detect_view_row *row, void *arg)
{
	(*(long *)arg)++;
	return 0;
}

/* Three office days of five advisors, then one extracts: with a view of
 * every principal after every sample, or without any. */
static void run(struct detector *d, bool look, long *rows)
{
	for (int day = 0; day < 4; day++)
		for (int min = 9 * 60; min < 17 * 60; min++)
			for (int a = 1; a <= 5; a++) {
				char who[16];
				uint64_t n = (uint64_t)(3 + (a * 7 + min) % 11);

				snprintf(who, sizeof(who), "adv%d", a);
				if (day == 3 && a == 2 && min >= 10 * 60 && min < 10 * 60 + 30)
					n = 3000;
				feed_rows(d, T0 + (uint64_t)day * DAY_NS + (uint64_t)min * MIN_NS, who, n);
				if (look)
					detect_view_each(d, count_rows, rows);
			}
	if (look)
		detect_view_each(d, count_rows, rows);
	detector_finish(d, T0 + 4 * DAY_NS);
}

static void test_no_side_effect(void)
{
	struct detect_config c = parse_cfg(ADV_CFG);
	struct captured a = { 0 }, b = { 0 };
	struct detector *d1 = detector_new(&c, capture, &a), *d2 = detector_new(&c, capture, &b);
	char p1[] = "/tmp/vigie-view-1-XXXXXX", p2[] = "/tmp/vigie-view-2-XXXXXX";
	char *s1, *s2;
	long rows = 0;
	int fd;

	fd = mkstemp(p1);
	close(fd);
	fd = mkstemp(p2);
	close(fd);
	run(d1, true, &rows);
	run(d2, false, NULL);
	CHECK_EQ_INT(rows, 4 * 8 * 60 * 5 * 5 - (1 + 2 + 3 + 4) + 5);
	CHECK(a.n >= 2);
	CHECK_EQ_INT(count_principal(&a, "db_user", "adv2"), a.n);
	CHECK_EQ_INT(a.n, b.n);
	for (int i = 0; i < a.n && i < b.n; i++)
		CHECK_EQ_STR(strip_event_id(a.lines[i]), strip_event_id(b.lines[i]));
	CHECK_EQ_INT(detector_state_save(d1, p1), 0);
	CHECK_EQ_INT(detector_state_save(d2, p2), 0);
	s1 = check_slurp(p1);
	s2 = check_slurp(p2);
	CHECK(s1 && s2 && strstr(s1, "\"adv5\"") && !strcmp(s1, s2));
	free(s1);
	free(s2);
	unlink(p1);
	unlink(p2);
	{
		char prev[64];

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
	test_empty();
	test_windows();
	test_references();
	test_episode_and_flags();
	test_walk();
	test_no_side_effect();
	return check_summary();
}
