/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Usage summarised per principal (sensor.usage_detail "summary", the
 * default): each usage interval, one event per principal and class (a
 * database account, an application user, or a Linux user's executable)
 * with its totals and its top flows, instead of one per process and
 * endpoint. A principal whose interval stays under both floors
 * (sensor.usage_coarse_below: 100 records, 1 MB) is added to its coarse
 * summary instead (vigie.summary.period "coarse"), written at the first
 * interval that ends in a new coarse period (sensor.usage_coarse_interval,
 * an hour, aligned on the clock), and at stop. Per principal, its interval
 * events and its coarse events add up to its exact totals: nothing is
 * counted twice or dropped.
 */
#ifndef VIGIE_SUMMARY_H
#define VIGIE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/config.h"
#include "output/output.h"

struct usage;
struct usage_entry;
struct usage_summary;

struct usage_summary *usage_summary_new(const struct vigie_config *cfg);
void usage_summary_free(struct usage_summary *sm);
/* The entries of one interval [start_ns, end_ns], in a stable order (not
 * kept). final: write the coarse summaries too (the sensor stops).
 * dir_paths: the data directories (file.directory of db_file).
 * Returns the events written. */
int usage_summary_flush(struct usage_summary *sm, struct usage_entry *const *all, size_t n,
			char *const *dir_paths, int n_dirs, uint64_t start_ns, uint64_t end_ns,
			bool final, struct output *out);
/* Principals waiting in the coarse summary. */
size_t usage_summary_pending(const struct usage_summary *sm);

#endif
