// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen attack scenarios (--scenario NAME[:DAY], DAY 0-based) and their
 * ground truth. The victim of a scenario is a typical member of the
 * population (median volume within -20 %/+25 %, weekday schedule).
 *
 *   bulk     13 M records in 10 hours from 09:30:30 by one account
 *   slow     20x the account's normal (or the median's) every weekday
 *   night    500 k records at 02:15
 *   many     5 % of the accounts at 4x for a day (under the threshold)
 *   egress   9 GB to 203.0.113.45 by curl as jdupont, 21:10, 45 minutes
 *   drift    20x the victim's own normal on top of its work, every weekday
 *            from DAY on, spread over its working hours
 *   ramp     from DAY, extra reads of 2x the victim's normal, doubling every
 *            weekday up to 50x (the truth gives the day it reaches 20x)
 *   scp      2.4 GB by /usr/bin/scp as root to 198.51.100.77 (never seen
 *            before), 22:00, 20 minutes
 *   newrole  a database account never seen before, from an address never
 *            seen before, 150 records/s of ~700 bytes from 10:00 for an hour
 *
 * The first five draw from the main stream as they always did; the others
 * from a stream of their own (g->rng_sc).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tracegen.h"

#define RAMP_CAP 50.0
#define DRIFT_FACTOR 20.0
#define SCP_PEER "198.51.100.77"
#define EGRESS_PEER "203.0.113.45"

static bool is(const struct scenario *sc, const char *name) { return strcmp(sc->name, name) == 0; }

int add_scenario(struct gen *g, const char *arg)
{
	struct scenario *sc;
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

	if (g->n_sc >= MAX_SCENARIOS || n == 0 || n >= sizeof(sc->name))
		return -1;
	sc = &g->sc[g->n_sc++];
	memcpy(sc->name, arg, n);
	sc->name[n] = '\0';
	sc->day = -1;
	if (colon && parse_int(colon + 1, 0, 100000, &sc->day))
		return -1;
	return 0;
}

/* ---- ticks ---- */

/* Volume of an evenly spread scenario falling in the tick ending at ts. */
static double overlap(const struct scenario *sc, uint64_t ts, int tick)
{
	uint64_t a = ts - (uint64_t)tick, b = ts;
	uint64_t lo = a > sc->start_s ? a : sc->start_s, hi = b < sc->end_s ? b : sc->end_s;

	return hi > lo ? (double)(hi - lo) / (double)(sc->end_s - sc->start_s) : 0;
}

/* A program on the database host sending a file to a remote address. */
static int egress_tick(struct gen *g, struct scenario *sc, uint64_t ts, uint32_t pid,
		       uint32_t uid, const char *user, const char *comm, const char *peer)
{
	double f = overlap(sc, ts, g->tick);
	struct trace_sample s;

	if (f <= 0)
		return 0;
	trace_sample_init(&s);
	s.ts_ns = ts * NS;
	s.pid = pid;
	s.uid = uid;
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.comm, sizeof(s.comm), "%s", comm);
	snprintf(s.exe, sizeof(s.exe), "/usr/bin/%s", comm);
	snprintf(s.peer, sizeof(s.peer), "%s", peer);
	s.egress_bytes = (uint64_t)(sc->egress * f);
	s.ops = s.egress_bytes / 65536 + 1;
	return put(g, &s);
}

/* drift, ramp: today's extra rows, spread over the victim's hours. */
static int extra_tick(struct gen *g, struct scenario *sc, uint64_t ts, int min_of_day, int wd)
{
	struct person *p = &g->people[sc->victim];
	char peer[32];
	double rows;

	if (sc->rows_per_day <= 0 || ts < sc->start_s || wd >= 5 || !in_hours(g, p, min_of_day, wd))
		return 0;
	sc->rows += sc->rows_per_day * g->tick / 60.0 / working_minutes(p) *
		    rng_lognormal1(&g->rng_sc, 0.3);
	rows = floor(sc->rows);
	if (rows < 1)
		return 0;
	sc->rows -= rows;
	person_peer(g, p, peer, sizeof(peer));
	return emit_rows(g, &g->rng_sc, ts, p->pid, p->name, peer, rows, g->pop->bytes_per_row);
}

int scenario_tick(struct gen *g, struct scenario *sc, uint64_t ts, int min_of_day, int wd)
{
	double bpr = g->pop->bytes_per_row;
	char peer[32];

	if (is(sc, "egress"))
		return egress_tick(g, sc, ts, 31337, 1001, "jdupont", "curl", EGRESS_PEER);
	if (is(sc, "scp"))
		return egress_tick(g, sc, ts, 31400, 0, "root", "scp", SCP_PEER);
	if (is(sc, "drift") || is(sc, "ramp"))
		return extra_tick(g, sc, ts, min_of_day, wd);
	if (is(sc, "newrole")) {
		double f = overlap(sc, ts, g->tick);

		return f <= 0 ? 0 : emit_rows(g, &g->rng_sc, ts, 47000, g->pop->newrole_user,
					      g->pop->newrole_peer, floor(sc->rows * f),
					      sc->bytes / sc->rows);
	}
	if (is(sc, "slow")) {
		struct person *p = &g->people[sc->victim];

		/* the account is used every weekday, even when its owner is away */
		if (ts < sc->start_s || !in_hours(g, p, min_of_day, wd) || wd >= 5)
			return 0;
		person_peer(g, p, peer, sizeof(peer));
		return emit_rows(g, &g->rng, ts, p->pid, p->name, peer,
				 sc->rows_per_day * g->tick / 60.0 / working_minutes(p), bpr);
	}
	if (is(sc, "many")) {
		if (ts < sc->start_s || ts >= sc->end_s)
			return 0;
		for (int i = 0; i < sc->n_victims; i++) {
			struct person *p = &g->people[sc->victim + i];

			if (!at_work(g, p, min_of_day, wd) || rng_unif(&g->rng) >= p->p_active)
				continue;
			person_peer(g, p, peer, sizeof(peer));
			if (emit_rows(g, &g->rng, ts, p->pid, p->name, peer, ceil(4 * p->tick_rows), bpr))
				return -1;
		}
		return 0;
	}
	/* bulk, night: evenly spread rows and bytes */
	{
		struct person *p = &g->people[sc->victim];
		double f = overlap(sc, ts, g->tick);

		if (f <= 0)
			return 0;
		person_peer(g, p, peer, sizeof(peer));
		return emit_rows(g, &g->rng, ts, p->pid, p->name, peer, floor(sc->rows * f),
				 sc->bytes / sc->rows);
	}
}

/* ---- setup ---- */

static int pick_typical(struct gen *g, struct rng *r)
{
	double med = g->pop->median_rows;

	for (int tries = 0; tries < 1000; tries++) {
		int i = (int)(rng_next(r) % (uint64_t)g->advisors);
		double m = g->people[i].mean_rows;

		if (m > 0.8 * med && m < 1.25 * med && g->people[i].workdays == WEEKDAYS)
			return i;
	}
	return 0;
}

/* First weekday from day index d (d itself if none left). */
static int first_weekday(const struct gen *g, int d)
{
	for (int i = d; i < g->days; i++)
		if (weekday(g->start_s + (uint64_t)i * DAY_S) < 5)
			return i;
	return d;
}

static void setup_extra(struct gen *g, struct scenario *sc)
{
	int k = 0, d0 = first_weekday(g, sc->day);

	sc->victim = pick_typical(g, &g->rng_sc);
	sc->start_s = g->start_s + (uint64_t)d0 * DAY_S + (uint64_t)g->people[sc->victim].start_min * 60;
	sc->end_s = g->start_s + (uint64_t)g->days * DAY_S;
	sc->reach20_day = -1;
	for (int d = d0; d < g->days && is(sc, "ramp"); d++) {
		if (weekday(g->start_s + (uint64_t)d * DAY_S) >= 5)
			continue;
		if (fmin(pow(2, k + 1), RAMP_CAP) >= 20) {
			sc->reach20_day = d;
			break;
		}
		k++;
	}
}

int setup_scenario(struct gen *g, struct scenario *sc)
{
	uint64_t day = g->start_s + (uint64_t)sc->day * DAY_S;
	bool dflt = g->pop == &pop_default;

	sc->victim = -1;
	if (is(sc, "bulk")) {
		sc->victim = pick_typical(g, &g->rng);
		sc->start_s = day + 9 * 3600 + 30 * 60 + 30; /* 09:30:30 */
		sc->end_s = sc->start_s + 10 * 3600;
		sc->rows = 13e6;
		sc->bytes = dflt ? 9e9 : sc->rows * g->pop->bytes_per_row;
	} else if (is(sc, "night")) {
		sc->victim = pick_typical(g, &g->rng);
		sc->start_s = day + 2 * 3600 + 15 * 60;
		sc->end_s = sc->start_s + 3600;
		sc->rows = 500e3;
		sc->bytes = dflt ? 350e6 : sc->rows * g->pop->bytes_per_row;
	} else if (is(sc, "slow")) {
		sc->victim = pick_typical(g, &g->rng);
		sc->start_s = day;
		sc->end_s = g->start_s + (uint64_t)g->days * DAY_S;
		sc->rows_per_day = 20 * fmax(g->people[sc->victim].mean_rows, g->pop->median_rows);
	} else if (is(sc, "many")) {
		sc->n_victims = g->advisors / 20 > 0 ? g->advisors / 20 : 1;
		sc->victim = (int)(rng_next(&g->rng) % (uint64_t)(g->advisors - sc->n_victims + 1));
		sc->start_s = day;
		sc->end_s = day + DAY_S;
	} else if (is(sc, "egress")) {
		sc->start_s = day + 21 * 3600 + 10 * 60;
		sc->end_s = sc->start_s + 45 * 60;
		sc->egress = 9e9;
	} else if (is(sc, "drift") || is(sc, "ramp")) {
		setup_extra(g, sc);
		sc->rows = 0; /* carry of fractional rows */
	} else if (is(sc, "scp")) {
		sc->start_s = day + 22 * 3600;
		sc->end_s = sc->start_s + 20 * 60;
		sc->egress = 2.4e9;
	} else if (is(sc, "newrole")) {
		sc->start_s = day + 10 * 3600;
		sc->end_s = sc->start_s + 3600;
		sc->rows = 150.0 * 3600;
		sc->bytes = sc->rows * 700;
	} else {
		fprintf(stderr, "tracegen: unknown scenario '%s' (bulk, slow, night, many, egress, "
			"drift, ramp, scp, newrole)\n", sc->name);
		return -1;
	}
	if (sc->victim >= g->advisors && !is(sc, "many"))
		sc->victim = 0;
	return 0;
}

/* Start of a day: today's extra volume of drift and ramp. */
void scenario_day(struct gen *g, struct scenario *sc, uint64_t day_s, int day_idx)
{
	const struct person *p;

	if (!is(sc, "drift") && !is(sc, "ramp"))
		return;
	p = &g->people[sc->victim];
	if (day_idx == sc->day) /* the victim's realised normal so far */
		sc->normal = p->hist_days ? p->hist_rows / p->hist_days : p->mean_rows;
	sc->rows_per_day = 0;
	if (day_idx < sc->day || weekday(day_s) >= 5)
		return;
	if (is(sc, "drift"))
		sc->factor = DRIFT_FACTOR;
	else
		sc->factor = fmin(pow(2, ++sc->ramp_step), RAMP_CAP);
	sc->rows_per_day = sc->factor * sc->normal;
}

/* ---- ground truth ---- */

static json_t *truth_extra(struct gen *g, struct scenario *sc, json_t *o, json_t *ps)
{
	char proc[64];

	if (is(sc, "scp")) {
		json_array_append_new(ps, principal("user", "root"));
		snprintf(proc, sizeof(proc), "/usr/bin/scp@root");
		json_array_append_new(ps, principal("process", proc));
		json_array_append_new(ps, principal("peer", SCP_PEER));
		json_object_set_new(o, "egress_bytes", json_integer((json_int_t)sc->egress));
	} else if (is(sc, "newrole")) {
		json_array_append_new(ps, principal("db_user", g->pop->newrole_user));
		json_array_append_new(ps, principal("peer", g->pop->newrole_peer));
		json_object_set_new(o, "rows_per_s", json_integer(150));
		json_object_set_new(o, "db_rows", json_integer((json_int_t)sc->rows));
		json_object_set_new(o, "db_bytes", json_integer((json_int_t)sc->bytes));
	} else { /* drift, ramp */
		json_array_append_new(ps, principal("db_user", g->people[sc->victim].name));
		json_object_set_new(o, "normal_rows_per_day", json_integer((json_int_t)sc->normal));
		if (is(sc, "drift")) {
			json_object_set_new(o, "factor", json_real(DRIFT_FACTOR));
			json_object_set_new(o, "rows_per_day",
					    json_integer((json_int_t)(DRIFT_FACTOR * sc->normal)));
		} else {
			json_object_set_new(o, "factor_start", json_real(2));
			json_object_set_new(o, "factor_cap", json_real(RAMP_CAP));
			json_object_set_new(o, "reaches_20x_day", sc->reach20_day < 0 ? json_null() :
					    json_integer(sc->reach20_day));
			json_object_set_new(o, "reaches_20x", sc->reach20_day < 0 ? json_null() :
					    iso(g->start_s + (uint64_t)sc->reach20_day * DAY_S));
		}
	}
	json_object_set_new(o, "expect_alert", json_true());
	return o;
}

json_t *truth_scenario(struct gen *g, struct scenario *sc)
{
	json_t *o = json_pack("{ss si so so}", "name", sc->name, "day", sc->day, "start",
			      iso(sc->start_s), "end", iso(sc->end_s));
	json_t *ps = json_array();

	if (is(sc, "egress")) {
		json_array_append_new(ps, principal("user", "jdupont"));
		json_array_append_new(ps, principal("process", "/usr/bin/curl@jdupont"));
		json_array_append_new(ps, principal("peer", EGRESS_PEER));
		json_object_set_new(o, "egress_bytes", json_integer((json_int_t)sc->egress));
		json_object_set_new(o, "expect_alert", json_true());
	} else if (is(sc, "many")) {
		for (int i = 0; i < sc->n_victims; i++)
			json_array_append_new(ps, principal("db_user", g->people[sc->victim + i].name));
		json_object_set_new(o, "factor", json_real(4));
		json_object_set_new(o, "expect_alert", json_false());
	} else if (is(sc, "drift") || is(sc, "ramp") || is(sc, "scp") || is(sc, "newrole")) {
		truth_extra(g, sc, o, ps);
	} else {
		json_array_append_new(ps, principal("db_user", g->people[sc->victim].name));
		if (sc->rows_per_day > 0) {
			json_object_set_new(o, "rows_per_day", json_integer((json_int_t)sc->rows_per_day));
			json_object_set_new(o, "normal_rows_per_day",
					    json_integer((json_int_t)g->people[sc->victim].mean_rows));
		} else {
			json_object_set_new(o, "db_rows", json_integer((json_int_t)sc->rows));
			json_object_set_new(o, "db_bytes", json_integer((json_int_t)sc->bytes));
		}
		json_object_set_new(o, "expect_alert", json_true());
	}
	json_object_set_new(o, "principals", ps);
	return o;
}
