// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "base/event.h"
#include "base/log.h"
#include "postgres/pgwire.h"
#include "sensor/summary.h"
#include "sensor/usage.h"
#include "sensor/usage_fields.h"
#include "sensor/usage_int.h"

struct usage {
	const struct vigie_config *cfg;
	struct usage_summary *summary; /* NULL: one event per flow */
	char *const *dir_paths;
	int n_dirs;
	struct usage_entry *buckets[USAGE_BUCKETS];
	struct usage_entry *db_by_pid[USAGE_BUCKETS]; /* db_server entries */
	size_t count;
};

struct usage *usage_new(const struct vigie_config *cfg, char *const *data_dir_paths, int n_data_dirs)
{
	struct usage *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->cfg = cfg;
	u->dir_paths = data_dir_paths;
	u->n_dirs = n_data_dirs;
	if (cfg->usage_detail == USAGE_SUMMARY && !(u->summary = usage_summary_new(cfg))) {
		free(u);
		return NULL;
	}
	return u;
}

static void clear(struct usage *u)
{
	for (size_t b = 0; b < USAGE_BUCKETS; b++) {
		struct usage_entry *e = u->buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			identity_put(e->id);
			free(e->apps);
			free(e);
		}
		u->buckets[b] = NULL;
		u->db_by_pid[b] = NULL;
	}
	u->count = 0;
}

void usage_free(struct usage *u)
{
	if (!u)
		return;
	clear(u);
	usage_summary_free(u->summary);
	free(u);
}

size_t usage_entries(const struct usage *u) { return u->count; }

static uint32_t hash_key(const struct usage_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct usage_entry *entry_for(struct usage *u, const struct usage_key *k, struct identity *id)
{
	uint32_t b = hash_key(k) % USAGE_BUCKETS;
	struct usage_entry *e;

	for (e = u->buckets[b]; e; e = e->next)
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	e = calloc(1, sizeof(*e));
	if (!e) {
		log_error("out of memory: usage dropped");
		return NULL;
	}
	e->key = *k;
	e->id = identity_get(id);
	e->next = u->buckets[b];
	u->buckets[b] = e;
	if (k->cls == VIGIE_CLASS_DB_SERVER) {
		e->next_db = u->db_by_pid[k->pid % USAGE_BUCKETS];
		u->db_by_pid[k->pid % USAGE_BUCKETS] = e;
	}
	u->count++;
	return e;
}

void usage_add(struct usage *u, const struct vigie_flow_key *fk, const struct vigie_counter *val,
	       bool coarse, struct identity *id)
{
	struct usage_key k;
	struct usage_entry *e;

	memset(&k, 0, sizeof(k));
	k.pid = fk->tgid;
	k.uid = fk->uid;
	k.cgroup_id = fk->cgroup_id;
	k.cls = fk->cls;
	k.family = fk->family;
	k.proto = fk->proto;
	k.coarse = coarse;
	k.rport = fk->rport;
	k.lport = fk->lport;
	memcpy(k.raddr, fk->raddr, 16);
	e = entry_for(u, &k, id);
	if (!e)
		return;
	e->bytes += val->bytes;
	e->ops += val->ops;
}

static bool same_value(const struct pg_param_value *a, const struct pg_param_value *b)
{
	return a->set == b->set && a->unread == b->unread && strcmp(a->s, b->s) == 0;
}

static struct usage_entry *db_entry(struct usage *u, struct identity *id)
{
	struct usage_key k;

	for (struct usage_entry *e = u->db_by_pid[id->pid % USAGE_BUCKETS]; e; e = e->next_db)
		if (e->key.pid == id->pid)
			return e;
	memset(&k, 0, sizeof(k));
	k.pid = id->pid;
	k.uid = id->uid;
	k.cls = VIGIE_CLASS_DB_SERVER;
	return entry_for(u, &k, id);
}

void usage_add_rows(struct usage *u, struct identity *id, uint64_t rows, uint64_t copy_rows,
		    uint32_t unknown_why, uint64_t bytes)
{
	/* Rows go to the backend's db_server entry (its one client). */
	struct usage_entry *best = db_entry(u, id);

	if (!best)
		return;
	best->have_rows = true;
	best->bytes += bytes;
	best->rows += rows;
	best->copy_rows += copy_rows;
	best->rows_unknown |= unknown_why != 0;
	best->unknown_why |= unknown_why;
}

void usage_add_app_users(struct usage *u, struct identity *id, const struct pg_segment *segs,
			 size_t n)
{
	struct usage_entry *e = n ? db_entry(u, id) : NULL;

	for (size_t i = 0; e && i < n; i++) {
		struct pg_param_value role = segs[i].role;
		struct app_tally *t = NULL;

		/* the role the backend logged in with is no change of role */
		if (role.set && !role.unread && id->db_user && strcmp(role.s, id->db_user) == 0)
			memset(&role, 0, sizeof(role));
		for (size_t j = 0; j < e->n_apps && !t; j++)
			if (same_value(&e->apps[j].app, &segs[i].app) &&
			    same_value(&e->apps[j].role, &role))
				t = &e->apps[j];
		if (!t) {
			if (e->n_apps == e->cap_apps) {
				size_t nc = e->cap_apps ? 2 * e->cap_apps : 4;
				struct app_tally *a = realloc(e->apps, nc * sizeof(*a));

				if (!a) {
					log_warn("usage: out of memory for application users");
					return;
				}
				e->apps = a;
				e->cap_apps = nc;
			}
			t = &e->apps[e->n_apps++];
			memset(t, 0, sizeof(*t));
			t->app = segs[i].app;
			t->role = role;
		}
		t->records += segs[i].records;
		t->bytes += segs[i].bytes;
		e->have_rows = true;
	}
}

/* vigie.app_users: [{name, records, bytes[, role][, name_unread][, name_truncated]
 * [, user, app]}] (user and app: read with databases.app_user); a backend
 * whose client never named a user has none. *single: the one user and app
 * when every named record and byte went to one. */
static json_t *app_users_json(const struct usage *u, const struct usage_entry *e,
			      const struct app_tally **single)
{
	json_t *a = json_array();
	int users = 0;

	*single = NULL;
	for (size_t i = 0; i < e->n_apps; i++) {
		const struct app_tally *t = &e->apps[i];
		json_t *o = json_object();
		char user[APP_USER_MAX], app[APP_USER_MAX];
		const char *name = t->app.set && !t->app.unread ? t->app.s : NULL;

		if (app_user_of(&u->cfg->app_user, name, t->role.set && !t->role.unread ?
								 t->role.s : NULL, user, app)) {
			json_object_set_new(o, "user", json_string_safe(user));
			json_object_set_new(o, "app", json_string_safe(app));
			users++;
			*single = t;
		}

		json_object_set_new(o, "name", t->app.set && !t->app.unread && t->app.s[0] ?
						       json_string_safe(t->app.s) : json_null());
		if (t->app.unread)
			json_object_set_new(o, "name_unread", json_true());
		if (t->app.truncated)
			json_object_set_new(o, "name_truncated", json_true());
		if (t->role.set)
			json_object_set_new(o, "role", t->role.unread ? json_null() :
							       json_string_safe(t->role.s));
		json_object_set_new(o, "records", json_integer((json_int_t)t->records));
		json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
		json_array_append_new(a, o);
	}
	if (users != 1)
		*single = NULL;
	return a;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct usage_entry *x = *(struct usage_entry *const *)a;
	const struct usage_entry *y = *(struct usage_entry *const *)b;

	if (x->key.pid != y->key.pid)
		return x->key.pid < y->key.pid ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static json_t *usage_event(const struct usage *u, const struct usage_entry *e, uint64_t start_ns,
			   uint64_t end_ns)
{
	const struct usage_key *k = &e->key;
	const char *category = k->cls == VIGIE_CLASS_DB_FILE ? "file" :
			       k->cls == VIGIE_CLASS_EGRESS ? "network" : "database";
	char addr[INET6_ADDRSTRLEN], ts[40];
	const char *transport;
	json_t *ev;

	ev = event_new(end_ns, "metric", category, "info", "usage");
	if (!ev)
		return NULL;
	event_set(ev, "event.start", json_string(format_rfc3339(start_ns, ts, sizeof(ts))));
	event_set(ev, "event.end", json_string(format_rfc3339(end_ns, ts, sizeof(ts))));
	event_set(ev, "event.duration", json_integer((json_int_t)(end_ns - start_ns)));
	usage_add_process(ev, e);
	format_addr(k->family, k->raddr, addr, sizeof(addr));
	transport = usage_transport_name(k->proto);
	if (k->family && !k->coarse) {
		const char *side = k->cls == VIGIE_CLASS_DB_SERVER ? "source" : "destination";
		char path[32];

		snprintf(path, sizeof(path), "%s.ip", side);
		event_set(ev, path, json_string(addr));
		snprintf(path, sizeof(path), "%s.port", side);
		event_set(ev, path, json_integer(k->rport));
		if (k->cls == VIGIE_CLASS_DB_SERVER)
			event_set(ev, "destination.port", json_integer(k->lport));
		else
			event_set(ev, "source.port", json_integer(k->lport));
		if (transport)
			event_set(ev, "network.transport", json_string(transport));
		event_set(ev, "network.type", json_string(k->family == AF_INET ? "ipv4" : "ipv6"));
		/* the connection's direction seen from this host */
		event_set(ev, "network.direction",
			  json_string(k->cls == VIGIE_CLASS_DB_SERVER ? "ingress" : "egress"));
	}
	/* ECS bytes: sent by the source (egress: this host) or by the
	 * destination (db_client: the database; db_server: this server) */
	if (k->cls == VIGIE_CLASS_EGRESS)
		event_set(ev, "source.bytes", json_integer((json_int_t)e->bytes));
	else if (k->cls == VIGIE_CLASS_DB_CLIENT || k->cls == VIGIE_CLASS_DB_SERVER)
		event_set(ev, "destination.bytes", json_integer((json_int_t)e->bytes));
	if (e->id && e->id->db_user && k->cls == VIGIE_CLASS_DB_SERVER) {
		if (e->id->client_local) {
			event_set(ev, "source.address", json_string("[local]"));
		} else if (!k->family && e->id->client_ip[0]) {
			event_set(ev, "source.ip", json_string_safe(e->id->client_ip));
			event_set(ev, "source.port", json_integer(e->id->client_port));
		}
	}
	event_set(ev, "vigie.class", json_string(class_name(k->cls)));
	event_set(ev, "vigie.bytes", json_integer((json_int_t)e->bytes));
	event_set(ev, "vigie.ops", json_integer((json_int_t)e->ops));
	if (k->coarse)
		event_set(ev, "vigie.aggregated", json_true());
	if (k->cls == VIGIE_CLASS_DB_FILE) {
		if (k->lport < u->n_dirs && u->dir_paths[k->lport])
			event_set(ev, "file.directory", json_string_safe(u->dir_paths[k->lport]));
		event_set(ev, "vigie.reader_is_db_server", json_boolean(is_db_server_exe(u->cfg, e->id)));
	}
	if (e->id && e->id->db_user) {
		event_set(ev, "vigie.db_user", json_string_safe(e->id->db_user));
		if (e->id->db_name)
			event_set(ev, "vigie.db_name", json_string_safe(e->id->db_name));
	}
	if (e->have_rows) {
		if (e->rows_unknown) {
			event_set(ev, "vigie.rows", json_null());
			event_set(ev, "vigie.rows_known", json_false());
			usage_set_unknown_reason(ev, e->unknown_why);
		} else {
			event_set(ev, "vigie.rows", json_integer((json_int_t)e->rows));
			event_set(ev, "vigie.copy_rows", json_integer((json_int_t)e->copy_rows));
		}
	}
	if (e->n_apps) {
		const struct app_tally *one;

		event_set(ev, "vigie.app_users", app_users_json(u, e, &one));
		if (one) {
			char user[APP_USER_MAX], app[APP_USER_MAX];

			app_user_of(&u->cfg->app_user, one->app.set && !one->app.unread ? one->app.s : NULL,
				    one->role.set && !one->role.unread ? one->role.s : NULL, user, app);
			event_set(ev, "vigie.app_user", json_string_safe(user));
			event_set(ev, "vigie.app_name", json_string_safe(app));
		}
	}
	if (k->cgroup_id)
		event_set(ev, "vigie.cgroup.id", json_integer((json_int_t)k->cgroup_id));
	if (e->id && e->id->cgroup_path)
		event_set(ev, "vigie.cgroup.path", json_string_safe(e->id->cgroup_path));
	event_relate(ev);
	return ev;
}

static int flush(struct usage *u, uint64_t start_ns, uint64_t end_ns, bool final,
		 struct output *out)
{
	struct usage_entry **all;
	size_t n = 0;
	int written = 0;

	if (u->count == 0) /* a coarse period may still end */
		return u->summary ? usage_summary_flush(u->summary, NULL, 0, u->dir_paths, u->n_dirs,
							start_ns, end_ns, final, out) : 0;
	all = calloc(u->count, sizeof(*all));
	if (!all) {
		clear(u);
		return -1;
	}
	for (size_t b = 0; b < USAGE_BUCKETS; b++)
		for (struct usage_entry *e = u->buckets[b]; e; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof(*all), cmp_entries);
	if (u->summary) {
		written = usage_summary_flush(u->summary, all, n, u->dir_paths, u->n_dirs, start_ns,
					      end_ns, final, out);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *ev;

		if (all[i]->bytes == 0 && !all[i]->have_rows)
			continue;
		ev = usage_event(u, all[i], start_ns, end_ns);
		if (ev && output_write(out, ev) == 0)
			written++;
		json_decref(ev);
	}
	free(all);
	clear(u);
	return written;
}

int usage_flush(struct usage *u, uint64_t start_ns, uint64_t end_ns, struct output *out)
{
	return flush(u, start_ns, end_ns, false, out);
}

int usage_finish(struct usage *u, uint64_t start_ns, uint64_t end_ns, struct output *out)
{
	return flush(u, start_ns, end_ns, true, out);
}

size_t usage_pending_summaries(const struct usage *u)
{
	return usage_summary_pending(u->summary);
}
