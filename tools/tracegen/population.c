// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen people: the PRNG, the two populations and a person's day.
 *
 * default: advisors of the partner network (adv0001...) and supervisors
 *   (sup001...), office hours 07:30-09:30 to about 17:00 with a lunch break,
 *   weekdays, through four portal servers 10.20.0.1-4.
 * portal: agents of a partner office reaching the records through a portal
 *   (names such as cap.m.durand, built from syllables), two shifts
 *   (06:00-14:00, 13:00-21:00), some on weekend rotas, fewer but larger
 *   records (about 1.2 KB, median 80 a day, heavier tail), six gateways
 *   172.16.40.11-16, another database server.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tracegen.h"

/* ---- PRNG ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(struct rng *r)
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

double rng_unif(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

double rng_normal(struct rng *r)
{
	double u = rng_unif(r), v = rng_unif(r);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

double rng_lognormal1(struct rng *r, double sigma)
{
	return exp(sigma * rng_normal(r) - sigma * sigma / 2);
}

/* ---- default population: advisors and supervisors ---- */

static void default_person(struct gen *g, struct person *p, int i, bool supervisor)
{
	struct rng *r = p->rng;

	if (supervisor)
		snprintf(p->name, sizeof(p->name), "sup%03d", i);
	else
		snprintf(p->name, sizeof(p->name), "adv%04d", i);
	p->mean_rows = g->pop->median_rows * exp(0.5 * rng_normal(r)) *
		       (supervisor ? g->supervisor_factor : 1);
	p->start_min = 7 * 60 + 30 + (int)(rng_unif(r) * 120);      /* 07:30-09:30 */
	p->end_min = p->start_min + 8 * 60 + (int)(rng_unif(r) * 90);
	p->lunch_min = 11 * 60 + 45 + (int)(rng_unif(r) * 90);
	p->lunch_len = 30 + (int)(rng_unif(r) * 60);
	p->saturday = supervisor && rng_unif(r) < 0.3;
	p->workdays = WEEKDAYS | (p->saturday ? 1 << 5 : 0);
	p->peer = i % 4;
	p->pid = 20000 + (uint32_t)(rng_next(r) % 40000);
}

static void default_peer(int idx, char *buf, size_t size)
{
	snprintf(buf, size, "10.20.0.%d", idx + 1);
}

/* ---- portal population: agents of a partner office ---- */

static const char *const sites[] = { "cap", "lyo", "mrs", "nte", "bdx", "tls", "lil", "rns" };
static const char *const syllables[] = {
	"du", "ran", "mar", "tin", "ber", "nard", "le", "roux", "fa", "bre", "mo", "rel",
	"gi", "rard", "lam", "bert", "ro", "bin", "bou", "chet", "ga", "nier", "mer", "cier",
	"pe", "tit", "fon", "taine", "che", "val", "mas", "son", "ri", "vi", "ere", "co",
	"lin", "gau", "thier", "fau",
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Insert name into the set; false if it was there already. */
static bool name_insert(struct gen *g, char *name)
{
	size_t i = fnv(name) & (g->names_cap - 1);

	for (; g->names[i]; i = (i + 1) & (g->names_cap - 1))
		if (strcmp(g->names[i], name) == 0)
			return false;
	g->names[i] = name;
	return true;
}

static void portal_name(struct gen *g, struct person *p)
{
	struct rng *r = p->rng;
	char surname[32] = "";
	int n = rng_unif(r) < 0.7 ? 2 : 3;
	const char *site = sites[rng_next(r) % N_OF(sites)];
	char initial = (char)('a' + rng_next(r) % 26);

	for (int k = 0; k < n; k++)
		strcat(surname, syllables[rng_next(r) % N_OF(syllables)]);
	snprintf(p->name, sizeof(p->name), "%s.%c.%s", site, initial, surname);
	for (int k = 2; !name_insert(g, p->name); k++)
		snprintf(p->name, sizeof(p->name), "%s.%c.%s%d", site, initial, surname, k);
}

static void portal_person(struct gen *g, struct person *p, int i, bool supervisor)
{
	struct rng *r = p->rng;
	bool morning = rng_unif(r) < 0.55;

	portal_name(g, p);
	p->mean_rows = g->pop->median_rows * exp(0.9 * rng_normal(r)) *
		       (supervisor ? g->supervisor_factor : 1);
	p->start_min = (morning ? 6 * 60 : 13 * 60) - 20 + (int)(rng_unif(r) * 40);
	p->end_min = p->start_min + 8 * 60 - 15 + (int)(rng_unif(r) * 30);
	p->lunch_min = p->start_min + 210 + (int)(rng_unif(r) * 60);
	p->lunch_len = 20 + (int)(rng_unif(r) * 25);
	if (rng_unif(r) < 0.7) {
		p->workdays = WEEKDAYS;
	} else { /* rota: two consecutive days off anywhere in the week */
		int off = (int)(rng_next(r) % 7);

		p->workdays = (uint8_t)(0x7f & ~(1 << off) & ~(1 << ((off + 1) % 7)));
	}
	p->peer = i % 6;
	p->pid = 30000 + (uint32_t)(rng_next(r) % 30000);
}

static void portal_peer(int idx, char *buf, size_t size)
{
	snprintf(buf, size, "172.16.40.%d", idx + 11);
}

/* services.c */
int default_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd);
void default_services_truth(struct gen *g, json_t *services, json_t *allow);
int portal_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd);
void portal_services_truth(struct gen *g, json_t *services, json_t *allow);

const struct population pop_default = {
	.name = "default", .host = "db-partners-01",
	.db_exe = "/usr/lib/postgresql/16/bin/postgres", .db_uid = 105,
	.median_rows = 300.0, .sigma_day = 0.3, .sigma_tick = 0.6,
	.bytes_per_row = 700.0, .sigma_bytes = 0.15,
	.actions_per_min = 1.0 / 3, .p_day_off = 0.05, .saturday_half = true, .n_peers = 4,
	.init_person = default_person, .peer_name = default_peer,
	.services_tick = default_services_tick, .services_truth = default_services_truth,
	.newrole_user = "dwh_extract", .newrole_peer = "10.40.2.15",
};

const struct population pop_portal = {
	.name = "portal", .host = "db-portal-01",
	.db_exe = "/usr/lib/postgresql/15/bin/postgres", .db_uid = 108,
	.median_rows = 70.0, .sigma_day = 0.4, .sigma_tick = 0.8,
	.bytes_per_row = 1200.0, .sigma_bytes = 0.25,
	.actions_per_min = 1.0 / 20, .p_day_off = 0.04, .saturday_half = false, .n_peers = 6,
	.init_person = portal_person, .peer_name = portal_peer,
	.services_tick = portal_services_tick, .services_truth = portal_services_truth,
	.newrole_user = "audit_ro", .newrole_peer = "172.16.60.23",
};

/* ---- building ---- */

int build_population(struct gen *g)
{
	int joiner = g->joiner_day >= 0;

	g->n_people = g->advisors + g->supervisors + joiner;
	g->people = calloc((size_t)g->n_people + 1, sizeof(*g->people));
	for (g->names_cap = 16; g->names_cap < 2 * ((size_t)g->n_people + 1); g->names_cap *= 2)
		;
	g->names = calloc(g->names_cap, sizeof(*g->names));
	if (!g->people || !g->names)
		return -1;
	for (int i = 0; i < g->n_people; i++)
		g->people[i].rng = &g->rng;
	for (int i = 0; i < g->advisors; i++)
		g->pop->init_person(g, &g->people[i], i + 1, false);
	for (int i = 0; i < g->supervisors; i++)
		g->pop->init_person(g, &g->people[g->advisors + i], i + 1, true);
	if (joiner) { /* a typical advisor or agent, working weekdays from joiner_day */
		struct person *p = &g->people[g->n_people - 1];

		p->rng = &g->rng_joiner;
		g->pop->init_person(g, p, g->advisors + 1, false);
		p->mean_rows = g->pop->median_rows * exp(0.15 * rng_normal(p->rng));
		p->workdays = WEEKDAYS;
		p->saturday = false;
		p->first_day = g->joiner_day;
	}
	return 0;
}

void free_population(struct gen *g)
{
	free(g->people);
	free(g->names);
}

/* ---- a person's day ---- */

int weekday(uint64_t day_start_s) /* 0 = Monday */
{
	return (int)((day_start_s / DAY_S + 3) % 7);
}

/* The closing day of a month: closing_day, or the month's last day if it is
 * shorter, moved back to the Friday before when it falls on a weekend. */
bool is_closing_day(const struct gen *g, uint64_t day_s)
{
	time_t t = (time_t)day_s;
	struct tm tm, last;
	int mday, wd;
	time_t first_next;

	gmtime_r(&t, &tm);
	{
		struct tm n = { .tm_year = tm.tm_year, .tm_mon = tm.tm_mon + 1, .tm_mday = 1 };

		first_next = timegm(&n);
	}
	first_next -= DAY_S;
	gmtime_r(&first_next, &last);
	mday = g->closing_day < last.tm_mday ? g->closing_day : last.tm_mday;
	{
		struct tm c = { .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = mday };
		uint64_t cs = (uint64_t)timegm(&c);

		wd = weekday(cs);
		if (wd >= 5)
			cs -= (uint64_t)(wd - 4) * DAY_S;
		return cs == day_s;
	}
}

int working_minutes(const struct person *p)
{
	return p->end_min - p->start_min - p->lunch_len;
}

void plan_day(struct gen *g, struct person *p, uint64_t day_s, int day_idx)
{
	int wd = weekday(day_s);
	double minutes, ticks, rate_per_min = g->pop->actions_per_min;

	if (p->today_rows > 0) { /* yesterday, into the realised history */
		p->hist_rows += p->today_rows;
		p->hist_days++;
		p->today_rows = 0;
	}
	p->working = day_idx >= p->first_day && ((p->workdays >> wd) & 1) &&
		     rng_unif(p->rng) >= g->pop->p_day_off;
	if (!p->working)
		return;
	minutes = working_minutes(p);
	if (wd == 5 && g->pop->saturday_half)
		minutes /= 2;
	p->p_active = 1 - exp(-rate_per_min * g->tick / 60.0);
	ticks = minutes * 60.0 / g->tick * p->p_active;
	p->tick_rows = p->mean_rows * rng_lognormal1(p->rng, g->pop->sigma_day) /
		       (ticks > 1 ? ticks : 1);
	if (g->closing_today)
		p->tick_rows *= g->closing_factor;
	p->pid = 20000 + (uint32_t)(rng_next(p->rng) % 40000); /* new backend each day */
}

/* Within the person's hours (whether or not they work today). */
bool in_hours(const struct gen *g, const struct person *p, int min_of_day, int wd)
{
	int end = wd == 5 && g->pop->saturday_half ?
			  p->start_min + (p->end_min - p->start_min) / 2 : p->end_min;

	if (min_of_day < p->start_min || min_of_day >= end)
		return false;
	return !(min_of_day >= p->lunch_min && min_of_day < p->lunch_min + p->lunch_len);
}

bool at_work(const struct gen *g, const struct person *p, int min_of_day, int wd)
{
	return p->working && in_hours(g, p, min_of_day, wd);
}

void person_peer(const struct gen *g, const struct person *p, char *buf, size_t size)
{
	g->pop->peer_name(p->peer, buf, size);
}

int earliest_start_min(const struct gen *g)
{
	int m = 24 * 60;

	for (int i = 0; i < g->n_people; i++)
		if (g->people[i].start_min < m)
			m = g->people[i].start_min;
	return m;
}

/* ---- samples ---- */

void pg_sample(const struct gen *g, struct trace_sample *s, uint64_t ts, uint32_t pid,
	       const char *db_user, const char *peer)
{
	trace_sample_init(s);
	s->ts_ns = ts * NS;
	s->pid = pid;
	s->uid = g->pop->db_uid;
	snprintf(s->user, sizeof(s->user), "postgres");
	snprintf(s->comm, sizeof(s->comm), "postgres");
	snprintf(s->exe, sizeof(s->exe), "%s", g->pop->db_exe);
	if (db_user)
		snprintf(s->db_user, sizeof(s->db_user), "%s", db_user);
	if (peer)
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
}

int put(struct gen *g, const struct trace_sample *s)
{
	g->samples++;
	return trace_writer_write(g->w, s);
}

int emit_rows(struct gen *g, struct rng *r, uint64_t ts, uint32_t pid, const char *who,
	      const char *peer, double rows, double bpr)
{
	struct trace_sample s;

	if (rows < 1)
		return 0;
	pg_sample(g, &s, ts, pid, who, peer);
	s.db_rows = (uint64_t)rows;
	s.db_bytes = (uint64_t)(rows * bpr * rng_lognormal1(r, g->pop->sigma_bytes)) + 200;
	s.ops = 1 + (uint64_t)(rows / 40);
	return put(g, &s);
}

int people_tick(struct gen *g, uint64_t ts, int min_of_day, int wd)
{
	char peer[32];

	for (int i = 0; i < g->n_people; i++) {
		struct person *p = &g->people[i];
		double rows;

		if (!at_work(g, p, min_of_day, wd) || rng_unif(p->rng) >= p->p_active)
			continue;
		rows = ceil(p->tick_rows * rng_lognormal1(p->rng, g->pop->sigma_tick));
		person_peer(g, p, peer, sizeof(peer));
		if (emit_rows(g, p->rng, ts, p->pid, p->name, peer, rows, g->pop->bytes_per_row))
			return -1;
		p->today_rows += rows;
	}
	return 0;
}
