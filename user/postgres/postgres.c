// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "base/event.h"
#include "postgres/listen_ports.h"
#include "base/log.h"
#include "postgres/pgbackend.h"
#include "postgres/pgtls.h"
#include "base/trust.h"
#include "postgres/postgres.h"

enum pga_state { PGA_OFF, PGA_WAITING, PGA_ON, PGA_FAILED };

#define PGA_PENDING 16      /* servers whose ports are still looked for */
#define PGA_PORT_TRIES 120  /* ticks a started server has to listen (then
			     * its ports stay unknown while it runs) */
#define PGA_MAX_PORTS 64
#define PGA_RESCAN_TICKS 30 /* while a server may run unwatched: ticks
			     * between two looks at /proc for servers */

struct pg_awareness {
	enum pg_mode mode;
	bool tls_hook;              /* databases.postgres_tls: hook be_tls_write */
	int send_chain_fd;          /* the sensor's send_chain prog array, or -1 */
	enum pga_state state;
	struct pgwire *pg;
	pg_port_fn port_fn;
	pg_ports_known_fn known_fn;
	void *port_ctx;
	struct {
		uint32_t pid;
		int tries; /* PGA_PORT_TRIES: given up, kept until the server ends */
	} pending[PGA_PENDING];
	int n_pending;
	bool ports_unsure;          /* a server's ports were not looked for */
	int unsure_ticks;           /* ticks since the last look for such */
	bool too_many_said;         /* the warning below, once until all are watched */
	bool known_said;            /* what known_fn was last told */
	struct pg_port ports[PGA_MAX_PORTS]; /* found, in order */
	int n_ports;
	/* containment's session quarantine, kept here so that a counting
	 * that starts later (auto) gets it too */
	struct {
		struct pgwire_guard_key key;
		uint64_t until_ns;
	} guards[PGWIRE_MAX_GUARDS];
	int n_guards;
	pgwire_contained_fn contained_fn;
	void *contained_ctx;
};

static const char *const state_names[] = { "off", "waiting", "on", "failed" };

const char *pg_awareness_state(const struct pg_awareness *pga)
{
	return pga ? state_names[pga->state] : "off";
}

/* ---- the servers' own ports ---- */

static void port_found(struct pg_awareness *pga, uint32_t pid, uint16_t port)
{
	for (int i = 0; i < pga->n_ports; i++)
		if (pga->ports[i].port == port)
			return;
	if (pga->n_ports < PGA_MAX_PORTS)
		pga->ports[pga->n_ports++] = (struct pg_port){ .port = port, .pid = pid };
	if (pga->port_fn)
		pga->port_fn(port, pid, pga->port_ctx);
}

/* One look at a server's listening ports: true when done with it (found,
 * gone, or listening on unix sockets only: a postmaster opens its TCP
 * sockets first, so none will come, and its clients' sends are walked
 * on the unix socket whatever the ports). */
static bool look_for_ports(struct pg_awareness *pga, uint32_t pid)
{
	uint16_t ports[16];
	bool on_unix = false;
	int n = listen_ports(NULL, (pid_t)pid, ports, 16, &on_unix);

	if (n == -ENOENT || n == -ESRCH)
		return true;
	for (int i = 0; i < n; i++)
		port_found(pga, pid, ports[i]);
	if (n == 0 && on_unix)
		log_info("PostgreSQL server %u listens on unix sockets only: no TCP port to make "
			 "a database port", pid);
	return n > 0 || on_unix;
}

/* Tell known_fn, when it changed. */
static void tell_known(struct pg_awareness *pga, bool known)
{
	if (known == pga->known_said)
		return;
	pga->known_said = known;
	if (pga->known_fn)
		pga->known_fn(known, pga->port_ctx);
}

/* Whether every tracked server's ports are known, told when it changed. */
static void say_ports_known(struct pg_awareness *pga)
{
	tell_known(pga, pga->state == PGA_ON && !pga->n_pending && !pga->ports_unsure);
}

/* A server started or was found: its ports now, or at the next ticks
 * (a postmaster listens a moment after its exec). */
static void watch_server(struct pg_awareness *pga, uint32_t pid)
{
	for (int i = 0; i < pga->n_pending; i++)
		if (pga->pending[i].pid == pid)
			return;
	if (look_for_ports(pga, pid))
		return;
	if (pga->n_pending == PGA_PENDING) {
		if (!pga->too_many_said)
			log_warn("PostgreSQL server %u: too many servers starting at once, its "
				 "ports are not looked for now (every socket send is looked at "
				 "until they are; configure databases.ports)", pid);
		pga->too_many_said = true;
		pga->ports_unsure = true;
		return;
	}
	pga->pending[pga->n_pending].pid = pid;
	pga->pending[pga->n_pending].tries = 0;
	pga->n_pending++;
}

static void watch_running_servers(struct pg_awareness *pga)
{
	struct pgb_scan scan = { 0 };

	if (pgb_scan(NULL, &scan) == 0)
		for (size_t i = 0; i < scan.n_postmasters; i++)
			watch_server(pga, scan.postmasters[i]);
	else
		pga->ports_unsure = true; /* servers may run whose ports are not known */
	pgb_scan_free(&scan);
}

void pg_awareness_tick(struct pg_awareness *pga)
{
	int i = 0;

	if (!pga)
		return;
	while (i < pga->n_pending) {
		uint32_t pid = pga->pending[i].pid;
		bool done;

		if (pga->pending[i].tries >= PGA_PORT_TRIES)
			done = kill((pid_t)pid, 0) && errno == ESRCH; /* given up: ended? */
		else
			done = look_for_ports(pga, pid);
		if (done) {
			pga->pending[i] = pga->pending[--pga->n_pending];
			continue;
		}
		if (pga->pending[i].tries < PGA_PORT_TRIES && ++pga->pending[i].tries == PGA_PORT_TRIES)
			log_info("PostgreSQL server %u: no listening TCP port after %d ticks (every "
				 "socket send is looked at while it runs)", pid, PGA_PORT_TRIES);
		i++;
	}
	if (pga->ports_unsure && pga->state == PGA_ON &&
	    ++pga->unsure_ticks >= PGA_RESCAN_TICKS) {
		/* a server was not watched (too many started at once, or /proc
		 * could not be read): look again at the running ones, so the
		 * walk narrows once their ports are known or they ended */
		pga->unsure_ticks = 0;
		pga->ports_unsure = false;
		watch_running_servers(pga);
		if (!pga->ports_unsure) {
			pga->too_many_said = false;
			log_info("PostgreSQL: every running server is watched again");
		}
	}
	say_ports_known(pga);
}

int pg_awareness_ports(const struct pg_awareness *pga, const struct pg_port **ports)
{
	*ports = pga ? pga->ports : NULL;
	return pga ? pga->n_ports : 0;
}

static int write_guard(struct pg_awareness *pga, const struct pgwire_guard_key *k,
		       uint64_t until_ns)
{
	struct pgwire_guard g = { .until_ns = until_ns };
	int fd = pgwire_guard_map_fd(pga->pg);

	if (fd < 0)
		return 0; /* not counting yet: written when it starts */
	if (until_ns ? bpf_map_update_elem(fd, k, &g, BPF_ANY) : bpf_map_delete_elem(fd, k))
		return errno == ENOENT && !until_ns ? 0 : -errno;
	return 0;
}

int pg_awareness_guard(struct pg_awareness *pga, const struct pgwire_guard_key *k,
		       uint64_t until_ns)
{
	int i;

	/* row counting off or failed: no backend's reports are read, the
	 * quarantine would hold nothing (said, not pretended) */
	if (until_ns && (!pga || pga->state == PGA_OFF || pga->state == PGA_FAILED))
		return -ENOTCONN;
	if (!pga)
		return 0;
	for (i = 0; i < pga->n_guards; i++)
		if (!memcmp(&pga->guards[i].key, k, sizeof(*k)))
			break;
	if (!until_ns) {
		if (i < pga->n_guards)
			pga->guards[i] = pga->guards[--pga->n_guards];
	} else {
		if (i == pga->n_guards && pga->n_guards == PGWIRE_MAX_GUARDS)
			return -ENOSPC;
		pga->guards[i].key = *k;
		pga->guards[i].until_ns = until_ns;
		if (i == pga->n_guards)
			pga->n_guards++;
	}
	return write_guard(pga, k, until_ns);
}

void pg_awareness_on_contained(struct pg_awareness *pga, pgwire_contained_fn fn, void *ctx)
{
	if (!pga)
		return;
	pga->contained_fn = fn;
	pga->contained_ctx = ctx;
	pgwire_on_contained(pga->pg, fn, ctx);
}

bool pg_awareness_session(struct pg_awareness *pga, uint32_t pid, struct pg_param_value *app,
			  struct pg_param_value *role)
{
	const struct pg_session *s = pga ? pgwire_session(pga->pg, pid) : NULL;

	if (!s)
		return false;
	pg_session_current(s, app, role);
	return true;
}

static void start_counting(struct pg_awareness *pga)
{
	int n;

	struct pgwire_opts opts = { .probe = PGWIRE_PROBE_AUTO, .no_tls_hook = !pga->tls_hook,
				    .send_chain_fd = pga->send_chain_fd };

	pga->pg = pgwire_start(&opts);
	if (!pga->pg) {
		pga->state = PGA_FAILED;
		log_warn("PostgreSQL row counting could not start; bytes are still counted");
		return;
	}
	pga->state = PGA_ON;
	pgwire_on_contained(pga->pg, pga->contained_fn, pga->contained_ctx);
	for (int i = 0; i < pga->n_guards; i++)
		write_guard(pga, &pga->guards[i].key, pga->guards[i].until_ns);
	n = pgwire_scan(pga->pg);
	log_info("PostgreSQL row counting on (%s), %d server(s) found", pgwire_probe_name(pga->pg),
		 n < 0 ? 0 : n);
	watch_running_servers(pga);
	say_ports_known(pga);
}

static bool server_running(void)
{
	struct pgb_scan scan = { 0 };
	bool found = pgb_scan(NULL, &scan) == 0 && scan.n_postmasters > 0;

	pgb_scan_free(&scan);
	return found;
}

struct pg_awareness *pg_awareness_new(enum pg_mode mode, bool tls_hook, int send_chain_fd,
				       pg_port_fn port_fn, pg_ports_known_fn known_fn,
				       void *port_ctx)
{
	struct pg_awareness *pga = calloc(1, sizeof(*pga));

	if (!pga)
		return NULL;
	pga->send_chain_fd = send_chain_fd;
	pga->port_fn = port_fn;
	pga->known_fn = known_fn;
	pga->port_ctx = port_ctx;
	pga->mode = mode;
	pga->tls_hook = tls_hook;
	pga->state = mode == PG_OFF ? PGA_OFF : PGA_WAITING;
	/* at start, too, where PostgreSQL is installed but not running: its
	 * TLS hook can only be attached before the daemon drops privileges */
	if (mode == PG_ON || (mode == PG_AUTO && (server_running() || (tls_hook && pgtls_installed()))))
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
	/* recognised by a path only root could have written (trust.h) */
	server = pgb_read_exe(NULL, e->pid, exe, sizeof(exe)) == 0 ?
			 pgb_is_server_exe(exe) && exe_trusted((pid_t)e->pid, exe) :
			 pgb_is_server_exe(e->filename) && exe_trusted((pid_t)e->pid, e->filename);
	if (!server)
		return;
	if (pga->state == PGA_WAITING) {
		log_info("a PostgreSQL server started (pid %u)", e->pid);
		start_counting(pga);
	} else {
		/* its backends may answer from a port not known yet: every
		 * send is walked until its ports are */
		tell_known(pga, false);
		/* idempotent; also catches backends forked before it is added */
		pgwire_scan(pga->pg);
	}
	if (pga->state == PGA_ON)
		watch_server(pga, e->pid);
	say_ports_known(pga);
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
	event_set_count(ev, "vigie.stats.postgres.backends", st.backends);
	event_set_count(ev, "vigie.stats.postgres.unparsed_connections", st.unparsed_connections);
	event_set_count(ev, "vigie.stats.postgres.encrypted_connections", st.encrypted_total);
	event_set_count(ev, "vigie.stats.postgres.lost_syncs", st.lost_syncs);
	event_set_count(ev, "vigie.stats.postgres.resyncs", st.resyncs);
	event_set_count(ev, "vigie.stats.postgres.unsynced_bytes", st.unsynced_bytes);
	event_set_count(ev, "vigie.stats.postgres.tls_connections_counted", st.tls_walked_connections);
	event_set_count(ev, "vigie.stats.postgres.sends_walked", st.sends);
	event_set_count(ev, "vigie.stats.postgres.tls_writes", st.tls_writes);
	event_set_count(ev, "vigie.stats.postgres.tls_write_retries", st.tls_retries);
	event_set_count(ev, "vigie.stats.postgres.tls_hooked_executables", st.tls_hooked_executables);
	event_set_count(ev, "vigie.stats.postgres.app_user_changes", st.param_changes);
	event_set_count(ev, "vigie.stats.postgres.app_user_changes_lost", st.param_changes_lost);
	event_set_count(ev, "vigie.stats.postgres.backends_not_tracked", st.backend_full);
}
