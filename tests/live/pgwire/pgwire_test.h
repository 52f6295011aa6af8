/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live_pgwire's parts, shared declarations (tests/live/test_pgwire.c holds
 * main and the --hold mode):
 *   deltas.c        the drained deltas, accumulated per backend
 *   synthetic.c     part 1: synthetic streams from a fake postmaster
 *   real_cluster.c  part 2: a real cluster queried with psql
 */
#ifndef VIGIE_TESTS_LIVE_PGWIRE_TEST_H
#define VIGIE_TESTS_LIVE_PGWIRE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "lib/live.h"
#include "postgres/pgbackend.h"
#include "postgres/pgwire.h"

#define CHECK_EQ(got, want, what)                                             \
	CHECK((uint64_t)(got) == (uint64_t)(want), "%s: got %llu, want %llu", \
	      what, (unsigned long long)(got), (unsigned long long)(want))

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* How psql connects. */
struct conn {
	const char *host;    /* NULL: unix socket (PGHOST) */
	const char *sslmode; /* NULL: disable */
	const char *user;
	const char *db;
};

/* ---- deltas.c: accumulating drained deltas ---- */

/* One backend's deltas, summed. */
struct acc {
	uint32_t tgid;
	uint64_t rows, copy_rows, bytes, unparsed, msgs;
	uint32_t lost, resyncs;
	bool unknown, encrypted, exited, midstream, title_ok;
	struct pgb_title title;
};

/* The backends reported since the last acc_reset, naccs of them. */
extern struct acc accs[];
extern size_t naccs;

struct acc *acc_get(uint32_t tgid);
/* pgwire_drain's callback: adds the delta to its backend's acc. */
void on_delta(const struct pgwire_delta *d, void *ctx);
void acc_reset(void);
/* Drain until `exits` backends reported their exit (or 10 s). */
void drain_until_exits(struct pgwire *pg, size_t exits);

/* ---- synthetic.c: part 1 ---- */

void synthetic_streams(struct pgwire *pg, const char *mode);

/* ---- real_cluster.c: part 2 ---- */

extern uint32_t cluster_postmaster;
/* Background processes tracked when no client is connected. */
extern uint64_t idle_backends;
extern const struct conn conn_tcp, conn_unix;

int psql_wait(pid_t pid);
/* The role and database of the cases, and their 1,000,000-row table. */
int setup_db(void);
uint32_t read_postmaster_pid(void);
/* A long query to catch the backend title while it runs. */
void case_title(const struct conn *c, const char *label);
/* The queries with exact counts (full: every one, else a subset). */
void real_cases(struct pgwire *pg, bool full);

#endif
