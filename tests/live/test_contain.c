// SPDX-License-Identifier: GPL-2.0
/*
 * Live: containment (docs/containment.md). A throw-away PostgreSQL with
 * honest roles that keep querying, one role that extracts through a
 * server-side cursor, and one allow-listed role that extracts as much;
 * a bulk TCP transfer to a peer in a network namespace.
 *  - enforce: the extracting session is ended within 1 s of its alert
 *    (the client gets "terminating connection due to administrator
 *    command"), the rows it received after the alert are counted; each
 *    reconnection during the quarantine (plain and TLS) gets no row; the
 *    honest sessions and the allow-listed one go on; the postmaster and
 *    its other processes are untouched; the quarantine ends and the role
 *    works again.
 *  - egress: the transfer stops within 1 s of its alert (the peer's byte
 *    count stops growing), a new connection to the peer is refused during
 *    the quarantine and works after it.
 *  - dry-run, with the built-in severity (critical): events say what would
 *    be done, nothing is done.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/live.h"

#define QUARANTINE_S 4
#define LATENCY_BUDGET_S 1.0

static char *script;

/* Start a client: its lines go to tmpdir/NAME.out. */
static int client(struct child *c, const char *name, const char *mode, const char *user,
		  const char *arg, bool tls)
{
	char cmd[1024];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "exec /usr/bin/python3 '%s' %s %s %s %s > '%s/%s.out' 2>&1",
		 script, mode, user, arg, tls ? "tls" : "", live_tmpdir(), name);
	return child_spawn(c, &(struct spawn_opts){ 0 }, argv);
}

/* The last line of tmpdir/NAME.out starting with kind, its time and rows. */
static bool last_line(const char *name, const char *kind, double *t, long long *rows,
		      char *rest, size_t rest_len)
{
	char path[512], *text, *line, *save = NULL;
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	text = live_read_file(path, NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		int off = 0;

		if (strncmp(line, kind, strlen(kind)) ||
		    sscanf(line + strlen(kind), " %lf %lld %n", t, rows, &off) < 2)
			continue;
		found = true;
		if (rest)
			snprintf(rest, rest_len, "%s", line + strlen(kind) + off);
	}
	free(text);
	return found;
}

/* Rows the extractor had at time t (its last "ROWS" line not after t). */
static long long rows_at(const char *name, double t)
{
	char path[512], *text, *line, *save = NULL;
	long long n = 0;

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	text = live_read_file(path, NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		double lt;
		long long r;

		if (sscanf(line, "ROWS %lf %lld", &lt, &r) == 2 && lt <= t)
			n = r;
	}
	free(text);
	return n;
}

static char *read_out(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	return live_read_file(path, NULL);
}

/* The first containment event of this action (and principal id). */
static json_t *find_contain(const struct events *e, const char *action, const char *id, size_t *n)
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
static json_t *find_alert(const struct events *e, const char *kind, const char *id,
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

static const char *event_type(json_t *ev)
{
	return ev ? json_string_value(json_array_get(jpath(ev, "event.type"), 0)) : NULL;
}

/* Lines of the test cluster's log holding s. */
static int server_log_count(const char *s)
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

/* ---- egress: a sink in the namespace, a paced sender on the host ---- */

struct shared {
	volatile unsigned long long received; /* by the sink */
	volatile unsigned long long sent;
	volatile double end_time;             /* the sender's send failed */
	volatile double last_rx;              /* the sink's last bytes */
	volatile int end_errno;
	volatile int port;
};

static struct shared *sh;
static struct netns ns;

static int enter_ns(const char *name)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

static int sink(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int l, one = 1;
	char buf[65536];

	(void)arg;
	if (enter_ns(ns.name))
		return 1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		return 1;
	sh->port = ntohs(a.sin_port);
	for (;;) {
		int c = accept(l, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			__atomic_add_fetch(&sh->received, (unsigned long long)n, __ATOMIC_RELAXED);
			sh->last_rx = live_now();
		}
		close(c);
	}
	return 0;
}

static int tcp_connect(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* As nobody: 64 KB every 1.25 ms (about 50 MB/s) until a send fails. */
static int sender(void *arg)
{
	static char buf[65536];
	int fd;

	(void)arg;
	if (setgid(65534) || setuid(65534))
		return 1;
	fd = tcp_connect(ns.ns_ip, sh->port);
	if (fd < 0)
		return 1;
	for (;;) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n <= 0) {
			sh->end_errno = errno;
			sh->end_time = live_now();
			return 0;
		}
		sh->sent += (unsigned long long)n;
		usleep(1250);
	}
}

static void wait_exit(struct child *c, const char *name, int timeout_ms)
{
	int rc = child_wait(c, timeout_ms);

	if (rc < 0)
		live_log("%s did not end in %d ms", name, timeout_ms);
}

/* ---- the phases ---- */

static const char *psql_bin;

static void setup_roles(void)
{
	static const char *const roles[] = { "thief", "honest_a", "honest_b", "honest_c", "batch",
					     "dry_thief", "portal" };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		CHECK(live_sh("'%s' -X -q -c 'CREATE ROLE %s LOGIN'", psql_bin, roles[i]) == 0,
		      "role %s", roles[i]);
}

/* The pooled connection: mallory@portail is ended, alice goes on. */
static void pooled(const struct events *ev)
{
	json_t *al = find_alert(ev, "app_user", "mallory@portail", NULL), *x, *rel;
	double t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0, t_rel = 0;
	long long alice_after = 0, mallory_rows_in_q = 0, broken = 0;
	char *txt = read_out("pool"), *line, *save = NULL;
	size_t cnt, by_kernel = 0;

	CHECK(al != NULL, "an alert for app_user mallory@portail");
	/* the backend that served it in the alert is ended, unless the pool
	 * has switched it to another user since (then its next switch back
	 * is ended by the quarantine, and the event says so) */
	x = find_contain(ev, "end-sessions", "mallory@portail", &cnt);
	CHECK(x && (!strcmp(jstr(x, "event.outcome"), "success") ||
		    strstr(jstr(x, "vigie.containment.reason") ?: "", "no longer serves this user")),
	      "the backend serving mallory@portail ended, or said to serve another user: %s %s",
	      x ? jstr(x, "event.outcome") : "-", x ? jstr(x, "vigie.containment.reason") : "-");
	/* the quarantine ends in the kernel at its "until"; the release
	 * event follows at the next tick */
	rel = find_contain(ev, "quarantine-sessions", "mallory@portail", &cnt);
	t_rel = rel ? live_parse_ts(jstr(rel, "vigie.containment.until")) : 0;
	CHECK(t_rel > t_alert, "mallory@portail in quarantine until %s",
	      rel ? jstr(rel, "vigie.containment.until") : "-");
	rel = find_contain(ev, "release", "mallory@portail", &cnt);
	CHECK(rel && live_parse_ts(jstr(rel, "vigie.containment.until")) == t_rel,
	      "the release says when the quarantine ended");
	for (size_t i = 0; i < ev->n; i++)
		if (jstr(ev->ev[i], "vigie.containment.by") &&
		    !strcmp(jstr(ev->ev[i], "vigie.principal.id"), "mallory@portail"))
			by_kernel += (size_t)jint(ev->ev[i], "vigie.containment.sessions", 0);
	CHECK(by_kernel >= 1, "switches to mallory@portail ended by the quarantine: %zu", by_kernel);
	x = find_contain(ev, "skip", "portal", &cnt);
	ASSERT_EQ_STR(x ? jstr(x, "vigie.containment.reason") : NULL, "never",
		      "the pool's own account is never contained");
	for (line = txt ? strtok_r(txt, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		double t;
		long long n;
		char kind[16];

		if (sscanf(line, "%15s %lf %lld", kind, &t, &n) != 3)
			continue;
		if (!strcmp(kind, "ALICE") && t > t_alert + LATENCY_BUDGET_S && n == 20)
			alice_after++;
		if (!strcmp(kind, "MALLORY") && t > t_alert + LATENCY_BUDGET_S && t < t_rel)
			mallory_rows_in_q += n;
		if (!strcmp(kind, "BROKEN") && strstr(line, " mallory "))
			broken++;
	}
	live_log("pool: alert %s, %lld alice queries after it, %lld mallory switches ended",
		 al ? jstr(al, "@timestamp") : "-", alice_after, broken);
	ASSERT_EQ_INT(mallory_rows_in_q, 0, "rows to mallory@portail in quarantine");
	CHECK(alice_after >= 5, "alice@portail kept working on the pool: %lld queries", alice_after);
	CHECK(broken >= 2, "mallory's switches ended: %lld", broken);
	free(txt);
}

/* Within a second of its alert: the peer gets nothing more, the sender is
 * stopped, a new connection to the peer is refused. */
static void check_egress_stopped(pid_t sender_pid)
{
	unsigned long long r0 = sh->received, r1;
	char path[64], *st;
	int fd;

	usleep(300 * 1000);
	r1 = sh->received;
	ASSERT_EQ_U64(r1, r0, "the peer's byte count no longer grows");
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sender_pid);
	st = live_read_file(path, NULL);
	CHECK(st && strstr(st, ") T "), "the sender is stopped (SIGSTOP): %.40s",
	      st ? strrchr(st, ')') : "gone");
	free(st);
	fd = tcp_connect(ns.ns_ip, sh->port);
	ASSERT_EQ_INT(fd, -EPERM, "a new connection to the peer is refused in quarantine");
	if (fd >= 0)
		close(fd);
}

static void enforce(void)
{
	struct child thief, again, again_tls, after, batch, honest[3], snk, snd, pool;
	static const char *const hn[] = { "honest_a", "honest_b", "honest_c" };
	char cfg[1024], rest[256];
	long long pm_before = -1, rows = 0, n;
	double t_alert, t_end = 0, t;
	struct vigie v;
	struct events ev;
	json_t *al, *x;
	size_t cnt;
	char *txt;
	int pm, fd;
	bool ok, thief_done = false, egress_done = false;

	live_section("enforce: a database account extracting, an egress transfer");
	{
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/data/postmaster.pid", getenv("PGCLUSTER_DIR"));
		f = fopen(path, "r");
		if (f && fscanf(f, "%lld", &pm_before) != 1)
			pm_before = -1;
		if (f)
			fclose(f);
	}
	CHECK(pm_before > 0, "postmaster pid read");
	snprintf(cfg, sizeof(cfg),
		 "{\"containment\": {\"mode\": \"enforce\", \"on_severity\": \"medium\", "
		 "\"quarantine_s\": %d, \"never\": [\"db_user:portal\"], \"actions\": "
		 "{\"stop_processes\": true}}, \"detection\": {\"allow\": [\"db_user:batch\"]}, "
		 "\"databases\": {\"app_user\": {\"pattern\": \"portail/{user}\"}}, "
		 "\"sensor\": {\"metrics_listen\": \"127.0.0.1:19471\"}}",
		 QUARANTINE_S);
	if (vigie_start(&v, cfg, NULL)) {
		CHECK(false, "vigie started (enforce)");
		return;
	}
	for (int i = 0; i < 3; i++)
		client(&honest[i], hn[i], "honest", hn[i], "8", false);
	/* the sink and the paced sender */
	snk.pid = 0;
	CHECK(child_fork(&snk, sink, NULL) == 0, "sink in the namespace");
	for (int i = 0; i < 200 && !sh->port; i++)
		usleep(10000);
	CHECK(sh->port > 0, "sink listening");
	usleep(300 * 1000);
	client(&thief, "thief", "extract", "thief", "50000000", false);
	client(&pool, "pool", "pool", "portal", "8", false);
	client(&batch, "batch", "extract", "batch", "400000", false);
	CHECK(child_fork(&snd, sender, NULL) == 0, "sender started");

	/* the thief is ended, the transfer stopped: in either order */
	for (int i = 0; i < 1500 && !(thief_done && egress_done); i++) {
		if (!thief_done && child_exited(&thief)) {
			thief_done = true;
			wait_exit(&thief, "thief", 1000);
			/* it reconnects at once: plain and TLS, every try gets no row */
			client(&again, "again", "reconnect", "thief", "2", false);
			client(&again_tls, "again_tls", "reconnect", "thief", "1.2", true);
		}
		if (!egress_done && sh->last_rx > 0 && live_now() - sh->last_rx > 0.2) {
			egress_done = true;
			check_egress_stopped(snd.pid);
		}
		usleep(20 * 1000);
	}
	CHECK(thief_done && egress_done, "the thief ended and the transfer stopped");
	rest[0] = '\0';
	ok = last_line("thief", "END", &t_end, &rows, rest, sizeof(rest));
	CHECK(ok, "the extracting session was ended: %s", rest);
	/* libpq says the server's FATAL, or, when its next request met the
	 * closed socket first, that the server closed the connection */
	CHECK(strstr(rest, "terminating connection due to administrator command") ||
	      strstr(rest, "server closed the connection unexpectedly"),
	      "what the client sees: %s", rest);
	wait_exit(&again, "reconnect", 8000);
	wait_exit(&again_tls, "reconnect tls", 8000);
	wait_exit(&batch, "batch", 30000);
	for (int i = 0; i < 3; i++)
		wait_exit(&honest[i], hn[i], 20000);
	wait_exit(&pool, "pool", 20000);

	/* after the quarantine */
	{
		bool released = false;

		for (int i = 0; i < 200 && !released; i++) {
			usleep(100 * 1000);
			events_load(&ev, v.out_path);
			released = find_contain(&ev, "release", "thief", &cnt) != NULL;
			events_free(&ev);
		}
		CHECK(released, "the quarantine of thief was released");
	}
	client(&after, "after", "reconnect", "thief", "0.1", false);
	wait_exit(&after, "after", 8000);
	fd = tcp_connect(ns.ns_ip, sh->port);
	CHECK(fd >= 0, "a connection to the peer works after the quarantine (%d)", fd);
	if (fd >= 0)
		close(fd);
	child_kill(&snk);
	child_kill(&snd);
	{
		char *m = live_path("metrics.txt"), *text;

		live_sh("curl -s -o '%s' http://127.0.0.1:19471/metrics", m);
		text = live_read_file(m, NULL);
		ASSERT_CONTAINS(text, "\nvigie_containment_events_total{action=\"block-address\"} 1\n",
				"metrics: the address block");
		ASSERT_CONTAINS(text, "\nvigie_containment_events_total{action=\"end-connections\"} 1\n",
				"metrics: the connections ended");
		CHECK(text && !strstr(text, "vigie_containment_failures_total{action=\"block-address\"}"),
		      "metrics: no failed block");
		free(text);
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");

	/* ---- figures ---- */
	events_load(&ev, v.out_path);
	live_check_ecs(&ev, v.out_path);
	{
		json_t *caps = jpath(events_find(&ev, "sensor-start"), "vigie.privileges.capabilities");
		char *c = caps ? json_dumps(caps, JSON_COMPACT) : NULL;

		ASSERT_EQ_STR(c, "[\"cap_dac_read_search\",\"cap_kill\",\"cap_net_admin\","
				 "\"cap_sys_ptrace\",\"cap_perfmon\",\"cap_bpf\"]",
			      "enforced: CAP_KILL and CAP_NET_ADMIN kept");
		free(c);
	}
	al = find_alert(&ev, "db_user", "thief", NULL);
	CHECK(al != NULL, "an alert for db_user thief");
	t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0;
	if (al) {
		long long at = rows_at("thief", t_alert);

		live_log("thief: alert %s (%s) at %lld rows received, ended %.3f s after it with "
			 "%lld rows: %lld after the alert", jstr(al, "vigie.severity"),
			 jstr(al, "@timestamp"), at, t_end - t_alert, rows, rows - at);
		CHECK(t_end - t_alert <= LATENCY_BUDGET_S, "session ended %.3f s after its alert "
		      "(budget %.1f s)", t_end - t_alert, LATENCY_BUDGET_S);
		CHECK(rows - at <= 20000, "rows received after the alert: %lld", rows - at);
	}
	/* the first quarantine (it may come again once released: thief's
	 * rows after the release take its volume further) */
	x = find_contain(&ev, "quarantine-sessions", "thief", &cnt);
	CHECK(cnt >= 1, "thief in quarantine (%zu times)", cnt);
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "quarantine outcome");
	ASSERT_EQ_STR(x ? event_type(x) : NULL, "denied", "quarantine event.type");
	ASSERT_EQ_STR(x ? jstr(x, "vigie.episode.id") : NULL, al ? jstr(al, "vigie.episode.id") : "",
		      "the alert's episode");
	CHECK(x && jstr(x, "vigie.containment.until") &&
	      live_parse_ts(jstr(x, "vigie.containment.until")) - t_alert > QUARANTINE_S - 1,
	      "quarantine end stated");
	x = find_contain(&ev, "end-sessions", "thief", &cnt);
	CHECK(cnt >= 1, "sessions of thief ended (%zu events)", cnt);
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "end-sessions outcome");
	ASSERT_EQ_INT(x ? jint(x, "vigie.containment.sessions", -1) : -1, 1,
		      "one session of thief ended by the alert");
	/* the reconnections: no row, each ended by the kernel */
	x = find_contain(&ev, "quarantine-sessions", "thief", &cnt);
	txt = read_out("again");
	n = 0;
	t = x && jstr(x, "vigie.containment.until") ?
		    live_parse_ts(jstr(x, "vigie.containment.until")) : 0;
	for (char *p = txt; p && (p = strstr(p, "TRY ")); p++) {
		double tt;
		long long r;

		if (sscanf(p, "TRY %lf %lld", &tt, &r) == 2 && tt < t - 0.1) {
			n++;
			ASSERT_EQ_INT(r, 0, "rows of a reconnection in quarantine");
		}
	}
	CHECK(n >= 3, "reconnections tried in quarantine: %lld", n);
	free(txt);
	txt = read_out("again_tls");
	CHECK(txt && strstr(txt, "TRY ") && !strstr(txt, " 5000 "), "TLS reconnections get no row: "
	      "%s", txt ? txt : "");
	free(txt);
	{
		size_t by_kernel = 0, by_thief = 0, by_alert = 0;
		int logged;

		for (size_t i = 0; i < ev.n; i++) {
			const char *a = jstr(ev.ev[i], "vigie.containment.action");

			if (!a || strcmp(a, "end-sessions"))
				continue;
			if (jstr(ev.ev[i], "vigie.containment.by")) {
				size_t k = (size_t)jint(ev.ev[i], "vigie.containment.sessions", 0);

				by_kernel += k; /* one event a tick for the sessions it ended */
				if (!strcmp(jstr(ev.ev[i], "vigie.principal.id"), "thief"))
					by_thief += k;
			} else if (!strcmp(jstr(ev.ev[i], "event.outcome"), "success")) {
				by_alert += json_array_size(jpath(ev.ev[i], "vigie.containment.pids"));
			}
		}
		CHECK(by_thief >= (size_t)n, "thief's sessions ended by the quarantine: %zu (tries "
		      "%lld)", by_thief, n);
		/* as pg_terminate_backend ends them: the server says so for
		 * each of thief's, at least (a pooled backend may be signalled
		 * twice: by the alert, then at a switch before it ended) */
		logged = server_log_count("terminating connection due to administrator command");
		CHECK(logged >= (int)by_thief + 1 && logged <= (int)(by_kernel + by_alert),
		      "sessions the server ended on SIGTERM: %d (thief %zu + 1, all %zu)", logged,
		      by_thief, by_kernel + by_alert);
	}
	n = -1;
	ok = last_line("after", "TRY", &t, &n, rest, sizeof(rest));
	CHECK(ok && n == 5000, "after the quarantine thief gets its 5,000 rows (%lld %s)", n, rest);
	/* the honest and the allow-listed go on */
	for (int i = 0; i < 3; i++) {
		n = -1;
		ok = last_line(hn[i], "DONE", &t, &n, NULL, 0);
		CHECK(ok && n >= 40, "%s kept working: %lld queries", hn[i], n);
		CHECK(!find_contain(&ev, "end-sessions", hn[i], &cnt), "%s never contained", hn[i]);
	}
	n = -1;
	ok = last_line("batch", "DONE", &t, &n, NULL, 0);
	CHECK(ok && n == 400000, "allow-listed batch extracted its 400,000 rows (%lld)", n);
	CHECK(!find_alert(&ev, "db_user", "batch", NULL), "no alert for batch");
	CHECK(!find_contain(&ev, "quarantine-sessions", "batch", &cnt), "batch never contained");
	pm = (int)pm_before;
	CHECK(pm > 0 && kill(pm, 0) == 0, "the postmaster %d is alive", pm);
	CHECK(live_sh("'%s' -X -q -c 'SELECT 1'", psql_bin) == 0, "the server answers");

	/* egress */
	al = find_alert(&ev, "user", "nobody", NULL);
	CHECK(al != NULL, "an egress alert");
	t_alert = al ? live_parse_ts(jstr(al, "@timestamp")) : 0;
	if (al) {
		live_log("egress: alert %s at %s, the peer's last bytes %.3f s after it, "
			 "%llu bytes sent, %llu received", jstr(al, "vigie.severity"),
			 jstr(al, "@timestamp"), sh->last_rx - t_alert,
			 (unsigned long long)sh->sent, (unsigned long long)sh->received);
		CHECK(sh->last_rx - t_alert <= LATENCY_BUDGET_S, "transfer ended %.3f s after its "
		      "alert (budget %.1f s)", sh->last_rx - t_alert, LATENCY_BUDGET_S);
	}
	x = find_contain(&ev, "block-address", NULL, &cnt);
	ASSERT_EQ_INT(cnt, 1, "one block of the peer address");
	ASSERT_EQ_STR(x ? jstr(x, "destination.ip") : NULL, ns.ns_ip, "blocked address");
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "success", "block outcome");
	x = find_contain(&ev, "end-connections", NULL, &cnt);
	ASSERT_EQ_INT(cnt, 1, "one end-connections");
	ASSERT_EQ_INT(x ? jint(x, "vigie.containment.connections", -1) : -1, 1,
		      "the transfer's connection destroyed");
	{
		char want[64];

		snprintf(want, sizeof(want), "->%s:%d", ns.ns_ip, sh->port);
		ASSERT_CONTAINS(x ? json_string_value(json_array_get(jpath(x, "vigie.containment.sockets"),
								     0)) : NULL, want, "which connection");
	}
	x = events_find_last(&ev, "sensor-stop");
	ASSERT_EQ_INT(x ? jint(x, "vigie.stats.containment.quarantines", -1) : -1, 0,
		      "sensor-stop: no quarantine left");
	CHECK(x && jint(x, "vigie.stats.containment.alerts_acted", 0) >= 3 &&
	      jint(x, "vigie.stats.containment.sessions_ended_by_quarantine", 0) >= 3 &&
	      jint(x, "vigie.stats.containment.skipped_never", 0) >= 1,
	      "sensor-stop: containment's counts (acted %lld, ended by quarantine %lld, never %lld)",
	      x ? jint(x, "vigie.stats.containment.alerts_acted", 0) : -1,
	      x ? jint(x, "vigie.stats.containment.sessions_ended_by_quarantine", 0) : -1,
	      x ? jint(x, "vigie.stats.containment.skipped_never", 0) : -1);
	x = find_contain(&ev, "stop-process", "nobody", &cnt);
	ASSERT_EQ_INT(cnt, 1, "one stop of nobody's process");
	ASSERT_EQ_INT(x ? json_integer_value(json_array_get(jpath(x, "vigie.containment.pids_stopped"),
							    0)) : -1, snd.pid, "the sender stopped");
	x = find_contain(&ev, "release", "thief", &cnt);
	CHECK(cnt >= 1, "thief released (%zu times)", cnt);
	cnt = 0;
	for (size_t i = 0; i < ev.n; i++)
		cnt += jstr(ev.ev[i], "vigie.containment.action") &&
		       !strcmp(jstr(ev.ev[i], "vigie.containment.action"), "release") &&
		       jstr(ev.ev[i], "destination.ip") && !strcmp(jstr(ev.ev[i], "destination.ip"),
								   ns.ns_ip);
	ASSERT_EQ_INT(cnt, 1, "the address released");
	pooled(&ev);
	events_free(&ev);
}

static void dry_run(void)
{
	struct child thief;
	struct vigie v;
	struct events ev;
	json_t *al, *x;
	size_t cnt;
	double t;
	long long n;
	bool ok;

	live_section("dry-run, the built-in severity (critical): said, not done");
	if (vigie_start(&v, "{\"containment\": {\"mode\": \"dry-run\"}}", NULL)) {
		CHECK(false, "vigie started (dry-run)");
		return;
	}
	client(&thief, "dry", "extract", "dry_thief", "600000", false);
	wait_exit(&thief, "dry thief", 30000);
	n = -1;
	ok = last_line("dry", "DONE", &t, &n, NULL, 0);
	CHECK(ok && n == 600000, "dry-run: the extraction ran to its end (%lld rows)", n);
	usleep(1500 * 1000);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	events_load(&ev, v.out_path);
	al = find_alert(&ev, "db_user", "dry_thief", "critical");
	CHECK(al != NULL, "a critical alert for dry_thief");
	x = find_contain(&ev, "end-sessions", "dry_thief", &cnt);
	ASSERT_EQ_INT(cnt, 1, "one end-sessions said");
	ASSERT_EQ_STR(x ? jstr(x, "vigie.containment.mode") : NULL, "dry-run", "mode");
	ASSERT_EQ_STR(x ? jstr(x, "event.outcome") : NULL, "unknown", "dry-run outcome");
	ASSERT_EQ_STR(x ? jstr(x, "message") : NULL,
		      "containment (dry-run) of db_user dry_thief: would end its sessions", "message");
	x = find_contain(&ev, "quarantine-sessions", "dry_thief", &cnt);
	ASSERT_EQ_INT(cnt, 1, "one quarantine said");
	ASSERT_EQ_STR(x ? event_type(x) : NULL, "info", "dry-run event.type");
	live_check_ecs(&ev, v.out_path);
	events_free(&ev);
}

int main(void)
{
	live_init("contain");
	live_on_cleanup(pgcluster_stop);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || netns_create(&ns, "cnt", 71) ||
	    pgcluster_start() || !(psql_bin = pgcluster_psql())) {
		CHECK(false, "namespace and throw-away cluster");
		return live_finish();
	}
	script = strdup(live_source_path("tests/live/contain_client.py"));
	setup_roles();
	enforce();
	dry_run();
	return live_finish();
}
