/* SPDX-License-Identifier: GPL-2.0 */
/* A principal's totals (summary.c) and their event (summary_event.c). */
#ifndef VIGIE_SUMMARY_INT_H
#define VIGIE_SUMMARY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "vigie.h"

#define SUM_BUCKETS 1024
#define SUM_TOP_MAX 10
#define SUM_APPS_SHOWN 10
#define SUM_APPS_SHOWN_COARSE 3

enum sum_by { BY_DB_USER, BY_APP_USER, BY_PROCESS };

/* One endpoint of a flow: the client of a db_server flow, the peer of the
 * others; family 0 and local for a unix socket client. */
struct sum_endpoint {
	uint8_t family;
	bool local;
	uint16_t port;
	uint8_t addr[16];
	char host[256];  /* a client known only by name (log_hostname) */
};

struct sum_flow {
	uint32_t pid;
	char name[VIGIE_COMM_LEN + 1];
	struct sum_endpoint ep;
	uint64_t bytes, records;
	bool records_unknown;
};

struct sum_app {
	char *user, *app;
	uint64_t records, bytes;
};

/* A principal's totals over an interval or a coarse period. A field that differs
 * between the flows merged (the executable, the database) is dropped. */
struct sum_group {
	struct sum_group *next;
	char *key;
	uint8_t cls, by;
	uint32_t uid;
	char *exe, *comm, *db_user, *db_name, *app_user, *app_name, *dir;
	bool exe_mixed, comm_mixed, db_user_mixed, db_name_mixed;
	uint32_t pid;
	bool pid_mixed;
	struct sum_endpoint ep;
	int ep_state;            /* 0 none yet, 1 one endpoint, 2 several */
	uint8_t proto;
	bool proto_mixed;
	uint64_t bytes, ops, records, copy_rows, unknown_bytes;
	bool have_rows, rows_unknown, coarse;
	uint32_t unknown_why;    /* PGWIRE_UNKNOWN_* bits */
	bool server_reader;      /* db_file: read by the database server */
	uint64_t flows;
	uint64_t start_ns;
	struct sum_flow top[SUM_TOP_MAX];
	uint32_t n_top;
	struct sum_app *apps;
	size_t n_apps, cap_apps;
};

/* The usage event of a principal's totals; period "interval" or "coarse".
 * Sorts g's application users (most records first). */
json_t *summary_event(struct sum_group *g, const char *period, uint64_t end_ns);

#endif
