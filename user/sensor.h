/* SPDX-License-Identifier: GPL-2.0 */
/* The live sensor: load, drain every tick, emit events, stop cleanly. */
#ifndef VIGIE_SENSOR_H
#define VIGIE_SENSOR_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "identity.h"
#include "vigie.h"

/* One drained counter with its identity: what detection and recording
 * consume, once per (process, class, endpoint) per tick. */
struct sensor_sample {
	uint64_t ts_ns;              /* realtime, end of the tick */
	const struct vigie_flow_key *key;
	const struct vigie_counter *val;
	bool coarse;
	struct identity *id;         /* borrowed for the call */
};

/* Run until SIGINT/SIGTERM or duration_s (0: forever). Exit status. */
int sensor_run(const struct vigie_config *cfg, double duration_s);

#endif
