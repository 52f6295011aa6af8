/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who a process is: resolved once per process (exec event or /proc), kept
 * until the drain that follows its exit, so short-lived processes are named.
 */
#ifndef VIGIE_IDENTITY_H
#define VIGIE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vigie.h"

struct identity {
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t loginuid;       /* VIGIE_LOGINUID_UNSET when unset */
	uint64_t cgroup_id;
	char comm[VIGIE_COMM_LEN + 1];
	char *exe;               /* NULL when unknown */
	int8_t exe_trust;        /* identity_exe_trusted: 0 not judged yet, 1, -1 */
	char *cmdline;           /* raw bytes, arguments joined by spaces */
	size_t cmdline_len;
	char *cgroup_path;       /* cgroup v2 path, NULL when unknown */
	const char *user_name;   /* NULL when the uid has no name */
	const char *audit_name;  /* name of loginuid */
	bool complete;           /* read from a live /proc or an exec event */
	bool exited;
	uint64_t exit_gen;
	/* PostgreSQL backend attribution (filled by the PostgreSQL module) */
	char *db_user;
	char *db_name;
	char client_ip[256];      /* address, or host name with log_hostname */
	uint16_t client_port;
	bool client_local;       /* unix socket */
	int refs;
};

struct identities;

struct identities *identities_new(void);
void identities_free(struct identities *ids);
/* Learn from an exec/exit event. gen: the current drain generation. */
void identities_on_event(struct identities *ids, const struct vigie_proc_event *e, uint64_t gen);
/* Identity of pid, resolved from /proc on first sight; uid is the one the
 * kernel saw (used when /proc is gone). Never NULL except out of memory.
 * The table keeps its own reference; take one with identity_get to keep it. */
struct identity *identities_lookup(struct identities *ids, uint32_t pid, uint32_t uid);
/* Forget processes that exited before drain generation gen started. */
void identities_purge(struct identities *ids, uint64_t gen);
size_t identities_count(const struct identities *ids);

struct identity *identity_get(struct identity *id);
void identity_put(struct identity *id);

/* Its executable is one only root could have put there (trust.h), judged
 * once, when first asked (a few stat calls: only for processes whose
 * executable's name makes the question matter). */
bool identity_exe_trusted(struct identity *id);

/* Name of a uid (cached), NULL if none. */
const char *user_name_of(uint32_t uid);
/* Read /proc/PID/... into a fresh identity (tests use it too). */
struct identity *identity_from_proc(uint32_t pid);

#endif
