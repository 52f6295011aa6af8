/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detection of extraction far beyond normal use (docs/detection.md).
 *
 * Principals (user, db_user, process = exe + user, peer) each get sliding
 * windows of 1 minute, 1 hour and 24 hours per metric. "Normal" is the
 * largest applicable of: the profile's stated volumes, the principal's own
 * learned baseline (capped by what it was some days before), and (until
 * that baseline is established) its peer group's: the group of its profile
 * or, with no profile, the built-in group of its kind on this host. An
 * alert needs observed >= ratio x normal and >= an absolute floor; a
 * principal with no established baseline and no profile also alerts over
 * absolute ceilings, stricter for egress first seen. Alerts are grouped
 * into episodes and rate limited.
 *
 * Deterministic: time only comes from the samples and the callers, every
 * output order is sorted, no wall clock, no pointer-dependent ordering.
 */
#ifndef VIGIE_DETECT_H
#define VIGIE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "trace/trace.h"

/* PK_APP_USER: an application's end user behind a pooled database
 * connection (databases.app_user), id "USER@APPLICATION" ("USER" when the
 * application has no name). */
enum principal_kind { PK_USER = 0, PK_DB_USER, PK_PROCESS, PK_PEER, PK_APP_USER, PK_MAX };
enum metric { M_DB_ROWS = 0, M_DB_BYTES, M_DBFILE_BYTES, M_EGRESS_BYTES, M_MAX };
enum window { W_1M = 0, W_1H, W_24H, W_MAX };

const char *principal_kind_name(enum principal_kind k);
const char *metric_name(enum metric m);
const char *window_name(enum window w);
extern const uint64_t window_ns[W_MAX];

#define DETECT_MAX_PROFILES 64
#define DETECT_MAX_PATTERNS 64 /* per list */
#define DETECT_NAME_LEN 64
#define LAG_MAX_DAYS 7

struct detect_uid_range {
	uint32_t lo, hi;
};

struct detect_pattern_list {
	char *pat[DETECT_MAX_PATTERNS]; /* fnmatch globs, owned */
	int n;
};

struct detect_profile {
	char name[DETECT_NAME_LEN];
	/* match: any listed criterion that applies to the principal's kind */
	struct detect_pattern_list users;   /* user names (user, process) */
	struct detect_uid_range uids[DETECT_MAX_PATTERNS];
	int n_uids;
	struct detect_pattern_list groups;  /* unix groups, members resolved */
	struct detect_pattern_list group_members; /* resolved from groups */
	struct detect_pattern_list db_users;
	struct detect_pattern_list exes;    /* process executables */
	struct detect_pattern_list peers;   /* remote addresses */
	struct detect_pattern_list app_users; /* application users ("USER@APP") */
	double per_day[M_MAX];              /* 0: not stated */
	bool alert;                         /* false: allow-listed profile */
};

struct detect_config {
	bool enabled;
	bool kinds[PK_MAX];               /* principal kinds tracked */
	double ratio;                     /* alert at observed >= ratio x normal */
	double ratio_high, ratio_critical;
	double floor[M_MAX][W_MAX];       /* absolute minimum observed */
	double ceiling[M_MAX][W_MAX];     /* alert a principal with no reference */
	double novelty_factor;            /* ceilings / factor for egress first seen */
	double novelty_warmup_s;          /* watched this long before anything is new */
	uint32_t lag_days;                /* learned normal capped by that of N days ago */
	double hour_share, minute_share;  /* profile per-day -> 1h / 1m normal */
	double learned_quantile[W_MAX];
	uint32_t learned_min[W_MAX];      /* windows seen before trusted */
	double half_life_days;
	double peer_quantile;
	uint32_t peer_min_principals;
	double episode_quiet_s;           /* below threshold this long: end */
	uint32_t rate_per_principal_hour; /* alerts per principal per hour */
	uint32_t rate_global_minute;      /* alerts per minute, all principals */
	double bytes_per_record;          /* estimate of records from bytes */
	uint32_t max_principals;
	uint32_t idle_expiry_days;        /* forget idle principals */
	struct detect_profile profiles[DETECT_MAX_PROFILES];
	int n_profiles;                   /* the built-in host groups come after them */
	struct detect_pattern_list allow; /* "kind:glob", never alerted */
};

/* Fill out from the "detection" object (NULL: all defaults). 0, or -1 with
 * err naming the field ("detection.profiles[2].per_day.db_rows: ..."). */
int detect_config_parse(json_t *detection, struct detect_config *out, char *err,
			size_t errlen);
void detect_config_free(struct detect_config *cfg);
/* Is this principal never alerted (the allow list, or a profile with
 * "alert": false)? uid: -1 when unknown. */
bool detect_allowed(const struct detect_config *cfg, enum principal_kind kind, const char *id,
		    int64_t uid);

struct detector;

/* emit gets each event (alert or end) and must release it (json_decref). */
typedef void (*detect_emit_fn)(json_t *event, void *ctx);

/* cfg is copied (patterns are shared: keep cfg alive while the detector is). */
struct detector *detector_new(const struct detect_config *cfg, detect_emit_fn emit, void *ctx);
void detector_free(struct detector *d);

/* Account one sample. Samples must come in time order (older are ignored);
 * a sample newer than the current time first evaluates what is pending. */
void detector_feed(struct detector *d, const struct trace_sample *s);

/* The ids detection gives a sample's principals, "" where it has none:
 * PK_USER the user name or "uid:N"; PK_PROCESS "EXE@USER" (comm when the
 * executable is unknown, "?" for no user); PK_DB_USER and PK_PEER as the
 * sample has them; PK_APP_USER "USER@APPLICATION" ("USER" when the
 * application has no name). The views name principals with it too. */
struct principal_ids {
	const char *id[PK_MAX];
	char user[TRACE_USER_LEN + 24];
	char process[TRACE_EXE_LEN + TRACE_USER_LEN + 24];
	char app_user[2 * TRACE_USER_LEN + 2];
};

void principal_ids_of(const struct trace_sample *s, struct principal_ids *out);
/* Evaluate everything up to now_ns (live: once per tick). */
void detector_advance(struct detector *d, uint64_t now_ns);
/* Evaluate pending data, then close every open episode (end of replay). */
void detector_finish(struct detector *d, uint64_t now_ns);

/* State file: learned baselines and windows. Written atomically (temp file,
 * fsync, the previous file kept as FILE.prev, rename). load: 0 ok, 1 file
 * absent (fresh start), -1 refused (logged, naming the principal and field),
 * -2 not a regular file (a directory, a device, a pipe, a symbolic link:
 * logged, not read). recover (the daemon): the same, but a refused file is
 * set aside as FILE.bad-TIME (never overwritten) and FILE.prev is tried: 2
 * when loaded from it; what is not a regular file stays where it is (-1).
 * save refuses to replace what is not a regular file. Both remove
 * FILE.tmp.PID left by a save that was stopped. */
int detector_state_load(struct detector *d, const char *path);
int detector_state_recover(struct detector *d, const char *path);
int detector_state_save(struct detector *d, const char *path);
/* A new configuration (reload): what from learned, through the state as it
 * would be saved, into to (made with the new configuration: profiles and
 * groups matched again). 0, or -1 (logged) with to left empty. */
int detector_state_transfer(struct detector *from, struct detector *to);

struct detect_summary {
	uint64_t samples;
	uint64_t principals;
	uint64_t principals_dropped; /* over max_principals */
	uint64_t alerts;
	uint64_t suppressed;
	uint64_t episodes;
	uint64_t episodes_open;
};
void detector_summary(const struct detector *d, struct detect_summary *out);

#endif
