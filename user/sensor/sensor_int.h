/* SPDX-License-Identifier: GPL-2.0 */
/* The running sensor's state, shared by sensor.c (the loop) and
 * sensor_events.c (its lifecycle events). Not for other subsystems. */
#ifndef VIGIE_SENSOR_INT_H
#define VIGIE_SENSOR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/clock.h"
#include "base/identity.h"
#include "base/pidlock.h"
#include "detect/detect.h"
#include "output/output.h"
#include "output/syslog.h"
#include "postgres/postgres.h"
#include "probes/counters.h"
#include "probes/probes.h"
#include "sensor/samples.h"
#include "sensor/sensor_contain.h"
#include "sensor/sensor.h"
#include "sensor/sensor_metrics.h"
#include "sensor/usage.h"
#include "trace/trace.h"

struct control;

struct sensor {
	const struct vigie_config *cfg;
	struct probes probes;
	struct counters *counters;
	struct ring_buffer *rb;
	struct identities *ids;
	struct usage *usage;
	struct output *out;
	struct detect_config dcfg;
	bool dcfg_ok;
	struct detector *det;        /* NULL: detection off */
	struct trace_writer *rec;    /* NULL: not recording */
	struct tick_samples *samples_tick;
	struct pg_awareness *pga;
	bool pg_port_failed;         /* a server's port could not be made a database port */
	struct sensor_metrics *metrics; /* NULL: sensor.metrics_listen unset */
	struct control *control;     /* NULL: no control socket (control.h) */
	uint64_t next_state_save_ns;
	int sig_fd;
	int timer_fd;
	int epoll_fd;
	uint64_t gen;            /* drain generation */
	uint64_t start_ns;
	uint64_t interval_start_ns;
	uint64_t next_usage_ns;
	uint64_t next_heartbeat_ns;
	uint64_t ticks;
	uint64_t events_written;
	uint64_t drain_errors;
	uint32_t peak_flows;         /* most detailed entries in one tick since the last heartbeat */
	struct vclock dclock;        /* detection time (base/clock.h) */
	struct pidlock out_lock, state_lock, spool_lock; /* one daemon per file */
	char *spool_path;          /* the syslog spool, NULL: none */
	uint64_t watchdog_ns, next_watchdog_ns; /* systemd's watchdog (sdnotify.h) */
	struct syslog_sink *syslog;  /* NULL: no sensor.syslog */
	/* what a reload may change (sensor_reload.c) */
	const struct sensor_reloader *rl; /* NULL: SIGHUP reopens the output only */
	double heartbeat_s, usage_interval_s;
	json_t *detection_json;      /* the running detection section (NULL: none) */
	struct sensor_contain *contain; /* NULL: containment off (sensor_contain.c) */
};

/* sensor_emit.c: the clocks, writing an event */
uint64_t sensor_realtime_ns(void);
uint64_t sensor_monotonic_ns(void); /* CLOCK_MONOTONIC */
/* Write ev (and release it), counting it. */
void sensor_emit(struct sensor *s, json_t *ev);
/* sensor_events.c: lifecycle events */
json_t *sensor_lifecycle_event(struct sensor *s, const char *action);
void sensor_add_stats(struct sensor *s, json_t *ev);
void sensor_emit_start(struct sensor *s);
/* sensor_contain.c: the detector's sink (write, then containment) */
void sensor_emit_detection(json_t *ev, void *ctx);
/* sensor_reload.c: SIGHUP, and what the metrics endpoint reads */
void sensor_reload(struct sensor *s);
void sensor_set_metrics_src(struct sensor *s);

#endif
