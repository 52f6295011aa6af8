// SPDX-License-Identifier: GPL-2.0
/*
 * trafficgen: small deterministic traffic generator for Vigie's live tests
 * (this file: options, usage, helpers; net.c, uring.c, commands.c).
 *
 * Every command moves an exact number of bytes and prints what a test needs
 * on stdout, one "key value" per line, flushed at once:
 *   "port P"      a server is listening (printed before it accepts),
 *   "sent N", "received N", "served N", "read N"   the figure at the end.
 * Exit status: 0 done, 1 runtime failure (connect, short transfer...),
 * 2 bad usage.
 *
 * Global options come before the command (see usage()). Arguments after a
 * literal "--" are ignored, so a test can give the process an arbitrary
 * (hostile) command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include "trafficgen.h"

const char *method = NULL; /* -m */
unsigned src_port;         /* -s: bind clients to this local port */
long pause_us;             /* -P: pause between chunks */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: trafficgen [OPTIONS] COMMAND [ARGS...] [-- IGNORED...]\n"
		"Options (before the command):\n"
		"  -n NAME    set the process name (prctl PR_SET_NAME)\n"
		"  -u USER    switch to USER (name or uid) before the command (root only)\n"
		"  -D MS      sleep MS milliseconds before the command\n"
		"  -H MS      sleep MS milliseconds after the command, before exiting\n"
		"  -m METHOD  I/O call: send side write|send|sendto|sendmsg|writev|sendmmsg|\n"
		"             splice|uring (udp: sendto = unconnected socket),\n"
		"             receive side read|recv|recvmsg|readv|peek|splice|uring, files\n"
		"             read|pread|readv|preadv|preadv2|sendfile|splice|copy|uring\n"
		"  -s PORT    clients bind this local (source) port\n"
		"  -P USEC    pause USEC microseconds after every chunk sent\n"
		"  -E         after the command, exec the arguments after \"--\"\n"
		"  -X         re-exec with a hostile command line (quotes, newlines,\n"
		"             backslashes, invalid UTF-8) and then run the command\n"
		"Commands:\n"
		"  send HOST PORT BYTES [CHUNK]         TCP: send BYTES, shut down, wait for close\n"
		"  reconnect HOST PORT1 PORT2 BYTES     TCP: send BYTES to PORT1, disconnect the socket\n"
		"                                       (connect AF_UNSPEC), send BYTES to PORT2 on it\n"
		"  multisend HOST PORT CONNS BYTES [CHUNK]  CONNS such connections in a row\n"
		"  sink PORT [BIND [CONNS]]             accept CONNS (1) clients, read to EOF\n"
		"  serve PORT BYTES [BIND [CONNS]]      accept CONNS (1) clients, send each BYTES\n"
		"  fetch HOST PORT                      connect, read to EOF\n"
		"  sendfile HOST PORT FILE              TCP: sendfile(2) the whole FILE\n"
		"  udp HOST PORT BYTES COUNT            connected UDP: COUNT datagrams of BYTES\n"
		"  udpsink PORT [BIND [TOTAL]]          receive until TOTAL bytes or 3 s idle\n"
		"  readfile PATH BYTES [CHUNK]          read exactly BYTES of PATH (-m for the call)\n"
		"  sleep MS\n"
		"PORT 0 for servers picks a free port (printed as \"port P\").\n"
		"BIND defaults to :: (dual stack).\n");
}

void out(const char *key, unsigned long long v)
{
	printf("%s %llu\n", key, v);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trafficgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int parse_u64(const char *s, unsigned long long max, unsigned long long *out_v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out_v = strtoull(s, &end, 0);
	if (errno || *end || *out_v > max)
		return -1;
	return 0;
}

/* ---- hostile command line ------------------------------------------- */

static const char *const hostile_args[] = {
	"quo\"te", "back\\slash", "new\nline", "tab\tand\rcr", "bad\xff\xfe utf8",
	"trunc\xc3", "ok-\xc3\xa9t\xc3\xa9", "ctl\x01\x1f", NULL,
};

/* argv[0] becomes hostile, the original arguments follow, then "--" and
 * the hostile arguments (ignored by the command parser). */
static int reexec_hostile(int argc, char **argv)
{
	char **nargv = calloc((size_t)argc + 16, sizeof(char *));
	int n = 0;

	if (!nargv)
		return EXIT_FAIL;
	nargv[n++] = "tg\"\n\\\xff";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-X"))
			nargv[n++] = argv[i];
	nargv[n++] = "--";
	for (int i = 0; hostile_args[i]; i++)
		nargv[n++] = (char *)hostile_args[i];
	nargv[n] = NULL;
	execv("/proc/self/exe", nargv);
	return fail("re-exec: %s", strerror(errno));
}

static int switch_user(const char *user)
{
	unsigned long long uid;
	gid_t gid;
	struct passwd *pw = NULL;

	if (parse_u64(user, UINT_MAX - 1, &uid) == 0) {
		pw = getpwuid((uid_t)uid);
		gid = pw ? pw->pw_gid : (gid_t)uid;
	} else {
		pw = getpwnam(user);
		if (!pw)
			return fail("no user '%s'", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (setgroups(0, NULL) || setgid(gid) || setuid((uid_t)uid))
		return fail("switch to user %s: %s", user, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "send", cmd_send },       { "multisend", cmd_multisend }, { "sink", cmd_sink },
		{ "serve", cmd_serve },     { "fetch", cmd_fetch },         { "sendfile", cmd_sendfile },
		{ "udp", cmd_udp },         { "udpsink", cmd_udpsink },     { "readfile", cmd_readfile },
		{ "sleep", cmd_sleep },     { "reconnect", cmd_reconnect },
	};
	const char *name = NULL, *user = NULL;
	long delay = 0, hold = 0;
	bool hostile = false, exec_after = false;
	int opt, cargc, ret;
	char **cargv;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "+n:u:D:H:m:s:P:EXh")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'u': user = optarg; break;
		case 'D': delay = atol(optarg); break;
		case 'H': hold = atol(optarg); break;
		case 'm': method = optarg; break;
		case 'X': hostile = true; break;
		case 's': src_port = (unsigned)atoi(optarg); break;
		case 'P': pause_us = atol(optarg); break;
		case 'E': exec_after = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (hostile)
		return reexec_hostile(argc, argv);
	/* the command's arguments stop at "--" */
	cargv = argv + optind;
	for (cargc = 0; cargc < argc - optind && strcmp(cargv[cargc], "--"); cargc++)
		;
	if (user && switch_user(user))
		return EXIT_FAIL;
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0))
		return fail("prctl(PR_SET_NAME): %s", strerror(errno));
	if (delay > 0)
		sleep_ms(delay);
	ret = -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cargv[0], cmds[i].name)) {
			ret = cmds[i].fn(cargc, cargv);
			break;
		}
	}
	if (ret < 0) {
		fprintf(stderr, "trafficgen: unknown command '%s'\n", cargv[0]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ret == EXIT_USAGE) {
		fprintf(stderr, "trafficgen: bad arguments for '%s'\n", cargv[0]);
		usage(stderr);
	}
	if (hold > 0)
		sleep_ms(hold);
	if (exec_after && ret == 0 && cargc + 1 < argc - optind) {
		char **rest = cargv + cargc + 1;

		fflush(NULL);
		execv(rest[0], rest);
		return fail("exec %s: %s", rest[0], strerror(errno));
	}
	return ret;
}
