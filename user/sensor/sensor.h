/* SPDX-License-Identifier: GPL-2.0 */
/* The live sensor: load, drain every tick, emit events, stop cleanly. */
#ifndef VIGIE_SENSOR_H
#define VIGIE_SENSOR_H

#include <stdbool.h>
#include <stdint.h>
#include "base/config.h"

/* Run until SIGINT/SIGTERM or duration_s (0: forever). Exit status. */
int sensor_run(const struct vigie_config *cfg, double duration_s);

#endif
