// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/pgbackend.c: title parsing, /proc/PID/stat parsing,
 * server executable recognition, and a scan of a fake /proc tree. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "postgres/pgbackend.h"

/* Parse from an exactly sized heap copy (no terminating NUL) so that ASan
 * catches any read past the end. */
static int parse(const char *s, size_t len, struct pgb_title *t)
{
	char *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		abort();
	memcpy(copy, s, len);
	r = pgb_parse_title(copy, len, t);
	free(copy);
	return r;
}

static int parse_str(const char *s, struct pgb_title *t)
{
	return parse(s, strlen(s), t);
}

static void test_titles(void)
{
	struct pgb_title t;
	uint8_t v4[4] = { 127, 0, 0, 1 };

	CHECK_MSG(parse_str("postgres: alice vigie 127.0.0.1(46486) idle", &t) == 0, "ipv4");
	CHECK_EQ_STR(t.db_user, "alice");
	CHECK_EQ_STR(t.db_name, "vigie");
	CHECK_EQ_STR(t.client, "127.0.0.1");
	CHECK_MSG(t.family == AF_INET && t.client_port == 46486 && !t.local, "ipv4 fields");
	CHECK_MSG(memcmp(t.client_addr, v4, 4) == 0, "ipv4 bytes");
	CHECK_EQ_STR(t.state, "idle");
	CHECK_EQ_STR(t.cluster, "");
	CHECK_MSG(!t.walsender && !t.ambiguous, "ipv4 flags");

	/* as read from /proc/PID/cmdline: NUL padding, then garbage */
	static const char padded[] = "postgres: bob db1 10.1.2.3(5432) SELECT   \0\0\0\0xx\0yy";
	CHECK_MSG(parse(padded, sizeof(padded) - 1, &t) == 0, "nul padded");
	CHECK_EQ_STR(t.db_user, "bob");
	CHECK_EQ_STR(t.state, "SELECT");
	CHECK_MSG(parse_str("postgres: bob db1 10.1.2.3(5432) idle                     ", &t) == 0,
	      "space padded");
	CHECK_EQ_STR(t.state, "idle");

	CHECK_MSG(parse_str("postgres: alice vigie ::1(5000) idle in transaction", &t) == 0, "ipv6");
	CHECK_MSG(t.family == AF_INET6 && t.client_port == 5000, "ipv6 fields");
	CHECK_MSG(t.client_addr[15] == 1 && t.client_addr[0] == 0, "ipv6 bytes");
	CHECK_EQ_STR(t.state, "idle in transaction");
	CHECK_MSG(parse_str("postgres: a b 2001:db8::7(65535) idle", &t) == 0 && t.client_port == 65535,
	      "ipv6 max port");
	CHECK_MSG(parse_str("postgres: a b fe80::1%eth0(6000) idle", &t) == 0 &&
		      t.family == AF_INET6 && strcmp(t.client, "fe80::1%eth0") == 0,
	      "ipv6 zone");
	CHECK_MSG(parse_str("postgres: a b ::ffff:10.0.0.1(6000) idle", &t) == 0 &&
		      t.family == AF_INET6,
	      "ipv4-mapped");

	CHECK_MSG(parse_str("postgres: carol advisors [local] COPY", &t) == 0, "local");
	CHECK_MSG(t.local && t.family == AF_UNIX && t.client_port == 0, "local fields");
	CHECK_EQ_STR(t.client, "[local]");
	CHECK_EQ_STR(t.db_name, "advisors");
	CHECK_EQ_STR(t.state, "COPY");

	CHECK_MSG(parse_str("postgres: 15/main: alice vigie 10.0.0.7(1234) SELECT", &t) == 0,
	      "cluster name");
	CHECK_EQ_STR(t.cluster, "15/main");
	CHECK_EQ_STR(t.db_user, "alice");
	CHECK_EQ_STR(t.db_name, "vigie");

	CHECK_MSG(parse_str("postgres: walsender repl 10.0.0.2(5000) streaming 0/3000148", &t) == 0,
	      "physical walsender");
	CHECK_MSG(t.walsender, "walsender flag");
	CHECK_EQ_STR(t.db_user, "repl");
	CHECK_EQ_STR(t.db_name, "");
	CHECK_EQ_STR(t.state, "streaming 0/3000148");
	CHECK_MSG(parse_str("postgres: 15/main: walsender repl app 10.0.0.2(5000) idle", &t) == 0 &&
		      t.walsender && strcmp(t.db_name, "app") == 0,
	      "logical walsender");

	CHECK_MSG(parse_str("postgres: alice vigie 127.0.0.1(5)", &t) == 0, "no state");
	CHECK_EQ_STR(t.state, "");
	CHECK_MSG(parse_str("postgres: alice vigie client-7.example.org(5555) idle", &t) == 0,
	      "host name");
	CHECK_MSG(t.family == 0 && t.client_port == 5555, "host name fields");
	CHECK_EQ_STR(t.client, "client-7.example.org");

	/* names: spaces, address-looking, ':' at the end, raw bytes */
	CHECK_MSG(parse_str("postgres: John Smith vigie 127.0.0.1(5432) idle", &t) == 0, "spaces");
	CHECK_EQ_STR(t.db_user, "John Smith");
	CHECK_EQ_STR(t.db_name, "vigie");
	CHECK_MSG(t.ambiguous, "spaces: ambiguous");
	CHECK_MSG(parse_str("postgres: 1.2.3.4(5) vigie 10.0.0.1(6000) idle", &t) == 0, "addr user");
	CHECK_EQ_STR(t.db_user, "1.2.3.4(5)");
	CHECK_EQ_STR(t.client, "10.0.0.1");
	CHECK_MSG(parse_str("postgres: a: b [local] idle", &t) == 0, "user ending in ':'");
	CHECK_EQ_STR(t.cluster, "");
	CHECK_EQ_STR(t.db_user, "a:");
	CHECK_MSG(parse_str("postgres: \xff\xfe\x80 vigie 127.0.0.1(5432) idle", &t) == 0,
	      "invalid utf-8 kept raw");
	CHECK_MSG(memcmp(t.db_user, "\xff\xfe\x80", 4) == 0, "raw bytes");
	CHECK_MSG(parse_str("postgres: a b 1.2.3.4(5) idle in transaction (aborted)", &t) == 0 &&
		      strcmp(t.client, "1.2.3.4") == 0,
	      "aborted state");
	CHECK_EQ_STR(t.state, "idle in transaction (aborted)");
	CHECK_MSG(parse_str("postgres:   a    b    1.2.3.4(5)    idle", &t) == 0 &&
		      strcmp(t.db_name, "b") == 0,
	      "runs of spaces");

	/* not client backends */
	static const char *const bad[] = {
		"",
		"postgres:",
		"postgres: ",
		"postgres: checkpointer",
		"postgres: background writer",
		"postgres: autovacuum launcher",
		"postgres: autovacuum worker vigie",
		"postgres: 15/main: logical replication launcher",
		"postgres: parallel worker for PID 4242",
		"postgres: logical replication worker for subscription 16399",
		"postgres: alice",
		"postgres: alice vig",
		"postgres: alice vigie 127.0.0.1(54",
		"postgres: alice vigie 127.0.0.1()",
		"postgres: alice vigie 127.0.0.1(0) idle",
		"postgres: alice vigie 127.0.0.1(65536) idle",
		"postgres: alice vigie 127.0.0.1(99999999999) idle",
		"postgres: alice vigie 127.0.0.1(12a) idle",
		"postgres: alice vigie (5432) idle",
		"postgres: vigie 127.0.0.1(5432) idle",   /* user only, not walsender */
		"postgres: 127.0.0.1(5432) idle",
		"postgres: a b bad!host(5432) idle",
		"postgres: a b 1.2.3.4(5)(6) idle",
		"postgres:alice vigie 127.0.0.1(5432) idle",
		"Postgres: alice vigie 127.0.0.1(5432) idle",
		"postgresql: alice vigie 127.0.0.1(5432) idle",
		"python3 fake.py postgres: alice vigie 127.0.0.1(5432) idle",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse_str(bad[i], &t) == -EINVAL, "rejects \"%s\"", bad[i]);
	/* the postmaster's own command line */
	static const char pm[] = "/usr/lib/postgresql/15/bin/postgres\0-D\0/var/lib/x\0";
	CHECK_MSG(parse(pm, sizeof(pm) - 1, &t) == -EINVAL, "postmaster cmdline");
	/* NUL before the client: truncated at the NUL */
	static const char cut[] = "postgres: a b\0 127.0.0.1(5432) idle";
	CHECK_MSG(parse(cut, sizeof(cut) - 1, &t) == -EINVAL, "nul inside");
	CHECK_MSG(pgb_parse_title(NULL, 10, &t) == -EINVAL, "NULL buffer");
	CHECK_MSG(pgb_parse_title("x", 1, NULL) == -EINVAL, "NULL title");
	CHECK_MSG(parse("", 0, &t) == -EINVAL, "empty");

	/* huge inputs */
	size_t big = 1 << 20;
	char *h = malloc(big);

	if (!h)
		abort();
	memcpy(h, "postgres: ", 10);
	memset(h + 10, 'a', big - 10);
	CHECK_MSG(parse(h, big, &t) == -EINVAL, "1 MB single token");
	for (size_t i = 10; i + 1 < big; i += 2)
		h[i + 1] = ' ';
	CHECK_MSG(parse(h, big, &t) == -EINVAL, "500k tokens");
	memset(h + 10, 'u', 200);
	strcpy(h + 210, " db 127.0.0.1(5432) idle");
	CHECK_MSG(parse_str(h, &t) == -EINVAL, "200-byte user name");
	memset(h + 10, 'u', 63);
	strcpy(h + 73, " db 127.0.0.1(5432) idle");
	CHECK_MSG(parse_str(h, &t) == 0 && strlen(t.db_user) == 63, "63-byte user name");
	memset(h + 10, 'u', 64);
	strcpy(h + 74, " db 127.0.0.1(5432) idle");
	CHECK_MSG(parse_str(h, &t) == -EINVAL, "64-byte user name");
	/* a long state is cut, not refused */
	strcpy(h, "postgres: a b 1.2.3.4(5) ");
	memset(h + 25, 's', 1000);
	h[1025] = '\0';
	CHECK_MSG(parse_str(h, &t) == 0 && strlen(t.state) == PGB_STATE_MAX - 1, "long state cut");
	/* every prefix of a valid title: never crashes, valid or EINVAL */
	const char *full = "postgres: 15/main: alice vigie 2001:db8::7(5432) idle in transaction";
	int ok = 0;

	for (size_t n = 0; n <= strlen(full); n++) {
		int r = parse(full, n, &t);

		ok += (r == 0 || r == -EINVAL);
	}
	CHECK_MSG(ok == (int)strlen(full) + 1, "prefixes");
	/* random bytes after the prefix: must not crash (ASan/UBSan) */
	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = 10 + (size_t)(rand() % 80);

		memcpy(h, "postgres: ", 10);
		for (size_t k = 10; k < n; k++) {
			static const char alpha[] = " ()[]:.%0123456789abf\xff\x80\n";

			h[k] = alpha[rand() % (int)(sizeof(alpha) - 1)];
		}
		int r = parse(h, n, &t);

		if (r != 0 && r != -EINVAL) {
			CHECK_MSG(0, "random title: %d", r);
			break;
		}
	}
	check_passed++;
	free(h);
}

static void test_client(void)
{
	struct pgb_title t;

	memset(&t, 0, sizeof(t));
	CHECK_MSG(pgb_parse_client("10.0.0.1", 8, &t) == 0 && t.client_port == 0, "addr without port");
	CHECK_MSG(pgb_parse_client("[local]", 7, &t) == 0 && t.local, "local");
	CHECK_MSG(pgb_parse_client("[local](5)", 10, &t) == -EINVAL, "local with port");
	CHECK_MSG(pgb_parse_client("", 0, &t) == -EINVAL, "empty");
	CHECK_MSG(pgb_parse_client(NULL, 3, &t) == -EINVAL, "NULL");
	CHECK_MSG(pgb_parse_client(")", 1, &t) == -EINVAL, "lone paren");
	CHECK_MSG(pgb_parse_client("(1)", 3, &t) == -EINVAL, "no addr");
}

static void test_stat(void)
{
	uint32_t pp = 0;
	const char *s1 = "4242 (postgres) S 100 4242 4242 0 -1 4194560 ...";
	const char *s2 = "4242 (a) S 7 (b) S 45 6 7";
	const char *s3 = "4242 (x y) R 1 2";

	CHECK_MSG(pgb_parse_stat_ppid(s1, strlen(s1), &pp) == 0 && pp == 100, "stat ppid");
	CHECK_MSG(pgb_parse_stat_ppid(s2, strlen(s2), &pp) == 0 && pp == 45, "comm with ')'");
	CHECK_MSG(pgb_parse_stat_ppid(s3, strlen(s3), &pp) == 0 && pp == 1, "comm with space");
	CHECK_MSG(pgb_parse_stat_ppid("4242 (x) S", 10, &pp) == -EINVAL, "truncated");
	CHECK_MSG(pgb_parse_stat_ppid("4242 (x) S ", 11, &pp) == -EINVAL, "truncated 2");
	CHECK_MSG(pgb_parse_stat_ppid("4242 x S 1 2", 12, &pp) == -EINVAL, "no parens");
	CHECK_MSG(pgb_parse_stat_ppid("1 (x) S 99999999999 1", 21, &pp) == -EINVAL, "overflow");
	CHECK_MSG(pgb_parse_stat_ppid("1 (x) S 12z 1", 13, &pp) == -EINVAL, "junk");
	CHECK_MSG(pgb_parse_stat_ppid("", 0, &pp) == -EINVAL, "empty");
	CHECK_MSG(pgb_parse_stat_ppid(NULL, 5, &pp) == -EINVAL, "NULL");
}

static void test_exe(void)
{
	const char *conf[] = { "/opt/pg/postgres.real" };

	CHECK_MSG(pgb_is_server_exe("/usr/lib/postgresql/15/bin/postgres"), "debian");
	CHECK_MSG(pgb_is_server_exe("/usr/lib/postgresql/15/bin/postgres (deleted)"), "deleted");
	CHECK_MSG(pgb_is_server_exe("/usr/pgsql-16/bin/postgres"), "rhel");
	CHECK_MSG(pgb_is_server_exe("/bin/postgres"), "/bin");
	CHECK_MSG(!pgb_is_server_exe("/tmp/postgres"), "not in bin");
	CHECK_MSG(!pgb_is_server_exe("/usr/lib/postgresql/15/sbin/postgres"), "sbin");
	CHECK_MSG(!pgb_is_server_exe("/opt/xbin/postgres"), "xbin");
	CHECK_MSG(!pgb_is_server_exe("/usr/lib/postgresql/15/bin/postgres-fake"), "suffix");
	CHECK_MSG(!pgb_is_server_exe("/usr/lib/postgresql/15/bin/xpostgres"), "prefix");
	CHECK_MSG(!pgb_is_server_exe("/usr/bin/python3"), "python");
	CHECK_MSG(!pgb_is_server_exe("bin/postgres"), "relative");
	CHECK_MSG(!pgb_is_server_exe("postgres"), "bare");
	CHECK_MSG(!pgb_is_server_exe(""), "empty");
	CHECK_MSG(!pgb_is_server_exe(NULL), "NULL");
	CHECK_MSG(!pgb_is_server_exe("/opt/pg/postgres.real"), "not configured yet");
	CHECK_MSG(pgb_set_server_exes(conf, 1) == 0, "configure");
	CHECK_MSG(pgb_is_server_exe("/opt/pg/postgres.real"), "configured");
	CHECK_MSG(pgb_is_server_exe("/opt/pg/postgres.real (deleted)"), "configured, deleted");
	CHECK_MSG(!pgb_is_server_exe("/opt/pg/postgres.real2"), "configured prefix only");
	CHECK_MSG(pgb_set_server_exes(NULL, 0) == 0, "unconfigure");
	CHECK_MSG(!pgb_is_server_exe("/opt/pg/postgres.real"), "unconfigured");
	CHECK_MSG(pgb_set_server_exes(conf, PGB_MAX_SERVER_EXES + 1) == -E2BIG, "too many");
}

/* ---- a fake /proc ---- */

static char root[PATH_MAX];

static void fake_proc(uint32_t pid, uint32_t ppid, const char *exe, const char *cmdline,
		      size_t cmdlen)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	if (symlink(exe, path))
		perror("symlink");
	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%u (postgres) S %u %u 0 0 -1\n", pid, ppid, pid);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
	f = fopen(path, "w");
	if (f) {
		fwrite(cmdline, 1, cmdlen, f);
		fclose(f);
	}
}

static bool has_pid(const uint32_t *v, size_t n, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static void test_scan(void)
{
	static const char pgbin[] = "/usr/lib/postgresql/15/bin/postgres";
	static const char title[] = "postgres: alice vigie 192.0.2.9(40000) idle\0\0\0";
	static const char fake[] = "postgres: mallory vigie 192.0.2.66(40000) idle";
	static const char pmcmd[] = "/usr/lib/postgresql/15/bin/postgres\0-D\0/x\0";
	struct pgb_scan s;
	struct pgb_title t;
	uint32_t pm = 0, back[8];
	char cmd[PATH_MAX + 16];
	size_t nb = 0;

	snprintf(root, sizeof(root), "/tmp/vigie-test-proc.XXXXXX");
	if (!mkdtemp(root)) {
		CHECK_MSG(0, "mkdtemp");
		return;
	}
	fake_proc(1, 0, "/usr/lib/systemd/systemd", "init", 4);
	fake_proc(100, 1, pgbin, pmcmd, sizeof(pmcmd) - 1);           /* postmaster */
	fake_proc(101, 100, pgbin, title, sizeof(title) - 1);        /* backend */
	fake_proc(102, 101, pgbin, title, sizeof(title) - 1);        /* grandchild */
	fake_proc(103, 100, "/usr/lib/postgresql/15/bin/postgres (deleted)", title,
		  sizeof(title) - 1);                                 /* backend, upgraded */
	fake_proc(200, 100, "/usr/bin/python3", fake, sizeof(fake) - 1); /* fake title */
	fake_proc(201, 1, "/usr/bin/python3", fake, sizeof(fake) - 1);
	fake_proc(300, 100, "/opt/other/bin/postgres", pmcmd, sizeof(pmcmd) - 1);
	fake_proc(301, 300, "/opt/other/bin/postgres", title, sizeof(title) - 1);
	snprintf(cmd, sizeof(cmd), "%s/self", root);
	mkdir(cmd, 0755);
	snprintf(cmd, sizeof(cmd), "%s/12abc", root);
	mkdir(cmd, 0755);

	CHECK_MSG(pgb_classify(root, 100, &pm) == PGB_POSTMASTER, "classify postmaster");
	CHECK_MSG(pgb_classify(root, 101, &pm) == PGB_BACKEND && pm == 100, "classify backend");
	CHECK_MSG(pgb_classify(root, 102, NULL) == PGB_OTHER, "classify grandchild");
	CHECK_MSG(pgb_classify(root, 103, NULL) == PGB_BACKEND, "classify deleted exe");
	CHECK_MSG(pgb_classify(root, 200, NULL) == PGB_OTHER, "classify fake title");
	CHECK_MSG(pgb_classify(root, 300, NULL) == PGB_POSTMASTER, "other binary: own postmaster");
	CHECK_MSG(pgb_classify(root, 301, &pm) == PGB_BACKEND && pm == 300, "its backend");
	CHECK_MSG(pgb_classify(root, 999, NULL) == -ENOENT, "gone");

	CHECK_MSG(pgb_read_title(root, 101, &t) == 0, "read title");
	CHECK_EQ_STR(t.db_user, "alice");
	CHECK_MSG(t.client_port == 40000, "title port");
	CHECK_MSG(pgb_read_title(root, 100, &t) == -EINVAL, "postmaster has no title");
	CHECK_MSG(pgb_read_title(root, 999, &t) == -ENOENT, "title of gone pid");

	CHECK_MSG(pgb_scan(root, &s) == 0, "scan");
	CHECK_MSG(s.n_postmasters == 2 && has_pid(s.postmasters, s.n_postmasters, 100) &&
		      has_pid(s.postmasters, s.n_postmasters, 300),
	      "scan postmasters (%zu)", s.n_postmasters);
	for (size_t i = 0; i < s.n_backends && nb < 8; i++)
		back[nb++] = s.backends[i].pid;
	CHECK_MSG(nb == 3 && has_pid(back, nb, 101) && has_pid(back, nb, 103) &&
		      has_pid(back, nb, 301),
	      "scan backends (%zu)", nb);
	CHECK_MSG(!has_pid(back, nb, 102) && !has_pid(back, nb, 200), "scan rejects grandchild, fake");
	pgb_scan_free(&s);
	pgb_scan_free(&s); /* twice is fine */
	CHECK_MSG(pgb_scan("/nonexistent-proc", &s) == -ENOENT, "scan missing root");
	pgb_scan_free(&s);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", root);
}

static void test_live_self(void)
{
	struct pgb_title t;

	/* this test is not PostgreSQL */
	CHECK_MSG(pgb_classify(NULL, (uint32_t)getpid(), NULL) == PGB_OTHER, "self is other");
	CHECK_MSG(pgb_read_title(NULL, (uint32_t)getpid(), &t) == -EINVAL, "self title");
}

int main(void)
{
	test_titles();
	test_client();
	test_stat();
	test_exe();
	test_scan();
	test_live_self();
	return check_summary();
}
