// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: identities of short-lived processes (exec'd or only forked,
 * root or nobody), and hostile names and command lines (quotes, newlines,
 * backslashes, control characters, invalid UTF-8) that must still give one
 * valid JSON object per line, invalid bytes shown as U+FFFD.
 * Failing on purpose until fixed: in a burst of short-lived forked
 * senders, a few lose process.name (race with the reaping, identity.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/live.h"

static struct netns ns;
static struct spawn_opts in_ns;
static char tg_real[PATH_MAX];
static char *hostile_exe;

#define HOSTILE_FILE "q\"n\nb\\\xff"            /* name of a copy of trafficgen */
#define HOSTILE_FILE_JSON "q\"n\nb\\\xef\xbf\xbd" /* as it must come out */
#define FORK_NAME "f\"o\no\\\xc3\x28"           /* prctl name, invalid UTF-8 */
#define FORK_NAME_JSON "f\"o\no\\\xef\xbf\xbd("

/* A child that does not exec: connect, send, close, maybe linger, exit. */
#define KEEP_UID ((uid_t)-1)
#define BURST 400
#define NO_NAME_UID 4242 /* no passwd entry */

static pid_t fork_send(int port, size_t bytes, uid_t uid, const char *name, int linger_ms,
		       int *status)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		char buf[4096];
		int fd;

		memset(buf, 'x', sizeof(buf));
		inet_pton(AF_INET, ns.ns_ip, &sa.sin_addr);
		if (uid != KEEP_UID && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(3);
		if (name)
			prctl(PR_SET_NAME, name, 0, 0, 0);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(4);
		while (bytes) {
			size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);
			ssize_t w = write(fd, buf, n);

			if (w <= 0)
				_exit(5);
			bytes -= (size_t)w;
		}
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		if (linger_ms)
			usleep((useconds_t)linger_ms * 1000);
		_exit(0);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return pid;
}

static void check_ident(const struct events *ev, const char *what, pid_t pid, uint64_t bytes,
			const char *name, const char *exe, const char *cmdline, const char *uid,
			const char *user)
{
	json_t *e = usage_first(ev, pid, "egress");
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: egress of pid %d", what, pid);
	ASSERT_EQ_U64(usage_bytes(ev, pid, "egress", NULL), bytes, msg);
	if (!e)
		return;
	if (name) {
		snprintf(msg, sizeof(msg), "%s: process.name", what);
		ASSERT_EQ_STR(jstr(e, "process.name"), name, msg);
	}
	if (exe) {
		snprintf(msg, sizeof(msg), "%s: process.executable", what);
		ASSERT_EQ_STR(jstr(e, "process.executable"), exe, msg);
	}
	if (cmdline) {
		snprintf(msg, sizeof(msg), "%s: process.command_line", what);
		ASSERT_EQ_STR(jstr(e, "process.command_line"), cmdline, msg);
	}
	snprintf(msg, sizeof(msg), "%s: user.id", what);
	ASSERT_EQ_STR(jstr(e, "user.id"), uid, msg);
	snprintf(msg, sizeof(msg), "%s: user.name", what);
	if (user)
		ASSERT_EQ_STR(jstr(e, "user.name"), user, msg);
	else
		CHECK(!jpath(e, "user.name"), "%s: absent (got \"%s\")", msg,
		      live_printable(0, jstr(e, "user.name")));
}

static void run_mode(const char *mode)
{
	struct spawn_opts nobody = { .set_user = true, .uid = 65534, .gid = 65534 };
	struct spawn_opts hostile = { .exe = NULL };
	struct child sink;
	pid_t p_exec = 0, p_exec_nobody = 0, p_fork, p_fork_nobody, p_fork_named, p_hostile = 0, p_fork_noname;
	pid_t burst[BURST];
	long long got;
	char port[16], want_cmd[PATH_MAX + 128], want_hostile_cmd[2048], msg[512];
	int sport, st;
	struct vigie v;
	struct events ev;

	live_section("identity, --probes %s", mode);
	if (vigie_start(&v, NULL, "--probes", mode, "--tick", "0.2", NULL)) {
		CHECK(0, "vigie started");
		return;
	}
	sport = tg_server(&sink, &in_ns, "sink", "0", "0.0.0.0", "7", NULL);
	snprintf(port, sizeof(port), "%d", sport);

	/* exec'd, sends and exits at once (well within a 0.2 s tick) */
	st = tg_run(&p_exec, &got, NULL, "send", ns.ns_ip, port, "10001", NULL);
	ASSERT_EQ_INT(st, 0, "short-lived exec'd sender (root)");
	snprintf(want_cmd, sizeof(want_cmd), "%s send %s %s 10001", live_trafficgen_bin(), ns.ns_ip,
		 port);
	st = tg_run(&p_exec_nobody, &got, &nobody, "send", ns.ns_ip, port, "10002", NULL);
	ASSERT_EQ_INT(st, 0, "short-lived exec'd sender (nobody)");
	/* forked only, no exec; the nobody one stays past a tick: the burst
	 * below covers the short-lived case */
	p_fork = fork_send(sport, 10003, KEEP_UID, NULL, 0, &st);
	ASSERT_EQ_INT(st, 0, "short-lived forked sender (root)");
	p_fork_nobody = fork_send(sport, 10004, 65534, NULL, 500, &st);
	ASSERT_EQ_INT(st, 0, "short-lived forked sender (nobody)");
	/* forked, hostile prctl name, alive across a tick */
	p_fork_named = fork_send(sport, 10005, KEEP_UID, FORK_NAME, 500, &st);
	ASSERT_EQ_INT(st, 0, "forked sender with a hostile name");
	/* a uid that has no name */
	p_fork_noname = fork_send(sport, 10007, NO_NAME_UID, NULL, 500, &st);
	ASSERT_EQ_INT(st, 0, "forked sender with uid 4242 (no passwd entry)");
	/* exec of a file with a hostile name, hostile argv */
	{
		char *argv[] = { "tg\"\n\\\xff\xfe", "send", ns.ns_ip, port, "10006", "--",
				 "quo\"te", "back\\slash", "new\nline", "tab\tcr\r",
				 "bad\xff\xfe utf8", "trunc\xc3", "ok-\xc3\xa9t\xc3\xa9",
				 "ctl\x01\x1f", NULL };
		struct child c;

		hostile.exe = hostile_exe;
		hostile.capture = true;
		if (child_spawn(&c, &hostile, argv) == 0) {
			p_hostile = c.pid;
			ASSERT_EQ_INT(child_wait(&c, 20000), 0, "hostile command line sender");
		}
		snprintf(want_hostile_cmd, sizeof(want_hostile_cmd),
			 "tg\"\n\\\xef\xbf\xbd\xef\xbf\xbd send %s %s 10006 -- quo\"te back\\slash "
			 "new\nline tab\tcr\r bad\xef\xbf\xbd\xef\xbf\xbd utf8 trunc\xef\xbf\xbd "
			 "ok-\xc3\xa9t\xc3\xa9 ctl\x01\x1f", ns.ns_ip, port);
	}
	child_read_value(&sink, "received", 10000);
	child_wait(&sink, 5000);
	/* a burst of forked senders that exit at once, reaped at once */
	{
		char n[16];

		snprintf(n, sizeof(n), "%d", BURST);
		sport = tg_server(&sink, &in_ns, "sink", "0", "0.0.0.0", n, NULL);
		for (int i = 0; i < BURST; i++) {
			burst[i] = fork_send(sport, 1000 + (size_t)i, KEEP_UID, NULL, 0, &st);
			if (st) {
				live_log("burst: sender %d (pid %d) failed: exit %d", i, burst[i], st);
				burst[i] = 0;
			}
		}
		child_read_value(&sink, "received", 10000);
		child_wait(&sink, 5000);
	}
	usleep(300000); /* a tick passes with everyone gone */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");

	if (events_load(&ev, v.out_path))
		return;
	snprintf(msg, sizeof(msg), "[%s] every output line is a JSON object (%zu lines%s%s)", mode,
		 ev.lines, ev.bad_lines ? "; first bad: " : "", ev.first_bad);
	ASSERT_TRUE(ev.bad_lines == 0 && ev.lines > 2, msg);

	snprintf(msg, sizeof(msg), "[%s] exec'd short-lived, root", mode);
	check_ident(&ev, msg, p_exec, 10001, "trafficgen", tg_real, want_cmd, "0", "root");
	snprintf(msg, sizeof(msg), "[%s] exec'd short-lived, nobody", mode);
	check_ident(&ev, msg, p_exec_nobody, 10002, "trafficgen", tg_real, NULL, "65534", "nobody");
	snprintf(msg, sizeof(msg), "[%s] forked short-lived, root", mode);
	check_ident(&ev, msg, p_fork, 10003, "live_identity", NULL, NULL, "0", "root");
	snprintf(msg, sizeof(msg), "[%s] forked short-lived, nobody", mode);
	check_ident(&ev, msg, p_fork_nobody, 10004, "live_identity", NULL, NULL, "65534",
		    "nobody");
	{
		int exact = 0, named = 0, exe = 0;
		bool logged = false;

		for (int i = 0; i < BURST; i++) {
			json_t *e = usage_first(&ev, burst[i], NULL);
			const char *name = e ? jstr(e, "process.name") : NULL;

			/* all classes: a sender whose ephemeral port is 50000 lands in
			 * db_server (see test_egress); not this test's subject */
			if (burst[i] && usage_bytes(&ev, burst[i], NULL, NULL) == 1000 + (uint64_t)i)
				exact++;
			else
				live_log("burst: pid %d sent %d bytes, egress %llu (all classes %llu)",
					 burst[i], 1000 + i,
					 (unsigned long long)usage_bytes(&ev, burst[i], "egress", NULL),
					 (unsigned long long)usage_bytes(&ev, burst[i], NULL, NULL));
			named += name && !strcmp(name, "live_identity");
			exe += e && jstr(e, "process.executable");
			if (e && !name && !logged) {
				logged = true;
				live_log("burst: pid %d has no process.name (first of them)", burst[i]);
			}
		}
		snprintf(msg, sizeof(msg), "[%s] burst of %d short-lived forked senders: exact bytes",
			 mode, BURST);
		ASSERT_EQ_INT(exact, BURST, msg);
		/* each sender is reaped at once by its parent, possibly while
		 * vigie reads its /proc: the exit event's comm must then fill
		 * the name */
		snprintf(msg, sizeof(msg), "[%s] burst: senders with process.name \"live_identity\"",
			 mode);
		ASSERT_EQ_INT(named, BURST, msg);
		live_log("burst: %d of %d with process.executable (a forked child's executable is "
			 "its parent's; not required)", exe, BURST);
	}
	snprintf(msg, sizeof(msg), "[%s] forked, uid without a name", mode);
	check_ident(&ev, msg, p_fork_noname, 10007, "live_identity", NULL, NULL, "4242", NULL);
	snprintf(msg, sizeof(msg), "[%s] forked, hostile prctl name", mode);
	check_ident(&ev, msg, p_fork_named, 10005, FORK_NAME_JSON, NULL, NULL, "0", "root");
	{
		char want_exe[PATH_MAX + 64];

		snprintf(want_exe, sizeof(want_exe), "%s/" HOSTILE_FILE_JSON, live_tmpdir());
		snprintf(msg, sizeof(msg), "[%s] hostile executable name and command line", mode);
		check_ident(&ev, msg, p_hostile, 10006, HOSTILE_FILE_JSON, want_exe,
			    want_hostile_cmd, "0", "root");
	}
	events_free(&ev);
}

int main(void)
{
	live_init("identity");
	if (!realpath(live_trafficgen_bin(), tg_real)) {
		CHECK(0, "realpath of trafficgen");
		return live_finish();
	}
	hostile_exe = live_path(HOSTILE_FILE);
	{
		size_t len;
		char *bin = live_read_file(tg_real, &len);
		FILE *f = fopen(hostile_exe, "w");

		if (!bin || !f || fwrite(bin, 1, len, f) != len || fclose(f) ||
		    chmod(hostile_exe, 0755)) {
			CHECK(0, "copy of trafficgen under a hostile file name");
			return live_finish();
		}
		free(bin);
	}
	if (netns_create(&ns, "idt", 13)) {
		CHECK(0, "network namespace created");
		return live_finish();
	}
	in_ns.netns = ns.name;
	run_mode("sock");
	run_mode("syscalls");
	netns_destroy(&ns);
	return live_finish();
}
