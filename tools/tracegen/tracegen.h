/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracegen internals: the generator state shared by its parts.
 *   population.c  PRNG, people (advisors or portal agents), their days
 *   services.c    service accounts of each population, their truth
 *   scenarios.c   attack scenarios and their truth
 *   main.c        options, main loop, ground truth file
 *
 * Determinism: the default population and the scenarios bulk, slow, night,
 * many and egress draw from the main stream (g->rng) exactly as they always
 * did, so their traces stay byte-identical for a seed. Everything added
 * later (the joiner, the scenarios drift, ramp, scp, newrole) draws from
 * streams of its own, so adding it does not change anybody else's trace.
 */
#ifndef VIGIE_TRACEGEN_H
#define VIGIE_TRACEGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "trace/trace.h"

#define NS 1000000000ull
#define DAY_S 86400
#define MAX_SCENARIOS 16
#define WEEKDAYS 0x1f /* Monday to Friday, bit 0 = Monday */

/* ---- PRNG: splitmix64 seeding xoshiro256** (no rand(), same everywhere) ---- */

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_unif(struct rng *r);
double rng_normal(struct rng *r);
double rng_lognormal1(struct rng *r, double sigma); /* lognormal with mean 1 */

/* ---- people ---- */

struct person {
	char name[TRACE_USER_LEN];
	double mean_rows;     /* per working day */
	int start_min, end_min, lunch_min, lunch_len; /* minutes of the day */
	bool saturday;        /* default population: half a day on Saturdays */
	uint8_t workdays;     /* bit wd (0 = Monday) set: scheduled that day */
	int peer;             /* portal server index */
	uint32_t pid;
	int first_day;        /* day index of the first working day (joiner) */
	struct rng *rng;      /* stream of this person's draws */
	/* today */
	bool working;
	double tick_rows;     /* mean rows per active tick */
	double p_active;
	/* realised history: rows on active days, for the scenarios' "normal" */
	double today_rows, hist_rows;
	int hist_days;
};

struct gen;

/* What differs between populations. */
struct population {
	const char *name;
	const char *host;
	const char *db_exe;       /* database server executable (user postgres) */
	uint32_t db_uid;
	double median_rows;       /* per working day, median person */
	double sigma_day;         /* day-to-day variation of a person */
	double sigma_tick;        /* tick-to-tick variation */
	double bytes_per_row, sigma_bytes;
	double actions_per_min;
	double p_day_off;
	bool saturday_half;       /* Saturday work is half a day */
	int n_peers;
	void (*init_person)(struct gen *g, struct person *p, int i, bool supervisor);
	void (*peer_name)(int idx, char *buf, size_t size);
	int (*services_tick)(struct gen *g, uint64_t ts, int min_of_day, int wd);
	void (*services_truth)(struct gen *g, json_t *services, json_t *allow);
	const char *newrole_user, *newrole_peer; /* scenario newrole */
};

extern const struct population pop_default, pop_portal;

/* ---- scenarios ---- */

struct scenario {
	char name[16];
	int day;
	int victim;           /* person index, -1 n/a */
	uint64_t start_s, end_s;
	double rows, bytes, egress;
	double rows_per_day;  /* slow, drift, ramp (today's extra rows) */
	int n_victims;        /* many */
	double normal;        /* drift, ramp: the victim's normal rows per day */
	double factor;        /* drift, ramp (today's factor), many */
	int ramp_step;        /* ramp: weekdays since the start */
	int reach20_day;      /* ramp: first day at 20x or more, -1 past the end */
};

/* ---- generator ---- */

struct gen {
	const char *out, *truth, *host;
	const struct population *pop;
	uint64_t seed;
	int days, advisors, supervisors;
	int tick;
	uint64_t start_s;
	bool services;
	double supervisor_factor;
	int closing_day;          /* day of the month, 0: none */
	double closing_factor;
	int joiner_day;           /* -1: none */
	bool closing_today;
	struct person *people;
	int n_people;             /* advisors, supervisors, then the joiner */
	struct scenario sc[MAX_SCENARIOS];
	int n_sc;
	struct trace_writer *w;
	struct rng rng;           /* main stream */
	struct rng rng_joiner;    /* the joiner's draws */
	struct rng rng_sc;        /* scenarios added after the first five */
	uint64_t samples;
	char **names;             /* hash set of account names (portal) */
	size_t names_cap;
};

/* population.c */
int build_population(struct gen *g);
void free_population(struct gen *g);
int weekday(uint64_t day_start_s); /* 0 = Monday */
bool is_closing_day(const struct gen *g, uint64_t day_s);
void plan_day(struct gen *g, struct person *p, uint64_t day_s, int day_idx);
bool in_hours(const struct gen *g, const struct person *p, int min_of_day, int wd);
bool at_work(const struct gen *g, const struct person *p, int min_of_day, int wd);
int working_minutes(const struct person *p);
int people_tick(struct gen *g, uint64_t ts, int min_of_day, int wd);
void person_peer(const struct gen *g, const struct person *p, char *buf, size_t size);
int earliest_start_min(const struct gen *g);

/* samples */
void pg_sample(const struct gen *g, struct trace_sample *s, uint64_t ts, uint32_t pid,
	       const char *db_user, const char *peer);
int put(struct gen *g, const struct trace_sample *s);
int emit_rows(struct gen *g, struct rng *r, uint64_t ts, uint32_t pid, const char *who,
	      const char *peer, double rows, double bpr);

/* scenarios.c */
int add_scenario(struct gen *g, const char *arg);
int setup_scenario(struct gen *g, struct scenario *sc);
void scenario_day(struct gen *g, struct scenario *sc, uint64_t day_s, int day_idx);
int scenario_tick(struct gen *g, struct scenario *sc, uint64_t ts, int min_of_day, int wd);
json_t *truth_scenario(struct gen *g, struct scenario *sc);

/* main.c (truth helpers) */
json_t *iso(uint64_t s);
json_t *principal(const char *kind, const char *id);
json_t *span(uint64_t start_s, uint64_t end_s);
int parse_int(const char *s, int min, int max, int *out);

#endif
