// SPDX-License-Identifier: GPL-2.0
/*
 * live_contain: looking up what the sensor said (its containment events and
 * alerts) and what the test cluster logged.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "contain_test.h"

/* The first containment event of this action (and principal id). */
json_t *find_contain(const struct events *e, const char *action, const char *id, size_t *n)
{
	json_t *first = NULL;

	*n = 0;
	for (size_t i = 0; i < e->n; i++) {
		const char *a = jstr(e->ev[i], "vigie.containment.action");

		if (!a || strcmp(a, action) || (id && (!jstr(e->ev[i], "vigie.principal.id") ||
						       strcmp(jstr(e->ev[i], "vigie.principal.id"), id))))
			continue;
		if (!first)
			first = e->ev[i];
		(*n)++;
	}
	return first;
}

/* The first alert of a principal (of this severity when not NULL). */
json_t *find_alert(const struct events *e, const char *kind, const char *id,
		   const char *severity)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *k = jstr(e->ev[i], "vigie.principal.kind"), *p, *sev;

		p = jstr(e->ev[i], "vigie.principal.id");
		sev = jstr(e->ev[i], "vigie.severity");
		if (jstr(e->ev[i], "event.action") && !strcmp(jstr(e->ev[i], "event.action"),
							      "exfiltration-volume") &&
		    k && !strcmp(k, kind) && p && !strcmp(p, id) &&
		    (!severity || (sev && !strcmp(sev, severity))))
			return e->ev[i];
	}
	return NULL;
}

const char *event_type(json_t *ev)
{
	return ev ? json_string_value(json_array_get(jpath(ev, "event.type"), 0)) : NULL;
}

/* Lines of the test cluster's log holding s. */
int server_log_count(const char *s)
{
	char path[512], *text, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/server.log", getenv("PGCLUSTER_DIR"));
	text = live_read_file(path, NULL);
	for (p = text; p && (p = strstr(p, s)); p += strlen(s))
		n++;
	free(text);
	return n;
}
