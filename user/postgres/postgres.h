/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PostgreSQL awareness in the daemon: when row counting runs (postgres:
 * auto|on|off), and which database account a backend works for.
 * The kernel side and its loader are in pgwire.*, title parsing in
 * pgbackend.*; this file only decides and attributes.
 */
#ifndef VIGIE_POSTGRES_H
#define VIGIE_POSTGRES_H

#include <jansson.h>
#include "base/config.h"
#include "base/identity.h"
#include "postgres/pgwire.h"
#include "vigie.h"

struct pg_awareness;

/* A server's own TCP port, found listening (any port: its sends there are
 * db_server bytes whatever databases.ports says). */
struct pg_port {
	uint16_t port;
	uint32_t pid; /* the server that listens */
};
typedef void (*pg_port_fn)(uint16_t port, uint32_t pid, void *ctx);
/* Whether the listening ports of every server tracked are known (each told
 * to port_fn before): a backend's answers then leave from one of them or
 * from a unix socket. false while a server's ports are looked for, or when
 * they could not be. Told at each change; false before the first call. */
typedef void (*pg_ports_known_fn)(bool known, void *ctx);

/* Starts row counting now when mode is on, or auto and a postmaster runs.
 * port_fn (may be NULL) is told each listening port of a server, once;
 * known_fn (may be NULL) whether they are all known; both get port_ctx.
 * send_chain_fd: pgwire_opts.send_chain_fd (probes_send_chain_fd()). */
struct pg_awareness *pg_awareness_new(enum pg_mode mode, bool tls_hook, int send_chain_fd,
				       pg_port_fn port_fn, pg_ports_known_fn known_fn,
				       void *port_ctx);
/* Each tick: looks again for the ports of servers that started lately. */
void pg_awareness_tick(struct pg_awareness *pga);
/* The ports found so far (in order); their number. */
int pg_awareness_ports(const struct pg_awareness *pga, const struct pg_port **ports);
void pg_awareness_free(struct pg_awareness *pga);
/* An exec: a PostgreSQL server starting turns counting on (auto) and is
 * added to the tracked postmasters. */
void pg_awareness_on_exec(struct pg_awareness *pga, const struct vigie_proc_event *e);
/* Per-backend increments since the last drain, with the identity
 * attributed (db_user, db_name, client). */
typedef void (*pg_rows_fn)(struct identity *id, const struct pgwire_delta *d, void *ctx);
int pg_awareness_drain(struct pg_awareness *pga, struct identities *ids, pg_rows_fn fn, void *ctx);
/* Attribute a process if it is a PostgreSQL backend (title parsed once). */
void pg_attribute(struct identity *id);
/* "off", "waiting" (auto, no server yet), "on", "failed" */
const char *pg_awareness_state(const struct pg_awareness *pga);
/* Containment: a backend reporting this value is ended by the kernel
 * until until_ns (CLOCK_MONOTONIC; 0: no longer). Kept across a start of
 * counting. 0 or -errno. */
int pg_awareness_guard(struct pg_awareness *pga, const struct pgwire_guard_key *k,
		       uint64_t until_ns);
/* fn is told each backend the kernel ended (during a drain). */
void pg_awareness_on_contained(struct pg_awareness *pga, pgwire_contained_fn fn, void *ctx);
/* The application name and role backend pid reported last; false: none. */
bool pg_awareness_session(struct pg_awareness *pga, uint32_t pid, struct pg_param_value *app,
			  struct pg_param_value *role);
/* Heartbeat / stop statistics under vigie.stats.postgres. */
void pg_awareness_stats(struct pg_awareness *pga, json_t *ev);

#endif
