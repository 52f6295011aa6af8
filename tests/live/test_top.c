// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: vigie top (docs/top.md) against a running sensor, in a real
 * terminal.
 *
 * The sensor's control socket is in the test's directory
 * (sensor.control_socket); a profile gives the peer of a network namespace
 * made here an egress normal of 20 bytes an hour (per_day 20000,
 * hour_share 0.001: the 1h window leads whatever minute boundary the test
 * crosses), and 20,000,000 bytes are sent to it: an alert, a critical
 * episode, a ratio of exactly 1,000,000.
 * 1. No daemon: exit 1, the message names the socket and --standalone.
 * 2. The socket: a socket of root's, mode 0600.
 * 3. --json: exact fields of the extracting peer's row; --once: its line.
 *    A process named with an escape sequence is printed escaped, no ESC
 *    byte in the output.
 * 4. vigie top in tmux (private server, 80x24): the peer on the first row
 *    with its ratio and episode mark; v sorts by volume (the 1M column
 *    never grows down the rows), k filters by kind (only users, then the
 *    peer first), p pauses, h helps, a resize redraws at the new width, q
 *    quits: exit 0, the shell's screen back, the terminal's modes restored.
 * 5. A non-root client: vigie top as nobody is denied (exit 1, the
 *    message); a client of uid 65534 that can reach the socket anyway
 *    (CAP_DAC_OVERRIDE) gets the server's refusal line, and the daemon
 *    logs it.
 * 6. --standalone --json: a sensor of its own, its directory removed after.
 * 7. The daemon stopped: the socket removed, vigie top exits 1 again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "lib/live.h"

#define NET_IDX 113
#define XFER 20000000ll
#define NOBODY 65534
#define TITLES "KIND     PRINCIPAL      PROCESS PEER     METRIC   1M   1H NORM RATIO WIN REF   E"

static struct netns ns;
static char tmux_name[64];
static char sock_path[100];

/* ---- tmux --------------------------------------------------------------------- */

static void tmux_stop(void)
{
	if (tmux_name[0])
		live_sh("tmux -L %s kill-server", tmux_name);
}

/* The pane's lines (malloc'ed text, NULL when tmux fails). */
static char *capture(void)
{
	char cmd[128], *buf = NULL;
	size_t cap = 0, n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p -t top 2>/dev/null", tmux_name);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			char *q = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!q)
				break;
			buf = q;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, p);

		if (!r)
			break;
		n += r;
	}
	pclose(p);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Line i of a capture (0-based) into out, "" when there is none. */
static void line_of(const char *text, int i, char *out, size_t size)
{
	const char *p = text, *nl;

	out[0] = '\0';
	for (; p && i > 0; i--) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return;
	nl = strchr(p, '\n');
	snprintf(out, size, "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
}

/* Wait (ms) until the pane shows needle on line (any line when < 0): the
 * capture (malloc'ed) that shows it, NULL after the timeout. */
static char *wait_pane(const char *needle, int line, int ms)
{
	double end = live_now() + ms / 1000.0;

	do {
		char *c = capture(), l[512];

		if (c && line >= 0)
			line_of(c, line, l, sizeof(l));
		if (c && strstr(line >= 0 ? l : c, needle))
			return c;
		free(c);
		usleep(100000);
	} while (live_now() < end);
	return NULL;
}

static int keys(const char *k)
{
	return live_sh("tmux -L %s send-keys -t top '%s'", tmux_name, k);
}

/* Whitespace-separated fields of a line. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max;
	     t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

/* "20M" -> 2e7, "1.2k" -> 1200 ("-": -1). */
static double unit_value(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	switch (*end) {
	case 'k': return v * 1e3;
	case 'M': return v * 1e6;
	case 'G': return v * 1e9;
	case 'T': return v * 1e12;
	default: return v;
	}
}

/* ---- sections ------------------------------------------------------------------ */

static void no_daemon(const char *why)
{
	char *err = NULL;
	int st = vigie_exec(NULL, &err, 10000, "top", "--once", "--socket", sock_path, NULL);

	ASSERT_EQ_INT(st, 1, why);
	ASSERT_CONTAINS(err, "no vigie daemon is running (nothing answers on ", "its message");
	ASSERT_CONTAINS(err, sock_path, "naming the socket");
	ASSERT_CONTAINS(err, "'vigie top --standalone'", "and suggesting --standalone");
	free(err);
}

static void check_json(const struct vigie *v, const char *tg_exe)
{
	char *out = NULL, exe_root[700];
	json_t *doc, *row, *eg;
	int st = vigie_exec(&out, NULL, 10000, "top", "--json", "--socket", sock_path, "--kind",
			    "peer", "--limit", "5", NULL);

	live_section("--json: the peer's row, exact");
	ASSERT_EQ_INT(st, 0, "vigie top --json exit status");
	doc = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(doc != NULL, "one JSON document");
	ASSERT_EQ_INT(jint(doc, "vigie_top", -1), 1, "vigie_top (protocol)");
	ASSERT_EQ_INT(jint(doc, "sensor.pid", -1), v->c.pid, "sensor.pid: the daemon's");
	CHECK(json_is_true(jpath(doc, "sensor.detection")), "sensor.detection true");
	ASSERT_EQ_INT(jint(doc, "health.map_capacity", -1), 32768, "health.map_capacity");
	ASSERT_EQ_STR(jstr(doc, "query.kind"), "peer", "query.kind");
	ASSERT_EQ_STR(jstr(doc, "query.sort"), "ratio", "query.sort");
	ASSERT_EQ_INT(jint(doc, "query.limit", -1), 5, "query.limit");
	row = json_array_get(jpath(doc, "rows"), 0);
	ASSERT_EQ_STR(jstr(row, "kind"), "peer", "rows[0].kind");
	ASSERT_EQ_STR(jstr(row, "id"), ns.ns_ip, "rows[0].id: the namespace's address");
	snprintf(exe_root, sizeof(exe_root), "%s@root", tg_exe);
	ASSERT_EQ_STR(jstr(row, "process"), exe_root, "rows[0].process: trafficgen");
	CHECK(json_is_null(jpath(row, "peer")), "rows[0].peer null (it is the peer)");
	ASSERT_EQ_STR(jstr(row, "lead.metric"), "egress_bytes", "rows[0].lead.metric");
	ASSERT_EQ_STR(jstr(row, "lead.window"), "1h", "rows[0].lead.window");
	CHECK(json_number_value(jpath(row, "ratio")) == 1000000.0, "rows[0].ratio: %g, want 1e6",
	      json_number_value(jpath(row, "ratio")));
	ASSERT_EQ_STR(jstr(row, "episode"), "critical", "rows[0].episode");
	eg = jpath(row, "metrics.egress_bytes");
	ASSERT_EQ_INT(jint(eg, "1h.observed", -1), XFER, "egress 1h observed: every byte sent");
	CHECK(json_number_value(jpath(eg, "1h.normal")) == 20.0, "egress 1h normal 20 (%g)",
	      json_number_value(jpath(eg, "1h.normal")));
	ASSERT_EQ_STR(jstr(eg, "1h.reference"), "profile", "egress 1h reference");
	CHECK(json_number_value(jpath(eg, "24h.normal")) == 20000.0, "egress 24h normal: per_day");
	ASSERT_EQ_STR(jstr(eg, "episode.level"), "critical", "egress episode level");
	CHECK(jstr(eg, "episode.id") && strlen(jstr(eg, "episode.id")) > 0, "episode id");
	CHECK(json_object_size(jpath(row, "metrics")) == 1, "one metric active (egress)");
	json_decref(doc);
	free(out);
}

static void check_once(const char *tg_exe, const char *evil_exe)
{
	char *out = NULL, l[2048], *f[16], want_proc[700];
	int st = vigie_exec(&out, NULL, 10000, "top", "--once", "--socket", sock_path, "--kind",
			    "peer", NULL), n;

	live_section("--once: the peer's line");
	ASSERT_EQ_INT(st, 0, "vigie top --once exit status");
	line_of(out, 0, l, sizeof(l));
	CHECK(!strncmp(l, "vigie top - ", 12) && strstr(l, "  probes ") && strstr(l, "  drops "),
	      "header: '%s'", l);
	line_of(out, 3, l, sizeof(l));
	CHECK(!strncmp(l, "KIND     PRINCIPAL", 18) && strstr(l, " METRIC   1M   1H NORM RATIO WIN REF"),
	      "titles: '%s'", l);
	line_of(out, 4, l, sizeof(l));
	n = fields(l, f, 16);
	snprintf(want_proc, sizeof(want_proc), "%s@root", tg_exe);
	ASSERT_EQ_INT(n, 12, "fields of the first row");
	if (n == 12) {
		ASSERT_EQ_STR(f[0], "peer", "KIND");
		ASSERT_EQ_STR(f[1], ns.ns_ip, "PRINCIPAL");
		ASSERT_EQ_STR(f[2], want_proc, "PROCESS (whole in --once)");
		ASSERT_EQ_STR(f[3], "-", "PEER");
		ASSERT_EQ_STR(f[4], "egress", "METRIC");
		ASSERT_EQ_STR(f[6], "20M", "1H");
		ASSERT_EQ_STR(f[7], "20", "NORM");
		ASSERT_EQ_STR(f[8], "1.0Mx", "RATIO");
		ASSERT_EQ_STR(f[9], "1h", "WIN");
		ASSERT_EQ_STR(f[10], "prof", "REF");
		ASSERT_EQ_STR(f[11], "C", "E: a critical episode");
	}
	free(out);
	/* a process named with an escape sequence: escaped, never raw */
	out = NULL;
	st = vigie_exec(&out, NULL, 10000, "top", "--once", "--socket", sock_path, "--kind",
			"process", "--limit", "1000", NULL);
	ASSERT_EQ_INT(st, 0, "vigie top --once --kind process exit status");
	{
		char want[700];
		const char *base = strrchr(evil_exe, '/') + 1;

		snprintf(want, sizeof(want), "%.*s\\x1b[31mgen@root", (int)(strchr(base, '\x1b') - base),
			 base);
		ASSERT_CONTAINS(out, want, "the escape sequence in a name printed escaped");
	}
	CHECK(out && !strchr(out, '\x1b') && !strchr(out, '\x07'), "no ESC or BEL byte in --once");
	free(out);
}

static void check_terminal(void)
{
	char *c, l[512], *f[16], *script;
	char cmd[1400];
	int n, ok, rows;

	live_section("vigie top in tmux, 80x24");
	snprintf(tmux_name, sizeof(tmux_name), "vigie-live-top-%d", (int)getpid());
	live_on_cleanup(tmux_stop);
	/* the shell in the pane: a line before, vigie top, its exit status and
	 * the terminal's modes after */
	snprintf(cmd, sizeof(cmd),
		 "printf 'BEFORE-TOP\\n'\n'%s' top --socket '%s'\necho EXIT=$?\n"
		 "echo MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig)')\n"
		 "sleep 120\n",
		 live_vigie_bin(), sock_path);
	script = live_write_file("pane.sh", cmd);
	CHECK(script && live_sh("tmux -L %s -f /dev/null new-session -d -s top -x 80 -y 24 "
				"'sh %s'", tmux_name, script) == 0, "tmux session started");
	free(script);
	c = wait_pane(TITLES, 4, 8000);
	CHECK(c != NULL, "the view drawn (titles on line 5)");
	if (!c)
		return;
	free(c);
	/* the next refresh has rows */
	c = wait_pane(ns.ns_ip, 5, 4000);
	CHECK(c != NULL, "the extracting peer on the first row");
	if (c) {
		line_of(c, 0, l, sizeof(l));
		CHECK(!strncmp(l, "vigie top - ", 12) && strstr(l, "probes ") && strstr(l, "drops "),
		      "header line 1: '%s'", l);
		line_of(c, 3, l, sizeof(l));
		ASSERT_EQ_STR(l, "sort ratio  kind all  h: help  q: quit", "status line");
		line_of(c, 5, l, sizeof(l));
		n = fields(l, f, 16);
		ASSERT_EQ_INT(n, 12, "fields of the first row");
		if (n == 12) {
			ASSERT_EQ_STR(f[0], "peer", "KIND");
			ASSERT_EQ_STR(f[2], "tr~cgen", "PROCESS: trafficgen, cut to 7 columns");
			ASSERT_EQ_STR(f[6], "20M", "1H");
			ASSERT_EQ_STR(f[8], "1.0Mx", "RATIO");
			ASSERT_EQ_STR(f[9], "1h", "WIN");
			ASSERT_EQ_STR(f[11], "C", "the episode mark");
		}
		ok = 1;
		for (int i = 0; i < 24; i++) {
			line_of(c, i, l, sizeof(l));
			ok &= strlen(l) <= 80;
		}
		CHECK(ok, "no line wider than 80 columns");
		free(c);
	}

	/* v: by volume; the 1M column (the largest volume of the last minute)
	 * never grows down the rows */
	keys("v");
	c = wait_pane("sort volume", 3, 3000);
	CHECK(c != NULL, "v: sort volume");
	free(c);
	usleep(300000);
	c = capture();
	ok = 1;
	rows = 0;
	{
		double prev = INFINITY;

		for (int i = 5; c && i < 24; i++) {
			line_of(c, i, l, sizeof(l));
			n = fields(l, f, 16);
			if (n != 12 && n != 11)
				continue; /* not a row (11 fields: no episode) */
			if (!strcmp(f[4], "rows"))
				continue; /* records are not bytes: after them */
			ok &= unit_value(f[5]) <= prev;
			prev = unit_value(f[5]);
			rows++;
		}
	}
	CHECK(ok && rows >= 4, "rows in volume order (%d rows: the peers, trafficgen, the user)",
	      rows);
	free(c);
	/* k: users only; three more: peers, the extracting one first */
	keys("r");
	keys("k");
	c = wait_pane("kind user", 3, 3000);
	CHECK(c != NULL, "k: kind user");
	usleep(300000);
	free(c);
	c = capture();
	ok = 1;
	rows = 0;
	for (int i = 5; c && i < 24; i++) {
		line_of(c, i, l, sizeof(l));
		if (!l[0])
			continue;
		ok &= !strncmp(l, "user ", 5);
		rows++;
	}
	CHECK(ok && rows >= 1, "only users shown (%d rows)", rows);
	free(c);
	keys("kkk");
	c = wait_pane("kind peer", 3, 3000);
	free(c);
	c = wait_pane(ns.ns_ip, 5, 3000);
	CHECK(c != NULL, "kind peer: the extracting peer first");
	free(c);
	/* p: paused; h: help, any key closes it */
	keys("p");
	c = wait_pane("[paused]", 3, 3000);
	CHECK(c != NULL, "p: [paused] on the status line");
	free(c);
	keys("p");
	keys("h");
	c = wait_pane("  q, Ctrl-C   quit", -1, 3000);
	CHECK(c != NULL, "h: the keys");
	free(c);
	keys("x");
	c = wait_pane(ns.ns_ip, 5, 3000);
	CHECK(c != NULL, "any key: the rows again");
	free(c);
	/* a resize (SIGWINCH): drawn again at the new width */
	live_sh("tmux -L %s resize-window -t top -x 100 -y 30", tmux_name);
	c = wait_pane("PEER", 4, 3000);
	ok = 0;
	for (int i = 0; i < 30 && !ok; i++) {
		free(c);
		c = capture();
		line_of(c, 4, l, sizeof(l));
		ok = strlen(l) == 100 && !strncmp(l, "KIND", 4) && l[99] == 'E';
		if (!ok)
			usleep(100000);
	}
	CHECK(ok, "titles 100 columns wide after the resize: '%s'", l);
	free(c);
	/* q: exit 0, the shell's screen back, the terminal's modes too */
	keys("q");
	c = wait_pane("MODES:", -1, 3000);
	CHECK(c != NULL, "q: vigie top exited");
	if (c) {
		CHECK(strstr(c, "EXIT=0\n") != NULL, "exit status 0");
		CHECK(strstr(c, "BEFORE-TOP\n") && !strstr(c, "KIND     PRINCIPAL"),
		      "the alternate screen left: the shell's lines, not the view");
		CHECK(strstr(c, "\nMODES: isig icanon echo\n") != NULL,
		      "terminal modes restored (isig icanon echo): '%.60s'", strstr(c, "EXIT="));
	}
	free(c);
}

/* ---- a client of uid 65534 ------------------------------------------------------ */

/* nobody, but allowed past the file's mode (CAP_DAC_OVERRIDE): what the
 * server says is written to the file arg. */
static int nobody_with_override(void *arg)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[1024] = "";
	ssize_t n = 0, r;
	FILE *f;
	int fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_DAC_OVERRIDE;
	if (syscall(SYS_capset, &h, d))
		return 11;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 12;
	/* may fail when already refused: the line is there all the same */
	(void)!send(fd, "{\"request\":\"snapshot\"}\n", 23, MSG_NOSIGNAL);
	while ((r = recv(fd, buf + n, sizeof(buf) - 1 - (size_t)n, 0)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd);
	f = fopen(arg, "w");
	if (!f)
		return 13;
	fputs(buf, f);
	fclose(f);
	return 0;
}

static void check_non_root(const struct vigie *v)
{
	struct spawn_opts nobody = { .set_user = true, .uid = NOBODY, .gid = NOBODY };
	struct child c;
	char *argv[] = { (char *)live_vigie_bin(), "top", "--once", "--socket", sock_path, NULL };
	char *err, *said, *log, errp[600];

	live_section("a client that is not root");
	snprintf(errp, sizeof(errp), "%s/nobody.err", live_tmpdir());
	nobody.stderr_path = errp;
	nobody.capture = true;
	CHECK(child_spawn(&c, &nobody, argv) == 0, "vigie top as nobody started");
	ASSERT_EQ_INT(child_wait(&c, 10000), 1, "vigie top as nobody: exit 1");
	err = live_read_file(errp, NULL);
	ASSERT_CONTAINS(err, "permission denied on ", "denied, said");
	ASSERT_CONTAINS(err, "the control socket is root's only (run vigie top as root)",
			"the reason and what to do");
	free(err);
	CHECK(child_fork(&c, nobody_with_override, live_path("refused.txt")) == 0,
	      "uid 65534 with CAP_DAC_OVERRIDE forked");
	ASSERT_EQ_INT(child_wait(&c, 10000), 0, "it reached the socket and read an answer");
	said = live_read_file(live_path("refused.txt"), NULL);
	ASSERT_EQ_STR(said, "{\"vigie_top\":1,\"error\":\"permission denied: the control socket "
			    "answers root only (this client runs as uid 65534)\"}\n",
		      "the server's refusal, one line, then closed");
	free(said);
	log = live_read_file(v->err_path, NULL);
	ASSERT_CONTAINS(log, "control socket: refused a client of uid 65534", "the daemon logs it");
	free(log);
}

static void check_standalone(void)
{
	char *out = NULL, *err = NULL;
	json_t *doc;
	int st, left = 0;
	DIR *d;
	struct dirent *e;

	live_section("--standalone");
	st = vigie_exec(&out, &err, 30000, "top", "--json", "--standalone", "-d", "0.5", NULL);
	ASSERT_EQ_INT(st, 0, "vigie top --json --standalone exit status");
	doc = out ? json_loads(out, 0, NULL) : NULL;
	ASSERT_EQ_INT(jint(doc, "vigie_top", -1), 1, "a snapshot of its own sensor");
	CHECK(jint(doc, "sensor.pid", 0) > 0 && jint(doc, "sensor.pid", 0) != getpid(),
	      "its sensor, a child process");
	CHECK(json_is_true(jpath(doc, "sensor.detection")), "detection on");
	json_decref(doc);
	free(out);
	free(err);
	d = opendir("/tmp");
	while (d && (e = readdir(d)))
		left += !strncmp(e->d_name, "vigie-top.", 10);
	if (d)
		closedir(d);
	ASSERT_EQ_INT(left, 0, "its private directory removed");
}

int main(void)
{
	struct vigie v;
	struct child sink;
	struct stat st;
	char cfg[2048], port[16], bytes[32], tg_exe[600], evil[600];
	long long sent = -1;
	double t0;
	int sink_port;

	live_init("top");
	t0 = live_now();
	if (snprintf(sock_path, sizeof(sock_path), "%s/control.sock", live_tmpdir()) >= 100) {
		CHECK(false, "a socket path of at most 107 bytes");
		return live_finish();
	}
	live_section("no daemon");
	no_daemon("vigie top --once without a daemon: exit 1");
	if (netns_create(&ns, "top", NET_IDX)) {
		CHECK(false, "network namespace created");
		return live_finish();
	}
	snprintf(cfg, sizeof(cfg),
		 "{\"sensor\": {\"control_socket\": \"%s\"}, \"detection\": {\"hour_share\": 0.001, "
		 "\"minute_share\": 1, \"profiles\": [{\"name\": \"sink\", \"match\": {\"peers\": "
		 "[\"%s\"]}, \"per_day\": {\"egress_bytes\": 20000}}]}}",
		 sock_path, ns.ns_ip);
	if (vigie_start(&v, cfg, "--tick", "0.5", NULL)) {
		CHECK(false, "vigie started with a control socket");
		return live_finish();
	}
	live_section("the socket");
	CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode), "a socket at %s", sock_path);
	ASSERT_EQ_INT(st.st_mode & 07777, 0600, "its mode");
	ASSERT_EQ_INT(st.st_uid, 0, "its owner");

	/* 20 MB to the profiled peer; a little from a process named with ESC */
	if (!realpath(live_trafficgen_bin(), tg_exe))
		snprintf(tg_exe, sizeof(tg_exe), "%s", live_trafficgen_bin());
	sink_port = tg_server(&sink, &(struct spawn_opts){ .netns = ns.name }, "sink", "0", NULL);
	snprintf(port, sizeof(port), "%d", sink_port);
	snprintf(bytes, sizeof(bytes), "%lld", XFER);
	CHECK(sink_port > 0 && tg_run(NULL, &sent, NULL, "send", ns.ns_ip, port, bytes, NULL) == 0,
	      "20 MB sent to %s", ns.ns_ip);
	ASSERT_EQ_INT(sent, XFER, "bytes sent");
	child_wait(&sink, 5000);
	snprintf(evil, sizeof(evil), "%s/evil\x1b[31mgen", live_tmpdir());
	sink_port = tg_server(&sink, &(struct spawn_opts){ .netns = ns.name }, "sink", "0", NULL);
	snprintf(port, sizeof(port), "%d", sink_port);
	/* to the namespace's IPv6 address: another peer than the profiled one */
	CHECK(live_sh("cp '%s' '%s' && chmod 755 '%s'", live_trafficgen_bin(), evil, evil) == 0 &&
	      tg_run(NULL, NULL, &(struct spawn_opts){ .exe = evil }, "send", ns.ns_ip6, port,
		     "1000", NULL) == 0, "a process named with an escape sequence sent 1000 bytes");
	child_wait(&sink, 5000);
	CHECK(vigie_wait_action(&v, "exfiltration-volume", 10000), "an alert written");
	usleep(600000); /* the evil process's tick drained */

	check_json(&v, tg_exe);
	check_once(tg_exe, evil);
	check_terminal();
	check_non_root(&v);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	live_section("the daemon stopped");
	CHECK(lstat(sock_path, &st) == -1 && errno == ENOENT, "the socket removed at exit");
	no_daemon("vigie top --once after the daemon stopped: exit 1");
	check_standalone();
	live_log("the test took %.1f s", live_now() - t0);
	return live_finish();
}
