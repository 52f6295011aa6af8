/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus endpoint (sensor.metrics_listen): a small non-blocking HTTP/1.x
 * server answering GET /metrics in the text exposition format 0.0.4, and the
 * builder of that text. docs/metrics.md lists the metrics.
 *
 * The server never blocks its caller: it has one epoll fd of its own (the
 * listening socket and every connection in it) that the run loop adds to its
 * epoll set; when that fd is readable the loop calls metrics_server_service(),
 * which accepts, reads, answers and writes what the sockets take without
 * waiting. Requests are bounded (8 KiB of headers), connections too (32,
 * more are refused with 503), and each has a deadline (2 s from its accept,
 * checked at each service and each tick) after which it is closed whatever
 * its state. One request per connection (Connection: close).
 */
#ifndef VIGIE_METRICS_H
#define VIGIE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/config.h"

/* ---- exposition text ------------------------------------------------- */

struct mx_text {
	char *s;     /* NUL-terminated */
	size_t len, cap;
	bool oom;    /* an append failed: the text is incomplete */
};

void mx_text_free(struct mx_text *t);
/* "# HELP name help" and "# TYPE name type" (type: counter, gauge,
 * histogram). Help text: backslash and newline escaped. */
void mx_family(struct mx_text *t, const char *name, const char *type, const char *help);
/* One sample. labels: NULL or a NULL-terminated list of name, value pairs;
 * values escaped (\\, \", \n). */
void mx_sample(struct mx_text *t, const char *name, const char *const *labels, double value);
void mx_sample_u64(struct mx_text *t, const char *name, const char *const *labels, uint64_t value);
/* Value as the format writes it: shortest round-tripping %g, +Inf, -Inf, NaN. */
void mx_format_double(char *buf, size_t size, double v);

/* Labels of a small set of counters keyed by one label value (event kinds,
 * severities). Past MX_KV_MAX distinct keys, counts go to key "other". */
#define MX_KV_MAX 32
#define MX_KEY_LEN 48
struct mx_kv {
	int n;
	char key[MX_KV_MAX][MX_KEY_LEN];
	uint64_t val[MX_KV_MAX];
};
void mx_kv_add(struct mx_kv *kv, const char *key, uint64_t delta);
uint64_t mx_kv_get(const struct mx_kv *kv, const char *key);
/* One sample per key, sorted by key: name{label="key"} value. */
void mx_kv_write(struct mx_text *t, const char *name, const char *label, const struct mx_kv *kv);

#define MX_HIST_MAX 24
struct mx_hist {
	int n_bounds;                   /* upper bounds, increasing; +Inf implied */
	double bounds[MX_HIST_MAX];
	uint64_t counts[MX_HIST_MAX + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t count;
	double sum;
};
/* n bounds (at most MX_HIST_MAX), increasing. */
void mx_hist_init(struct mx_hist *h, const double *bounds, int n);
void mx_hist_observe(struct mx_hist *h, double v);
/* name_bucket{le="..."} (cumulative, +Inf last), name_sum, name_count.
 * The HELP/TYPE lines are the caller's (mx_family with "histogram"). */
void mx_hist_write(struct mx_text *t, const char *name, const struct mx_hist *h);

/* ---- server ------------------------------------------------------------ */

#define METRICS_MAX_REQUEST 8192
/* The answer a request gets from what has been read of it (in, len): 0
 * while it may still become a whole request, else the HTTP status (200 for
 * GET or HEAD /metrics, 400, 404, 405, 431); *head: a HEAD request. Pure:
 * for the server, its tests and the fuzz harness. */
int metrics_request_status(const char *in, size_t len, bool *head);
#define METRICS_MAX_CONNS 32
#define METRICS_TIMEOUT_MS 2000

struct metrics_server;

/* Fills t with the whole exposition text at each GET /metrics. */
typedef void (*metrics_render_fn)(struct mx_text *t, void *ctx);

/* Listen on addr (name: the configured text, for messages). NULL on failure
 * with a message naming sensor.metrics_listen logged. */
struct metrics_server *metrics_server_new(const struct config_endpoint *addr, const char *name,
					  metrics_render_fn render, void *ctx);
/* The fd to watch for EPOLLIN (an epoll fd). */
int metrics_server_fd(const struct metrics_server *m);
/* The port listened on (useful when addr had port 0: tests). */
uint16_t metrics_server_port(const struct metrics_server *m);
/* Accept, read, answer, write: whatever is ready, never waiting. Also
 * closes the connections past their deadline. */
void metrics_server_service(struct metrics_server *m);
/* Close the connections past their deadline (call on each tick). */
void metrics_server_expire(struct metrics_server *m);
/* Open connections (tests). */
int metrics_server_conns(const struct metrics_server *m);
/* Tests: another deadline and connection limit. */
void metrics_server_set_limits(struct metrics_server *m, int timeout_ms, int max_conns);
void metrics_server_free(struct metrics_server *m);

#endif
