// SPDX-License-Identifier: GPL-2.0
/* The "sensor" section of the configuration (periods, probes, output,
 * usage volume, metrics, syslog); the rest is in config.c. */
#define _GNU_SOURCE
#include <grp.h>
#include <string.h>
#include "base/config.h"
#include "base/config_parse.h"
#include "base/syslog_url.h"

/* sensor.syslog, syslog_facility, syslog_queue_bytes, syslog_spool,
 * syslog_spool_bytes */
static int parse_syslog(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	char err[200];
	json_t *v;

	if ((v = json_object_get(o, "syslog")) && !json_is_null(v)) {
		if (cfgp_get_string(pc, v, "sensor.syslog", "syslog", &cfg->syslog))
			return -1;
		if (syslog_url_check(cfg->syslog, err, sizeof(err)))
			return cfgp_fail(pc, "sensor.syslog", "syslog", "%s", err);
	}
	if ((v = json_object_get(o, "syslog_facility")) &&
	    (!json_is_string(v) || (cfg->syslog_facility = syslog_facility_code(
					    json_string_value(v))) < 0))
		return cfgp_fail(pc, "sensor.syslog_facility", "syslog_facility",
			    "must be a facility name: kern, user, daemon, auth, local0 ... local7");
	if ((v = json_object_get(o, "syslog_queue_bytes")) &&
	    cfgp_get_bytes(pc, v, "sensor.syslog_queue_bytes", "syslog_queue_bytes", 65536, NULL,
			   &cfg->syslog_queue_bytes))
		return -1;
	if ((v = json_object_get(o, "syslog_spool")) && !json_is_null(v)) {
		free(cfg->syslog_spool);
		cfg->syslog_spool = NULL;
		if (cfgp_get_string(pc, v, "sensor.syslog_spool", "syslog_spool", &cfg->syslog_spool))
			return -1;
		if (cfg->syslog_spool[0] != '/')
			return cfgp_fail(pc, "sensor.syslog_spool", "syslog_spool",
				    "must be an absolute path (or null: beside the state file)");
	}
	if ((v = json_object_get(o, "output_max_bytes")) &&
	    cfgp_get_bytes(pc, v, "sensor.output_max_bytes", "output_max_bytes", 65536,
			   "no rotation: logrotate", &cfg->output_max_bytes))
		return -1;
	if ((v = json_object_get(o, "output_keep"))) {
		uint32_t k;

		if (cfgp_get_u32(pc, v, "sensor.output_keep", "output_keep", 1, 1000, &k))
			return -1;
		cfg->output_keep = (int)k;
	}
	if ((v = json_object_get(o, "syslog_spool_bytes")) &&
	    cfgp_get_bytes(pc, v, "sensor.syslog_spool_bytes", "syslog_spool_bytes", 65536,
			   "no spool", &cfg->syslog_spool_bytes))
		return -1;
	return 0;
}

/* sensor.usage_detail, usage_coarse_below, usage_coarse_interval,
 * usage_top_flows */
static int parse_usage_volume(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	static const char *const below_keys[] = { "records", "bytes", NULL };
	json_t *v, *w;

	if ((v = json_object_get(o, "usage_detail"))) {
		const char *d = json_string_value(v);

		if (d && !strcmp(d, "summary"))
			cfg->usage_detail = USAGE_SUMMARY;
		else if (d && !strcmp(d, "flow"))
			cfg->usage_detail = USAGE_FLOW;
		else
			return cfgp_fail(pc, "sensor.usage_detail", "usage_detail",
				    "must be \"summary\" (one event per principal) or \"flow\" "
				    "(one per process and endpoint)");
	}
	if ((v = json_object_get(o, "usage_coarse_below"))) {
		if (cfgp_check_keys(pc, v, "sensor.usage_coarse_below", below_keys))
			return -1;
		if ((w = json_object_get(v, "records")) &&
		    (!json_is_integer(w) || json_integer_value(w) < 0))
			return cfgp_fail(pc, "sensor.usage_coarse_below.records", "records",
				    "must be an integer >= 0");
		if (w)
			cfg->usage_coarse_records = (uint64_t)json_integer_value(w);
		if ((w = json_object_get(v, "bytes")) &&
		    (!json_is_integer(w) || json_integer_value(w) < 0))
			return cfgp_fail(pc, "sensor.usage_coarse_below.bytes", "bytes",
				    "must be an integer >= 0");
		if (w)
			cfg->usage_coarse_bytes = (uint64_t)json_integer_value(w);
	}
	if ((v = json_object_get(o, "usage_coarse_interval")) &&
	    cfgp_get_seconds(pc, v, "sensor.usage_coarse_interval", "usage_coarse_interval",
			&cfg->usage_coarse_interval_s))
		return -1;
	if ((v = json_object_get(o, "usage_top_flows")) &&
	    cfgp_get_u32(pc, v, "sensor.usage_top_flows", "usage_top_flows", 0, 10, &cfg->usage_top_flows))
		return -1;
	return parse_syslog(pc, o, cfg);
}

int config_parse_sensor(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	static const char *const keys[] = { "tick", "usage_interval", "heartbeat", "probes",
					    "output", "host_name", "record", "state_file",
					    "usage_detail", "usage_coarse_below", "usage_coarse_interval",
					    "usage_top_flows", "metrics_listen", "syslog",
					    "syslog_facility", "syslog_queue_bytes", "syslog_spool",
					    "syslog_spool_bytes", "output_max_bytes",
					    "output_keep", "output_group", "control_socket",
					    NULL };
	json_t *v;

	if (cfgp_check_keys(pc, o, "sensor", keys))
		return -1;
	if ((v = json_object_get(o, "tick")) && cfgp_get_seconds(pc, v, "sensor.tick", "tick", &cfg->tick_s))
		return -1;
	if ((v = json_object_get(o, "usage_interval")) &&
	    cfgp_get_seconds(pc, v, "sensor.usage_interval", "usage_interval", &cfg->usage_interval_s))
		return -1;
	if ((v = json_object_get(o, "heartbeat")) &&
	    cfgp_get_seconds(pc, v, "sensor.heartbeat", "heartbeat", &cfg->heartbeat_s))
		return -1;
	if ((v = json_object_get(o, "probes")) &&
	    (!json_is_string(v) || config_parse_probe_mode(json_string_value(v), &cfg->probes)))
		return cfgp_fail(pc, "sensor.probes", "probes", "must be \"auto\", \"sock\" or \"syscalls\"");
	if ((v = json_object_get(o, "output")) && cfgp_get_string(pc, v, "sensor.output", "output", &cfg->output))
		return -1;
	if ((v = json_object_get(o, "host_name")) &&
	    cfgp_get_string(pc, v, "sensor.host_name", "host_name", &cfg->host_name))
		return -1;
	if ((v = json_object_get(o, "record")) && cfgp_get_string(pc, v, "sensor.record", "record", &cfg->record))
		return -1;
	if ((v = json_object_get(o, "state_file")) &&
	    cfgp_get_string(pc, v, "sensor.state_file", "state_file", &cfg->state_file))
		return -1;
	if ((v = json_object_get(o, "metrics_listen"))) {
		if (cfgp_get_string(pc, v, "sensor.metrics_listen", "metrics_listen", &cfg->metrics_listen))
			return -1;
		if (cfg->metrics_listen &&
		    config_parse_listen(cfg->metrics_listen, &cfg->metrics_addr))
			return cfgp_fail(pc, "sensor.metrics_listen", "metrics_listen",
				    "must be \"ADDRESS:PORT\" with an IPv4 address (\"127.0.0.1:9464\") "
				    "or a bracketed IPv6 one (\"[::1]:9464\"), port 1-65535");
	}
	if ((v = json_object_get(o, "control_socket"))) {
		if (cfgp_get_string(pc, v, "sensor.control_socket", "control_socket",
				    &cfg->control_socket))
			return -1;
		/* sun_path holds 108 bytes, the terminating NUL included */
		if (cfg->control_socket &&
		    (cfg->control_socket[0] != '/' || strlen(cfg->control_socket) > 107))
			return cfgp_fail(pc, "sensor.control_socket", "control_socket",
				    "must be an absolute path of at most 107 bytes (or null: no "
				    "control socket)");
	}
	if ((v = json_object_get(o, "output_group"))) {
		struct group *g;

		if (cfgp_get_string(pc, v, "sensor.output_group", "output_group", &cfg->output_group))
			return -1;
		if (cfg->output_group) {
			g = getgrnam(cfg->output_group);
			if (!g)
				return cfgp_fail(pc, "sensor.output_group", "output_group",
					    "no group named '%s' on this host", cfg->output_group);
			cfg->output_gid = (uint32_t)g->gr_gid;
		}
	}
	return parse_usage_volume(pc, o, cfg);
}

