// SPDX-License-Identifier: GPL-2.0
/*
 * live_pgwire: the deltas drained from row counting, accumulated per
 * backend (accs[]) for both parts of the test and the --hold mode.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "pgwire_test.h"

#define MAX_ACC 1024
struct acc accs[MAX_ACC];
size_t naccs;

struct acc *acc_get(uint32_t tgid)
{
	for (size_t i = 0; i < naccs; i++)
		if (accs[i].tgid == tgid)
			return &accs[i];
	return NULL;
}

void on_delta(const struct pgwire_delta *d, void *ctx)
{
	struct acc *a = acc_get(d->tgid);

	(void)ctx;
	if (!a) {
		if (naccs == MAX_ACC)
			return;
		a = &accs[naccs++];
		memset(a, 0, sizeof(*a));
		a->tgid = d->tgid;
	}
	a->rows += d->rows;
	a->copy_rows += d->copy_rows;
	a->bytes += d->bytes;
	a->unparsed += d->unparsed_bytes;
	a->msgs += d->msgs;
	a->lost += d->lost_syncs;
	a->resyncs += d->resyncs;
	a->unknown |= !d->rows_known;
	a->encrypted |= d->encrypted;
	a->exited |= d->exited;
	a->midstream |= (d->flags & PGWIRE_F_MIDSTREAM) != 0;
	if (d->title_ok) {
		a->title_ok = true;
		a->title = d->title;
	}
}

void acc_reset(void)
{
	naccs = 0;
}

static size_t acc_exited(void)
{
	size_t n = 0;

	for (size_t i = 0; i < naccs; i++)
		n += accs[i].exited;
	return n;
}

/* Drain until `exits` backends reported their exit (or 10 s). */
void drain_until_exits(struct pgwire *pg, size_t exits)
{
	for (int i = 0; i < 200; i++) {
		pgwire_drain(pg, on_delta, NULL);
		if (acc_exited() >= exits)
			return;
		sleep_ms(50);
	}
	fprintf(stderr, "warning: only %zu of %zu backend exits seen\n", acc_exited(), exits);
}
