// SPDX-License-Identifier: GPL-2.0
/*
 * Detection state file: learned baselines, the days that cap them, when
 * each principal was first seen (what was ever seen: destinations,
 * processes, accounts) and the current windows, as JSON, so that a restart
 * keeps what was learned. Peer groups are derived from their members and
 * rebuilt at load.
 * Written atomically: temporary file in the same directory, fsync, rename,
 * fsync of the directory. Open episodes are not kept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "detect/detect_int.h"
#include "base/log.h"

#define STATE_FORMAT "vigie-detect-state"

/* ---- saving ---- */

static json_t *hist_json(const struct lhist *h)
{
	json_t *b = json_array();

	for (int i = 0; i < LHIST_BUCKETS; i++)
		if (h->count[i] > 0)
			json_array_append_new(b, json_pack("[if]", i, (double)h->count[i]));
	return json_pack("{sI sf si so}", "n", (json_int_t)h->n, "total", (double)h->total, "day",
			 (int)h->decay_day, "b", b);
}

static json_t *ring_json(const uint64_t *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		if (v[i])
			json_array_append_new(a, json_pack("[iI]", i, (json_int_t)v[i]));
	return a;
}

static json_t *lag_json(const struct metric_state *ms)
{
	json_t *a = json_array();

	for (int i = 0; i < LAG_RING; i++) {
		const struct lag_record *r = &ms->lag[i];

		if (r->normal[0] > 0 || r->normal[1] > 0 || r->normal[2] > 0)
			json_array_append_new(a, json_pack("[ifff]", (int)r->day, (double)r->normal[0],
							   (double)r->normal[1], (double)r->normal[2]));
	}
	return a;
}

static json_t *metric_json(const struct metric_state *ms)
{
	const struct mwin *w = &ms->win;
	json_t *h = json_object();

	for (int i = 0; i < W_MAX; i++)
		if (ms->hist[i].n)
			json_object_set_new(h, window_name(i), hist_json(&ms->hist[i]));
	return json_pack("{so sI so s{sI so so sI sI sI sI sI}}", "hist", h, "first",
			 (json_int_t)ms->first_ns, "lag", lag_json(ms), "win", "cur_min",
			 (json_int_t)w->cur_min, "minute", ring_json(w->minute, MWIN_MINUTES),
			 "hour", ring_json(w->hour, MWIN_HOURS), "sum_1h", (json_int_t)w->sum_1h,
			 "sum_24h", (json_int_t)w->sum_24h, "day_sum", (json_int_t)w->day_sum,
			 "run_first", (json_int_t)w->run_first_ns, "last", (json_int_t)w->last_ns);
}

static json_t *principal_json(const struct principal *p)
{
	json_t *ms = json_object();

	for (int m = 0; m < M_MAX; m++)
		if (p->m[m])
			json_object_set_new(ms, metric_name(m), metric_json(p->m[m]));
	return json_pack("{ss ss sI sI sb so}", "kind", principal_kind_name(p->kind), "id", p->id,
			 "uid", (json_int_t)p->uid, "last_seen", (json_int_t)p->last_seen_ns,
			 "aggregate", (int)p->aggregate, "metrics", ms);
}

static int cmp_principal(const void *a, const void *b)
{
	const struct principal *x = *(const struct principal *const *)a;
	const struct principal *y = *(const struct principal *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->id, y->id);
}

static json_t *state_json(struct detector *d)
{
	struct principal **sorted = malloc((d->n_all + 1) * sizeof(*sorted));
	json_t *ps = json_array();

	if (!sorted)
		return NULL;
	memcpy(sorted, d->all, d->n_all * sizeof(*sorted));
	qsort(sorted, d->n_all, sizeof(*sorted), cmp_principal);
	for (size_t i = 0; i < d->n_all; i++)
		json_array_append_new(ps, principal_json(sorted[i]));
	free(sorted);
	return json_pack("{ss si sI sI sI so}", "format", STATE_FORMAT, "version", 2, "time",
			 (json_int_t)d->now_ns, "watch_start", (json_int_t)d->watch_start_ns,
			 "episode_seq", (json_int_t)d->episode_seq, "principals", ps);
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int detector_state_save(struct detector *d, const char *path)
{
	char tmp[4096];
	json_t *st = state_json(d);
	int fd = -1, rc = -1;
	FILE *f = NULL;

	if (!st) {
		log_error("cannot save detection state '%s': out of memory", path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		log_error("cannot save detection state: cannot create '%s': %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (json_dumpf(st, f, JSON_COMPACT) || fputc('\n', f) == EOF || fflush(f) ||
	    fsync(fileno(f))) {
		log_error("cannot save detection state: cannot write '%s': %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	if (fclose(f) || rename(tmp, path)) {
		log_error("cannot save detection state '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fsync_dir(path);
	rc = 0;
out:
	json_decref(st);
	return rc;
}

/* ---- loading ---- */

struct lerr {
	const char *file;
	char where[160];
};

static int lbad(struct lerr *e, const char *what)
{
	log_error("detection state '%s': %s: %s", e->file, e->where, what);
	return -1;
}

static int load_hist(json_t *o, struct lhist *h, struct lerr *e)
{
	json_t *b = json_object_get(o, "b"), *v;
	size_t i;

	if (!json_is_integer(json_object_get(o, "n")) || !json_is_number(json_object_get(o, "total")) ||
	    !json_is_integer(json_object_get(o, "day")) || !json_is_array(b))
		return lbad(e, "bad histogram");
	memset(h, 0, sizeof(*h));
	h->n = (uint32_t)json_integer_value(json_object_get(o, "n"));
	h->decay_day = (int32_t)json_integer_value(json_object_get(o, "day"));
	json_array_foreach(b, i, v) {
		json_int_t idx = json_integer_value(json_array_get(v, 0));
		double c = json_number_value(json_array_get(v, 1));

		if (!json_is_integer(json_array_get(v, 0)) || idx < 0 || idx >= LHIST_BUCKETS ||
		    !(c >= 0 && c < 1e12))
			return lbad(e, "bad histogram bucket");
		h->count[idx] = (float)c;
	}
	h->total = (float)json_number_value(json_object_get(o, "total"));
	if (!(h->total >= 0 && h->total < 1e12))
		return lbad(e, "bad histogram total");
	return 0;
}

static int load_hists(json_t *o, struct lhist *hists, struct lerr *e)
{
	if (o && !json_is_object(o))
		return lbad(e, "'hist' must be an object");
	for (int w = 0; o && w < W_MAX; w++) {
		json_t *h = json_object_get(o, window_name(w));

		if (h && load_hist(h, &hists[w], e))
			return -1;
	}
	return 0;
}

static int load_ring(json_t *a, uint64_t *v, int n, struct lerr *e)
{
	json_t *x;
	size_t i;

	if (!json_is_array(a))
		return lbad(e, "bad window ring");
	json_array_foreach(a, i, x) {
		json_int_t idx = json_integer_value(json_array_get(x, 0));
		json_int_t val = json_integer_value(json_array_get(x, 1));

		if (!json_is_integer(json_array_get(x, 0)) || idx < 0 || idx >= n || val < 0)
			return lbad(e, "bad window bucket");
		v[idx] = (uint64_t)val;
	}
	return 0;
}

static int load_lag(json_t *a, struct metric_state *ms, struct lerr *e)
{
	json_t *x;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > LAG_RING)
		return lbad(e, "'lag' must be an array of at most 8 days");
	json_array_foreach(a, i, x) {
		if (!json_is_array(x) || json_array_size(x) != 1 + W_MAX ||
		    !json_is_integer(json_array_get(x, 0)))
			return lbad(e, "bad lag day");
		ms->lag[i].day = (int32_t)json_integer_value(json_array_get(x, 0));
		for (int w = 0; w < W_MAX; w++) {
			double v = json_number_value(json_array_get(x, (size_t)w + 1));

			if (!json_is_number(json_array_get(x, (size_t)w + 1)) || !(v >= -1 && v < 1e19))
				return lbad(e, "bad lag normal");
			ms->lag[i].normal[w] = (float)v;
		}
	}
	return 0;
}

static uint64_t u64_of(json_t *o, const char *k) {
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

static int load_metric(json_t *o, struct metric_state *ms, struct lerr *e)
{
	json_t *w = json_object_get(o, "win");

	if (!json_is_object(o) || !json_is_object(w) ||
	    !json_is_integer(json_object_get(w, "cur_min")))
		return lbad(e, "bad metric");
	if (load_hists(json_object_get(o, "hist"), ms->hist, e))
		return -1;
	mwin_init(&ms->win);
	ms->win.cur_min = json_integer_value(json_object_get(w, "cur_min"));
	if (ms->win.cur_min < -1)
		return lbad(e, "bad cur_min");
	ms->win.sum_1h = u64_of(w, "sum_1h");
	ms->win.sum_24h = u64_of(w, "sum_24h");
	ms->win.day_sum = u64_of(w, "day_sum");
	ms->win.run_first_ns = u64_of(w, "run_first");
	ms->win.last_ns = u64_of(w, "last");
	ms->first_ns = u64_of(o, "first");
	if (load_lag(json_object_get(o, "lag"), ms, e))
		return -1;
	return load_ring(json_object_get(w, "minute"), ms->win.minute, MWIN_MINUTES, e) ||
	       load_ring(json_object_get(w, "hour"), ms->win.hour, MWIN_HOURS, e) ? -1 : 0;
}

static int kind_of(const char *s)
{
	for (int k = 0; s && k < PK_MAX; k++)
		if (strcmp(s, principal_kind_name(k)) == 0)
			return k;
	return -1;
}

static int load_principal(struct detector *d, json_t *o, struct lerr *e)
{
	int kind = kind_of(json_string_value(json_object_get(o, "kind")));
	const char *id = json_string_value(json_object_get(o, "id"));
	json_t *ms = json_object_get(o, "metrics");
	json_int_t uid = json_integer_value(json_object_get(o, "uid"));
	struct principal *p;

	if (kind < 0 || !id || !*id || !json_is_object(ms))
		return lbad(e, "needs kind, id and metrics");
	p = detector_principal(d, (enum principal_kind)kind, id, uid >= 0 ? uid : -1, true);
	if (!p)
		return 0; /* over max_principals: counted, not an error */
	p->last_seen_ns = u64_of(o, "last_seen");
	for (int m = 0; m < M_MAX; m++) {
		json_t *mo = json_object_get(ms, metric_name(m));

		if (!mo)
			continue;
		if (!principal_metric(p, m))
			return lbad(e, "out of memory");
		if (load_metric(mo, p->m[m], e))
			return -1;
	}
	p->aggregate = json_is_true(json_object_get(o, "aggregate"));
	return 0;
}

static void reset(struct detector *d)
{
	for (size_t i = 0; i < d->n_all; i++) {
		struct principal *p = d->all[i];

		for (int m = 0; m < M_MAX; m++)
			free(p->m[m]);
		free(p->db_user);
		free(p->id);
		free(p);
	}
	d->n_all = 0;
	if (d->table)
		memset(d->table, 0, d->table_size * sizeof(*d->table));
	group_rebuild(d);
}

static int load_json(struct detector *d, json_t *st, struct lerr *e)
{
	json_t *ps = json_object_get(st, "principals"), *v;
	json_int_t version = json_integer_value(json_object_get(st, "version"));
	size_t i;

	snprintf(e->where, sizeof(e->where), "top level");
	if (!json_is_object(st) || !json_is_string(json_object_get(st, "format")) ||
	    strcmp(json_string_value(json_object_get(st, "format")), STATE_FORMAT))
		return lbad(e, "not a vigie detection state file");
	/* version 1 also kept peer groups, now rebuilt from their members */
	if (version != 1 && version != 2)
		return lbad(e, "unsupported version");
	if (!json_is_array(ps))
		return lbad(e, "'principals' must be an array");
	d->episode_seq = u64_of(st, "episode_seq");
	if (u64_of(st, "watch_start"))
		d->watch_start_ns = u64_of(st, "watch_start");
	json_array_foreach(ps, i, v) {
		snprintf(e->where, sizeof(e->where), "principals[%zu]", i);
		if (load_principal(d, v, e))
			return -1;
	}
	group_rebuild(d);
	return 0;
}

int detector_state_load(struct detector *d, const char *path)
{
	json_error_t jerr;
	struct lerr e = { .file = path };
	json_t *st;
	int rc;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 1;
	st = json_load_file(path, 0, &jerr);
	if (!st) {
		log_error("detection state '%s': line %d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	rc = load_json(d, st, &e);
	json_decref(st);
	if (rc)
		reset(d); /* all or nothing: start fresh */
	return rc;
}
