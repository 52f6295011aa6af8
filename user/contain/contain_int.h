/* SPDX-License-Identifier: GPL-2.0 */
/* Containment's own structures, shared by contain.c (policy) and
 * contain_event.c (its events). Not for other subsystems. */
#ifndef VIGIE_CONTAIN_INT_H
#define VIGIE_CONTAIN_INT_H

#include "contain/contain.h"

#define CONTAIN_RATE_RING 1000 /* >= the largest max_actions_per_hour */
#define CONTAIN_MAX_TARGETS 8
#define CONTAIN_ENDED_EVERY_NS 60000000000ull /* sessions ended: one event a minute */

enum contain_what { Q_SESSIONS = 0, Q_ADDRESS };

/* A quarantine in force: sessions of a principal, or an address. */
struct quarantine {
	enum contain_what what;
	enum principal_kind kind; /* sessions: PK_DB_USER or PK_APP_USER */
	char id[256];             /* principal id, or the address as text */
	struct contain_addr addr; /* Q_ADDRESS */
	char episode[64];         /* of the alert that started it */
	uint64_t until_mono, until_real;
	bool dry_run;             /* said, not done: nothing to undo */
	/* sessions the kernel ended and not said yet: the first at the next
	 * tick, then those of each minute in one event, the rest at the
	 * release (a thief reconnecting every second for 15 minutes is 16
	 * events, not 900) */
	uint32_t ended_pids[CONTAIN_MAX_TARGETS * 2];
	uint32_t n_ended_pids;
	uint64_t ended;
	uint64_t ended_said_mono; /* when they were last said, 0: never */
};

/* The alert being acted on. */
struct contain_alert {
	int severity;              /* 1 medium, 2 high, 3 critical */
	const char *severity_name; /* as the alert says it */
	enum principal_kind kind;
	enum metric metric;
	const char *id;
	const char *episode;
	uint32_t pids[CONTAIN_MAX_TARGETS];  /* vigie.top_processes */
	size_t n_pids;
	const char *peers[CONTAIN_MAX_TARGETS]; /* vigie.top_peers, or the peer */
	size_t n_peers;
	uint64_t now_mono, now_real;
};

struct containment {
	const struct contain_config *cfg;
	const struct detect_config *dcfg;
	const struct contain_ops *ops;
	void *ops_ctx;
	contain_emit_fn emit;
	void *emit_ctx;
	struct quarantine *q;
	size_t n, cap;
	uint64_t acted_at[CONTAIN_RATE_RING];
	size_t acted_next;
	struct contain_stats st;
};

bool contain_never(const struct containment *c, enum principal_kind kind, const char *id);
struct quarantine *contain_find(struct containment *c, enum contain_what what,
				enum principal_kind kind, const char *id);

/* contain_event.c: err 0 success, < 0 failure; detail (owned, may be NULL)
 * merged into vigie.containment; until_real 0: no quarantine end. */
void contain_emit_action(struct containment *c, const struct contain_alert *a, const char *action,
			 int err, json_t *detail, uint64_t until_real,
			 const struct contain_addr *addr);
void contain_emit_skip(struct containment *c, const struct contain_alert *a, const char *reason,
		       const char *target);
void contain_emit_release(struct containment *c, const struct quarantine *q, int err,
			  uint64_t now_real, const char *why);
/* The sessions of q the kernel ended since the last tick (q->ended, pids
 * in q->ended_pids). */
void contain_emit_kernel_end(struct containment *c, const struct quarantine *q,
			     uint64_t now_real);

#endif
