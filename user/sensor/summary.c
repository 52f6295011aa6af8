// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "base/appuser.h"
#include "base/event.h"
#include "base/log.h"
#include "sensor/summary.h"
#include "sensor/summary_int.h"
#include "sensor/usage_fields.h"
#include "sensor/usage_int.h"

struct sum_table {
	struct sum_group *b[SUM_BUCKETS];
	size_t n;
};

struct usage_summary {
	const struct vigie_config *cfg;
	struct sum_table coarse;
	uint64_t coarse_index;   /* which clock-aligned coarse period is open */
	bool coarse_open;
};

static uint64_t coarse_ns(const struct usage_summary *sm)
{
	uint64_t ns = (uint64_t)(sm->cfg->usage_coarse_interval_s * 1e9);

	return ns ? ns : 1;
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void group_free(struct sum_group *g)
{
	if (!g)
		return;
	free(g->key);
	free(g->exe);
	free(g->comm);
	free(g->db_user);
	free(g->db_name);
	free(g->app_user);
	free(g->app_name);
	free(g->dir);
	for (size_t i = 0; i < g->n_apps; i++) {
		free(g->apps[i].user);
		free(g->apps[i].app);
	}
	free(g->apps);
	free(g);
}

static void table_clear(struct sum_table *t)
{
	for (size_t i = 0; i < SUM_BUCKETS; i++) {
		struct sum_group *g = t->b[i], *next;

		for (; g; g = next) {
			next = g->next;
			group_free(g);
		}
		t->b[i] = NULL;
	}
	t->n = 0;
}

struct usage_summary *usage_summary_new(const struct vigie_config *cfg)
{
	struct usage_summary *sm = calloc(1, sizeof(*sm));

	if (sm)
		sm->cfg = cfg;
	return sm;
}

void usage_summary_free(struct usage_summary *sm)
{
	if (!sm)
		return;
	table_clear(&sm->coarse);
	free(sm);
}

size_t usage_summary_pending(const struct usage_summary *sm)
{
	return sm ? sm->coarse.n : 0;
}

/* A string field merged: kept while every flow agrees. */
static void merge_str(char **dst, bool *mixed, const char *v, bool first)
{
	if (*mixed)
		return;
	if (first) {
		*dst = v ? strdup(v) : NULL;
		return;
	}
	if ((!*dst && !v) || (*dst && v && !strcmp(*dst, v)))
		return;
	free(*dst);
	*dst = NULL;
	*mixed = true;
}

static bool same_endpoint(const struct sum_endpoint *a, const struct sum_endpoint *b)
{
	return a->family == b->family && a->local == b->local && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16) && !strcmp(a->host, b->host);
}

/* Keep the n largest flows by bytes (records for equal bytes). */
static void top_add(struct sum_group *g, const struct sum_flow *f, uint32_t max)
{
	uint32_t i;

	if (max == 0)
		return;
	if (g->n_top == max) {
		const struct sum_flow *last = &g->top[max - 1];

		if (f->bytes < last->bytes || (f->bytes == last->bytes && f->records <= last->records))
			return;
		g->n_top--;
	}
	for (i = g->n_top; i > 0; i--) {
		const struct sum_flow *p = &g->top[i - 1];

		if (p->bytes > f->bytes || (p->bytes == f->bytes && p->records >= f->records))
			break;
		g->top[i] = g->top[i - 1];
	}
	g->top[i] = *f;
	g->n_top++;
}

static int app_add(struct sum_group *g, const char *user, const char *app, uint64_t records,
		   uint64_t bytes)
{
	struct sum_app *a = NULL;

	for (size_t i = 0; i < g->n_apps && !a; i++)
		if (!strcmp(g->apps[i].user, user) && !strcmp(g->apps[i].app, app))
			a = &g->apps[i];
	if (!a) {
		if (g->n_apps == g->cap_apps) {
			size_t nc = g->cap_apps ? 2 * g->cap_apps : 8;
			struct sum_app *na = realloc(g->apps, nc * sizeof(*na));

			if (!na)
				return -1;
			g->apps = na;
			g->cap_apps = nc;
		}
		a = &g->apps[g->n_apps];
		memset(a, 0, sizeof(*a));
		a->user = strdup(user);
		a->app = strdup(app);
		if (!a->user || !a->app) {
			free(a->user);
			free(a->app);
			return -1;
		}
		g->n_apps++;
	}
	a->records += records;
	a->bytes += bytes;
	return 0;
}

static struct sum_group *group_for(struct sum_table *t, const char *key, bool *fresh)
{
	uint32_t b = hash_str(key) % SUM_BUCKETS;
	struct sum_group *g;

	*fresh = false;
	for (g = t->b[b]; g; g = g->next)
		if (!strcmp(g->key, key))
			return g;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->key = strdup(key))) {
		free(g);
		log_error("out of memory: usage summary dropped");
		return NULL;
	}
	g->next = t->b[b];
	t->b[b] = g;
	t->n++;
	*fresh = true;
	return g;
}

/* The flow's own part of an entry: what one principal gets from it. */
struct sum_part {
	uint8_t cls, by;
	uint32_t uid, pid;
	const char *exe, *comm, *db_user, *db_name, *app_user, *app_name, *dir;
	struct sum_endpoint ep;
	bool has_ep;
	uint8_t proto;
	uint64_t bytes, ops, records, copy_rows, unknown_bytes;
	bool have_rows, rows_unknown, coarse;
	uint32_t unknown_why;
	bool server_reader;
	uint64_t flows;
	uint64_t start_ns;
};

static void group_add(struct sum_group *g, const struct sum_part *p, bool fresh)
{
	if (fresh) {
		g->cls = p->cls;
		g->by = p->by;
		g->uid = p->uid;
		g->pid = p->pid;
		g->proto = p->proto;
		g->start_ns = p->start_ns;
		g->dir = p->dir ? strdup(p->dir) : NULL;
		g->app_user = p->app_user ? strdup(p->app_user) : NULL;
		g->app_name = p->app_name ? strdup(p->app_name) : NULL;
		g->server_reader = p->server_reader; /* the key holds the executable */
	} else {
		g->pid_mixed |= g->pid != p->pid;
		g->proto_mixed |= g->proto != p->proto;
		if (p->start_ns < g->start_ns)
			g->start_ns = p->start_ns;
	}
	merge_str(&g->exe, &g->exe_mixed, p->exe, fresh);
	merge_str(&g->comm, &g->comm_mixed, p->comm, fresh);
	merge_str(&g->db_user, &g->db_user_mixed, p->db_user, fresh);
	merge_str(&g->db_name, &g->db_name_mixed, p->db_name, fresh);
	if (p->has_ep) {
		if (g->ep_state == 0) {
			g->ep = p->ep;
			g->ep_state = 1;
		} else if (g->ep_state == 1 && !same_endpoint(&g->ep, &p->ep)) {
			g->ep_state = 2;
		}
	}
	g->bytes += p->bytes;
	g->ops += p->ops;
	g->records += p->records;
	g->copy_rows += p->copy_rows;
	g->unknown_bytes += p->unknown_bytes;
	g->have_rows |= p->have_rows;
	g->rows_unknown |= p->rows_unknown;
	g->unknown_why |= p->unknown_why;
	g->coarse |= p->coarse;
	g->flows += p->flows;
}

/* Merge an interval's group into the coarse table. */
static int group_merge(struct sum_table *t, const struct sum_group *src, uint32_t top_max)
{
	struct sum_part p = {
		.cls = src->cls, .by = src->by, .uid = src->uid, .pid = src->pid,
		.exe = src->exe, .comm = src->comm, .db_user = src->db_user, .db_name = src->db_name,
		.app_user = src->app_user, .app_name = src->app_name, .dir = src->dir,
		.ep = src->ep, .has_ep = src->ep_state == 1, .proto = src->proto,
		.bytes = src->bytes, .ops = src->ops, .records = src->records,
		.copy_rows = src->copy_rows, .unknown_bytes = src->unknown_bytes,
		.have_rows = src->have_rows, .rows_unknown = src->rows_unknown, .coarse = src->coarse,
		.unknown_why = src->unknown_why,
		.server_reader = src->server_reader, .flows = src->flows, .start_ns = src->start_ns,
	};
	bool fresh;
	struct sum_group *g = group_for(t, src->key, &fresh);

	if (!g)
		return -1;
	group_add(g, &p, fresh);
	/* what differed within the interval differs within the period */
	g->exe_mixed |= src->exe_mixed;
	g->comm_mixed |= src->comm_mixed;
	g->db_user_mixed |= src->db_user_mixed;
	g->db_name_mixed |= src->db_name_mixed;
	g->pid_mixed |= src->pid_mixed;
	g->proto_mixed |= src->proto_mixed;
	if (src->ep_state == 2)
		g->ep_state = 2;
	/* (a field mixed in src is NULL there: merge_str dropped g's copy) */
	for (uint32_t i = 0; i < src->n_top; i++)
		top_add(g, &src->top[i], top_max);
	for (size_t i = 0; i < src->n_apps; i++)
		if (app_add(g, src->apps[i].user, src->apps[i].app, src->apps[i].records,
			    src->apps[i].bytes))
			return -1;
	return 0;
}


static void endpoint_of(const struct usage_entry *e, struct sum_endpoint *ep, bool *has)
{
	const struct usage_key *k = &e->key;

	memset(ep, 0, sizeof(*ep));
	*has = false;
	if (k->family && !k->coarse) {
		ep->family = k->family;
		ep->port = k->rport;
		memcpy(ep->addr, k->raddr, 16);
		*has = true;
	} else if (k->cls == VIGIE_CLASS_DB_SERVER && e->id && e->id->db_user) {
		if (e->id->client_local) {
			ep->local = true;
			*has = true;
		} else if (e->id->client_ip[0]) {
			/* an address, or a host name (log_hostname) */
			uint8_t a[16];

			if (inet_pton(AF_INET, e->id->client_ip, a) == 1) {
				ep->family = AF_INET;
				memcpy(ep->addr, a, 4);
			} else if (inet_pton(AF_INET6, e->id->client_ip, a) == 1) {
				ep->family = AF_INET6;
				memcpy(ep->addr, a, 16);
			} else {
				snprintf(ep->host, sizeof(ep->host), "%s", e->id->client_ip);
			}
			ep->port = e->id->client_port;
			*has = true;
		}
	}
}

/* The process principal of an entry, and the flow it adds. */
static void part_of(const struct usage_entry *e, char *const *dir_paths, int n_dirs,
		    uint64_t start_ns, struct sum_part *p, struct sum_flow *f)
{
	const struct usage_key *k = &e->key;
	const struct identity *id = e->id;

	memset(p, 0, sizeof(*p));
	memset(f, 0, sizeof(*f));
	p->cls = k->cls;
	p->by = BY_PROCESS;
	p->uid = k->uid;
	p->pid = k->pid;
	p->exe = id ? id->exe : NULL;
	p->comm = id && id->comm[0] ? id->comm : NULL;
	if (k->cls == VIGIE_CLASS_DB_SERVER && id && id->db_user) {
		p->by = BY_DB_USER;
		p->db_user = id->db_user;
		p->db_name = id->db_name;
	}
	if (k->cls == VIGIE_CLASS_DB_FILE && k->lport < n_dirs)
		p->dir = dir_paths[k->lport];
	endpoint_of(e, &p->ep, &p->has_ep);
	p->proto = k->proto;
	p->bytes = e->bytes;
	p->ops = e->ops;
	p->have_rows = e->have_rows;
	p->rows_unknown = e->have_rows && e->rows_unknown;
	p->unknown_why = p->rows_unknown ? e->unknown_why : 0;
	if (e->have_rows && !e->rows_unknown) {
		p->records = e->rows;
		p->copy_rows = e->copy_rows;
	} else if (e->have_rows) {
		p->unknown_bytes = e->bytes;
	}
	p->coarse = k->coarse;
	p->flows = 1;
	p->start_ns = start_ns;
	f->pid = k->pid;
	if (p->comm)
		snprintf(f->name, sizeof(f->name), "%s", p->comm);
	f->ep = p->ep;
	f->bytes = e->bytes;
	f->records = p->records;
	f->records_unknown = p->rows_unknown;
}

/* "cls/by/..." naming the principal; \x1f cannot be in a name we read. */
static void key_of(const struct sum_part *p, char *buf, size_t size)
{
	switch (p->by) {
	case BY_DB_USER:
		snprintf(buf, size, "%u\x1f%u\x1f%s", p->cls, p->by, p->db_user);
		break;
	case BY_APP_USER:
		snprintf(buf, size, "%u\x1f%u\x1f%s\x1f%s", p->cls, p->by, p->app_user, p->app_name);
		break;
	default:
		snprintf(buf, size, "%u\x1f%u\x1f%u\x1f%s\x1f%s", p->cls, p->by, p->uid,
			 p->exe ? p->exe : p->comm ? p->comm : "", p->dir ? p->dir : "");
		break;
	}
}

static int add_part(struct sum_table *t, const struct sum_part *p, const struct sum_flow *f,
		    uint32_t top_max)
{
	char key[1024];
	bool fresh;
	struct sum_group *g;

	key_of(p, key, sizeof(key));
	g = group_for(t, key, &fresh);
	if (!g)
		return -1;
	group_add(g, p, fresh);
	top_add(g, f, top_max);
	return 0;
}

/* The application users of a db_server entry: each named one is a
 * principal of its own, and a line of its database account's event. */
static int add_app_users(struct usage_summary *sm, struct sum_table *t, const struct usage_entry *e,
			 const struct sum_part *acct)
{
	const struct vigie_config *cfg = sm->cfg;
	char key[1024];
	struct sum_group *ag = NULL;
	bool fresh;

	if (acct->by == BY_DB_USER) {
		key_of(acct, key, sizeof(key));
		ag = group_for(t, key, &fresh);
	}
	for (size_t i = 0; i < e->n_apps; i++) {
		const struct app_tally *a = &e->apps[i];
		char user[APP_USER_MAX], app[APP_USER_MAX];
		struct sum_part p = *acct;
		struct sum_flow f = { .pid = e->key.pid };

		if (!app_user_of(&cfg->app_user, a->app.set && !a->app.unread ? a->app.s : NULL,
				 a->role.set && !a->role.unread ? a->role.s : NULL, user, app))
			continue;
		if (ag && app_add(ag, user, app, a->records, a->bytes))
			return -1;
		p.by = BY_APP_USER;
		p.app_user = user;
		p.app_name = app;
		p.bytes = a->bytes;
		p.ops = 0;
		p.records = a->records;
		p.copy_rows = 0;
		p.unknown_bytes = 0;
		p.rows_unknown = false;
		p.unknown_why = 0;
		p.have_rows = true;
		snprintf(f.name, sizeof(f.name), "%s", acct->comm ? acct->comm : "");
		f.ep = acct->ep;
		f.bytes = a->bytes;
		f.records = a->records;
		if (add_part(t, &p, &f, cfg->usage_top_flows))
			return -1;
	}
	return 0;
}

static int cmp_groups(const void *a, const void *b)
{
	return strcmp((*(struct sum_group *const *)a)->key, (*(struct sum_group *const *)b)->key);
}

/* Every group of t in key order (caller frees the array), NULL if none. */
static struct sum_group **sorted(const struct sum_table *t)
{
	struct sum_group **v;
	size_t n = 0;

	if (!t->n || !(v = calloc(t->n, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < SUM_BUCKETS; i++)
		for (struct sum_group *g = t->b[i]; g; g = g->next)
			v[n++] = g;
	qsort(v, n, sizeof(*v), cmp_groups);
	return v;
}

static int write_event(json_t *ev, struct output *out)
{
	int ok = ev && output_write(out, ev) == 0;

	json_decref(ev);
	return ok;
}

static int flush_coarse(struct usage_summary *sm, uint64_t end_ns, struct output *out)
{
	struct sum_group **v = sorted(&sm->coarse);
	int written = 0;

	for (size_t i = 0; v && i < sm->coarse.n; i++)
		written += write_event(summary_event(v[i], "coarse", end_ns), out);
	if (sm->coarse.n && !v)
		log_error("out of memory: %zu coarse usage summaries dropped", sm->coarse.n);
	free(v);
	table_clear(&sm->coarse);
	sm->coarse_open = false;
	return written;
}

int usage_summary_flush(struct usage_summary *sm, struct usage_entry *const *all, size_t n,
			char *const *dir_paths, int n_dirs, uint64_t start_ns, uint64_t end_ns,
			bool final, struct output *out)
{
	const struct vigie_config *cfg = sm->cfg;
	struct sum_table *t = calloc(1, sizeof(*t));
	struct sum_group **v = NULL;
	int written = 0;

	if (!t) {
		log_error("out of memory: usage of this interval dropped");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct usage_entry *e = all[i];
		struct sum_part p;
		struct sum_flow f;

		if (e->bytes == 0 && !e->have_rows && !e->n_apps)
			continue;
		part_of(e, dir_paths, n_dirs, start_ns, &p, &f);
		if (p.cls == VIGIE_CLASS_DB_FILE)
			p.server_reader = is_db_server_exe(cfg, e->id);
		if (add_part(t, &p, &f, cfg->usage_top_flows) ||
		    (e->n_apps && add_app_users(sm, t, e, &p)))
			log_error("out of memory: part of the usage summary dropped");
	}
	v = sorted(t);
	for (size_t i = 0; v && i < t->n; i++) {
		struct sum_group *g = v[i];
		bool notable = g->records >= cfg->usage_coarse_records ||
			       g->bytes >= cfg->usage_coarse_bytes;

		if (notable) {
			written += write_event(summary_event(g, "interval", end_ns), out);
			continue;
		}
		if (!sm->coarse_open) {
			sm->coarse_open = true;
			sm->coarse_index = start_ns / coarse_ns(sm);
		}
		if (group_merge(&sm->coarse, g, cfg->usage_top_flows))
			log_error("out of memory: part of the coarse usage summary dropped");
	}
	if (t->n && !v)
		log_error("out of memory: %zu usage summaries dropped", t->n);
	free(v);
	table_clear(t);
	free(t);
	if (sm->coarse_open && (final || end_ns / coarse_ns(sm) != sm->coarse_index))
		written += flush_coarse(sm, end_ns, out);
	return written;
}
