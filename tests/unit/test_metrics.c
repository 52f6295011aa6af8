// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/output/metrics*.c: the exposition text (golden string,
 * label escaping, cumulative histogram buckets, number formatting), the
 * sensor.metrics_listen parser, and the HTTP server over a real loopback
 * socket in this process (200, HEAD, 404, 405, 400, 431, a body larger than
 * the socket buffers written in parts, the deadline, the connection limit). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "base/config.h"
#include "output/metrics.h"

static void test_golden(void)
{
	struct mx_text t = { 0 };
	struct mx_kv kv = { 0 };
	struct mx_hist h;
	const double bounds[] = { 0.001, 0.01, 0.1 };
	const char *labels[] = { "map", "flows", "class", "db_client", NULL };

	mx_family(&t, "vigie_up", "gauge", "Whether it runs.");
	mx_sample(&t, "vigie_up", NULL, 1);
	mx_family(&t, "vigie_map_entries", "gauge", "Entries.");
	mx_sample_u64(&t, "vigie_map_entries", labels, 18446744073709551615ull);
	mx_kv_add(&kv, "usage", 3);
	mx_kv_add(&kv, "heartbeat", 1);
	mx_kv_add(&kv, "usage", 2);
	mx_kv_add(&kv, "alert", 0);
	mx_family(&t, "vigie_events_written_total", "counter", "Events\nwritten \\ by kind.");
	mx_kv_write(&t, "vigie_events_written_total", "kind", &kv);
	mx_hist_init(&h, bounds, 3);
	mx_hist_observe(&h, 0.0005);
	mx_hist_observe(&h, 0.001); /* le is inclusive */
	mx_hist_observe(&h, 0.05);
	mx_hist_observe(&h, 0.25);
	mx_hist_observe(&h, 7);
	mx_family(&t, "vigie_tick_duration_seconds", "histogram", "Tick duration.");
	mx_hist_write(&t, "vigie_tick_duration_seconds", &h);
	CHECK(!t.oom);
	CHECK_EQ_STR(t.s,
		     "# HELP vigie_up Whether it runs.\n"
		     "# TYPE vigie_up gauge\n"
		     "vigie_up 1\n"
		     "# HELP vigie_map_entries Entries.\n"
		     "# TYPE vigie_map_entries gauge\n"
		     "vigie_map_entries{map=\"flows\",class=\"db_client\"} 18446744073709551615\n"
		     "# HELP vigie_events_written_total Events\\nwritten \\\\ by kind.\n"
		     "# TYPE vigie_events_written_total counter\n"
		     "vigie_events_written_total{kind=\"alert\"} 0\n"
		     "vigie_events_written_total{kind=\"heartbeat\"} 1\n"
		     "vigie_events_written_total{kind=\"usage\"} 5\n"
		     "# HELP vigie_tick_duration_seconds Tick duration.\n"
		     "# TYPE vigie_tick_duration_seconds histogram\n"
		     "vigie_tick_duration_seconds_bucket{le=\"0.001\"} 2\n"
		     "vigie_tick_duration_seconds_bucket{le=\"0.01\"} 2\n"
		     "vigie_tick_duration_seconds_bucket{le=\"0.1\"} 3\n"
		     "vigie_tick_duration_seconds_bucket{le=\"+Inf\"} 5\n"
		     "vigie_tick_duration_seconds_sum 7.3015\n"
		     "vigie_tick_duration_seconds_count 5\n");
	CHECK_EQ_INT(t.len, strlen(t.s));
	mx_text_free(&t);
}

static void test_escaping(void)
{
	struct mx_text t = { 0 };
	const char *labels[] = { "host", "a\\b\"c\nd", "empty", "", NULL };

	mx_sample(&t, "vigie_info", labels, 1);
	CHECK_EQ_STR(t.s, "vigie_info{host=\"a\\\\b\\\"c\\nd\",empty=\"\"} 1\n");
	mx_text_free(&t);
}

static void test_numbers(void)
{
	char b[40];

	mx_format_double(b, sizeof(b), 0.1);
	CHECK_EQ_STR(b, "0.1");
	mx_format_double(b, sizeof(b), 0.0001);
	CHECK_EQ_STR(b, "0.0001");
	mx_format_double(b, sizeof(b), 2.5);
	CHECK_EQ_STR(b, "2.5");
	mx_format_double(b, sizeof(b), 0);
	CHECK_EQ_STR(b, "0");
	mx_format_double(b, sizeof(b), 1796480578.25);
	CHECK_EQ_STR(b, "1796480578.25");
	mx_format_double(b, sizeof(b), 1.0 / 3);
	CHECK(strtod(b, NULL) == 1.0 / 3);
	mx_format_double(b, sizeof(b), INFINITY);
	CHECK_EQ_STR(b, "+Inf");
	mx_format_double(b, sizeof(b), -INFINITY);
	CHECK_EQ_STR(b, "-Inf");
	mx_format_double(b, sizeof(b), NAN);
	CHECK_EQ_STR(b, "NaN");
}

static void test_kv_overflow(void)
{
	struct mx_kv kv = { 0 };
	char key[16];

	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		mx_kv_add(&kv, key, 1);
	}
	mx_kv_add(&kv, "k00", 1);
	mx_kv_add(&kv, NULL, 1);
	mx_kv_add(&kv, "a-key-much-longer-than-the-forty-eight-bytes-kept-here", 1);
	CHECK_EQ_INT(kv.n, MX_KV_MAX);
	CHECK_EQ_INT(mx_kv_get(&kv, "k00"), 2);
	CHECK_EQ_INT(mx_kv_get(&kv, "k30"), 1);
	CHECK_EQ_INT(mx_kv_get(&kv, "k31"), 0);
	CHECK_EQ_INT(mx_kv_get(&kv, "other"), 9 + 2); /* k31..k39, NULL, too long */
}

static void test_listen_parse(void)
{
	struct config_endpoint e;
	struct vigie_config cfg;
	char err[512] = "";
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
					   "localhost:9464", "::1:9464", "[::1]", "[127.0.0.1]:80",
					   "[::1]:x", "127.0.0.1:9464x", "1.2.3:80", ":9464" };

	CHECK_EQ_INT(config_parse_listen("127.0.0.1:9464", &e), 0);
	CHECK_EQ_INT(e.family, AF_INET);
	CHECK_EQ_INT(e.port, 9464);
	CHECK_EQ_INT(e.addr[0], 127);
	CHECK_EQ_INT(e.addr[3], 1);
	CHECK_EQ_INT(config_parse_listen("[::1]:19464", &e), 0);
	CHECK_EQ_INT(e.family, AF_INET6);
	CHECK_EQ_INT(e.port, 19464);
	CHECK_EQ_INT(e.addr[15], 1);
	CHECK_EQ_INT(config_parse_listen("0.0.0.0:65535", &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(config_parse_listen(bad[i], &e) == -1, "'%s' accepted", bad[i]);

	CHECK_EQ_INT(config_init(&cfg), 0);
	CHECK(cfg.metrics_listen == NULL);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"metrics_listen\": \"[::1]:9464\"}}",
					err, sizeof(err)), 0);
	CHECK_EQ_STR(cfg.metrics_listen, "[::1]:9464");
	CHECK_EQ_INT(cfg.metrics_addr.port, 9464);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"metrics_listen\": null}}", err,
					sizeof(err)), 0);
	CHECK(cfg.metrics_listen == NULL);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\n\"metrics_listen\": \"host:9464\"}}",
					err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "(config):2: sensor.metrics_listen: must be") != NULL, "%s", err);
	CHECK_EQ_INT(config_load_string(&cfg, "{\"sensor\": {\"metrics_listen\": 9464}}", err,
					sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.metrics_listen") != NULL, "%s", err);
	config_free(&cfg);
}

/* ---- the server over loopback ------------------------------------------ */

static size_t big_size; /* 0: the small body */

static void render(struct mx_text *t, void *ctx)
{
	(void)ctx;
	if (!big_size) {
		mx_family(t, "vigie_test", "counter", "A test.");
		mx_sample_u64(t, "vigie_test_total", NULL, 42);
		return;
	}
	while (t->len + 64 <= big_size && !t->oom)
		mx_sample_u64(t, "vigie_padding_with_a_rather_long_name_total", NULL, 1234567890ull);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* 1 when nothing listens on 127.0.0.1:port. */
static int connect_v4_fails(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ret = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0;
	close(fd);
	return ret;
}

/* Serve while reading fd until EOF (or 3 s). The response, malloc'ed. */
static char *read_all(struct metrics_server *m, int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	double end = now_s() + 3;

	while (buf && now_s() < end) {
		struct pollfd p[2] = { { .fd = metrics_server_fd(m), .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		ssize_t r;

		poll(p, 2, 50);
		metrics_server_service(m);
		if (n + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		r = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			n += (size_t)r;
		else if (errno != EAGAIN)
			break;
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* After the client closed: the server closes its side too (bounded wait). */
static void settle(struct metrics_server *m)
{
	for (int i = 0; i < 40 && metrics_server_conns(m); i++) {
		poll(&(struct pollfd){ .fd = metrics_server_fd(m), .events = POLLIN }, 1, 25);
		metrics_server_service(m);
	}
	CHECK_EQ_INT(metrics_server_conns(m), 0);
}

static char *exchange(struct metrics_server *m, const char *req, size_t req_len, size_t *len)
{
	int fd = connect_to(metrics_server_port(m));
	char *resp;

	if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
		abort();
	resp = read_all(m, fd, len);
	close(fd);
	settle(m);
	return resp;
}

static void check_status(struct metrics_server *m, const char *req, const char *status_line)
{
	size_t len;
	char *resp = exchange(m, req, strlen(req), &len);

	CHECK_MSG(resp && !strncmp(resp, status_line, strlen(status_line)),
		  "request '%.40s': got '%.60s', want '%s'", req, resp ? resp : "", status_line);
	free(resp);
}

static void test_server(void)
{
	struct config_endpoint addr = { .family = AF_INET, .addr = { 127, 0, 0, 1 }, .port = 0 };
	struct metrics_server *m = metrics_server_new(&addr, "127.0.0.1:0", render, NULL);
	const char *want_body = "# HELP vigie_test A test.\n# TYPE vigie_test counter\n"
				"vigie_test_total 42\n";
	char want[512], *resp, *pad;
	size_t len;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(metrics_server_port(m) > 0);
	snprintf(want, sizeof(want),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(want_body), want_body);
	resp = exchange(m, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", 47, &len);
	CHECK_EQ_STR(resp, want);
	free(resp);
	/* HEAD: the same headers, no body */
	resp = exchange(m, "HEAD /metrics HTTP/1.0\r\n\r\n", 26, &len);
	CHECK_EQ_INT(len, strlen(want) - strlen(want_body));
	free(resp);
	check_status(m, "GET /metrics?x=1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	check_status(m, "GET /metrics\n\n", "HTTP/1.1 400 Bad Request\r\n");
	check_status(m, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n");
	check_status(m, "GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n");
	check_status(m, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		     "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: 19\r\nAllow: GET, HEAD\r\n");
	check_status(m, "DELETE /x HTTP/1.1\r\n\r\n", "HTTP/1.1 405 ");
	/* garbage: answered as soon as the first line shows it, no end needed */
	check_status(m, "hello\r\n", "HTTP/1.1 400 Bad Request\r\n");
	check_status(m, "\x16\x03\x01\x02\x00\x01", "HTTP/1.1 400 Bad Request\r\n");
	check_status(m, "GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 400 ");
	check_status(m, "get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	check_status(m, "GET metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	/* oversized: 9000 bytes of headers without their end */
	pad = malloc(9001);
	memset(pad, 'a', 9000);
	memcpy(pad, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
	pad[9000] = '\0';
	check_status(m, pad, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
	/* a request line longer than the limit */
	memcpy(pad, "GET /", 5);
	check_status(m, pad, "HTTP/1.1 431 ");
	free(pad);
	CHECK_EQ_INT(metrics_server_conns(m), 0);

	/* 4 MB: more than the socket buffers, continued on EPOLLOUT */
	big_size = 4 << 20;
	resp = exchange(m, "GET /metrics HTTP/1.1\r\n\r\n", 25, &len);
	CHECK(resp && strstr(resp, "\r\n\r\n"));
	if (resp && strstr(resp, "\r\n\r\n")) {
		size_t hdr = (size_t)(strstr(resp, "\r\n\r\n") + 4 - resp);
		size_t clen = strtoul(strstr(resp, "Content-Length: ") + 16, NULL, 10);

		CHECK_MSG(clen > (4u << 20) - 128 && clen <= 4u << 20, "Content-Length %zu", clen);
		CHECK_EQ_INT(len - hdr, clen);
	}
	free(resp);
	big_size = 0;

	/* deadline and limit: a client that sends nothing is closed */
	metrics_server_set_limits(m, 300, 2);
	{
		int idle1 = connect_to(metrics_server_port(m)), idle2, third;
		double t0 = now_s();

		for (int i = 0; i < 10 && metrics_server_conns(m) < 1; i++) {
			poll(&(struct pollfd){ .fd = metrics_server_fd(m), .events = POLLIN }, 1, 50);
			metrics_server_service(m);
		}
		idle2 = connect_to(metrics_server_port(m));
		for (int i = 0; i < 10 && metrics_server_conns(m) < 2; i++) {
			poll(&(struct pollfd){ .fd = metrics_server_fd(m), .events = POLLIN }, 1, 50);
			metrics_server_service(m);
		}
		CHECK_EQ_INT(metrics_server_conns(m), 2);
		third = connect_to(metrics_server_port(m));
		send(third, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL);
		resp = read_all(m, third, &len);
		CHECK_MSG(resp && !strncmp(resp, "HTTP/1.1 503 ", 13), "third: '%s'", resp);
		free(resp);
		close(third);
		resp = read_all(m, idle1, &len); /* EOF when the deadline closes it */
		CHECK_EQ_INT(len, 0);
		CHECK_MSG(now_s() - t0 >= 0.29 && now_s() - t0 < 1.0, "closed after %.3f s",
			  now_s() - t0);
		free(resp);
		resp = read_all(m, idle2, &len);
		CHECK_EQ_INT(len, 0);
		free(resp);
		CHECK_EQ_INT(metrics_server_conns(m), 0);
		close(idle1);
		close(idle2);
	}
	check_status(m, "GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	metrics_server_free(m);
	metrics_server_free(NULL);
}

/* [::1]: the IPv6 form listens IPv6-only and answers. */
static void test_ipv6(void)
{
	struct config_endpoint addr = { .family = AF_INET6, .port = 0 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct metrics_server *m;
	int fd, probe = socket(AF_INET6, SOCK_STREAM, 0);
	char *resp;
	size_t len;

	if (probe < 0 || bind(probe, (struct sockaddr *)&sin6, sizeof(sin6))) {
		printf("test_ipv6: no ::1 here, skipped\n");
		if (probe >= 0)
			close(probe);
		return;
	}
	close(probe);
	addr.addr[15] = 1;
	m = metrics_server_new(&addr, "[::1]:0", render, NULL);
	CHECK(m != NULL);
	if (!m)
		return;
	sin6.sin6_port = htons(metrics_server_port(m));
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	resp = read_all(m, fd, &len);
	CHECK_MSG(resp && !strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), "[::1]: '%.40s'", resp);
	CHECK(resp && strstr(resp, "\r\n\r\n# HELP vigie_test A test.\n"));
	free(resp);
	close(fd);
	/* not on 127.0.0.1 */
	CHECK_EQ_INT(connect_v4_fails(metrics_server_port(m)), 1);
	metrics_server_free(m);
}

static void test_bad_listen(void)
{
	struct config_endpoint addr = { .family = AF_INET, .addr = { 192, 0, 2, 1 }, .port = 9 };

	/* not an address of this host */
	CHECK(metrics_server_new(&addr, "192.0.2.1:9", render, NULL) == NULL);
}

int main(void)
{
	test_golden();
	test_escaping();
	test_numbers();
	test_kv_overflow();
	test_listen_parse();
	test_server();
	test_ipv6();
	test_bad_listen();
	return check_summary();
}
