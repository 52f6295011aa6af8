// SPDX-License-Identifier: GPL-2.0
/*
 * Containment events (docs/containment.md): one per action, skip and
 * release. event.kind "alert", event.category ["intrusion_detection"],
 * event.action "containment", event.dataset "vigie.containment";
 * event.type ["denied"] for what was stopped, ["allowed"] for a release,
 * ["info"] for what dry-run would do and for skips; event.outcome
 * success, failure, or unknown (dry-run: nothing was tried).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/event.h"
#include "contain/contain_int.h"

static json_t *new_event(struct containment *c, uint64_t now_real, const char *type,
			 const char *outcome, const char *action)
{
	json_t *ev = event_new(now_real, "alert", "intrusion_detection", type, "containment");

	if (!ev)
		return NULL;
	event_set(ev, "event.dataset", json_string("vigie.containment"));
	event_set(ev, "event.outcome", json_string(outcome));
	event_set(ev, "vigie.containment.mode", json_string(contain_mode_name(c->cfg->mode)));
	event_set(ev, "vigie.containment.action", json_string(action));
	return ev;
}

static void set_principal(json_t *ev, enum principal_kind kind, const char *id,
			  const char *episode)
{
	event_set(ev, "vigie.principal.kind", json_string(principal_kind_name(kind)));
	event_set(ev, "vigie.principal.id", json_string_safe(id));
	if (episode && *episode)
		event_set(ev, "vigie.episode.id", json_string_safe(episode));
	if (kind == PK_DB_USER || kind == PK_USER)
		event_add_unique(ev, "related.user", id);
}

static void set_until(json_t *ev, uint64_t until_real)
{
	char ts[64];

	if (until_real && format_rfc3339(until_real, ts, sizeof(ts)))
		event_set(ev, "vigie.containment.until", json_string(ts));
}

static void set_addr(json_t *ev, const struct contain_addr *addr)
{
	if (!addr)
		return;
	event_set(ev, "destination.ip", json_string(addr->text));
	event_add_unique(ev, "related.ip", addr->text);
}

static void emit(struct containment *c, json_t *ev, const char *msg)
{
	event_set(ev, "message", json_string_safe(msg));
	event_relate(ev);
	c->emit(ev, c->emit_ctx);
}

static const char *what_done(const char *action, bool dry)
{
	if (!strcmp(action, "quarantine-sessions"))
		return dry ? "would end its new sessions at login" : "its new sessions end at login";
	if (!strcmp(action, "end-sessions"))
		return dry ? "would end its sessions" : "ended its sessions";
	if (!strcmp(action, "block-address"))
		return dry ? "would refuse connections and datagrams to" :
			     "connections and datagrams refused to";
	if (!strcmp(action, "end-connections"))
		return dry ? "would end the TCP connections to" : "ended the TCP connections to";
	if (!strcmp(action, "stop-process"))
		return dry ? "would stop (SIGSTOP)" : "stopped (SIGSTOP)";
	return action;
}

void contain_emit_action(struct containment *c, const struct contain_alert *a, const char *action,
			 int err, json_t *detail, uint64_t until_real,
			 const struct contain_addr *addr)
{
	bool dry = c->cfg->mode != CONTAIN_ENFORCE;
	const char *outcome = dry ? "unknown" : err ? "failure" : "success";
	json_t *ev = new_event(c, a->now_real, dry || err ? "info" : "denied", outcome, action);
	const char *key;
	json_t *v, *pids;
	char msg[512];

	c->st.actions++;
	if (err && !dry)
		c->st.failures++;
	if (!ev) {
		json_decref(detail);
		return;
	}
	set_principal(ev, a->kind, a->id, a->episode);
	event_set(ev, "vigie.severity", json_string(a->severity_name));
	event_set(ev, "vigie.metric", json_string(metric_name(a->metric)));
	set_until(ev, until_real);
	set_addr(ev, addr);
	json_object_foreach(detail, key, v) {
		snprintf(msg, sizeof(msg), "vigie.containment.%s", key);
		event_set(ev, msg, json_incref(v));
	}
	pids = json_object_get(detail, "pids");
	if (json_array_size(pids) == 1)
		event_set(ev, "process.pid", json_incref(json_array_get(pids, 0)));
	if (err && !dry) {
		event_set(ev, "error.message", json_string(strerror(-err)));
		if (err == -ENOKEY)
			event_set(ev, "vigie.containment.reason",
				  json_string("nothing a backend reports names this user "
					      "(databases.app_user)"));
		else if (err == -ENOTCONN)
			event_set(ev, "vigie.containment.reason",
				  json_string(addr ? "the address block is not loaded" :
						     "PostgreSQL row counting is not running"));
	}
	snprintf(msg, sizeof(msg), "containment (%s) of %s %s: %s%s%s%s%s",
		 contain_mode_name(c->cfg->mode), principal_kind_name(a->kind), a->id,
		 what_done(action, dry), addr ? " " : "", addr ? addr->text : "",
		 err && !dry ? ", failed: " : "", err && !dry ? strerror(-err) : "");
	json_decref(detail);
	emit(c, ev, msg);
}

void contain_emit_skip(struct containment *c, const struct contain_alert *a, const char *reason,
		       const char *target)
{
	json_t *ev = new_event(c, a->now_real, "info", "failure", "skip");
	char msg[512];

	if (!ev)
		return;
	set_principal(ev, a->kind, a->id, a->episode);
	event_set(ev, "vigie.containment.reason", json_string(reason));
	if (target)
		event_set(ev, "vigie.containment.target", json_string_safe(target));
	snprintf(msg, sizeof(msg), "containment (%s) of %s %s%s%s: not done (%s)",
		 contain_mode_name(c->cfg->mode), principal_kind_name(a->kind), a->id,
		 target ? " to " : "", target ? target : "", reason);
	emit(c, ev, msg);
}

void contain_emit_release(struct containment *c, const struct quarantine *q, int err,
			  uint64_t now_real, const char *why)
{
	json_t *ev = new_event(c, now_real, q->dry_run ? "info" : "allowed",
			       q->dry_run ? "unknown" : err ? "failure" : "success", "release");
	char msg[512];

	if (!ev)
		return;
	if (q->what == Q_SESSIONS) {
		set_principal(ev, q->kind, q->id, q->episode);
	} else {
		if (q->episode[0])
			event_set(ev, "vigie.episode.id", json_string_safe(q->episode));
		set_addr(ev, &q->addr);
	}
	event_set(ev, "vigie.containment.reason", json_string(why));
	/* when it ended in the kernel (this event comes at the next tick) */
	set_until(ev, q->until_real < now_real ? q->until_real : now_real);
	if (err)
		event_set(ev, "error.message", json_string(strerror(-err)));
	snprintf(msg, sizeof(msg), "containment (%s): quarantine of %s %s released (%s)",
		 contain_mode_name(c->cfg->mode),
		 q->what == Q_SESSIONS ? principal_kind_name(q->kind) : "address", q->id, why);
	emit(c, ev, msg);
}

void contain_emit_kernel_end(struct containment *c, const struct quarantine *q,
			     uint64_t now_real)
{
	json_t *ev = new_event(c, now_real, "denied", "success", "end-sessions");
	json_t *pids = json_array();
	char msg[512];

	if (!ev) {
		json_decref(pids);
		return;
	}
	set_principal(ev, q->kind, q->id, q->episode);
	event_set(ev, "vigie.containment.by", json_string("quarantine"));
	event_set_count(ev, "vigie.containment.sessions", q->ended);
	for (uint32_t i = 0; i < q->n_ended_pids; i++)
		json_array_append_new(pids, json_integer(q->ended_pids[i]));
	if (q->ended == 1 && q->n_ended_pids == 1)
		event_set(ev, "process.pid", json_integer(q->ended_pids[0]));
	event_set(ev, "vigie.containment.pids", pids);
	set_until(ev, q->until_real);
	snprintf(msg, sizeof(msg), "containment (%s) of %s %s: %llu new session%s ended by its "
		 "quarantine", contain_mode_name(c->cfg->mode), principal_kind_name(q->kind), q->id,
		 (unsigned long long)q->ended, q->ended == 1 ? "" : "s");
	emit(c, ev, msg);
}
