// SPDX-License-Identifier: GPL-2.0
/*
 * ECS events of detection: the exfiltration-volume alert and the
 * exfiltration-volume-end event that closes an episode (docs/detection.md).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect_int.h"
#include "base/event.h"
#include "base/rank.h"

static const int ecs_severity[4] = { 0, 47, 73, 99 };
static const char *const severity_names[4] = { "none", "medium", "high", "critical" };

const char *severity_name(int level)
{
	return severity_names[level < 0 || level > 3 ? 0 : level];
}

/* Ratios are always JSON reals (a SIEM maps a field from the first
 * document it sees) and print exactly: whole from 100, eighths below. */
static json_t *json_ratio(double r)
{
	if (!isfinite(r))
		r = 1e15;
	if (r >= 100)
		return json_real((double)llround(r));
	return json_real(round(r * 8) / 8);
}

static bool is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* rule.*: one rule per metric, the same on the alert and on the end of its
 * episode. */
static void set_rule(json_t *ev, int m)
{
	static const char *const descr[M_MAX] = {
		"Database records read by one principal far above its normal, its profile or its "
		"peer group",
		"Database traffic served to one principal far above its normal, its profile or its "
		"peer group",
		"Database files read by one principal far above its normal, its profile or its "
		"peer group",
		"Network egress of one principal far above its normal, its profile or its peer group",
	};
	char buf[96];

	snprintf(buf, sizeof(buf), "vigie-exfiltration-volume-%s", metric_name(m));
	event_set(ev, "rule.id", json_string(buf));
	snprintf(buf, sizeof(buf), "Exfiltration volume (%s)", metric_name(m));
	event_set(ev, "rule.name", json_string(buf));
	event_set(ev, "rule.ruleset", json_string("vigie"));
	event_set(ev, "rule.category", json_string("exfiltration"));
	if (m >= 0 && m < M_MAX)
		event_set(ev, "rule.description", json_string(descr[m]));
}

static json_t *json_volume(double v)
{
	if (!isfinite(v) || v < 0)
		v = 0;
	if (v > 9e18)
		v = 9e18;
	return json_integer((json_int_t)llround(ceil(v)));
}

static json_t *json_time(uint64_t ns)
{
	char buf[48];

	return json_string(format_rfc3339(ns, buf, sizeof(buf)));
}

static int risk_score(double ratio)
{
	double r = 20 + 25 * log10(ratio > 1 ? ratio : 1);

	return r > 100 ? 100 : (int)lround(r);
}

static json_t *top_list(json_t *ev, const struct contrib *t, int m, bool with_pid)
{
	struct rank_entry r[N_CONTRIB];
	int n = 0;
	json_t *arr = json_array();

	for (int i = 0; i < N_CONTRIB; i++)
		if (t[i].name[0] && t[i].vol[m])
			r[n++] = (struct rank_entry){ t[i].name, t[i].vol[m], i };
	rank_sort(r, (size_t)n);
	for (int i = 0; i < n && i < 3; i++) {
		const struct contrib *c = &t[r[i].idx];
		json_t *o = json_object();

		json_object_set_new(o, "id", json_string_safe(c->name));
		if (!with_pid && is_ip(c->name))
			event_add_unique(ev, "related.ip", c->name);
		if (with_pid && c->pid >= 0)
			json_object_set_new(o, "pid", json_integer(c->pid));
		json_object_set_new(o, "volume", json_integer((json_int_t)r[i].volume));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Records: exact for db_rows, otherwise estimated from bytes. */
static void set_records(struct detector *d, json_t *ev, struct principal *p, int m,
			uint64_t observed, int w)
{
	double bpr = d->cfg.bytes_per_record;
	const char *basis = "config";

	if (m == M_DB_ROWS) {
		event_set(ev, "vigie.records.count", json_integer((json_int_t)observed));
		event_set(ev, "vigie.records.estimate", json_false());
		return;
	}
	if (m == M_DB_BYTES && p->m[M_DB_ROWS] && p->m[M_DB_BYTES]) {
		uint64_t rows = mwin_observed(&p->m[M_DB_ROWS]->win, w);
		uint64_t bytes = mwin_observed(&p->m[M_DB_BYTES]->win, w);

		if (rows > 0 && bytes > 0) {
			bpr = (double)bytes / (double)rows;
			basis = "observed";
		}
	}
	event_set(ev, "vigie.records.count", json_volume(floor((double)observed / bpr)));
	event_set(ev, "vigie.records.estimate", json_true());
	event_set(ev, "vigie.records.bytes_per_record", json_volume(bpr));
	event_set(ev, "vigie.records.basis", json_string(basis));
}

static void set_principal(struct detector *d, json_t *ev, struct principal *p)
{
	event_set(ev, "vigie.principal.kind", json_string(principal_kind_name(p->kind)));
	event_set(ev, "vigie.principal.id", json_string_safe(p->id));
	if (p->profile >= 0)
		event_set(ev, "vigie.principal.profile",
			  json_string_safe(d->cfg.profiles[p->profile].name));
	switch (p->kind) {
	case PK_USER:
		if (strncmp(p->id, "uid:", 4))
			event_set(ev, "user.name", json_string_safe(p->id));
		if (p->uid >= 0) {
			char b[24];

			snprintf(b, sizeof(b), "%lld", (long long)p->uid);
			event_set(ev, "user.id", json_string(b));
		}
		break;
	case PK_DB_USER:
		/* user.name is always an OS user: the account is vigie.db_user */
		event_set(ev, "vigie.db_user", json_string_safe(p->id));
		break;
	case PK_PROCESS: {
		const char *at = strrchr(p->id, '@');

		if (at) {
			event_set(ev, "process.executable",
				  json_string_bytes(p->id, (size_t)(at - p->id)));
			if (strncmp(at + 1, "uid:", 4) && strcmp(at + 1, "?"))
				event_set(ev, "user.name", json_string_safe(at + 1));
		}
		break;
	}
	case PK_PEER:
		event_set(ev, "destination.address", json_string_safe(p->id));
		if (is_ip(p->id))
			event_set(ev, "destination.ip", json_string(p->id));
		break;
	case PK_APP_USER: {
		const char *at = strrchr(p->id, '@');
		size_t ulen = at ? (size_t)(at - p->id) : strlen(p->id);

		event_set(ev, "vigie.app_user", json_string_bytes(p->id, ulen));
		if (at)
			event_set(ev, "vigie.app_name", json_string_safe(at + 1));
		if (p->db_user)
			event_set(ev, "vigie.db_user", json_string_safe(p->db_user));
		break;
	}
	default:
		break;
	}
}

static void volume_text(int m, double v, char *buf, size_t n)
{
	if (m == M_DB_ROWS)
		snprintf(buf, n, "%.0f records", ceil(v));
	else if (v >= 1e9)
		snprintf(buf, n, "%.1f GB", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.1f MB", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, n, "%.1f kB", v / 1e3);
	else
		snprintf(buf, n, "%.0f bytes", v);
}

static const char *const metric_words[M_MAX] = { "read", "of database traffic",
						 "of database files read", "sent" };

/* The alert in plain words: who, how much, against what. */
static void alert_message(struct detector *d, struct principal *p, int m,
			  const struct alert_info *a, char *msg, size_t n)
{
	char obs[48], ref[48], why[200];
	uint32_t members = 0;

	volume_text(m, (double)a->observed, obs, sizeof(obs));
	volume_text(m, a->reference >= REF_NEW_PRINCIPAL ? a->ceiling : a->normal, ref, sizeof(ref));
	switch (a->reference) {
	case REF_PROFILE:
		snprintf(why, sizeof(why), "%.0fx the %s its profile '%s' allows", floor(a->ratio),
			 ref, d->cfg.profiles[p->profile].name);
		break;
	case REF_LEARNED:
		snprintf(why, sizeof(why), "%.0fx its own normal of %s (%s)", floor(a->ratio), ref,
			 a->lagged ? "as learned before its recent rise" : "learned from its history");
		break;
	case REF_PEER_GROUP:
		group_normal(d, p, m, a->window, &members);
		snprintf(why, sizeof(why), "%.0fx the normal of its peer group (%s %s, %u members) of %s",
			 floor(a->ratio), group_name(d, p), principal_kind_name(p->kind), members, ref);
		break;
	case REF_NEW_PRINCIPAL:
		snprintf(why, sizeof(why),
			 "no profile and no established history of its own, over the ceiling of %s "
			 "for a new principal", ref);
		break;
	default:
		snprintf(why, sizeof(why),
			 "first egress seen less than a day ago, over the ceiling of %s for egress "
			 "first seen", ref);
		break;
	}
	snprintf(msg, n, "%s %s: %s %s in %s, %s", principal_kind_name(p->kind), p->id, obs,
		 metric_words[m], window_name(a->window), why);
}

json_t *detect_alert_event(struct detector *d, struct principal *p, int m,
			   const struct alert_info *a)
{
	struct episode *ep = p->m[m]->ep;
	json_t *ev = event_new(a->now_ns, "alert", "intrusion_detection", "info",
			       "exfiltration-volume");
	char msg[512];

	if (!ev)
		return NULL;
	alert_message(d, p, m, a, msg, sizeof(msg));
	event_set(ev, "message", json_string_safe(msg));
	event_set(ev, "event.severity", json_integer(ecs_severity[a->level]));
	event_set(ev, "event.risk_score", json_real(risk_score(a->ratio)));
	event_set(ev, "event.reason", json_string(a->reason));
	set_principal(d, ev, p);
	event_set(ev, "vigie.severity", json_string(severity_name(a->level)));
	event_set(ev, "vigie.metric", json_string(metric_name(m)));
	event_set(ev, "vigie.window", json_string(window_name(a->window)));
	event_set(ev, "vigie.observed", json_integer((json_int_t)a->observed));
	event_set(ev, "vigie.normal", json_volume(a->normal));
	event_set(ev, "vigie.reference", json_string(reference_names[a->reference]));
	for (int i = 0; i < N_REFS; i++) {
		char path[64];

		if (a->refs[i] < 0)
			continue;
		snprintf(path, sizeof(path), "vigie.references.%s", reference_names[i]);
		event_set(ev, path, json_volume(a->refs[i]));
	}
	if (a->ceiling >= 0)
		event_set(ev, "vigie.ceiling", json_volume(a->ceiling));
	if (a->lagged)
		event_set(ev, "vigie.lag_days", json_integer(d->cfg.lag_days));
	if (a->reference == REF_PEER_GROUP) {
		uint32_t members;

		group_normal(d, p, m, a->window, &members);
		event_set(ev, "vigie.peer_group.name", json_string_safe(group_name(d, p)));
		event_set(ev, "vigie.peer_group.members", json_integer(members));
	}
	event_set(ev, "vigie.ratio", json_ratio(a->ratio));
	event_set(ev, "vigie.floor", json_volume(d->cfg.floor[m][a->window]));
	event_set(ev, "vigie.episode.id", json_string(ep->id));
	event_set(ev, "vigie.episode.alert", json_integer(ep->alerts + ep->suppressed + 1));
	event_set(ev, "vigie.episode.total", json_integer((json_int_t)ep->total));
	event_set(ev, "vigie.burst.first_sample", json_time(ep->first_sample_ns));
	event_set(ev, "vigie.burst.last_sample", json_time(ep->last_sample_ns));
	if (p->kind != PK_PROCESS)
		event_set(ev, "vigie.top_processes", top_list(ev, p->procs, m, true));
	if (p->kind != PK_PEER)
		event_set(ev, "vigie.top_peers", top_list(ev, p->peers, m, false));
	set_records(d, ev, p, m, a->observed, a->window);
	if (p->suppressed_pending)
		event_set(ev, "vigie.suppressed_alerts", json_integer(p->suppressed_pending));
	set_rule(ev, m);
	event_relate(ev);
	return ev;
}

json_t *detect_end_event(struct detector *d, struct episode *ep, uint64_t now_ns,
			 const char *reason)
{
	struct principal *p = ep->p;
	json_t *ev = event_new(now_ns, "event", "intrusion_detection", "info",
			       "exfiltration-volume-end");
	char msg[512];

	if (!ev)
		return NULL;
	event_set(ev, "event.dataset", json_string("vigie.alert"));
	snprintf(msg, sizeof(msg), "%s %s: %s episode %s ended (%s), total %llu",
		 principal_kind_name(p->kind), p->id, metric_name(ep->metric), ep->id, reason,
		 (unsigned long long)ep->total);
	event_set(ev, "message", json_string_safe(msg));
	event_set(ev, "event.severity", json_integer(ecs_severity[ep->max_level]));
	event_set(ev, "event.reason", json_string(reason));
	event_set(ev, "event.start", json_time(ep->first_sample_ns));
	event_set(ev, "event.end", json_time(ep->last_sample_ns));
	event_set(ev, "event.duration",
		  json_integer((json_int_t)(ep->last_sample_ns - ep->first_sample_ns)));
	set_principal(d, ev, p);
	event_set(ev, "vigie.severity", json_string(severity_name(ep->max_level)));
	event_set(ev, "vigie.metric", json_string(metric_name(ep->metric)));
	event_set(ev, "vigie.episode.id", json_string(ep->id));
	event_set(ev, "vigie.episode.total", json_integer((json_int_t)ep->total));
	event_set(ev, "vigie.episode.alerts", json_integer(ep->alerts));
	event_set(ev, "vigie.episode.suppressed", json_integer(ep->suppressed));
	event_set(ev, "vigie.episode.max_ratio", json_ratio(ep->max_ratio));
	event_set(ev, "vigie.episode.opened", json_time(ep->opened_ns));
	event_set(ev, "vigie.burst.first_sample", json_time(ep->first_sample_ns));
	event_set(ev, "vigie.burst.last_sample", json_time(ep->last_sample_ns));
	if (ep->metric != M_DB_ROWS) {
		event_set(ev, "vigie.records.count",
			  json_volume(floor((double)ep->total / d->cfg.bytes_per_record)));
		event_set(ev, "vigie.records.estimate", json_true());
	} else {
		event_set(ev, "vigie.records.count", json_integer((json_int_t)ep->total));
		event_set(ev, "vigie.records.estimate", json_false());
	}
	set_rule(ev, ep->metric);
	event_relate(ev);
	return ev;
}
