// SPDX-License-Identifier: GPL-2.0
/*
 * The "containment" section (docs/containment.md). Every error names the
 * field ("containment.on_severity: must be ..."); a combination that could
 * act without bound or on nothing is refused, not corrected.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/config.h"
#include "contain/contain.h"

static const char *const mode_names[] = { "off", "dry-run", "enforce", NULL };
static const char *const severity_names[] = { "medium", "high", "critical", NULL };

const char *contain_mode_name(enum contain_mode m)
{
	return m >= CONTAIN_OFF && m <= CONTAIN_ENFORCE ? mode_names[m] : "off";
}

static int bad(char *err, size_t errlen, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(char *err, size_t errlen, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "containment.%s: %s", field, msg);
	return -1;
}

static int choice(json_t *v, const char *field, const char *const *names, int *out, char *err,
		  size_t errlen)
{
	const char *s = json_string_value(v);

	for (int i = 0; s && names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	if (names[3])
		return bad(err, errlen, field, "must be \"%s\", \"%s\", \"%s\" or \"%s\"", names[0],
			   names[1], names[2], names[3]);
	return bad(err, errlen, field, "must be \"%s\", \"%s\" or \"%s\"", names[0], names[1],
		   names[2]);
}

static int get_bool(json_t *o, const char *key, const char *field, bool *out, char *err,
		    size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(err, errlen, field, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* A list of names out of names[n]: set[i] for each one listed. */
static int name_set(json_t *arr, const char *field, const char *(*name_of)(int), int n, bool *set,
		    char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return bad(err, errlen, field, "must be a non-empty array of names");
	for (int k = 0; k < n; k++)
		set[k] = false;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		int k;

		for (k = 0; s && k < n; k++)
			if (!strcmp(s, name_of(k)))
				break;
		if (!s || k == n)
			return bad(err, errlen, field, "item %zu: unknown name%s%s%s", i,
				   s ? " \"" : "", s ? s : "", s ? "\"" : "");
		set[k] = true;
	}
	return 0;
}

static const char *kind_at(int k) { return principal_kind_name((enum principal_kind)k); }
static const char *metric_at(int m) { return metric_name((enum metric)m); }

static int parse_never(json_t *arr, struct contain_config *c, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return bad(err, errlen, "never", "must be an array of \"kind:pattern\"");
	if (json_array_size(arr) > CONTAIN_MAX_NEVER)
		return bad(err, errlen, "never", "at most %d entries", CONTAIN_MAX_NEVER);
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v), *colon = s ? strchr(s, ':') : NULL;
		bool known = false;

		for (int k = 0; colon && k < PK_MAX; k++) {
			const char *name = principal_kind_name((enum principal_kind)k);

			if ((size_t)(colon - s) == strlen(name) && !strncmp(s, name, strlen(name)))
				known = true;
		}
		if (!known || !colon[1])
			return bad(err, errlen, "never",
				   "item %zu: must be \"KIND:PATTERN\" with KIND one of user, "
				   "db_user, process, peer, app_user", i);
		c->never[c->n_never] = strdup(s);
		if (!c->never[c->n_never])
			return bad(err, errlen, "never", "out of memory");
		c->n_never++;
	}
	return 0;
}

static int parse_actions(json_t *o, struct contain_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "end_sessions", "block_peers", "stop_processes", NULL };
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return bad(err, errlen, "actions", "must be an object");
	json_object_foreach(o, key, v) {
		int k;

		for (k = 0; keys[k] && strcmp(keys[k], key); k++)
			;
		if (!keys[k])
			return bad(err, errlen, "actions", "unknown field \"%s\" (known: "
				   "end_sessions, block_peers, stop_processes)", key);
	}
	if (get_bool(o, "end_sessions", "actions.end_sessions", &c->end_sessions, err, errlen) ||
	    get_bool(o, "block_peers", "actions.block_peers", &c->block_peers, err, errlen) ||
	    get_bool(o, "stop_processes", "actions.stop_processes", &c->stop_processes, err,
		     errlen))
		return -1;
	if (!c->end_sessions && !c->block_peers && !c->stop_processes)
		return bad(err, errlen, "actions", "every action is off: set \"mode\": \"off\" "
			   "instead");
	return 0;
}

static void set_defaults(struct contain_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = CONTAIN_OFF;
	c->on_severity = 3;
	c->quarantine_s = 900;
	for (int m = 0; m < M_MAX; m++)
		c->metrics[m] = true;
	for (int k = 0; k < PK_MAX; k++)
		c->kinds[k] = true;
	c->end_sessions = true;
	c->block_peers = true;
	c->max_actions_per_hour = 10;
}

static int parse_fields(json_t *j, struct contain_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "mode", "on_severity", "quarantine_s", "metrics",
					    "kinds", "actions", "never",
					    "max_actions_per_hour", "$comment", NULL };
	const char *key;
	json_t *v;
	int i;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "containment: must be an object");
		return -1;
	}
	json_object_foreach(j, key, v) {
		for (i = 0; keys[i] && strcmp(keys[i], key); i++)
			;
		if (!keys[i])
			return bad(err, errlen, key, "unknown field (known: mode, on_severity, "
				   "quarantine_s, metrics, kinds, actions, never, "
				   "max_actions_per_hour)");
	}
	if ((v = json_object_get(j, "mode"))) {
		if (choice(v, "mode", mode_names, &i, err, errlen))
			return -1;
		c->mode = (enum contain_mode)i;
	}
	if ((v = json_object_get(j, "on_severity"))) {
		if (choice(v, "on_severity", severity_names, &i, err, errlen))
			return -1;
		c->on_severity = i + 1;
	}
	if ((v = json_object_get(j, "quarantine_s"))) {
		double s = json_number_value(v);

		if (json_is_string(v) && config_parse_seconds(json_string_value(v), &s))
			return bad(err, errlen, "quarantine_s", "not a duration");
		if ((!json_is_number(v) && !json_is_string(v)) || !isfinite(s) || s < 1 ||
		    s > 7 * 86400)
			return bad(err, errlen, "quarantine_s",
				   "must be from 1 second to 7 days (a number of seconds or "
				   "\"15m\")");
		c->quarantine_s = s;
	}
	if ((v = json_object_get(j, "metrics")) &&
	    name_set(v, "metrics", metric_at, M_MAX, c->metrics, err, errlen))
		return -1;
	if ((v = json_object_get(j, "kinds")) &&
	    name_set(v, "kinds", kind_at, PK_MAX, c->kinds, err, errlen))
		return -1;
	if ((v = json_object_get(j, "actions")) && parse_actions(v, c, err, errlen))
		return -1;
	if ((v = json_object_get(j, "never")) && parse_never(v, c, err, errlen))
		return -1;
	if ((v = json_object_get(j, "max_actions_per_hour"))) {
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n < 1 || n > 1000)
			return bad(err, errlen, "max_actions_per_hour",
				   "must be an integer from 1 to 1000 (a storm of false alerts "
				   "must not act without bound)");
		c->max_actions_per_hour = (uint32_t)n;
	}
	return 0;
}

int contain_config_parse(json_t *j, bool detection_on, struct contain_config *c, char *err,
			 size_t errlen)
{
	set_defaults(c);
	if (!j)
		return 0;
	if (parse_fields(j, c, err, errlen)) {
		contain_config_free(c);
		set_defaults(c);
		return -1;
	}
	if (c->mode != CONTAIN_OFF && !detection_on) {
		contain_config_free(c);
		set_defaults(c);
		return bad(err, errlen, "mode", "needs detection (detection.enabled is false): "
			   "nothing would ever trigger it");
	}
	return 0;
}

void contain_config_free(struct contain_config *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n_never; i++)
		free(c->never[i]);
	c->n_never = 0;
}

int contain_parse_peer(const char *s, struct contain_addr *a)
{
	char buf[64];
	const char *host = s, *end;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return -1;
	if (s[0] == '[') {
		host = s + 1;
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
	} else {
		end = strrchr(s, ':');
		/* one colon: IPv4:port; more: a bare IPv6 address */
		if (end && strchr(s, ':') != end)
			end = NULL;
	}
	n = end ? (size_t)(end - host) : strlen(host);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -1;
	if (a->family == AF_INET6 && !memcmp(a->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(a->addr, a->addr + 12, 4); /* v4-mapped: the IPv4 address */
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
	}
	inet_ntop(a->family, a->addr, a->text, sizeof(a->text));
	return 0;
}
