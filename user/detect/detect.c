// SPDX-License-Identifier: GPL-2.0
/*
 * Detection core: accounting of samples into the windows of their
 * principals, learning from closed windows, normal and the alert rule,
 * evaluation, time (docs/detection.md). Principals live in principal.c,
 * episodes and rate limits in episode.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect_int.h"
#include "detect/episode.h"

/* ---- learning ---- */

static void learn(struct detector *d, struct principal *p, int m, int w, uint64_t v, int32_t day)
{
	lhist_add(&p->m[m]->hist[w], v, day, d->day_factor);
	/* a newcomer learns its first burst, but does not vote with it in its
	 * group while the episode lasts: a storm of new accounts cannot teach
	 * the group (docs/detection.md) */
	if (!p->m[m]->ep)
		group_update(d, p, m, w);
}

void detect_roll(struct detector *d, struct principal *p, int m, uint64_t ts)
{
	struct metric_state *ms = p->m[m];
	int64_t minute = (int64_t)(ts / NS_PER_MIN);
	int32_t day = (int32_t)(ts / NS_PER_DAY);
	int64_t old = ms->win.cur_min;
	struct mwin_closed c;

	if (minute == old)
		return;
	if (minute < ms->win.cur_min) {
		/* Time went back for this window (a state file newer than the
		 * trace replayed on it): its volumes mean nothing any more;
		 * what was learned is kept. */
		mwin_init(&ms->win);
	}
	mwin_roll(&ms->win, minute, &c);
	if (c.minute_closed && !c.minute_tainted)
		learn(d, p, m, W_1M, c.minute, day);
	if (c.hour_closed && !c.hour_tainted)
		learn(d, p, m, W_1H, c.hour, day);
	if (c.day_closed && !c.day_tainted)
		learn(d, p, m, W_24H, c.day, day);
	if (old >= 0 && minute / 1440 != old / 1440 && c.day_closed)
		lag_record_day(d, ms, (int32_t)(old / 1440));
}

/* ---- evaluation ---- */

static void evaluate_metric(struct detector *d, struct principal *p, int m)
{
	struct metric_state *ms = p->m[m];
	struct alert_info a = { 0 };

	detect_roll(d, p, m, d->now_ns);
	if (p->allowed || p->aggregate || !detect_over_threshold(d, p, m, &a))
		return;
	if (ms->ep)
		ms->ep->last_over_ns = d->now_ns;
	if (!ms->ep || ms->ep->alerts == 0) {
		a.reason = "new"; /* first alert, or retry of a suppressed one */
	} else if (a.level > ms->ep->level) {
		a.reason = "severity";
	} else if (ms->ep->total >= 2 * ms->ep->total_at_alert && ms->ep->total > 0) {
		a.reason = "volume";
	} else {
		return;
	}
	detect_queue_alert(d, p, m, &a);
}

/* Dirty principals are evaluated in creation order (the order of the
 * input): deterministic, and a bitmap walk instead of a sort per tick. */
static void evaluate_pending(struct detector *d)
{
	if (!d->n_dirty)
		return;
	for (size_t w = 0; w < d->dirty_words; w++) {
		while (d->dirty_bits[w]) {
			int bit = __builtin_ctzll(d->dirty_bits[w]);
			struct principal *p = d->all[w * 64 + (size_t)bit];

			d->dirty_bits[w] &= d->dirty_bits[w] - 1;
			p->in_dirty = false;
			for (int m = 0; m < M_MAX; m++) {
				if (p->m[m] && p->m[m]->dirty) {
					p->m[m]->dirty = false;
					evaluate_metric(d, p, m);
				}
			}
		}
	}
	d->n_dirty = 0;
	detect_send_queued(d);
}

/* ---- time ---- */

/* Open episodes: rolled to now and checked against their threshold; one
 * quiet for episode_quiet_s is closed (episode.c). */
static void check_episodes(struct detector *d)
{
	for (size_t i = 0; i < d->n_open;) {
		struct episode *ep = d->open[i];
		struct alert_info a = { 0 };

		detect_roll(d, ep->p, ep->metric, d->now_ns);
		if (detect_over_threshold(d, ep->p, ep->metric, &a))
			ep->last_over_ns = d->now_ns;
		if ((double)(d->now_ns - ep->last_over_ns) < d->cfg.episode_quiet_s * 1e9) {
			i++;
			continue;
		}
		detect_close_episode(d, i, "back_to_normal");
	}
}

static void advance_to(struct detector *d, uint64_t t)
{
	uint64_t old = d->now_ns;

	if (!d->started) {
		d->started = true;
		d->now_ns = t;
		if (!d->watch_start_ns)
			d->watch_start_ns = t;
		return;
	}
	if (t <= old)
		return;
	evaluate_pending(d);
	d->now_ns = t;
	if (t / NS_PER_MIN != old / NS_PER_MIN) {
		detect_report_suppressed(d);
		check_episodes(d);
	}
	if (t / NS_PER_DAY != old / NS_PER_DAY)
		principals_expire_idle(d);
}

void detector_advance(struct detector *d, uint64_t now_ns)
{
	advance_to(d, now_ns);
	evaluate_pending(d);
}

void detector_finish(struct detector *d, uint64_t now_ns)
{
	detector_advance(d, now_ns);
	detect_report_suppressed(d);
	while (d->n_open)
		detect_close_episode(d, 0, "end_of_input");
}

static void mark_dirty(struct detector *d, struct principal *p)
{
	size_t w = p->index / 64;

	if (p->in_dirty)
		return;
	if (w >= d->dirty_words) {
		size_t nw = d->dirty_words ? d->dirty_words * 2 : 64;
		uint64_t *nb;

		while (nw <= w)
			nw *= 2;
		nb = realloc(d->dirty_bits, nw * sizeof(*nb));
		if (!nb)
			return;
		memset(nb + d->dirty_words, 0, (nw - d->dirty_words) * sizeof(*nb));
		d->dirty_bits = nb;
		d->dirty_words = nw;
	}
	d->dirty_bits[w] |= 1ull << (p->index % 64);
	p->in_dirty = true;
	d->n_dirty++;
}

static void account(struct detector *d, struct principal *p, const struct trace_sample *s,
		    const uint64_t *vals, const char *proc_id, const uint64_t *hashes)
{
	p->last_seen_ns = s->ts_ns;
	if (p->uid < 0 && s->uid >= 0)
		p->uid = s->uid;
	if (p->kind == PK_APP_USER && s->db_user[0] && (!p->db_user || strcmp(p->db_user, s->db_user))) {
		free(p->db_user);
		p->db_user = strdup(s->db_user); /* NULL: told no account */
	}
	for (int m = 0; m < M_MAX; m++) {
		struct metric_state *ms;

		if (!vals[m] || !(ms = principal_metric(p, m)))
			continue;
		detect_roll(d, p, m, s->ts_ns);
		mwin_add(&ms->win, s->ts_ns, vals[m]);
		if (!ms->first_ns)
			ms->first_ns = s->ts_ns;
		if (ms->ep) {
			ms->ep->total = sat_add(ms->ep->total, vals[m]);
			ms->ep->last_sample_ns = s->ts_ns;
			if (!ms->ep->newcomer)
				ms->win.taint_min = ms->win.taint_hour = ms->win.taint_day = true;
		}
		ms->dirty = true;
	}
	mark_dirty(d, p);
	principal_contrib_decay(p, s->ts_ns);
	if (p->kind != PK_PROCESS && proc_id[0])
		principal_contrib_add(p->procs, &p->last_proc, proc_id, hashes[PK_PROCESS], s->pid, vals);
	if (p->kind != PK_PEER && s->peer[0])
		principal_contrib_add(p->peers, &p->last_peer, s->peer, hashes[PK_PEER], -1, vals);
}

/* Appends the n bytes of a at p: the end. */
static char *put(char *p, const char *a, size_t n)
{
	memcpy(p, a, n);
	return p + n;
}

/* Every sample goes through it (replay reads a million a second): copies,
 * no formatting but for a user known by uid only. The buffers hold the
 * longest fields of a trace sample (trace.h). */
void principal_ids_of(const struct trace_sample *s, struct principal_ids *out)
{
	const char *exe = s->exe[0] ? s->exe : s->comm, *user;
	size_t ne = strnlen(exe, TRACE_EXE_LEN - 1), nu, na = strnlen(s->app_user, TRACE_USER_LEN - 1);
	char *p;

	if (s->user[0])
		*put(out->user, s->user, strnlen(s->user, TRACE_USER_LEN - 1)) = '\0';
	else if (s->uid >= 0)
		snprintf(out->user, sizeof(out->user), "uid:%lld", (long long)s->uid);
	else
		out->user[0] = '\0';
	user = out->user[0] ? out->user : "?";
	nu = strlen(user);
	p = out->process;
	if (ne) {
		p = put(p, exe, ne);
		p = put(p, "@", 1);
		p = put(p, user, nu);
	}
	*p = '\0';
	p = out->app_user;
	if (na) {
		p = put(p, s->app_user, na);
		if (s->app_name[0]) {
			p = put(p, "@", 1);
			p = put(p, s->app_name, strnlen(s->app_name, TRACE_USER_LEN - 1));
		}
	}
	*p = '\0';
	out->id[PK_USER] = out->user;
	out->id[PK_DB_USER] = s->db_user;
	out->id[PK_PROCESS] = out->process;
	out->id[PK_PEER] = s->peer;
	out->id[PK_APP_USER] = out->app_user;
}

void detector_feed(struct detector *d, const struct trace_sample *s)
{
	uint64_t vals[M_MAX] = { s->db_rows, s->db_bytes, s->dbfile_bytes, s->egress_bytes };
	struct principal_ids pi;
	const char *const *ids = pi.id;
	uint64_t hashes[PK_MAX];

	if (d->started && s->ts_ns < d->now_ns)
		return; /* out of order: the trace reader already rejects these */
	advance_to(d, s->ts_ns);
	d->sum.samples++;
	if (!d->cfg.enabled || !(vals[0] | vals[1] | vals[2] | vals[3]))
		return;
	principal_ids_of(s, &pi);
	for (int k = 0; k < PK_MAX; k++)
		hashes[k] = principal_hash((enum principal_kind)k, ids[k]);
	for (int k = 0; k < PK_MAX; k++) {
		struct principal *p;

		if (!d->cfg.kinds[k] || !ids[k][0])
			continue;
		p = principal_lookup(d, (enum principal_kind)k, ids[k], hashes[k],
			   k == PK_USER || k == PK_PROCESS ? s->uid : -1, true);
		if (!p)
			continue;
		/* the database server's own user and executable serve every
		 * account: judged on their own history only */
		if (s->db_user[0] && (k == PK_USER || k == PK_PROCESS) && !p->aggregate) {
			group_leave(d, p);
			p->aggregate = true;
		}
		account(d, p, s, vals, pi.process, hashes);
	}
}

/* ---- life cycle ---- */

struct detector *detector_new(const struct detect_config *cfg, detect_emit_fn emit, void *ctx)
{
	struct detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->emit = emit;
	d->ctx = ctx;
	d->day_factor = pow(0.5, 1.0 / cfg->half_life_days);
	d->global_min = -1;
	d->groups = calloc((size_t)(cfg->n_profiles + 1) * PK_MAX, sizeof(*d->groups));
	if (!d->groups) {
		free(d);
		return NULL;
	}
	return d;
}

void detector_free(struct detector *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_all; i++)
		principal_free(d->all[i]);
	groups_free(d);
	free(d->table);
	free(d->all);
	free(d->dirty_bits);
	free(d->open);
	free(d->pend);
	free(d);
}

void detector_summary(const struct detector *d, struct detect_summary *out)
{
	*out = d->sum;
	out->principals = d->n_all;
	out->episodes_open = d->n_open;
}

