/* SPDX-License-Identifier: GPL-2.0 */
/* Detection internals shared by detect.c, detect_event.c and detect_state.c. */
#ifndef VIGIE_DETECT_INT_H
#define VIGIE_DETECT_INT_H

#include "detect/baseline.h"
#include "detect/detect.h"

#define N_CONTRIB 4
#define CONTRIB_NAME 80
#define NS_PER_MIN 60000000000ull
#define NS_PER_HOUR 3600000000000ull
#define NS_PER_DAY 86400000000000ull
#define LAG_RING 8
#define REF_PROFILE 0
#define REF_LEARNED 1
#define REF_PEER_GROUP 2
#define REF_NEW_PRINCIPAL 3
#define REF_FIRST_SEEN 4
#define N_REFS 5

struct episode {
	uint64_t seq;
	char id[48];
	int metric;
	struct principal *p;
	int level;                 /* 1 medium, 2 high, 3 critical */
	int max_level;
	int window;                /* window of the last alert */
	double max_ratio;
	uint64_t opened_ns;
	uint64_t last_over_ns;      /* last time a window was over threshold */
	uint64_t first_sample_ns, last_sample_ns;
	uint64_t total;            /* volume of the burst so far */
	uint64_t total_at_alert;   /* at the last (sent or suppressed) alert */
	uint32_t alerts, suppressed;
	bool newcomer;             /* opened with no history of its own: learned from */
};

/* The principal's learned normals at the close of one of its active days
 * (-1: not established then), to cap today's (docs/detection.md, lag). */
struct lag_record {
	int32_t day;
	float normal[W_MAX];
};

struct metric_state {
	struct mwin win;
	struct lhist hist[W_MAX];
	struct episode *ep;
	uint64_t first_ns;          /* first sample of this metric (0: long ago) */
	struct lag_record lag[LAG_RING];
	int8_t group_bucket[W_MAX]; /* bucket counted in the peer group, -1 none */
	bool dirty;
};

struct contrib {
	uint64_t hash;
	char name[CONTRIB_NAME];
	int64_t pid;
	uint64_t vol[M_MAX];
};

struct principal {
	enum principal_kind kind;
	char *id;
	uint64_t hash;
	uint64_t seq;               /* creation order */
	size_t index;               /* in detector.all (creation order) */
	struct principal *next;    /* hash chain */
	int profile;               /* -1: none */
	bool allowed;              /* baselined, never alerted */
	bool aggregate;            /* a database server's own user or executable */
	bool in_dirty;
	int64_t uid;               /* user, process: -1 if unknown */
	struct metric_state *m[M_MAX];
	struct contrib procs[N_CONTRIB], peers[N_CONTRIB];
	int64_t contrib_hour;
	uint8_t last_proc, last_peer; /* slot hit last time */
	uint64_t last_seen_ns;
	int64_t rate_hour;
	uint32_t rate_count;
	uint32_t suppressed_pending; /* told in the next alert sent */
	char *db_user;               /* app_user: database account last used */
};

/* A peer group: per metric and window, a histogram of its members' own
 * normals, one count per member (group.c). */
struct group {
	struct lhist *hist[M_MAX];            /* [W_MAX] each, lazily */
};

struct alert_info {
	int window;
	uint64_t observed;
	double normal;
	int reference;             /* REF_* */
	double refs[N_REFS];       /* normal by reference; <0 n/a */
	double ceiling;            /* ceiling that applied, <0 n/a */
	bool lagged;               /* learned normal capped by an earlier day's */
	double ratio;
	int level;
	const char *reason;        /* new, severity, volume */
	uint64_t now_ns;
};
struct pending_alert {
	struct principal *p;
	int m;
	struct alert_info a;
};

struct detector {
	struct detect_config cfg;
	detect_emit_fn emit;
	void *ctx;
	double day_factor;
	struct principal **table;
	size_t table_size;
	struct principal **all;
	size_t n_all, cap_all;
	uint64_t *dirty_bits;                 /* by index in all */
	size_t n_dirty, dirty_words;
	struct group *groups;                 /* (n_profiles + 1) * PK_MAX */
	uint64_t watch_start_ns;              /* first sample ever (kept in the state) */
	struct episode **open;
	size_t n_open, cap_open;
	uint64_t now_ns;
	bool started;
	uint64_t episode_seq;
	uint64_t principal_seq;
	int64_t global_min;
	uint32_t global_count;
	uint64_t global_suppressed;          /* this minute, told once */
	struct pending_alert *pend;
	size_t n_pend, cap_pend;
	struct detect_summary sum;
	bool warned_full;
};

/* detect_state.c: the state as saved (NULL: out of memory, logged) */
json_t *detect_state_json(struct detector *d);

/* principal.c */
uint64_t principal_hash(enum principal_kind kind, const char *id);
struct principal *principal_lookup(struct detector *d, enum principal_kind kind, const char *id,
				   uint64_t hash, int64_t uid, bool create);
struct principal *detector_principal(struct detector *d, enum principal_kind kind,
				     const char *id, int64_t uid, bool create);
struct metric_state *principal_metric(struct principal *p, int metric);
struct group *principal_group(struct detector *d, const struct principal *p);
void principal_free(struct principal *p);
void principal_contrib_add(struct contrib *t, uint8_t *last, const char *name, uint64_t h,
			   int64_t pid, const uint64_t *vals);
void principal_contrib_decay(struct principal *p, uint64_t ts);
void principals_expire_idle(struct detector *d);
int detect_push_ptr(void ***arr, size_t *n, size_t *cap, void *v);

/* detect.c */
void detect_roll(struct detector *d, struct principal *p, int m, uint64_t ts);

/* group.c: peer groups (the profile's, or the host's per kind) */
void group_update(struct detector *d, struct principal *p, int m, int w);
void group_leave(struct detector *d, struct principal *p);
void group_rebuild(struct detector *d);
double group_extreme(double mid, double hi, double q, uint32_t n);
double group_normal(struct detector *d, const struct principal *p, int m, int w,
		    uint32_t *members);
const char *group_name(const struct detector *d, const struct principal *p);
void groups_free(struct detector *d);

/* reference.c: what is normal, and the alert rule */
extern const char *const reference_names[N_REFS];
bool own_established(const struct detector *d, const struct principal *p, int m, int w);
void lag_record_day(struct detector *d, struct metric_state *ms, int32_t day);
/* normal of a window (a->refs, a->normal; REF_* or -1) and the ceiling that
 * applies (-1 if none, *ref set): read only, also used by detect_view.c */
int detect_normal_of(struct detector *d, struct principal *p, int m, int w,
		     struct alert_info *a);
double detect_ceiling_of(struct detector *d, struct principal *p, int m, int w, int *ref);
bool detect_over_threshold(struct detector *d, struct principal *p, int m, struct alert_info *a);

/* detect_event.c: build events (the caller emits them) */
json_t *detect_alert_event(struct detector *d, struct principal *p, int metric,
			   const struct alert_info *a);
json_t *detect_end_event(struct detector *d, struct episode *ep, uint64_t now_ns,
			 const char *reason);
const char *severity_name(int level);

#endif
