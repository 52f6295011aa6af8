// SPDX-License-Identifier: GPL-2.0
/*
 * vigie top's text, pure (user/view/top_fmt.c, top_screen.c): numbers in 4
 * and 5 columns, names made printable (escape sequences a process may name
 * itself with never reach the terminal), cutting to a width, the 80-column
 * layout and exact lines, a whole 80x24 frame, keys. The control socket it
 * reads from is test_control.c.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "base/log.h"
#include "view/top_int.h"

/* ---- numbers ------------------------------------------------------------ */

static void test_numbers(void)
{
	static const struct {
		double v;
		const char *want;
	} counts[] = {
		{ 0, "0" },       { 7, "7" },         { 999, "999" },     { 999.4, "999" },
		{ 1000, "1.0k" }, { 1234, "1.2k" },   { 9949, "9.9k" },   { 9950, "10k" },
		{ 99499, "99k" }, { 123456, "123k" }, { 999499, "999k" }, { 999500, "1.0M" },
		{ 2.5, "2.5" },   { 20e6, "20M" },    { 1.5e12, "1.5T" }, { -1, "-" },
		{ 1e21, "huge" },
	};
	static const struct {
		double r;
		const char *want;
	} ratios[] = {
		{ -1, "-" },        { 0.0108, "0.01x" }, { 0.5, "0.50x" }, { 2.5, "2.5x" },
		{ 9.96, "10x" },    { 400, "400x" },     { 1234, "1.2kx" }, { 123456, "123kx" },
		{ 2e6, "2.0Mx" },   { 5e9, ">1Gx" },     { NAN, "-" },
	};
	char buf[16];

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		top_fmt_count(counts[i].v, buf, sizeof(buf));
		CHECK_MSG(!strcmp(buf, counts[i].want), "count %g: '%s', want '%s'", counts[i].v, buf,
			  counts[i].want);
		CHECK(strlen(buf) <= 4);
	}
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		top_fmt_ratio(ratios[i].r, buf, sizeof(buf));
		CHECK_MSG(!strcmp(buf, ratios[i].want), "ratio %g: '%s', want '%s'", ratios[i].r, buf,
			  ratios[i].want);
		CHECK(strlen(buf) <= 5);
	}
}

/* ---- printable, width, fit ----------------------------------------------------- */

static void expect_printable(const char *in, bool utf8, const char *want)
{
	char *got = top_printable(in, utf8);

	CHECK_MSG(got && !strcmp(got, want), "printable(%s): '%s', want '%s'", utf8 ? "utf8" : "ascii",
		  got ? got : "(null)", want);
	free(got);
}

static void expect_fit(const char *in, int width, bool right, bool utf8, const char *want)
{
	struct top_buf b = { 0 };

	top_fit(&b, in, width, right, utf8);
	CHECK_MSG(b.s && !strcmp(b.s, want), "fit('%s', %d): '%s', want '%s'", in, width,
		  b.s ? b.s : "(null)", want);
	top_buf_free(&b);
}

static void test_printable(void)
{
	/* escape sequences: clear screen, set title, bell */
	expect_printable("a\x1b[2Jb", true, "a\\x1b[2Jb");
	expect_printable("\x1b]0;owned\x07", true, "\\x1b]0;owned\\x07");
	expect_printable("tab\there\r\n\x7f", true, "tab\\x09here\\x0d\\x0a\\x7f");
	expect_printable("back\\slash", true, "back\\\\slash");
	expect_printable("caf\xc3\xa9", true, "caf\xc3\xa9");
	expect_printable("caf\xc3\xa9", false, "caf\\xc3\\xa9");
	/* C1 CSI (U+009B) and a right-to-left override (U+202E) */
	expect_printable("x\xc2\x9b" "2J", true, "x\\u{009b}2J");
	expect_printable("exe\xe2\x80\xae" "gpj.sh", true, "exe\\u{202e}gpj.sh");
	expect_printable("zero\xe2\x80\x8bwidth", true, "zero\\u{200b}width");
	/* invalid UTF-8: bytes */
	expect_printable("bad\xff\xc3", true, "bad\\xff\\xc3");
	expect_printable(NULL, true, "-");
	CHECK_EQ_INT(top_width("abc", true), 3);
	CHECK_EQ_INT(top_width("\xe6\x97\xa5\xe6\x9c\xac", true), 4); /* 2 wide characters */
	CHECK_EQ_INT(top_width("caf\xc3\xa9", true), 4);
	CHECK_EQ_INT(top_width("caf\\xc3\\xa9", false), 11);

	expect_fit("abc", 5, false, true, "abc  ");
	expect_fit("abc", 5, true, true, "  abc");
	expect_fit("abc", 3, false, true, "abc");
	expect_fit("/usr/bin/trafficgen@root", 12, false, true, "/us~gen@root");
	expect_fit("10.213.197.2", 8, false, true, "10~197.2");
	expect_fit("abcdef", 1, false, true, "~");
	/* the escapes count: what the terminal shows is cut, never a raw byte */
	expect_fit("a\x1b[2J", 10, false, true, "a\\x1b[2J  ");
	expect_fit("\x1b\x1b\x1b\x1b", 8, false, true, "\\x~b\\x1b");
	/* wide characters: a half column is padded */
	expect_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86\xe3\x82\xad", 6, false, true,
		   " ~\xe3\x83\x86\xe3\x82\xad");
}

/* ---- lines -------------------------------------------------------------------------- */

static const char *row_json =
	"{\"kind\":\"peer\",\"id\":\"10.213.197.2\",\"process\":\"/usr/local/bin/trafficgen@root\","
	"\"peer\":null,\"allowed\":false,\"aggregate\":false,\"lead\":{\"metric\":\"egress_bytes\","
	"\"window\":\"1m\"},\"ratio\":400.0,\"volume\":20000000,\"episode\":\"high\",\"metrics\":"
	"{\"egress_bytes\":{\"episode\":{\"level\":\"high\",\"id\":\"e1\"},\"1m\":{\"observed\":"
	"20000000,\"normal\":50000.0,\"reference\":\"profile\",\"floor\":700000.0,\"ratio\":400.0},"
	"\"1h\":{\"observed\":20000000,\"normal\":2500000.0,\"reference\":\"profile\",\"floor\":"
	"700000.0,\"ratio\":8.0},\"24h\":{\"observed\":20000000,\"normal\":10000000.0,\"reference\":"
	"\"profile\",\"floor\":1400000.0,\"ratio\":2.0}}}}";

static void test_lines(void)
{
	struct top_layout l;
	struct top_buf b = { 0 };
	json_t *row = json_loads(row_json, 0, NULL);
	int sum;

	CHECK(row != NULL);
	top_layout_for(80, &l);
	CHECK_EQ_INT(l.w[TC_ID], 14);
	CHECK_EQ_INT(l.w[TC_PROC], 7);
	CHECK_EQ_INT(l.w[TC_PEER], 8);
	for (int width = 40; width <= 300; width++) {
		int n = 0;

		top_layout_for(width, &l);
		sum = 0;
		for (int c = 0; c < TC_MAX; c++)
			if (l.w[c]) {
				sum += l.w[c];
				n++;
			}
		sum += n - 1;
		CHECK_MSG(sum == width || (width < 60 && sum <= 60), "width %d: line of %d", width, sum);
	}
	top_layout_for(70, &l); /* no room for the peer */
	CHECK(l.w[TC_PEER] == 0 && l.w[TC_PROC] == 7 && l.w[TC_ID] == 13);
	top_layout_for(60, &l); /* nor for the process */
	CHECK(l.w[TC_PEER] == 0 && l.w[TC_PROC] == 0 && l.w[TC_ID] == 11);
	top_layout_for(80, &l);
	top_titles(&b, &l);
	CHECK_EQ_STR(b.s, "KIND     PRINCIPAL      PROCESS PEER     METRIC   1M   1H NORM RATIO WIN "
			  "REF   E");
	top_buf_free(&b);
	top_row_line(&b, row, &l, true, true);
	CHECK_EQ_STR(b.s, "peer     10.213.197.2   tr~cgen -        egress  20M  20M  50k  400x 1m  "
			  "prof  H");
	CHECK_EQ_INT((int)b.len, 80);
	top_buf_free(&b);
	/* --once: whole names */
	{
		json_t *rows = json_array();

		json_array_append(rows, row);
		top_layout_fit(rows, true, &l);
		top_row_line(&b, row, &l, true, false);
		CHECK_EQ_STR(b.s, "peer     10.213.197.2 /usr/local/bin/trafficgen@root -    egress  20M  "
				  "20M  50k  400x 1m  prof  H");
		top_buf_free(&b);
		json_decref(rows);
	}
	json_decref(row);
}

/* Every line of a frame: at most width columns once our own escapes
 * (CSI ... letter) are taken out, and no other control byte. */
static void check_frame(const char *f, int width, int height)
{
	int lines = 1, col = 0, bad = 0, widest = 0;

	for (const char *p = f; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == 0x1b) {
			if (p[1] != '[') {
				bad++;
				continue;
			}
			for (p += 2; *p && !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')); p++)
				;
			if (!*p)
				break;
			continue;
		}
		if (c == '\n') {
			lines++;
			col = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			bad++;
		if ((c & 0xc0) != 0x80)
			col++;
		if (col > widest)
			widest = col;
	}
	CHECK_MSG(bad == 0, "%d raw control bytes in the frame", bad);
	CHECK_MSG(lines <= height, "%d lines for a height of %d", lines, height);
	CHECK_MSG(widest <= width, "a line of %d columns for a width of %d", widest, width);
}

static void test_frame(void)
{
	json_t *snap = json_pack("{s:s, s:{s:s, s:s, s:i, s:b}, s:{s:i, s:i, s:f}, s:{s:i, s:i}}",
				 "time", "2026-11-23T06:41:17.123456Z", "sensor", "host",
				 "a-very-long-host-name-that-does-not-fit-in-eighty-columns.example",
				 "probe_mode", "sock-btf", "uptime_s", 3725, "detection", 1, "health",
				 "ringbuf_drops", 2, "failed_inserts", 1, "map_fill", 0.125, "totals",
				 "principals", 40, "episodes_open", 1);
	json_t *rows = json_array(), *evil = json_loads(row_json, 0, NULL);
	struct top_screen sc = { .width = 80, .height = 24, .utf8 = true, .colour = true,
				 .sort = "ratio", .kind = "all" };
	struct top_buf b = { 0 };

	json_object_set_new(evil, "id", json_string("\x1b]0;owned\x07\x1b[2J\xc2\x9b" "31m"));
	for (int i = 0; i < 30; i++)
		json_array_append(rows, evil);
	json_object_set_new(snap, "rows", rows);
	top_frame(&b, snap, &sc);
	CHECK(b.s && !b.oom);
	check_frame(b.s, 80, 24);
	CHECK(b.s && strstr(b.s, "vigie top - a-very-long-host-name") != NULL);
	CHECK(b.s && strstr(b.s, "\x1b[7mKIND     PRINCIPAL") != NULL); /* titles reversed */
	CHECK(b.s && strstr(b.s, "\x1b[31mpeer     \\x1b~") != NULL); /* an episode: red */
	top_buf_free(&b);
	/* no colour: not one SGR sequence */
	sc.colour = false;
	top_frame(&b, snap, &sc);
	CHECK(b.s && !strstr(b.s, "\x1b[7m") && !strstr(b.s, "\x1b[31m") && !strstr(b.s, "\x1b[0m"));
	top_buf_free(&b);
	/* a narrow terminal and the help */
	sc.width = 50;
	sc.height = 10;
	sc.help = true;
	top_frame(&b, snap, &sc);
	check_frame(b.s ? b.s : "", 50, 10);
	CHECK(b.s && strstr(b.s, "  q, Ctrl-C   quit") != NULL);
	top_buf_free(&b);
	/* lower than the frame's five lines: its first lines, the title
	 * first, and no newline that would scroll it away */
	sc.help = false;
	for (int h = 1; h <= 5; h++) {
		int nl = 0;

		sc.height = h;
		top_frame(&b, snap, &sc);
		for (const char *p = b.s; p && *p; p++)
			nl += *p == '\n';
		CHECK_EQ_INT(nl, h - 1);
		CHECK(b.s && !strncmp(b.s, "\x1b[Hvigie top - a-very", 21));
		CHECK(b.s && (h < 4) == !strstr(b.s, "sort ratio"));
		top_buf_free(&b);
	}
	/* --once: the same header, whole */
	top_plain(&b, snap, true);
	CHECK(b.s && !strncmp(b.s, "vigie top - a-very-long-host-name-that-does-not-fit-in-eighty-"
				  "columns.example  up 1:02:05  probes sock-btf  drops 3  map 12.5%  ",
			      strlen("vigie top - a-very-long-host-name-that-does-not-fit-in-eighty-"
				     "columns.example  up 1:02:05  probes sock-btf  drops 3  map 12.5%  ")));
	CHECK(b.s && strstr(b.s, "\\x1b]0;owned\\x07\\x1b[2J\\u{009b}31m") != NULL);
	CHECK(b.s && strstr(b.s, "\nprincipals 40  open episodes 1  alerts 0  suppressed 0\n"));
	CHECK(b.s && !strchr(b.s, '\x1b') && !strchr(b.s, '\x07'));
	top_buf_free(&b);
	json_decref(evil);
	json_decref(snap);
}

static void test_keys(void)
{
	enum top_key k[8];

	CHECK_EQ_INT(top_keys("q", 1, k, 8), 1);
	CHECK_EQ_INT(k[0], TK_QUIT);
	CHECK_EQ_INT(top_keys("\x03", 1, k, 8), 1);
	CHECK_EQ_INT(k[0], TK_QUIT);
	/* arrows and function keys are skipped whole */
	CHECK_EQ_INT(top_keys("\x1b[A\x1bOP\x1b[15~p", 12, k, 8), 1);
	CHECK_EQ_INT(k[0], TK_PAUSE);
	CHECK_EQ_INT(top_keys("kvsr?x", 6, k, 8), 6);
	CHECK(k[0] == TK_KIND && k[1] == TK_SORT_VOLUME && k[2] == TK_SORT_NEXT &&
	      k[3] == TK_SORT_RATIO && k[4] == TK_HELP && k[5] == TK_OTHER);
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	log_set_level(LOG_ERROR);
	test_numbers();
	test_printable();
	test_lines();
	test_frame();
	test_keys();
	return check_summary();
}
