// SPDX-License-Identifier: GPL-2.0
/*
 * Peer groups (docs/detection.md): every principal belongs to the group of
 * its profile or, with no profile, to the built-in group of its kind on
 * this host ("host": the database accounts, Linux users, executables or
 * remote addresses seen here). Each member votes with its own normal, one
 * vote per member. The group's normal is the level its heaviest ordinary
 * member is expected to reach: the votes' median and their
 * peer_group.quantile (0.9) give the spread of the group on a log scale,
 * extended to the group's size (the largest of n members sits about
 * sqrt(2 ln n) spreads above the median). A population whose volumes vary
 * a lot thus has a wider normal than one of look-alike members. Only the
 * median and the 0.9 quantile enter: a backup or batch account reading a
 * thousand times more than a person is one vote out of many and cannot
 * move them while heavy members are fewer than a tenth of the group.
 *
 * Each member's vote is the half-octave bucket of its own learned quantile,
 * moved whenever it learns; the group is derived state, rebuilt from the
 * members when a state file is loaded.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect_int.h"

static bool votes(const struct principal *p)
{
	return !p->allowed && !p->aggregate;
}

void group_update(struct detector *d, struct principal *p, int m, int w)
{
	struct metric_state *ms = p->m[m];
	struct group *g = principal_group(d, p);
	struct lhist *h;
	int b;

	if (!g || !ms || !votes(p) || ms->hist[w].total <= 0)
		return;
	b = lhist_quantile_bucket(&ms->hist[w], d->cfg.learned_quantile[w]);
	if (b < 0 || b == ms->group_bucket[w])
		return;
	if (!g->hist[m] && !(g->hist[m] = calloc(W_MAX, sizeof(struct lhist))))
		return;
	h = &g->hist[m][w];
	if (ms->group_bucket[w] >= 0) {
		h->count[ms->group_bucket[w]] -= 1.0f;
		if (h->count[ms->group_bucket[w]] < 0.5f)
			h->count[ms->group_bucket[w]] = 0;
	} else {
		h->total += 1.0f;
		h->n++;
	}
	h->count[b] += 1.0f;
	ms->group_bucket[w] = (int8_t)b;
}

void group_leave(struct detector *d, struct principal *p)
{
	struct group *g = principal_group(d, p);

	for (int m = 0; m < M_MAX; m++) {
		struct metric_state *ms = p->m[m];

		for (int w = 0; ms && w < W_MAX; w++) {
			int b = ms->group_bucket[w];

			ms->group_bucket[w] = -1;
			if (b < 0 || !g || !g->hist[m])
				continue;
			g->hist[m][w].count[b] = g->hist[m][w].count[b] >= 1.0f ?
							 g->hist[m][w].count[b] - 1.0f : 0;
			if (g->hist[m][w].total >= 1.0f)
				g->hist[m][w].total -= 1.0f;
			if (g->hist[m][w].n)
				g->hist[m][w].n--;
		}
	}
}

void group_rebuild(struct detector *d)
{
	int n = (d->cfg.n_profiles + 1) * PK_MAX;

	for (int i = 0; d->groups && i < n; i++)
		for (int m = 0; m < M_MAX; m++)
			if (d->groups[i].hist[m])
				memset(d->groups[i].hist[m], 0, W_MAX * sizeof(struct lhist));
	for (size_t i = 0; i < d->n_all; i++) {
		struct principal *p = d->all[i];

		for (int m = 0; m < M_MAX; m++) {
			for (int w = 0; p->m[m] && w < W_MAX; w++) {
				p->m[m]->group_bucket[w] = -1;
				group_update(d, p, m, w);
			}
		}
	}
}

double group_normal(struct detector *d, const struct principal *p, int m, int w,
		    uint32_t *members)
{
	struct group *g = principal_group(d, p);
	const struct lhist *h;

	*members = 0;
	if (!g || !g->hist[m])
		return -1;
	h = &g->hist[m][w];
	*members = h->n;
	if (h->n < d->cfg.peer_min_principals || h->total <= 0)
		return -1;
	return group_extreme(lhist_quantile(h, 0.5), lhist_quantile(h, d->cfg.peer_quantile),
			     d->cfg.peer_quantile, h->n);
}

/* z such that a standard normal is below z with probability q, 0.5 < q < 1
 * (Abramowitz and Stegun 26.2.23, error under 4.5e-4) */
static double normal_quantile(double q)
{
	double t = sqrt(-2 * log(1 - q));

	return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
			   (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}

/*
 * The heaviest ordinary member of n whose votes have median `mid` and
 * q-quantile `hi`: log-normal spread s = ln(hi / mid) / z(q), extended to
 * sqrt(2 ln n) spreads above the median; never below the q-quantile.
 */
double group_extreme(double mid, double hi, double q, uint32_t n)
{
	double zq, zn, s;

	if (mid < 1)
		mid = 1;
	if (hi <= mid || q <= 0.5 || q >= 1 || n < 2)
		return hi > mid ? hi : mid;
	zq = normal_quantile(q);
	zn = sqrt(2 * log((double)n));
	s = log(hi / mid) / zq;
	return zn > zq ? mid * exp(zn * s) : hi;
}

const char *group_name(const struct detector *d, const struct principal *p)
{
	return p->profile >= 0 ? d->cfg.profiles[p->profile].name : "host";
}

void groups_free(struct detector *d)
{
	int n = (d->cfg.n_profiles + 1) * PK_MAX;

	for (int i = 0; d->groups && i < n; i++)
		for (int m = 0; m < M_MAX; m++)
			free(d->groups[i].hist[m]);
	free(d->groups);
	d->groups = NULL;
}
