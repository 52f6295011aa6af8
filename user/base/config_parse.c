// SPDX-License-Identifier: GPL-2.0
/* Configuration: reading values out of the JSON file, each error named by
 * its path and line (the getters the config_*.c sections share). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/config.h"
#include "base/config_parse.h"
#include "base/log.h"

/* Where "key": first appears in the text (a key, not a word in a comment
 * string), or NULL. */
static const char *key_pos(const struct parse_ctx *pc, const char *key)
{
	char needle[96];
	const char *hit;

	if (!pc->text || snprintf(needle, sizeof(needle), "\"%s\"", key) >= (int)sizeof(needle))
		return NULL;
	for (hit = strstr(pc->text, needle); hit; hit = strstr(hit + 1, needle)) {
		const char *p = hit + strlen(needle);

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == ':')
			return hit;
	}
	return NULL;
}

static int line_of(const struct parse_ctx *pc, const char *pos)
{
	int line = 1;

	if (!pos)
		return 0;
	for (const char *p = pc->text; p < pos; p++)
		line += *p == '\n';
	return line;
}

/* Line of an array item: its text after its key (strings and integers),
 * else the key's line. */
static int item_line(const struct parse_ctx *pc, const char *key, json_t *item)
{
	const char *at = key_pos(pc, key), *hit = NULL;
	char needle[128];

	if (!at)
		return 0;
	if (json_is_string(item) && json_string_length(item) < 100)
		snprintf(needle, sizeof(needle), "\"%s\"", json_string_value(item));
	else if (json_is_integer(item))
		snprintf(needle, sizeof(needle), "%" JSON_INTEGER_FORMAT, json_integer_value(item));
	else
		needle[0] = '\0';
	if (needle[0])
		hit = strstr(at, needle);
	return line_of(pc, hit ? hit : at);
}

static int report(const struct parse_ctx *pc, int line, const char *path, const char *fmt,
		  va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		snprintf(pc->err, pc->errlen, "%s:%d: %s: %s", pc->file, line, path, msg);
	else
		snprintf(pc->err, pc->errlen, "%s: %s: %s", pc->file, path, msg);
	return -1;
}

__attribute__((format(printf, 4, 5)))
int cfgp_fail(const struct parse_ctx *pc, const char *path, const char *key, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = report(pc, line_of(pc, key_pos(pc, key)), path, fmt, ap);
	va_end(ap);
	return ret;
}

/* Same for an array item: the line is the item's. */
__attribute__((format(printf, 5, 6)))
int cfgp_fail_item(const struct parse_ctx *pc, const char *path, const char *key, json_t *item,
		     const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = report(pc, item_line(pc, key, item), path, fmt, ap);
	va_end(ap);
	return ret;
}

int cfgp_get_seconds(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		       double *out)
{
	if (json_is_number(v)) {
		double d = json_number_value(v);

		if (!isfinite(d) || d <= 0 || d > 7 * 86400)
			return cfgp_fail(pc, path, key, "must be a number of seconds in (0, 604800]");
		*out = d;
		return 0;
	}
	if (json_is_string(v) && !config_parse_seconds(json_string_value(v), out))
		return 0;
	return cfgp_fail(pc, path, key, "must be a number of seconds (e.g. 60 or \"1m\")");
}

int cfgp_get_bool(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		    bool *out)
{
	if (!json_is_boolean(v))
		return cfgp_fail(pc, path, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int cfgp_get_string(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		      char **out)
{
	char *dup;

	if (json_is_null(v)) {
		free(*out);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4096 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return cfgp_fail(pc, path, key, "must be a non-empty string");
	dup = strdup(json_string_value(v));
	if (!dup)
		return cfgp_fail(pc, path, key, "out of memory");
	free(*out);
	*out = dup;
	return 0;
}

int cfgp_get_u32(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return cfgp_fail(pc, path, key, "must be an integer in [%u, %u]", min, max);
	i = json_integer_value(v);
	if (i < (json_int_t)min || i > (json_int_t)max)
		return cfgp_fail(pc, path, key, "must be an integer in [%u, %u]", min, max);
	*out = (uint32_t)i;
	return 0;
}

int cfgp_get_choice(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		    const char *const *names, int *out)
{
	const char *s = json_string_value(v);
	char list[256] = "";
	int n = 0;

	for (; names[n]; n++)
		if (s && !strcmp(s, names[n])) {
			*out = n;
			return 0;
		}
	for (int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
			 i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	return cfgp_fail(pc, path, key, "must be %s", list);
}

int cfgp_get_bytes(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		   uint64_t min, const char *zero_means, uint64_t *out)
{
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;

	if (i < 0 || (i == 0 && !zero_means) || (i > 0 && (uint64_t)i < min)) {
		if (zero_means)
			return cfgp_fail(pc, path, key, "must be 0 (%s) or an integer >= %llu",
					 zero_means, (unsigned long long)min);
		return cfgp_fail(pc, path, key, "must be an integer >= %llu",
				 (unsigned long long)min);
	}
	*out = (uint64_t)i;
	return 0;
}

int cfgp_check_keys(const struct parse_ctx *pc, json_t *obj, const char *section,
		      const char *const *allowed)
{
	const char *key;
	json_t *v;
	char path[128];

	if (!json_is_object(obj))
		return cfgp_fail(pc, section, section, "must be an object");
	json_object_foreach(obj, key, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		if (!ok) {
			snprintf(path, sizeof(path), "%s.%s", section, key);
			return cfgp_fail(pc, path, key, "unknown setting");
		}
	}
	return 0;
}
