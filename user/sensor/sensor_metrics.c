// SPDX-License-Identifier: GPL-2.0
/* The sensor's Prometheus metrics (sensor_metrics.h, docs/metrics.md). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "probes/counters.h"
#include "detect/detect.h"
#include "base/event.h"
#include "base/identity.h"
#include "output/metrics.h"
#include "output/syslog.h"
#include "postgres/postgres.h"
#include "sensor/sensor_metrics.h"
#include "sensor/usage.h"

struct sensor_metrics {
	struct sensor_metrics_src src;
	struct metrics_server *srv;
	struct output *out;
	struct mx_kv written;  /* by event.action */
	struct mx_kv dropped;
	struct mx_kv alerts;   /* by vigie.severity */
	struct mx_kv contained, contain_failed; /* by vigie.containment.action */
	struct mx_hist drain, tick;
};

static const double duration_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					  0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5 };

/* Series present (at 0) from the start: the kinds the sensor writes. */
static const char *const known_kinds[] = { "sensor-start", "heartbeat", "usage", "sensor-stop",
					   "exfiltration-volume", "exfiltration-volume-end",
					   "exfiltration-alerts-suppressed" };
static const char *const severities[] = { "medium", "high", "critical" };

static const char *field(json_t *ev, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, obj), key));
}

static void on_written(json_t *ev, int err, void *ctx)
{
	struct sensor_metrics *sm = ctx;
	const char *kind = field(ev, "event", "action");
	const char *ecs_kind = field(ev, "event", "kind");

	mx_kv_add(err ? &sm->dropped : &sm->written, kind, 1);
	if (kind && !strcmp(kind, "containment")) {
		const char *a = json_string_value(json_object_get(
			json_object_get(json_object_get(ev, "vigie"), "containment"), "action"));
		const char *outcome = field(ev, "event", "outcome");

		mx_kv_add(&sm->contained, a, 1);
		if (outcome && !strcmp(outcome, "failure"))
			mx_kv_add(&sm->contain_failed, a, 1);
	} else if (ecs_kind && !strcmp(ecs_kind, "alert")) {
		mx_kv_add(&sm->alerts, field(ev, "vigie", "severity"), 1);
	}
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void counter(struct mx_text *t, const char *name, const char *help, uint64_t v)
{
	mx_family(t, name, "counter", help);
	mx_sample_u64(t, name, NULL, v);
}

static void gauge(struct mx_text *t, const char *name, const char *help, double v)
{
	mx_family(t, name, "gauge", help);
	mx_sample(t, name, NULL, v);
}

static void render_info(struct mx_text *t, const struct sensor_metrics *sm)
{
	const char *variant = probe_variant_name(sm->src.variant);
	const char *labels[] = { "version", VIGIE_VERSION,
				 "probe_mode", sm->src.variant == VARIANT_SYSCALLS ? "syscalls" : "sock",
				 "probe_variant", variant, "host", event_host() ? event_host() : "",
				 NULL };
	double start = (double)*sm->src.start_ns / 1e9;

	mx_family(t, "vigie_info", "gauge", "Sensor version, probe mode and host (value 1).");
	mx_sample(t, "vigie_info", labels, 1);
	gauge(t, "vigie_start_time_seconds", "Start time of the sensor, seconds since the epoch.",
	      start);
	gauge(t, "vigie_uptime_seconds", "Seconds since the sensor started.",
	      (double)(now_realtime_ns() - *sm->src.start_ns) / 1e9);
	counter(t, "vigie_ticks_total", "Drains of the kernel counters (ticks).", *sm->src.ticks);
}

static void render_events(struct mx_text *t, const struct sensor_metrics *sm)
{
	mx_family(t, "vigie_events_written_total", "counter",
		  "Events written to the output, by event.action (usage, heartbeat, alert...).");
	mx_kv_write(t, "vigie_events_written_total", "kind", &sm->written);
	mx_family(t, "vigie_events_dropped_total", "counter",
		  "Events that could not be written to the output, by event.action.");
	mx_kv_write(t, "vigie_events_dropped_total", "kind", &sm->dropped);
	if (!sm->src.syslog) {
		/* the file or stdout output has no queue */
		gauge(t, "vigie_output_queue_depth", "Events waiting in the output queue.", 0);
		return;
	}
	{
		struct syslog_stats ss;

		syslog_get_stats(sm->src.syslog, &ss);
		gauge(t, "vigie_output_queue_depth",
		      "Events waiting for the syslog collector (memory and spool).",
		      (double)(ss.queued + ss.spooled));
		counter(t, "vigie_syslog_sent_total",
			"Events written to the syslog collector (each counted once).", ss.sent);
		counter(t, "vigie_syslog_dropped_total",
			"Events dropped beyond the syslog queue's and spool's bounds.", ss.dropped);
		counter(t, "vigie_syslog_reconnects_total", "Connections to the collector made again.",
			ss.reconnects);
		counter(t, "vigie_syslog_resent_total",
			"Events written again: the collector reset the connection before they were "
			"known read.",
			ss.resent);
		gauge(t, "vigie_syslog_queued_bytes", "Bytes of events waiting in memory.",
		      (double)ss.queued_bytes);
		gauge(t, "vigie_syslog_spooled_bytes", "Bytes of events waiting in the spool file.",
		      (double)ss.spooled_bytes);
	}
}

static void render_kernel(struct mx_text *t, const struct sensor_metrics *sm)
{
	uint64_t st[VIGIE_STAT_MAX] = { 0 };
	const char *flows[] = { "map", "flows", NULL };

	counters_stats(sm->src.counters, st);
	mx_family(t, "vigie_map_entries", "gauge",
		  "Entries found in the kernel map at the last drain.");
	mx_sample_u64(t, "vigie_map_entries", flows, counters_last_flows(sm->src.counters));
	mx_family(t, "vigie_map_capacity", "gauge", "Capacity of the kernel map (entries).");
	mx_sample_u64(t, "vigie_map_capacity", flows, counters_capacity(sm->src.counters));
	mx_family(t, "vigie_map_fill_ratio", "gauge", "Entries at the last drain / capacity.");
	mx_sample(t, "vigie_map_fill_ratio", flows,
		  counters_capacity(sm->src.counters) ?
			  (double)counters_last_flows(sm->src.counters) /
				  counters_capacity(sm->src.counters) : 0);
	mx_family(t, "vigie_fallbacks_total", "counter",
		  "Sends or reads counted in a coarser map because the map named was full.");
	mx_sample_u64(t, "vigie_fallbacks_total", flows, st[VIGIE_STAT_FLOW_FALLBACK]);
	mx_sample_u64(t, "vigie_fallbacks_total", (const char *[]){ "map", "totals", NULL },
		      st[VIGIE_STAT_TOTAL_FAIL]);
	mx_family(t, "vigie_unattributed_bytes_total", "counter",
		  "Bytes counted only globally (both maps full), by class.");
	for (int c = 0; c < VIGIE_CLASS_MAX; c++) {
		const char *labels[] = { "class", class_name((uint8_t)c), NULL };

		mx_sample_u64(t, "vigie_unattributed_bytes_total", labels,
			      st[VIGIE_STAT_LOST_BYTES_EGRESS + c]);
	}
	counter(t, "vigie_ringbuf_drops_total",
		"Process events (exec, exit) lost because the ring buffer was full.",
		st[VIGIE_STAT_RINGBUF_DROP]);
	counter(t, "vigie_execs_total", "Process executions seen.", st[VIGIE_STAT_EXEC]);
	counter(t, "vigie_exits_total", "Process exits seen.", st[VIGIE_STAT_EXIT]);
	counter(t, "vigie_excluded_sends_total", "Sends not counted: loopback or internal networks.",
		st[VIGIE_STAT_EXCLUDED]);
	counter(t, "vigie_db_file_path_walks_total", "Path walks done to find database files.",
		st[VIGIE_STAT_DIRCACHE_MISS]);
	counter(t, "vigie_syscall_stash_failures_total",
		"Syscall probes: system call arguments that could not be kept.",
		st[VIGIE_STAT_SYSARGS_FAIL]);
	counter(t, "vigie_drain_errors_total", "Drains of the kernel counters that failed.",
		*sm->src.drain_errors);
	gauge(t, "vigie_processes_tracked", "Processes whose identity is known.",
	      (double)identities_count(sm->src.ids));
	{
		const struct pg_port *p;

		gauge(t, "vigie_postgres_ports", "PostgreSQL ports found listening.",
		      (double)pg_awareness_ports(sm->src.pga, &p));
	}
}

static void render_detection(struct mx_text *t, const struct sensor_metrics *sm)
{
	struct detect_summary ds = { 0 };

	if (sm->src.det)
		detector_summary(sm->src.det, &ds);
	gauge(t, "vigie_detection_enabled", "1 when detection runs.", sm->src.det ? 1 : 0);
	gauge(t, "vigie_principals_tracked", "Principals tracked by detection.",
	      (double)ds.principals);
	counter(t, "vigie_principals_dropped_total",
		"Principals not tracked: detection.max_principals reached.", ds.principals_dropped);
	mx_family(t, "vigie_alerts_total", "counter", "Alerts written, by severity.");
	mx_kv_write(t, "vigie_alerts_total", "severity", &sm->alerts);
	counter(t, "vigie_alerts_suppressed_total", "Alerts held back by the rate limits.",
		ds.suppressed);
	counter(t, "vigie_episodes_total", "Episodes begun.", ds.episodes);
	gauge(t, "vigie_episodes_open", "Episodes open now.", (double)ds.episodes_open);
	mx_family(t, "vigie_containment_events_total", "counter",
		  "Containment events written (docs/containment.md), by action.");
	mx_kv_write(t, "vigie_containment_events_total", "action", &sm->contained);
	mx_family(t, "vigie_containment_failures_total", "counter",
		  "Containment actions that failed, by action.");
	mx_kv_write(t, "vigie_containment_failures_total", "action", &sm->contain_failed);
}

static void render(struct mx_text *t, void *ctx)
{
	struct sensor_metrics *sm = ctx;

	render_info(t, sm);
	render_events(t, sm);
	render_kernel(t, sm);
	render_detection(t, sm);
	mx_family(t, "vigie_drain_duration_seconds", "histogram",
		  "Duration of each drain of the kernel counters.");
	mx_hist_write(t, "vigie_drain_duration_seconds", &sm->drain);
	mx_family(t, "vigie_tick_duration_seconds", "histogram",
		  "Duration of each tick (drain, usage events, detection, heartbeat).");
	mx_hist_write(t, "vigie_tick_duration_seconds", &sm->tick);
}

struct sensor_metrics *sensor_metrics_new(const struct vigie_config *cfg, struct output *out)
{
	struct sensor_metrics *sm = calloc(1, sizeof(*sm));
	int n = (int)(sizeof(duration_bounds) / sizeof(duration_bounds[0]));

	if (!sm)
		return NULL;
	for (size_t i = 0; i < sizeof(known_kinds) / sizeof(known_kinds[0]); i++) {
		mx_kv_add(&sm->written, known_kinds[i], 0);
		mx_kv_add(&sm->dropped, known_kinds[i], 0);
	}
	for (size_t i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		mx_kv_add(&sm->alerts, severities[i], 0);
	mx_hist_init(&sm->drain, duration_bounds, n);
	mx_hist_init(&sm->tick, duration_bounds, n);
	sm->srv = metrics_server_new(&cfg->metrics_addr, cfg->metrics_listen, render, sm);
	if (!sm->srv) {
		free(sm);
		return NULL;
	}
	sm->out = out;
	output_set_observer(out, on_written, sm);
	return sm;
}

void sensor_metrics_set_src(struct sensor_metrics *sm, const struct sensor_metrics_src *src)
{
	if (sm)
		sm->src = *src;
}

int sensor_metrics_fd(const struct sensor_metrics *sm)
{
	return sm ? metrics_server_fd(sm->srv) : -1;
}

void sensor_metrics_service(struct sensor_metrics *sm)
{
	if (sm && sm->src.counters)
		metrics_server_service(sm->srv);
}

void sensor_metrics_tick(struct sensor_metrics *sm, double drain_s, double tick_s)
{
	if (!sm)
		return;
	mx_hist_observe(&sm->drain, drain_s);
	mx_hist_observe(&sm->tick, tick_s);
	metrics_server_expire(sm->srv);
}

void sensor_metrics_free(struct sensor_metrics *sm)
{
	if (!sm)
		return;
	output_set_observer(sm->out, NULL, NULL);
	metrics_server_free(sm->srv);
	free(sm);
}
