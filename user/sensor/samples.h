/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tick samples: the drained counters of one tick turned into trace samples
 * (one per process, class and remote endpoint), with PostgreSQL rows merged
 * in, then handed to detection and to the recorder. What is recorded is
 * exactly what detection consumed.
 */
#ifndef VIGIE_SAMPLES_H
#define VIGIE_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>
#include "base/appuser.h"
#include "detect/detect.h"
#include "base/identity.h"
#include "postgres/pgsession.h"
#include "trace/trace.h"
#include "vigie.h"

struct tick_samples;

struct tick_samples *tick_samples_new(void);
void tick_samples_free(struct tick_samples *t);
/* Start a tick at realtime ts_ns. */
void tick_samples_begin(struct tick_samples *t, uint64_t ts_ns);
/* One drained counter. */
void tick_samples_add(struct tick_samples *t, const struct vigie_flow_key *key,
		      const struct vigie_counter *val, const struct identity *id);
/* Database rows (and, for connections the socket counters cannot see,
 * such as unix sockets, bytes) of one backend for this tick; rows_known
 * false for connections whose rows cannot be counted (TLS). */
void tick_samples_add_rows(struct tick_samples *t, const struct identity *id, uint64_t rows,
			   bool rows_known, uint64_t bytes);
/* The same backend's rows and bytes by application user (segments in
 * turn), read with databases.app_user: at delivery its db_server sample
 * is split into one sample per application user (app_user, app_name),
 * what no user was found for staying in a sample without one. */
void tick_samples_add_app_users(struct tick_samples *t, const struct identity *id,
				const struct pg_segment *segs, size_t n,
				const struct app_user_cfg *cfg);
/* Feed detection (may be NULL) and the recorder (may be NULL). */
void tick_samples_deliver(struct tick_samples *t, struct detector *det, struct trace_writer *rec);

/* Fill a trace sample's identity fields from an identity. */
void sample_set_identity(struct trace_sample *s, const struct identity *id, uint32_t pid,
			 uint32_t uid);

#endif
