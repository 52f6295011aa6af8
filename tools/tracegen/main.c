// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen: realistic vigie traces for tests and demos, seen from a
 * PostgreSQL server: people working their hours through portal application
 * servers, a few heavier supervisors, nightly service accounts; plus attack
 * scenarios mixed in. Writes the ground truth (who, what, when) beside the
 * trace. Deterministic for a seed.
 *
 *   tracegen -o trace.jsonl.gz --days 30 --advisors 2300 --scenario bulk:9
 *   tracegen -o portal.jsonl.gz --population portal --closing-day 28 --joiner 15
 *
 * Times are UTC; office hours and shifts are modelled in UTC too.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "tracegen.h"

/* ---- ground truth ---- */

json_t *iso(uint64_t s)
{
	char b[48];

	return json_string(format_rfc3339(s * NS, b, sizeof(b)));
}

json_t *principal(const char *kind, const char *id)
{
	return json_pack("{ss ss}", "kind", kind, "id", id);
}

json_t *span(uint64_t start_s, uint64_t end_s)
{
	return json_pack("{so so}", "start", iso(start_s), "end", iso(end_s));
}

/* Principals that carry everybody's database traffic: the database server
 * and the portal servers. */
static json_t *aggregates(struct gen *g)
{
	json_t *a = json_array();
	char buf[TRACE_EXE_LEN + 16];

	json_array_append_new(a, principal("user", "postgres"));
	snprintf(buf, sizeof(buf), "%s@postgres", g->pop->db_exe);
	json_array_append_new(a, principal("process", buf));
	for (int i = 0; i < g->pop->n_peers; i++) {
		g->pop->peer_name(i, buf, sizeof(buf));
		json_array_append_new(a, principal("peer", buf));
	}
	return a;
}

static int write_truth(struct gen *g)
{
	json_t *sc = json_array(), *allow = json_array(), *svc = json_array(), *t;
	int rc;

	for (int i = 0; i < g->n_sc; i++)
		json_array_append_new(sc, truth_scenario(g, &g->sc[i]));
	if (g->services)
		g->pop->services_truth(g, svc, allow);
	t = json_pack("{ss sI si si si si so so so sI}", "generator", "vigie tracegen", "seed",
		      (json_int_t)g->seed, "days", g->days, "advisors", g->advisors, "supervisors",
		      g->supervisors, "tick_s", g->tick, "start", iso(g->start_s), "scenarios", sc,
		      "allow_listed", allow, "samples", (json_int_t)g->samples);
	/* added after the original fields, which keep their order */
	json_object_set_new(t, "population", json_string(g->pop->name));
	json_object_set_new(t, "services", svc);
	json_object_set_new(t, "aggregates", aggregates(g));
	json_object_set_new(t, "supervisor_factor", json_real(g->supervisor_factor));
	if (g->closing_day) {
		json_t *days = json_array();

		for (int d = 0; d < g->days; d++) {
			uint64_t day = g->start_s + (uint64_t)d * DAY_S;

			if (is_closing_day(g, day))
				json_array_append_new(days, iso(day));
		}
		json_object_set_new(t, "closing_days", days);
		json_object_set_new(t, "closing_factor", json_real(g->closing_factor));
	}
	if (g->joiner_day >= 0)
		json_object_set_new(t, "joiner", json_pack("{ss si so}", "id",
							  g->people[g->n_people - 1].name, "day",
							  g->joiner_day, "start",
							  iso(g->start_s + (uint64_t)g->joiner_day * DAY_S)));
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
		int wd = weekday(day), day_idx = (int)((day - g->start_s) / DAY_S);

		g->closing_today = g->closing_day && is_closing_day(g, day);
		for (int i = 0; i < g->n_people; i++)
			plan_day(g, &g->people[i], day, day_idx);
		for (int i = 0; i < g->n_sc; i++)
			scenario_day(g, &g->sc[i], day, day_idx);
		for (uint64_t ts = day + (uint64_t)g->tick; ts <= day + DAY_S; ts += (uint64_t)g->tick) {
			int min_of_day = (int)((ts - (uint64_t)g->tick - day) / 60);

			if (people_tick(g, ts, min_of_day, wd))
				return -1;
			if (g->services && g->pop->services_tick(g, ts, min_of_day, wd))
				return -1;
			for (int i = 0; i < g->n_sc; i++)
				if (scenario_tick(g, &g->sc[i], ts, min_of_day, wd))
					return -1;
		}
	}
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tracegen -o TRACE [options]\n"
		"  -o, --output FILE     trace to write (.gz: gzip; - : stdout)\n"
		"      --truth FILE      ground truth JSON (default: TRACE.truth.json)\n"
		"      --days N          days to generate (30)\n"
		"      --start DATE      first day, YYYY-MM-DD, UTC (2024-03-04, a Monday)\n"
		"      --seed N          random seed (1)\n"
		"      --population NAME default (advisors adv0001..., office hours) or portal\n"
		"                        (agents of a partner office, e.g. cap.m.durand, shifts)\n"
		"      --advisors N      advisor (or agent) accounts (2300)\n"
		"      --supervisors N   supervisor accounts (advisors / 50)\n"
		"      --supervisor-factor F  supervisors' volume, x a typical person's (3)\n"
		"      --closing-day N   monthly closing on day N of the month (the Friday\n"
		"                        before if a weekend): everyone reads --closing-factor\n"
		"                        times (3) their usual volume\n"
		"      --joiner DAY      a new account joining on day DAY (0-based), working\n"
		"                        normally from then on\n"
		"      --tick S          seconds per sample (60)\n"
		"      --host NAME       host in the header (db-partners-01; portal: db-portal-01)\n"
		"      --no-services     no service accounts (batch, backup, replication)\n"
		"      --scenario NAME[:DAY]  mix in an attack (repeatable): bulk, slow,\n"
		"                        night, many, egress, drift, ramp, scp, newrole;\n"
		"                        DAY is a 0-based day index (default days / 3)\n");
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

int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_factor(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end || !(v > 0 && v <= 1000))
		return -1;
	*out = v;
	return 0;
}

static int parse_population(const char *s, const struct population **out)
{
	if (strcmp(s, "default") == 0)
		*out = &pop_default;
	else if (strcmp(s, "portal") == 0)
		*out = &pop_portal;
	else
		return -1;
	return 0;
}

enum { O_TRUTH = 256, O_DAYS, O_START, O_SEED, O_ADV, O_SUP, O_TICK, O_HOST, O_NOSVC, O_SC,
       O_POP, O_SUPF, O_CLOSE, O_CLOSEF, O_JOIN };
static const struct option opts[] = {
	{ "output", required_argument, NULL, 'o' }, { "truth", required_argument, NULL, O_TRUTH },
	{ "days", required_argument, NULL, O_DAYS }, { "start", required_argument, NULL, O_START },
	{ "seed", required_argument, NULL, O_SEED }, { "advisors", required_argument, NULL, O_ADV },
	{ "supervisors", required_argument, NULL, O_SUP },
	{ "tick", required_argument, NULL, O_TICK }, { "host", required_argument, NULL, O_HOST },
	{ "no-services", no_argument, NULL, O_NOSVC },
	{ "scenario", required_argument, NULL, O_SC },
	{ "population", required_argument, NULL, O_POP },
	{ "supervisor-factor", required_argument, NULL, O_SUPF },
	{ "closing-day", required_argument, NULL, O_CLOSE },
	{ "closing-factor", required_argument, NULL, O_CLOSEF },
	{ "joiner", required_argument, NULL, O_JOIN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static int parse_args(struct gen *g, int argc, char **argv)
{
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
		case O_POP: bad |= parse_population(optarg, &g->pop); break;
		case O_SUPF: bad |= parse_factor(optarg, &g->supervisor_factor); break;
		case O_CLOSE: bad |= parse_int(optarg, 1, 31, &g->closing_day); break;
		case O_CLOSEF: bad |= parse_factor(optarg, &g->closing_factor); break;
		case O_JOIN: bad |= parse_int(optarg, 0, 100000, &g->joiner_day); break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
		if (bad) {
			fprintf(stderr, "tracegen: bad value for --%s: '%s'\n", opt_name(c), optarg);
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
	if (g->joiner_day >= g->days) {
		fprintf(stderr, "tracegen: --joiner %d is past the last day\n", g->joiner_day);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g = { .days = 30, .advisors = 2300, .supervisors = -1, .tick = 60, .seed = 1,
			 .start_s = 1709510400 /* 2024-03-04 */, .services = true,
			 .pop = &pop_default, .supervisor_factor = 3, .closing_factor = 3,
			 .joiner_day = -1 };
	char truth[4096];
	int rc = 1;

	if (parse_args(&g, argc, argv))
		return 2;
	if (g.supervisors < 0)
		g.supervisors = g.advisors / 50;
	if (!g.host)
		g.host = g.pop->host;
	if (!g.truth) {
		if (strcmp(g.out, "-") == 0) {
			fprintf(stderr, "tracegen: --truth is needed when writing to stdout\n");
			return 2;
		}
		snprintf(truth, sizeof(truth), "%s.truth.json", g.out);
		g.truth = truth;
	}
	rng_seed(&g.rng, g.seed);
	rng_seed(&g.rng_joiner, g.seed ^ 0x6a6f696e65720000ull);   /* "joiner" */
	rng_seed(&g.rng_sc, g.seed ^ 0x7363656e6172696full);       /* "scenario" */
	if (build_population(&g))
		goto out;
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
	free_population(&g);
	return rc;
}
