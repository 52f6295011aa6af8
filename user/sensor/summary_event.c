// SPDX-License-Identifier: GPL-2.0
/* The usage event of a principal's totals (summary.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "base/event.h"
#include "base/identity.h"
#include "sensor/summary_int.h"
#include "sensor/usage_fields.h"
#include "sensor/usage_int.h"

static const char *const by_names[] = { "db_user", "app_user", "process" };

/* ip/port (or address "[local]", or a host name) of an endpoint, into
 * obj at prefix ("source", "destination", or "" for a top flow). */
static void set_endpoint(json_t *obj, const char *prefix, const struct sum_endpoint *ep)
{
	char path[48], addr[INET6_ADDRSTRLEN];

	if (ep->local) {
		snprintf(path, sizeof(path), "%s%saddress", prefix, *prefix ? "." : "");
		event_set(obj, path, json_string("[local]"));
		return;
	}
	if (ep->family) {
		format_addr(ep->family, ep->addr, addr, sizeof(addr));
		snprintf(path, sizeof(path), "%s%sip", prefix, *prefix ? "." : "");
		event_set(obj, path, json_string(addr));
	} else if (ep->host[0]) {
		snprintf(path, sizeof(path), "%s%saddress", prefix, *prefix ? "." : "");
		event_set(obj, path, json_string_safe(ep->host));
	} else {
		return;
	}
	if (ep->port) {
		snprintf(path, sizeof(path), "%s%sport", prefix, *prefix ? "." : "");
		event_set(obj, path, json_integer(ep->port));
	}
}

static json_t *top_flows_json(const struct sum_group *g, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; a && i < n && i < g->n_top; i++) {
		const struct sum_flow *f = &g->top[i];
		json_t *o = json_object();

		json_object_set_new(o, "pid", json_integer(f->pid));
		/* the name when it is not the event's process.name already (a
		 * database account's flows are all its server's backends) */
		if (f->name[0] && !g->comm && g->by == BY_PROCESS)
			json_object_set_new(o, "name", json_string_safe(f->name));
		set_endpoint(o, "", &f->ep);
		json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
		if (g->have_rows)
			json_object_set_new(o, "records", f->records_unknown ? json_null() :
							  json_integer((json_int_t)f->records));
		json_array_append_new(a, o);
	}
	return a;
}

static int cmp_apps(const void *a, const void *b)
{
	const struct sum_app *x = a, *y = b;

	if (x->records != y->records)
		return x->records > y->records ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->user, y->user);
}

/* vigie.app_users of a database account: its application users with the
 * most records first, at most max; the rest summed in
 * vigie.app_users_others. Sorts g's array (its order is not kept). */
static void set_app_users(json_t *ev, struct sum_group *g, size_t max)
{
	json_t *a = json_array();
	uint64_t or = 0, ob = 0;
	size_t shown = g->n_apps < max ? g->n_apps : max;

	qsort(g->apps, g->n_apps, sizeof(*g->apps), cmp_apps);
	for (size_t i = 0; i < shown; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "user", json_string_safe(g->apps[i].user));
		json_object_set_new(o, "app", json_string_safe(g->apps[i].app));
		json_object_set_new(o, "records", json_integer((json_int_t)g->apps[i].records));
		json_object_set_new(o, "bytes", json_integer((json_int_t)g->apps[i].bytes));
		json_array_append_new(a, o);
	}
	event_set(ev, "vigie.app_users", a);
	for (size_t i = shown; i < g->n_apps; i++) {
		or += g->apps[i].records;
		ob += g->apps[i].bytes;
	}
	if (g->n_apps > shown) {
		json_t *o = json_object();

		json_object_set_new(o, "count", json_integer((json_int_t)(g->n_apps - shown)));
		json_object_set_new(o, "records", json_integer((json_int_t)or));
		json_object_set_new(o, "bytes", json_integer((json_int_t)ob));
		event_set(ev, "vigie.app_users_others", o);
	}
}

json_t *summary_event(struct sum_group *g, const char *period, uint64_t end_ns)
{
	/* a coarse summary is of principals with nothing notable: its largest
	 * flow and its first application users are evidence enough */
	bool coarse = !strcmp(period, "coarse");
	const char *category = g->cls == VIGIE_CLASS_DB_FILE ? "file" :
			       g->cls == VIGIE_CLASS_EGRESS ? "network" : "database";
	char ts[40], buf[32];
	json_t *ev, *sum;

	ev = event_new(end_ns, "metric", category, "info", "usage");
	if (!ev)
		return NULL;
	event_set(ev, "event.start", json_string(format_rfc3339(g->start_ns, ts, sizeof(ts))));
	event_set(ev, "event.end", json_string(format_rfc3339(end_ns, ts, sizeof(ts))));
	event_set(ev, "event.duration", json_integer((json_int_t)(end_ns - g->start_ns)));
	snprintf(buf, sizeof(buf), "%u", g->uid);
	event_set(ev, "user.id", json_string(buf));
	if (user_name_of(g->uid))
		event_set(ev, "user.name", json_string_safe(user_name_of(g->uid)));
	if (!g->pid_mixed)
		event_set(ev, "process.pid", json_integer(g->pid));
	/* a database account's process is its server (in sensor-start's
	 * PostgreSQL figures): named for the other principals only */
	if (g->comm && g->by == BY_PROCESS)
		event_set(ev, "process.name", json_string_safe(g->comm));
	if (g->exe && g->by == BY_PROCESS)
		event_set(ev, "process.executable", json_string_safe(g->exe));
	if (g->ep_state == 1)
		set_endpoint(ev, g->cls == VIGIE_CLASS_DB_SERVER ? "source" : "destination", &g->ep);
	if (g->ep_state == 1 && g->ep.family && !g->proto_mixed && usage_transport_name(g->proto))
		event_set(ev, "network.transport", json_string(usage_transport_name(g->proto)));
	/* the connection's direction seen from this host (as per flow) */
	if (g->ep_state == 1 && g->ep.family)
		event_set(ev, "network.direction",
			  json_string(g->cls == VIGIE_CLASS_DB_SERVER ? "ingress" : "egress"));
	else if (g->cls == VIGIE_CLASS_EGRESS)
		event_set(ev, "network.direction", json_string("egress"));
	/* ECS bytes: sent by the source (egress: this host) or by the
	 * destination (db_client: the database; db_server: this server) */
	if (g->cls == VIGIE_CLASS_EGRESS)
		event_set(ev, "source.bytes", json_integer((json_int_t)g->bytes));
	else if (g->cls == VIGIE_CLASS_DB_CLIENT || g->cls == VIGIE_CLASS_DB_SERVER)
		event_set(ev, "destination.bytes", json_integer((json_int_t)g->bytes));
	event_set(ev, "vigie.class", json_string(class_name(g->cls)));
	event_set(ev, "vigie.bytes", json_integer((json_int_t)g->bytes));
	event_set(ev, "vigie.ops", json_integer((json_int_t)g->ops));
	if (g->coarse)
		event_set(ev, "vigie.aggregated", json_true());
	if (g->dir)
		event_set(ev, "file.directory", json_string_safe(g->dir));
	if (g->cls == VIGIE_CLASS_DB_FILE)
		event_set(ev, "vigie.reader_is_db_server", json_boolean(g->server_reader));
	if (g->db_user)
		event_set(ev, "vigie.db_user", json_string_safe(g->db_user));
	if (g->db_name)
		event_set(ev, "vigie.db_name", json_string_safe(g->db_name));
	if (g->app_user) {
		event_set(ev, "vigie.app_user", json_string_safe(g->app_user));
		event_set(ev, "vigie.app_name", json_string_safe(g->app_name));
	}
	if (g->have_rows) {
		/* records of flows whose rows are unknown (TLS not hooked,
		 * unparsed) are not in vigie.rows: their bytes are said */
		if (g->rows_unknown && g->unknown_bytes == g->bytes && g->records == 0) {
			event_set(ev, "vigie.rows", json_null());
		} else {
			event_set(ev, "vigie.rows", json_integer((json_int_t)g->records));
			event_set(ev, "vigie.copy_rows", json_integer((json_int_t)g->copy_rows));
		}
		if (g->rows_unknown) {
			event_set(ev, "vigie.rows_known", json_false());
			event_set(ev, "vigie.rows_unknown_bytes", json_integer((json_int_t)g->unknown_bytes));
			usage_set_unknown_reason(ev, g->unknown_why);
		}
	}
	if (g->n_apps)
		set_app_users(ev, g, coarse ? SUM_APPS_SHOWN_COARSE : SUM_APPS_SHOWN);
	sum = json_object();
	json_object_set_new(sum, "period", json_string(period));
	json_object_set_new(sum, "by", json_string(by_names[g->by]));
	json_object_set_new(sum, "flows", json_integer((json_int_t)g->flows));
	event_set(ev, "vigie.summary", sum);
	/* an application user's flows are its pool's connections, named by
	 * the account's event; a single flow is the event itself */
	if (g->n_top && g->by != BY_APP_USER && g->flows > 1)
		event_set(ev, "vigie.top_flows", top_flows_json(g, coarse ? 1 : g->n_top));
	event_relate(ev);
	return ev;
}
