/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the previous drain of pgwire saw of each backend, by tgid: an open
 * addressing table (linear probing, power-of-two size, backward-shift
 * deletion). Internal to user/pgwire.c.
 */
#ifndef VIGIE_PGSEEN_H
#define VIGIE_PGSEEN_H

#include <stddef.h>
#include <stdint.h>
#include "postgres/pgsession.h"

/* What the previous drain saw of one backend. */
struct seen {
	uint32_t tgid; /* 0: empty slot */
	uint32_t mark;
	uint64_t created_ns;
	uint64_t rows, copy_rows, bytes, unparsed_bytes, msgs;
	uint32_t lost_syncs, resyncs;
	uint32_t sends; /* modulo 2^32, as the kernel counts them */
	struct pg_session *sess; /* parameter changes seen, NULL: none yet */
};

struct seen_table {
	struct seen *v;
	size_t cap, len;
};

struct seen *seen_find(struct seen_table *t, uint32_t tgid);
/* A cleared entry for tgid (NULL: no memory). */
struct seen *seen_add(struct seen_table *t, uint32_t tgid);
/* Frees its session; may move another entry into its slot. */
void seen_del(struct seen_table *t, struct seen *s);
void seen_free(struct seen_table *t);

#endif
