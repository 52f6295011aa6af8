// SPDX-License-Identifier: GPL-2.0
/* Lifecycle events of the sensor: sensor-start, the heartbeat's and
 * sensor-stop's statistics (sensor.c writes them). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "probes/counters.h"
#include "detect/detect.h"
#include "base/clock.h"
#include "base/event.h"
#include "base/log.h"
#include "base/pidlock.h"
#include "base/privs.h"
#include "base/sdnotify.h"
#include "output/output.h"
#include "output/syslog.h"
#include "postgres/postgres.h"
#include "probes/probes.h"
#include "sensor/samples.h"
#include "sensor/sensor_metrics.h"
#include "sensor/sensor.h"
#include "sensor/sensor_int.h"
#include "trace/trace.h"
#include "sensor/usage.h"
#include "vigie.skel.h"


static json_t *pg_ports_json(const struct sensor *s)
{
	const struct pg_port *p;
	int n = pg_awareness_ports(s->pga, &p);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(p[i].port));
	return a;
}

void sensor_add_stats(struct sensor *s, json_t *ev)
{
	uint64_t st[VIGIE_STAT_MAX] = { 0 };
	uint32_t cap = counters_capacity(s->counters);
	uint32_t used = s->peak_flows;
	json_t *lost;

	counters_stats(s->counters, st);
	event_set_count(ev, "vigie.stats.uptime_s",
			(sensor_realtime_ns() - s->start_ns) / 1000000000ull);
	event_set_count(ev, "vigie.stats.ticks", s->ticks);
	event_set_count(ev, "vigie.stats.clock_steps", s->dclock.steps);
	if (s->syslog) {
		struct syslog_stats ss;

		syslog_get_stats(s->syslog, &ss);
		event_set_count(ev, "vigie.stats.syslog.sent", ss.sent);
		event_set_count(ev, "vigie.stats.syslog.queued", ss.queued);
		event_set_count(ev, "vigie.stats.syslog.spooled", ss.spooled);
		event_set_count(ev, "vigie.stats.syslog.spooled_bytes", ss.spooled_bytes);
		event_set_count(ev, "vigie.stats.syslog.dropped", ss.dropped);
		event_set_count(ev, "vigie.stats.syslog.reconnects", ss.reconnects);
		event_set_count(ev, "vigie.stats.syslog.resent", ss.resent);
	}
	{
		struct output_stats os;

		output_get_stats(s->out, &os);
		event_set_count(ev, "vigie.stats.output.events_written", os.written);
		event_set_count(ev, "vigie.stats.output.bytes_written", os.written_bytes);
		event_set_count(ev, "vigie.stats.output.events_lost", os.lost);
		event_set_count(ev, "vigie.stats.output.bytes_lost", os.lost_bytes);
	}
	event_set_count(ev, "vigie.stats.events_written", s->events_written);
	event_set(ev, "vigie.stats.map_entries_peak", json_integer(used));
	event_set(ev, "vigie.stats.map_capacity", json_integer(cap));
	event_set(ev, "vigie.stats.map_fill", json_real(cap ? (double)used / cap : 0));
	event_set_count(ev, "vigie.stats.flow_fallbacks", st[VIGIE_STAT_FLOW_FALLBACK]);
	event_set_count(ev, "vigie.stats.failed_inserts", st[VIGIE_STAT_TOTAL_FAIL]);
	lost = json_object();
	for (int c = 0; c < VIGIE_CLASS_MAX; c++)
		json_object_set_new(lost, class_name((uint8_t)c),
				    json_integer((json_int_t)st[VIGIE_STAT_LOST_BYTES_EGRESS + c]));
	event_set(ev, "vigie.stats.unattributed_bytes", lost);
	event_set_count(ev, "vigie.stats.ringbuf_drops", st[VIGIE_STAT_RINGBUF_DROP]);
	event_set_count(ev, "vigie.stats.execs", st[VIGIE_STAT_EXEC]);
	event_set_count(ev, "vigie.stats.exits", st[VIGIE_STAT_EXIT]);
	event_set_count(ev, "vigie.stats.excluded_sends", st[VIGIE_STAT_EXCLUDED]);
	event_set_count(ev, "vigie.stats.db_file_path_walks", st[VIGIE_STAT_DIRCACHE_MISS]);
	event_set_count(ev, "vigie.stats.syscall_stash_failures", st[VIGIE_STAT_SYSARGS_FAIL]);
	event_set_count(ev, "vigie.stats.drain_errors", s->drain_errors);
	event_set_count(ev, "vigie.stats.processes_tracked", identities_count(s->ids));
	event_set(ev, "vigie.stats.probe_mode", json_string(probe_variant_name(s->probes.variant)));
	pg_awareness_stats(s->pga, ev);
	sensor_contain_stats(s, ev);
	event_set(ev, "vigie.stats.postgres.ports", pg_ports_json(s));
	if (s->det) {
		struct detect_summary ds;

		detector_summary(s->det, &ds);
		event_set_count(ev, "vigie.stats.detection.principals", ds.principals);
		event_set_count(ev, "vigie.stats.detection.alerts", ds.alerts);
		event_set_count(ev, "vigie.stats.detection.suppressed", ds.suppressed);
		event_set_count(ev, "vigie.stats.detection.episodes_open", ds.episodes_open);
	}
}

json_t *sensor_lifecycle_event(struct sensor *s, const char *action)
{
	return event_new(sensor_realtime_ns(), "state", "host", "info", action);
}

void sensor_emit_start(struct sensor *s)
{
	const struct vigie_config *cfg = s->cfg;
	json_t *ev = sensor_lifecycle_event(s, "sensor-start");
	json_t *classes = json_array(), *ports = json_array(), *dirs = json_array();
	struct utsname un;

	if (uname(&un) == 0) {
		event_set(ev, "host.os.kernel", json_string_safe(un.release));
		event_set(ev, "vigie.kernel", json_string_safe(un.release));
	}
	event_set(ev, "vigie.version", json_string(VIGIE_VERSION));
	event_set(ev, "vigie.probe_mode", json_string(probe_variant_name(s->probes.variant)));
	event_set(ev, "vigie.probes_requested", json_string(config_probe_mode_name(cfg->probes)));
	event_set(ev, "vigie.privileges", privs_json());
	json_array_append_new(classes, json_string("egress"));
	json_array_append_new(classes, json_string("db_client"));
	json_array_append_new(classes, json_string("db_server"));
	if (s->probes.dbfile)
		json_array_append_new(classes, json_string("db_file"));
	event_set(ev, "vigie.classes", classes);
	for (int i = 0; i < cfg->n_db_ports; i++)
		json_array_append_new(ports, json_integer(cfg->db_ports[i]));
	event_set(ev, "vigie.db_ports", ports);
	for (int i = 0; i < cfg->n_data_dirs; i++)
		json_array_append_new(dirs, json_string_safe(cfg->data_dirs[i]));
	event_set(ev, "vigie.data_directories", dirs);
	event_set(ev, "vigie.data_directories_watched", json_integer(s->probes.n_data_dirs));
	event_set(ev, "vigie.exclude_loopback", json_boolean(cfg->exclude_loopback));
	event_set(ev, "vigie.internal_networks", json_integer(cfg->n_internal_nets));
	event_set(ev, "vigie.tick_s", json_real(cfg->tick_s));
	event_set(ev, "vigie.usage_interval_s", json_real(cfg->usage_interval_s));
	event_set(ev, "vigie.heartbeat_s", json_real(cfg->heartbeat_s));
	event_set(ev, "vigie.programs_attached", json_integer(s->probes.n_attached));
	event_set(ev, "vigie.map_capacity", json_integer(cfg->flow_entries));
	event_set(ev, "vigie.postgres", json_string(pg_awareness_state(s->pga)));
	event_set(ev, "vigie.postgres_ports", pg_ports_json(s));
	event_set(ev, "vigie.udp_destinations", json_boolean(s->probes.udp_dest ||
							     s->probes.variant == VARIANT_SYSCALLS));
	event_set(ev, "vigie.io_uring", json_boolean(s->probes.variant != VARIANT_SYSCALLS ||
						     s->probes.uring));
	event_set(ev, "vigie.detection", json_boolean(s->det != NULL));
	event_set(ev, "vigie.recording", json_boolean(s->rec != NULL));
	sensor_emit(s, ev);
}

/* Drain the kernel's counters into the usage interval. */
