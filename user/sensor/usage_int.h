/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The usage table's entries, shared by usage.c (one event per flow) and
 * summary.c (one event per principal). Not for other subsystems.
 */
#ifndef VIGIE_USAGE_INT_H
#define VIGIE_USAGE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/identity.h"
#include "postgres/pgsession.h"

#define USAGE_BUCKETS 8192

struct usage_key {
	uint32_t pid;
	uint32_t uid;
	uint64_t cgroup_id;
	uint8_t cls;
	uint8_t family;
	uint8_t proto;
	uint8_t coarse;
	uint16_t rport;
	uint16_t lport;
	uint8_t raddr[16];
};

/* Records and bytes of one application user (and role) of a backend. */
struct app_tally {
	struct pg_param_value app, role;
	uint64_t records, bytes;
};

struct usage_entry {
	struct usage_key key;
	struct identity *id;
	uint64_t bytes;
	uint64_t ops;
	uint64_t rows;
	uint64_t copy_rows;
	bool have_rows;
	bool rows_unknown;
	uint32_t unknown_why;        /* PGWIRE_UNKNOWN_* bits */
	struct app_tally *apps;      /* by application user, in first-seen order */
	size_t n_apps, cap_apps;
	struct usage_entry *next;
	struct usage_entry *next_db; /* next db_server entry in its pid bucket */
};

#endif
