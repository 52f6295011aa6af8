// SPDX-License-Identifier: GPL-2.0
/* Configuration: built-in defaults, JSON file overrides, strict checking. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/config.h"
#include "base/config_parse.h"
#include "vigie.h"
#include "base/log.h"
#include "base/stopsig.h"

static const uint16_t default_db_ports[] = { 5432, 3306, 1521, 50000, 1433, 27017 };
static const char *const default_server_exes[] = {
	"postgres", "postmaster", "mysqld", "mariadbd", "oracle", "tnslsnr",
	"mongod", "db2sysc", "sqlservr",
};

int config_init(struct vigie_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tick_s = 1;
	cfg->usage_interval_s = 60;
	cfg->heartbeat_s = 60;
	cfg->usage_detail = USAGE_SUMMARY;
	cfg->usage_coarse_records = 100;
	cfg->usage_coarse_bytes = 1000000;
	cfg->usage_coarse_interval_s = 3600;
	cfg->usage_top_flows = 3;
	cfg->syslog_facility = 3; /* daemon */
	cfg->syslog_queue_bytes = 64ull << 20;
	cfg->syslog_spool_bytes = 256ull << 20;
	cfg->output_keep = 5;
	cfg->probes = PROBES_AUTO;
	cfg->exclude_loopback = true;
	cfg->postgres = PG_AUTO;
	cfg->postgres_tls_hook = true;
	cfg->flow_entries = 32768;
	cfg->flow_cache_slots = 256;
	cfg->control_socket = strdup(CONFIG_CONTROL_SOCKET);
	if (!cfg->control_socket)
		return -ENOMEM;
	cfg->total_entries = 8192;
	for (size_t i = 0; i < sizeof(default_db_ports) / sizeof(default_db_ports[0]); i++)
		cfg->db_ports[cfg->n_db_ports++] = default_db_ports[i];
	for (size_t i = 0; i < sizeof(default_server_exes) / sizeof(default_server_exes[0]); i++) {
		cfg->server_exes[i] = strdup(default_server_exes[i]);
		if (!cfg->server_exes[i])
			return -ENOMEM;
		cfg->n_server_exes++;
	}
	return 0;
}

void cfgp_free_strv(char **v, int *n)
{
	for (int i = 0; i < *n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
	*n = 0;
}

void config_free(struct vigie_config *cfg)
{
	if (!cfg)
		return;
	app_user_free(&cfg->app_user);
	free(cfg->output);
	free(cfg->output_group);
	free(cfg->host_name);
	free(cfg->record);
	free(cfg->state_file);
	free(cfg->syslog);
	free(cfg->syslog_spool);
	free(cfg->metrics_listen);
	free(cfg->control_socket);
	cfgp_free_strv(cfg->data_dirs, &cfg->n_data_dirs);
	cfgp_free_strv(cfg->server_exes, &cfg->n_server_exes);
	json_decref(cfg->detection);
	json_decref(cfg->containment);
	memset(cfg, 0, sizeof(*cfg));
}

const char *config_probe_mode_name(enum probe_mode m)
{
	switch (m) {
	case PROBES_SOCK: return "sock";
	case PROBES_SYSCALLS: return "syscalls";
	default: return "auto";
	}
}

int config_parse_probe_mode(const char *s, enum probe_mode *out)
{
	if (!s)
		return -1;
	if (!strcmp(s, "auto"))
		*out = PROBES_AUTO;
	else if (!strcmp(s, "sock"))
		*out = PROBES_SOCK;
	else if (!strcmp(s, "syscalls"))
		*out = PROBES_SYSCALLS;
	else
		return -1;
	return 0;
}

/* "5", "0.5", "10s", "2m", "1h": seconds in (0, 7 days]. */
int config_parse_seconds(const char *s, double *out)
{
	char *end;
	double v, mult = 1;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mult = 60, end++;
	else if (*end == 'h')
		mult = 3600, end++;
	if (*end)
		return -1;
	v *= mult;
	if (!isfinite(v) || v <= 0 || v > 7 * 86400)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(const char *s, uint8_t addr[16], uint8_t *family)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		*family = AF_INET6;
		if (!memcmp(addr, mapped, 12)) {
			memmove(addr, addr + 12, 4);
			memset(addr + 4, 0, 12);
			*family = AF_INET;
		}
		return 0;
	}
	return -1;
}

int config_parse_cidr(const char *s, struct config_net *out)
{
	char buf[64], *slash, *end;
	uint8_t addr[16];
	bool v4;
	long prefix;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	memset(addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, buf, addr) == 1)
		v4 = true;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		v4 = false;
	else
		return -1;
	if (slash) {
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || prefix < 0 || prefix > (v4 ? 32 : 128))
			return -1;
	} else {
		prefix = v4 ? 32 : 128;
	}
	/* The kernel looks IPv4 up as ::ffff:a.b.c.d */
	if (v4) {
		out->addr[10] = 0xff;
		out->addr[11] = 0xff;
		memcpy(out->addr + 12, addr, 4);
		out->prefix = (uint8_t)(prefix + 96);
	} else {
		memcpy(out->addr, addr, 16);
		out->prefix = (uint8_t)prefix;
	}
	return 0;
}

/* "10.0.0.5", "10.0.0.5:6000", "[2001:db8::1]:6000", "2001:db8::1" */
int config_parse_endpoint(const char *s, struct config_endpoint *out)
{
	char buf[80], *host = buf, *port = NULL, *end;
	long p = 0;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -1;
		*close = '\0';
		host = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -1;
	} else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
		port = strchr(buf, ':');
		*port++ = '\0';
	}
	memset(out, 0, sizeof(*out));
	if (parse_addr(host, out->addr, &out->family))
		return -1;
	if (port) {
		errno = 0;
		p = strtol(port, &end, 10);
		if (errno || end == port || *end || p < 1 || p > 65535)
			return -1;
	}
	out->port = (uint16_t)p;
	return 0;
}

int config_parse_listen(const char *s, struct config_endpoint *out)
{
	const char *colon;

	if (!s || !*s)
		return -1;
	colon = strchr(s, ':');
	if (s[0] != '[' && (!colon || colon != strrchr(s, ':')))
		return -1;
	if (config_parse_endpoint(s, out) || out->port == 0)
		return -1;
	return (s[0] == '[') == (out->family == AF_INET6) ? 0 : -1;
}

/* ---- JSON file (the typed getters: config_parse.c) ------------------- */

static int parse_network(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	static const char *const keys[] = { "exclude_loopback", "internal_networks", NULL };
	json_t *v, *item;
	size_t i;
	char path[96];

	if (cfgp_check_keys(pc, o, "network", keys))
		return -1;
	if ((v = json_object_get(o, "exclude_loopback")) &&
	    cfgp_get_bool(pc, v, "network.exclude_loopback", "exclude_loopback", &cfg->exclude_loopback))
		return -1;
	if ((v = json_object_get(o, "internal_networks"))) {
		if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_NETS)
			return cfgp_fail(pc, "network.internal_networks", "internal_networks",
				    "must be an array of at most %d CIDR strings", CONFIG_MAX_NETS);
		cfg->n_internal_nets = 0;
		json_array_foreach(v, i, item) {
			snprintf(path, sizeof(path), "network.internal_networks[%zu]", i);
			if (!json_is_string(item) ||
			    config_parse_cidr(json_string_value(item), &cfg->internal_nets[i]))
				return cfgp_fail_item(pc, path, "internal_networks", item,
						 "must be a CIDR such as \"10.0.0.0/8\" or \"fd00::/8\"");
			cfg->n_internal_nets++;
		}
	}
	return 0;
}

static int parse_limits(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg)
{
	static const char *const keys[] = { "flow_entries", "total_entries", "flow_cache_slots",
					    NULL };
	json_t *v;

	if (cfgp_check_keys(pc, o, "limits", keys))
		return -1;
	if ((v = json_object_get(o, "flow_entries")) &&
	    cfgp_get_u32(pc, v, "limits.flow_entries", "flow_entries", 1, 1 << 22, &cfg->flow_entries))
		return -1;
	if ((v = json_object_get(o, "total_entries")) &&
	    cfgp_get_u32(pc, v, "limits.total_entries", "total_entries", 1, 1 << 22, &cfg->total_entries))
		return -1;
	if ((v = json_object_get(o, "flow_cache_slots"))) {
		if (cfgp_get_u32(pc, v, "limits.flow_cache_slots", "flow_cache_slots", 0,
				 VIGIE_FLOW_CACHE_SLOTS,
				 &cfg->flow_cache_slots))
			return -1;
		if (cfg->flow_cache_slots & (cfg->flow_cache_slots - 1))
			return cfgp_fail(pc, "limits.flow_cache_slots", "flow_cache_slots",
					 "must be 0 (no cache) or a power of two, not %u",
					 cfg->flow_cache_slots);
	}
	return 0;
}

static int parse_root(const struct parse_ctx *pc, json_t *root, struct vigie_config *cfg)
{
	static const char *const keys[] = { "sensor", "network", "databases", "limits",
					    "detection", "containment", "$comment", NULL };
	json_t *v;

	if (!json_is_object(root)) {
		snprintf(pc->err, pc->errlen, "%s: the configuration must be a JSON object", pc->file);
		return -1;
	}
	if (cfgp_check_keys(pc, root, "(top level)", keys))
		return -1;
	if ((v = json_object_get(root, "sensor")) && config_parse_sensor(pc, v, cfg))
		return -1;
	if ((v = json_object_get(root, "network")) && parse_network(pc, v, cfg))
		return -1;
	if ((v = json_object_get(root, "databases")) && config_parse_databases(pc, v, cfg))
		return -1;
	if ((v = json_object_get(root, "limits")) && parse_limits(pc, v, cfg))
		return -1;
	/* kept as JSON for their own modules (detect/, contain/) */
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "containment" : "detection";
		json_t **slot = i ? &cfg->containment : &cfg->detection;

		if (!(v = json_object_get(root, name)))
			continue;
		if (!json_is_object(v))
			return cfgp_fail(pc, name, name, "must be an object");
		json_decref(*slot);
		*slot = json_incref(v);
	}
	return 0;
}

static int load_text(struct vigie_config *cfg, const char *text, const char *file, char *err,
		     size_t errlen)
{
	struct parse_ctx pc = { .text = text, .file = file, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", file, jerr.line, jerr.column,
			 jerr.text);
		return -1;
	}
	ret = parse_root(&pc, root, cfg);
	json_decref(root);
	return ret;
}

int config_load_string(struct vigie_config *cfg, const char *text, char *err, size_t errlen)
{
	return load_text(cfg, text, "(config)", err, errlen);
}

#define CONFIG_MAX_BYTES (4u * 1024 * 1024)

/* Wait for fd to be readable, in slices, ending early when a stop signal
 * the daemon holds is pending: 1 readable, 0 CONFIG_WAIT_MS without a
 * byte, -2 a stop signal, -1 error. */
#define CONFIG_WAIT_MS 10000

static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int waited = 0; waited < CONFIG_WAIT_MS; waited += 100) {
		int n = poll(&p, 1, 100);

		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
		if (stop_signal_pending())
			return -2;
	}
	return 0;
}

/* The whole file, NUL-terminated, read to its end (a pipe or /dev/stdin
 * too: -c <(...)); NULL with err set otherwise. Never blocked for good: a
 * named pipe no one writes, or a writer that stops without closing, ends
 * after 10 s without a byte (or at a stop signal the daemon holds). */
static char *read_config_text(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *text = NULL, *t;
	size_t len = 0, cap = 0;
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read configuration '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read configuration '%s': %s", path, strerror(EISDIR));
		goto fail;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16384;
			t = realloc(text, cap + 1);
			if (!t) {
				snprintf(err, errlen, "cannot read configuration '%s': %s", path,
					 strerror(ENOMEM));
				goto fail;
			}
			text = t;
		}
		/* a pipe: wait for bytes (or its end) first, a file never waits */
		if (!S_ISREG(st.st_mode)) {
			int w = wait_readable(fd);

			if (w <= 0) {
				snprintf(err, errlen, "cannot read configuration '%s': %s", path,
					 w == -2 ? "stopped while waiting for it" : w < 0 ?
					 strerror(errno) :
					 "nothing came from it for 10 s (a named pipe no one writes?)");
				goto fail;
			}
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read configuration '%s': %s", path,
				 strerror(errno));
			goto fail;
		}
		len += (size_t)n;
		if (len > CONFIG_MAX_BYTES) {
			snprintf(err, errlen, "%s: configuration larger than 4 MiB", path);
			goto fail;
		}
		if (n == 0)
			break;
	}
	close(fd);
	text[len] = '\0';
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: configuration holds a NUL byte", path);
		free(text);
		return NULL;
	}
	return text;
fail:
	free(text);
	if (fd >= 0)
		close(fd);
	return NULL;
}

int config_load_file_msg(struct vigie_config *cfg, const char *path, char *err, size_t errlen)
{
	char *text = read_config_text(path, err, errlen);
	int ret;

	if (!text)
		return -1;
	ret = load_text(cfg, text, path, err, errlen);
	free(text);
	return ret;
}

int config_load_file(struct vigie_config *cfg, const char *path)
{
	char err[512] = "";
	int ret = config_load_file_msg(cfg, path, err, sizeof(err));

	if (ret)
		log_error("%s", err);
	return ret;
}
