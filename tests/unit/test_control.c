// SPDX-License-Identifier: GPL-2.0
/*
 * vigie top's control socket without probes (user/sensor/control_rows.c,
 * control.c): requests, row keys and their order (ratio, volume, ties),
 * the rows of a real detector (sorted, cut to the limit, filtered by kind,
 * totals); the server on a socket of its own: mode 0600, answers, errors,
 * the request budget per tick, the client limit, a slow client dropped,
 * stale and foreign files at its path, removal at the end. The view's text
 * is test_top.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "detect_capture.h"
#include "base/config.h"
#include "base/log.h"
#include "sensor/control.h"
#include "sensor/sensor_int.h"
#include "view/top_int.h"

#define T0 1709510400000000000ull /* 2024-03-04T00:00:00Z */

/* ---- requests and row keys ------------------------------------------------------------ */

static void expect_request(const char *line, int ok, const char *err_part)
{
	struct control_query q;
	char err[200] = "";
	int rc = control_parse_request(line, strlen(line), &q, err, sizeof(err));

	CHECK_MSG(rc == (ok ? 0 : -1), "request '%s': %d", line, rc);
	if (!ok)
		CHECK_MSG(strstr(err, err_part) != NULL, "request '%s': error '%s' lacks '%s'", line,
			  err, err_part);
}

static void test_requests(void)
{
	struct control_query q;
	char err[200];
	const char *full = "{\"request\":\"snapshot\",\"sort\":\"volume\",\"kind\":\"peer\",\"limit\":7}";

	CHECK_EQ_INT(control_parse_request("{\"request\":\"snapshot\"}", 22, &q, err, sizeof(err)), 0);
	CHECK(q.sort == CONTROL_SORT_RATIO && q.kind == -1 && q.limit == CONTROL_DEFAULT_ROWS);
	CHECK_EQ_INT(control_parse_request(full, strlen(full), &q, err, sizeof(err)), 0);
	CHECK(q.sort == CONTROL_SORT_VOLUME && q.kind == PK_PEER && q.limit == 7);
	expect_request("{\"request\":\"snapshot\",\"kind\":\"all\",\"limit\":1000}", 1, NULL);
	expect_request("snapshot", 0, "a request is a JSON object");
	expect_request("{\"request\":\"stop\"}", 0, "the only request");
	expect_request("{\"sort\":\"ratio\"}", 0, "the only request");
	expect_request("{\"request\":\"snapshot\",\"sort\":\"size\"}", 0, "sort: must be");
	expect_request("{\"request\":\"snapshot\",\"kind\":\"group\"}", 0, "kind: must be");
	expect_request("{\"request\":\"snapshot\",\"limit\":0}", 0, "limit: must be an integer from 1");
	expect_request("{\"request\":\"snapshot\",\"limit\":1001}", 0, "limit");
	expect_request("{\"request\":\"snapshot\",\"limit\":\"5\"}", 0, "limit");
	expect_request("{\"request\":\"snapshot\",\"write\":true}", 0, "unknown field 'write'");
	expect_request("{\"request\":\"snapshot\",\"request\":\"snapshot\"}", 0, "JSON object");
	/* a long name is quoted whole characters only: the error is sent as a
	 * JSON string (the fuzz harness found a cut "é" there) */
	{
		const char *line = "{\"request\":\"snapshot\",\"a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\":1}";
		json_t *msg;

		CHECK_EQ_INT(control_parse_request(line, strlen(line), &q, err, sizeof(err)), -1);
		msg = json_string(err);
		CHECK_MSG(msg != NULL, "error '%s' is valid UTF-8", err);
		CHECK(strstr(err, "'a\xc3\xa9") != NULL && strstr(err, "\xc3\xa9' (request") != NULL);
		json_decref(msg);
	}
}

static void view_row(struct detect_view_row *r, enum principal_kind kind, const char *id)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->id = id;
	for (int m = 0; m < M_MAX; m++)
		for (int w = 0; w < W_MAX; w++) {
			r->m[m].w[w].normal = -1;
			r->m[m].w[w].ratio = -1;
		}
}

static void set_window(struct detect_view_row *r, int m, int w, uint64_t observed, double normal)
{
	r->m[m].active = true;
	r->m[m].w[w].observed = observed;
	r->m[m].w[w].normal = normal;
	r->m[m].w[w].ratio = normal > 0 ? (double)observed / normal : -1;
}

static void test_keys_order(void)
{
	struct detect_view_row a, b, c, d;
	struct control_key ka, kb, kc, kd;

	/* a: rows 80x at 1m, egress 3x at 1h; an open episode on rows */
	view_row(&a, PK_DB_USER, "a");
	set_window(&a, M_DB_ROWS, W_1M, 2000, 25);
	set_window(&a, M_EGRESS_BYTES, W_1M, 1000, -1);
	set_window(&a, M_EGRESS_BYTES, W_1H, 3000, 1000);
	a.m[M_DB_ROWS].episode_open = true;
	a.m[M_DB_ROWS].episode_level = 1;
	/* b: no normal anywhere, 50 MB of egress in the last minute */
	view_row(&b, PK_PEER, "b");
	set_window(&b, M_EGRESS_BYTES, W_1M, 50000000, -1);
	set_window(&b, M_DB_ROWS, W_1M, 90000000, -1);
	/* c: the same ratio as a, no episode; d: an infinite ratio (normal 0) */
	view_row(&c, PK_USER, "c");
	set_window(&c, M_DB_BYTES, W_24H, 80, 1);
	view_row(&d, PK_USER, "d");
	d.m[M_DBFILE_BYTES].active = true;
	d.m[M_DBFILE_BYTES].w[W_1M].observed = 5;
	d.m[M_DBFILE_BYTES].w[W_1M].normal = 0;
	d.m[M_DBFILE_BYTES].w[W_1M].ratio = INFINITY;

	control_row_key(&a, CONTROL_SORT_RATIO, 0, &ka);
	CHECK(ka.ratio == 80 && ka.metric == M_DB_ROWS && ka.window == W_1M && ka.level == 1);
	CHECK_EQ_INT(ka.volume, 1000);
	CHECK_EQ_INT(ka.volume_1h, 3000);
	control_row_key(&b, CONTROL_SORT_RATIO, 1, &kb);
	/* no ratio: shown by its largest volume, bytes before records */
	CHECK(kb.ratio == -1 && kb.metric == M_EGRESS_BYTES && kb.window == W_1M);
	control_row_key(&c, CONTROL_SORT_RATIO, 2, &kc);
	CHECK(kc.ratio == 80 && kc.metric == M_DB_BYTES && kc.window == W_24H && kc.level == 0);
	control_row_key(&d, CONTROL_SORT_RATIO, 3, &kd);
	CHECK(isinf(kd.ratio) && kd.metric == M_DBFILE_BYTES);
	/* ratio: d (infinite), a (80 and an episode), c (80), b (none) */
	CHECK(control_key_cmp(&kd, &ka) < 0 && control_key_cmp(&ka, &kc) < 0 &&
	      control_key_cmp(&kc, &kb) < 0 && control_key_cmp(&ka, &ka) == 0);
	/* volume: b (50 MB) first; a's lead is then its egress, at its 1h ratio */
	control_row_key(&a, CONTROL_SORT_VOLUME, 0, &ka);
	control_row_key(&b, CONTROL_SORT_VOLUME, 1, &kb);
	CHECK(control_key_cmp(&kb, &ka) < 0);
	CHECK(ka.metric == M_EGRESS_BYTES && ka.window == W_1H);
	/* a tie: the walk's order */
	control_row_key(&c, CONTROL_SORT_VOLUME, 5, &kc);
	control_row_key(&c, CONTROL_SORT_VOLUME, 4, &kd);
	CHECK(control_key_cmp(&kd, &kc) < 0);
	/* JSON of a row: null for what has no value, never NaN or infinity */
	{
		json_t *j;
		char *s;

		control_row_key(&d, CONTROL_SORT_RATIO, 3, &kd);
		j = control_row_json(&d, &kd);
		s = json_dumps(j, JSON_COMPACT);
		CHECK(s && strstr(s, "\"ratio\":null") && strstr(s, "\"lead\":{\"metric\":"
								 "\"dbfile_bytes\",\"window\":\"1m\"}"));
		CHECK(s && strstr(s, "\"normal\":0.0"));
		free(s);
		json_decref(j);
	}
}

/* ---- the rows of a real detector ---------------------------------------------------- */

static void discard(json_t *ev, void *ctx)
{
	(void)ctx;
	json_decref(ev);
}

static struct detector *demo(struct detect_config *c, int extra_users)
{
	struct detector *d;
	struct trace_sample s;
	uint64_t t = T0 + 10 * 3600 * 1000000000ull;
	char name[32];

	*c = parse_cfg("{\"principals\":[\"db_user\",\"peer\"],\"profiles\":[{\"name\":\"adv\","
		       "\"match\":{\"db_users\":[\"adv*\"]},\"per_day\":{\"db_rows\":500}}]}");
	d = detector_new(c, discard, NULL);
	feed_rows(d, t, "adv1", 2000);     /* 80x its profile's 25 a minute */
	feed_rows(d, t, "adv2", 100);      /* 4x */
	feed_rows(d, t, "stranger", 50000); /* no profile: 50000 / (3000 / 10) */
	trace_sample_init(&s);
	s.ts_ns = t;
	s.pid = 100;
	s.uid = 105;
	strcpy(s.user, "postgres");
	strcpy(s.exe, "/usr/bin/postgres");
	strcpy(s.db_user, "adv2");
	strcpy(s.peer, "10.0.0.1");
	s.db_bytes = 5000000;
	detector_feed(d, &s);
	for (int i = 0; i < extra_users; i++) {
		snprintf(name, sizeof(name), "u%04d", i);
		feed_rows(d, t, name, 1 + (uint64_t)i % 7);
	}
	detector_advance(d, t + 1000000000ull);
	return d;
}

static json_t *rows_of(struct detector *d, enum control_sort sort, int kind, unsigned limit)
{
	struct control_query q = { .sort = sort, .kind = kind, .limit = limit };
	json_t *snap = json_object();

	CHECK_EQ_INT(control_rows(d, &q, snap), 0);
	return snap;
}

static const char *row_id(json_t *snap, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(snap, "rows"), i),
						 "id"));
}

static void test_detector_rows(void)
{
	struct detect_config c;
	struct detector *d = demo(&c, 0);
	json_t *snap, *adv1 = NULL, *w;
	size_t i;

	snap = rows_of(d, CONTROL_SORT_RATIO, -1, 100);
	CHECK_EQ_INT(json_integer_value(json_object_get(snap, "matched")), 4);
	CHECK_EQ_INT(json_array_size(json_object_get(snap, "rows")), 4);
	/* peer 10.0.0.1: 52100 records over 300; stranger 50000 over 300; adv1; adv2 */
	CHECK_EQ_STR(row_id(snap, 0), "10.0.0.1");
	CHECK_EQ_STR(row_id(snap, 1), "stranger");
	CHECK_EQ_STR(row_id(snap, 2), "adv1");
	CHECK_EQ_STR(row_id(snap, 3), "adv2");
	json_array_foreach(json_object_get(snap, "rows"), i, w)
		if (!strcmp(json_string_value(json_object_get(w, "id")), "adv1"))
			adv1 = w;
	w = json_object_get(json_object_get(json_object_get(adv1, "metrics"), "db_rows"), "1m");
	CHECK_EQ_INT(json_integer_value(json_object_get(w, "observed")), 2000);
	CHECK(json_number_value(json_object_get(w, "normal")) == 25);
	CHECK(json_number_value(json_object_get(w, "ratio")) == 80);
	CHECK(json_number_value(json_object_get(adv1, "ratio")) == 80);
	CHECK_EQ_STR(json_string_value(json_object_get(w, "reference")), "profile");
	CHECK_EQ_STR(json_string_value(json_object_get(adv1, "episode")), "medium");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(adv1, "lead"), "metric")),
		     "db_rows");
	CHECK_EQ_STR(json_string_value(json_object_get(adv1, "peer")), "10.0.0.1");
	CHECK_EQ_STR(json_string_value(json_object_get(adv1, "process")),
		     "/usr/bin/postgres@postgres");
	w = json_array_get(json_object_get(snap, "rows"), 1);
	CHECK_NEAR(json_number_value(json_object_get(w, "ratio")), 50000.0 / 300, 1e-9);
	CHECK_EQ_STR(json_string_value(json_object_get(w, "episode")), "high");
	w = json_object_get(snap, "totals");
	CHECK_EQ_INT(json_integer_value(json_object_get(w, "principals")), 4);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(w, "by_kind"), "db_user")), 3);
	/* per metric: the peer's records and bytes, stranger, adv1, adv2's bytes
	 * (5 MB, no profile volume for db_bytes: the new principal's ceiling) */
	CHECK_EQ_INT(json_integer_value(json_object_get(w, "episodes_open")), 5);
	json_decref(snap);
	/* volume: the 5 MB of adv2 and its peer first; the rest by records */
	snap = rows_of(d, CONTROL_SORT_VOLUME, -1, 100);
	CHECK_EQ_STR(row_id(snap, 0), "10.0.0.1");
	CHECK_EQ_STR(row_id(snap, 1), "adv2");
	CHECK_EQ_STR(row_id(snap, 2), "stranger");
	CHECK_EQ_STR(row_id(snap, 3), "adv1");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(
			     json_array_get(json_object_get(snap, "rows"), 1), "lead"), "metric")),
		     "db_bytes");
	json_decref(snap);
	/* a kind, a limit */
	snap = rows_of(d, CONTROL_SORT_RATIO, PK_DB_USER, 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(snap, "matched")), 3);
	CHECK_EQ_INT(json_array_size(json_object_get(snap, "rows")), 2);
	CHECK_EQ_STR(row_id(snap, 0), "stranger");
	CHECK_EQ_STR(row_id(snap, 1), "adv1");
	json_decref(snap);
	snap = rows_of(d, CONTROL_SORT_RATIO, PK_APP_USER, 10);
	CHECK_EQ_INT(json_integer_value(json_object_get(snap, "matched")), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(snap, "rows")), 0);
	json_decref(snap);
	/* detection off: no rows, totals of nothing */
	snap = rows_of(NULL, CONTROL_SORT_RATIO, -1, 10);
	CHECK_EQ_INT(json_array_size(json_object_get(snap, "rows")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(snap, "totals"),
							"principals")), 0);
	json_decref(snap);
	detector_free(d);
	detect_config_free(&c);
	/* many principals: the heap keeps the best, in order */
	d = demo(&c, 3000);
	snap = rows_of(d, CONTROL_SORT_RATIO, PK_DB_USER, 50);
	CHECK_EQ_INT(json_integer_value(json_object_get(snap, "matched")), 3003);
	CHECK_EQ_INT(json_array_size(json_object_get(snap, "rows")), 50);
	CHECK_EQ_STR(row_id(snap, 0), "stranger");
	{
		double prev = INFINITY;
		int sorted = 1;

		json_array_foreach(json_object_get(snap, "rows"), i, w) {
			double r = json_number_value(json_object_get(w, "ratio"));

			sorted &= r <= prev;
			prev = r;
		}
		CHECK(sorted);
	}
	json_decref(snap);
	detector_free(d);
	detect_config_free(&c);
}

/* ---- the server ------------------------------------------------------------------------ */

static char sock_dir[48], sock_path[96];

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void say(int fd, const char *text)
{
	CHECK(send(fd, text, strlen(text), MSG_NOSIGNAL) == (ssize_t)strlen(text));
}

static int count_lines(const char *s);

/* Serve and read what fd receives for ms, or until `lines` lines came (0:
 * the whole time): the lines (malloc'ed, NULL when none); *eof when the
 * server closed. */
static char *pump_n(struct control *c, int fd, int ms, int lines, bool *eof)
{
	struct top_buf b = { 0 };
	struct timespec t0, t;

	*eof = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[65536];
		ssize_t n;

		control_service(c);
		if (poll(&p, 1, 5) > 0) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0) {
				*eof = true;
				break;
			}
			if (n > 0)
				top_buf_add(&b, buf, (size_t)n);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms ||
		    (lines && count_lines(b.s) >= lines))
			break;
	}
	return b.s;
}

/* one answer expected */
static char *pump(struct control *c, int fd, int ms, bool *eof)
{
	return pump_n(c, fd, ms, 1, eof);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void test_server(void)
{
	struct detect_config dc;
	struct vigie_config cfg;
	struct sensor s, s2;
	struct stat st;
	json_t *doc;
	char *got, lockp[160];
	int fd, fds[CONTROL_MAX_CONNS + 1], n_open = 0;
	bool eof;

	snprintf(sock_dir, sizeof(sock_dir), "/tmp/vigie-test-top.XXXXXX");
	CHECK(mkdtemp(sock_dir) != NULL);
	snprintf(sock_path, sizeof(sock_path), "%s/control.sock", sock_dir);
	snprintf(lockp, sizeof(lockp), "%s.lock", sock_path);
	config_init(&cfg);
	free(cfg.control_socket);
	cfg.control_socket = strdup(sock_path);
	memset(&s, 0, sizeof(s));
	s.cfg = &cfg;
	s.det = demo(&dc, 1500);
	s.start_ns = T0;
	/* a stale socket (no one listens) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(fd);
	}
	CHECK_EQ_INT(control_start(&s), 0);
	CHECK(s.control != NULL);
	if (!s.control)
		return;
	CHECK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0600);
	/* a second sensor on the same path: refused (the first keeps it) */
	s2 = s;
	CHECK_EQ_INT(control_start(&s2), -EBUSY);
	CHECK(s2.control == NULL);

	/* a snapshot; an error line, the connection kept */
	fd = client();
	say(fd, "{\"request\":\"snapshot\",\"limit\":2,\"kind\":\"db_user\"}\n");
	got = pump(s.control, fd, 200, &eof);
	doc = got ? json_loads(got, 0, NULL) : NULL;
	CHECK_EQ_INT(count_lines(got), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(doc, "vigie_top")), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(doc, "rows")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(doc, "matched")), 1503);
	CHECK_EQ_STR(row_id(doc, 0), "stranger");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "query"), "kind")),
		     "db_user");
	CHECK(json_is_true(json_object_get(json_object_get(doc, "sensor"), "detection")));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "sensor"),
						       "probe_mode")), "sock-btf");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(doc, "health"),
							"map_capacity")), 0);
	json_decref(doc);
	free(got);
	say(fd, "hello\n");
	got = pump(s.control, fd, 100, &eof);
	CHECK(got && !strncmp(got, "{\"vigie_top\":1,\"error\":\"a request is a JSON object", 50));
	CHECK(!eof);
	free(got);

	/* a client that half-closes after its request (printf | socat): answered,
	 * then closed */
	{
		int fd2 = client();

		say(fd2, "{\"request\":\"snapshot\",\"limit\":1}\n\n");
		shutdown(fd2, SHUT_WR);
		got = pump_n(s.control, fd2, 300, 0, &eof);
		CHECK_EQ_INT(count_lines(got), 1);
		CHECK(got && !strncmp(got, "{\"vigie_top\":1,\"time\":", 22));
		CHECK(eof);
		free(got);
		close(fd2);
		free(pump_n(s.control, fd, 20, 0, &eof));
		CHECK_EQ_INT(control_clients(s.control), 1);
	}

	/* the same query in the same tick: the snapshot made once, answered
	 * twice; a tick later, a new one */
	{
		int fd2 = client();
		char *again, *later;

		say(fd, "{\"request\":\"snapshot\",\"limit\":3}\n");
		got = pump(s.control, fd, 100, &eof);
		usleep(2000);
		say(fd2, "{\"request\":\"snapshot\",\"limit\":3}\n");
		again = pump(s.control, fd2, 100, &eof);
		CHECK(got && again && !strcmp(got, again));
		s.ticks++;
		say(fd2, "{\"request\":\"snapshot\",\"limit\":3}\n");
		later = pump(s.control, fd2, 100, &eof);
		CHECK(got && later && strcmp(got, later) && strstr(later, "\"ticks\":1,"));
		free(got);
		free(again);
		free(later);
		close(fd2);
	}

	/* the budget: 16 answers a tick, the rest at the next */
	control_tick(s.control);
	{
		char many[2000] = "";

		for (int i = 0; i < 20; i++)
			strcat(many, "{\"request\":\"snapshot\",\"limit\":1}\n");
		say(fd, many);
	}
	got = pump_n(s.control, fd, 200, 0, &eof); /* no more than the budget, even waiting */
	CHECK_EQ_INT(count_lines(got), CONTROL_REQUESTS_PER_TICK);
	free(got);
	control_tick(s.control);
	got = pump_n(s.control, fd, 300, 20 - CONTROL_REQUESTS_PER_TICK, &eof);
	CHECK_EQ_INT(count_lines(got), 20 - CONTROL_REQUESTS_PER_TICK);
	free(got);

	/* a request too long: said, then closed */
	{
		int fd2 = client();
		char big[1100];

		memset(big, 'x', sizeof(big));
		CHECK(send(fd2, big, sizeof(big), MSG_NOSIGNAL) == (ssize_t)sizeof(big));
		got = pump_n(s.control, fd2, 300, 0, &eof);
		CHECK(got && strstr(got, "request too long"));
		CHECK(eof);
		free(got);
		close(fd2);
	}
	free(pump_n(s.control, fd, 50, 0, &eof));
	CHECK_EQ_INT(control_clients(s.control), 1);

	/* the client limit: one more gets "busy" */
	for (n_open = 0; control_clients(s.control) < CONTROL_MAX_CONNS && n_open < CONTROL_MAX_CONNS;
	     n_open++) {
		fds[n_open] = client();
		free(pump_n(s.control, fds[n_open], 20, 0, &eof));
	}
	CHECK_EQ_INT(control_clients(s.control), CONTROL_MAX_CONNS);
	fds[n_open] = client();
	got = pump_n(s.control, fds[n_open], 200, 0, &eof);
	CHECK(got && strstr(got, "\"error\":\"busy: 8 clients already"));
	CHECK(eof);
	free(got);
	for (int i = 0; i <= n_open; i++)
		close(fds[i]);
	free(pump_n(s.control, fd, 50, 0, &eof));
	CHECK_EQ_INT(control_clients(s.control), 1);

	/* a client that asks and never reads: dropped after the write timeout,
	 * the sensor never waiting for it */
	{
		int slow = client();
		struct timespec t0, t1;

		say(slow, "{\"request\":\"snapshot\",\"limit\":1000}\n");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 10; i++)
			control_service(s.control);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK_EQ_INT(control_clients(s.control), 2);
		usleep((CONTROL_WRITE_TIMEOUT_MS + 100) * 1000);
		control_tick(s.control);
		CHECK_EQ_INT(control_clients(s.control), 1);
		close(slow);
	}
	close(fd);
	control_free(s.control);
	CHECK(lstat(sock_path, &st) == -1 && errno == ENOENT);
	CHECK(lstat(lockp, &st) == -1 && errno == ENOENT);

	/* something that is not a socket at the path: left alone, refused */
	fd = open(sock_path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	CHECK(control_start(&s) < 0);
	CHECK(s.control == NULL);
	CHECK(lstat(sock_path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(sock_path);
	/* null: no socket */
	free(cfg.control_socket);
	cfg.control_socket = NULL;
	CHECK_EQ_INT(control_start(&s), 0);
	CHECK(s.control == NULL);
	control_free(NULL);
	rmdir(sock_dir);
	detector_free(s.det);
	detect_config_free(&dc);
	config_free(&cfg);
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	log_set_level(LOG_ERROR);
	test_requests();
	test_keys_order();
	test_detector_rows();
	test_server();
	field(NULL, NULL);
	return check_summary();
}
