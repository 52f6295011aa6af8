// SPDX-License-Identifier: GPL-2.0
/* The sensor's output read back (see live.h): its JSON lines loaded,
 * queried by path, searched by action, usage events summed, and checked
 * against the ECS subset and the index template. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/live.h"
#include "output/ecs_check.h"

int events_load(struct events *e, const char *path)
{
	size_t len;
	char *text = live_read_file(path, &len), *p, *nl;

	memset(e, 0, sizeof(*e));
	if (!text) {
		printf("  ..    cannot read %s\n", path);
		return -1;
	}
	for (p = text; p < text + len; p = nl + 1) {
		json_error_t jerr;
		json_t *j;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl) {
			/* last line without newline: a torn write */
			e->lines++;
			e->bad_lines++;
			snprintf(e->first_bad, sizeof(e->first_bad), "line %zu: no final newline",
				 e->lines);
			break;
		}
		*nl = '\0';
		e->lines++;
		j = json_loads(p, JSON_REJECT_DUPLICATES, &jerr);
		if (!j || !json_is_object(j)) {
			if (!e->bad_lines)
				snprintf(e->first_bad, sizeof(e->first_bad), "line %zu: %s", e->lines,
					 j ? "not an object" : jerr.text);
			e->bad_lines++;
			json_decref(j);
			continue;
		}
		if ((e->n & (e->n + 1)) == 0 || e->n == 0) {
			json_t **nv = realloc(e->ev, (e->n * 2 + 2) * sizeof(*nv));

			if (!nv)
				abort();
			e->ev = nv;
		}
		e->ev[e->n++] = j;
	}
	free(text);
	return 0;
}

void events_free(struct events *e)
{
	for (size_t i = 0; i < e->n; i++)
		json_decref(e->ev[i]);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

json_t *jpath(json_t *root, const char *path)
{
	char key[128];
	const char *dot;
	json_t *node = root;

	while (node && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		node = json_object_get(node, key);
		path = dot + 1;
	}
	return node ? json_object_get(node, path) : NULL;
}

const char *jstr(json_t *root, const char *path)
{
	return json_string_value(jpath(root, path));
}

long long jint(json_t *root, const char *path, long long dflt)
{
	json_t *v = jpath(root, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static bool is_action(json_t *ev, const char *action)
{
	const char *a = jstr(ev, "event.action");

	return a && !strcmp(a, action);
}

json_t *events_find(const struct events *e, const char *action)
{
	for (size_t i = 0; i < e->n; i++)
		if (is_action(e->ev[i], action))
			return e->ev[i];
	return NULL;
}

json_t *events_find_last(const struct events *e, const char *action)
{
	for (size_t i = e->n; i > 0; i--)
		if (is_action(e->ev[i - 1], action))
			return e->ev[i - 1];
	return NULL;
}

size_t events_count(const struct events *e, const char *action)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		n += is_action(e->ev[i], action);
	return n;
}

static bool usage_match(json_t *ev, pid_t pid, const char *cls, const struct usage_filter *f)
{
	const char *c, *side;
	char path[32];

	if (!is_action(ev, "usage") || jint(ev, "process.pid", -1) != pid)
		return false;
	c = jstr(ev, "vigie.class");
	if (cls && (!c || strcmp(c, cls)))
		return false;
	if (!f)
		return true;
	side = c && !strcmp(c, "db_server") ? "source" : "destination";
	if (f->ip) {
		const char *ip;

		snprintf(path, sizeof(path), "%s.ip", side);
		ip = jstr(ev, path);
		if (!ip || strcmp(ip, f->ip))
			return false;
	}
	if (f->port) {
		snprintf(path, sizeof(path), "%s.port", side);
		if (jint(ev, path, -1) != f->port)
			return false;
	}
	if (f->transport) {
		const char *t = jstr(ev, "network.transport");

		if (!t || strcmp(t, f->transport))
			return false;
	}
	if (f->aggregated) {
		bool agg = json_is_true(jpath(ev, "vigie.aggregated"));

		if ((f->aggregated > 0) != agg)
			return false;
	}
	if (f->uid) {
		const char *u = jstr(ev, "user.id");

		if (!u || strcmp(u, f->uid))
			return false;
	}
	return true;
}

uint64_t usage_sum(const struct events *e, pid_t pid, const char *cls,
		   const struct usage_filter *f, uint64_t *ops, size_t *n_events)
{
	uint64_t bytes = 0, o = 0;
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++) {
		if (!usage_match(e->ev[i], pid, cls, f))
			continue;
		bytes += (uint64_t)jint(e->ev[i], "vigie.bytes", 0);
		o += (uint64_t)jint(e->ev[i], "vigie.ops", 0);
		n++;
	}
	if (ops)
		*ops = o;
	if (n_events)
		*n_events = n;
	return bytes;
}

json_t *usage_first(const struct events *e, pid_t pid, const char *cls)
{
	for (size_t i = 0; i < e->n; i++)
		if (usage_match(e->ev[i], pid, cls, NULL))
			return e->ev[i];
	return NULL;
}

void live_check_ecs(const struct events *ev, const char *path)
{
	char err[600] = "";
	struct ecs_schema *schema = ecs_schema_load(live_source_path("tests/data/ecs"), err,
						    sizeof(err));
	json_t *tpl;
	unsigned long n = 0;
	long bad = schema ? ecs_check_file(schema, path, &n, err, sizeof(err)) : -1;
	size_t mapped = 0;

	CHECK(bad == 0 && n == ev->lines, "%lu of %zu events checked, %ld not conforming%s%s", n,
	      ev->lines, bad, err[0] ? ": " : "", err);
	ecs_schema_free(schema);
	tpl = json_load_file(live_source_path("packaging/siem/vigie-index-template.json"), 0, NULL);
	err[0] = '\0';
	for (size_t i = 0; i < ev->n; i++)
		if (tpl && ecs_template_check(tpl, ev->ev[i], err, sizeof(err)) == 0)
			mapped++;
	CHECK(tpl && mapped == ev->n, "%zu of %zu events with every field mapped by the index "
				       "template%s%s", mapped, ev->n, err[0] ? ": " : "", err);
	json_decref(tpl);
}
