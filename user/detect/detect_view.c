// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only look at the detector for vigie top and vigie report (see
 * detect_view.h). Everything is computed as of the detector's current time
 * without moving anything: windows are rolled forward on a copy of their
 * sums (what the next roll would drop is subtracted), normals come from the
 * same functions the alert rule uses (reference.c), and nothing is learned,
 * alerted or stored. A view therefore never changes what the detector
 * outputs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "detect/detect_int.h"
#include "detect/detect_view.h"

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* What window w of win holds at minute now_min, as mwin_roll then
 * mwin_observed would say, without rolling. A window newer than now (a
 * state file newer than the trace) is reset by the next roll: 0. */
static uint64_t observed_at(const struct mwin *win, int w, int64_t now_min)
{
	int64_t cur = win->cur_min;
	uint64_t v;

	if (cur < 0 || now_min < cur)
		return 0;
	if (now_min == cur)
		return mwin_observed(win, w);
	switch (w) {
	case W_1M:
		return 0;
	case W_1H:
		if (now_min - cur >= MWIN_MINUTES)
			return 0;
		v = win->sum_1h;
		/* the roll empties the slots of minutes cur+1 .. now_min */
		for (int64_t i = cur + 1; i <= now_min; i++)
			v = sub_sat(v, win->minute[i % MWIN_MINUTES]);
		return v;
	default: {
		int64_t oh = cur / 60, nh = now_min / 60;

		if (nh - oh >= MWIN_HOURS)
			return 0;
		v = win->sum_24h;
		for (int64_t h = oh + 1; h <= nh; h++)
			v = sub_sat(v, win->hour[h % MWIN_HOURS]);
		return v;
	}
	}
}

/* The normal the alert rule applies first: the reference's, or, when a
 * ceiling applies (new principal, egress first seen) and is lower than
 * ratio x that normal, the ceiling over the ratio (window_over in
 * reference.c). A principal never alerted (allow list) has no ceiling. */
static void view_window(struct detector *d, struct principal *p, int m, int w,
			struct detect_view_window *out)
{
	struct alert_info a;
	double ceiling;
	int ref, cref = -1;

	memset(&a, 0, sizeof(a));
	out->observed = observed_at(&p->m[m]->win, w, (int64_t)(d->now_ns / NS_PER_MIN));
	out->floor = d->cfg.floor[m][w];
	out->normal = -1;
	out->reference = NULL;
	out->ratio = -1;
	ref = detect_normal_of(d, p, m, w, &a);
	if (ref >= 0) {
		out->normal = a.normal;
		out->reference = reference_names[ref];
	}
	ceiling = p->allowed ? -1 : detect_ceiling_of(d, p, m, w, &cref);
	if (ceiling > 0 && cref >= 0 && d->cfg.ratio > 0) {
		double assumed = ceiling / d->cfg.ratio;

		if (out->normal < 0 || assumed < out->normal) {
			out->normal = assumed;
			out->reference = reference_names[cref];
		}
	}
	if (out->normal > 0)
		out->ratio = (double)out->observed / out->normal;
}

/* Largest contributor (volumes summed over the metrics, then name). */
static const char *top_contrib(const struct contrib *t)
{
	const struct contrib *best = NULL;
	uint64_t best_v = 0;

	for (int i = 0; i < N_CONTRIB; i++) {
		uint64_t v = 0;

		if (!t[i].name[0])
			continue;
		for (int m = 0; m < M_MAX; m++)
			v = sat_add(v, t[i].vol[m]);
		if (!v)
			continue;
		if (!best || v > best_v || (v == best_v && strcmp(t[i].name, best->name) < 0)) {
			best = &t[i];
			best_v = v;
		}
	}
	return best ? best->name : NULL;
}

static void view_row(struct detector *d, struct principal *p, struct detect_view_row *row)
{
	memset(row, 0, sizeof(*row));
	row->kind = p->kind;
	row->id = p->id;
	row->allowed = p->allowed;
	row->aggregate = p->aggregate;
	row->last_seen_ns = p->last_seen_ns;
	row->top_process = p->kind == PK_PROCESS ? NULL : top_contrib(p->procs);
	row->top_peer = p->kind == PK_PEER ? NULL : top_contrib(p->peers);
	for (int m = 0; m < M_MAX; m++) {
		struct detect_view_metric *vm = &row->m[m];
		const struct metric_state *ms = p->m[m];

		if (!ms) {
			for (int w = 0; w < W_MAX; w++) {
				vm->w[w].normal = -1;
				vm->w[w].ratio = -1;
				vm->w[w].floor = d->cfg.floor[m][w];
			}
			continue;
		}
		vm->active = true;
		for (int w = 0; w < W_MAX; w++)
			view_window(d, p, m, w, &vm->w[w]);
		if (ms->ep) {
			vm->episode_open = true;
			vm->episode_level = ms->ep->level;
			snprintf(vm->episode_id, sizeof(vm->episode_id), "%s", ms->ep->id);
		}
	}
}

int detect_view_each_since(struct detector *d, uint64_t since_ns, detect_view_fn fn, void *arg)
{
	struct detect_view_row row;

	if (!d || !fn)
		return 0;
	for (size_t i = 0; i < d->n_all; i++) {
		struct principal *p = d->all[i];
		int rc;

		if (p->last_seen_ns < since_ns)
			continue;
		view_row(d, p, &row);
		rc = fn(&row, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int detect_view_each(struct detector *d, detect_view_fn fn, void *arg)
{
	return detect_view_each_since(d, 0, fn, arg);
}

uint64_t detect_view_now(const struct detector *d)
{
	return d && d->started ? d->now_ns : 0;
}
