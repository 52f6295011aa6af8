// SPDX-License-Identifier: GPL-2.0
/*
 * Containment in the running sensor (docs/containment.md): the policy of
 * contain/contain.c given the real operations. Database sessions through
 * PostgreSQL awareness (SIGTERM to backends, the kernel's session
 * quarantine), addresses through contain/netguard.c (cgroup hooks
 * refusing connections and datagrams) and contain/sockdestroy.c (socket
 * destroy), processes through contain/contain_proc.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/event.h"
#include "base/log.h"
#include "base/syslog_url.h"
#include "contain/contain.h"
#include "contain/contain_keys.h"
#include "contain/contain_proc.h"
#include "contain/netguard.h"
#include "contain/sockdestroy.h"
#include "sensor/sensor_contain.h"
#include "sensor/sensor_int.h"

#define GUARD_KEYS 2
/* How long a released quarantine's keys still name its principal: the
 * kernel may end a session just before the release removes its keys, and
 * that end is read from the ring buffer at the next tick, after it. */
#define GUARD_GRACE_NS (10ull * 1000000000ull)

/* The kernel keys installed for a principal's quarantine. */
struct guard_rec {
	enum principal_kind kind;
	char id[256];
	struct pgwire_guard_key keys[GUARD_KEYS];
	int n;
	uint64_t released_ns; /* monotonic; 0 while in force */
};

struct sensor_contain {
	struct sensor *s;
	struct contain_config cfg;
	struct containment *c;
	struct netguard *ng; /* enforce with block_peers */
	struct guard_rec *recs;
	size_t n_recs, cap_recs;
};

/* ---- operations ---- */

static int op_end_db_sessions(void *ctx, const char *db_user, json_t *detail)
{
	(void)ctx;
	return contain_end_db_sessions(db_user, detail);
}

struct serves_ctx {
	struct sensor *s;
	const char *app_user;
};

/* Does backend pid serve the application user now (its last reported
 * application_name and role read as it)? */
static bool serves(uint32_t pid, void *arg)
{
	struct serves_ctx *sc = arg;
	struct pg_param_value app, role;
	char user[APP_USER_MAX], an[APP_USER_MAX], id[2 * APP_USER_MAX + 2];
	struct identity *ident;
	const char *r;

	if (!pg_awareness_session(sc->s->pga, pid, &app, &role))
		return false;
	ident = identities_lookup(sc->s->ids, pid, 0);
	r = role.set && !role.unread && (!ident || !ident->db_user || strcmp(role.s, ident->db_user)) ?
		    role.s : NULL;
	if (!app_user_of(&sc->s->cfg->app_user, app.set && !app.unread ? app.s : NULL, r, user, an))
		return false;
	snprintf(id, sizeof(id), "%s%s%s", user, an[0] ? "@" : "", an);
	return !strcmp(id, sc->app_user);
}

static int op_end_app_session(void *ctx, uint32_t pid, const char *app_user, json_t *detail)
{
	struct sensor_contain *sc = ctx;
	struct serves_ctx a = { sc->s, app_user };

	return contain_end_backend(pid, serves, &a, detail);
}

static struct guard_rec *find_rec(struct sensor_contain *sc, enum principal_kind kind,
				  const char *id)
{
	for (size_t i = 0; i < sc->n_recs; i++)
		if (sc->recs[i].kind == kind && !strcmp(sc->recs[i].id, id))
			return &sc->recs[i];
	return NULL;
}

static int op_guard_sessions(void *ctx, enum principal_kind kind, const char *id,
			     uint64_t until_mono_ns, bool on)
{
	struct sensor_contain *sc = ctx;
	struct guard_rec *r = find_rec(sc, kind, id);
	int err = 0;

	if (!on) {
		if (!r)
			return 0;
		for (int i = 0; i < r->n; i++) {
			int e = pg_awareness_guard(sc->s->pga, &r->keys[i], 0);

			if (e)
				err = e;
		}
		/* kept a while, to name the ends still in the ring buffer */
		r->released_ns = sensor_monotonic_ns() ?: 1;
		return err;
	}
	if (r) {
		r->released_ns = 0;
	} else {
		if (sc->n_recs == sc->cap_recs) {
			size_t cap = sc->cap_recs ? 2 * sc->cap_recs : 16;
			struct guard_rec *nr = realloc(sc->recs, cap * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			sc->recs = nr;
			sc->cap_recs = cap;
		}
		r = &sc->recs[sc->n_recs];
		memset(r, 0, sizeof(*r));
		r->kind = kind;
		snprintf(r->id, sizeof(r->id), "%s", id);
		r->n = contain_guard_keys(&sc->s->cfg->app_user, kind, id, r->keys, GUARD_KEYS);
		if (!r->n)
			return -ENOKEY; /* nothing the backend reports names it */
		sc->n_recs++;
	}
	for (int i = 0; i < r->n; i++) {
		int e = pg_awareness_guard(sc->s->pga, &r->keys[i], until_mono_ns);

		if (e)
			err = e;
	}
	return err;
}

static int op_end_connections(void *ctx, const struct contain_addr *a, json_t *detail)
{
	struct sock_destroy_result r;
	uint32_t self[64];
	size_t n_self = sock_self_inodes(self, 64);
	int err;

	(void)ctx;
	err = sock_destroy_peer(a->family, a->addr, 0, self, n_self, &r);
	json_object_set_new(detail, "connections", json_integer(r.destroyed));
	if (r.n_inodes) {
		/* which ones: "LOCAL_PORT->ADDRESS:PORT" (the first 16) */
		json_t *socks = json_array();

		for (uint32_t i = 0; i < r.n_inodes; i++) {
			char one[96];

			snprintf(one, sizeof(one), a->family == AF_INET6 ? "%u->[%s]:%u" : "%u->%s:%u",
				 r.local_ports[i], a->text, r.remote_ports[i]);
			json_array_append_new(socks, json_string(one));
		}
		json_object_set_new(detail, "sockets", socks);
	}
	if (r.failed)
		json_object_set_new(detail, "connections_failed", json_integer(r.failed));
	return err;
}

static int op_block_address(void *ctx, const struct contain_addr *a, uint64_t until_mono_ns,
			    bool on)
{
	struct sensor_contain *sc = ctx;

	if (!sc->ng)
		return -ENOTCONN;
	return on ? netguard_block(sc->ng, a->family, a->addr, until_mono_ns) :
		    netguard_unblock(sc->ng, a->family, a->addr);
}

static int op_stop_process(void *ctx, uint32_t pid, const char *process_id, json_t *detail)
{
	(void)ctx;
	return contain_stop_process(pid, process_id, detail);
}

static const struct contain_ops real_ops = {
	.end_db_sessions = op_end_db_sessions,
	.end_app_session = op_end_app_session,
	.guard_sessions = op_guard_sessions,
	.end_connections = op_end_connections,
	.block_address = op_block_address,
	.stop_process = op_stop_process,
};

/* ---- the sensor's side ---- */

static void emit(json_t *ev, void *ctx)
{
	sensor_emit(ctx, ev);
}

/* A backend the kernel ended at login or at a switch of user (the
 * quarantine may have been released since: containment says so at once). */
static void on_contained(const struct pgwire_param_event *ev, void *ctx)
{
	struct sensor_contain *sc = ctx;

	for (size_t i = 0; i < sc->n_recs; i++) {
		struct guard_rec *r = &sc->recs[i];

		for (int k = 0; k < r->n; k++) {
			if (r->keys[k].len == ev->len && !memcmp(r->keys[k].value, ev->value, ev->len)) {
				containment_kernel_ended(sc->c, ev->tgid, r->kind, r->id,
							 sensor_realtime_ns());
				return;
			}
		}
	}
	/* no key names it any more: counted all the same */
	log_debug("containment: backend %u ended by a quarantine no longer known", ev->tgid);
	containment_kernel_ended(sc->c, ev->tgid, PK_DB_USER, NULL, sensor_realtime_ns());
}

/* The keys of quarantines released more than the grace ago are forgotten. */
static void forget_released(struct sensor_contain *sc, uint64_t now)
{
	for (size_t i = 0; i < sc->n_recs;) {
		struct guard_rec *r = &sc->recs[i];

		if (r->released_ns && now - r->released_ns >= GUARD_GRACE_NS)
			*r = sc->recs[--sc->n_recs];
		else
			i++;
	}
}

/* The sensor's own syslog collector is never blocked: its connection may
 * predate the block, and the events of the containment go there. */
static void never_block_collector(struct sensor_contain *sc, const char *url)
{
	struct sockaddr_storage ss;
	enum syslog_transport t;
	socklen_t len = sizeof(ss);
	char err[256], ip[INET6_ADDRSTRLEN], entry[80];
	const void *addr;

	if (!url || syslog_url_parse(url, &t, &ss, &len, err, sizeof(err)) || t == T_UNIX)
		return;
	addr = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
					 (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (!inet_ntop(ss.ss_family, addr, ip, sizeof(ip)) || sc->cfg.n_never >= CONTAIN_MAX_NEVER)
		return;
	snprintf(entry, sizeof(entry), "peer:%s", ip);
	sc->cfg.never[sc->cfg.n_never] = strdup(entry);
	if (sc->cfg.never[sc->cfg.n_never])
		sc->cfg.n_never++;
}

int sensor_contain_setup(struct sensor *s)
{
	struct sensor_contain *sc;
	char err[512] = "";

	s->contain = NULL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->s = s;
	if (contain_config_parse(s->cfg->containment, s->dcfg.enabled, &sc->cfg, err,
				 sizeof(err))) {
		log_error("%s", err);
		free(sc);
		return -EINVAL;
	}
	if (sc->cfg.mode == CONTAIN_OFF) {
		contain_config_free(&sc->cfg);
		free(sc);
		return 0;
	}
	never_block_collector(sc, s->cfg->syslog);
	if (sc->cfg.mode == CONTAIN_ENFORCE && sc->cfg.block_peers) {
		sc->ng = netguard_open((uint32_t)getpid(), err, sizeof(err));
		if (!sc->ng) {
			log_error("containment.actions.block_peers: %s", err);
			contain_config_free(&sc->cfg);
			free(sc);
			return -EINVAL;
		}
	}
	sc->c = containment_new(&sc->cfg, &s->dcfg, &real_ops, sc, emit, s);
	if (!sc->c) {
		netguard_close(sc->ng);
		contain_config_free(&sc->cfg);
		free(sc);
		return -ENOMEM;
	}
	s->contain = sc;
	log_info("containment: %s, on %s alerts, quarantine %g s, at most %u a hour",
		 contain_mode_name(sc->cfg.mode),
		 sc->cfg.on_severity == 3 ? "critical" : sc->cfg.on_severity == 2 ? "high" :
								     "medium",
		 sc->cfg.quarantine_s, sc->cfg.max_actions_per_hour);
	return 0;
}

/* After pg awareness exists: the kernel's ends are reported. */
void sensor_contain_attach(struct sensor *s)
{
	if (s->contain)
		pg_awareness_on_contained(s->pga, on_contained, s->contain);
}

uint64_t sensor_contain_caps(const struct sensor *s)
{
	if (!s->contain || s->contain->cfg.mode != CONTAIN_ENFORCE)
		return 0;
	return (1ull << CAP_KILL) | (1ull << CAP_NET_ADMIN);
}

void sensor_contain_alert(struct sensor *s, const json_t *ev)
{
	if (s->contain)
		containment_on_alert(s->contain->c, ev, sensor_monotonic_ns(), sensor_realtime_ns());
}

void sensor_contain_tick(struct sensor *s)
{
	if (!s->contain)
		return;
	containment_tick(s->contain->c, sensor_monotonic_ns(), sensor_realtime_ns());
	forget_released(s->contain, sensor_monotonic_ns());
}

void sensor_contain_stats(struct sensor *s, json_t *ev)
{
	struct contain_stats st;

	if (!s->contain)
		return;
	containment_stats(s->contain->c, &st);
	event_set(ev, "vigie.stats.containment.mode",
		  json_string(contain_mode_name(s->contain->cfg.mode)));
	event_set_count(ev, "vigie.stats.containment.alerts_acted", st.alerts_acted);
	event_set_count(ev, "vigie.stats.containment.actions", st.actions);
	event_set_count(ev, "vigie.stats.containment.failures", st.failures);
	event_set_count(ev, "vigie.stats.containment.skipped_rate_limit", st.skipped_rate);
	event_set_count(ev, "vigie.stats.containment.skipped_never", st.skipped_never);
	event_set_count(ev, "vigie.stats.containment.skipped_no_action", st.skipped_no_action);
	event_set_count(ev, "vigie.stats.containment.sessions_ended_by_quarantine", st.kernel_ended);
	event_set_count(ev, "vigie.stats.containment.quarantines", st.active);
}

void sensor_contain_stop(struct sensor *s)
{
	if (s->contain)
		containment_release_all(s->contain->c, sensor_monotonic_ns(), sensor_realtime_ns());
}

void sensor_contain_free(struct sensor *s)
{
	struct sensor_contain *sc = s->contain;

	if (!sc)
		return;
	/* the quarantines end with the sensor: said, if not yet */
	containment_release_all(sc->c, sensor_monotonic_ns(), sensor_realtime_ns());
	containment_free(sc->c);
	netguard_close(sc->ng);
	contain_config_free(&sc->cfg);
	free(sc->recs);
	free(sc);
	s->contain = NULL;
}

/* Detection's events (the detector's sink): each written, then handed to
 * containment. */
void sensor_emit_detection(json_t *ev, void *ctx)
{
	json_incref(ev);
	sensor_emit(ctx, ev);
	/* written first: the alert, then what containment did about it */
	sensor_contain_alert(ctx, ev);
	json_decref(ev);
}
