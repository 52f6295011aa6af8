// SPDX-License-Identifier: GPL-2.0
/*
 * score: scores vigie alerts against the ground truth of tools/tracegen.
 *
 *   score [--json] [--no-allow-list] --truth TRACE.truth.json ALERTS.ndjson
 *
 * For each scenario: the latency of the first alert (event.action
 * "exfiltration-volume") naming one of the scenario's principals, in
 * seconds from the scenario's start, or "missed". Every other alert is put
 * in one bucket, first match wins:
 *   allow-listed   a principal of the truth's allow_listed (unless
 *                  --no-allow-list: alerts of a replay with the built-in
 *                  defaults, which allow-list nobody);
 *   first night    a service account's principal (truth "services") within
 *                  its first night: a service seen for the first time, not a
 *                  false alert about people;
 *   aggregates     a principal carrying everybody's traffic (truth
 *                  "aggregates": the database server, the portal servers)
 *                  while a scenario runs (start to end + 1 h);
 *   false          anything else, counted by principal kind and by role
 *                  (person, service, server, other; this includes
 *                  alerts on a scenario's principal before its start or
 *                  more than a day after its end, and on the principals of
 *                  a scenario that expects no alert).
 * Exit 0, or 2 when an input cannot be read (or is not what it should be).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "base/event.h"

#define NS 1000000000ull
#define TOP 10

struct alert {
	uint64_t ts;
	const char *kind, *id, *episode, *reference, *metric, *window;
	json_t *obj;
};

/* Alerts on one principal in one bucket. */
struct tally {
	const char *kind, *id, *label, *role;
	int alerts, episodes;
	uint64_t first;
	json_t *episode_ids; /* set */
};

struct bucket {
	const char *name;
	struct tally *t;
	int n, cap, alerts;
};

static uint64_t ts_of(json_t *o, const char *key)
{
	uint64_t ns = 0;
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || parse_rfc3339(s, &ns))
		return 0;
	return ns / NS;
}

static const char *fmt_ts(uint64_t s, char *b, size_t n)
{
	return format_rfc3339(s * NS, b, n);
}

static bool same(json_t *p, const struct alert *a)
{
	const char *k = json_string_value(json_object_get(p, "kind"));
	const char *id = json_string_value(json_object_get(p, "id"));

	return k && id && strcmp(k, a->kind) == 0 && strcmp(id, a->id) == 0;
}

static bool in_list(json_t *list, const struct alert *a)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
		if (same(p, a))
			return true;
	return false;
}

static struct tally *tally(struct bucket *b, const struct alert *a, const char *label)
{
	struct tally *t = NULL;

	b->alerts++;
	for (int i = 0; i < b->n; i++)
		if (strcmp(b->t[i].kind, a->kind) == 0 && strcmp(b->t[i].id, a->id) == 0)
			t = &b->t[i];
	if (!t) {
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 16;
			b->t = realloc(b->t, (size_t)b->cap * sizeof(*b->t));
			if (!b->t) {
				perror("score");
				exit(2);
			}
		}
		t = &b->t[b->n++];
		*t = (struct tally){ .kind = a->kind, .id = a->id, .label = label, .first = a->ts,
				     .episode_ids = json_object() };
	}
	t->alerts++;
	if (a->episode && !json_object_get(t->episode_ids, a->episode)) {
		json_object_set_new(t->episode_ids, a->episode, json_true());
		t->episodes++;
	}
	return t;
}

static int episodes(const struct bucket *b)
{
	int n = 0;

	for (int i = 0; i < b->n; i++)
		n += b->t[i].episodes;
	return n;
}

static int cmp_tally(const void *x, const void *y)
{
	const struct tally *a = x, *b = y;

	if (a->alerts != b->alerts)
		return b->alerts - a->alerts;
	return a->first < b->first ? -1 : a->first > b->first;
}

static int load_alerts(const char *path, struct alert **out, int *n, int *bad)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int acap = 0;

	if (!f) {
		fprintf(stderr, "score: cannot read alerts '%s': %m\n", path);
		return -1;
	}
	*n = *bad = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *o, *p;
		struct alert a;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		o = json_loads(line, 0, NULL);
		if (!o) {
			if (++*bad <= 3)
				fprintf(stderr, "score: %s:%zu: not JSON, skipped\n", path, lineno);
			continue;
		}
		if (strcmp(json_string_value(json_object_get(json_object_get(o, "event"), "action")) ?: "",
			   "exfiltration-volume")) {
			json_decref(o);
			continue;
		}
		p = json_object_get(json_object_get(o, "vigie"), "principal");
		a = (struct alert){
			.ts = ts_of(o, "@timestamp"), .obj = o,
			.kind = json_string_value(json_object_get(p, "kind")),
			.id = json_string_value(json_object_get(p, "id")),
			.episode = json_string_value(json_object_get(
				json_object_get(json_object_get(o, "vigie"), "episode"), "id")),
			.reference = json_string_value(json_object_get(json_object_get(o, "vigie"), "reference")),
			.metric = json_string_value(json_object_get(json_object_get(o, "vigie"), "metric")),
			.window = json_string_value(json_object_get(json_object_get(o, "vigie"), "window")),
		};
		if (!a.ts || !a.kind || !a.id) {
			if (++*bad <= 3)
				fprintf(stderr, "score: %s:%zu: alert without @timestamp or principal, skipped\n",
					path, lineno);
			json_decref(o);
			continue;
		}
		if (*n == acap) {
			acap = acap ? 2 * acap : 256;
			*out = realloc(*out, (size_t)acap * sizeof(**out));
			if (!*out) {
				perror("score");
				exit(2);
			}
		}
		(*out)[(*n)++] = a;
	}
	if (ferror(f)) {
		fprintf(stderr, "score: error reading '%s'\n", path);
		return -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

/* ---- per scenario ---- */

struct result {
	json_t *sc;
	uint64_t start, end, reach20;
	bool expect;
	const struct alert *first;
	int alerts;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: score [--json] [--no-allow-list] --truth TRUTH.json ALERTS.ndjson\n"
		   "  scores the alerts of vigie replay (\"-\": stdin) against the ground truth\n"
		   "  of tools/tracegen: first-alert latency per scenario, false alerts by\n"
		   "  principal kind and role. --no-allow-list: the replay allow-listed nobody\n"
		   "  (built-in defaults), so the truth's allow-list excuses no alert.\n"
		   "  Exit 0, 2 if an input cannot be read.\n");
}

/* Who a false alert is about: a person (a database account or a Linux
 * user that is no service's), a service account, a server (the truth's
 * aggregates: the database server, portal servers) or another principal
 * (a process or a peer of people). */
static const char *role_of(json_t *svcs, json_t *aggs, const struct alert *a)
{
	json_t *svc;
	size_t i;

	json_array_foreach(svcs, i, svc)
		if (in_list(json_object_get(svc, "principals"), a))
			return "service";
	if (in_list(aggs, a))
		return "server";
	return strcmp(a->kind, "db_user") == 0 || strcmp(a->kind, "user") == 0 ? "person" : "other";
}

static json_t *bucket_json(struct bucket *b)
{
	json_t *ps = json_array(), *kinds = json_object(), *roles = json_object();
	char tb[48];

	for (int i = 0; i < b->n; i++) {
		struct tally *t = &b->t[i];
		json_t *o = json_pack("{ss ss si si ss}", "kind", t->kind, "id", t->id, "alerts",
				      t->alerts, "episodes", t->episodes, "first",
				      fmt_ts(t->first, tb, sizeof(tb)));
		json_int_t k = json_integer_value(json_object_get(kinds, t->kind));

		if (t->label)
			json_object_set_new(o, "service", json_string(t->label));
		if (t->role) {
			json_int_t r = json_integer_value(json_object_get(roles, t->role));

			json_object_set_new(o, "role", json_string(t->role));
			json_object_set_new(roles, t->role, json_integer(r + t->alerts));
		}
		json_array_append_new(ps, o);
		json_object_set_new(kinds, t->kind, json_integer(k + t->alerts));
	}
	return json_pack("{si si so so so}", "alerts", b->alerts, "episodes", episodes(b), "by_kind",
			 kinds, "by_role", roles, "principals", ps);
}

static void bucket_text(struct bucket *b, const char *title)
{
	char tb[48];

	printf("%s: %d alert%s, %d episode%s", title, b->alerts, b->alerts == 1 ? "" : "s",
	       episodes(b), episodes(b) == 1 ? "" : "s");
	if (b->n) {
		const char *kinds[] = { "user", "db_user", "process", "peer" };
		const char *sep = " (";

		for (size_t k = 0; k < 4; k++) {
			int c = 0;

			for (int i = 0; i < b->n; i++)
				if (strcmp(b->t[i].kind, kinds[k]) == 0)
					c += b->t[i].alerts;
			if (c) {
				printf("%s%s %d", sep, kinds[k], c);
				sep = ", ";
			}
		}
		printf(")");
	}
	printf("\n");
	for (int i = 0; i < b->n && i < TOP; i++)
		printf("  %s %s%s%s%s: %d alert%s, %d episode%s, first %s\n", b->t[i].kind, b->t[i].id,
		       b->t[i].label ? " (" : "", b->t[i].label ?: "", b->t[i].label ? ")" : "",
		       b->t[i].alerts, b->t[i].alerts == 1 ? "" : "s", b->t[i].episodes,
		       b->t[i].episodes == 1 ? "" : "s", fmt_ts(b->t[i].first, tb, sizeof(tb)));
	if (b->n > TOP)
		printf("  ... %d more principals\n", b->n - TOP);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "truth", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ "no-allow-list", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *truth_path = NULL;
	bool as_json = false, no_allow = false;
	json_t *truth, *scs, *allow, *svcs, *aggs, *sc;
	json_error_t err;
	struct alert *al = NULL;
	struct result *res;
	struct bucket b_false = { .name = "false" }, b_allow = { .name = "allow" },
		      b_night = { .name = "night" }, b_agg = { .name = "aggregates" };
	int n = 0, bad = 0, c, nsc, before = 0;
	size_t i;
	char tb[48], tb2[48];

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': truth_path = optarg; break;
		case 'j': as_json = true; break;
		case 'n': no_allow = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!truth_path || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	truth = json_load_file(truth_path, 0, &err);
	if (!truth) {
		fprintf(stderr, "score: cannot read truth '%s': %s\n", truth_path, err.text);
		return 2;
	}
	scs = json_object_get(truth, "scenarios");
	if (!json_is_array(scs) || !json_string_value(json_object_get(truth, "generator"))) {
		fprintf(stderr, "score: '%s' is not a tracegen ground truth (no \"scenarios\")\n",
			truth_path);
		return 2;
	}
	allow = no_allow ? NULL : json_object_get(truth, "allow_listed");
	svcs = json_object_get(truth, "services");
	aggs = json_object_get(truth, "aggregates");
	if (load_alerts(argv[optind], &al, &n, &bad))
		return 2;

	nsc = (int)json_array_size(scs);
	res = calloc((size_t)nsc + 1, sizeof(*res));
	if (!res)
		return 2;
	json_array_foreach(scs, i, sc) {
		res[i] = (struct result){ .sc = sc, .start = ts_of(sc, "start"), .end = ts_of(sc, "end"),
					  .reach20 = ts_of(sc, "reaches_20x"),
					  .expect = json_is_true(json_object_get(sc, "expect_alert")) };
	}

	for (int k = 0; k < n; k++) {
		struct alert *a = &al[k];
		bool matched = false, scenario_principal = false;
		json_t *svc;

		if (in_list(allow, a)) {
			tally(&b_allow, a, NULL);
			continue;
		}
		json_array_foreach(svcs, i, svc) {
			json_t *night = json_object_get(svc, "first_night");

			if (in_list(json_object_get(svc, "principals"), a) &&
			    a->ts >= ts_of(night, "start") && a->ts <= ts_of(night, "end")) {
				tally(&b_night, a, json_string_value(json_object_get(svc, "name")));
				matched = true;
				break;
			}
		}
		if (matched)
			continue;
		for (int s = 0; s < nsc; s++) {
			struct result *r = &res[s];

			if (!in_list(json_object_get(r->sc, "principals"), a))
				continue;
			scenario_principal = true;
			if (!r->expect)
				r->alerts++; /* counted as false below */
			if (!r->expect || a->ts < r->start || a->ts > r->end + 86400)
				continue;
			r->alerts++;
			if (!r->first)
				r->first = a;
			matched = true;
		}
		if (matched)
			continue;
		for (int s = 0; s < nsc && !matched; s++)
			if (res[s].expect && in_list(aggs, a) && a->ts >= res[s].start &&
			    a->ts <= res[s].end + 3600) {
				tally(&b_agg, a, NULL);
				matched = true;
			}
		if (matched)
			continue;
		tally(&b_false, a, NULL)->role = role_of(svcs, aggs, a);
		before += scenario_principal;
	}
	qsort(b_false.t, (size_t)b_false.n, sizeof(*b_false.t), cmp_tally);
	qsort(b_night.t, (size_t)b_night.n, sizeof(*b_night.t), cmp_tally);
	qsort(b_agg.t, (size_t)b_agg.n, sizeof(*b_agg.t), cmp_tally);
	qsort(b_allow.t, (size_t)b_allow.n, sizeof(*b_allow.t), cmp_tally);

	if (as_json) {
		json_t *out = json_object(), *arr = json_array();

		for (int s = 0; s < nsc; s++) {
			struct result *r = &res[s];
			json_t *o = json_pack("{sO sO sb}", "name", json_object_get(r->sc, "name"), "start",
					      json_object_get(r->sc, "start"), "expect_alert", r->expect);

			json_object_set_new(o, "alerts", json_integer(r->alerts));
			if (r->first) {
				json_object_set_new(o, "first_alert", json_string(fmt_ts(r->first->ts, tb,
											 sizeof(tb))));
				json_object_set_new(o, "latency_s",
						    json_integer((json_int_t)(r->first->ts - r->start)));
				json_object_set_new(o, "principal", json_pack("{ss ss}", "kind",
									      r->first->kind, "id",
									      r->first->id));
				json_object_set_new(o, "reference", json_string(r->first->reference));
				json_object_set_new(o, "metric", json_string(r->first->metric));
				json_object_set_new(o, "window", json_string(r->first->window));
			} else {
				json_object_set_new(o, "first_alert", json_null());
				json_object_set_new(o, "latency_s", json_null());
			}
			if (r->reach20)
				json_object_set_new(o, "before_20x",
						    json_boolean(r->first && r->first->ts < r->reach20));
			json_array_append_new(arr, o);
		}
		json_object_set_new(out, "alerts", json_integer(n));
		json_object_set_new(out, "scenarios", arr);
		json_object_set_new(out, "false_alerts", bucket_json(&b_false));
		json_object_set_new(json_object_get(out, "false_alerts"), "on_scenario_principals",
				    json_integer(before));
		json_object_set_new(out, "service_first_night", bucket_json(&b_night));
		json_object_set_new(out, "allow_listed", bucket_json(&b_allow));
		json_object_set_new(out, "aggregates_during_scenarios", bucket_json(&b_agg));
		json_object_set_new(out, "skipped_lines", json_integer(bad));
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(out);
	} else {
		printf("score: %s: %d alerts (%s population, %" JSON_INTEGER_FORMAT " days)\n",
		       argv[optind], n, json_string_value(json_object_get(truth, "population")) ?: "default",
		       json_integer_value(json_object_get(truth, "days")));
		for (int s = 0; s < nsc; s++) {
			struct result *r = &res[s];
			const char *name = json_string_value(json_object_get(r->sc, "name"));

			printf("scenario %-8s from %s: ", name ?: "?", fmt_ts(r->start, tb, sizeof(tb)));
			if (!r->expect)
				printf("no alert expected, %d on its principals (false alerts)\n",
				       r->alerts);
			else if (!r->first)
				printf("missed\n");
			else {
				printf("first alert %s, latency %" PRIu64 " s, %s %s (%s %s, %s)",
				       fmt_ts(r->first->ts, tb2, sizeof(tb2)), r->first->ts - r->start,
				       r->first->kind, r->first->id, r->first->metric ?: "?",
				       r->first->window ?: "?", r->first->reference ?: "?");
				if (r->reach20)
					printf(", %s the day it reaches 20x", r->first->ts < r->reach20 ?
					       "before" : "NOT before");
				printf("\n");
			}
		}
		bucket_text(&b_false, "false alerts");
		if (before)
			printf("  (%d of them on a scenario's principals outside the scenario)\n", before);
		bucket_text(&b_night, "first night of a service account (not false alerts about people)");
		bucket_text(&b_allow, "allow-listed principals (not false alerts)");
		bucket_text(&b_agg, "database or portal servers while a scenario ran (not false alerts)");
		if (bad)
			printf("skipped lines: %d\n", bad);
	}
	for (int k = 0; k < n; k++)
		json_decref(al[k].obj);
	free(al);
	free(res);
	json_decref(truth);
	return 0;
}
