/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sensor configuration: built-in defaults, overridden by a JSON file.
 * Every error names the field (and line where jansson knows it).
 */
#ifndef VIGIE_CONFIG_H
#define VIGIE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/appuser.h"

#define CONFIG_MAX_PORTS 64
#define CONFIG_MAX_NETS 256
#define CONFIG_MAX_ENDPOINTS 256
#define CONFIG_MAX_DATA_DIRS 16
#define CONFIG_MAX_SERVER_EXES 32
#define CONFIG_CONTROL_SOCKET "/run/vigie/control.sock"

enum probe_mode { PROBES_AUTO = 0, PROBES_SOCK, PROBES_SYSCALLS };
enum pg_mode { PG_AUTO = 0, PG_ON, PG_OFF };
/* sensor.usage_detail: one usage event per principal (summary) or per
 * flow (process, class, endpoint) */
enum usage_detail { USAGE_SUMMARY = 0, USAGE_FLOW };

struct config_net { /* CIDR; IPv4 stored as ::ffff:a.b.c.d, prefix + 96 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct config_endpoint {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port; /* 0: any */
};

struct vigie_config {
	/* sensor */
	double tick_s;             /* drain period, default 1 */
	double usage_interval_s;   /* usage event period, default 60 */
	double heartbeat_s;        /* default 60 */
	enum usage_detail usage_detail;  /* default USAGE_SUMMARY */
	/* summary: a principal under both floors in an interval goes to its
	 * coarse summary (sensor.usage_coarse_below: records 100, bytes
	 * 1000000), written every usage_coarse_interval_s (3600, clock-aligned) */
	uint64_t usage_coarse_records;
	uint64_t usage_coarse_bytes;
	double usage_coarse_interval_s;
	uint32_t usage_top_flows;  /* flows named in a summary, default 3 */
	char *syslog;              /* sensor.syslog URL, NULL: none (output/syslog.h) */
	int syslog_facility;       /* default 3, daemon */
	uint64_t syslog_queue_bytes; /* default 64 MB */
	uint64_t output_max_bytes; /* sensor.output_max_bytes, 0: no rotation (logrotate) */
	int output_keep;           /* sensor.output_keep, default 5 */
	char *syslog_spool;        /* sensor.syslog_spool, NULL: beside the state file */
	uint64_t syslog_spool_bytes; /* default 256 MB, 0: no spool */
	enum probe_mode probes;
	char *output;              /* NULL: stdout */
	/* sensor.output_group: the output file 0640 and its directory
	 * traversable by this group (a log shipper), NULL: 0600 root only */
	char *output_group;
	uint32_t output_gid;
	char *host_name;           /* NULL: gethostname() */
	char *record;              /* trace file to record, NULL: none */
	char *state_file;          /* detection state, NULL: none */
	char *metrics_listen;      /* Prometheus endpoint as written, NULL: off */
	struct config_endpoint metrics_addr; /* its address and port when on */
	/* sensor.control_socket: vigie top's read-only Unix socket (docs/top.md),
	 * default CONFIG_CONTROL_SOCKET, NULL: none */
	char *control_socket;
	/* network */
	bool exclude_loopback;
	struct config_net internal_nets[CONFIG_MAX_NETS];
	int n_internal_nets;
	/* databases */
	uint16_t db_ports[CONFIG_MAX_PORTS];
	int n_db_ports;
	struct config_endpoint db_endpoints[CONFIG_MAX_ENDPOINTS];
	int n_db_endpoints;
	char *data_dirs[CONFIG_MAX_DATA_DIRS];
	int n_data_dirs;
	char *server_exes[CONFIG_MAX_SERVER_EXES]; /* basenames of DB servers */
	int n_server_exes;
	enum pg_mode postgres;
	bool postgres_tls_hook;      /* databases.postgres_tls: "hook" (default) or "off" */
	struct app_user_cfg app_user; /* databases.app_user (appuser.h) */
	/* map sizes */
	uint32_t flow_entries;
	uint32_t total_entries;
	uint32_t flow_cache_slots;   /* per CPU, a power of two; 0: no cache */
	/* detection settings, kept as JSON for the detection module
	 * (NULL when the file has none). Owned. */
	json_t *detection;
	/* containment settings (user/contain/), JSON like detection. Owned. */
	json_t *containment;
};

/* Fill cfg with the built-in defaults. 0 or -ENOMEM. */
int config_init(struct vigie_config *cfg);
/* Override cfg from a JSON file. 0, or -1 with a message naming the file,
 * the line and the field already logged. */
int config_load_file(struct vigie_config *cfg, const char *path);
/* The same, the message in err instead of the log (reload). */
int config_load_file_msg(struct vigie_config *cfg, const char *path, char *err, size_t errlen);
/* Same from a string (tests). err gets the message. */
int config_load_string(struct vigie_config *cfg, const char *text, char *err, size_t errlen);
void config_free(struct vigie_config *cfg);

/* Bounds and relations of the settings, whatever set them (file or command
 * line; base/config_check.c). 0 ok, -1 with err naming the setting. */
int config_validate(const struct vigie_config *cfg, char *err, size_t errlen);

/* config_validate's one-file-each rule with the configuration file read
 * (config_path) among the files: none of those written may be it (vigie
 * -c c.json --state c.json replaced the configuration with the state). */
int config_check_files(const struct vigie_config *cfg, const char *config_path, char *err,
		       size_t errlen);

/* Parsers shared with the command line. 0 ok, -1 bad. */
int config_parse_seconds(const char *s, double *out);
int config_parse_probe_mode(const char *s, enum probe_mode *out);
int config_parse_cidr(const char *s, struct config_net *out);
int config_parse_endpoint(const char *s, struct config_endpoint *out);
/* Listening address: "A.B.C.D:PORT" or "[IPv6]:PORT", port in 1..65535. */
int config_parse_listen(const char *s, struct config_endpoint *out);
const char *config_probe_mode_name(enum probe_mode m);

#endif
