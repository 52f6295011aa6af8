// SPDX-License-Identifier: GPL-2.0
/*
 * Peer groups (docs/detection.md): every principal belongs to the group of
 * its profile or, with no profile, to the built-in group of its kind on
 * this host ("host": the database accounts, Linux users, executables or
 * remote addresses seen here). A group's normal for a metric and window is
 * a quantile (peer_group.quantile, 0.9) of its members' own normals, one
 * vote per member: a backup or batch account reading a thousand times more
 * than a person is one vote out of many, so it cannot become everybody's
 * normal while heavy members are fewer than a tenth of the group.
 *
 * Each member's vote is the half-octave bucket of its own learned quantile,
 * moved whenever it learns; the group is derived state, rebuilt from the
 * members when a state file is loaded.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "detect_int.h"

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
	return lhist_quantile(h, d->cfg.peer_quantile);
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
