// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report: alerts and episodes, read back from the events detection
 * wrote (docs/detection.md, Events), as a SIEM would read them.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "view/report_data.h"

#define RPT_EP_HASH 4096

static json_t *get(json_t *ev, const char *path)
{
	char key[64];
	const char *dot;

	while (ev && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		ev = json_object_get(ev, key);
		path = dot + 1;
	}
	return ev ? json_object_get(ev, path) : NULL;
}

static const char *str(json_t *ev, const char *path)
{
	const char *s = json_string_value(get(ev, path));

	return s ? s : "";
}

static uint64_t time_of(json_t *ev, const char *path)
{
	uint64_t t = 0;

	return parse_rfc3339(str(ev, path), &t) ? 0 : t;
}

static uint64_t count_of(json_t *ev, const char *path)
{
	json_int_t v = json_integer_value(get(ev, path));

	return v > 0 ? (uint64_t)v : 0;
}

static int level_of(const char *s)
{
	return !strcmp(s, "critical") ? 3 : !strcmp(s, "high") ? 2 : !strcmp(s, "medium") ? 1 : 0;
}

static int index_of(const char *s, const char *(*name)(int), int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, name(i)))
			return i;
	return -1;
}

static const char *kind_name(int i) { return principal_kind_name((enum principal_kind)i); }
static const char *metric_str(int i) { return metric_name((enum metric)i); }
static const char *window_str(int i) { return window_name((enum window)i); }

static struct rpt_principal *principal_of(struct rpt_data *r, json_t *ev)
{
	int kind = index_of(str(ev, "vigie.principal.kind"), kind_name, PK_MAX);
	const char *id = str(ev, "vigie.principal.id");

	if (kind < 0 || !id[0])
		return NULL;
	return rpt_principal_get(r, (enum principal_kind)kind, id, true);
}

static uint32_t ep_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % RPT_EP_HASH;
}

/* The episode of that id, created when new (RPT_NONE: none, or too many). */
static uint32_t episode_of(struct rpt_data *r, const char *id, struct rpt_principal *p,
			   int metric)
{
	struct rpt_episode *e;
	uint32_t h;

	if (!id[0] || !p || metric < 0)
		return RPT_NONE;
	if (!r->ep_hash) {
		if (!(r->ep_hash = malloc(RPT_EP_HASH * sizeof(*r->ep_hash)))) {
			r->oom = true;
			return RPT_NONE;
		}
		memset(r->ep_hash, 0xff, RPT_EP_HASH * sizeof(*r->ep_hash));
	}
	h = ep_hash(id);
	for (uint32_t i = r->ep_hash[h]; i != RPT_NONE; i = r->eps[i].hnext)
		if (!strcmp(r->eps[i].id, id))
			return i;
	if (r->n_eps >= RPT_MAX_EPISODES) {
		r->eps_over++;
		return RPT_NONE;
	}
	if (r->n_eps == r->cap_eps) {
		size_t nc = r->cap_eps ? r->cap_eps * 2 : 64;
		struct rpt_episode *ne = realloc(r->eps, nc * sizeof(*ne));

		if (!ne) {
			r->oom = true;
			return RPT_NONE;
		}
		r->eps = ne;
		r->cap_eps = nc;
	}
	e = &r->eps[r->n_eps];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->p = p;
	e->metric = (uint8_t)metric;
	e->hnext = r->ep_hash[h];
	r->ep_hash[h] = (uint32_t)r->n_eps;
	return (uint32_t)r->n_eps++;
}

static void on_alert(struct rpt_data *r, json_t *ev)
{
	struct rpt_principal *p = principal_of(r, ev);
	int metric = index_of(str(ev, "vigie.metric"), metric_str, M_MAX);
	int window = index_of(str(ev, "vigie.window"), window_str, W_MAX);
	int level = level_of(str(ev, "vigie.severity"));
	double ratio = json_number_value(get(ev, "vigie.ratio"));
	uint64_t ts = time_of(ev, "@timestamp");
	uint32_t ep;
	struct rpt_alert *a;

	if (!p || metric < 0 || window < 0)
		return;
	ep = episode_of(r, str(ev, "vigie.episode.id"), p, metric);
	if (!p->profile && str(ev, "vigie.principal.profile")[0] &&
	    !(p->profile = strdup(str(ev, "vigie.principal.profile"))))
		r->oom = true;
	if (!p->alerts || ts < p->first_alert_ns)
		p->first_alert_ns = ts;
	p->alerts++;
	if (level > p->max_level)
		p->max_level = level;
	if (ratio > p->max_ratio)
		p->max_ratio = ratio;
	if (rpt_metric_of(r, p, metric))
		p->m[metric]->alerts++;
	if (ep != RPT_NONE) {
		struct rpt_episode *e = &r->eps[ep];

		if (!e->alerts)
			e->first_alert = ts;
		e->alerts++;
		if (level > e->max_level)
			e->max_level = (uint8_t)level;
		if (ratio > e->max_ratio)
			e->max_ratio = ratio;
		if (!e->start)
			e->start = time_of(ev, "vigie.burst.first_sample");
		e->total = count_of(ev, "vigie.episode.total");
	}
	if (r->n_alerts >= RPT_MAX_ALERTS) {
		r->alerts_over++;
		return;
	}
	if (r->n_alerts == r->cap_alerts) {
		size_t nc = r->cap_alerts ? r->cap_alerts * 2 : 64;
		struct rpt_alert *na = realloc(r->alerts, nc * sizeof(*na));

		if (!na) {
			r->oom = true;
			return;
		}
		r->alerts = na;
		r->cap_alerts = nc;
	}
	a = &r->alerts[r->n_alerts++];
	memset(a, 0, sizeof(*a));
	a->ts = ts;
	a->p = p;
	a->metric = (uint8_t)metric;
	a->window = (uint8_t)window;
	a->level = (uint8_t)level;
	snprintf(a->reference, sizeof(a->reference), "%s", str(ev, "vigie.reference"));
	snprintf(a->reason, sizeof(a->reason), "%s", str(ev, "event.reason"));
	a->observed = count_of(ev, "vigie.observed");
	a->normal = json_number_value(get(ev, "vigie.normal"));
	a->ratio = ratio;
	a->episode = ep;
}

static void on_end(struct rpt_data *r, json_t *ev)
{
	struct rpt_principal *p = principal_of(r, ev);
	int metric = index_of(str(ev, "vigie.metric"), metric_str, M_MAX);
	uint32_t i = episode_of(r, str(ev, "vigie.episode.id"), p, metric);
	struct rpt_episode *e;
	int level = level_of(str(ev, "vigie.severity"));

	if (i == RPT_NONE)
		return;
	e = &r->eps[i];
	e->ended = true;
	snprintf(e->reason, sizeof(e->reason), "%s", str(ev, "event.reason"));
	e->start = time_of(ev, "event.start");
	e->end = time_of(ev, "event.end");
	e->total = count_of(ev, "vigie.episode.total");
	e->suppressed = (uint32_t)count_of(ev, "vigie.episode.suppressed");
	e->max_ratio = json_number_value(get(ev, "vigie.episode.max_ratio"));
	if (level > e->max_level)
		e->max_level = (uint8_t)level;
}

int rpt_on_event(struct rpt_data *r, json_t *ev)
{
	const char *action = str(ev, "event.action");

	if (!strcmp(action, "exfiltration-volume"))
		on_alert(r, ev);
	else if (!strcmp(action, "exfiltration-volume-end"))
		on_end(r, ev);
	else if (!strcmp(action, "exfiltration-alerts-suppressed"))
		r->suppressed_events += count_of(ev, "vigie.suppressed.count");
	else if (!strcmp(action, "containment"))
		r->containment_events++;
	return 0;
}
