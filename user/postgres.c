// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "event.h"
#include "log.h"
#include "pgbackend.h"
#include "postgres.h"

enum pga_state { PGA_OFF, PGA_WAITING, PGA_ON, PGA_FAILED };

struct pg_awareness {
	enum pg_mode mode;
	enum pga_state state;
	struct pgwire *pg;
};

static const char *const state_names[] = { "off", "waiting", "on", "failed" };

const char *pg_awareness_state(const struct pg_awareness *pga)
{
	return pga ? state_names[pga->state] : "off";
}

static void start_counting(struct pg_awareness *pga)
{
	int n;

	pga->pg = pgwire_start(NULL);
	if (!pga->pg) {
		pga->state = PGA_FAILED;
		log_warn("PostgreSQL row counting could not start; bytes are still counted");
		return;
	}
	pga->state = PGA_ON;
	n = pgwire_scan(pga->pg);
	log_info("PostgreSQL row counting on (%s), %d server(s) found", pgwire_probe_name(pga->pg),
		 n < 0 ? 0 : n);
}

static bool server_running(void)
{
	struct pgb_scan scan = { 0 };
	bool found = pgb_scan(NULL, &scan) == 0 && scan.n_postmasters > 0;

	pgb_scan_free(&scan);
	return found;
}

struct pg_awareness *pg_awareness_new(enum pg_mode mode)
{
	struct pg_awareness *pga = calloc(1, sizeof(*pga));

	if (!pga)
		return NULL;
	pga->mode = mode;
	pga->state = mode == PG_OFF ? PGA_OFF : PGA_WAITING;
	if (mode == PG_ON || (mode == PG_AUTO && server_running()))
		start_counting(pga);
	return pga;
}

void pg_awareness_free(struct pg_awareness *pga)
{
	if (!pga)
		return;
	pgwire_stop(pga->pg);
	free(pga);
}

void pg_awareness_on_exec(struct pg_awareness *pga, const struct vigie_proc_event *e)
{
	char exe[512];
	bool server;

	if (!pga || pga->state == PGA_OFF || pga->state == PGA_FAILED)
		return;
	server = pgb_read_exe(NULL, e->pid, exe, sizeof(exe)) == 0 ? pgb_is_server_exe(exe) :
		 pgb_is_server_exe(e->filename);
	if (!server)
		return;
	if (pga->state == PGA_WAITING) {
		log_info("a PostgreSQL server started (pid %u)", e->pid);
		start_counting(pga);
		return;
	}
	/* idempotent; also catches backends forked before it is added */
	pgwire_scan(pga->pg);
}

static void attribute_from_title(struct identity *id, const struct pgb_title *t)
{
	free(id->db_user);
	free(id->db_name);
	id->db_user = strdup(t->db_user);
	id->db_name = t->db_name[0] ? strdup(t->db_name) : NULL;
	id->client_local = t->local;
	id->client_ip[0] = '\0';
	if (!t->local)
		snprintf(id->client_ip, sizeof(id->client_ip), "%s", t->client);
	id->client_port = t->client_port;
}

void pg_attribute(struct identity *id)
{
	struct pgb_title t;

	if (!id || id->db_user || id->exited)
		return;
	if (pgb_classify(NULL, id->pid, NULL) != PGB_BACKEND)
		return;
	if (pgb_read_title(NULL, id->pid, &t))
		return;
	attribute_from_title(id, &t);
}

struct drain_ctx {
	struct identities *ids;
	pg_rows_fn fn;
	void *ctx;
};

static void on_delta(const struct pgwire_delta *d, void *arg)
{
	struct drain_ctx *c = arg;
	struct identity *id = identities_lookup(c->ids, d->tgid, 0);

	if (!id)
		return;
	/* The title the kernel copied is valid after the backend exited;
	 * /proc is the fallback (titles longer than the kernel's copy). */
	if (d->title_ok && !id->db_user)
		attribute_from_title(id, &d->title);
	else
		pg_attribute(id);
	c->fn(id, d, c->ctx);
}

int pg_awareness_drain(struct pg_awareness *pga, struct identities *ids, pg_rows_fn fn, void *ctx)
{
	struct drain_ctx c = { .ids = ids, .fn = fn, .ctx = ctx };

	if (!pga || !pga->pg)
		return 0;
	return pgwire_drain(pga->pg, on_delta, &c);
}

void pg_awareness_stats(struct pg_awareness *pga, json_t *ev)
{
	struct pgwire_stats st;

	event_set(ev, "vigie.stats.postgres.state", json_string(pg_awareness_state(pga)));
	if (!pga || !pga->pg)
		return;
	pgwire_stats(pga->pg, &st);
	event_set(ev, "vigie.stats.postgres.probe", json_string(pgwire_probe_name(pga->pg)));
	event_set(ev, "vigie.stats.postgres.backends", json_integer((json_int_t)st.backends));
	event_set(ev, "vigie.stats.postgres.unparsed_connections",
		  json_integer((json_int_t)st.unparsed_connections));
	event_set(ev, "vigie.stats.postgres.encrypted_connections",
		  json_integer((json_int_t)st.encrypted_total));
	event_set(ev, "vigie.stats.postgres.lost_syncs", json_integer((json_int_t)st.lost_syncs));
	event_set(ev, "vigie.stats.postgres.resyncs", json_integer((json_int_t)st.resyncs));
	event_set(ev, "vigie.stats.postgres.unsynced_bytes", json_integer((json_int_t)st.unsynced_bytes));
	event_set(ev, "vigie.stats.postgres.backends_not_tracked",
		  json_integer((json_int_t)st.backend_full));
}
