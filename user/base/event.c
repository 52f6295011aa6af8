// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/event.h"

static char host_name[256] = "localhost";

void event_set_host(const char *name)
{
	if (name && *name)
		snprintf(host_name, sizeof(host_name), "%s", name);
}

const char *event_host(void) { return host_name; }

char *format_rfc3339(uint64_t ns, char *buf, size_t size)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	unsigned usec = (unsigned)((ns % 1000000000ull) / 1000u);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "1970-01-01T00:00:00.000000Z");
		return buf;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	return buf;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int parse_rfc3339(const char *s, uint64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	uint64_t frac = 0, scale = 1000000000ull;
	const char *p = s;
	struct tm tm = { 0 };
	long off = 0;
	time_t t;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600L + om * 60L);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || (long long)t - off < 0)
		return -1;
	*out = (uint64_t)((long long)t - off) * 1000000000ull + frac;
	return 0;
}

size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

json_t *json_string_bytes(const char *bytes, size_t len)
{
	const unsigned char *s = (const unsigned char *)bytes;
	size_t cap = len * 3 + 1, o = 0;
	char *buf;
	json_t *j;

	if (!bytes)
		return json_null();
	buf = malloc(cap);
	if (!buf)
		return json_null();
	for (size_t i = 0; i < len;) {
		size_t l = utf8_valid_len(s + i, len - i);

		if (l == 0) {
			/* U+FFFD REPLACEMENT CHARACTER */
			buf[o++] = (char)0xef;
			buf[o++] = (char)0xbf;
			buf[o++] = (char)0xbd;
			i++;
		} else if (l == 1 && s[i] == 0) {
			buf[o++] = ' ';
			i++;
		} else {
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
		}
	}
	j = json_stringn_nocheck(buf, o);
	free(buf);
	return j ? j : json_null();
}

json_t *json_string_safe(const char *s)
{
	return s ? json_string_bytes(s, strlen(s)) : json_null();
}

int event_set(json_t *root, const char *path, json_t *value)
{
	char key[128];
	const char *dot;
	json_t *node = root;

	if (!value)
		return -1;
	while ((dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t)(dot - path);
		json_t *child;

		if (n == 0 || n >= sizeof(key))
			goto fail;
		memcpy(key, path, n);
		key[n] = '\0';
		child = json_object_get(node, key);
		if (!child) {
			child = json_object();
			if (!child || json_object_set_new(node, key, child))
				goto fail;
		} else if (!json_is_object(child)) {
			goto fail;
		}
		node = child;
		path = dot + 1;
	}
	if (json_object_set_new(node, path, value))
		return -1;
	return 0;
fail:
	json_decref(value);
	return -1;
}

json_t *event_new(uint64_t ns, const char *kind, const char *category, const char *type,
		  const char *action)
{
	char ts[40];
	json_t *e = json_object();

	if (!e)
		return NULL;
	event_set(e, "@timestamp", json_string(format_rfc3339(ns, ts, sizeof(ts))));
	event_set(e, "event.kind", json_string(kind));
	if (category)
		event_set(e, "event.category", json_pack("[s]", category));
	if (type)
		event_set(e, "event.type", json_pack("[s]", type));
	event_set(e, "event.action", json_string(action));
	event_set(e, "event.module", json_string("vigie"));
	event_set(e, "event.dataset", json_string(strcmp(kind, "metric") == 0 ? "vigie.usage" :
						  strcmp(kind, "alert") == 0 ? "vigie.alert" :
									      "vigie.sensor"));
	event_set(e, "host.name", json_string_safe(host_name));
	event_set(e, "agent.type", json_string("vigie"));
	event_set(e, "agent.version", json_string(VIGIE_VERSION));
	event_set(e, "ecs.version", json_string("8.11.0"));
	return e;
}
