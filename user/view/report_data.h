/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vigie report: what a replay gathers for the page (report_collect.c), and
 * the page's writers (report_html.c, report_svg.c, report_page.c).
 *
 * Volumes come from the samples themselves, accounted to the principals of
 * docs/detection.md (exact totals, per minute and per hour, contributors);
 * normals, references and flags come from the detector through its view
 * (detect_view.h), read at the end of every minute (while the trace spans
 * at most RPT_MINUTE_SPAN_MIN) and of every hour, for the principals seen
 * in it; alerts and episodes from the events. Memory is bounded: series
 * are sparse (active buckets only), minute series are dropped past
 * RPT_MINUTE_SPAN_MIN, hour series coarsen (step doubled, peaks kept)
 * past RPT_HOUR_BUCKETS, and the lists of alerts and episodes are capped.
 */
#ifndef VIGIE_VIEW_REPORT_DATA_H
#define VIGIE_VIEW_REPORT_DATA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "detect/detect.h"
#include "replay/replay.h"

#define RPT_MINUTE_SPAN_MIN (36 * 60) /* 1 m charts for traces up to 36 h */
#define RPT_HOUR_BUCKETS 2048         /* hour series: the step doubles beyond */
#define RPT_TOPK 5                    /* contributors kept per principal */
#define RPT_MAX_HOSTS 8               /* heat maps; more hosts merge into the last */
#define RPT_MAX_ALERTS 100000         /* alerts kept (more are counted) */
#define RPT_MAX_EPISODES 20000
#define RPT_MAX_TRACES 64             /* traces named in the summary */
#define RPT_MARKS 60                  /* alerts, episodes marked per chart / row */
#define RPT_NONE UINT32_MAX

/* One bucket of a series: the volume of a minute or hour (the peak hour of
 * a coarser step), and the normal of that window at its end (-1: none). */
struct rpt_point {
	uint32_t idx;   /* minutes or hour steps since the first sample's */
	float normal;
	uint64_t obs;
};

struct rpt_series {
	struct rpt_point *p;
	uint32_t n, cap;
};

/* One principal and metric. */
struct rpt_metric {
	uint64_t total;
	uint32_t alerts;
	struct rpt_series min, hour;
	int64_t cur_min, cur_hour;   /* bucket being summed (absolute index), -1 */
	uint64_t cur_min_obs, cur_hour_obs;
	float cur_min_normal, cur_hour_normal;
};

/* A contributor: its name interned (one copy per name, compared by
 * pointer) and its volumes. */
struct rpt_contrib {
	const char *name;
	uint64_t vol[M_MAX];
};

struct rpt_name {
	struct rpt_name *next;
	uint64_t hash;
	size_t len;
	char s[];
};

/* A slot of the principals' table: the hash beside the pointer, so that a
 * lookup reads one principal only. */
struct rpt_slot {
	uint64_t hash;
	struct rpt_principal *p;
};

struct rpt_principal {
	char *id;                    /* valid UTF-8 (as the events write it) */
	size_t id_len;
	char id_inline[40];          /* id when short: no other place in memory */
	uint64_t hash;
	enum principal_kind kind;
	uint32_t index;              /* creation order */
	bool aggregate, allowed;     /* as the detector says (view) */
	bool procs_approx, peers_approx; /* more contributors than kept */
	struct rpt_metric *m[M_MAX];     /* NULL, or &mstore[m] once it has data */
	struct rpt_metric mstore[M_MAX];
	struct rpt_contrib procs[RPT_TOPK], peers[RPT_TOPK];
	char *profile;               /* from its alerts */
	uint32_t alerts;
	int max_level;
	double max_ratio;
	uint64_t first_alert_ns;
	uint32_t chart;              /* RPT_NONE, or its rank among charts */
};

struct rpt_alert {
	uint64_t ts;
	struct rpt_principal *p;
	uint8_t metric, window, level;
	char reference[16], reason[12];
	uint64_t observed;
	double normal, ratio;
	uint32_t episode;            /* index in eps, RPT_NONE */
};

struct rpt_episode {
	char id[48];
	struct rpt_principal *p;
	uint8_t metric, max_level;
	bool ended;
	char reason[24];
	uint64_t start, end, first_alert;
	uint64_t total;
	double max_ratio;
	uint32_t alerts, suppressed;
	uint32_t hnext;              /* hash chain (index), RPT_NONE */
};

/* Database reads of one host in one hour (the heat map). */
struct rpt_cell {
	int64_t hour;                /* hours since the epoch */
	uint64_t rows, bytes, file_bytes;
};

struct rpt_host {
	char *name;
	struct rpt_cell *cells;      /* in time order */
	size_t n, cap;
};

struct rpt_data {
	/* configuration (copied at start) */
	bool enabled, kinds[PK_MAX];
	double ratio, floor[M_MAX][W_MAX];
	uint32_t max_principals;
	const char *config_path, *state_path;
	/* principals */
	struct rpt_slot *table;      /* open addressing, hashes inline */
	size_t table_size;
	struct rpt_principal **all;
	size_t n_all, cap_all;
	uint64_t principals_dropped;
	struct rpt_principal *last[PK_MAX]; /* cache: same id as the last sample's */
	struct rpt_name **names;     /* contributors' names, interned */
	size_t names_size, n_names;
	/* time */
	bool have_ts;
	int64_t t0_min, t0_hour, last_min;
	uint32_t hour_step;          /* hours per hour-series bucket (power of 2) */
	bool minutes_on;
	/* hosts and traces */
	struct rpt_host hosts[RPT_MAX_HOSTS];
	int n_hosts, cur_host;
	uint64_t hosts_merged;       /* hosts over RPT_MAX_HOSTS */
	char *traces[RPT_MAX_TRACES];
	int n_traces, traces_more;
	/* events */
	struct rpt_alert *alerts;
	size_t n_alerts, cap_alerts;
	uint64_t alerts_over;        /* not kept (RPT_MAX_ALERTS) */
	struct rpt_episode *eps;
	size_t n_eps, cap_eps;
	uint64_t eps_over;
	uint32_t *ep_hash;           /* [RPT_EP_HASH] heads */
	uint64_t suppressed_events;
	uint64_t containment_events;
	/* outcome */
	struct replay_result res;
	int replay_code;
	bool oom;                    /* memory ran out: the page says so */
};

static inline uint64_t rpt_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* report_collect.c: the replay's hooks (ctx: the rpt_data) */
void rpt_hooks(struct rpt_data *r, struct replay_hooks *h);

/* report_table.c: the principals */
void rpt_init(struct rpt_data *r);
void rpt_free(struct rpt_data *r);
void rpt_series_free(struct rpt_series *s);
uint64_t rpt_hash(const char *s, size_t n);
/* A principal's hash: its id's (rpt_hash), told apart by kind. */
uint64_t rpt_kind_hash(int kind, uint64_t h);
/* Copy of s[0..n) as valid UTF-8 into buf (NUL-terminated, whole sequences
 * only, invalid bytes as U+FFFD as in events); its length. */
size_t rpt_utf8_copy(const char *s, size_t n, char *buf, size_t size);
char *rpt_utf8(const char *s, char *buf, size_t size);
/* The principal (kind, id of n bytes whose rpt_hash is h0), created when
 * asked and under max_principals (NULL otherwise). */
struct rpt_principal *rpt_principal_find(struct rpt_data *r, enum principal_kind kind,
					 const char *id, size_t n, uint64_t h0, bool create);
struct rpt_principal *rpt_principal_get(struct rpt_data *r, enum principal_kind kind,
					const char *id, bool create);
/* The one copy of name s (n bytes, rpt_hash h): NULL when out of memory. */
const char *rpt_intern(struct rpt_data *r, const char *s, size_t n, uint64_t h);
/* Its metric, created when absent. */
struct rpt_metric *rpt_metric_of(struct rpt_data *r, struct rpt_principal *p, int m);

/* report_events.c: alerts and episodes from the events */
int rpt_on_event(struct rpt_data *r, json_t *ev);

/* report_svg.c: the pictures. The time span of every chart: the buckets of
 * the first and last samples, minutes while minute series are kept, else
 * hour steps. */
struct rpt_span {
	uint64_t ta, tb, bucket_ns;
	bool minutes;
};
void rpt_span_of(const struct rpt_data *r, struct rpt_span *s);
void svg_chart(FILE *f, const struct rpt_data *r, const struct rpt_span *s,
	       const struct rpt_principal *p, int m, const char *id);
void svg_timeline(FILE *f, const struct rpt_data *r, const struct rpt_span *s,
		  struct rpt_principal *const *rows, int n);
int svg_heatmap(FILE *f, const struct rpt_host *h, int idx);

/* report_page.c: the whole page; 0, or -1 (write error, errno set) */
int rpt_write_page(struct rpt_data *r, FILE *f);

#endif
