// SPDX-License-Identifier: GPL-2.0
/* The "databases" section of the configuration (ports, endpoints, data
 * directories, server executables, PostgreSQL, application users). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/config.h"
#include "base/config_parse.h"

/* "/", "//", "/./", "/.." ...: the root, however written (every
 * component empty, "." or ".."). */
static bool is_root(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n && !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		p += *p == '/';
	}
	return true;
}

static int parse_strv(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		      char **dst, int *n, int max, bool absolute_path)
{
	json_t *item;
	size_t i;
	char ipath[128];

	if (!json_is_array(v) || json_array_size(v) > (size_t)max)
		return cfgp_fail(pc, path, key, "must be an array of at most %d strings", max);
	cfgp_free_strv(dst, n);
	json_array_foreach(v, i, item) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (cfgp_get_string(pc, item, ipath, key, &dst[i]) || !dst[i])
			return dst[i] ? -1 : cfgp_fail(pc, ipath, key, "must be a non-empty string");
		(*n)++;
		if (absolute_path && dst[i][0] != '/')
			return cfgp_fail(pc, ipath, key, "must be an absolute path");
		if (absolute_path && is_root(dst[i]))
			return cfgp_fail(pc, ipath, key, "is the root of the file system: every file "
					 "read on the host would be a database file (name the "
					 "database's own directory)");
	}
	return 0;
}

int config_parse_databases(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	static const char *const keys[] = { "ports", "endpoints", "data_directories",
					    "server_executables", "postgres", "postgres_tls", "app_user", NULL };
	json_t *v, *item;
	size_t i;
	char path[96];

	if (cfgp_check_keys(pc, o, "databases", keys))
		return -1;
	if ((v = json_object_get(o, "ports"))) {
		if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_PORTS)
			return cfgp_fail(pc, "databases.ports", "ports",
				    "must be an array of at most %d ports", CONFIG_MAX_PORTS);
		cfg->n_db_ports = 0;
		json_array_foreach(v, i, item) {
			uint32_t port;

			snprintf(path, sizeof(path), "databases.ports[%zu]", i);
			if (!json_is_integer(item) || json_integer_value(item) < 1 ||
			    json_integer_value(item) > 65535)
				return cfgp_fail_item(pc, path, "ports", item,
						 "must be an integer in [1, 65535]");
			port = (uint32_t)json_integer_value(item);
			cfg->db_ports[cfg->n_db_ports++] = (uint16_t)port;
		}
	}
	if ((v = json_object_get(o, "endpoints"))) {
		if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_ENDPOINTS)
			return cfgp_fail(pc, "databases.endpoints", "endpoints",
				    "must be an array of at most %d \"address[:port]\" strings",
				    CONFIG_MAX_ENDPOINTS);
		cfg->n_db_endpoints = 0;
		json_array_foreach(v, i, item) {
			snprintf(path, sizeof(path), "databases.endpoints[%zu]", i);
			if (!json_is_string(item) ||
			    config_parse_endpoint(json_string_value(item), &cfg->db_endpoints[i]))
				return cfgp_fail_item(pc, path, "endpoints", item,
						 "must be \"address\" or \"address:port\" (IPv6 as \"[addr]:port\")");
			cfg->n_db_endpoints++;
		}
	}
	if ((v = json_object_get(o, "data_directories")) &&
	    parse_strv(pc, v, "databases.data_directories", "data_directories", cfg->data_dirs,
		       &cfg->n_data_dirs, CONFIG_MAX_DATA_DIRS, true))
		return -1;
	if ((v = json_object_get(o, "server_executables")) &&
	    parse_strv(pc, v, "databases.server_executables", "server_executables", cfg->server_exes,
		       &cfg->n_server_exes, CONFIG_MAX_SERVER_EXES, false))
		return -1;
	if ((v = json_object_get(o, "postgres"))) {
		/* in enum pg_mode's order */
		static const char *const modes[] = { "auto", "on", "off", NULL };
		int m;

		if (cfgp_get_choice(pc, v, "databases.postgres", "postgres", modes, &m))
			return -1;
		cfg->postgres = (enum pg_mode)m;
	}
	if ((v = json_object_get(o, "postgres_tls"))) {
		static const char *const tls[] = { "hook", "off", NULL };
		int m;

		if (cfgp_get_choice(pc, v, "databases.postgres_tls", "postgres_tls", tls, &m))
			return -1;
		cfg->postgres_tls_hook = m == 0;
	}
	if ((v = json_object_get(o, "app_user"))) {
		char err[256], *msg;

		/* err is "FIELD: message" */
		if (app_user_parse(v, &cfg->app_user, err, sizeof(err))) {
			msg = strstr(err, ": ");
			if (msg)
				*msg = '\0';
			return cfgp_fail(pc, err, "app_user", "%s", msg ? msg + 2 : "invalid");
		}
	}
	return 0;
}

