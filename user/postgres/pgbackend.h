/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recognising a local PostgreSQL server and its backends, and reading who
 * a backend works for from its process title.
 *
 * Postmaster: a process whose executable is a PostgreSQL server binary
 * (basename "postgres" in a ".../bin/" directory, or a configured path) and
 * whose parent does not run that same binary. Backend: a child of a
 * postmaster running the same binary. The process title is only trusted
 * for processes recognised that way: any process can set a title that
 * reads "postgres: ...".
 *
 * Title format (PostgreSQL >= 13, update_process_title on or off):
 *   postgres: [CLUSTER_NAME: ][walsender ]USER [DATABASE ]CLIENT[(PORT)] [STATE]
 * CLIENT is an IPv4/IPv6 address, a host name (log_hostname) or "[local]"
 * for a unix socket. Names are raw bytes from the server (any encoding):
 * whoever prints them must escape them.
 */
#ifndef VIGIE_PGBACKEND_H
#define VIGIE_PGBACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGB_NAME_MAX 64     /* NAMEDATALEN: 63 bytes + NUL */
#define PGB_CLUSTER_MAX 64
#define PGB_CLIENT_MAX 256  /* host name with log_hostname */
#define PGB_STATE_MAX 128
#define PGB_TITLE_MAX 4096  /* bytes of /proc/PID/cmdline read */
#define PGB_MAX_SERVER_EXES 32

struct pgb_title {
	char cluster[PGB_CLUSTER_MAX]; /* cluster_name prefix, "" if none */
	char db_user[PGB_NAME_MAX];
	char db_name[PGB_NAME_MAX];    /* "" for a physical walsender */
	char client[PGB_CLIENT_MAX];   /* as shown: "10.0.0.7", "::1", "[local]", host */
	uint8_t client_addr[16];       /* IPv4 in the first 4 bytes */
	int family;                    /* AF_INET, AF_INET6, AF_UNIX ([local]), 0: host name */
	uint16_t client_port;          /* host order; 0 for [local] */
	bool local;                    /* unix socket */
	bool walsender;                /* replication connection */
	bool ambiguous;                /* a name holds spaces: user/db split guessed */
	char state[PGB_STATE_MAX];     /* "idle", "SELECT", ...; may be "" */
};

enum pgb_kind {
	PGB_OTHER = 0,
	PGB_POSTMASTER = 1,
	PGB_BACKEND = 2,
};

struct pgb_proc {
	uint32_t pid;
	uint32_t ppid;
};

struct pgb_scan {
	uint32_t *postmasters;
	size_t n_postmasters;
	struct pgb_proc *backends; /* ppid = its postmaster */
	size_t n_backends;
};

/* ---- pure functions (unit tested) ---- */

/* Parse a backend title (the bytes of /proc/PID/cmdline; stops at the
 * first NUL, trailing spaces ignored). 0 on success, -EINVAL when it is
 * not a client backend title (postmaster, checkpointer, a worker, not yet
 * set, garbage). *t is zeroed first. */
int pgb_parse_title(const char *buf, size_t len, struct pgb_title *t);

/* Parse "IP(PORT)", "HOST(PORT)", "IP" or "[local]" into t->client*,
 * family, local. 0 or -EINVAL. */
int pgb_parse_client(const char *s, size_t len, struct pgb_title *t);

/* Parent pid from the content of /proc/PID/stat. 0 or -EINVAL. */
int pgb_parse_stat_ppid(const char *buf, size_t len, uint32_t *ppid);

/* Is this executable path (readlink of /proc/PID/exe) a PostgreSQL
 * server? A " (deleted)" suffix (package upgraded under a running
 * server) is ignored. Configured paths (pgb_set_server_exes) match
 * exactly, in addition to the default rule. */
bool pgb_is_server_exe(const char *path);

/* Replace the configured server paths (copied). -E2BIG if too many. */
int pgb_set_server_exes(const char *const *paths, size_t n);

/* ---- /proc readers; proc_root NULL means "/proc" ---- */

/* Executable of pid (" (deleted)" stripped). 0 or -errno. */
int pgb_read_exe(const char *proc_root, uint32_t pid, char *buf, size_t size);
int pgb_read_ppid(const char *proc_root, uint32_t pid, uint32_t *ppid);
int pgb_read_title(const char *proc_root, uint32_t pid, struct pgb_title *t);

/* PGB_POSTMASTER, PGB_BACKEND (*postmaster set when not NULL),
 * PGB_OTHER, or -errno when pid cannot be read (gone, no access). */
int pgb_classify(const char *proc_root, uint32_t pid, uint32_t *postmaster);

/* All running postmasters and their backends. 0 or -errno; free with
 * pgb_scan_free (also safe on a zeroed or failed scan). */
int pgb_scan(const char *proc_root, struct pgb_scan *out);
void pgb_scan_free(struct pgb_scan *s);

#endif
