// SPDX-License-Identifier: GPL-2.0
/* The control socket's snapshot: the sensor's header (health, probe mode,
 * uptime) and the detector's rows (control.h, docs/top.md). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/event.h"
#include "probes/counters.h"
#include "sensor/control.h"
#include "sensor/sensor_int.h"

static json_t *health_json(struct sensor *s)
{
	uint64_t st[VIGIE_STAT_MAX] = { 0 }, lost = 0;
	uint32_t cap = 0, used = 0;
	json_t *h = json_object();

	if (s->counters) { /* NULL only in unit tests: no probes */
		cap = counters_capacity(s->counters);
		used = counters_last_flows(s->counters);
		counters_stats(s->counters, st);
	}
	for (int c = 0; c < VIGIE_CLASS_MAX; c++)
		lost += st[VIGIE_STAT_LOST_BYTES_EGRESS + c];
	json_object_set_new(h, "ringbuf_drops", json_integer((json_int_t)st[VIGIE_STAT_RINGBUF_DROP]));
	json_object_set_new(h, "flow_fallbacks",
			    json_integer((json_int_t)st[VIGIE_STAT_FLOW_FALLBACK]));
	json_object_set_new(h, "failed_inserts", json_integer((json_int_t)st[VIGIE_STAT_TOTAL_FAIL]));
	json_object_set_new(h, "unattributed_bytes", json_integer((json_int_t)lost));
	json_object_set_new(h, "drain_errors", json_integer((json_int_t)s->drain_errors));
	json_object_set_new(h, "map_entries", json_integer(used));
	json_object_set_new(h, "map_capacity", json_integer(cap));
	json_object_set_new(h, "map_fill", json_real(cap ? (double)used / cap : 0));
	json_object_set_new(h, "processes_tracked",
			    json_integer((json_int_t)(s->ids ? identities_count(s->ids) : 0)));
	json_object_set_new(h, "events_written", json_integer((json_int_t)s->events_written));
	return h;
}

json_t *control_snapshot(struct sensor *s, const struct control_query *q)
{
	json_t *snap = json_object(), *sensor = json_object(), *query = json_object();
	uint64_t now = sensor_realtime_ns(), dnow = s->det ? detect_view_now(s->det) : 0;
	char ts[40];

	json_object_set_new(snap, "vigie_top", json_integer(CONTROL_PROTOCOL));
	json_object_set_new(snap, "time", json_string(format_rfc3339(now, ts, sizeof(ts))));
	json_object_set_new(snap, "detection_time",
			    dnow ? json_string(format_rfc3339(dnow, ts, sizeof(ts))) : json_null());
	json_object_set_new(sensor, "version", json_string(VIGIE_VERSION));
	json_object_set_new(sensor, "host", json_string_safe(event_host() ? event_host() : ""));
	json_object_set_new(sensor, "pid", json_integer(getpid()));
	json_object_set_new(sensor, "uptime_s", json_integer((json_int_t)(
			    now > s->start_ns ? (now - s->start_ns) / 1000000000ull : 0)));
	json_object_set_new(sensor, "ticks", json_integer((json_int_t)s->ticks));
	json_object_set_new(sensor, "tick_s", json_real(s->cfg->tick_s));
	json_object_set_new(sensor, "probe_mode",
			    json_string(probe_variant_name(s->probes.variant)));
	json_object_set_new(sensor, "detection", json_boolean(s->det != NULL));
	json_object_set_new(snap, "sensor", sensor);
	json_object_set_new(snap, "health", health_json(s));
	json_object_set_new(query, "sort", json_string(control_sort_name(q->sort)));
	json_object_set_new(query, "kind", json_string(q->kind < 0 ? "all" :
						principal_kind_name((enum principal_kind)q->kind)));
	json_object_set_new(query, "limit", json_integer(q->limit));
	json_object_set_new(snap, "query", query);
	if (control_rows(s->det, q, snap)) {
		json_decref(snap);
		return NULL;
	}
	return snap;
}

