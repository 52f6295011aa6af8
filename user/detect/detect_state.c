// SPDX-License-Identifier: GPL-2.0
/*
 * Detection state file: learned baselines, the days that cap them, when
 * each principal was first seen (what was ever seen: destinations,
 * processes, accounts) and the current windows, as JSON, so that a restart
 * keeps what was learned. Peer groups are derived from their members and
 * rebuilt at load.
 * Written atomically: temporary file in the same directory, fsync, the
 * previous file kept as FILE.prev (a hard link), rename, fsync of the
 * directory. Open episodes are not kept. Loading: detect_state_load.c.
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
#include "base/event.h"
#include "base/log.h"
#include "base/safefile.h"

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

/* A principal's id is whatever a process named itself: "id" when it is
 * valid UTF-8, else "id_hex", its bytes in hex, so that it comes back
 * byte for byte (and "id" with U+FFFD for a reader). */
static json_t *id_json(json_t *o, const char *id)
{
	json_t *s = json_string(id);
	size_t n = strlen(id);
	char *hex;

	if (s)
		return json_object_set_new(o, "id", s) ? NULL : o;
	hex = malloc(2 * n + 1);
	if (!hex)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)id[i]);
	json_object_set_new(o, "id", json_string_safe(id));
	json_object_set_new(o, "id_hex", json_string(hex));
	free(hex);
	return o;
}

static json_t *principal_json(const struct principal *p)
{
	json_t *ms = json_object(), *o;

	for (int m = 0; m < M_MAX; m++)
		if (p->m[m])
			json_object_set_new(ms, metric_name(m), metric_json(p->m[m]));
	o = json_pack("{ss sI sI sb so}", "kind", principal_kind_name(p->kind), "uid",
		      (json_int_t)p->uid, "last_seen", (json_int_t)p->last_seen_ns, "aggregate",
		      (int)p->aggregate, "metrics", ms);
	if (o && !id_json(o, p->id)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int cmp_principal(const void *a, const void *b)
{
	const struct principal *x = *(const struct principal *const *)a;
	const struct principal *y = *(const struct principal *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->id, y->id);
}

json_t *detect_state_json(struct detector *d)
{
	struct principal **sorted = malloc((d->n_all + 1) * sizeof(*sorted));
	json_t *ps = json_array();

	if (!sorted)
		return NULL;
	if (d->n_all)
		memcpy(sorted, d->all, d->n_all * sizeof(*sorted));
	qsort(sorted, d->n_all, sizeof(*sorted), cmp_principal);
	for (size_t i = 0; i < d->n_all; i++) {
		json_t *p = principal_json(sorted[i]);

		if (!p || json_array_append_new(ps, p)) {
			/* never a silent drop: the save fails, the file stays */
			log_error("cannot save principal %s '%s': out of memory",
				  principal_kind_name(sorted[i]->kind), sorted[i]->id);
			free(sorted);
			json_decref(ps);
			return NULL;
		}
	}
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
	char tmp[4096], why[96];
	json_t *st = detect_state_json(d);
	int fd = -1, rc = -1;
	FILE *f = NULL;

	if (!st) {
		log_error("cannot save detection state '%s': out of memory", path);
		return -1;
	}
	if (safe_replaceable(path, why, sizeof(why))) {
		log_error("cannot save detection state '%s': it is %s, not replaced", path, why);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	unlink(tmp); /* ours from a killed save, or planted: never followed */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
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
	/* the previous good state stays as FILE.prev: one bad write never
	 * costs the baselines */
	if (fclose(f) == 0) {
		char prev[4096];

		snprintf(prev, sizeof(prev), "%s.prev", path);
		if (safe_replaceable(prev, why, sizeof(why)))
			log_warn("detection state: '%s' is %s, not replaced", prev, why);
		else if (unlink(prev) && errno != ENOENT)
			log_warn("detection state: cannot replace '%s': %s", prev, strerror(errno));
		else if (link(path, prev) && errno != ENOENT)
			log_warn("detection state: cannot keep '%s': %s", prev, strerror(errno));
		f = NULL;
	}
	if (f || rename(tmp, path)) {
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
