// SPDX-License-Identifier: GPL-2.0
/*
 * What is normal for a principal, metric and window, and the alert rule
 * (docs/detection.md):
 *  - profile: the stated volume of its profile;
 *  - learned: a high quantile of its own closed windows, once established
 *    (learned.min_windows, or a quarter of it when its history spans an
 *    earlier day); a normal that rose more than LAG_RISE times over
 *    lag_days is not trusted and the one from before is used, so that a
 *    ramp cannot teach itself;
 *  - peer_group: while its own is not established, its group's (group.c);
 *  - new_principal: no profile volume and no established own baseline:
 *    alerted over absolute ceilings;
 *  - first_seen: egress in the first 24 hours after a principal's first
 *    egress (a destination never sent to, a process or user that never
 *    sent), once the sensor had watched novelty.warmup_s: ceilings divided
 *    by novelty.factor.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>
#include "detect/detect_int.h"

/* How far a learned normal may rise over lag_days and still be trusted:
 * half as much again. Taking the smaller of the two in every case would
 * lower every normal by the noise of two estimates of one quantile. */
#define LAG_RISE 1.5

const char *const reference_names[N_REFS] = { "profile", "learned", "peer_group",
					      "new_principal", "first_seen" };

static double window_share(const struct detect_config *c, int w)
{
	return w == W_1M ? c->minute_share : w == W_1H ? c->hour_share : 1.0;
}

bool own_established(const struct detector *d, const struct principal *p, int m, int w)
{
	const struct metric_state *ms = p->m[m];
	const struct lhist *h = &ms->hist[w];
	uint32_t min = d->cfg.learned_min[w];

	if (h->n == 0 || h->total <= 0)
		return false;
	if (h->n >= min)
		return true;
	/* a history that spans an earlier day counts sooner */
	return h->n >= (min + 3) / 4 && ms->first_ns / NS_PER_DAY < d->now_ns / NS_PER_DAY;
}

/* At the close of an active day: the normals established then. */
void lag_record_day(struct detector *d, struct metric_state *ms, int32_t day)
{
	int slot = 0;

	for (int i = 0; i < LAG_RING; i++) {
		if (ms->lag[i].day == day) {
			slot = i;
			break;
		}
		if (ms->lag[i].day < ms->lag[slot].day)
			slot = i;
	}
	ms->lag[slot].day = day;
	for (int w = 0; w < W_MAX; w++) {
		const struct lhist *h = &ms->hist[w];

		ms->lag[slot].normal[w] = h->n >= d->cfg.learned_min[w] && h->total > 0 ?
						  (float)lhist_quantile(h, d->cfg.learned_quantile[w]) :
						  -1.0f;
	}
}

/* The newest normal established at least lag_days before today, -1 if none. */
static double lagged_normal(const struct detector *d, const struct metric_state *ms, int w)
{
	int32_t today = (int32_t)(d->now_ns / NS_PER_DAY), best = INT_MIN;
	double v = -1;

	if (!d->cfg.lag_days)
		return -1;
	for (int i = 0; i < LAG_RING; i++) {
		const struct lag_record *r = &ms->lag[i];

		if (r->normal[w] > 0 && r->day <= today - (int32_t)d->cfg.lag_days && r->day > best) {
			best = r->day;
			v = r->normal[w];
		}
	}
	return v;
}

/* Fills a->refs and returns the reference that sets normal (largest), -1.
 * Reads the detector only (detect_view.c shows it too). */
int detect_normal_of(struct detector *d, struct principal *p, int m, int w,
		     struct alert_info *a)
{
	const struct detect_config *c = &d->cfg;
	int ref = -1;

	for (int i = 0; i < N_REFS; i++)
		a->refs[i] = -1;
	a->lagged = false;
	if (p->profile >= 0 && c->profiles[p->profile].per_day[m] > 0)
		a->refs[REF_PROFILE] = c->profiles[p->profile].per_day[m] * window_share(c, w);
	if (own_established(d, p, m, w)) {
		double own = lhist_quantile(&p->m[m]->hist[w], c->learned_quantile[w]);
		double lag = lagged_normal(d, p->m[m], w);

		if (lag > 0 && own > LAG_RISE * lag) {
			own = lag;
			a->lagged = true;
		}
		a->refs[REF_LEARNED] = own > 0 ? own : -1;
	} else {
		uint32_t members;

		a->refs[REF_PEER_GROUP] = group_normal(d, p, m, w, &members);
		if (a->refs[REF_PEER_GROUP] == 0)
			a->refs[REF_PEER_GROUP] = -1;
	}
	for (int i = REF_PROFILE; i <= REF_PEER_GROUP; i++)
		if (a->refs[i] >= 0 && (ref < 0 || a->refs[i] > a->refs[ref]))
			ref = i;
	if (ref >= 0)
		a->normal = a->refs[ref] < 1 ? 1 : a->refs[ref];
	return ref;
}

static bool first_seen(const struct detector *d, const struct metric_state *ms, int m)
{
	return m == M_EGRESS_BYTES && ms->first_ns && d->watch_start_ns &&
	       ms->first_ns >= d->watch_start_ns &&
	       (double)(ms->first_ns - d->watch_start_ns) >= d->cfg.novelty_warmup_s * 1e9 &&
	       d->now_ns < ms->first_ns + NS_PER_DAY;
}

/* The ceiling that applies (reference new_principal or first_seen), or -1. */
double detect_ceiling_of(struct detector *d, struct principal *p, int m, int w, int *ref)
{
	const struct detect_config *c = &d->cfg;
	bool profiled = p->profile >= 0 && c->profiles[p->profile].per_day[m] > 0;

	if (p->aggregate)
		return -1;
	if (first_seen(d, p->m[m], m)) {
		*ref = REF_FIRST_SEEN;
		return c->ceiling[m][w] / c->novelty_factor;
	}
	if (!profiled && !own_established(d, p, m, w)) {
		*ref = REF_NEW_PRINCIPAL;
		return c->ceiling[m][w];
	}
	return -1;
}

static int level_of(const struct detect_config *c, double ratio)
{
	return ratio >= c->ratio_critical ? 3 : ratio >= c->ratio_high ? 2 : 1;
}

/* One window: false if it is not over threshold. */
static bool window_over(struct detector *d, struct principal *p, int m, int w,
			struct alert_info *a)
{
	uint64_t obs = mwin_observed(&p->m[m]->win, w);
	double ceiling;
	int ref, cref = -1;

	if (obs == 0 || (double)obs < d->cfg.floor[m][w])
		return false;
	memset(a, 0, sizeof(*a));
	a->window = w;
	a->observed = obs;
	a->ceiling = -1;
	ref = detect_normal_of(d, p, m, w, a);
	if (ref >= 0) {
		a->ratio = (double)obs / a->normal;
		if (a->ratio < d->cfg.ratio)
			ref = -1;
	}
	ceiling = detect_ceiling_of(d, p, m, w, &cref);
	if (ceiling > 0 && (double)obs >= ceiling) {
		/* assumed normal: the ceiling over the ratio */
		double normal = ceiling / d->cfg.ratio;

		a->refs[cref] = normal;
		if (ref < 0 || (double)obs / normal > a->ratio) {
			ref = cref;
			a->normal = normal;
			a->ratio = (double)obs / normal;
			a->ceiling = ceiling;
		}
	}
	if (ref < 0)
		return false;
	a->reference = ref;
	a->level = level_of(&d->cfg, a->ratio);
	return true;
}

/* Best window over threshold (highest level, then ratio). false if none. */
bool detect_over_threshold(struct detector *d, struct principal *p, int m, struct alert_info *a)
{
	bool found = false;

	for (int w = 0; w < W_MAX; w++) {
		struct alert_info c;

		if (!window_over(d, p, m, w, &c))
			continue;
		if (found && (c.level < a->level || (c.level == a->level && c.ratio <= a->ratio)))
			continue;
		found = true;
		*a = c;
	}
	return found;
}
