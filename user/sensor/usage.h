/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Usage events: drained counters summed per (process, class, endpoint) over
 * the usage interval, written per flow or summarised per principal
 * (summary.h), so that a SIEM gets a bounded volume per host.
 */
#ifndef VIGIE_USAGE_H
#define VIGIE_USAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "base/config.h"
#include "base/identity.h"
#include "output/output.h"
#include "postgres/pgsession.h"
#include "vigie.h"
#include "sensor/usage_fields.h" /* class_name(), format_addr()... */

struct usage;

struct usage *usage_new(const struct vigie_config *cfg, char *const *data_dir_paths,
			int n_data_dirs);
void usage_free(struct usage *u);
/* Add one drained counter; id is referenced, not stolen. */
void usage_add(struct usage *u, const struct vigie_flow_key *key, const struct vigie_counter *val,
	       bool coarse, struct identity *id);
/* Add database rows of a process (PostgreSQL backend), to its db_server
 * usage; unknown_why non-zero (PGWIRE_UNKNOWN_* bits, postgres/pgwire.h)
 * marks them unknown and says why (TLS not hooked, unparsed, ...). bytes:
 * sent on connections the socket probes do not see (unix sockets), else 0. */
void usage_add_rows(struct usage *u, struct identity *id, uint64_t rows, uint64_t copy_rows,
		    uint32_t unknown_why, uint64_t bytes);
/* The same rows by application user and role (vigie.app_users of the
 * backend's db_server usage event). */
void usage_add_app_users(struct usage *u, struct identity *id, const struct pg_segment *segs,
			 size_t n);
/* Emit the interval's events (one per flow, or per principal: summary.h),
 * in a stable order, then start a new interval. Returns the number of
 * events written. usage_finish also writes the coarse summaries (stop). */
int usage_flush(struct usage *u, uint64_t start_ns, uint64_t end_ns, struct output *out);
int usage_finish(struct usage *u, uint64_t start_ns, uint64_t end_ns, struct output *out);
/* Principals waiting for their coarse summary. */
size_t usage_pending_summaries(const struct usage *u);
size_t usage_entries(const struct usage *u);

#endif
