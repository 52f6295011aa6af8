/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Containment (docs/containment.md): what to do when an alert is severe
 * enough, opt-in. The policy is here and is pure: alerts in, actions asked
 * of a set of operations (struct contain_ops) and events out. The sensor
 * gives it the real operations (sensor/sensor_contain.c: SIGTERM to
 * PostgreSQL backends, the kernel's session quarantine, socket destroy,
 * the cgroup address block, SIGSTOP); the unit tests give it recorders.
 *
 *   "containment": { "mode": "off" | "dry-run" | "enforce",
 *                    "on_severity": "critical", "quarantine_s": 900,
 *                    "metrics": [...], "kinds": [...],
 *                    "actions": { "end_sessions": true, "block_peers": true,
 *                                 "stop_processes": false },
 *                    "never": ["db_user:postgres", "peer:10.1.2.3", ...],
 *                    "max_actions_per_hour": 10 }
 */
#ifndef VIGIE_CONTAIN_H
#define VIGIE_CONTAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "detect/detect.h"

enum contain_mode { CONTAIN_OFF = 0, CONTAIN_DRY_RUN, CONTAIN_ENFORCE };

#define CONTAIN_MAX_NEVER 64

struct contain_config {
	enum contain_mode mode;
	int on_severity;            /* 1 medium, 2 high, 3 critical (default) */
	double quarantine_s;        /* default 900 */
	bool metrics[M_MAX];        /* default all */
	bool kinds[PK_MAX];         /* default all */
	bool end_sessions;          /* database accounts, application users (default on) */
	bool block_peers;           /* remote addresses of egress (default on) */
	bool stop_processes;        /* SIGSTOP (default off) */
	char *never[CONTAIN_MAX_NEVER]; /* "kind:glob", owned */
	int n_never;
	uint32_t max_actions_per_hour; /* alerts acted on, default 10 */
};

/* From the "containment" object (NULL: defaults, mode off). detection_on
 * says whether detection runs (enforce without it is refused). 0, or -1
 * with err naming the field. */
int contain_config_parse(json_t *j, bool detection_on, struct contain_config *c, char *err,
			 size_t errlen);
void contain_config_free(struct contain_config *c);
const char *contain_mode_name(enum contain_mode m);

/* A remote address: family AF_INET or AF_INET6, IPv4 in addr[0..3]. */
struct contain_addr {
	int family;
	uint8_t addr[16];
	char text[48];
};
/* "203.0.113.5", "203.0.113.5:443", "[2001:db8::1]:443", "2001:db8::1".
 * 0 or -1. */
int contain_parse_peer(const char *s, struct contain_addr *a);

/* The operations a containment needs. Each returns 0 (done) or -errno
 * (failed, nothing half done), and may add what it did to detail (an
 * object: "pids": [..], "connections": n, "reason": "..."). */
struct contain_ops {
	/* SIGTERM to every backend of a local PostgreSQL logged in as db_user */
	int (*end_db_sessions)(void *ctx, const char *db_user, json_t *detail);
	/* SIGTERM to backend pid if it is serving app_user now */
	int (*end_app_session)(void *ctx, uint32_t pid, const char *app_user, json_t *detail);
	/* The kernel ends new sessions of this principal until until_mono_ns
	 * (on), or no longer (off). kind: PK_DB_USER or PK_APP_USER. */
	int (*guard_sessions)(void *ctx, enum principal_kind kind, const char *id,
			      uint64_t until_mono_ns, bool on);
	/* Destroy the established TCP connections to a */
	int (*end_connections)(void *ctx, const struct contain_addr *a, json_t *detail);
	/* Refuse connections and datagrams to a until until_mono_ns (on) */
	int (*block_address)(void *ctx, const struct contain_addr *a, uint64_t until_mono_ns,
			     bool on);
	/* SIGSTOP; process_id "EXE@USER" when pid is 0 (every such process) */
	int (*stop_process)(void *ctx, uint32_t pid, const char *process_id, json_t *detail);
};

struct containment;
typedef void (*contain_emit_fn)(json_t *event, void *ctx); /* takes the reference */

/* cfg and dcfg are copied by reference: keep them alive. ops may be NULL in
 * dry-run (nothing is asked of them: vigie replay). NULL when mode is off
 * (nothing to do), enforce without ops, or out of memory. */
struct containment *containment_new(const struct contain_config *cfg,
				    const struct detect_config *dcfg, const struct contain_ops *ops,
				    void *ops_ctx, contain_emit_fn emit, void *emit_ctx);
void containment_free(struct containment *c);
/* An event of detection: an alert at or above on_severity is acted on.
 * now_mono_ns: CLOCK_MONOTONIC, now_real_ns: CLOCK_REALTIME. */
void containment_on_alert(struct containment *c, const json_t *alert, uint64_t now_mono_ns,
			  uint64_t now_real_ns);
/* Releases the quarantines that ended (an event each). */
void containment_tick(struct containment *c, uint64_t now_mono_ns, uint64_t now_real_ns);
/* Release everything now (stop), an event each. */
void containment_release_all(struct containment *c, uint64_t now_mono_ns, uint64_t now_real_ns);
/* The kernel ended a session of a principal in quarantine (id NULL: whose
 * is no longer known, counted only). */
void containment_kernel_ended(struct containment *c, uint32_t pid, enum principal_kind kind,
			      const char *id, uint64_t now_real_ns);

struct contain_stats {
	uint64_t alerts_acted;      /* alerts that led to actions */
	uint64_t actions;           /* actions taken (or, dry-run, that would be) */
	uint64_t failures;          /* actions that failed */
	uint64_t skipped_rate;      /* alerts over max_actions_per_hour */
	uint64_t skipped_never;     /* targets never contained */
	uint64_t skipped_no_action; /* alerts no enabled action applies to (e.g. the
				     * client address of database reads) */
	uint64_t kernel_ended;      /* sessions the quarantine ended */
	uint64_t active;            /* quarantines in force */
};
void containment_stats(const struct containment *c, struct contain_stats *st);

#endif
