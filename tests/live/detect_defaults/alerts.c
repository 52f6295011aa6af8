// SPDX-License-Identifier: GPL-2.0
/*
 * live_detect_defaults: what the sensor wrote. The alerts (the first of
 * each target, every one printed), the rows of the usage events per
 * db_user and their byte classes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "detect_defaults_test.h"

/* ---- alerts ----------------------------------------------------------- */

bool is_alert(json_t *e)
{
	const char *a = jstr(e, "event.action");

	return a && !strcmp(a, "exfiltration-volume");
}

bool str_is(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Scan the output for the first alert of each target. */
void scan_alerts(struct watch *w, const char *out_path)
{
	struct events ev;

	if (events_load(&ev, out_path))
		return;
	for (size_t i = 0; i < ev.n; i++) {
		json_t *e = ev.ev[i];
		const char *kind = jstr(e, "vigie.principal.kind"), *id = jstr(e, "vigie.principal.id");
		double ts = live_parse_ts(jstr(e, "@timestamp"));

		if (!is_alert(e) || !kind || !id)
			continue;
		if (!w->ext_alert && str_is(kind, "db_user") && str_is(id, NEW_ROLE) &&
		    str_is(jstr(e, "vigie.metric"), "db_rows"))
			w->ext_alert = ts;
		if (!w->peer_alert && str_is(kind, "peer") && str_is(id, w->peer_ip))
			w->peer_alert = ts;
		if (!w->proc_alert && str_is(kind, "process") && str_is(id, w->proc_id))
			w->proc_alert = ts;
	}
	events_free(&ev);
}

void print_alerts(const struct events *ev, const struct watch *w)
{
	size_t n = 0;

	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];

		if (!is_alert(e))
			continue;
		n++;
		live_log("alert t=+%.1fs %s %s: %s %s observed %.0f normal %.0f ratio %.3g "
			 "reference %s severity %s reason %s%s%s",
			 live_parse_ts(jstr(e, "@timestamp")) - w->t0, jstr(e, "vigie.principal.kind"),
			 live_printable(0, jstr(e, "vigie.principal.id")), jstr(e, "vigie.metric"),
			 jstr(e, "vigie.window"), json_number_value(jpath(e, "vigie.observed")),
			 json_number_value(jpath(e, "vigie.normal")),
			 json_number_value(jpath(e, "vigie.ratio")),
			 jstr(e, "vigie.reference"), jstr(e, "vigie.severity"),
			 jstr(e, "event.reason"), jstr(e, "vigie.db_user") ? " db_user " : "",
			 jstr(e, "vigie.db_user") ? jstr(e, "vigie.db_user") : "");
	}
	live_log("%zu exfiltration-volume alert(s)", n);
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *a = jstr(e, "event.action");

		if (a && strcmp(a, "exfiltration-volume") && strstr(a, "exfiltration"))
			live_log("%s t=+%.1fs %s %s", a, live_parse_ts(jstr(e, "@timestamp")) - w->t0,
				 jstr(e, "vigie.principal.kind"),
				 live_printable(0, jstr(e, "vigie.principal.id")));
	}
}

/* Rows per db_user from the usage events; byte classes of the database
 * traffic (all db_users) printed. */
void usage_rows(const struct events *ev, const char *db_user, unsigned long long *rows,
		unsigned long long *n)
{
	*rows = *n = 0;
	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];

		if (!str_is(jstr(e, "event.action"), "usage") ||
		    !str_is(jstr(e, "vigie.db_user"), db_user))
			continue;
		*rows += (unsigned long long)jint(e, "vigie.rows", 0);
		(*n)++;
	}
}

void print_classes(const struct events *ev, const char *db_user, const char *label)
{
	const char *names[8];
	unsigned long long bytes[8] = { 0 }, cnt[8] = { 0 };
	size_t nc = 0;
	char line[512];
	int o = 0;

	for (size_t i = 0; i < ev->n; i++) {
		json_t *e = ev->ev[i];
		const char *u = jstr(e, "vigie.db_user"), *c = jstr(e, "vigie.class");
		size_t k;

		if (!str_is(jstr(e, "event.action"), "usage") || !u || !c)
			continue;
		if (db_user ? strcmp(u, db_user) : !strcmp(u, NEW_ROLE))
			continue;
		for (k = 0; k < nc && strcmp(names[k], c); k++)
			;
		if (k == nc) {
			if (nc == 8)
				continue;
			names[nc++] = c;
		}
		bytes[k] += (unsigned long long)jint(e, "vigie.bytes", 0);
		cnt[k]++;
	}
	for (size_t k = 0; k < nc && o < (int)sizeof(line) - 80; k++)
		o += snprintf(line + o, sizeof(line) - (size_t)o, " %s=%llu B (%llu events)", names[k],
			      bytes[k], cnt[k]);
	live_log("%s: usage byte classes:%s", label, nc ? line : " none");
}
