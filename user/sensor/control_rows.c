// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's requests and the rows of its snapshots (control.h,
 * docs/top.md): the detector's view (detect_view.h) filtered by kind,
 * sorted, cut to the query's limit. Pure: no socket, no clock.
 *
 * One walk of the detector: the best `limit` rows are kept in a bounded
 * heap (a copy of each, the view's strings being valid during its callback
 * only) while the totals are summed; only those rows become JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "sensor/control.h"

static const char *const level_names[4] = { NULL, "medium", "high", "critical" };

const char *control_sort_name(enum control_sort s)
{
	return s == CONTROL_SORT_VOLUME ? "volume" : "ratio";
}

static const char *level_name(int level)
{
	return level >= 1 && level <= 3 ? level_names[level] : NULL;
}

/* A number JSON can hold (jansson refuses NaN and infinities): null else. */
static json_t *json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- requests ------------------------------------------------------------ */

static int parse_kind(const char *s, int *kind)
{
	if (!strcmp(s, "all")) {
		*kind = -1;
		return 0;
	}
	for (int k = 0; k < PK_MAX; k++)
		if (!strcmp(s, principal_kind_name((enum principal_kind)k))) {
			*kind = k;
			return 0;
		}
	return -1;
}

/* Bytes of name to quote, at most max, not cutting a character (the error
 * is sent as a JSON string: valid UTF-8). */
static int name_cut(const char *name, size_t max)
{
	size_t n = strlen(name), at = 0;

	while (at < n) {
		size_t c = utf8_valid_len((const unsigned char *)name + at, n - at);

		if (!c || at + c > max)
			break;
		at += c;
	}
	return (int)at;
}

int control_parse_request(const char *line, size_t len, struct control_query *q, char *err,
			  size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je), *v;
	const char *key, *req;
	int ret = -1;

	q->sort = CONTROL_SORT_RATIO;
	q->kind = -1;
	q->limit = CONTROL_DEFAULT_ROWS;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "a request is a JSON object on one line, such as "
			 "{\"request\": \"snapshot\"}");
		goto out;
	}
	req = json_string_value(json_object_get(o, "request"));
	if (!req || strcmp(req, "snapshot")) {
		snprintf(err, errlen, "request: must be \"snapshot\" (the only request)");
		goto out;
	}
	json_object_foreach(o, key, v) {
		const char *s = json_string_value(v);

		if (!strcmp(key, "request")) {
			continue;
		} else if (!strcmp(key, "sort")) {
			if (s && !strcmp(s, "ratio")) {
				q->sort = CONTROL_SORT_RATIO;
			} else if (s && !strcmp(s, "volume")) {
				q->sort = CONTROL_SORT_VOLUME;
			} else {
				snprintf(err, errlen, "sort: must be \"ratio\" or \"volume\"");
				goto out;
			}
		} else if (!strcmp(key, "kind")) {
			if (!s || parse_kind(s, &q->kind)) {
				snprintf(err, errlen, "kind: must be \"all\", \"user\", \"db_user\", "
					 "\"process\", \"peer\" or \"app_user\"");
				goto out;
			}
		} else if (!strcmp(key, "limit")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > CONTROL_MAX_ROWS) {
				snprintf(err, errlen, "limit: must be an integer from 1 to %d",
					 CONTROL_MAX_ROWS);
				goto out;
			}
			q->limit = (unsigned)json_integer_value(v);
		} else {
			snprintf(err, errlen, "unknown field '%.*s' (request, sort, kind, limit)",
				 name_cut(key, 40), key);
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

/* ---- keys ------------------------------------------------------------------ */

static bool is_bytes(int m)
{
	return m != M_DB_ROWS;
}

/* A ratio to compare: none (-1) below every ratio, infinity above. */
static double ratio_of(double r)
{
	if (isnan(r) || r < 0)
		return -1;
	return r;
}

void control_row_key(const struct detect_view_row *r, enum control_sort sort, uint64_t order,
		     struct control_key *k)
{
	int ratio_m = -1, ratio_w = W_1M, vol_m = -1;
	uint64_t vol_best = 0, vol_best_1h = 0;

	memset(k, 0, sizeof(*k));
	k->ratio = -1;
	k->metric = -1;
	k->window = W_1M;
	k->sort = sort;
	k->order = order;
	for (int m = 0; m < M_MAX; m++) {
		const struct detect_view_metric *vm = &r->m[m];

		if (!vm->active)
			continue;
		if (vm->episode_open && vm->episode_level > k->level)
			k->level = vm->episode_level;
		for (int w = 0; w < W_MAX; w++) {
			double q = ratio_of(vm->w[w].ratio);

			if (q > k->ratio) {
				k->ratio = q;
				ratio_m = m;
				ratio_w = w;
			}
		}
		if (is_bytes(m)) {
			if (vm->w[W_1M].observed > k->volume)
				k->volume = vm->w[W_1M].observed;
			if (vm->w[W_1H].observed > k->volume_1h)
				k->volume_1h = vm->w[W_1H].observed;
		} else {
			k->rows_1m = vm->w[W_1M].observed;
		}
		/* the metric with the largest last minute (then hour); bytes
		 * before records, which are not the same unit */
		if (vol_m < 0 || (is_bytes(m) && !is_bytes(vol_m)) ||
		    (is_bytes(m) == is_bytes(vol_m) &&
		     (vm->w[W_1M].observed > vol_best ||
		      (vm->w[W_1M].observed == vol_best && vm->w[W_1H].observed > vol_best_1h)))) {
			vol_m = m;
			vol_best = vm->w[W_1M].observed;
			vol_best_1h = vm->w[W_1H].observed;
		}
	}
	if (sort == CONTROL_SORT_RATIO && ratio_m >= 0) {
		k->metric = ratio_m;
		k->window = ratio_w;
		return;
	}
	k->metric = vol_m;
	if (vol_m >= 0) {
		double best = -1;

		for (int w = 0; w < W_MAX; w++) {
			double q = ratio_of(r->m[vol_m].w[w].ratio);

			if (q > best) {
				best = q;
				k->window = w;
			}
		}
	}
}

#define CMP_DESC(a, b)                                                                     \
	do {                                                                               \
		if ((a) != (b))                                                            \
			return (a) > (b) ? -1 : 1;                                         \
	} while (0)

int control_key_cmp(const struct control_key *a, const struct control_key *b)
{
	if (a->sort == CONTROL_SORT_VOLUME) {
		CMP_DESC(a->volume, b->volume);
		CMP_DESC(a->volume_1h, b->volume_1h);
		CMP_DESC(a->rows_1m, b->rows_1m);
		CMP_DESC(a->ratio, b->ratio);
		CMP_DESC(a->level, b->level);
	} else {
		CMP_DESC(a->ratio, b->ratio);
		CMP_DESC(a->level, b->level);
		CMP_DESC(a->volume, b->volume);
		CMP_DESC(a->volume_1h, b->volume_1h);
		CMP_DESC(a->rows_1m, b->rows_1m);
	}
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return 0;
}

/* ---- JSON of a row ----------------------------------------------------------- */

static json_t *window_json(const struct detect_view_window *w)
{
	json_t *o = json_object();

	json_object_set_new(o, "observed", json_integer((json_int_t)(w->observed > INT64_MAX ?
									 INT64_MAX : w->observed)));
	json_object_set_new(o, "normal", w->normal < 0 ? json_null() : json_num(w->normal));
	json_object_set_new(o, "reference", w->reference ? json_string(w->reference) : json_null());
	json_object_set_new(o, "floor", json_num(w->floor));
	json_object_set_new(o, "ratio", w->ratio < 0 ? json_null() : json_num(w->ratio));
	return o;
}

json_t *control_row_json(const struct detect_view_row *r, const struct control_key *k)
{
	json_t *o = json_object(), *metrics = json_object(), *lead = json_null();
	char ts[40];

	json_object_set_new(o, "kind", json_string(principal_kind_name(r->kind)));
	json_object_set_new(o, "id", json_string_safe(r->id ? r->id : ""));
	json_object_set_new(o, "process", json_string_safe(r->top_process));
	json_object_set_new(o, "peer", json_string_safe(r->top_peer));
	json_object_set_new(o, "allowed", json_boolean(r->allowed));
	json_object_set_new(o, "aggregate", json_boolean(r->aggregate));
	json_object_set_new(o, "last_seen", r->last_seen_ns ?
				    json_string(format_rfc3339(r->last_seen_ns, ts, sizeof(ts))) :
				    json_null());
	if (k->metric >= 0) {
		lead = json_object();
		json_object_set_new(lead, "metric", json_string(metric_name((enum metric)k->metric)));
		json_object_set_new(lead, "window", json_string(window_name((enum window)k->window)));
	}
	json_object_set_new(o, "lead", lead);
	json_object_set_new(o, "ratio", k->ratio < 0 ? json_null() : json_num(k->ratio));
	json_object_set_new(o, "volume", json_integer((json_int_t)(k->volume > INT64_MAX ?
								   INT64_MAX : k->volume)));
	json_object_set_new(o, "episode", level_name(k->level) ? json_string(level_name(k->level)) :
								    json_null());
	for (int m = 0; m < M_MAX; m++) {
		const struct detect_view_metric *vm = &r->m[m];
		json_t *mo, *ep = json_null();

		if (!vm->active)
			continue;
		mo = json_object();
		if (vm->episode_open) {
			ep = json_object();
			json_object_set_new(ep, "level", level_name(vm->episode_level) ?
					    json_string(level_name(vm->episode_level)) : json_null());
			json_object_set_new(ep, "id", json_string_safe(vm->episode_id));
		}
		json_object_set_new(mo, "episode", ep);
		for (int w = 0; w < W_MAX; w++)
			json_object_set_new(mo, window_name((enum window)w), window_json(&vm->w[w]));
		json_object_set_new(metrics, metric_name((enum metric)m), mo);
	}
	json_object_set_new(o, "metrics", metrics);
	return o;
}

/* ---- the walk ------------------------------------------------------------------- */

/* A row kept for the answer: the view's row, its strings copied (they are
 * valid during the walk's callback only; the longest is a process's
 * "exe@user", 255 + 1 + 71 bytes). */
#define KEPT_STR 400
struct kept {
	struct control_key k;
	struct detect_view_row row;
	char id[KEPT_STR], proc[KEPT_STR], peer[KEPT_STR];
};

struct walk {
	const struct control_query *q;
	struct kept **heap;  /* the best rows so far, the worst at [0] */
	struct kept *slots;
	size_t n, cap;
	uint64_t order, matched;
	uint64_t by_kind[PK_MAX];
	uint64_t tot[PK_MAX][M_MAX][2]; /* 1m, 1h */
};

/* a after b (worse) */
static bool worse(const struct kept *a, const struct kept *b)
{
	return control_key_cmp(&a->k, &b->k) > 0;
}

static void swap(struct kept **h, size_t i, size_t j)
{
	struct kept *t = h[i];

	h[i] = h[j];
	h[j] = t;
}

static void sift_down(struct kept **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && worse(h[l], h[m]))
			m = l;
		if (r < n && worse(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		swap(h, i, m);
		i = m;
	}
}

static void sift_up(struct kept **h, size_t i)
{
	while (i > 0 && worse(h[i], h[(i - 1) / 2])) {
		swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* s (NULL: "") into buf of KEPT_STR bytes */
static char *keep_str(char *buf, const char *s)
{
	size_t n = s ? strnlen(s, KEPT_STR - 1) : 0;

	memcpy(buf, s ? s : "", n);
	buf[n] = '\0';
	return buf;
}

static void kept_set(struct kept *e, const struct detect_view_row *r, const struct control_key *k)
{
	e->k = *k;
	e->row = *r;
	e->row.id = keep_str(e->id, r->id);
	e->row.top_process = r->top_process ? keep_str(e->proc, r->top_process) : NULL;
	e->row.top_peer = r->top_peer ? keep_str(e->peer, r->top_peer) : NULL;
}

static int walk_row(const struct detect_view_row *r, void *arg)
{
	struct walk *w = arg;
	struct control_key k;
	uint64_t order = w->order++;

	if (r->kind < PK_MAX) {
		w->by_kind[r->kind]++;
		for (int m = 0; m < M_MAX; m++) {
			if (!r->m[m].active)
				continue;
			w->tot[r->kind][m][0] += r->m[m].w[W_1M].observed;
			w->tot[r->kind][m][1] += r->m[m].w[W_1H].observed;
		}
	}
	if (w->q->kind >= 0 && (int)r->kind != w->q->kind)
		return 0;
	w->matched++;
	control_row_key(r, w->q->sort, order, &k);
	if (w->n < w->cap) {
		w->heap[w->n] = &w->slots[w->n];
		kept_set(w->heap[w->n], r, &k);
		sift_up(w->heap, w->n++);
	} else if (control_key_cmp(&w->heap[0]->k, &k) > 0) {
		kept_set(w->heap[0], r, &k);
		sift_down(w->heap, w->n, 0);
	}
	return 0;
}

static int cmp_kept(const void *a, const void *b)
{
	const struct kept *const *x = a, *const *y = b;

	return control_key_cmp(&(*x)->k, &(*y)->k);
}

/* Host totals: the user principals' (each sample has one user), else the
 * processes' when users are not tracked. */
static json_t *totals_json(const struct walk *w, struct detector *d)
{
	json_t *t = json_object(), *kinds = json_object(), *win[2] = { json_object(), json_object() };
	int tk = w->by_kind[PK_USER] ? PK_USER : PK_PROCESS;
	struct detect_summary ds = { 0 };
	uint64_t all = 0;

	if (d)
		detector_summary(d, &ds);
	for (int k = 0; k < PK_MAX; k++) {
		json_object_set_new(kinds, principal_kind_name((enum principal_kind)k),
				    json_integer((json_int_t)w->by_kind[k]));
		all += w->by_kind[k];
	}
	json_object_set_new(t, "principals", json_integer((json_int_t)all));
	json_object_set_new(t, "by_kind", kinds);
	json_object_set_new(t, "principals_dropped", json_integer((json_int_t)ds.principals_dropped));
	json_object_set_new(t, "episodes_open", json_integer((json_int_t)ds.episodes_open));
	json_object_set_new(t, "alerts", json_integer((json_int_t)ds.alerts));
	json_object_set_new(t, "suppressed", json_integer((json_int_t)ds.suppressed));
	json_object_set_new(t, "of_kind", json_string(principal_kind_name((enum principal_kind)tk)));
	for (int m = 0; m < M_MAX; m++)
		for (int i = 0; i < 2; i++)
			json_object_set_new(win[i], metric_name((enum metric)m),
					    json_integer((json_int_t)(w->tot[tk][m][i] > INT64_MAX ?
								      INT64_MAX : w->tot[tk][m][i])));
	json_object_set_new(t, "1m", win[0]);
	json_object_set_new(t, "1h", win[1]);
	return t;
}

int control_rows(struct detector *d, const struct control_query *q, json_t *snap)
{
	struct walk w = { .q = q };
	json_t *rows = json_array();
	int err = -ENOMEM;

	w.cap = q->limit ? q->limit : 1;
	w.heap = calloc(w.cap, sizeof(*w.heap));
	w.slots = malloc(w.cap * sizeof(*w.slots));
	if (!rows || !w.heap || !w.slots)
		goto cleanup;
	/* one walk: the best rows kept (a bounded heap), then put in order */
	if (d && detect_view_each(d, walk_row, &w))
		goto cleanup;
	qsort(w.heap, w.n, sizeof(*w.heap), cmp_kept);
	for (size_t i = 0; i < w.n; i++)
		if (json_array_append_new(rows, control_row_json(&w.heap[i]->row, &w.heap[i]->k)))
			goto cleanup;
	if (json_object_set_new(snap, "matched", json_integer((json_int_t)w.matched)) ||
	    json_object_set_new(snap, "totals", totals_json(&w, d)) ||
	    json_object_set(snap, "rows", rows))
		goto cleanup;
	err = 0;
cleanup:
	json_decref(rows);
	free(w.heap);
	free(w.slots);
	return err;
}
