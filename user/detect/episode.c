// SPDX-License-Identifier: GPL-2.0
/*
 * Episodes and rate limits: alerts of an evaluation are queued and sent
 * most important first, through the per-principal and global limits; an
 * episode per (principal, metric) sends follow-ups only when severity rises
 * or volume doubles, and ends after a quiet time (docs/detection.md).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect_int.h"
#include "detect/episode.h"
#include "base/event.h"

void detect_report_suppressed(struct detector *d)
{
	json_t *ev;

	if (!d->global_suppressed)
		return;
	ev = event_new(d->now_ns, "event", "intrusion_detection", "info",
		       "exfiltration-alerts-suppressed");
	if (ev) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "%llu exfiltration alerts suppressed by detection.rate_limit.global_per_minute",
			 (unsigned long long)d->global_suppressed);
		event_set(ev, "message", json_string(msg));
		event_set(ev, "event.dataset", json_string("vigie.alert"));
		event_set(ev, "vigie.suppressed.count", json_integer((json_int_t)d->global_suppressed));
		event_set(ev, "vigie.suppressed.limit", json_integer(d->cfg.rate_global_minute));
		d->emit(ev, d->ctx);
	}
	d->global_suppressed = 0;
}

/* Severity rises are bounded (two per episode) and pass the per-principal
 * limit; the global limit applies to all. */
static bool rate_allow(struct detector *d, struct principal *p, bool escalation, bool retry)
{
	int64_t hour = (int64_t)(d->now_ns / NS_PER_HOUR), min = (int64_t)(d->now_ns / NS_PER_MIN);

	if (p->rate_hour != hour) {
		p->rate_hour = hour;
		p->rate_count = 0;
	}
	if (d->global_min != min) {
		detect_report_suppressed(d);
		d->global_min = min;
		d->global_count = 0;
	}
	if (d->global_count >= d->cfg.rate_global_minute) {
		if (!retry)
			d->global_suppressed++;
		return false;
	}
	if (!escalation && p->rate_count >= d->cfg.rate_per_principal_hour)
		return false;
	p->rate_count++;
	d->global_count++;
	return true;
}

static struct episode *open_episode(struct detector *d, struct principal *p, int m,
				    const struct alert_info *a)
{
	struct metric_state *ms = p->m[m];
	struct episode *ep = calloc(1, sizeof(*ep));
	uint64_t wstart = d->now_ns > window_ns[a->window] ? d->now_ns - window_ns[a->window] : 0;

	if (!ep || detect_push_ptr((void ***)&d->open, &d->n_open, &d->cap_open, ep)) {
		free(ep);
		return NULL;
	}
	ep->seq = ++d->episode_seq;
	snprintf(ep->id, sizeof(ep->id), "%llu-%llu",
		 (unsigned long long)(d->now_ns / 1000000000ull), (unsigned long long)ep->seq);
	ep->metric = m;
	ep->p = p;
	ep->opened_ns = d->now_ns;
	ep->last_over_ns = d->now_ns;
	ep->first_sample_ns = ms->win.run_first_ns > wstart ? ms->win.run_first_ns : wstart;
	ep->last_sample_ns = ms->win.last_ns;
	ep->total = a->observed;
	/* opened against neither its own history nor its profile (a new
	 * principal, judged by its group or the ceilings): its burst is all
	 * there is to learn from, and a nightly backup alerts on its first
	 * night only; one judged by its own history or profile never learns
	 * from its episodes */
	ep->newcomer = a->reference != REF_LEARNED && a->reference != REF_PROFILE;
	ms->ep = ep;
	if (!ep->newcomer)
		ms->win.taint_min = ms->win.taint_hour = ms->win.taint_day = true;
	d->sum.episodes++;
	return ep;
}

static void alert(struct detector *d, struct principal *p, int m, struct alert_info *a)
{
	struct episode *ep = p->m[m]->ep;
	bool retry = ep && ep->alerts == 0; /* its first alert was suppressed */

	if (!ep) {
		ep = open_episode(d, p, m, a);
		if (!ep)
			return;
	}
	ep->level = a->level;
	if (a->level > ep->max_level)
		ep->max_level = a->level;
	if (a->ratio > ep->max_ratio)
		ep->max_ratio = a->ratio;
	ep->window = a->window;
	ep->total_at_alert = ep->total;
	if (!rate_allow(d, p, strcmp(a->reason, "severity") == 0, retry)) {
		if (retry) /* counted once */
			return;
		ep->suppressed++;
		p->suppressed_pending++;
		d->sum.suppressed++;
		return;
	}
	a->now_ns = d->now_ns;
	{
		json_t *ev = detect_alert_event(d, p, m, a);

		ep->alerts++;
		p->suppressed_pending = 0;
		d->sum.alerts++;
		if (ev)
			d->emit(ev, d->ctx);
	}
}

/* Alerts of one evaluation are queued, then sent most severe first, so
 * that rate limits drop the least important ones. */
void detect_queue_alert(struct detector *d, struct principal *p, int m,
			const struct alert_info *a)
{
	if (d->n_pend == d->cap_pend) {
		size_t nc = d->cap_pend ? d->cap_pend * 2 : 64;
		struct pending_alert *np = realloc(d->pend, nc * sizeof(*np));

		if (!np)
			return;
		d->pend = np;
		d->cap_pend = nc;
	}
	d->pend[d->n_pend++] = (struct pending_alert){ p, m, *a };
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending_alert *x = a, *y = b;

	bool xn = strcmp(x->a.reason, "new") == 0, yn = strcmp(y->a.reason, "new") == 0;

	if (x->a.level != y->a.level)
		return x->a.level > y->a.level ? -1 : 1;
	if (xn != yn) /* a principal not yet reported before a follow-up */
		return xn ? -1 : 1;
	if (x->a.ratio != y->a.ratio)
		return x->a.ratio > y->a.ratio ? -1 : 1;
	if (x->p->seq != y->p->seq)
		return x->p->seq < y->p->seq ? -1 : 1;
	return x->m - y->m;
}

void detect_send_queued(struct detector *d)
{
	if (d->n_pend > 1)
		qsort(d->pend, d->n_pend, sizeof(*d->pend), cmp_pending);
	for (size_t i = 0; i < d->n_pend; i++)
		alert(d, d->pend[i].p, d->pend[i].m, &d->pend[i].a);
	d->n_pend = 0;
}

/* ---- episodes end ---- */

void detect_close_episode(struct detector *d, size_t idx, const char *reason)
{
	struct episode *ep = d->open[idx];

	if (ep->alerts) {
		json_t *ev = detect_end_event(d, ep, d->now_ns, reason);

		if (ev)
			d->emit(ev, d->ctx);
	}
	ep->p->m[ep->metric]->ep = NULL;
	memmove(d->open + idx, d->open + idx + 1, (d->n_open - idx - 1) * sizeof(*d->open));
	d->n_open--;
	free(ep);
}
