// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/event.h"

static char host_name[256] = "localhost";
static char host_id[128];
static uint64_t id_seed, id_counter;

void event_set_host(const char *name)
{
	if (name && *name)
		snprintf(host_name, sizeof(host_name), "%s", name);
}

const char *event_host(void) { return host_name; }

void event_set_host_id(const char *id)
{
	snprintf(host_id, sizeof(host_id), "%s", id ? id : "");
}

const char *event_host_id(void) { return host_id[0] ? host_id : NULL; }

int event_host_id_from_file(const char *path)
{
	char buf[128];
	size_t n, b = 0;
	FILE *f = fopen(path, "re");

	host_id[0] = '\0';
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (b < n && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\n' || buf[b] == '\r'))
		b++;
	while (n > b && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\n' ||
			 buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (size_t i = b; i < n; i++)
		if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
			return -1;
	if (n == b)
		return -1;
	snprintf(host_id, sizeof(host_id), "%s", buf + b);
	return 0;
}

void event_seed_ids(uint64_t seed)
{
	id_seed = seed;
	id_counter = 0;
}

uint64_t event_seed_of(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return h;
}

void event_add_unique(json_t *ev, const char *path, const char *value)
{
	json_t *arr = ev, *v;
	char key[64];
	const char *p = path, *dot;
	size_t i;

	if (!value || !*value)
		return;
	while ((dot = strchr(p, '.')) != NULL && arr) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - p), p);
		arr = json_object_get(arr, key);
		p = dot + 1;
	}
	arr = arr ? json_object_get(arr, p) : NULL;
	if (!arr) {
		arr = json_array();
		if (!arr || event_set(ev, path, arr))
			return;
	}
	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
			return;
	json_array_append_new(arr, json_string_safe(value));
}

static const char *get_str(json_t *ev, const char *a, const char *b)
{
	json_t *o = json_object_get(ev, a);

	return json_string_value(o ? json_object_get(o, b) : NULL);
}

void event_relate(json_t *ev)
{
	json_t *user = json_object_get(ev, "user");
	json_t *vigie = json_object_get(ev, "vigie");
	json_t *apps = vigie ? json_object_get(vigie, "app_users") : NULL, *a;
	size_t i;

	event_add_unique(ev, "related.user", get_str(ev, "user", "name"));
	if (user)
		event_add_unique(ev, "related.user", get_str(user, "audit", "name"));
	event_add_unique(ev, "related.user", get_str(ev, "vigie", "app_user"));
	json_array_foreach(apps, i, a)
		event_add_unique(ev, "related.user", json_string_value(json_object_get(a, "user")));
	event_add_unique(ev, "related.user", get_str(ev, "vigie", "db_user"));
	event_add_unique(ev, "related.ip", get_str(ev, "source", "ip"));
	event_add_unique(ev, "related.ip", get_str(ev, "destination", "ip"));
}

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

int event_set_count(json_t *root, const char *dotted_path, uint64_t value)
{
	return event_set(root, dotted_path, json_integer((json_int_t)value));
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
	char ts[40], id[40];
	json_t *e = json_object();

	if (!e)
		return NULL;
	snprintf(id, sizeof(id), "%016llx%016llx", (unsigned long long)id_seed,
		 (unsigned long long)id_counter++);
	event_set(e, "@timestamp", json_string(format_rfc3339(ns, ts, sizeof(ts))));
	event_set(e, "event.id", json_string(id));
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
	if (host_id[0])
		event_set(e, "host.id", json_string(host_id));
	event_set(e, "agent.type", json_string("vigie"));
	event_set(e, "agent.version", json_string(VIGIE_VERSION));
	event_set(e, "ecs.version", json_string("8.11.0"));
	return e;
}
