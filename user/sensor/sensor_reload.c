// SPDX-License-Identifier: GPL-2.0
/*
 * SIGHUP: the configuration read again (sensor.c reopens the output first).
 * A file that does not parse is refused, naming the field, and the running
 * configuration is kept. A good one applies what can change while the
 * probes run: the detection section (thresholds, profiles, allow-lists;
 * learned baselines carried over), sensor.heartbeat and
 * sensor.usage_interval. Every other setting that changed is named as
 * needing a restart and keeps its running value. A sensor-reload event
 * tells the outcome; systemd hears RELOADING=1 then READY=1.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "base/config.h"
#include "base/event.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "sensor/sensor_int.h"
#include "sensor/sensor_metrics.h"

static bool str_differs(const char *a, const char *b)
{
	return (a || b) && (!a || !b || strcmp(a, b));
}

static bool strv_differs(char *const *a, int na, char *const *b, int nb)
{
	if (na != nb)
		return true;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return true;
	return false;
}

static bool app_user_differs(const struct app_user_cfg *a, const struct app_user_cfg *b)
{
	return str_differs(a->pattern, b->pattern) ||
	       a->session_authorization != b->session_authorization;
}

/* Settings of b that differ from the running a and cannot change live. */
static void restart_needed(const struct vigie_config *a, const struct vigie_config *b,
			   json_t *out)
{
	struct {
		const char *name;
		bool differs;
	} f[] = {
		{ "sensor.tick", a->tick_s != b->tick_s },
		{ "sensor.probes", a->probes != b->probes },
		{ "sensor.output", str_differs(a->output, b->output) },
		{ "sensor.host_name", str_differs(a->host_name, b->host_name) },
		{ "sensor.record", str_differs(a->record, b->record) },
		{ "sensor.state_file", str_differs(a->state_file, b->state_file) },
		{ "sensor.output_group", str_differs(a->output_group, b->output_group) },
		{ "sensor.usage_detail", a->usage_detail != b->usage_detail },
		{ "sensor.usage_coarse_below", a->usage_coarse_records != b->usage_coarse_records ||
					       a->usage_coarse_bytes != b->usage_coarse_bytes },
		{ "sensor.usage_coarse_interval", a->usage_coarse_interval_s !=
						  b->usage_coarse_interval_s },
		{ "sensor.usage_top_flows", a->usage_top_flows != b->usage_top_flows },
		{ "sensor.metrics_listen", str_differs(a->metrics_listen, b->metrics_listen) },
		{ "sensor.control_socket", str_differs(a->control_socket, b->control_socket) },
		{ "sensor.syslog", str_differs(a->syslog, b->syslog) },
		{ "sensor.syslog_facility", a->syslog_facility != b->syslog_facility },
		{ "sensor.syslog_queue_bytes", a->syslog_queue_bytes != b->syslog_queue_bytes },
		{ "sensor.syslog_spool", str_differs(a->syslog_spool, b->syslog_spool) },
		{ "sensor.output_max_bytes", a->output_max_bytes != b->output_max_bytes },
		{ "sensor.output_keep", a->output_keep != b->output_keep },
		{ "sensor.syslog_spool_bytes", a->syslog_spool_bytes != b->syslog_spool_bytes },
		{ "containment", !json_equal(a->containment, b->containment) &&
				 (a->containment || b->containment) },
		{ "network.exclude_loopback", a->exclude_loopback != b->exclude_loopback },
		{ "network.internal_networks", a->n_internal_nets != b->n_internal_nets ||
			memcmp(a->internal_nets, b->internal_nets,
			       (size_t)a->n_internal_nets * sizeof(a->internal_nets[0])) },
		{ "databases.ports", a->n_db_ports != b->n_db_ports ||
			memcmp(a->db_ports, b->db_ports, (size_t)a->n_db_ports * sizeof(a->db_ports[0])) },
		{ "databases.endpoints", a->n_db_endpoints != b->n_db_endpoints ||
			memcmp(a->db_endpoints, b->db_endpoints,
			       (size_t)a->n_db_endpoints * sizeof(a->db_endpoints[0])) },
		{ "databases.data_directories", strv_differs(a->data_dirs, a->n_data_dirs,
							     b->data_dirs, b->n_data_dirs) },
		{ "databases.server_executables", strv_differs(a->server_exes, a->n_server_exes,
							       b->server_exes, b->n_server_exes) },
		{ "databases.postgres", a->postgres != b->postgres },
		{ "databases.postgres_tls", a->postgres_tls_hook != b->postgres_tls_hook },
		{ "databases.app_user", app_user_differs(&a->app_user, &b->app_user) },
		{ "limits.flow_entries", a->flow_entries != b->flow_entries },
		{ "limits.total_entries", a->total_entries != b->total_entries },
		{ "limits.flow_cache_slots", a->flow_cache_slots != b->flow_cache_slots },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].differs)
			json_array_append_new(out, json_string(f[i].name));
}

static void names_joined(json_t *a, char *buf, size_t size)
{
	size_t i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(a, i, v)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "",
			 json_string_value(v));
}

/* A new detector for dcfg holding what the running one learned. 0, or -1
 * with err. *out NULL when detection is off in dcfg. */
static int new_detector(struct sensor *s, struct detect_config *dcfg, struct detector **out,
			char *err, size_t errlen)
{
	*out = NULL;
	if (!dcfg->enabled)
		return 0;
	*out = detector_new(dcfg, sensor_emit_detection, s);
	if (!*out) {
		snprintf(err, errlen, "detection: out of memory");
		return -1;
	}
	if (s->det && detector_state_transfer(s->det, *out)) {
		detector_free(*out);
		*out = NULL;
		snprintf(err, errlen, "detection: cannot carry the learned state over (logged)");
		return -1;
	}
	return 0;
}

/* The new detection section in place of the running one. */
static void swap_detection(struct sensor *s, struct detect_config *dcfg, struct detector *det,
			   json_t *section)
{
	if (s->det && !det && s->cfg->state_file &&
	    detector_state_save(s->det, s->cfg->state_file) == 0)
		log_warn("detection turned off by the reload: its state is saved in '%s'",
			 s->cfg->state_file);
	detector_free(s->det);
	if (s->dcfg_ok)
		detect_config_free(&s->dcfg);
	s->dcfg = *dcfg;
	s->dcfg_ok = true;
	s->det = det;
	json_decref(s->detection_json);
	s->detection_json = json_incref(section);
	sensor_set_metrics_src(s);
}

static void apply_periods(struct sensor *s, const struct vigie_config *nc, json_t *applied)
{
	uint64_t now = sensor_realtime_ns();

	if (nc->heartbeat_s != s->heartbeat_s) {
		s->heartbeat_s = nc->heartbeat_s;
		s->next_heartbeat_ns = now + (uint64_t)(s->heartbeat_s * 1e9);
		json_array_append_new(applied, json_string("sensor.heartbeat"));
	}
	if (nc->usage_interval_s != s->usage_interval_s) {
		/* the interval under way ends at its start plus the new period
		 * (at the next tick when that is past) */
		s->usage_interval_s = nc->usage_interval_s;
		s->next_usage_ns = s->interval_start_ns + (uint64_t)(s->usage_interval_s * 1e9);
		json_array_append_new(applied, json_string("sensor.usage_interval"));
	}
}

void sensor_reload(struct sensor *s)
{
	const char *file = s->rl && s->rl->config_path ? s->rl->config_path : "(none)";
	struct vigie_config nc;
	struct detect_config ndc;
	struct detector *ndet = NULL;
	bool ndc_ok = false, det_changed;
	json_t *applied = json_array(), *restart = json_array(), *ev;
	char err[512] = "", msg[1024];
	struct timespec ts;
	int rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	sd_notify_send(msg);
	memset(&nc, 0, sizeof(nc));
	if (!s->rl || !s->rl->load) {
		snprintf(err, sizeof(err), "no configuration to reload");
		goto out;
	}
	if (s->rl->load(&nc, err, sizeof(err), s->rl->ctx))
		goto out;
	if (detect_config_parse(nc.detection, &ndc, err, sizeof(err)))
		goto out;
	ndc_ok = true;
	det_changed = !json_equal(s->detection_json, nc.detection) &&
		      (s->detection_json || nc.detection);
	if (det_changed) {
		if (new_detector(s, &ndc, &ndet, err, sizeof(err)))
			goto out;
		swap_detection(s, &ndc, ndet, nc.detection);
		ndc_ok = false; /* the sensor's now */
		json_array_append_new(applied, json_string("detection"));
	}
	apply_periods(s, &nc, applied);
	restart_needed(s->cfg, &nc, restart);
	rc = 0;
out:
	if (ndc_ok)
		detect_config_free(&ndc);
	ev = sensor_lifecycle_event(s, "sensor-reload");
	event_set(ev, "event.outcome", json_string(rc ? "failure" : "success"));
	event_set(ev, "vigie.config_file", json_string_safe(file));
	if (rc) {
		log_error("reload refused, the running configuration is kept: %s", err);
		event_set(ev, "message", json_string_safe(err));
	} else {
		char a[512], r[512];

		names_joined(applied, a, sizeof(a));
		names_joined(restart, r, sizeof(r));
		if (json_array_size(restart))
			log_warn("configuration '%s' reloaded (applied: %s); changed but kept until "
				 "a restart: %s", file, *a ? a : "nothing changed", r);
		else
			log_info("configuration '%s' reloaded (applied: %s)", file,
				 *a ? a : "nothing changed");
		event_set(ev, "vigie.reload.applied", json_incref(applied));
		event_set(ev, "vigie.reload.restart_needed", json_incref(restart));
	}
	sensor_emit(s, ev);
	json_decref(applied);
	json_decref(restart);
	config_free(&nc);
	sd_notify_send("READY=1\nSTATUS=watching");
}

/* What the metrics endpoint reads (at start, and again after a reload
 * changed the detector or the syslog sink). */
void sensor_set_metrics_src(struct sensor *s)
{
	struct sensor_metrics_src src = {
		.counters = s->counters, .ids = s->ids, .det = s->det, .pga = s->pga,
		.variant = s->probes.variant, .start_ns = &s->start_ns, .ticks = &s->ticks,
		.drain_errors = &s->drain_errors, .syslog = s->syslog,
	};

	sensor_metrics_set_src(s->metrics, &src);
}
