// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen: realistic vigie traces for tests and demos, seen from a
 * PostgreSQL server of the partner network: advisors working office hours
 * through portal application servers, a few heavier supervisors, nightly
 * batch, backup and replication; plus attack scenarios mixed in. Writes the
 * ground truth (who, what, when) beside the trace. Deterministic for a seed.
 *
 *   tracegen -o trace.jsonl.gz --days 30 --advisors 2300 --scenario bulk:9
 *
 * Times are UTC; office hours are modelled in UTC too.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "event.h"
#include "trace.h"

#define NS 1000000000ull
#define DAY_S 86400
#define PG_EXE "/usr/lib/postgresql/16/bin/postgres"
#define PG_UID 105
#define ADVISOR_MEDIAN_ROWS 300.0
#define BYTES_PER_ROW 700.0
#define MAX_SCENARIOS 16

/* ---- PRNG: splitmix64 seeding xoshiro256** (no rand(), same everywhere) ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(struct rng *r)
{
	uint64_t res = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return res;
}

static double rng_unif(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

static double rng_normal(struct rng *r)
{
	double u = rng_unif(r), v = rng_unif(r);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Lognormal with mean 1. */
static double rng_lognormal1(struct rng *r, double sigma)
{
	return exp(sigma * rng_normal(r) - sigma * sigma / 2);
}

/* ---- population ---- */

struct person {
	char name[16];
	double mean_rows;     /* per working day */
	int start_min, end_min, lunch_min, lunch_len; /* minutes of the day */
	bool saturday;
	int peer;             /* portal server index */
	uint32_t pid;
	/* today */
	bool working;
	double tick_rows;     /* mean rows per active tick */
	double p_active;
};

struct scenario {
	char name[16];
	int day;
	int victim;           /* person index, -1 n/a */
	uint64_t start_s, end_s;
	double rows, bytes, egress;
	double rows_per_day;  /* slow */
	int n_victims;        /* many */
	int *victims;
};

struct gen {
	const char *out, *truth, *host;
	uint64_t seed;
	int days, advisors, supervisors;
	int tick;
	uint64_t start_s;
	bool services;
	struct person *people;
	int n_people;
	struct scenario sc[MAX_SCENARIOS];
	int n_sc;
	struct trace_writer *w;
	struct rng rng;
	uint64_t samples;
};

static void init_person(struct gen *g, struct person *p, int i, bool supervisor)
{
	struct rng *r = &g->rng;

	if (supervisor)
		snprintf(p->name, sizeof(p->name), "sup%03d", i);
	else
		snprintf(p->name, sizeof(p->name), "adv%04d", i);
	p->mean_rows = ADVISOR_MEDIAN_ROWS * exp(0.5 * rng_normal(r)) * (supervisor ? 3 : 1);
	p->start_min = 7 * 60 + 30 + (int)(rng_unif(r) * 120);      /* 07:30-09:30 */
	p->end_min = p->start_min + 8 * 60 + (int)(rng_unif(r) * 90);
	p->lunch_min = 11 * 60 + 45 + (int)(rng_unif(r) * 90);
	p->lunch_len = 30 + (int)(rng_unif(r) * 60);
	p->saturday = supervisor && rng_unif(r) < 0.3;
	p->peer = i % 4;
	p->pid = 20000 + (uint32_t)(rng_next(r) % 40000);
}

static int build_population(struct gen *g)
{
	g->n_people = g->advisors + g->supervisors;
	g->people = calloc((size_t)g->n_people + 1, sizeof(*g->people));
	if (!g->people)
		return -1;
	for (int i = 0; i < g->advisors; i++)
		init_person(g, &g->people[i], i + 1, false);
	for (int i = 0; i < g->supervisors; i++)
		init_person(g, &g->people[g->advisors + i], i + 1, true);
	return 0;
}

static int weekday(uint64_t day_start_s) /* 0 = Monday */
{
	return (int)((day_start_s / DAY_S + 3) % 7);
}

static void plan_day(struct gen *g, struct person *p, uint64_t day_s)
{
	int wd = weekday(day_s);
	double minutes, ticks, rate_per_min = 1.0 / 3; /* one action every 3 min */

	p->working = (wd < 5 || (wd == 5 && p->saturday)) && rng_unif(&g->rng) >= 0.05;
	if (!p->working)
		return;
	minutes = p->end_min - p->start_min - p->lunch_len;
	if (wd == 5)
		minutes /= 2;
	p->p_active = 1 - exp(-rate_per_min * g->tick / 60.0);
	ticks = minutes * 60.0 / g->tick * p->p_active;
	p->tick_rows = p->mean_rows * rng_lognormal1(&g->rng, 0.3) / (ticks > 1 ? ticks : 1);
	p->pid = 20000 + (uint32_t)(rng_next(&g->rng) % 40000); /* new backend each day */
}

/* Within the person's office hours (whether or not they work today). */
static bool in_hours(const struct person *p, int min_of_day, int wd)
{
	int end = wd == 5 ? p->start_min + (p->end_min - p->start_min) / 2 : p->end_min;

	if (min_of_day < p->start_min || min_of_day >= end)
		return false;
	return !(min_of_day >= p->lunch_min && min_of_day < p->lunch_min + p->lunch_len);
}

static bool at_work(const struct person *p, int min_of_day, int wd)
{
	return p->working && in_hours(p, min_of_day, wd);
}

/* ---- samples ---- */

static void pg_sample(struct trace_sample *s, uint64_t ts, uint32_t pid, const char *db_user,
		      const char *peer)
{
	trace_sample_init(s);
	s->ts_ns = ts * NS;
	s->pid = pid;
	s->uid = PG_UID;
	snprintf(s->user, sizeof(s->user), "postgres");
	snprintf(s->comm, sizeof(s->comm), "postgres");
	snprintf(s->exe, sizeof(s->exe), PG_EXE);
	snprintf(s->db_user, sizeof(s->db_user), "%s", db_user);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
}

static int put(struct gen *g, const struct trace_sample *s)
{
	g->samples++;
	return trace_writer_write(g->w, s);
}

static int emit_rows(struct gen *g, uint64_t ts, uint32_t pid, const char *who, const char *peer,
		     double rows, double bpr)
{
	struct trace_sample s;

	if (rows < 1)
		return 0;
	pg_sample(&s, ts, pid, who, peer);
	s.db_rows = (uint64_t)rows;
	s.db_bytes = (uint64_t)(rows * bpr * rng_lognormal1(&g->rng, 0.15)) + 200;
	s.ops = 1 + (uint64_t)(rows / 40);
	return put(g, &s);
}

static int people_tick(struct gen *g, uint64_t ts, int min_of_day, int wd)
{
	char peer[32];

	for (int i = 0; i < g->n_people; i++) {
		struct person *p = &g->people[i];
		double rows;

		if (!at_work(p, min_of_day, wd) || rng_unif(&g->rng) >= p->p_active)
			continue;
		rows = p->tick_rows * rng_lognormal1(&g->rng, 0.6);
		snprintf(peer, sizeof(peer), "10.20.0.%d", p->peer + 1);
		if (emit_rows(g, ts, p->pid, p->name, peer, ceil(rows), BYTES_PER_ROW))
			return -1;
	}
	return 0;
}

/* Nightly batch (01:00-03:00), backup (02:00-04:00), replication all day. */
static int services_tick(struct gen *g, uint64_t ts, int min_of_day, double activity)
{
	double per_tick = g->tick / 60.0;
	struct trace_sample s;

	if (min_of_day >= 60 && min_of_day < 180 &&
	    emit_rows(g, ts, 4100, "batch_etl", "10.30.0.5", 2e6 / 120 * per_tick *
		      rng_lognormal1(&g->rng, 0.2), 400))
		return -1;
	if (min_of_day >= 120 && min_of_day < 240) {
		if (emit_rows(g, ts, 4200, "backup", "10.30.0.9", 40e6 / 120 * per_tick *
			      rng_lognormal1(&g->rng, 0.1), BYTES_PER_ROW))
			return -1;
		trace_sample_init(&s);
		s.ts_ns = ts * NS;
		s.pid = 4200;
		s.uid = PG_UID;
		snprintf(s.user, sizeof(s.user), "postgres");
		snprintf(s.comm, sizeof(s.comm), "postgres");
		snprintf(s.exe, sizeof(s.exe), PG_EXE);
		snprintf(s.db_user, sizeof(s.db_user), "backup");
		s.dbfile_bytes = (uint64_t)(28e9 / 120 * per_tick * rng_lognormal1(&g->rng, 0.1));
		s.ops = s.dbfile_bytes / 8192;
		if (put(g, &s))
			return -1;
	}
	/* WAL streaming to the standby, proportional to activity */
	trace_sample_init(&s);
	s.ts_ns = ts * NS;
	s.pid = 900;
	s.uid = PG_UID;
	snprintf(s.user, sizeof(s.user), "postgres");
	snprintf(s.comm, sizeof(s.comm), "postgres");
	snprintf(s.exe, sizeof(s.exe), PG_EXE);
	snprintf(s.db_user, sizeof(s.db_user), "replicator");
	snprintf(s.peer, sizeof(s.peer), "10.30.0.2");
	s.egress_bytes = (uint64_t)((2e5 + 3e6 * activity) * per_tick * rng_lognormal1(&g->rng, 0.3));
	s.ops = 1 + s.egress_bytes / 65536;
	return put(g, &s);
}

/* ---- scenarios ---- */

/* Volume of an evenly spread scenario falling in the tick ending at ts. */
static double overlap(const struct scenario *sc, uint64_t ts, int tick)
{
	uint64_t a = ts - (uint64_t)tick, b = ts;
	uint64_t lo = a > sc->start_s ? a : sc->start_s, hi = b < sc->end_s ? b : sc->end_s;

	return hi > lo ? (double)(hi - lo) / (double)(sc->end_s - sc->start_s) : 0;
}

static int scenario_tick(struct gen *g, struct scenario *sc, uint64_t ts, int min_of_day, int wd)
{
	char peer[32];

	if (strcmp(sc->name, "egress") == 0) {
		double f = overlap(sc, ts, g->tick);
		struct trace_sample s;

		if (f <= 0)
			return 0;
		trace_sample_init(&s);
		s.ts_ns = ts * NS;
		s.pid = 31337;
		s.uid = 1001;
		snprintf(s.user, sizeof(s.user), "jdupont");
		snprintf(s.comm, sizeof(s.comm), "curl");
		snprintf(s.exe, sizeof(s.exe), "/usr/bin/curl");
		snprintf(s.peer, sizeof(s.peer), "203.0.113.45");
		s.egress_bytes = (uint64_t)(sc->egress * f);
		s.ops = s.egress_bytes / 65536 + 1;
		return put(g, &s);
	}
	if (strcmp(sc->name, "slow") == 0) {
		struct person *p = &g->people[sc->victim];

		/* the account is used every weekday, even when its owner is away */
		if (ts < sc->start_s || !in_hours(p, min_of_day, wd) || wd >= 5)
			return 0;
		snprintf(peer, sizeof(peer), "10.20.0.%d", p->peer + 1);
		return emit_rows(g, ts, p->pid, p->name, peer,
				 sc->rows_per_day * g->tick / 60.0 /
					 (p->end_min - p->start_min - p->lunch_len), BYTES_PER_ROW);
	}
	if (strcmp(sc->name, "many") == 0) {
		if (ts < sc->start_s || ts >= sc->end_s)
			return 0;
		for (int i = 0; i < sc->n_victims; i++) {
			struct person *p = &g->people[sc->victim + i];

			if (!at_work(p, min_of_day, wd) || rng_unif(&g->rng) >= p->p_active)
				continue;
			snprintf(peer, sizeof(peer), "10.20.0.%d", p->peer + 1);
			if (emit_rows(g, ts, p->pid, p->name, peer, ceil(4 * p->tick_rows),
				      BYTES_PER_ROW))
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
		snprintf(peer, sizeof(peer), "10.20.0.%d", p->peer + 1);
		return emit_rows(g, ts, p->pid, p->name, peer, floor(sc->rows * f),
				 sc->bytes / sc->rows);
	}
}

static int pick_typical(struct gen *g)
{
	for (int tries = 0; tries < 1000; tries++) {
		int i = (int)(rng_next(&g->rng) % (uint64_t)g->advisors);
		double m = g->people[i].mean_rows;

		if (m > 0.8 * ADVISOR_MEDIAN_ROWS && m < 1.25 * ADVISOR_MEDIAN_ROWS)
			return i;
	}
	return 0;
}

static int setup_scenario(struct gen *g, struct scenario *sc)
{
	uint64_t day = g->start_s + (uint64_t)sc->day * DAY_S;

	sc->victim = -1;
	if (strcmp(sc->name, "bulk") == 0) {
		sc->victim = pick_typical(g);
		sc->start_s = day + 9 * 3600 + 30 * 60 + 30; /* 09:30:30 */
		sc->end_s = sc->start_s + 10 * 3600;
		sc->rows = 13e6;
		sc->bytes = 9e9;
	} else if (strcmp(sc->name, "night") == 0) {
		sc->victim = pick_typical(g);
		sc->start_s = day + 2 * 3600 + 15 * 60;
		sc->end_s = sc->start_s + 3600;
		sc->rows = 500e3;
		sc->bytes = 350e6;
	} else if (strcmp(sc->name, "slow") == 0) {
		sc->victim = pick_typical(g);
		sc->start_s = day;
		sc->end_s = g->start_s + (uint64_t)g->days * DAY_S;
		sc->rows_per_day = 20 * fmax(g->people[sc->victim].mean_rows, ADVISOR_MEDIAN_ROWS);
	} else if (strcmp(sc->name, "many") == 0) {
		sc->n_victims = g->advisors / 20 > 0 ? g->advisors / 20 : 1;
		sc->victim = (int)(rng_next(&g->rng) % (uint64_t)(g->advisors - sc->n_victims + 1));
		sc->start_s = day;
		sc->end_s = day + DAY_S;
	} else if (strcmp(sc->name, "egress") == 0) {
		sc->start_s = day + 21 * 3600 + 10 * 60;
		sc->end_s = sc->start_s + 45 * 60;
		sc->egress = 9e9;
	} else {
		fprintf(stderr, "tracegen: unknown scenario '%s' (bulk, slow, night, many, egress)\n",
			sc->name);
		return -1;
	}
	if (sc->victim >= g->advisors && strcmp(sc->name, "many"))
		sc->victim = 0;
	return 0;
}

/* ---- ground truth ---- */

static json_t *iso(uint64_t s)
{
	char b[48];

	return json_string(format_rfc3339(s * NS, b, sizeof(b)));
}

static json_t *principal(const char *kind, const char *id)
{
	return json_pack("{ss ss}", "kind", kind, "id", id);
}

static json_t *truth_scenario(struct gen *g, struct scenario *sc)
{
	json_t *o = json_pack("{ss si so so}", "name", sc->name, "day", sc->day, "start",
			      iso(sc->start_s), "end", iso(sc->end_s));
	json_t *ps = json_array();

	if (strcmp(sc->name, "egress") == 0) {
		json_array_append_new(ps, principal("user", "jdupont"));
		json_array_append_new(ps, principal("process", "/usr/bin/curl@jdupont"));
		json_array_append_new(ps, principal("peer", "203.0.113.45"));
		json_object_set_new(o, "egress_bytes", json_integer((json_int_t)sc->egress));
		json_object_set_new(o, "expect_alert", json_true());
	} else if (strcmp(sc->name, "many") == 0) {
		for (int i = 0; i < sc->n_victims; i++)
			json_array_append_new(ps, principal("db_user", g->people[sc->victim + i].name));
		json_object_set_new(o, "factor", json_real(4));
		json_object_set_new(o, "expect_alert", json_false());
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

static int write_truth(struct gen *g)
{
	json_t *sc = json_array(), *allow = json_array(), *t;
	int rc;

	for (int i = 0; i < g->n_sc; i++)
		json_array_append_new(sc, truth_scenario(g, &g->sc[i]));
	if (g->services) {
		json_array_append_new(allow, principal("db_user", "backup"));
		json_array_append_new(allow, principal("db_user", "replicator"));
		json_array_append_new(allow, principal("peer", "10.30.0.9"));
		json_array_append_new(allow, principal("peer", "10.30.0.2"));
	}
	t = json_pack("{ss sI si si si si so so so sI}", "generator", "vigie tracegen", "seed",
		      (json_int_t)g->seed, "days", g->days, "advisors", g->advisors, "supervisors",
		      g->supervisors, "tick_s", g->tick, "start", iso(g->start_s), "scenarios", sc,
		      "allow_listed", allow, "samples", (json_int_t)g->samples);
	rc = json_dump_file(t, g->truth, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(t);
	if (rc)
		fprintf(stderr, "tracegen: cannot write '%s'\n", g->truth);
	return rc ? -1 : 0;
}

/* ---- main loop ---- */

static int run(struct gen *g)
{
	uint64_t end = g->start_s + (uint64_t)g->days * DAY_S;

	for (uint64_t day = g->start_s; day < end; day += DAY_S) {
		int wd = weekday(day);
		double activity;

		for (int i = 0; i < g->n_people; i++)
			plan_day(g, &g->people[i], day);
		for (uint64_t ts = day + (uint64_t)g->tick; ts <= day + DAY_S; ts += (uint64_t)g->tick) {
			int min_of_day = (int)((ts - (uint64_t)g->tick - day) / 60);

			activity = wd < 5 && min_of_day >= 8 * 60 && min_of_day < 18 * 60 ? 1 : 0.1;
			if (people_tick(g, ts, min_of_day, wd))
				return -1;
			if (g->services && services_tick(g, ts, min_of_day, activity))
				return -1;
			for (int i = 0; i < g->n_sc; i++)
				if (scenario_tick(g, &g->sc[i], ts, min_of_day, wd))
					return -1;
		}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tracegen -o TRACE [options]\n"
		"  -o, --output FILE     trace to write (.gz: gzip; - : stdout)\n"
		"      --truth FILE      ground truth JSON (default: TRACE.truth.json)\n"
		"      --days N          days to generate (30)\n"
		"      --start DATE      first day, YYYY-MM-DD, UTC (2024-03-04, a Monday)\n"
		"      --seed N          random seed (1)\n"
		"      --advisors N      advisor accounts (2300)\n"
		"      --supervisors N   supervisor accounts (advisors / 50)\n"
		"      --tick S          seconds per sample (60)\n"
		"      --host NAME       host in the header (db-partners-01)\n"
		"      --no-services     no batch, backup or replication accounts\n"
		"      --scenario NAME[:DAY]  mix in an attack (repeatable): bulk, slow,\n"
		"                        night, many, egress; DAY is a 0-based day index\n");
}

static int parse_start(const char *s, uint64_t *out)
{
	char buf[64];
	uint64_t ns;

	snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
	if (parse_rfc3339(buf, &ns))
		return -1;
	*out = ns / NS;
	return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int add_scenario(struct gen *g, const char *arg)
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

static int parse_args(struct gen *g, int argc, char **argv)
{
	enum { O_TRUTH = 256, O_DAYS, O_START, O_SEED, O_ADV, O_SUP, O_TICK, O_HOST, O_NOSVC, O_SC };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "truth", required_argument, NULL, O_TRUTH },
		{ "days", required_argument, NULL, O_DAYS }, { "start", required_argument, NULL, O_START },
		{ "seed", required_argument, NULL, O_SEED }, { "advisors", required_argument, NULL, O_ADV },
		{ "supervisors", required_argument, NULL, O_SUP },
		{ "tick", required_argument, NULL, O_TICK }, { "host", required_argument, NULL, O_HOST },
		{ "no-services", no_argument, NULL, O_NOSVC },
		{ "scenario", required_argument, NULL, O_SC }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': g->out = optarg; break;
		case O_TRUTH: g->truth = optarg; break;
		case O_DAYS: bad |= parse_int(optarg, 1, 3660, &g->days); break;
		case O_START: bad |= parse_start(optarg, &g->start_s); break;
		case O_SEED: g->seed = strtoull(optarg, NULL, 10); break;
		case O_ADV: bad |= parse_int(optarg, 1, 1000000, &g->advisors); break;
		case O_SUP: bad |= parse_int(optarg, 0, 100000, &g->supervisors); break;
		case O_TICK: bad |= parse_int(optarg, 1, 3600, &g->tick); break;
		case O_HOST: g->host = optarg; break;
		case O_NOSVC: g->services = false; break;
		case O_SC: bad |= add_scenario(g, optarg); break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
		if (bad) {
			fprintf(stderr, "tracegen: bad value for --%s: '%s'\n",
				c == 'o' ? "output" : opts[c - O_TRUTH + 1].name, optarg);
			return -1;
		}
	}
	if (!g->out || optind != argc) {
		usage(stderr);
		return -1;
	}
	if (g->tick > 60 && 60 % g->tick && g->tick % 60) {
		fprintf(stderr, "tracegen: --tick must divide or be a multiple of 60\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g = { .days = 30, .advisors = 2300, .supervisors = -1, .tick = 60, .seed = 1,
			 .start_s = 1709510400 /* 2024-03-04 */, .services = true,
			 .host = "db-partners-01" };
	char truth[4096];
	int rc = 1;

	if (parse_args(&g, argc, argv))
		return 2;
	if (g.supervisors < 0)
		g.supervisors = g.advisors / 50;
	if (!g.truth) {
		if (strcmp(g.out, "-") == 0) {
			fprintf(stderr, "tracegen: --truth is needed when writing to stdout\n");
			return 2;
		}
		snprintf(truth, sizeof(truth), "%s.truth.json", g.out);
		g.truth = truth;
	}
	rng_seed(&g.rng, g.seed);
	if (build_population(&g))
		return 1;
	for (int i = 0; i < g.n_sc; i++) {
		if (g.sc[i].day < 0)
			g.sc[i].day = g.days / 3;
		if (g.sc[i].day >= g.days) {
			fprintf(stderr, "tracegen: scenario %s: day %d is past the last day\n",
				g.sc[i].name, g.sc[i].day);
			goto out;
		}
		if (setup_scenario(&g, &g.sc[i]))
			goto out;
	}
	g.w = trace_writer_open(g.out, g.host, g.tick);
	if (!g.w)
		goto out;
	if (run(&g) == 0 && trace_writer_close(g.w) == 0 && write_truth(&g) == 0)
		rc = 0;
	else if (g.w)
		fprintf(stderr, "tracegen: failed\n");
out:
	free(g.people);
	return rc;
}
