// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report: what the replay's hooks gather (report_data.h). Volumes
 * are accounted from the samples to the principals detection names
 * (docs/detection.md: user, db_user, exe@user, peer, user@application, as
 * user/detect/detect.c builds them); at the end of every minute (while
 * minute series are kept) and of every hour, the detector's view gives the
 * normals of the principals seen in it. Never touches the detector.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "detect/detect_view.h"
#include "view/report_data.h"

#define NS_MIN 60000000000ull
#define ID_MAX (3 * (TRACE_EXE_LEN + 2 * TRACE_USER_LEN) + 16)

/* ---- series ---- */

static void series_put(struct rpt_data *r, struct rpt_series *s, uint32_t idx, uint64_t obs,
		       float normal)
{
	if (s->n && s->p[s->n - 1].idx == idx) { /* a coarse step: its peak */
		if (obs > s->p[s->n - 1].obs) {
			s->p[s->n - 1].obs = obs;
			s->p[s->n - 1].normal = normal;
		}
		return;
	}
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? s->cap * 2 : 16;
		struct rpt_point *np = realloc(s->p, nc * sizeof(*np));

		if (!np) {
			r->oom = true;
			return;
		}
		s->p = np;
		s->cap = nc;
	}
	s->p[s->n++] = (struct rpt_point){ .idx = idx, .normal = normal, .obs = obs };
}

static void flush_min(struct rpt_data *r, struct rpt_metric *pm)
{
	if (pm->cur_min >= 0 && r->minutes_on)
		series_put(r, &pm->min, (uint32_t)(pm->cur_min - r->t0_min), pm->cur_min_obs,
			   pm->cur_min_normal);
	pm->cur_min = -1;
}

static void flush_hour(struct rpt_data *r, struct rpt_metric *pm)
{
	if (pm->cur_hour >= 0)
		series_put(r, &pm->hour, (uint32_t)((pm->cur_hour - r->t0_hour) / r->hour_step),
			   pm->cur_hour_obs, pm->cur_hour_normal);
	pm->cur_hour = -1;
}

static void each_metric(struct rpt_data *r, void (*fn)(struct rpt_data *, struct rpt_metric *))
{
	for (size_t i = 0; i < r->n_all; i++)
		for (int m = 0; m < M_MAX; m++)
			if (r->all[i]->m[m])
				fn(r, r->all[i]->m[m]);
}

static void halve(struct rpt_data *r, struct rpt_metric *pm)
{
	struct rpt_series *s = &pm->hour;
	uint32_t o = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		struct rpt_point pt = s->p[i];

		pt.idx /= 2;
		if (o && s->p[o - 1].idx == pt.idx) {
			if (pt.obs > s->p[o - 1].obs)
				s->p[o - 1] = pt;
			continue;
		}
		s->p[o++] = pt;
	}
	s->n = o;
}

static void drop_minutes(struct rpt_data *r, struct rpt_metric *pm)
{
	rpt_series_free(&pm->min);
	pm->cur_min = -1;
}

/* ---- the view, at the end of a minute or hour ---- */

struct walk {
	struct rpt_data *r;
	int64_t min, hour; /* closing (absolute), -1: not */
};

static int walk_row(const struct detect_view_row *row, void *arg)
{
	struct walk *w = arg;
	char buf[ID_MAX];
	size_t n = rpt_utf8_copy(row->id, strlen(row->id), buf, sizeof(buf));
	struct rpt_principal *p = rpt_principal_find(w->r, row->kind, buf, n, rpt_hash(buf, n),
						     false);

	if (!p)
		return 0;
	p->aggregate = row->aggregate;
	p->allowed = row->allowed;
	for (int m = 0; m < M_MAX; m++) {
		struct rpt_metric *pm = p->m[m];

		if (!pm || !row->m[m].active)
			continue;
		if (w->min >= 0 && pm->cur_min == w->min)
			pm->cur_min_normal = (float)row->m[m].w[W_1M].normal;
		if (w->hour >= 0 && pm->cur_hour == w->hour)
			pm->cur_hour_normal = (float)row->m[m].w[W_1H].normal;
	}
	return 0;
}

/* The minute r->last_min ends (and its hour when next is in another). */
static void close_minute(struct rpt_data *r, struct detector *d, int64_t next)
{
	struct walk w = { .r = r, .min = r->minutes_on ? r->last_min : -1, .hour = -1 };
	int64_t since = r->last_min;

	if (next / 60 != r->last_min / 60) {
		w.hour = r->last_min / 60;
		since = w.hour * 60;
	}
	if (w.min >= 0 || w.hour >= 0)
		detect_view_each_since(d, (uint64_t)since * NS_MIN, walk_row, &w);
}

/* ---- samples ---- */

/* An id of a sample: valid UTF-8, its length and hash. */
struct sid {
	char s[ID_MAX];
	size_t n;
	uint64_t h;
};

/* name (interned) adds vals to a principal's contributors. */
static void contrib_add(struct rpt_contrib *t, bool *approx, const char *name,
			const uint64_t *vals)
{
	uint64_t minv = UINT64_MAX;
	int slot = -1, min = 0;

	for (int i = 0; i < RPT_TOPK; i++) {
		uint64_t tot = 0;

		if (!t[i].name || t[i].name == name) {
			slot = i;
			break;
		}
		for (int m = 0; m < M_MAX; m++)
			tot = rpt_add_sat(tot, t[i].vol[m]);
		if (tot < minv) {
			minv = tot;
			min = i;
		}
	}
	if (slot < 0) { /* space saving: the smallest makes room, its count kept */
		slot = min;
		*approx = true;
	}
	t[slot].name = name;
	for (int m = 0; m < M_MAX; m++)
		t[slot].vol[m] = rpt_add_sat(t[slot].vol[m], vals[m]);
}

static void metric_add(struct rpt_data *r, struct rpt_principal *p, int m, uint64_t ts,
		       uint64_t v)
{
	struct rpt_metric *pm = rpt_metric_of(r, p, m);
	int64_t mi = (int64_t)(ts / NS_MIN), hi = mi / 60;

	if (!pm)
		return;
	pm->total = rpt_add_sat(pm->total, v);
	/* a new bucket starts with the normal last read: the view's reading at
	 * its end replaces it */
	if (r->minutes_on && pm->cur_min != mi) {
		float carry = pm->cur_min >= 0 ? pm->cur_min_normal : -1;

		flush_min(r, pm);
		pm->cur_min = mi;
		pm->cur_min_obs = 0;
		pm->cur_min_normal = carry;
	}
	if (r->minutes_on)
		pm->cur_min_obs = rpt_add_sat(pm->cur_min_obs, v);
	if (pm->cur_hour != hi) {
		float carry = pm->cur_hour >= 0 ? pm->cur_hour_normal : -1;

		flush_hour(r, pm);
		pm->cur_hour = hi;
		pm->cur_hour_obs = 0;
		pm->cur_hour_normal = carry;
	}
	pm->cur_hour_obs = rpt_add_sat(pm->cur_hour_obs, v);
}

static void sid_set(struct sid *d, const char *id)
{
	d->n = rpt_utf8_copy(id, strlen(id), d->s, sizeof(d->s));
	d->h = rpt_hash(d->s, d->n);
}

/* The ids detection gives the sample's principals (principal_ids_of),
 * as valid UTF-8 for the page. Process and peer are always kept: they are
 * the contributors of the others. */
static void sample_ids(const struct trace_sample *s, const bool *kinds, struct sid *ids)
{
	struct principal_ids pi;

	principal_ids_of(s, &pi);
	for (int k = 0; k < PK_MAX; k++) {
		const char *id = kinds[k] || k == PK_PROCESS || k == PK_PEER ? pi.id[k] : "";

		sid_set(&ids[k], id);
	}
}

static void account(struct rpt_data *r, const struct trace_sample *s)
{
	uint64_t vals[M_MAX] = { s->db_rows, s->db_bytes, s->dbfile_bytes, s->egress_bytes };
	struct sid ids[PK_MAX];
	const char *proc = NULL, *peer = NULL;

	if (!r->enabled || !(vals[0] | vals[1] | vals[2] | vals[3]))
		return;
	sample_ids(s, r->kinds, ids);
	if (ids[PK_PROCESS].n)
		proc = rpt_intern(r, ids[PK_PROCESS].s, ids[PK_PROCESS].n, ids[PK_PROCESS].h);
	if (ids[PK_PEER].n)
		peer = rpt_intern(r, ids[PK_PEER].s, ids[PK_PEER].n, ids[PK_PEER].h);
	for (int k = 0; k < PK_MAX; k++) {
		struct rpt_principal *p = r->last[k];
		const struct sid *id = &ids[k];

		if (!r->kinds[k] || !id->n)
			continue;
		if (!p || p->hash != rpt_kind_hash(k, id->h) || p->id_len != id->n ||
		    memcmp(p->id, id->s, id->n))
			p = r->last[k] = rpt_principal_find(r, (enum principal_kind)k, id->s, id->n,
							id->h, true);
		if (!p)
			continue;
		for (int m = 0; m < M_MAX; m++)
			if (vals[m])
				metric_add(r, p, m, s->ts_ns, vals[m]);
		if (k != PK_PROCESS && proc)
			contrib_add(p->procs, &p->procs_approx, proc, vals);
		if (k != PK_PEER && peer)
			contrib_add(p->peers, &p->peers_approx, peer, vals);
	}
}

/* The host's database reads, per hour. */
static void heat(struct rpt_data *r, const struct trace_sample *s)
{
	struct rpt_host *h;
	int64_t hour = (int64_t)(s->ts_ns / (60 * NS_MIN));

	if (r->cur_host < 0 || !(s->db_rows | s->db_bytes | s->dbfile_bytes))
		return;
	h = &r->hosts[r->cur_host];
	if (!h->n || h->cells[h->n - 1].hour < hour) {
		if (h->n == h->cap) {
			size_t nc = h->cap ? h->cap * 2 : 64;
			struct rpt_cell *nc_cells = realloc(h->cells, nc * sizeof(*nc_cells));

			if (!nc_cells) {
				r->oom = true;
				return;
			}
			h->cells = nc_cells;
			h->cap = nc;
		}
		h->cells[h->n++] = (struct rpt_cell){ .hour = hour };
	}
	h->cells[h->n - 1].rows = rpt_add_sat(h->cells[h->n - 1].rows, s->db_rows);
	h->cells[h->n - 1].bytes = rpt_add_sat(h->cells[h->n - 1].bytes, s->db_bytes);
	h->cells[h->n - 1].file_bytes = rpt_add_sat(h->cells[h->n - 1].file_bytes, s->dbfile_bytes);
}

static void on_sample(void *ctx, struct detector *d, const struct trace_sample *s)
{
	struct rpt_data *r = ctx;
	int64_t m = (int64_t)(s->ts_ns / NS_MIN);

	if (detect_view_now(d) && s->ts_ns < detect_view_now(d))
		return; /* the detector ignores it too */
	if (!r->have_ts) {
		r->have_ts = true;
		r->t0_min = r->last_min = m;
		r->t0_hour = m / 60;
		r->minutes_on = true;
	} else if (m > r->last_min) {
		close_minute(r, d, m);
		if (r->minutes_on && m - r->t0_min >= RPT_MINUTE_SPAN_MIN) {
			each_metric(r, drop_minutes);
			r->minutes_on = false;
		}
		while ((m / 60 - r->t0_hour) / r->hour_step >= RPT_HOUR_BUCKETS) {
			r->hour_step *= 2;
			each_metric(r, halve);
		}
		r->last_min = m;
	}
	heat(r, s);
	account(r, s);
}

static void flush_all(struct rpt_data *r, struct rpt_metric *pm)
{
	flush_min(r, pm);
	flush_hour(r, pm);
}

static void on_finish(void *ctx, struct detector *d)
{
	struct rpt_data *r = ctx;
	struct walk w = { .r = r, .min = -1, .hour = -1 };

	if (!r->have_ts)
		return;
	w.min = r->minutes_on ? r->last_min : -1;
	w.hour = r->last_min / 60;
	detect_view_each_since(d, (uint64_t)(w.hour * 60) * NS_MIN, walk_row, &w);
	each_metric(r, flush_all);
}

static int on_start(void *ctx, struct detector *d, const struct detect_config *dc)
{
	struct rpt_data *r = ctx;

	r->enabled = dc->enabled;
	memcpy(r->kinds, dc->kinds, sizeof(r->kinds));
	r->ratio = dc->ratio;
	memcpy(r->floor, dc->floor, sizeof(r->floor));
	r->max_principals = dc->max_principals;
	return 0;
}

static void on_trace(void *ctx, const char *path, const struct trace_header *th)
{
	struct rpt_data *r = ctx;
	char name[TRACE_HOST_LEN * 3 + 4];
	int i;

	if (r->n_traces < RPT_MAX_TRACES) {
		if ((r->traces[r->n_traces] = strdup(path)))
			r->n_traces++;
		else
			r->oom = true;
	} else {
		r->traces_more++;
	}
	rpt_utf8(th->host[0] ? th->host : "(no host name)", name, sizeof(name));
	for (i = 0; i < r->n_hosts && strcmp(r->hosts[i].name, name); i++)
		;
	if (i == r->n_hosts && r->n_hosts == RPT_MAX_HOSTS) {
		i = RPT_MAX_HOSTS - 1; /* the last heat map takes the rest */
		r->hosts_merged++;
	} else if (i == r->n_hosts) {
		if (!(r->hosts[i].name = strdup(name))) {
			r->oom = true;
			return;
		}
		r->n_hosts++;
	}
	r->cur_host = i;
}

static int on_event(void *ctx, json_t *ev)
{
	return rpt_on_event(ctx, ev);
}

void rpt_hooks(struct rpt_data *r, struct replay_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->ctx = r;
	h->start = on_start;
	h->trace = on_trace;
	h->sample = on_sample;
	h->finish = on_finish;
	h->event = on_event;
}
