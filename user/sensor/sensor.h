/* SPDX-License-Identifier: GPL-2.0 */
/* The live sensor: load, drain every tick, emit events, stop cleanly. */
#ifndef VIGIE_SENSOR_H
#define VIGIE_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/config.h"

/* How SIGHUP re-reads the configuration (sensor_reload.c). load fills cfg
 * (config_init'ed by it; the caller config_frees it whatever the result):
 * 0, or non-zero with err naming the file, line and field. */
struct sensor_reloader {
	const char *config_path; /* NULL: built-in defaults and command line */
	int (*load)(struct vigie_config *cfg, char *err, size_t errlen, void *ctx);
	void *ctx;
};

/* Run until SIGINT/SIGTERM or duration_s (0: forever). Exit status. SIGHUP
 * reopens the output and reloads the configuration through rl (NULL: the
 * output only). */
int sensor_run(const struct vigie_config *cfg, double duration_s,
	       const struct sensor_reloader *rl);

#endif
