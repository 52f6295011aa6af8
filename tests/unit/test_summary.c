// SPDX-License-Identifier: GPL-2.0
/* Usage summarised per principal (user/sensor/summary.c): which events,
 * their totals, the coarse period, and that nothing is counted twice. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <jansson.h>
#include "base/config.h"
#include "base/event.h"
#include "base/identity.h"
#include "output/ecs_check.h"
#include "postgres/pgwire.h"
#include "output/output.h"
#include "postgres/pgsession.h"
#include "sensor/usage.h"
#include "check.h"

#define T0 1795416000000000000ull /* 2026-11-23T06:40:00Z, on a clock hour + 40 min */
#define MIN 60000000000ull

static struct identity *ident(uint32_t pid, uint32_t uid, const char *comm, const char *exe,
			      const char *db_user, const char *client_ip, uint16_t client_port)
{
	struct identity *id = calloc(1, sizeof(*id));

	id->refs = 1;
	id->pid = pid;
	id->uid = uid;
	id->loginuid = VIGIE_LOGINUID_UNSET;
	snprintf(id->comm, sizeof(id->comm), "%s", comm);
	id->exe = strdup(exe);
	id->complete = true;
	if (db_user) {
		id->db_user = strdup(db_user);
		id->db_name = strdup("crm");
		snprintf(id->client_ip, sizeof(id->client_ip), "%s", client_ip);
		id->client_port = client_port;
	}
	return id;
}

struct run {
	char path[64];
	struct output *out;
	json_t *ev[256];
	size_t n;
};

static void run_open(struct run *r)
{
	int fd;

	snprintf(r->path, sizeof(r->path), "/tmp/vigie-summary-XXXXXX");
	fd = mkstemp(r->path);
	close(fd);
	r->out = output_open(r->path);
	r->n = 0;
}

/* Every summary event conforms to ECS and is mapped by the shipped index
 * template. */
static void check_ecs(struct run *r)
{
	char err[512] = "";
	struct ecs_schema *schema = ecs_schema_load("tests/data/ecs", err, sizeof(err));
	json_t *tpl = json_load_file("packaging/siem/vigie-index-template.json", 0, NULL);

	CHECK_MSG(schema && tpl, "ECS subset and index template loaded: %s", err);
	for (size_t i = 0; schema && tpl && i < r->n; i++) {
		CHECK_MSG(ecs_check_event(schema, r->ev[i], err, sizeof(err)) == 0,
			  "event %zu: %s", i, err);
		CHECK_MSG(ecs_template_check(tpl, r->ev[i], err, sizeof(err)) == 0,
			  "event %zu: template: %s", i, err);
	}
	ecs_schema_free(schema);
	json_decref(tpl);
}

/* Close the output and load its events. */
static void run_load(struct run *r)
{
	FILE *f;
	char line[16384];

	output_close(r->out);
	r->out = NULL;
	f = fopen(r->path, "r");
	while (f && r->n < 256 && fgets(line, sizeof(line), f)) {
		json_error_t e;

		r->ev[r->n] = json_loads(line, 0, &e);
		CHECK(r->ev[r->n] != NULL);
		if (r->ev[r->n])
			r->n++;
	}
	if (f)
		fclose(f);
	unlink(r->path);
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		json_decref(r->ev[i]);
	r->n = 0;
}

static json_t *get(json_t *ev, const char *dotted)
{
	char buf[256], *save = NULL, *tok;
	json_t *v = ev;

	snprintf(buf, sizeof(buf), "%s", dotted);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return v;
}

static const char *gstr(json_t *ev, const char *p) { return json_string_value(get(ev, p)); }
static long long gint(json_t *ev, const char *p) { return json_integer_value(get(ev, p)); }

/* The event whose field p is the string want (and period, when given). */
static json_t *find(struct run *r, const char *p, const char *want, const char *period)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *v = gstr(r->ev[i], p), *per = gstr(r->ev[i], "vigie.summary.period");

		if (v && !strcmp(v, want) && (!period || (per && !strcmp(per, period))))
			return r->ev[i];
	}
	return NULL;
}

static void add_flow(struct usage *u, struct identity *id, uint8_t cls, const char *ip,
		     uint16_t rport, uint16_t lport, uint64_t bytes)
{
	struct vigie_flow_key k = { .tgid = id->pid, .uid = id->uid, .cls = cls, .proto = 6,
				    .rport = rport, .lport = lport };
	struct vigie_counter v = { .bytes = bytes, .ops = 1 };

	if (ip) {
		k.family = AF_INET;
		inet_pton(AF_INET, ip, k.raddr);
	}
	usage_add(u, &k, &v, false, id);
}

static struct pg_segment seg(const char *app, uint64_t records, uint64_t bytes)
{
	struct pg_segment s;

	memset(&s, 0, sizeof(s));
	s.app.set = true;
	snprintf(s.app.s, sizeof(s.app.s), "%s", app);
	s.records = records;
	s.bytes = bytes;
	return s;
}

/* One interval of a small server: who gets an interval event, who waits
 * for the coarse one, and the totals of each. */
static void test_interval_and_coarse(void)
{
	struct vigie_config cfg;
	struct identity *a1, *a2, *a3, *bob, *curl, *tls, *portal;
	struct usage *u;
	struct run r;
	char err[256];
	json_t *e;

	config_init(&cfg);
	CHECK_EQ_INT(cfg.usage_detail, USAGE_SUMMARY); /* the built-in default */
	CHECK_EQ_INT(config_load_string(&cfg, "{\"databases\": {\"app_user\": {\"pattern\": "
					     "\"portail/{user}\"}}}", err, sizeof(err)), 0);
	event_set_host("golden-host");
	a1 = ident(101, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "alice", "10.0.0.5", 50001);
	a2 = ident(102, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "alice", "10.0.0.5", 50002);
	a3 = ident(103, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "alice", "10.0.0.6", 50003);
	bob = ident(104, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "bob", "10.0.0.7", 50004);
	tls = ident(105, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "carol", "10.0.0.8", 50005);
	portal = ident(106, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "portal", "10.0.0.9", 50006);
	curl = ident(4242, 1000, "curl", "/usr/bin/curl", NULL, NULL, 0);
	u = usage_new(&cfg, NULL, 0);

	run_open(&r);
	/* alice: three small lookups (60 records, 6,000 bytes): coarse */
	add_flow(u, a1, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50001, 5432, 1000);
	usage_add_rows(u, a1, 10, 0, 0, 0);
	add_flow(u, a2, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50002, 5432, 2000);
	usage_add_rows(u, a2, 20, 0, 0, 0);
	add_flow(u, a3, VIGIE_CLASS_DB_SERVER, "10.0.0.6", 50003, 5432, 3000);
	usage_add_rows(u, a3, 30, 0, 0, 0);
	/* bob: 5,000 records: an interval event */
	add_flow(u, bob, VIGIE_CLASS_DB_SERVER, "10.0.0.7", 50004, 5432, 400000);
	usage_add_rows(u, bob, 5000, 0, 0, 0);
	/* carol through TLS without the hook: rows unknown, 2 MB */
	add_flow(u, tls, VIGIE_CLASS_DB_SERVER, "10.0.0.8", 50005, 5432, 2000000);
	usage_add_rows(u, tls, 0, 0, PGWIRE_UNKNOWN_TLS_NOT_HOOKED, 0);
	/* the portal's pooled connection, two advisors */
	{
		struct pg_segment s[2] = { seg("portail/adv1", 5, 500), seg("portail/adv2", 7, 700) };

		add_flow(u, portal, VIGIE_CLASS_DB_SERVER, "10.0.0.9", 50006, 5432, 1200);
		usage_add_app_users(u, portal, s, 2);
		usage_add_rows(u, portal, 12, 0, 0, 0);
	}
	/* curl: 2 MB to two peers */
	add_flow(u, curl, VIGIE_CLASS_EGRESS, "203.0.113.9", 443, 40000, 1500000);
	add_flow(u, curl, VIGIE_CLASS_EGRESS, "203.0.113.10", 443, 40001, 500000);
	CHECK_EQ_INT(usage_flush(u, T0, T0 + MIN, r.out), 3);
	CHECK_EQ_INT(usage_pending_summaries(u), 4); /* alice, portal, adv1, adv2 */
	/* the next interval, same hour: alice again, small */
	add_flow(u, a1, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50001, 5432, 100);
	usage_add_rows(u, a1, 1, 0, 0, 0);
	CHECK_EQ_INT(usage_flush(u, T0 + MIN, T0 + 2 * MIN, r.out), 0);
	/* an interval ending in the next hour writes the coarse summaries */
	CHECK_EQ_INT(usage_flush(u, T0 + 19 * MIN, T0 + 20 * MIN + 1, r.out), 4);
	CHECK_EQ_INT(usage_pending_summaries(u), 0);
	run_load(&r);
	CHECK_EQ_INT(r.n, 7);
	check_ecs(&r);

	e = find(&r, "vigie.db_user", "bob", "interval");
	CHECK(e != NULL);
	CHECK_EQ_STR(gstr(e, "vigie.summary.by"), "db_user");
	CHECK_EQ_INT(gint(e, "vigie.rows"), 5000);
	CHECK_EQ_INT(gint(e, "vigie.bytes"), 400000);
	CHECK_EQ_INT(gint(e, "process.pid"), 104);
	CHECK_EQ_STR(gstr(e, "source.ip"), "10.0.0.7");
	CHECK_EQ_INT(gint(e, "source.port"), 50004);
	CHECK_EQ_STR(gstr(e, "event.start"), "2026-11-23T06:40:00.000000Z");
	CHECK_EQ_STR(gstr(e, "event.end"), "2026-11-23T06:41:00.000000Z");

	e = find(&r, "vigie.db_user", "carol", "interval");
	CHECK(e != NULL);
	CHECK(json_is_null(get(e, "vigie.rows")));
	CHECK(json_is_false(get(e, "vigie.rows_known")));
	CHECK_EQ_INT(gint(e, "vigie.rows_unknown_bytes"), 2000000);
	CHECK_EQ_INT(json_array_size(get(e, "vigie.rows_unknown_reason")), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(get(e, "vigie.rows_unknown_reason"), 0)),
		     "tls_not_hooked");

	e = find(&r, "process.executable", "/usr/bin/curl", "interval");
	CHECK(e != NULL);
	CHECK_EQ_STR(gstr(e, "vigie.summary.by"), "process");
	CHECK_EQ_INT(gint(e, "vigie.bytes"), 2000000);
	CHECK_EQ_INT(gint(e, "vigie.summary.flows"), 2);
	CHECK(get(e, "destination.ip") == NULL); /* two peers: in the top flows */
	CHECK_EQ_STR(gstr(e, "network.direction"), "egress");
	CHECK_EQ_INT(json_array_size(get(e, "vigie.top_flows")), 2);
	CHECK_EQ_STR(gstr(json_array_get(get(e, "vigie.top_flows"), 0), "ip"), "203.0.113.9");
	CHECK_EQ_INT(gint(json_array_get(get(e, "vigie.top_flows"), 0), "bytes"), 1500000);

	e = find(&r, "vigie.db_user", "alice", "coarse");
	CHECK(e != NULL);
	CHECK_EQ_INT(gint(e, "vigie.rows"), 61);
	CHECK_EQ_INT(gint(e, "vigie.bytes"), 6100);
	CHECK_EQ_INT(gint(e, "vigie.summary.flows"), 4);
	CHECK(get(e, "process.pid") == NULL); /* three backends */
	CHECK(get(e, "source.ip") == NULL);   /* two clients */
	CHECK_EQ_STR(gstr(e, "event.start"), "2026-11-23T06:40:00.000000Z");
	CHECK_EQ_STR(gstr(e, "event.end"), "2026-11-23T07:00:00.000000Z");
	CHECK_EQ_INT(json_array_size(get(e, "vigie.top_flows")), 1); /* coarse: the largest */
	CHECK_EQ_INT(gint(json_array_get(get(e, "vigie.top_flows"), 0), "pid"), 103);
	CHECK_EQ_INT(gint(json_array_get(get(e, "vigie.top_flows"), 0), "records"), 30);

	e = find(&r, "vigie.db_user", "portal", "coarse");
	CHECK(e != NULL);
	CHECK_EQ_STR(gstr(e, "vigie.summary.by"), "db_user");
	CHECK_EQ_INT(gint(e, "vigie.rows"), 12);
	CHECK_EQ_INT(json_array_size(get(e, "vigie.app_users")), 2);
	CHECK_EQ_STR(gstr(json_array_get(get(e, "vigie.app_users"), 0), "user"), "adv2");
	CHECK_EQ_INT(gint(json_array_get(get(e, "vigie.app_users"), 0), "records"), 7);

	e = find(&r, "vigie.app_user", "adv1", "coarse");
	CHECK(e != NULL);
	CHECK_EQ_STR(gstr(e, "vigie.summary.by"), "app_user");
	CHECK_EQ_STR(gstr(e, "vigie.db_user"), "portal");
	CHECK_EQ_STR(gstr(e, "vigie.app_name"), "portail");
	CHECK_EQ_INT(gint(e, "vigie.rows"), 5);
	CHECK_EQ_INT(gint(e, "vigie.bytes"), 500);
	e = find(&r, "vigie.app_user", "adv2", "coarse");
	CHECK(e != NULL);
	CHECK_EQ_INT(gint(e, "vigie.rows"), 7);

	/* nothing counted twice: by database account, records add up */
	{
		long long rows = 0;

		for (size_t i = 0; i < r.n; i++) {
			const char *by = gstr(r.ev[i], "vigie.summary.by");

			if (by && !strcmp(by, "db_user"))
				rows += gint(r.ev[i], "vigie.rows");
		}
		CHECK_EQ_INT(rows, 10 + 20 + 30 + 1 + 5000 + 12);
	}
	run_free(&r);
	usage_free(u);
	identity_put(a1);
	identity_put(a2);
	identity_put(a3);
	identity_put(bob);
	identity_put(tls);
	identity_put(portal);
	identity_put(curl);
	config_free(&cfg);
}

/* The floors and the period are settings; at stop the coarse summaries are
 * written whatever the clock; per-flow events stay available. */
static void test_settings_and_stop(void)
{
	struct vigie_config cfg;
	struct identity *a;
	struct usage *u;
	struct run r;
	char err[256];

	config_init(&cfg);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"usage_coarse_below\": {\"records\": 0, "
					     "\"bytes\": 0}}}", err, sizeof(err)), 0);
	a = ident(101, 106, "postgres", "/usr/lib/postgresql/15/bin/postgres", "alice", "10.0.0.5", 50001);
	u = usage_new(&cfg, NULL, 0);
	run_open(&r);
	add_flow(u, a, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50001, 5432, 10);
	usage_add_rows(u, a, 1, 0, 0, 0);
	CHECK_EQ_INT(usage_flush(u, T0, T0 + MIN, r.out), 1); /* floors 0: every principal now */
	run_load(&r);
	CHECK_EQ_STR(gstr(r.ev[0], "vigie.summary.period"), "interval");
	run_free(&r);
	usage_free(u);
	config_free(&cfg);

	config_init(&cfg);
	u = usage_new(&cfg, NULL, 0);
	run_open(&r);
	add_flow(u, a, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50001, 5432, 10);
	usage_add_rows(u, a, 1, 0, 0, 0);
	CHECK_EQ_INT(usage_flush(u, T0, T0 + MIN, r.out), 0);
	CHECK_EQ_INT(usage_finish(u, T0 + MIN, T0 + 2 * MIN, r.out), 1); /* stop */
	run_load(&r);
	CHECK_EQ_STR(gstr(r.ev[0], "vigie.summary.period"), "coarse");
	CHECK_EQ_INT(gint(r.ev[0], "vigie.rows"), 1);
	run_free(&r);
	usage_free(u);
	config_free(&cfg);

	config_init(&cfg);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"usage_detail\": \"flow\"}}", err,
					sizeof(err)), 0);
	u = usage_new(&cfg, NULL, 0);
	run_open(&r);
	add_flow(u, a, VIGIE_CLASS_DB_SERVER, "10.0.0.5", 50001, 5432, 10);
	usage_add_rows(u, a, 1, 0, 0, 0);
	CHECK_EQ_INT(usage_flush(u, T0, T0 + MIN, r.out), 1);
	run_load(&r);
	CHECK(get(r.ev[0], "vigie.summary") == NULL);
	CHECK_EQ_INT(gint(r.ev[0], "process.pid"), 101);
	run_free(&r);
	usage_free(u);
	config_free(&cfg);

	/* bad settings name the field */
	config_init(&cfg);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"usage_detail\": \"all\"}}", err,
					sizeof(err)), -1);
	CHECK(strstr(err, "sensor.usage_detail") != NULL);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"usage_coarse_below\": {\"rows\": 1}}}",
					err, sizeof(err)), -1);
	CHECK(strstr(err, "sensor.usage_coarse_below.rows") != NULL);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"usage_top_flows\": 11}}", err,
					sizeof(err)), -1);
	CHECK(strstr(err, "sensor.usage_top_flows") != NULL);
	config_free(&cfg);
	identity_put(a);
}

/* db_file summaries say whether their reader is the database server: an
 * executable of a server's name that only root could have installed. */
static void test_db_file_reader(void)
{
	static char *dirs[1] = { "/var/lib/postgresql" };
	struct vigie_config cfg;
	struct identity *srv, *fake;
	struct usage *u;
	struct run r;
	json_t *e;

	char err[256];

	config_init(&cfg);
	/* /usr/bin/sh: root's on every Debian; its copy in /tmp: anyone's */
	CHECK_EQ_INT(config_load_string(&cfg, "{\"databases\": {\"server_executables\": [\"sh\"]}}",
					err, sizeof(err)), 0);
	srv = ident(301, 106, "sh", "/usr/bin/sh", NULL, NULL, 0);
	fake = ident(302, 1000, "sh", "/tmp/x/bin/sh", NULL, NULL, 0);
	srv->exited = fake->exited = true; /* judged as the host sees the paths */
	u = usage_new(&cfg, dirs, 1);
	run_open(&r);
	add_flow(u, srv, VIGIE_CLASS_DB_FILE, NULL, 0, 0, 5000000);
	add_flow(u, fake, VIGIE_CLASS_DB_FILE, NULL, 0, 0, 6000000);
	CHECK_EQ_INT(usage_flush(u, T0, T0 + MIN, r.out), 2);
	run_load(&r);
	e = find(&r, "process.executable", "/usr/bin/sh", "interval");
	CHECK(e && json_is_true(get(e, "vigie.reader_is_db_server")));
	CHECK_EQ_STR(gstr(e, "file.directory"), "/var/lib/postgresql");
	e = find(&r, "process.executable", "/tmp/x/bin/sh", "interval");
	CHECK(e && json_is_false(get(e, "vigie.reader_is_db_server")));
	check_ecs(&r);
	run_free(&r);
	usage_free(u);
	identity_put(srv);
	identity_put(fake);
	config_free(&cfg);
}

int main(void)
{
	test_db_file_reader();
	test_interval_and_coarse();
	test_settings_and_stop();
	return check_summary();
}
