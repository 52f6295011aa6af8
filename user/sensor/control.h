/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket (sensor.control_socket, docs/top.md): a local Unix
 * stream socket, mode 0600, that answers root's requests for a snapshot of
 * what the sensor and its detector see now (vigie top). Read-only: no
 * request changes anything in the sensor.
 *
 * Protocol: one request per line (a JSON object, at most 1 KiB), one answer
 * per request, a JSON document on one line. A peer whose SO_PEERCRED uid is
 * not 0 gets one error line and is closed.
 *
 * Never blocks the run loop: like the metrics server, it has an epoll fd of
 * its own that the loop adds to its set; control_service() accepts, reads
 * and writes only what the sockets take at once. At most CONTROL_MAX_CONNS
 * clients (more get a "busy" line), CONTROL_REQUESTS_PER_TICK requests per
 * tick over all of them and no new snapshot once CONTROL_TICK_BUDGET_MS were
 * spent making them in the tick (the rest wait for the next tick; the same
 * query in the same tick is answered with the snapshot already made), an
 * answer not
 * taken by its client within CONTROL_WRITE_TIMEOUT_MS drops the client,
 * and a client silent for CONTROL_IDLE_TIMEOUT_MS is closed.
 *
 * Every function accepts NULL (no control socket) and then does nothing.
 */
#ifndef VIGIE_CONTROL_H
#define VIGIE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "detect/detect.h"
#include "detect/detect_view.h"

#define CONTROL_PROTOCOL 1
#define CONTROL_MAX_CONNS 8
#define CONTROL_MAX_REQUEST 1024
#define CONTROL_REQUESTS_PER_TICK 16
#define CONTROL_TICK_BUDGET_MS 50
#define CONTROL_WRITE_TIMEOUT_MS 2000
#define CONTROL_IDLE_TIMEOUT_MS 60000
#define CONTROL_MAX_ROWS 1000
#define CONTROL_DEFAULT_ROWS 100

struct sensor;
struct control;

/* ---- the server (control.c) ------------------------------------------- */

/* Listen on the sensor's sensor.control_socket (before privileges drop):
 * its directory made (0700) when missing, a stale socket removed, the
 * socket bound 0600, a lock beside it (PATH.lock) so that a second daemon
 * does not take it from the first. 0 with s->control set, or left NULL
 * when the setting is null, or when the default path cannot be had
 * (warned: the daemon runs without); a negative errno when a configured
 * path cannot be had (logged, naming the setting). */
int control_start(struct sensor *s);
/* The fd for the run loop's epoll set (EPOLLIN), -1 when NULL. */
int control_fd(const struct control *c);
/* The fd is readable: serve the clients (never blocks). */
void control_service(struct control *c);
/* Each tick: the request budget again, waiting requests answered, slow and
 * idle clients dropped. */
void control_tick(struct control *c);
/* Close every client and the socket; the socket file and its lock removed
 * when still ours. */
void control_free(struct control *c);
/* Clients connected now. */
int control_clients(const struct control *c);

/* ---- requests and snapshots (control_rows.c: pure) --------------------- */

enum control_sort { CONTROL_SORT_RATIO = 0, CONTROL_SORT_VOLUME };

struct control_query {
	enum control_sort sort;
	int kind;        /* enum principal_kind, -1: every kind */
	unsigned limit;  /* rows, 1..CONTROL_MAX_ROWS */
};

/* The snapshot for q (control_snapshot.c): the sensor's header and the
 * detector's rows. NULL when out of memory. */
json_t *control_snapshot(struct sensor *s, const struct control_query *q);

/* One request line (no newline) into q (defaults: ratio, every kind,
 * CONTROL_DEFAULT_ROWS rows). 0, or -1 with err saying what is wrong. */
int control_parse_request(const char *line, size_t len, struct control_query *q, char *err,
			  size_t errlen);
const char *control_sort_name(enum control_sort s);

/* What a row is sorted by, and the metric and window it is shown with. */
struct control_key {
	double ratio;      /* highest ratio over the row's metrics and windows, -1: none */
	uint64_t volume;   /* bytes of the last minute (db, db file, egress), then: */
	uint64_t volume_1h;
	uint64_t rows_1m;
	int level;         /* highest open episode level, 0: none */
	int metric;        /* lead metric (enum metric), -1 when no metric is active */
	int window;        /* lead window (enum window) */
	enum control_sort sort;
	uint64_t order;    /* position in the detector's walk: ties */
};

/* Key of a row for a sort: lead metric by highest ratio (ratio sort) or by
 * the largest volume in the last minute (volume sort), its window the one
 * with the highest ratio. */
void control_row_key(const struct detect_view_row *r, enum control_sort sort, uint64_t order,
		     struct control_key *k);
/* < 0 when a comes before b in k->sort order (ratio: highest ratio, then
 * open episode level, then volume; volume: largest volume, then ratio),
 * then the walk order. */
int control_key_cmp(const struct control_key *a, const struct control_key *b);
/* A row of the snapshot (docs/top.md). */
json_t *control_row_json(const struct detect_view_row *r, const struct control_key *k);
/* "rows" (the query's first rows in order), "matched" and "totals" of d
 * into snap (d NULL: detection off, no rows). 0 or -ENOMEM. */
int control_rows(struct detector *d, const struct control_query *q, json_t *snap);

#endif
