/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sensor's Prometheus metrics (sensor.metrics_listen, docs/metrics.md):
 * the figures of the heartbeat plus events written and lost per kind,
 * alerts per severity, drain and tick duration histograms. Every function
 * accepts NULL (metrics off) and then does nothing.
 */
#ifndef VIGIE_SENSOR_METRICS_H
#define VIGIE_SENSOR_METRICS_H

#include <stdint.h>
#include "base/config.h"
#include "output/output.h"
#include "probes/probes.h"

struct counters;
struct identities;
struct detector;
struct pg_awareness;

/* Where the figures are read at each scrape (owned by the sensor, alive
 * as long as the metrics are). */
struct syslog_sink;

struct sensor_metrics_src {
	struct counters *counters;
	struct identities *ids;
	struct detector *det;      /* NULL: detection off */
	struct pg_awareness *pga;
	enum probe_variant variant;
	const uint64_t *start_ns;  /* realtime */
	const uint64_t *ticks;
	const uint64_t *drain_errors;
	struct syslog_sink *syslog; /* NULL: no sensor.syslog */
};

struct sensor_metrics;

/* Listen on cfg->metrics_addr (before the probes load: a busy port stops
 * the start at once) and count the events written to out. NULL on failure
 * (logged, naming sensor.metrics_listen). */
struct sensor_metrics *sensor_metrics_new(const struct vigie_config *cfg, struct output *out);
/* Where the figures are read; before the first sensor_metrics_service. */
void sensor_metrics_set_src(struct sensor_metrics *sm, const struct sensor_metrics_src *src);
/* The fd for the run loop's epoll set (EPOLLIN), -1 when NULL. */
int sensor_metrics_fd(const struct sensor_metrics *sm);
/* The fd is readable: serve the clients (never blocks). */
void sensor_metrics_service(struct sensor_metrics *sm);
/* Each tick: its duration and the drain's (seconds); expires clients. */
void sensor_metrics_tick(struct sensor_metrics *sm, double drain_s, double tick_s);
void sensor_metrics_free(struct sensor_metrics *sm);

#endif
