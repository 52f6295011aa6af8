/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the kernel's counters: swap the active map for its spare (the
 * kernel waits for running programs), then read-and-delete the old one.
 * Every increment is read exactly once.
 */
#ifndef VIGIE_COUNTERS_H
#define VIGIE_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include "vigie.h"

struct vigie_bpf;
struct counters;

/* coarse: the entry came from the per-(tgid, uid, class) fallback map;
 * only tgid, uid and cls of the key are set. */
typedef void (*counter_fn)(const struct vigie_flow_key *key, const struct vigie_counter *val,
			   bool coarse, void *ctx);

struct counters *counters_new(struct vigie_bpf *skel);
/* Drain everything counted since the previous drain. Number of entries
 * delivered, or negative errno. */
int counters_drain(struct counters *c, counter_fn fn, void *ctx);
/* Cumulative kernel statistics, summed over CPUs. */
int counters_stats(struct counters *c, uint64_t out[VIGIE_STAT_MAX]);
/* Entries found in the detailed map at the last drain, and its capacity. */
uint32_t counters_last_flows(const struct counters *c);
uint32_t counters_capacity(const struct counters *c);
void counters_free(struct counters *c);

#endif
