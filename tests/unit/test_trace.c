// SPDX-License-Identifier: GPL-2.0
/*
 * Trace format: writer/reader round trips (plain and gzip), every bad input
 * of the contract (malformed line, time going backwards, truncated or
 * corrupt gzip, huge numbers, a 10 MB line, bad headers), and a quick fuzz
 * of the line parser with mutated lines (never a crash, under ASan).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "base/log.h"
#include "trace/trace.h"

static char dir[] = "/tmp/vigie-test-trace-XXXXXX";

static const char *path_of(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	fwrite(text, 1, len, f);
	fclose(f);
}

static void write_gz(const char *path, const char *text)
{
	gzFile gz = gzopen(path, "wb");

	gzwrite(gz, text, (unsigned)strlen(text));
	gzclose(gz);
}

#define HDR "{\"type\":\"header\",\"format\":\"vigie-trace\",\"version\":1,\"host\":\"h1\",\"tick_s\":1}\n"

struct result {
	int samples;
	int last_rc;
	uint64_t skipped, ignored, lines;
	char error[512];
	char last_skip[512];
	struct trace_sample last;
};

/* Read a whole trace; returns 0 if opened. */
static int read_all(const char *path, struct result *r)
{
	char err[512];
	struct trace_reader *tr = trace_reader_open(path, err, sizeof(err));
	struct trace_sample s;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!tr) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		return -1;
	}
	trace_reader_set_quiet(tr, true);
	while ((rc = trace_reader_next(tr, &s)) == 1) {
		r->samples++;
		r->last = s;
	}
	r->last_rc = rc;
	r->skipped = trace_reader_skipped(tr);
	r->ignored = trace_reader_ignored(tr);
	r->lines = trace_reader_line(tr);
	snprintf(r->error, sizeof(r->error), "%s", trace_reader_error(tr));
	snprintf(r->last_skip, sizeof(r->last_skip), "%s", trace_reader_last_skip(tr));
	trace_reader_close(tr);
	return 0;
}

static int read_text(const char *text, struct result *r)
{
	const char *p = path_of("t.jsonl");

	write_file(p, text, strlen(text));
	return read_all(p, r);
}

static void full_sample(struct trace_sample *s, uint64_t ts)
{
	trace_sample_init(s);
	s->ts_ns = ts;
	s->pid = 4242;
	s->uid = 1000;
	strcpy(s->user, "alice");
	strcpy(s->comm, "psql \"x\"\n");
	strcpy(s->exe, "/usr/bin/psql");
	strcpy(s->db_user, "adv\xc3\xa9");  /* valid UTF-8 */
	strcpy(s->peer, "10.0.0.1:5432");
	strcpy(s->app_user, "j.dupont \"x\"");
	strcpy(s->app_name, "portail");
	s->egress_bytes = 1;
	s->db_bytes = 2;
	s->db_rows = 3;
	s->dbfile_bytes = 4;
	s->ops = TRACE_MAX_COUNTER;
}

static bool same_sample(const struct trace_sample *a, const struct trace_sample *b)
{
	return a->ts_ns == b->ts_ns && a->pid == b->pid && a->uid == b->uid &&
	       !strcmp(a->user, b->user) && !strcmp(a->comm, b->comm) && !strcmp(a->exe, b->exe) &&
	       !strcmp(a->db_user, b->db_user) && !strcmp(a->peer, b->peer) &&
	       !strcmp(a->app_user, b->app_user) && !strcmp(a->app_name, b->app_name) &&
	       a->egress_bytes == b->egress_bytes && a->db_bytes == b->db_bytes &&
	       a->db_rows == b->db_rows && a->dbfile_bytes == b->dbfile_bytes && a->ops == b->ops;
}

static void roundtrip(const char *name, bool gz)
{
	const char *p = path_of(name);
	struct trace_writer *w = trace_writer_open(p, "host \"1\"", 0.5);
	struct trace_sample s[3];
	char err[512];
	struct trace_reader *tr;
	struct trace_sample got;

	CHECK(w != NULL);
	full_sample(&s[0], 1700000000123456789ull);
	trace_sample_init(&s[1]); /* everything absent */
	s[1].ts_ns = 1700000001000000000ull;
	full_sample(&s[2], 1700000001000000000ull);
	strcpy(s[2].user, "bad\xff utf8");
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(trace_writer_write(w, &s[i]), 0);
	CHECK_EQ_INT(trace_writer_close(w), 0);

	tr = trace_reader_open(p, err, sizeof(err));
	CHECK(tr != NULL);
	if (!tr)
		return;
	CHECK_EQ_INT(trace_reader_compressed(tr), gz);
	CHECK_EQ_STR(trace_reader_header(tr)->host, "host \"1\"");
	CHECK(trace_reader_header(tr)->tick_s == 0.5);
	CHECK_EQ_INT(trace_reader_next(tr, &got), 1);
	CHECK(same_sample(&got, &s[0]));
	CHECK_EQ_INT(trace_reader_next(tr, &got), 1);
	CHECK(same_sample(&got, &s[1]));
	CHECK_EQ_INT(trace_reader_next(tr, &got), 1);
	/* invalid UTF-8 is written as U+FFFD */
	CHECK_EQ_STR(got.user, "bad\xef\xbf\xbd utf8");
	CHECK_EQ_INT(trace_reader_next(tr, &got), 0);
	CHECK_EQ_INT(trace_reader_skipped(tr), 0);
	trace_reader_close(tr);
}

static void test_roundtrip(void)
{
	roundtrip("rt.jsonl", false);
	roundtrip("rt.jsonl.gz", true);
}

static void test_headers(void)
{
	struct result r;

	CHECK_EQ_INT(read_text("", &r), -1);
	CHECK(strstr(r.error, "empty trace") != NULL);
	CHECK_EQ_INT(read_text("{\"type\":\"sample\",\"ts\":1}\n", &r), -1);
	CHECK(strstr(r.error, ":1: not a vigie trace header") != NULL);
	CHECK_EQ_INT(read_text("{\"type\":\"header\",\"format\":\"vigie-trace\",\"version\":2}\n", &r), -1);
	CHECK(strstr(r.error, "'version'") != NULL);
	CHECK_EQ_INT(read_text("{\"type\":\"header\",\"format\":\"vigie-trace\",\"version\":1,\"tick_s\":0}\n", &r), -1);
	CHECK(strstr(r.error, "'tick_s'") != NULL);
	CHECK_EQ_INT(read_text("\n\n{\"type\":\"header\",\"format\":\"vigie-trace\",\"version\":1}", &r), 0);
	CHECK_EQ_INT(r.samples, 0);
	CHECK_EQ_INT(r.last_rc, 0);
	CHECK_EQ_INT(read_all(path_of("does-not-exist"), &r), -1);
	CHECK(strstr(r.error, "cannot open") != NULL);
}

static void test_bad_lines(void)
{
	struct result r;

	/* malformed line 3, then good lines */
	CHECK_EQ_INT(read_text(HDR "{\"type\":\"sample\",\"ts\":10,\"db_rows\":5}\n"
				   "{\"type\":\"sample\",\"ts\":11,\"db_rows\":\n"
				   "{\"type\":\"sample\",\"ts\":12,\"db_rows\":7}\n",
			       &r), 0);
	CHECK_EQ_INT(r.samples, 2);
	CHECK_EQ_INT(r.skipped, 1);
	CHECK(strstr(r.last_skip, "t.jsonl:3:") != NULL);
	CHECK_EQ_INT(r.last.db_rows, 7);
	CHECK_EQ_INT(r.last_rc, 0);

	/* time going backwards: skipped, named */
	read_text(HDR "{\"type\":\"sample\",\"ts\":\"2026-01-01T00:00:10Z\"}\n"
		      "{\"type\":\"sample\",\"ts\":\"2026-01-01T00:00:05Z\"}\n"
		      "{\"type\":\"sample\",\"ts\":\"2026-01-01T00:00:10Z\",\"ops\":1}\n", &r);
	CHECK_EQ_INT(r.samples, 2);
	CHECK_EQ_INT(r.skipped, 1);
	CHECK(strstr(r.last_skip, ":3: field 'ts': time goes backwards") != NULL);

	/* huge numbers */
	read_text(HDR "{\"type\":\"sample\",\"ts\":1,\"db_rows\":18446744073709551616}\n"
		      "{\"type\":\"sample\",\"ts\":1,\"db_bytes\":1e300}\n"
		      "{\"type\":\"sample\",\"ts\":1,\"pid\":4294967296}\n"
		      "{\"type\":\"sample\",\"ts\":99999999999999999999}\n"
		      "{\"type\":\"sample\",\"ts\":1,\"ops\":1000000000000000}\n", &r);
	CHECK_EQ_INT(r.samples, 1);
	CHECK_EQ_INT(r.skipped, 4);
	CHECK(strstr(r.last_skip, ":5: field 'ts': number out of range") != NULL);

	/* other types ignored, unknown fields ignored, CRLF, no final newline */
	read_text(HDR "{\"type\":\"note\",\"x\":1}\r\n"
		      "{\"type\":\"sample\",\"ts\":1.5,\"x\":{\"a\":[1,{\"b\":null}]},\"db_rows\":2}\r\n"
		      "{\"type\":\"sample\",\"ts\":2,\"db_rows\":3}", &r);
	CHECK_EQ_INT(r.samples, 2);
	CHECK_EQ_INT(r.ignored, 1);
	CHECK_EQ_INT(r.skipped, 0);
	CHECK_EQ_INT(r.last.ts_ns, 2000000000ull);
	CHECK_EQ_INT(r.lines, 4);
}

/* n samples a minute apart from base (seconds since 1970), with the ones
 * at the given indexes dated 2034 instead. */
static char *minutes(char *buf, size_t size, long base, int n, const int *odd, int n_odd)
{
	size_t len = snprintf(buf, size, "%s", HDR);

	for (int i = 0; i < n && len < size; i++) {
		long ts = base + 60L * i;

		for (int k = 0; k < n_odd; k++)
			if (odd[k] == i)
				ts = 2033000000L; /* 2034-06-03 */
		len += snprintf(buf + len, size - len, "{\"type\":\"sample\",\"ts\":%ld,\"db_rows\":%d}\n",
				ts, i + 1);
	}
	return buf;
}

/* A sample far ahead of the ones around it is the one skipped; a real
 * jump (the recorder stopped for a weekend) is followed. */
static void test_time_jumps(void)
{
	static char text[16384], more[8192];
	const long t2024 = 1709632800L; /* 2024-03-05T10:00:00Z */
	struct result r;

	read_text(minutes(text, sizeof(text), t2024, 40, (const int[]){ 15 }, 1), &r);
	CHECK_EQ_INT(r.samples, 39);
	CHECK_EQ_INT(r.skipped, 1);
	CHECK_MSG(strstr(r.last_skip, "t.jsonl:17: field 'ts': ") &&
		  strstr(r.last_skip, "s ahead of the samples around it"), "%s", r.last_skip);
	CHECK_EQ_INT(r.last.db_rows, 40);
	/* two in a row, and one first */
	read_text(minutes(text, sizeof(text), t2024, 40, (const int[]){ 0, 20, 21 }, 3), &r);
	CHECK_EQ_INT(r.samples, 37);
	CHECK_EQ_INT(r.skipped, 3);
	/* a weekend without samples: followed */
	minutes(text, sizeof(text), t2024, 20, NULL, 0);
	minutes(more, sizeof(more), t2024 + 2 * 86400, 20, NULL, 0);
	strncat(text, more + strlen(HDR), sizeof(text) - strlen(text) - 1);
	read_text(text, &r);
	CHECK_EQ_INT(r.samples, 40);
	CHECK_EQ_INT(r.skipped, 0);
	/* a jump at the end, with fewer samples than confirm one: followed */
	minutes(text, sizeof(text), t2024, 20, NULL, 0);
	minutes(more, sizeof(more), t2024 + 3 * 86400, 3, NULL, 0);
	strncat(text, more + strlen(HDR), sizeof(text) - strlen(text) - 1);
	read_text(text, &r);
	CHECK_EQ_INT(r.samples, 23);
	CHECK_EQ_INT(r.skipped, 0);
}

static void test_long_line(void)
{
	size_t big = 10u << 20;
	size_t hl = strlen(HDR);
	char *text = malloc(hl + big + 200);
	const char *tail = "\n{\"type\":\"sample\",\"ts\":5,\"db_rows\":9}\n";
	struct result r;
	char *p = text;

	memcpy(p, HDR, hl);
	p += hl;
	p += sprintf(p, "{\"type\":\"sample\",\"ts\":1,\"user\":\"");
	memset(p, 'a', big);
	p += big;
	p += sprintf(p, "\"}%s", tail);
	write_file(path_of("long.jsonl"), text, (size_t)(p - text));
	CHECK_EQ_INT(read_all(path_of("long.jsonl"), &r), 0);
	CHECK_EQ_INT(r.samples, 1);
	CHECK_EQ_INT(r.skipped, 1);
	CHECK(strstr(r.last_skip, ":2: line longer than") != NULL);
	CHECK_EQ_INT(r.last.db_rows, 9);
	free(text);
}

static void test_gzip_damage(void)
{
	char text[8192], *p = text;
	struct result r;
	FILE *f;
	long size;
	char *buf;

	p += sprintf(p, HDR);
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "{\"type\":\"sample\",\"ts\":%d,\"db_rows\":%d}\n", i + 1, i);
	write_gz(path_of("ok.jsonl.gz"), text);
	CHECK_EQ_INT(read_all(path_of("ok.jsonl.gz"), &r), 0);
	CHECK_EQ_INT(r.samples, 100);
	CHECK_EQ_INT(r.last_rc, 0);

	f = fopen(path_of("ok.jsonl.gz"), "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size);
	CHECK_EQ_INT(fread(buf, 1, (size_t)size, f), size);
	fclose(f);

	/* truncated: the reader must say so, not pass for a short trace */
	write_file(path_of("cut.jsonl.gz"), buf, (size_t)size - 12);
	CHECK_EQ_INT(read_all(path_of("cut.jsonl.gz"), &r), 0);
	CHECK_EQ_INT(r.last_rc, -1);
	CHECK(strstr(r.error, "truncated gzip stream after line") != NULL);

	/* corrupt: flipped bytes in the deflate data */
	for (long i = 20; i < 40 && i < size; i++)
		buf[i] ^= 0x5a;
	write_file(path_of("bad.jsonl.gz"), buf, (size_t)size);
	if (read_all(path_of("bad.jsonl.gz"), &r) == 0)
		CHECK_EQ_INT(r.last_rc, -1);
	else
		CHECK(r.error[0] != '\0');
	free(buf);
}

static void expect_parse(const char *line, int want, const char *err_part)
{
	struct trace_sample s;
	char err[400] = "";
	int rc = trace_parse_sample(line, strlen(line), &s, err, sizeof(err));

	CHECK_EQ_INT(rc, want);
	if (err_part && !strstr(err, err_part))
		fprintf(stderr, "  line %s: error '%s' lacks '%s'\n", line, err, err_part);
	if (err_part)
		CHECK(strstr(err, err_part) != NULL);
}

static void test_parse(void)
{
	struct trace_sample s;
	char err[400];
	const char *l = "{\"type\":\"sample\",\"ts\":\"2026-01-01T01:00:00.5+01:00\",\"user\":\"\\u00e9\\ud83d\\ude00\\n\","
			"\"pid\":-1,\"uid\":null,\"db_rows\":1e3,\"exe\":null}";

	CHECK_EQ_INT(trace_parse_sample(l, strlen(l), &s, err, sizeof(err)), 0);
	CHECK_EQ_INT(s.ts_ns, 1767225600500000000ull);
	CHECK_EQ_STR(s.user, "\xc3\xa9\xf0\x9f\x98\x80\n");
	CHECK_EQ_INT(s.pid, -1);
	CHECK_EQ_INT(s.uid, -1);
	CHECK_EQ_INT(s.db_rows, 1000);
	CHECK_EQ_STR(s.exe, "");

	expect_parse("{\"type\":\"sample\"}", -1, "missing field 'ts'");
	expect_parse("{\"ts\":1}", -1, "missing field 'type'");
	expect_parse("[1]", -1, "not a JSON object");
	expect_parse("{\"type\":\"sample\",\"ts\":1} x", -1, "text after");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"db_rows\":-1}", -1, "non-negative");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"db_rows\":1.5}", -1, "must be an integer");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"db_rows\":\"5\"}", -1, "must be a number");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"user\":5}", -1, "field 'user': must be a string");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"pid\":-2}", -1, "field 'pid'");
	expect_parse("{\"type\":\"sample\",\"ts\":\"yesterday\"}", -1, "not an RFC 3339 time");
	expect_parse("{\"type\":\"sample\",\"ts\":-5}", -1, "must not be negative");
	expect_parse("{\"type\":\"sample\",\"ts\":1e9}", -1, "plain decimal");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"user\":\"\\ud800\"}", -1, "surrogate");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"user\":\"a\x01\"}", -1, "control character");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"user\":\"abc", -1, "unterminated");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"x\":tru}", -1, "invalid JSON value");
	expect_parse("{\"type\":\"sample\",\"ts\":1,\"x\":01}", -1, "expected ','");
	expect_parse("{\"type\":\"header\"}", 1, NULL);
	{
		char deep[200] = "{\"type\":\"sample\",\"ts\":1,\"x\":";
		size_t n = strlen(deep);

		for (int i = 0; i < 40; i++)
			deep[n++] = '[';
		deep[n] = '\0';
		expect_parse(deep, -1, "nesting deeper");
	}
	{
		char longu[400];

		snprintf(longu, sizeof(longu), "{\"type\":\"sample\",\"ts\":1,\"user\":\"%070d\"}", 0);
		expect_parse(longu, -1, "longer than 63 bytes");
	}
}

/* Mutated valid lines must never crash or read out of bounds. */
static void test_fuzz(void)
{
	const char *seeds[] = {
		"{\"type\":\"sample\",\"ts\":\"2026-01-01T00:00:00.123Z\",\"pid\":12,\"uid\":0,\"user\":\"root\","
		"\"comm\":\"c\",\"exe\":\"/bin/x\",\"db_user\":\"d\",\"peer\":\"1.2.3.4:5\",\"egress_bytes\":1,"
		"\"db_bytes\":2,\"db_rows\":3,\"dbfile_bytes\":4,\"ops\":5,\"z\":[1,{\"a\":\"\\u0041\"}]}",
		"{\"type\":\"sample\",\"ts\":12.5,\"user\":\"\\ud83d\\ude00\\\"\\\\\"}",
	};
	const char alphabet[] = "{}[]\":,\\u0123456789.eE-+tfnlrsa \x80\xff";
	uint64_t x = 88172645463325252ull;
	int ok = 0;

	for (int iter = 0; iter < 200000; iter++) {
		const char *seed = seeds[iter % 2];
		size_t n = strlen(seed);
		char *buf = malloc(n + 8);
		struct trace_sample s;
		char err[400];
		int muts;

		memcpy(buf, seed, n);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		muts = 1 + (int)(x % 4);
		for (int m = 0; m < muts; m++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			switch (x % 3) {
			case 0: buf[(x >> 8) % n] = alphabet[(x >> 24) % (sizeof(alphabet) - 1)]; break;
			case 1: n = (x >> 8) % (n + 1); break; /* truncate */
			default: buf[(x >> 8) % n] = (char)(x >> 32); break;
			}
			if (n == 0)
				break;
		}
		if (trace_parse_sample(buf, n, &s, err, sizeof(err)) == 0)
			ok++;
		free(buf);
	}
	CHECK(ok > 0); /* some mutations stay valid */
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_ERROR);
	test_roundtrip();
	test_headers();
	test_bad_lines();
	test_time_jumps();
	test_long_line();
	test_gzip_damage();
	test_parse();
	test_fuzz();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
