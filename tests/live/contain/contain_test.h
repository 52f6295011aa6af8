/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live_contain's parts, shared declarations (tests/live/test_contain.c holds
 * the roles, the dry-run phase and main):
 *   enforce.c   the enforce phase: a database account, a pool, egress
 *   clients.c   the database clients and what they wrote
 *   events.c    the sensor's containment events and alerts, the server's log
 *   egress.c    the egress transfer: a sink in a namespace, a paced sender
 */
#ifndef VIGIE_TESTS_LIVE_CONTAIN_TEST_H
#define VIGIE_TESTS_LIVE_CONTAIN_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "lib/live.h"

/* test_contain.c: the throw-away cluster's own psql. */
extern const char *psql_bin;

/* ---- enforce.c ---- */

void enforce(void);

/* ---- clients.c: tests/live/contain_client.py, one process a client ---- */

extern char *client_script;

/* Start a client: its lines go to tmpdir/NAME.out. */
int client(struct child *c, const char *name, const char *mode, const char *user,
	   const char *arg, bool tls);
/* The last line of tmpdir/NAME.out starting with kind, its time and rows. */
bool last_line(const char *name, const char *kind, double *t, long long *rows,
	       char *rest, size_t rest_len);
/* Rows the extractor had at time t (its last "ROWS" line not after t). */
long long rows_at(const char *name, double t);
/* tmpdir/NAME.out, malloc'ed (NULL if unreadable). */
char *read_out(const char *name);
/* child_wait, saying so when the child did not end in time. */
void wait_exit(struct child *c, const char *name, int timeout_ms);

/* ---- events.c ---- */

/* The first containment event of this action (and principal id); *n gets
 * how many there are. */
json_t *find_contain(const struct events *e, const char *action, const char *id, size_t *n);
/* The first alert of a principal (of this severity when not NULL). */
json_t *find_alert(const struct events *e, const char *kind, const char *id,
		   const char *severity);
/* Its event.type (the first), NULL if none. */
const char *event_type(json_t *ev);
/* Lines of the test cluster's log holding s. */
int server_log_count(const char *s);

/* ---- egress.c ---- */

/* The transfer's figures, in memory shared with the sink and the sender
 * (main maps it). */
struct transfer {
	volatile unsigned long long received; /* by the sink */
	volatile unsigned long long sent;
	volatile double end_time;             /* the sender's send failed */
	volatile double last_rx;              /* the sink's last bytes */
	volatile int end_errno;
	volatile int port;
};

extern struct transfer *transfer;
/* The peer's namespace (main creates it). */
extern struct netns peer_ns;

/* child_fork functions: the sink listens in peer_ns and counts what it
 * receives; the sender sends to it as nobody until a send fails. */
int sink(void *arg);
int sender(void *arg);
/* A TCP connection to ip:port: its fd, or -errno. */
int tcp_connect(const char *ip, int port);
/* Within a second of its alert: the peer gets nothing more, the sender is
 * stopped, a new connection to the peer is refused. */
void check_egress_stopped(pid_t sender_pid);

#endif
