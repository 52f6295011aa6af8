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
 * This file: the roles, dry-run and main; the enforce phase (the database
 * account, the pool and egress) is tests/live/contain/enforce.c, with its
 * helpers beside it (contain_test.h says which file holds what).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/live.h"
#include "contain/contain_test.h"

/* The throw-away cluster's own psql (main sets it). */
const char *psql_bin;

static void setup_roles(void)
{
	static const char *const roles[] = { "thief", "honest_a", "honest_b", "honest_c", "batch",
					     "dry_thief", "portal" };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		CHECK(live_sh("'%s' -X -q -c 'CREATE ROLE %s LOGIN'", psql_bin, roles[i]) == 0,
		      "role %s", roles[i]);
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
	transfer = mmap(NULL, sizeof(*transfer), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	if (transfer == MAP_FAILED || netns_create(&peer_ns, "cnt", 71) ||
	    pgcluster_start() || !(psql_bin = pgcluster_psql())) {
		CHECK(false, "namespace and throw-away cluster");
		return live_finish();
	}
	client_script = strdup(live_source_path("tests/live/contain_client.py"));
	setup_roles();
	enforce();
	dry_run();
	return live_finish();
}
