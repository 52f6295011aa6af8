/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PostgreSQL row counting: loader and drain API for the daemon.
 *
 * Life cycle:
 *   pg = pgwire_start(NULL);          load + attach, NULL with a logged reason
 *   pgwire_scan(pg);                  add running postmasters and backends
 *   every tick: pgwire_drain(pg, cb, ctx);
 *   on exec of a PostgreSQL server binary: pgwire_scan(pg) again
 *   heartbeat: pgwire_stats(pg, &st);
 *   pgwire_stop(pg);
 *
 * Backends forked by a known postmaster are tracked by the kernel from
 * birth; exits are seen by the kernel too. pgwire_drain reports each
 * backend's increments since the previous drain (cumulative kernel values,
 * so nothing is counted twice or lost between drains) and, for a backend
 * that exited, its final increment with exited = true, after which the
 * entry is deleted. The title the backend showed ("postgres: USER DB
 * CLIENT(PORT) STATE") is kept by the kernel and parsed into every delta
 * (title_ok), so a backend that came and went between two drains is still
 * attributed to its database account and client.
 * Not thread-safe; do not call pgwire_* from inside the drain callback.
 */
#ifndef VIGIE_PGWIRE_USER_H
#define VIGIE_PGWIRE_USER_H

#include <stdbool.h>
#include <stdint.h>
#include "postgres/pgbackend.h"  /* struct pgb_title */
#include "postgres/pgsession.h"  /* struct pg_segment */
#include "pgwire_abi.h" /* PGWIRE_F_*, kernel map structs */

struct pgwire;

enum pgwire_probe {
	PGWIRE_PROBE_AUTO = 0,    /* sock, else syscall */
	PGWIRE_PROBE_SOCK = 1,    /* tp_btf/sock_send_length (Linux >= 6.3) */
	PGWIRE_PROBE_SYSCALL = 2, /* tracepoint syscalls:sys_exit_sendto */
};

struct pgwire_opts {
	enum pgwire_probe probe;
	bool no_tls_hook;         /* leave be_tls_write alone: TLS rows unknown */
	/* > 0: the sensor's send_chain prog array (probes_send_chain_fd()):
	 * pg_sock_send runs as sock_send_btf's tail call there, one program
	 * per socket send, if the kernel accepts it (else, and when <= 0, it
	 * is attached on its own). Borrowed: must outlive the pgwire. */
	int send_chain_fd;
};

/* Why the rows of a backend are not known (pgwire_delta.unknown_why bits) */
enum pgwire_unknown {
	PGWIRE_UNKNOWN_TLS_NOT_HOOKED = 1u << 0, /* TLS, be_tls_write not hooked (missing, refused, off) */
	PGWIRE_UNKNOWN_GSSAPI = 1u << 1,         /* GSSAPI encryption: no plaintext hook */
	PGWIRE_UNKNOWN_BEFORE_START = 1u << 2,   /* open before vigie: counted from its next result */
	PGWIRE_UNKNOWN_DIRECT_TLS = 1u << 3,     /* TLS without SSLRequest: from its next result */
	PGWIRE_UNKNOWN_UNSYNCED = 1u << 4,       /* bytes not walked after a protocol fault */
};
#define PGWIRE_UNKNOWN_KINDS 5
/* "tls_not_hooked", "gssapi", "opened_before_start", "direct_tls", "unsynced"
 * for one bit; NULL for anything else. */
const char *pgwire_unknown_name(uint32_t bit);

/* Increments of one backend since the previous drain. */
struct pgwire_delta {
	uint32_t tgid;
	uint32_t flags;          /* PGWIRE_F_* (include/pgwire_abi.h) */
	uint64_t created_ns;     /* identity of the entry (CLOCK_MONOTONIC ns) */
	uint64_t rows;           /* records returned: DataRow + COPY rows */
	uint64_t copy_rows;      /* of which COPY ... TO STDOUT rows */
	uint64_t bytes;          /* bytes sent on the client connection */
	uint64_t unparsed_bytes; /* of which not walked (encrypted/unsynced) */
	uint64_t msgs;           /* protocol messages walked */
	uint32_t lost_syncs;
	uint32_t resyncs;
	bool rows_known;         /* false: encrypted, or some bytes not walked
				  * (rows is then a lower bound, or 0 and
				  * meaningless for an encrypted connection) */
	uint32_t unknown_why;    /* rows_known false: PGWIRE_UNKNOWN_* bits, never 0 */
	bool encrypted;          /* TLS/GSSAPI */
	bool tls_walked;         /* TLS whose plaintext is walked: rows counted */
	bool exited;             /* final delta: forgotten after the callback */
	bool title_ok;           /* title below parsed from the title the kernel
				  * kept: valid even after the process exited */
	struct pgb_title title;  /* db_user, db_name, client, client_port, ... */
	/* The counts above split by application user and role in turn (from
	 * the ParameterStatus messages the backend sent), exactly; valid
	 * during the callback. n_segs 0: the backend reported no change. */
	const struct pg_segment *segs;
	size_t n_segs;
};

struct pgwire_stats {
	uint64_t backends;             /* tracked now (incl. not yet drained exits) */
	uint64_t postmasters;          /* tracked now */
	uint64_t unparsed_connections; /* tracked now and encrypted */
	uint64_t encrypted_total;      /* connections found encrypted since start */
	uint64_t lost_syncs;           /* since start */
	uint64_t resyncs;
	uint64_t unsynced_bytes;       /* bytes sent while unsynced (rows lost) */
	uint64_t loop_caps;
	uint64_t read_fails;
	uint64_t foreign_sends;        /* sends of backends on other sockets */
	uint64_t backend_full;         /* backends not tracked: map full */
	uint64_t pid_reuse;            /* exited entries overwritten before drain */
	uint64_t forks;                /* backends added by the kernel */
	uint64_t param_changes;        /* application user / role changes reported */
	uint64_t tls_walked_connections; /* tracked now, TLS, plaintext walked */
	uint64_t tls_writes;           /* TLS plaintext writes walked since start */
	uint64_t tls_retries;          /* TLS writes called again after a blocked send (not walked twice) */
	uint64_t tls_hooked_executables; /* PostgreSQL executables hooked */
	uint64_t param_changes_lost;   /* not reported or not matched to a backend:
					* rows after them may go to the user before */
	uint64_t sends;                /* sends walked, as of the last drain */
};

typedef void (*pgwire_cb)(const struct pgwire_delta *d, void *ctx);

/* opts may be NULL (auto). */
struct pgwire *pgwire_start(const struct pgwire_opts *opts);
/* "sock" or "syscall" */
const char *pgwire_probe_name(const struct pgwire *pg);
/* 0 or -errno (-ESRCH: the process is gone). Adding an already tracked
 * process is not an error (a backend tracked from birth keeps its state). */
int pgwire_add_postmaster(struct pgwire *pg, uint32_t tgid);
int pgwire_add_backend(struct pgwire *pg, uint32_t tgid);
/* Add every running postmaster (then its backends) found in /proc:
 * idempotent, a few ms per thousand processes. Call it at start and on the
 * exec of a PostgreSQL server binary. Number of postmasters found, or
 * -errno. */
int pgwire_scan(struct pgwire *pg);
/* Calls cb for every backend with a non-zero increment (and for every
 * exited one). Number of callbacks, or -errno. */
int pgwire_drain(struct pgwire *pg, pgwire_cb cb, void *ctx);
void pgwire_stats(struct pgwire *pg, struct pgwire_stats *st);
/* fd of the attached send program (for benchmarks: run time statistics
 * with bpf_enable_stats()), or -1. */
int pgwire_send_prog_fd(const struct pgwire *pg);
/* fd of the be_tls_write uprobe program (loaded even when not attached), or -1. */
int pgwire_tls_prog_fd(const struct pgwire *pg);
/* The kernel sent SIGTERM to a backend that reported a value in
 * quarantine (containment): ev is the change (PGWIRE_PF_CONTAINED set).
 * Called from pgwire_drain, before that backend's counts. */
typedef void (*pgwire_contained_fn)(const struct pgwire_param_event *ev, void *ctx);
void pgwire_on_contained(struct pgwire *pg, pgwire_contained_fn fn, void *ctx);
/* The session parameters a backend reported so far, NULL: none. */
const struct pg_session *pgwire_session(struct pgwire *pg, uint32_t tgid);
/* fd of the quarantine map (pgwire_guard_key -> pgwire_guard), or -1. */
int pgwire_guard_map_fd(const struct pgwire *pg);
/* Accepts NULL. */
void pgwire_stop(struct pgwire *pg);

#endif
