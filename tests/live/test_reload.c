// SPDX-License-Identifier: GPL-2.0
/*
 * Live: the configuration reloaded on SIGHUP (systemctl reload), the
 * learned state across a reload and a restart, sensor.output_group.
 *
 * 1. vigie -c FILE --state STATE with systemd's $NOTIFY_SOCKET on a socket
 *    of the test's own. A copy of trafficgen with a name of this run sends
 *    UDP to a sink on 127.0.0.1 (network.exclude_loopback false: egress), so that
 *    detection learns a process principal named after it. Then:
 *    - a good file: detection.ratio, sensor.heartbeat (60 -> 1 s) and
 *      databases.ports changed: sensor-reload success, applied exactly
 *      [detection, sensor.heartbeat], restart_needed exactly
 *      [databases.ports], heartbeats every second from then on;
 *    - a bad file (detection.ratio a string): sensor-reload failure with
 *      the field in message and in stderr, the daemon running, heartbeats
 *      still every second (the running configuration kept);
 *    - notifications exactly READY, RELOADING, READY, RELOADING, READY,
 *      STOPPING;
 *    - the state written at stop holds the principal learned before the
 *      reloads (carried over), and a second run started on that state
 *      saves it again at its stop without any new traffic (read at start).
 * 2. sensor.output_group "daemon": events file 0640 of group daemon, its
 *    0700 directory made 0750 of group daemon; after a logrotate-like move
 *    and SIGHUP, the new file too (privileges dropped by then); a process
 *    of uid nobody in group daemon reads the events, one not in it cannot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/live.h"

static const char *cfg_good0 =
	"{\"sensor\": {\"heartbeat\": 60}, \"network\": {\"exclude_loopback\": false},"
	" \"detection\": {\"ratio\": 5}}";
static const char *cfg_good1 =
	"{\"sensor\": {\"heartbeat\": 1}, \"network\": {\"exclude_loopback\": false},"
	" \"databases\": {\"ports\": [5432, 15432]},"
	" \"detection\": {\"ratio\": 7}}";
static const char *cfg_bad =
	"{\"sensor\": {\"heartbeat\": 1}, \"network\": {\"exclude_loopback\": false},"
	" \"detection\": {\"ratio\": \"seven\"}}";

static int notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Every queued message, each reduced to its first line, '|' after each. */
static void drain_notify(int fd, char *buf, size_t size)
{
	char msg[256];
	ssize_t r;

	while ((r = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
		msg[r] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		strncat(buf, msg, size - strlen(buf) - 2);
		strncat(buf, "|", size - strlen(buf) - 1);
	}
}

static bool write_cfg(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* The array at path as "a,b" */
static void joined(json_t *ev, const char *path, char *buf, size_t size)
{
	json_t *a = jpath(ev, path), *v;
	size_t i;

	snprintf(buf, size, "%s", json_is_array(a) ? "" : "(none)");
	json_array_foreach(a, i, v)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "",
			 json_string_value(v) ? json_string_value(v) : "?");
}

/* Heartbeats with @timestamp in [from, to) (test clock, seconds). */
static int heartbeats_between(const struct events *e, double from, double to)
{
	int n = 0;

	for (size_t i = 0; i < e->n; i++) {
		double t;

		if (!jstr(e->ev[i], "event.action") || strcmp(jstr(e->ev[i], "event.action"), "heartbeat"))
			continue;
		t = live_parse_ts(jstr(e->ev[i], "@timestamp"));
		n += t >= from && t < to;
	}
	return n;
}

static bool file_has(const char *path, const char *needle)
{
	char *text = live_read_file(path, NULL);
	bool has = text && strstr(text, needle);

	free(text);
	return has;
}

static void reload(void)
{
	char *cfg = live_path("reload.json"), *state = live_path("reload-state.json");
	char *sock = live_path("notify.sock"), *gen = NULL, name[32], buf[256], got[1024] = "";
	struct spawn_opts o = { 0 };
	struct events e = { 0 };
	struct vigie v;
	double t_reload, t_bad, t_stop;
	long long sent = -1;
	json_t *ok, *bad;
	int fd, st;

	live_section("1. reload: a good file, a bad one, the learned state kept");
	snprintf(name, sizeof(name), "rlgen%d", (int)getpid());
	gen = live_path(name);
	if (live_sh("cp '%s' '%s' && chmod 755 '%s'", live_trafficgen_bin(), gen, gen)) {
		CHECK(false, "copy of trafficgen as %s", gen);
		goto out;
	}
	fd = notify_socket(sock);
	if (fd < 0 || !write_cfg(cfg, cfg_good0)) {
		CHECK(false, "notification socket and configuration");
		goto out;
	}
	setenv("NOTIFY_SOCKET", sock, 1);
	unsetenv("WATCHDOG_USEC");
	st = vigie_start(&v, cfg_good0, "--state", state, "--tick", "0.2", NULL);
	unsetenv("NOTIFY_SOCKET");
	if (st) {
		CHECK(false, "vigie started");
		close(fd);
		goto out;
	}
	/* vigie_start wrote its own copy of the configuration: reload that */
	free(cfg);
	cfg = strdup(v.cfg_path);
	{
		struct child sink;
		int port = tg_server(&sink, NULL, "udpsink", "0", "127.0.0.1", "20000", NULL);
		char p[16];

		snprintf(p, sizeof(p), "%d", port);
		o.exe = gen;
		ASSERT_EQ_INT(tg_run(NULL, &sent, &o, "udp", "127.0.0.1", p, "1000", "20", NULL), 0,
			      "the trafficgen copy: udp sender exit status");
		ASSERT_EQ_INT(sent, 20000, "the trafficgen copy: bytes sent");
		child_wait(&sink, 5000);
	}
	usleep(1500 * 1000); /* drained and fed to detection */

	write_cfg(cfg, cfg_good1);
	t_reload = live_now();
	kill(v.c.pid, SIGHUP);
	CHECK(vigie_wait_action(&v, "sensor-reload", 5000), "sensor-reload after the good file");
	usleep(3500 * 1000);
	write_cfg(cfg, cfg_bad);
	t_bad = live_now();
	kill(v.c.pid, SIGHUP);
	usleep(3500 * 1000);
	CHECK(!child_exited(&v.c), "vigie still running after the bad file");
	t_stop = live_now();
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	drain_notify(fd, got, sizeof(got));
	close(fd);

	ASSERT_EQ_STR(got, "READY=1|RELOADING=1|READY=1|RELOADING=1|READY=1|STOPPING=1|",
		      "notifications (first lines) in order");
	if (events_load(&e, v.out_path)) {
		CHECK(false, "events loaded");
		goto out;
	}
	live_check_ecs(&e, v.out_path);
	ASSERT_EQ_INT((long long)events_count(&e, "sensor-reload"), 2, "sensor-reload events");
	ok = events_find(&e, "sensor-reload");
	bad = events_find_last(&e, "sensor-reload");
	ASSERT_EQ_STR(jstr(ok, "event.outcome"), "success", "good file: event.outcome");
	ASSERT_EQ_STR(jstr(ok, "vigie.config_file"), cfg, "good file: vigie.config_file");
	joined(ok, "vigie.reload.applied", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "detection,sensor.heartbeat", "good file: applied");
	joined(ok, "vigie.reload.restart_needed", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "databases.ports", "good file: restart needed");
	ASSERT_EQ_STR(jstr(bad, "event.outcome"), "failure", "bad file: event.outcome");
	CHECK(jstr(bad, "message") && strstr(jstr(bad, "message"), "detection.ratio: must be a number"),
	      "bad file: message names the field: %s", jstr(bad, "message"));
	CHECK(jpath(bad, "vigie.reload") == NULL, "bad file: nothing applied");
	CHECK(file_has(v.err_path, "reload refused, the running configuration is kept: ") &&
	      file_has(v.err_path, "detection.ratio: must be a number"),
	      "stderr: the refusal names the field");
	/* 60 s before the reload: none; 1 s after, through the bad file too */
	ASSERT_EQ_INT(heartbeats_between(&e, 0, t_reload), 0, "heartbeats before the reload");
	{
		int a = heartbeats_between(&e, t_reload, t_bad), b = heartbeats_between(&e, t_bad, t_stop);

		CHECK(a >= 3 && a <= 4, "heartbeats between the good and the bad file (3.5 s): %d", a);
		CHECK(b >= 3 && b <= 4, "heartbeats after the bad file (3.5 s, 1 s kept): %d", b);
	}
	CHECK(file_has(state, name), "state written at stop holds %s, learned before the reloads",
	      name);
	if (!file_has(state, name)) {
		/* what a miss needs to be understood: did the sensor count the
		 * generator's bytes, under which name, and did it lose any? */
		size_t n = 0;
		long long bytes = 0;
		json_t *stop = events_find_last(&e, "sensor-stop");

		for (size_t i = 0; i < e.n; i++) {
			const char *exe = jstr(e.ev[i], "process.executable");

			if (exe && strstr(exe, name)) {
				n++;
				bytes += jint(e.ev[i], "source.bytes", 0);
			}
		}
		live_log("events naming %s: %zu (%lld bytes); ringbuf drops %lld, flow fallbacks %lld, "
			 "detection principals %lld",
			 name, n, bytes, jint(stop, "vigie.stats.ringbuf_drops", -1),
			 jint(stop, "vigie.stats.flow_fallbacks", -1),
			 jint(stop, "vigie.stats.detection.principals", -1));
	}
	events_free(&e);

	/* a restart on that state, no traffic: what it saves at stop is what
	 * it read at start */
	{
		struct stat a = { 0 }, b = { 0 };
		char prev[600];

		snprintf(prev, sizeof(prev), "%s.prev", state);
		stat(state, &a);
		if (vigie_start(&v, NULL, "--state", state, "--tick", "0.2", NULL)) {
			CHECK(false, "second vigie started");
			goto out;
		}
		usleep(1000 * 1000);
		ASSERT_EQ_INT(vigie_stop(&v), 0, "second vigie exit status");
		stat(state, &b);
		CHECK(a.st_ino != b.st_ino, "state saved again at the second stop");
		CHECK(file_has(state, name) && file_has(prev, name),
		      "the second run's state (and the first, kept as .prev) hold %s", name);
	}
out:
	free(cfg);
	free(state);
	free(sock);
	free(gen);
}

/* Child: open path as uid nobody, with group gid as its only group when
 * in_group, else none. Exit 0 when it could read a line. */
struct reader {
	const char *path;
	gid_t gid;
	bool in_group;
};

static int read_as_nobody(void *arg)
{
	const struct reader *r = arg;
	gid_t none = 65534;
	char line[64];
	FILE *f;

	if (setgroups(r->in_group ? 1 : 0, r->in_group ? &r->gid : &none) || setgid(65534) ||
	    setuid(65534))
		return 3;
	f = fopen(r->path, "r");
	if (!f)
		return 1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 2;
	}
	fclose(f);
	return 0;
}

static int reader_status(const char *path, gid_t gid, bool in_group)
{
	struct reader r = { .path = path, .gid = gid, .in_group = in_group };
	struct child c;

	if (child_fork(&c, read_as_nobody, &r))
		return -1;
	return child_wait(&c, 5000);
}

static void check_mode(const char *path, mode_t mode, gid_t gid, const char *what)
{
	struct stat st;

	if (stat(path, &st)) {
		CHECK(false, "%s: stat %s: %s", what, path, strerror(errno));
		return;
	}
	CHECK((st.st_mode & 07777) == mode, "%s: mode %o, want %o", what,
	      (unsigned)(st.st_mode & 07777), (unsigned)mode);
	CHECK(st.st_gid == gid, "%s: group %u, want %u", what, (unsigned)st.st_gid, (unsigned)gid);
}

static void output_group(void)
{
	char *dir = live_path("logs"), out[600], rotated[600];
	struct group *g = getgrnam("daemon");
	struct vigie v;
	gid_t gid;

	live_section("2. sensor.output_group: a shipper in the group reads the events");
	if (!g) {
		CHECK(false, "group daemon exists");
		goto out;
	}
	gid = g->gr_gid;
	snprintf(out, sizeof(out), "%s/events.json", dir);
	snprintf(rotated, sizeof(rotated), "%s/events.json.1", dir);
	/* the test's directory must be traversable by nobody to reach logs/ */
	if (live_sh("mkdir -m 0700 '%s' && chmod o+x '%s'", dir, live_tmpdir())) {
		CHECK(false, "directory %s", dir);
		goto out;
	}
	if (vigie_start_at(&v, out, "{\"sensor\": {\"output_group\": \"daemon\"}}", NULL)) {
		CHECK(false, "vigie started");
		goto out;
	}
	check_mode(out, 0640, gid, "events file");
	check_mode(dir, 0750, gid, "its directory");
	ASSERT_EQ_INT(reader_status(out, gid, true), 0, "nobody in group daemon reads the events");
	ASSERT_EQ_INT(reader_status(out, gid, false), 1, "nobody without the group cannot open them");
	/* logrotate: moved away, SIGHUP, a new file made after the drop */
	if (rename(out, rotated) == 0) {
		kill(v.c.pid, SIGHUP);
		CHECK(vigie_wait_action(&v, "sensor-reload", 5000), "reload after the move");
		check_mode(out, 0640, gid, "the file made again");
		check_mode(rotated, 0640, gid, "the rotated file");
	} else {
		CHECK(false, "rename %s", out);
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	ASSERT_EQ_INT(reader_status(out, gid, true), 0, "the new file read by nobody in the group");
out:
	free(dir);
}

int main(void)
{
	live_init("reload");
	reload();
	output_group();
	return live_finish();
}
