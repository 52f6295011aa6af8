// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: the Prometheus endpoint (sensor.metrics_listen).
 *
 * A real Prometheus (Debian's package) started here on 127.0.0.1:19090,
 * with its own configuration and storage in the test's temporary directory,
 * scrapes vigie on 127.0.0.1:19464 every second; the series are read back
 * with its HTTP API: up == 1, events written per kind (sensor-start == 1),
 * vigie_info's labels, and the usage events counter, driven by known
 * traffic, equal to what the output file holds when vigie stops.
 * Slow and malformed clients never block the sensor: while one client
 * holds a connection open sending nothing and another sends garbage (400),
 * heartbeats keep their schedule and /metrics answers a third client within
 * 1 s; the held connection is closed by the 2 s deadline.
 * Without the key no port is opened; a bad value exits 2 naming the key.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/live.h"

#define VIGIE_PORT 19464
#define PROM_PORT 19090
#define JOB "vigie-live-metrics"
#define SENT_BYTES 1234567

/* ---- HTTP over loopback ---------------------------------------------------- */

static int connect_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Everything fd sends until EOF or timeout_ms; malloc'ed. *eof: EOF seen. */
static char *read_until_eof(int fd, int timeout_ms, bool *eof)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	double end = live_now() + timeout_ms / 1000.0;

	*eof = false;
	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - live_now()) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (n + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0) {
			*eof = r == 0;
			break;
		}
		n += (size_t)r;
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* GET path: the status (-1: no answer) and the body (malloc'ed) if asked. */
static int http_get(int port, const char *path, int timeout_ms, char **body)
{
	char req[2048], *resp, *b;
	int fd = connect_port(port), status = -1;
	bool eof;

	if (body)
		*body = NULL;
	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		 path);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
		resp = read_until_eof(fd, timeout_ms, &eof);
		if (resp && sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
			status = -1;
		b = resp ? strstr(resp, "\r\n\r\n") : NULL;
		if (body && b)
			*body = strdup(b + 4);
		free(resp);
	}
	close(fd);
	return status;
}

/* ---- Prometheus ------------------------------------------------------------- */

static struct child prom;
static bool prom_running;

static void url_encode(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", c);
	}
	out[n] = '\0';
}

/* data.result of an instant query (new reference), NULL on failure. */
static json_t *prom_query(const char *expr)
{
	char path[1024], enc[768], *body = NULL;
	json_t *root, *res = NULL;

	url_encode(expr, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
	if (http_get(PROM_PORT, path, 3000, &body) != 200 || !body) {
		free(body);
		return NULL;
	}
	root = json_loads(body, 0, NULL);
	free(body);
	res = json_incref(jpath(root, "data.result"));
	json_decref(root);
	return json_is_array(res) ? res : (json_decref(res), NULL);
}

/* Value of the only series of expr; NAN when none or more than one. *ts
 * gets the sample's timestamp when non-NULL. */
static double prom_value(const char *expr, double *ts)
{
	json_t *r = prom_query(expr), *v;
	double val = NAN;

	if (r && json_array_size(r) == 1) {
		v = json_object_get(json_array_get(r, 0), "value");
		if (json_is_array(v) && json_string_value(json_array_get(v, 1))) {
			val = strtod(json_string_value(json_array_get(v, 1)), NULL);
			if (ts)
				*ts = json_number_value(json_array_get(v, 0));
		}
	}
	json_decref(r);
	return val;
}

/* Wait (bounded) until expr has one series whose value is want. */
static bool prom_wait(const char *expr, double want, int timeout_ms)
{
	double end = live_now() + timeout_ms / 1000.0;

	do {
		if (prom_value(expr, NULL) == want)
			return true;
		usleep(250000);
	} while (live_now() < end);
	return false;
}

static int prom_start(void)
{
	char cfg[512], arg_cfg[600], arg_db[600], arg_listen[64], *p, *err;
	char *argv[] = { "/usr/bin/prometheus", arg_cfg, arg_db, arg_listen,
			 "--log.level=warn", "--storage.tsdb.retention.time=1h", NULL };

	snprintf(cfg, sizeof(cfg),
		 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
		 "scrape_configs:\n  - job_name: " JOB "\n    static_configs:\n"
		 "      - targets: ['127.0.0.1:%d']\n", VIGIE_PORT);
	p = live_write_file("prometheus.yml", cfg);
	snprintf(arg_cfg, sizeof(arg_cfg), "--config.file=%s", p);
	free(p);
	snprintf(arg_db, sizeof(arg_db), "--storage.tsdb.path=%s/prometheus-data", live_tmpdir());
	snprintf(arg_listen, sizeof(arg_listen), "--web.listen-address=127.0.0.1:%d", PROM_PORT);
	err = live_path("prometheus.err");
	if (child_spawn(&prom, &(struct spawn_opts){ .stderr_path = err }, argv))
		return -1;
	prom_running = true;
	/* ready: /-/ready answers 200 (bounded: 30 s) */
	for (int i = 0; i < 120; i++) {
		if (http_get(PROM_PORT, "/-/ready", 1000, NULL) == 200)
			return 0;
		if (child_exited(&prom))
			break;
		usleep(250000);
	}
	live_sh("cat %s >&2", err);
	return -1;
}

static void prom_stop(void)
{
	if (!prom_running)
		return;
	kill(prom.pid, SIGTERM);
	child_wait(&prom, 10000);
	prom_running = false;
	live_sh("rm -rf %s/prometheus-data", live_tmpdir());
}

/* ---- sockets of a process --------------------------------------------------- */

/* TCP sockets of pid in LISTEN state; *port gets the last one's port. */
static int listening_sockets(pid_t pid, int *port)
{
	char path[64], link[64], line[512];
	unsigned long inodes[256];
	int n_inodes = 0, count = 0;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n_inodes < 256) {
		char fdp[400];
		ssize_t l;

		snprintf(fdp, sizeof(fdp), "%s/%s", path, d->d_name);
		l = readlink(fdp, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[n_inodes]) == 1)
			n_inodes++;
	}
	closedir(dir);
	for (int v6 = 0; v6 < 2; v6++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", pid, v6 ? "6" : "");
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned int lport, st;
			unsigned long ino;

			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x "
					 "%*u %*u %lu", &lport, &st, &ino) != 3 || st != 0x0A)
				continue;
			for (int i = 0; i < n_inodes; i++)
				if (inodes[i] == ino) {
					count++;
					*port = (int)lport;
				}
		}
		fclose(f);
	}
	return count;
}

/* ---- the checks -------------------------------------------------------------- */

static const char *config_on =
	"{\"sensor\": {\"metrics_listen\": \"127.0.0.1:19464\"},\n"
	" \"network\": {\"exclude_loopback\": false}}\n";

static void check_config(void)
{
	char *path, *err = NULL;
	int st, fd, port = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(19465) };

	live_section("a bad sensor.metrics_listen exits 2 naming it; a busy port exits 1");
	path = live_write_file("bad-metrics.json",
			       "{\"sensor\": {\n  \"metrics_listen\": \"localhost:9464\"}}\n");
	st = vigie_exec(NULL, &err, 10000, "run", "--check-config", "-c", path, NULL);
	ASSERT_EQ_INT(st, 2, "exit status of a bad metrics_listen");
	ASSERT_CONTAINS(err, "bad-metrics.json:2: sensor.metrics_listen: must be",
			"message names the file, line and key");
	free(err);
	free(path);
	path = live_write_file("ok-metrics.json", "{\"sensor\": {\"metrics_listen\": \"[::1]:19466\"}}");
	st = vigie_exec(NULL, NULL, 10000, "run", "--check-config", "-c", path, NULL);
	ASSERT_EQ_INT(st, 0, "[::1]:19466 accepted");
	free(path);

	/* 127.0.0.1:19465 taken by this test: vigie stops with a message */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	ASSERT_EQ_INT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 1), 0,
		      "test holds 127.0.0.1:19465");
	path = live_write_file("busy-metrics.json",
			       "{\"sensor\": {\"metrics_listen\": \"127.0.0.1:19465\"}}");
	st = vigie_exec(NULL, &err, 30000, "run", "-c", path, "-o", live_path("busy.json"),
			"--duration", "5", NULL);
	ASSERT_EQ_INT(st, 1, "exit status when the port is taken");
	ASSERT_CONTAINS(err, "sensor.metrics_listen: cannot listen on 127.0.0.1:19465: Address "
			     "already in use", "message");
	free(err);
	free(path);
	close(fd);
	(void)port;
}

static void check_no_key(void)
{
	struct vigie v;
	int port = 0;

	live_section("without sensor.metrics_listen: no port opened");
	if (vigie_start(&v, NULL, "--probes", "sock", NULL)) {
		CHECK(false, "vigie starts");
		return;
	}
	ASSERT_EQ_INT(listening_sockets(v.c.pid, &port), 0, "listening sockets of vigie");
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
}

/* Heartbeat times between t0 and t1 (realtime seconds): count, largest gap. */
static int heartbeats(const char *out_path, double t0, double t1, double *max_gap)
{
	struct events ev;
	double prev = 0;
	int n = 0;

	*max_gap = 0;
	if (events_load(&ev, out_path))
		return -1;
	for (size_t i = 0; i < ev.n; i++) {
		const char *a = jstr(ev.ev[i], "event.action");
		double ts = live_parse_ts(jstr(ev.ev[i], "@timestamp"));

		if (!a || strcmp(a, "heartbeat") || ts < t0 || ts > t1)
			continue;
		if (n++ && ts - prev > *max_gap)
			*max_gap = ts - prev;
		prev = ts;
	}
	events_free(&ev);
	return n;
}

static void check_slow_clients(const struct vigie *v)
{
	int held, bad, status;
	double t0, t, gap;
	char *resp, *body = NULL;
	bool eof;

	live_section("a client sending nothing and one sending garbage block nothing");
	t0 = live_now();
	held = connect_port(VIGIE_PORT);
	bad = connect_port(VIGIE_PORT);
	CHECK(held >= 0 && bad >= 0, "both clients connect");
	if (held < 0 || bad < 0)
		return;
	send(bad, "\x16\x03\x01\x02\x00 garbage\r\n", 17, MSG_NOSIGNAL);
	resp = read_until_eof(bad, 3000, &eof);
	ASSERT_CONTAINS(resp, "HTTP/1.1 400 Bad Request\r\n", "garbage answered 400");
	CHECK(eof, "garbage client closed after the answer");
	free(resp);
	close(bad);
	usleep(500000);
	t = live_now();
	status = http_get(VIGIE_PORT, "/metrics", 1000, &body);
	ASSERT_EQ_INT(status, 200, "/metrics while a client holds a connection");
	CHECK(live_now() - t < 1.0, "answered in %.3f s (< 1 s)", live_now() - t);
	ASSERT_CONTAINS(body, "vigie_events_written_total{kind=\"heartbeat\"}", "body");
	free(body);
	resp = read_until_eof(held, 5000, &eof);
	CHECK(eof && resp && !resp[0], "held connection closed without an answer (EOF: %d)", eof);
	t = live_now() - t0;
	CHECK(t >= 1.9 && t <= 3.3, "held connection closed by the deadline after %.2f s "
				    "(2 s, checked at each tick)", t);
	free(resp);
	close(held);
	/* a 1 s heartbeat keeps its cadence (each deadline one period after the
	 * last, not after the tick that wrote it): gaps of about 1 s */
	usleep(1500000);
	status = heartbeats(v->out_path, t0 - 1, live_now(), &gap);
	CHECK(status >= 2, "heartbeats while the clients were there: %d (>= 2)", status);
	CHECK(gap > 0.5 && gap <= 1.5, "largest gap between heartbeats %.3f s (<= 1.5)", gap);
}

/* Usage events written at or before t (realtime s); *last: newest one. */
static int usage_events_until(const struct events *ev, double t, pid_t pid, double *at)
{
	int n = 0;

	for (size_t i = 0; i < ev->n; i++) {
		const char *a = jstr(ev->ev[i], "event.action");
		double ts = live_parse_ts(jstr(ev->ev[i], "@timestamp"));

		if (!a || strcmp(a, "usage"))
			continue;
		if (pid && jint(ev->ev[i], "process.pid", 0) == pid && at)
			*at = ts;
		if (ts <= t)
			n++;
	}
	return n;
}

static void check_usage_counter(struct vigie *v)
{
	struct child sink;
	struct events ev;
	char port_s[16], sel[128];
	long long sent = -1;
	double flush = 0, ts = 0, end, value;
	pid_t pid = 0;
	int port;

	live_section("usage events counted by Prometheus == usage events in the file");
	port = tg_server(&sink, NULL, "sink", "0", "127.0.0.1", NULL);
	CHECK(port > 0, "sink listens");
	if (port <= 0)
		return;
	snprintf(port_s, sizeof(port_s), "%d", port);
	ASSERT_EQ_INT(tg_run(&pid, &sent, NULL, "send", "127.0.0.1", port_s, "1234567", "4096", NULL),
		      0, "trafficgen send");
	ASSERT_EQ_U64(sent, SENT_BYTES, "bytes sent");
	child_wait(&sink, 5000);
	/* the periodic flush (every 5 s) that holds our traffic */
	end = live_now() + 15;
	while (!flush && live_now() < end) {
		usleep(250000);
		if (events_load(&ev, v->out_path) == 0) {
			usage_events_until(&ev, 0, pid, &flush);
			events_free(&ev);
		}
	}
	CHECK(flush > 0, "usage event of the sender written");
	/* a scrape after that flush, well before the next one (flush + 5 s) */
	snprintf(sel, sizeof(sel), "vigie_events_written_total{job=\"" JOB "\",kind=\"usage\"}");
	end = live_now() + 4;
	do {
		char expr[200];

		snprintf(expr, sizeof(expr), "timestamp(%s)", sel);
		ts = prom_value(expr, NULL);
		if (ts > flush + 0.3)
			break;
		usleep(200000);
	} while (live_now() < end);
	value = prom_value(sel, NULL);
	CHECK(ts > flush + 0.3 && live_now() < flush + 4.5,
	      "scraped %.2f s after the flush, read %.2f s after it", ts - flush, live_now() - flush);
	ASSERT_EQ_INT(vigie_stop(v), 0, "vigie exit status");
	if (events_load(&ev, v->out_path)) {
		CHECK(false, "output file readable");
		return;
	}
	CHECK(value >= 1, "usage events counted: %.0f", value);
	ASSERT_EQ_INT((long long)value, usage_events_until(&ev, flush, 0, NULL),
		      "Prometheus's vigie_events_written_total{kind=\"usage\"} vs usage events "
		      "in the file up to that flush");
	ASSERT_EQ_U64(usage_bytes(&ev, pid, "egress", NULL), SENT_BYTES, "egress bytes of the sender");
	events_free(&ev);
}

static void check_prometheus(struct vigie *v)
{
	struct events ev;
	json_t *r, *m, *start;
	char *body = NULL;
	int port = 0;
	double n;

	live_section("Prometheus scrapes 127.0.0.1:19464");
	ASSERT_EQ_INT(listening_sockets(v->c.pid, &port), 1, "listening sockets of vigie");
	ASSERT_EQ_INT(port, VIGIE_PORT, "its port");
	ASSERT_EQ_INT(http_get(VIGIE_PORT, "/metrics", 2000, &body), 200, "direct GET /metrics");
	ASSERT_CONTAINS(body, "\nvigie_events_written_total{kind=\"sensor-start\"} 1\n", "body");
	free(body);
	if (prom_start()) {
		CHECK(false, "Prometheus starts on 127.0.0.1:19090");
		return;
	}
	CHECK(prom_wait("up{job=\"" JOB "\"}", 1, 30000), "up{job=\"" JOB "\"} == 1");
	n = prom_value("vigie_events_written_total{job=\"" JOB "\",kind=\"sensor-start\"}", NULL);
	CHECK(n == 1, "vigie_events_written_total{kind=\"sensor-start\"}: %g, want 1", n);
	n = prom_value("vigie_events_dropped_total{job=\"" JOB "\",kind=\"heartbeat\"}", NULL);
	CHECK(n == 0, "vigie_events_dropped_total{kind=\"heartbeat\"}: %g, want 0", n);
	n = prom_value("vigie_map_capacity{job=\"" JOB "\",map=\"flows\"}", NULL);
	CHECK(n == 32768, "vigie_map_capacity{map=\"flows\"}: %g, want 32768", n);
	n = prom_value("vigie_output_queue_depth{job=\"" JOB "\"}", NULL);
	CHECK(n == 0, "vigie_output_queue_depth: %g, want 0", n);
	n = prom_value("vigie_tick_duration_seconds_bucket{job=\"" JOB "\",le=\"+Inf\"} - "
		       "ignoring(le) vigie_tick_duration_seconds_count{job=\"" JOB "\"}", NULL);
	CHECK(n == 0, "tick histogram: +Inf bucket - count = %g, want 0", n);
	n = prom_value("vigie_drain_duration_seconds_count{job=\"" JOB "\"}", NULL);
	CHECK(n >= 1, "drain histogram count %g >= 1", n);
	events_load(&ev, v->out_path);
	start = events_find(&ev, "sensor-start");
	r = prom_query("vigie_info{job=\"" JOB "\"}");
	ASSERT_EQ_INT(r ? (long long)json_array_size(r) : -1, 1, "vigie_info series");
	m = json_object_get(json_array_get(r, 0), "metric");
	ASSERT_EQ_STR(jstr(m, "probe_mode"), "sock", "vigie_info probe_mode");
	ASSERT_EQ_STR(jstr(m, "probe_variant"), jstr(start, "vigie.probe_mode"),
		      "vigie_info probe_variant == sensor-start's vigie.probe_mode");
	ASSERT_EQ_STR(jstr(m, "host"), jstr(start, "host.name"), "vigie_info host");
	ASSERT_EQ_STR(jstr(m, "version"), jstr(start, "vigie.version"), "vigie_info version");
	json_decref(r);
	events_free(&ev);
}

int main(void)
{
	struct vigie v;

	live_init("metrics");
	live_on_cleanup(prom_stop);
	check_config();
	check_no_key();
	live_section("vigie with sensor.metrics_listen 127.0.0.1:19464");
	if (vigie_start(&v, config_on, "--probes", "sock", "--heartbeat", "1", "--usage-interval", "5",
			NULL)) {
		CHECK(false, "vigie starts");
		return live_finish();
	}
	check_prometheus(&v);
	if (prom_running) {
		check_slow_clients(&v);
		CHECK(prom_value("up{job=\"" JOB "\"}", NULL) == 1, "up still 1 after the clients");
		check_usage_counter(&v);
	} else {
		vigie_stop(&v);
	}
	prom_stop();
	return live_finish();
}
