/* SPDX-License-Identifier: GPL-2.0 */
/* Detection unit tests: events captured from a detector, read back by
 * field; configuration from JSON text; samples fed by hand. */
#ifndef VIGIE_TEST_DETECT_CAPTURE_H
#define VIGIE_TEST_DETECT_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "detect/detect.h"

struct captured {
	char *lines[4096];
	int n;
};

static inline void capture(json_t *ev, void *ctx)
{
	struct captured *c = ctx;

	if (c->n < 4096)
		c->lines[c->n++] = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
}

static inline void captured_free(struct captured *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->lines[i]);
	c->n = 0;
}

static inline int count_with(const struct captured *c, const char *part)
{
	int n = 0;

	for (int i = 0; i < c->n; i++)
		n += strstr(c->lines[i], part) != NULL;
	return n;
}

static inline json_t *field(const char *line, const char *path)
{
	static json_t *last;
	json_t *j, *v;
	char key[64];
	const char *p = path, *dot;

	json_decref(last);
	last = NULL;
	if (!line)
		return NULL; /* release */
	last = j = json_loads(line, 0, NULL);
	v = j;
	while (v && (dot = strchr(p, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - p), p);
		v = json_object_get(v, key);
		p = dot + 1;
	}
	return v ? json_object_get(v, p) : NULL;
}

/* Remove event.id ("event":{"id":"<32 hex>",) in place: events of two
 * detectors in one process differ only there. */
static inline char *strip_event_id(char *line)
{
	char *p = line ? strstr(line, "\"event\":{\"id\":\"") : NULL;

	if (p && strlen(p) > 9 + 6 + 32 + 2 && p[9 + 6 + 32] == '"' && p[9 + 6 + 33] == ',')
		memmove(p + 9, p + 9 + 6 + 34, strlen(p + 9 + 6 + 34) + 1);
	return line;
}

/* v equals the JSON text (parsed) */
static inline int json_dumps_eq(json_t *v, const char *text)
{
	json_t *w = json_loads(text, 0, NULL);
	int eq = v && w && json_equal(v, w);

	json_decref(w);
	return eq;
}

/* Events whose principal is kind:id. */
static inline int count_principal(const struct captured *c, const char *kind, const char *id)
{
	char part[300];

	snprintf(part, sizeof(part), "\"principal\":{\"kind\":\"%s\",\"id\":\"%s\"", kind, id);
	return count_with(c, part);
}

static inline struct detect_config parse_cfg(const char *text)
{
	struct detect_config c;
	char err[512];
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (text && !j)
		fprintf(stderr, "bad test JSON: %s\n", text);
	if (detect_config_parse(j, &c, err, sizeof(err)))
		fprintf(stderr, "config: %s\n", err);
	json_decref(j);
	return c;
}

static inline void feed_rows(struct detector *d, uint64_t ts, const char *db_user, uint64_t rows)
{
	struct trace_sample s;

	trace_sample_init(&s);
	s.ts_ns = ts;
	s.pid = 100;
	s.uid = 105;
	strcpy(s.user, "postgres");
	strcpy(s.exe, "/usr/bin/postgres");
	strcpy(s.db_user, db_user);
	strcpy(s.peer, "10.0.0.1");
	s.db_rows = rows;
	detector_feed(d, &s);
}

#endif
