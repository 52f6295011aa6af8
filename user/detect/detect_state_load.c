// SPDX-License-Identifier: GPL-2.0
/*
 * Detection state file, loading (detect_state.c writes it). Every value is
 * checked; a refused file is set aside as FILE.bad-TIME for a person to
 * repair, and the previous save (FILE.prev) is used instead when it loads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "detect/detect_int.h"
#include "base/log.h"
#include "base/safefile.h"

#define STATE_FORMAT "vigie-detect-state"

/* field paths in messages are built in fixed buffers; a path too long for
 * them is cut, which only shortens a message */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ---- loading ---- */

/* Every value is checked for its type and range: a state file is input
 * like any other, and a field out of range would be undefined behaviour
 * in the arithmetic of the baselines. A refusal names the principal and
 * the field. */
struct lerr {
	const char *file;
	char where[320]; /* "principals[3] (db_user alice)" */
};

static int lbad(struct lerr *e, const char *field, const char *what)
{
	log_error("detection state '%s': %s%s%s: %s", e->file, e->where, field ? ": " : "",
		  field ? field : "", what);
	return -1;
}

#define DAY_MAX (1 << 24)       /* days since 1970: far beyond any clock */
#define MINUTE_MAX (1ll << 40)  /* minutes since 1970 */

/* o[k] an integer in [min, max] (absent: *out unchanged unless required). */
static int get_int(json_t *o, const char *k, json_int_t min, json_int_t max, bool required,
		   json_int_t *out, const char *path, struct lerr *e)
{
	json_t *v = json_object_get(o, k);
	char field[512], what[96];

	if (!v && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(field, sizeof(field), "%s%s%s", path, *path ? "." : "", k);
		snprintf(what, sizeof(what), "must be an integer in [%lld, %lld]", (long long)min,
			 (long long)max);
		return lbad(e, field, what);
	}
	*out = json_integer_value(v);
	return 0;
}

static int get_u64(json_t *o, const char *k, uint64_t *out, const char *path, struct lerr *e)
{
	json_int_t v = 0;

	if (get_int(o, k, 0, INT64_MAX, false, &v, path, e))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int get_real(json_t *v, double min, double max, double *out, const char *field,
		    struct lerr *e)
{
	char what[96];

	if (!json_is_number(v) || !(json_number_value(v) >= min && json_number_value(v) < max)) {
		snprintf(what, sizeof(what), "must be a number in [%g, %g)", min, max);
		return lbad(e, field, what);
	}
	*out = json_number_value(v);
	return 0;
}

static int load_hist(json_t *o, struct lhist *h, const char *path, struct lerr *e)
{
	json_t *b = json_object_get(o, "b"), *v;
	json_int_t n = 0, day = 0;
	char field[512];
	double total, c;
	size_t i;

	if (!json_is_object(o))
		return lbad(e, path, "must be an object");
	memset(h, 0, sizeof(*h));
	if (get_int(o, "n", 0, UINT32_MAX, true, &n, path, e) ||
	    get_int(o, "day", 0, DAY_MAX, true, &day, path, e))
		return -1;
	snprintf(field, sizeof(field), "%s.total", path);
	if (get_real(json_object_get(o, "total"), 0, 1e12, &total, field, e))
		return -1;
	snprintf(field, sizeof(field), "%s.b", path);
	if (!json_is_array(b))
		return lbad(e, field, "must be an array of [bucket, count]");
	h->n = (uint32_t)n;
	h->decay_day = (int32_t)day;
	h->total = (float)total;
	json_array_foreach(b, i, v) {
		json_t *idx = json_array_get(v, 0);

		snprintf(field, sizeof(field), "%s.b[%zu]", path, i);
		if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(idx) ||
		    json_integer_value(idx) < 0 || json_integer_value(idx) >= LHIST_BUCKETS)
			return lbad(e, field, "must be [bucket 0-95, count]");
		if (get_real(json_array_get(v, 1), 0, 1e12, &c, field, e))
			return -1;
		h->count[json_integer_value(idx)] = (float)c;
	}
	return 0;
}

static int load_hists(json_t *o, struct lhist *hists, const char *path, struct lerr *e)
{
	char field[512];

	if (o && !json_is_object(o))
		return lbad(e, path, "must be an object");
	for (int w = 0; o && w < W_MAX; w++) {
		json_t *h = json_object_get(o, window_name(w));

		snprintf(field, sizeof(field), "%s.%s", path, window_name(w));
		if (h && load_hist(h, &hists[w], field, e))
			return -1;
	}
	return 0;
}

static int load_ring(json_t *a, uint64_t *v, int n, const char *path, struct lerr *e)
{
	char field[512];
	json_t *x;
	size_t i;

	if (!json_is_array(a))
		return lbad(e, path, "must be an array of [slot, value]");
	json_array_foreach(a, i, x) {
		json_t *idx = json_array_get(x, 0), *val = json_array_get(x, 1);

		snprintf(field, sizeof(field), "%s[%zu]", path, i);
		if (!json_is_array(x) || json_array_size(x) != 2 || !json_is_integer(idx) ||
		    json_integer_value(idx) < 0 || json_integer_value(idx) >= n ||
		    !json_is_integer(val) || json_integer_value(val) < 0)
			return lbad(e, field, "must be [slot, value >= 0]");
		v[json_integer_value(idx)] = (uint64_t)json_integer_value(val);
	}
	return 0;
}

static int load_lag(json_t *a, struct metric_state *ms, const char *path, struct lerr *e)
{
	char field[512];
	json_t *x;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > LAG_RING)
		return lbad(e, path, "must be an array of at most 8 days");
	json_array_foreach(a, i, x) {
		json_t *day = json_array_get(x, 0);

		snprintf(field, sizeof(field), "%s[%zu]", path, i);
		if (!json_is_array(x) || json_array_size(x) != 1 + W_MAX || !json_is_integer(day) ||
		    json_integer_value(day) < 0 || json_integer_value(day) > DAY_MAX)
			return lbad(e, field, "must be [day, normal 1m, 1h, 24h]");
		ms->lag[i].day = (int32_t)json_integer_value(day);
		for (int w = 0; w < W_MAX; w++) {
			double v;

			if (get_real(json_array_get(x, (size_t)w + 1), -1, 1e19, &v, field, e))
				return -1;
			ms->lag[i].normal[w] = (float)v;
		}
	}
	return 0;
}

static int load_metric(json_t *o, struct metric_state *ms, const char *path, struct lerr *e)
{
	json_t *w = json_object_get(o, "win");
	json_int_t cur = 0;
	char p[384], q[512];

	if (!json_is_object(o))
		return lbad(e, path, "must be an object");
	snprintf(p, sizeof(p), "%s.win", path);
	if (!json_is_object(w))
		return lbad(e, p, "must be an object");
	snprintf(q, sizeof(q), "%s.hist", path);
	if (load_hists(json_object_get(o, "hist"), ms->hist, q, e))
		return -1;
	mwin_init(&ms->win);
	if (get_int(w, "cur_min", -1, MINUTE_MAX, true, &cur, p, e) ||
	    get_u64(w, "sum_1h", &ms->win.sum_1h, p, e) ||
	    get_u64(w, "sum_24h", &ms->win.sum_24h, p, e) ||
	    get_u64(w, "day_sum", &ms->win.day_sum, p, e) ||
	    get_u64(w, "run_first", &ms->win.run_first_ns, p, e) ||
	    get_u64(w, "last", &ms->win.last_ns, p, e) ||
	    get_u64(o, "first", &ms->first_ns, path, e))
		return -1;
	ms->win.cur_min = cur;
	snprintf(q, sizeof(q), "%s.lag", path);
	if (load_lag(json_object_get(o, "lag"), ms, q, e))
		return -1;
	snprintf(q, sizeof(q), "%s.minute", p);
	if (load_ring(json_object_get(w, "minute"), ms->win.minute, MWIN_MINUTES, q, e))
		return -1;
	snprintf(q, sizeof(q), "%s.hour", p);
	return load_ring(json_object_get(w, "hour"), ms->win.hour, MWIN_HOURS, q, e);
}

static int kind_of(const char *s)
{
	for (int k = 0; s && k < PK_MAX; k++)
		if (strcmp(s, principal_kind_name(k)) == 0)
			return k;
	return -1;
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "id_hex" (the bytes of an id that is not UTF-8), else "id". *buf is
 * freed by the caller. NULL: bad (message given). */
static const char *load_id(json_t *o, char **buf, struct lerr *e)
{
	json_t *hex = json_object_get(o, "id_hex");
	const char *h = json_string_value(hex);
	size_t n;

	*buf = NULL;
	if (!hex) {
		const char *id = json_string_value(json_object_get(o, "id"));

		if (!id || !*id || strlen(id) != json_string_length(json_object_get(o, "id"))) {
			lbad(e, "id", "must be a non-empty string without NUL");
			return NULL;
		}
		return id;
	}
	n = h ? strlen(h) : 0;
	if (!h || n == 0 || n % 2 || !(*buf = malloc(n / 2 + 1))) {
		lbad(e, "id_hex", "must be the id's bytes in hex");
		return NULL;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int a = unhex(h[2 * i]), b = unhex(h[2 * i + 1]);

		if (a < 0 || b < 0 || (a == 0 && b == 0)) {
			lbad(e, "id_hex", "must be the id's bytes in hex (no NUL)");
			free(*buf);
			*buf = NULL;
			return NULL;
		}
		(*buf)[i] = (char)(a * 16 + b);
	}
	(*buf)[n / 2] = '\0';
	return *buf;
}

static int load_principal(struct detector *d, json_t *o, struct lerr *e)
{
	int kind = kind_of(json_string_value(json_object_get(o, "kind")));
	json_t *ms = json_object_get(o, "metrics"), *agg = json_object_get(o, "aggregate");
	json_int_t uid = -1;
	struct principal *p;
	uint64_t last_seen = 0;
	char *idbuf = NULL, path[64];
	const char *id;
	size_t len = strlen(e->where);
	int rc = -1;

	if (!json_is_object(o))
		return lbad(e, NULL, "must be an object");
	if (kind < 0)
		return lbad(e, "kind", "must be a principal kind");
	if (!(id = load_id(o, &idbuf, e)))
		return -1;
	/* name it in every later message */
	snprintf(e->where + len, sizeof(e->where) - len, " (%s %s)", principal_kind_name(kind), id);
	if (!json_is_object(ms)) {
		lbad(e, "metrics", "must be an object");
		goto out;
	}
	if (get_int(o, "uid", -1, UINT32_MAX, false, &uid, "", e) ||
	    get_u64(o, "last_seen", &last_seen, "", e))
		goto out;
	if (agg && !json_is_boolean(agg)) {
		lbad(e, "aggregate", "must be true or false");
		goto out;
	}
	p = detector_principal(d, (enum principal_kind)kind, id, uid >= 0 ? uid : -1, true);
	if (!p) {
		rc = 0; /* over max_principals: counted, not an error */
		goto out;
	}
	p->last_seen_ns = last_seen;
	for (int m = 0; m < M_MAX; m++) {
		json_t *mo = json_object_get(ms, metric_name(m));

		if (!mo)
			continue;
		if (!principal_metric(p, m)) {
			lbad(e, NULL, "out of memory");
			goto out;
		}
		snprintf(path, sizeof(path), "metrics.%s", metric_name(m));
		if (load_metric(mo, p->m[m], path, e))
			goto out;
	}
	p->aggregate = json_is_true(agg);
	rc = 0;
out:
	free(idbuf);
	return rc;
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
	uint64_t seq = 0, watch = 0;
	size_t i;

	snprintf(e->where, sizeof(e->where), "top level");
	if (!json_is_object(st) || !json_is_string(json_object_get(st, "format")) ||
	    strcmp(json_string_value(json_object_get(st, "format")), STATE_FORMAT))
		return lbad(e, NULL, "not a vigie detection state file");
	/* version 1 also kept peer groups, now rebuilt from their members */
	if (version != 1 && version != 2)
		return lbad(e, "version", version > 2 ? "written by a newer vigie (this one reads "
							"1 and 2)" : "unsupported version");
	if (!json_is_array(ps))
		return lbad(e, "principals", "must be an array");
	if (get_u64(st, "episode_seq", &seq, "", e) || get_u64(st, "watch_start", &watch, "", e))
		return -1;
	d->episode_seq = seq;
	if (watch)
		d->watch_start_ns = watch;
	json_array_foreach(ps, i, v) {
		snprintf(e->where, sizeof(e->where), "principals[%zu]", i);
		if (load_principal(d, v, e))
			return -1;
	}
	group_rebuild(d);
	return 0;
}

/* FILE.tmp.PID left by a save that was killed: removed when PID is gone. */
static void remove_stale_temporaries(const char *path)
{
	char pattern[4200];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s.tmp.*", path);
	if (glob(pattern, GLOB_NOSORT, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *pid = g.gl_pathv[i] + strlen(path) + 5;
		char *end;
		long n = strtol(pid, &end, 10);

		if (*pid && !*end && n > 0 && (n == getpid() || kill((pid_t)n, 0) == 0 ||
					       errno != ESRCH))
			continue;
		if (*pid && !*end && n > 0 && unlink(g.gl_pathv[i]) == 0)
			log_info("detection state: removed '%s', left by a save that was stopped",
				 g.gl_pathv[i]);
	}
	globfree(&g);
}

static int load_file(struct detector *d, const char *path)
{
	json_error_t jerr;
	struct lerr e = { .file = path };
	json_t *st;
	int rc;

	st = json_load_file(path, 0, &jerr);
	if (!st) {
		log_error("detection state '%s': line %d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	rc = load_json(d, st, &e);
	json_decref(st);
	if (rc)
		reset(d); /* all or nothing */
	return rc;
}

int detector_state_load(struct detector *d, const char *path)
{
	char why[96];

	remove_stale_temporaries(path);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 1;
	/* a directory, a device or a pipe (which would block the read) is
	 * nobody's state, and never set aside (renamed) as a bad one */
	if (safe_replaceable(path, why, sizeof(why))) {
		log_error("detection state '%s' is %s: not read", path, why);
		return -2;
	}
	return load_file(d, path);
}

int detector_state_recover(struct detector *d, const char *path)
{
	char prev[4096], bad[4200], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc = detector_state_load(d, path);

	if (rc == 0)
		return 0;
	snprintf(prev, sizeof(prev), "%s.prev", path);
	if (rc == -2)
		return -1; /* not a file of ours: left where it is, .prev too */
	if (rc < 0) {
		/* kept for a person to repair, never overwritten by the next save */
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(bad, sizeof(bad), "%s.bad-%s", path, ts);
		for (int i = 1; access(bad, F_OK) == 0 && i < 1000; i++)
			snprintf(bad, sizeof(bad), "%s.bad-%s.%d", path, ts, i);
		if (rename(path, bad) == 0)
			log_warn("detection state: '%s' refused, kept as '%s'", path, bad);
		else
			log_error("detection state: cannot set aside the refused '%s': %s", path,
				  strerror(errno));
	}
	if (access(prev, F_OK) != 0)
		return rc;
	if (load_file(d, prev) == 0) {
		log_warn("detection state: starting from the previous save '%s'", prev);
		return 2;
	}
	return -1;
}

int detector_state_transfer(struct detector *from, struct detector *to)
{
	struct lerr e = { .file = "(reload)" };
	json_t *st = detect_state_json(from);
	int rc;

	if (!st)
		return -1;
	rc = load_json(to, st, &e);
	json_decref(st);
	if (rc)
		reset(to);
	return rc;
}
