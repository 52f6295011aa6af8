/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PostgreSQL awareness: structures shared by bpf/pgwire.bpf.c and
 * user/pgwire.c. Fixed-width types only, explicit padding, no holes.
 *
 * One map entry per PostgreSQL backend process (key: tgid). It holds the
 * cumulative counters (user space computes deltas) and the state of the
 * protocol walker for the backend's client connection (a backend serves
 * exactly one client connection for its whole life).
 */
#ifndef VIGIE_PGWIRE_ABI_H
#define VIGIE_PGWIRE_ABI_H

#ifdef __VIGIE_BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define PGWIRE_MAX_BACKENDS 8192
#define PGWIRE_TITLE_MAX 256 /* bytes of the process title kept */
#define PGWIRE_MAX_POSTMASTERS 64

/* Wire protocols a walker exists for (MySQL would be 2). */
enum pgwire_proto {
	PGWIRE_PROTO_PG = 1,
};

/* Walker synchronisation state of a connection. */
enum pgwire_sync {
	PGWIRE_SYNC_NEW = 0,       /* seen from birth, nothing sent yet */
	PGWIRE_SYNC_OK = 1,        /* walking message by message */
	PGWIRE_SYNC_LOST = 2,      /* unsynced: waiting for the next result */
	PGWIRE_SYNC_ENCRYPTED = 3, /* TLS or GSSAPI: never walked */
};

/* COPY state of a connection. */
enum pgwire_copy {
	PGWIRE_COPY_NONE = 0,
	PGWIRE_COPY_OUT_TEXT = 1,   /* 'H' format 0: a CopyData per row (+ CSV header) */
	PGWIRE_COPY_OUT_BINARY = 2, /* 'H' format 1: + a trailer CopyData */
	PGWIRE_COPY_OUT_FMT = 3,    /* 'H' seen, format byte in the next send */
	PGWIRE_COPY_BOTH = 4,       /* 'W' (replication): CopyData not rows */
};

/* pgwire_backend.flags */
#define PGWIRE_F_EXITED (1u << 0)    /* process exited: final values */
#define PGWIRE_F_ENCRYPTED (1u << 1) /* TLS/GSSAPI connection: rows unknown */
#define PGWIRE_F_MIDSTREAM (1u << 2) /* added by user space while running */
#define PGWIRE_F_EXECED (1u << 3)    /* called execve: no longer a backend */
#define PGWIRE_F_TITLE (1u << 4)     /* title holds "postgres: ..." */
#define PGWIRE_F_TLS_START (1u << 5) /* TLS began with the 'S' answer we saw */
#define PGWIRE_F_TLS_PLAIN (1u << 6) /* its plaintext is walked (TLS hook) */
#define PGWIRE_F_TLS_HOOKED (1u << 7) /* its executable's be_tls_write is hooked */
#define PGWIRE_F_TLS_RETRY (1u << 8) /* a socket send of its TLS write would block:
				      * the same write comes again, already walked */
#define PGWIRE_F_GSSENC (1u << 9)    /* GSSAPI encryption began with the 'G' answer */
#define PGWIRE_F_ROLE_SEEN (1u << 10) /* its login role was reported */
#define PGWIRE_F_CONTAINED (1u << 11) /* ended by containment (SIGTERM sent) */

/* pg_postmasters values */
#define PGWIRE_PM_TRACKED 1
#define PGWIRE_PM_TLS_HOOKED 2 /* its executable is hooked: backends inherit */

/* Walker state of the backend's client connection. */
struct pgwire_conn {
	__s32 fd;        /* claimed client socket fd, -1 until claimed */
	__u32 skip;      /* body bytes left in the current message */
	__u64 hdr;       /* partial header bytes, big endian accumulator */
	__u64 copy_count; /* rows counted in the current COPY */
	__u8 hdr_len;    /* 0..4 header bytes held in hdr */
	__u8 sync;       /* enum pgwire_sync */
	__u8 copy;       /* enum pgwire_copy */
	__u8 copy_held;  /* COPY: one CopyData held back until "COPY n" */
	__u8 proto;      /* enum pgwire_proto */
	__u8 pad[3];
};

/* Value of the backends map. Counters are cumulative since the entry was
 * created; only the process itself updates them. */
struct pgwire_backend {
	__u64 created_ns;     /* bpf_ktime_get_ns() at creation: identity */
	__u64 rows;           /* DataRow messages */
	__u64 copy_rows;      /* CopyData messages of a COPY ... TO STDOUT */
	__u64 bytes;          /* bytes sent on the client connection */
	__u64 unparsed_bytes; /* of which not walked (encrypted, unsynced) */
	__u64 msgs;           /* protocol messages walked */
	__u32 lost_syncs;     /* times the walker lost sync */
	__u32 resyncs;        /* times it found sync again */
	__u32 flags;          /* PGWIRE_F_* */
	__u32 sends;          /* sends walked, modulo 2^32 (counted here, in
			       * memory the send touches anyway, rather than
			       * in a per-CPU statistic: 13-25 ns a send) */
	struct pgwire_conn conn;
	/* TLS connections: the plaintext the backend hands to TLS
	 * (be_tls_write), walked like the socket's bytes of a plain one */
	struct pgwire_conn tls;
	__u64 tls_bytes;      /* plaintext bytes walked */
	__u64 tls_last_buf;   /* the last TLS write walked (buffer, length): */
	__u64 tls_last_len;   /* its retry after a blocked send is not walked */
	/* The process title ("postgres: USER DB CLIENT(PORT) STATE", from
	 * the start of the argv area), captured by the kernel at the first
	 * send after the backend set it, so that a backend that exits
	 * before user space reads /proc is still attributed. Valid when
	 * PGWIRE_F_TITLE is set; not NUL-terminated when full. */
	char title[PGWIRE_TITLE_MAX];
};

/* A change of a reported session parameter (ParameterStatus 'S'), in the
 * order of the backend's sends: the application user the client named
 * (application_name), or the session's role (session_authorization).
 * The counters are cumulative values of the backend's entry at the change:
 * what came before belongs to the previous value, what follows to this
 * one, exactly, even within one send. */
#define PGWIRE_PARAM_MAX 64 /* value bytes kept (PostgreSQL truncates at 63) */

enum pgwire_param {
	PGWIRE_PARAM_APP_NAME = 1,     /* application_name */
	PGWIRE_PARAM_SESSION_AUTH = 2, /* session_authorization */
};

/* pgwire_param_event.flags */
#define PGWIRE_PF_TRUNCATED (1u << 0) /* value longer than PGWIRE_PARAM_MAX */
#define PGWIRE_PF_UNREAD (1u << 1)    /* value crossed a send: unknown */
#define PGWIRE_PF_CONTAINED (1u << 2) /* the value is in quarantine: the kernel
				       * sent the backend SIGTERM */
#define PGWIRE_PF_LOGIN (1u << 3)     /* session_authorization: the login role */

struct pgwire_param_event {
	__u64 created_ns;   /* the backend entry's identity */
	__u64 records_at;   /* rows + copy_rows of the entry at the change */
	__u64 bytes_at;     /* bytes of the entry before the message */
	__u32 tgid;
	__u8 param;         /* enum pgwire_param */
	__u8 flags;         /* PGWIRE_PF_* */
	__u8 len;           /* bytes of value used */
	__u8 pad;
	char value[PGWIRE_PARAM_MAX];
};

/* Per-CPU statistics (array index), cumulative since load. */
enum pgwire_stat {
	PGWIRE_STAT_ENCRYPTED = 0,  /* connections found encrypted */
	PGWIRE_STAT_LOST_SYNC,      /* sync lost (bad type/length/read) */
	PGWIRE_STAT_RESYNC,         /* sync found again */
	PGWIRE_STAT_UNSYNCED_BYTES, /* bytes sent while unsynced */
	PGWIRE_STAT_LOOP_CAP,       /* walk stopped at the iteration cap */
	PGWIRE_STAT_READ_FAIL,      /* bpf_probe_read_user failed */
	PGWIRE_STAT_FOREIGN_SEND,   /* backend sent on another fd: ignored */
	PGWIRE_STAT_BACKEND_FULL,   /* backends map full at fork */
	PGWIRE_STAT_PID_REUSE,      /* fork reused an unreported exited entry */
	PGWIRE_STAT_FORKS,          /* backends added by the kernel */
	PGWIRE_STAT_PARAMS,         /* parameter changes reported */
	PGWIRE_STAT_TLS_WRITES,     /* TLS plaintext writes walked */
	PGWIRE_STAT_TLS_RETRIES,    /* TLS writes retried after a blocked send */
	PGWIRE_STAT_PARAM_LOST,     /* changes not reported (too many in one
				     * send, ring buffer full, name unread) */
	PGWIRE_STAT_CONTAINED,      /* backends sent SIGTERM by the quarantine */
	PGWIRE_STAT_MAX,
};

/* Containment's session quarantine (user/contain/, docs/containment.md):
 * a backend that reports one of these values is sent SIGTERM by the
 * kernel in its own context, before the result that follows leaves it.
 * Keyed by what the backend reports, exactly (value zero-padded). */
#define PGWIRE_MAX_GUARDS 256

enum pgwire_guard_kind {
	PGWIRE_GUARD_LOGIN_ROLE = 1, /* session_authorization at login: a database account */
	PGWIRE_GUARD_APP_NAME = 2,   /* application_name: an application user */
	PGWIRE_GUARD_SET_ROLE = 3,   /* SET SESSION AUTHORIZATION: an application user */
};

struct pgwire_guard_key {
	__u8 kind;  /* enum pgwire_guard_kind */
	__u8 len;   /* bytes of value */
	__u8 pad[6];
	char value[PGWIRE_PARAM_MAX];
};

struct pgwire_guard {
	__u64 until_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC): released after */
	__u64 hits;     /* backends ended */
};

#endif /* VIGIE_PGWIRE_ABI_H */
