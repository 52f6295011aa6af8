// SPDX-License-Identifier: GPL-2.0
/*
 * Containment policy (contain.h, docs/containment.md): from an alert to
 * the least actions that stop its flow, within the limits (severity,
 * kinds, metrics, never lists, rate), then quarantines and their release.
 * Pure: time comes from the callers, actions go through contain_ops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "contain/contain.h"
#include "contain/contain_int.h"

#define HOUR_NS 3600000000000ull

static int severity_level(const char *s)
{
	if (!s)
		return 0;
	return !strcmp(s, "critical") ? 3 : !strcmp(s, "high") ? 2 : !strcmp(s, "medium") ? 1 : 0;
}

static int kind_of(const char *s)
{
	for (int k = 0; s && k < PK_MAX; k++)
		if (!strcmp(s, principal_kind_name((enum principal_kind)k)))
			return k;
	return -1;
}

static int metric_of(const char *s)
{
	for (int m = 0; s && m < M_MAX; m++)
		if (!strcmp(s, metric_name((enum metric)m)))
			return m;
	return -1;
}

static const char *jget_str(const json_t *o, const char *a, const char *b)
{
	json_t *x = json_object_get(o, a);

	return json_string_value(b ? json_object_get(x, b) : x);
}

struct containment *containment_new(const struct contain_config *cfg,
				    const struct detect_config *dcfg, const struct contain_ops *ops,
				    void *ops_ctx, contain_emit_fn emit, void *emit_ctx)
{
	struct containment *c;

	if (!cfg || cfg->mode == CONTAIN_OFF || (!ops && cfg->mode == CONTAIN_ENFORCE))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = cfg;
	c->dcfg = dcfg;
	c->ops = ops;
	c->ops_ctx = ops_ctx;
	c->emit = emit;
	c->emit_ctx = emit_ctx;
	return c;
}

void containment_free(struct containment *c)
{
	if (!c)
		return;
	free(c->q);
	free(c);
}

/* contain.never ("kind:glob") or the detection's allow list and
 * profiles with "alert": false. */
bool contain_never(const struct containment *c, enum principal_kind kind, const char *id)
{
	char key[320];

	snprintf(key, sizeof(key), "%s:%s", principal_kind_name(kind), id);
	for (int i = 0; i < c->cfg->n_never; i++)
		if (fnmatch(c->cfg->never[i], key, 0) == 0)
			return true;
	return c->dcfg && detect_allowed(c->dcfg, kind, id, -1);
}

struct quarantine *contain_find(struct containment *c, enum contain_what what,
				enum principal_kind kind, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->q[i].what == what && (what == Q_ADDRESS || c->q[i].kind == kind) &&
		    !strcmp(c->q[i].id, id))
			return &c->q[i];
	return NULL;
}

static struct quarantine *add_quarantine(struct containment *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct quarantine *q = realloc(c->q, cap * sizeof(*q));

		if (!q)
			return NULL;
		c->q = q;
		c->cap = cap;
	}
	memset(&c->q[c->n], 0, sizeof(c->q[0]));
	return &c->q[c->n++];
}

/* Alerts acted on in the last hour (a ring of their times). */
static bool over_rate(struct containment *c, uint64_t now)
{
	uint32_t n = 0;

	for (size_t i = 0; i < CONTAIN_RATE_RING; i++)
		if (c->acted_at[i] && now - c->acted_at[i] < HOUR_NS)
			n++;
	return n >= c->cfg->max_actions_per_hour;
}

static void note_acted(struct containment *c, uint64_t now)
{
	c->acted_at[c->acted_next] = now ? now : 1;
	c->acted_next = (c->acted_next + 1) % CONTAIN_RATE_RING;
	c->st.alerts_acted++;
}

/* ---- actions ---- */

static void act_sessions(struct containment *c, struct contain_alert *a)
{
	bool enforce = c->cfg->mode == CONTAIN_ENFORCE;
	uint64_t until = a->now_mono + (uint64_t)(c->cfg->quarantine_s * 1e9);
	struct quarantine *q;
	json_t *detail;
	int err = 0;

	/* the quarantine first: a thief reconnecting now is ended at login */
	q = add_quarantine(c);
	if (q) {
		q->what = Q_SESSIONS;
		q->kind = a->kind;
		snprintf(q->id, sizeof(q->id), "%s", a->id);
		snprintf(q->episode, sizeof(q->episode), "%s", a->episode);
		q->until_mono = until;
		q->until_real = a->now_real + (uint64_t)(c->cfg->quarantine_s * 1e9);
		q->dry_run = !enforce;
		err = enforce ? c->ops->guard_sessions(c->ops_ctx, a->kind, a->id, until, true) : 0;
		if (err)
			c->n--; /* not in force: nothing to release */
	} else {
		err = -ENOMEM;
	}
	contain_emit_action(c, a, "quarantine-sessions", err, NULL, q && !err ? q->until_real : 0,
			    NULL);

	detail = json_object();
	if (a->kind == PK_DB_USER) {
		err = enforce ? c->ops->end_db_sessions(c->ops_ctx, a->id, detail) : 0;
		contain_emit_action(c, a, "end-sessions", err, detail, 0, NULL);
		return;
	}
	json_decref(detail);
	/* an application user: the backends that served it in the alert */
	for (size_t i = 0; i < a->n_pids; i++) {
		detail = json_object();
		json_object_set_new(detail, "pids", json_pack("[I]", (json_int_t)a->pids[i]));
		err = enforce ? c->ops->end_app_session(c->ops_ctx, a->pids[i], a->id, detail) : 0;
		contain_emit_action(c, a, "end-sessions", err, detail, 0, NULL);
	}
}

static void act_peer(struct containment *c, struct contain_alert *a, const struct contain_addr *ad)
{
	bool enforce = c->cfg->mode == CONTAIN_ENFORCE;
	uint64_t until = a->now_mono + (uint64_t)(c->cfg->quarantine_s * 1e9);
	struct quarantine *q;
	json_t *detail;
	int err = 0;

	if (contain_find(c, Q_ADDRESS, PK_PEER, ad->text))
		return; /* blocked already */
	/* the block first: what the destroy ends cannot reconnect */
	q = add_quarantine(c);
	if (!q) {
		contain_emit_action(c, a, "block-address", -ENOMEM, NULL, 0, ad);
		return;
	}
	q->what = Q_ADDRESS;
	q->kind = PK_PEER;
	q->addr = *ad;
	snprintf(q->id, sizeof(q->id), "%s", ad->text);
	snprintf(q->episode, sizeof(q->episode), "%s", a->episode);
	q->until_mono = until;
	q->until_real = a->now_real + (uint64_t)(c->cfg->quarantine_s * 1e9);
	q->dry_run = !enforce;
	err = enforce ? c->ops->block_address(c->ops_ctx, ad, until, true) : 0;
	uint64_t until_real = q->until_real;

	if (err)
		c->n--;
	contain_emit_action(c, a, "block-address", err, NULL, err ? 0 : until_real, ad);
	detail = json_object();
	err = enforce ? c->ops->end_connections(c->ops_ctx, ad, detail) : 0;
	contain_emit_action(c, a, "end-connections", err, detail, 0, ad);
}

static void act_peers(struct containment *c, struct contain_alert *a)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		struct contain_addr ad;

		if (contain_parse_peer(a->peers[i], &ad))
			continue;
		if (contain_never(c, PK_PEER, a->peers[i]) || contain_never(c, PK_PEER, ad.text)) {
			c->st.skipped_never++;
			contain_emit_skip(c, a, "never", ad.text);
			continue;
		}
		act_peer(c, a, &ad);
	}
}

static void act_processes(struct containment *c, struct contain_alert *a)
{
	bool enforce = c->cfg->mode == CONTAIN_ENFORCE;
	json_t *detail;
	int err;

	if (a->kind == PK_PROCESS) {
		detail = json_object();
		err = enforce ? c->ops->stop_process(c->ops_ctx, 0, a->id, detail) : 0;
		contain_emit_action(c, a, "stop-process", err, detail, 0, NULL);
		return;
	}
	for (size_t i = 0; i < a->n_pids; i++) {
		detail = json_object();
		json_object_set_new(detail, "pids", json_pack("[I]", (json_int_t)a->pids[i]));
		err = enforce ? c->ops->stop_process(c->ops_ctx, a->pids[i], NULL, detail) : 0;
		contain_emit_action(c, a, "stop-process", err, detail, 0, NULL);
	}
}

/* ---- from an alert to actions ---- */

static void read_tops(const json_t *alert, struct contain_alert *a)
{
	json_t *v = json_object_get(alert, "vigie"), *x;
	size_t i;

	json_array_foreach(json_object_get(v, "top_processes"), i, x) {
		json_int_t pid = json_integer_value(json_object_get(x, "pid"));

		if (pid > 0 && pid <= 0x7fffffff && a->n_pids < CONTAIN_MAX_TARGETS)
			a->pids[a->n_pids++] = (uint32_t)pid;
	}
	json_array_foreach(json_object_get(v, "top_peers"), i, x) {
		const char *id = json_string_value(json_object_get(x, "id"));

		if (id && a->n_peers < CONTAIN_MAX_TARGETS)
			a->peers[a->n_peers++] = id;
	}
	if (a->kind == PK_PEER && a->n_peers < CONTAIN_MAX_TARGETS)
		a->peers[a->n_peers++] = a->id;
}

/* Nothing left to do: the sessions, or every address, in quarantine
 * already, and no process to stop. */
static bool already_contained(struct containment *c, const struct contain_alert *a, bool procs)
{
	if (a->kind == PK_DB_USER || a->kind == PK_APP_USER)
		return contain_find(c, Q_SESSIONS, a->kind, a->id) != NULL;
	if (a->metric == M_EGRESS_BYTES && a->n_peers && !procs) {
		for (size_t i = 0; i < a->n_peers; i++) {
			struct contain_addr ad;

			if (!contain_parse_peer(a->peers[i], &ad) &&
			    !contain_find(c, Q_ADDRESS, PK_PEER, ad.text))
				return false;
		}
		return true;
	}
	return false;
}

void containment_on_alert(struct containment *c, const json_t *alert, uint64_t now_mono_ns,
			  uint64_t now_real_ns)
{
	struct contain_alert a = { .now_mono = now_mono_ns, .now_real = now_real_ns };
	const json_t *v;
	bool sessions, peers, procs;
	int k, m;

	if (!c || !alert || strcmp(jget_str(alert, "event", "kind") ?: "", "alert"))
		return;
	v = json_object_get(alert, "vigie");
	a.severity_name = jget_str(v, "severity", NULL);
	a.severity = severity_level(a.severity_name);
	k = kind_of(jget_str(v, "principal", "kind"));
	m = metric_of(jget_str(v, "metric", NULL));
	a.id = jget_str(v, "principal", "id");
	a.episode = jget_str(v, "episode", "id") ?: "";
	if (a.severity < c->cfg->on_severity || k < 0 || m < 0 || !a.id || !c->cfg->kinds[k] ||
	    !c->cfg->metrics[m])
		return;
	a.kind = (enum principal_kind)k;
	a.metric = (enum metric)m;
	read_tops(alert, &a);
	sessions = c->cfg->end_sessions && (a.kind == PK_DB_USER || a.kind == PK_APP_USER);
	peers = c->cfg->block_peers && a.metric == M_EGRESS_BYTES && a.n_peers &&
		a.kind != PK_DB_USER && a.kind != PK_APP_USER;
	procs = c->cfg->stop_processes && (a.kind == PK_PROCESS || (a.kind == PK_USER && a.n_pids));
	if (already_contained(c, &a, procs))
		return;
	if (contain_never(c, a.kind, a.id)) {
		c->st.skipped_never++;
		contain_emit_skip(c, &a, "never", NULL);
		return;
	}
	if (!sessions && !peers && !procs) {
		/* by design (a client address, a database account's process)
		 * or by configuration: counted, not an event each */
		c->st.skipped_no_action++;
		return;
	}
	if (over_rate(c, now_mono_ns)) {
		c->st.skipped_rate++;
		contain_emit_skip(c, &a, "rate_limit", NULL);
		return;
	}
	note_acted(c, now_mono_ns);
	/* a process is stopped first: frozen as it is for an inspection,
	 * before the end of its connections makes it exit */
	if (procs)
		act_processes(c, &a);
	if (sessions)
		act_sessions(c, &a);
	if (peers)
		act_peers(c, &a);
}

/* ---- release ---- */

/* Say the sessions the kernel ended: the first ones at once, then at most
 * once a minute, and all that are left when forced (the release). */
static void flush_ended(struct containment *c, struct quarantine *q, uint64_t now_mono,
			uint64_t now_real, bool force)
{
	if (!q->ended)
		return;
	if (!force && q->ended_said_mono && now_mono - q->ended_said_mono < CONTAIN_ENDED_EVERY_NS)
		return;
	contain_emit_kernel_end(c, q, now_real);
	q->ended = 0;
	q->n_ended_pids = 0;
	q->ended_said_mono = now_mono ? now_mono : 1;
}

static void release(struct containment *c, size_t i, uint64_t now_real, const char *why)
{
	struct quarantine q = c->q[i];
	int err = 0;

	flush_ended(c, &q, 0, now_real, true);
	c->q[i] = c->q[--c->n];
	if (!q.dry_run) {
		if (q.what == Q_SESSIONS)
			err = c->ops->guard_sessions(c->ops_ctx, q.kind, q.id, 0, false);
		else
			err = c->ops->block_address(c->ops_ctx, &q.addr, 0, false);
	}
	contain_emit_release(c, &q, err, now_real, why);
}

void containment_tick(struct containment *c, uint64_t now_mono_ns, uint64_t now_real_ns)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		flush_ended(c, &c->q[i], now_mono_ns, now_real_ns, false);
	for (size_t i = 0; i < c->n;) {
		if (now_mono_ns >= c->q[i].until_mono)
			release(c, i, now_real_ns, "quarantine_ended");
		else
			i++;
	}
}

void containment_release_all(struct containment *c, uint64_t now_mono_ns, uint64_t now_real_ns)
{
	(void)now_mono_ns;
	while (c && c->n)
		release(c, c->n - 1, now_real_ns, "sensor_stopped");
}

void containment_kernel_ended(struct containment *c, uint32_t pid, enum principal_kind kind,
			      const char *id, uint64_t now_real_ns)
{
	struct quarantine *q;

	if (!c)
		return;
	c->st.kernel_ended++;
	if (!id)
		return; /* whose is not known: in the count only */
	q = contain_find(c, Q_SESSIONS, kind, id);
	if (!q) { /* released meanwhile: said at once */
		struct quarantine gone = { .what = Q_SESSIONS, .kind = kind, .ended = 1,
					   .n_ended_pids = 1, .ended_pids = { pid } };

		snprintf(gone.id, sizeof(gone.id), "%s", id);
		contain_emit_kernel_end(c, &gone, now_real_ns);
		return;
	}
	if (q->n_ended_pids < sizeof(q->ended_pids) / sizeof(q->ended_pids[0]))
		q->ended_pids[q->n_ended_pids++] = pid;
	q->ended++;
}

void containment_stats(const struct containment *c, struct contain_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	*st = c->st;
	st->active = c->n;
}
