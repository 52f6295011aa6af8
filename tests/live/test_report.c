// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: vigie report as a person sees it. The demo's offline trace
 * (tools/tracegen, one day of 300 advisors, the bulk extraction) is
 * reported and the page rendered by headless Chromium (Debian's chromium):
 * no console message at all (a script, a refused load or a CSS error
 * would log one: a control page with a script proves the check sees
 * them), the alerted principal's chart, the timeline and the heat map in
 * the rendered DOM, and a screenshot of the expected size where the
 * chart's colours are actually drawn (bars, normal band, alert markers).
 * The golden hostile trace's report too: names made of markup stay text.
 * Skips (77) when chromium is not installed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <jansson.h>
#include "lib/live.h"

#define WIN_W 1280
#define WIN_H 3000

static char chromium[PATH_MAX];

static bool find_chromium(void)
{
	const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
	char *copy = strdup(path), *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(chromium, sizeof(chromium), "%s/chromium", dir);
		if (access(chromium, X_OK) == 0) {
			free(copy);
			return true;
		}
	}
	free(copy);
	return false;
}

/* Headless chromium on a local file: what (--dump-dom, --screenshot=FILE
 * or both) with stdout to out, stderr to err. Exit status. */
static int run_chromium(const char *what, const char *html, const char *out, const char *err)
{
	return live_sh("(timeout 60 %s --headless --no-sandbox --disable-gpu --hide-scrollbars "
		       "--force-device-scale-factor=1 --user-data-dir=%s/chrome --enable-logging=stderr "
		       "--v=0 --window-size=%d,%d %s file://%s >%s 2>%s)",
		       chromium, live_tmpdir(), WIN_W, WIN_H, what, html, out, err);
}

/* Console messages chromium logged (its lines ":CONSOLE"), first in first. */
static int console_lines(const char *err_path, char *first, size_t size)
{
	char *log = live_read_file(err_path, NULL), *p;
	int n = 0;

	first[0] = '\0';
	for (p = log; p && (p = strstr(p, ":CONSOLE")); p++) {
		if (!n++) {
			char *eol = strchr(p, '\n');

			snprintf(first, size, "%.*s", eol ? (int)(eol - p) : 200, p);
		}
	}
	free(log);
	return n;
}

/* ---- PNG: 8-bit RGB or RGBA, not interlaced (what chromium writes) ---- */

struct image {
	uint32_t w, h;
	int bpp;
	unsigned char *px; /* w * h * bpp, unfiltered */
};

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static int png_load(const char *path, struct image *im)
{
	size_t len = 0, off = 8, zlen = 0;
	unsigned char *f = (unsigned char *)live_read_file(path, &len), *z = NULL, *raw = NULL;
	uLongf rawlen;
	int rc = -1;

	memset(im, 0, sizeof(*im));
	if (!f || len < 33 || memcmp(f, "\x89PNG\r\n\x1a\n", 8))
		goto out;
	z = malloc(len);
	while (z && off + 12 <= len) {
		uint32_t n, be;

		memcpy(&be, f + off, 4);
		n = ntohl(be);
		if (off + 12 + n > len)
			goto out;
		if (!memcmp(f + off + 4, "IHDR", 4) && n == 13) {
			memcpy(&be, f + off + 8, 4);
			im->w = ntohl(be);
			memcpy(&be, f + off + 12, 4);
			im->h = ntohl(be);
			if (f[off + 16] != 8 || (f[off + 17] != 2 && f[off + 17] != 6) || f[off + 20])
				goto out;
			im->bpp = f[off + 17] == 6 ? 4 : 3;
		} else if (!memcmp(f + off + 4, "IDAT", 4)) {
			memcpy(z + zlen, f + off + 8, n);
			zlen += n;
		}
		off += 12 + n;
	}
	if (!im->w || !im->h || im->w > 20000 || im->h > 20000)
		goto out;
	rawlen = (uLongf)im->h * (1 + im->w * im->bpp);
	raw = malloc(rawlen);
	im->px = malloc((size_t)im->w * im->h * im->bpp);
	if (!raw || !im->px || uncompress(raw, &rawlen, z, zlen) != Z_OK ||
	    rawlen != (uLongf)im->h * (1 + im->w * im->bpp))
		goto out;
	for (uint32_t y = 0; y < im->h; y++) {
		const unsigned char *in = raw + (size_t)y * (1 + im->w * im->bpp) + 1;
		unsigned char *row = im->px + (size_t)y * im->w * im->bpp;
		const unsigned char *up = y ? row - im->w * im->bpp : NULL;
		int type = in[-1];

		for (uint32_t i = 0; i < im->w * (uint32_t)im->bpp; i++) {
			int a = i >= (uint32_t)im->bpp ? row[i - im->bpp] : 0, b = up ? up[i] : 0;
			int c = up && i >= (uint32_t)im->bpp ? up[i - im->bpp] : 0, v;

			switch (type) {
			case 0: v = in[i]; break;
			case 1: v = in[i] + a; break;
			case 2: v = in[i] + b; break;
			case 3: v = in[i] + (a + b) / 2; break;
			case 4: v = in[i] + paeth(a, b, c); break;
			default: goto out;
			}
			row[i] = (unsigned char)v;
		}
	}
	rc = 0;
out:
	free(f);
	free(z);
	free(raw);
	return rc;
}

/* Pixels of exactly that colour (0xRRGGBB). */
static long count_colour(const struct image *im, uint32_t rgb)
{
	long n = 0;

	for (size_t i = 0; i < (size_t)im->w * im->h; i++) {
		const unsigned char *p = im->px + i * im->bpp;

		n += p[0] == (rgb >> 16) && p[1] == ((rgb >> 8) & 0xff) && p[2] == (rgb & 0xff);
	}
	return n;
}

static long count_not_white(const struct image *im)
{
	long n = 0;

	for (size_t i = 0; i < (size_t)im->w * im->h; i++) {
		const unsigned char *p = im->px + i * im->bpp;

		n += !(p[0] == 255 && p[1] == 255 && p[2] == 255);
	}
	return n;
}

/* The scenario's account, from the truth tracegen writes beside the trace. */
static void scenario_account(const char *trace, char *who, size_t size)
{
	char *truth = NULL;
	json_t *t = NULL, *p;

	snprintf(who, size, "?");
	if (asprintf(&truth, "%s.truth.json", trace) < 0)
		return;
	t = json_load_file(truth, 0, NULL);
	p = json_array_get(json_object_get(json_array_get(json_object_get(t, "scenarios"), 0),
					   "principals"), 0);
	if (json_string_value(json_object_get(p, "id")))
		snprintf(who, size, "%s", json_string_value(json_object_get(p, "id")));
	json_decref(t);
	free(truth);
}

int main(void)
{
	char first[512], needle[256], who[64], shot[PATH_MAX + 16];
	const char *trace, *html, *png;
	struct image im = { 0 };
	double t0;
	int rc;

	live_init("report");
	if (!find_chromium()) {
		printf("report: SKIP: chromium is not installed (apt-get install chromium)\n");
		return 77;
	}
	t0 = live_now();
	live_section("the demo's offline trace, reported");
	trace = live_path("day.jsonl.gz");
	html = live_path("report.html");
	png = live_path("shot.png");
	rc = live_sh("'%s' -o %s --days 1 --advisors 300 --scenario bulk:0 --seed 7",
		     live_tool("tracegen"), trace);
	ASSERT_EQ_INT(rc, 0, "tracegen");
	scenario_account(trace, who, sizeof(who));
	ASSERT_EQ_STR(who, "adv0211", "the bulk scenario's account (as in tools/demo.sh)");
	rc = vigie_exec(NULL, NULL, 60000, "report", "-q", "-c",
			live_source_path("examples/vigie.json"), "-o", html, trace, NULL);
	ASSERT_EQ_INT(rc, 0, "vigie report exit status");
	{
		size_t len = 0;
		char *page = live_read_file(html, &len);

		ASSERT_GT_U64(len, 20000, "report size (bytes)");
		CHECK(len < 2000000, "report size %zu bytes, want under 2 MB", len);
		CHECK(page && !strstr(page, "<script") && !strstr(page, "://"),
		      "no script, no URL in the file");
		free(page);
	}

	live_section("rendered by headless chromium");
	snprintf(shot, sizeof(shot), "--dump-dom --screenshot=%s", png);
	rc = run_chromium(shot, html, live_path("dom.html"), live_path("dom.err"));
	ASSERT_EQ_INT(rc, 0, "chromium exit status");
	ASSERT_EQ_INT(console_lines(live_path("dom.err"), first, sizeof(first)), 0,
		      "console messages while rendering the report");
	if (first[0])
		live_log("first console message: %s", first);
	{
		char *d = live_read_file(live_path("dom.html"), NULL);

		snprintf(needle, sizeof(needle), "id=\"chart-db_user-%s-db_rows\"", who);
		ASSERT_CONTAINS(d, needle, "the alerted principal's chart in the DOM");
		snprintf(needle, sizeof(needle), "db_user %s", who);
		ASSERT_CONTAINS(d, needle, "the alerted principal named");
		ASSERT_CONTAINS(d, "id=\"timeline-svg\"", "the timeline in the DOM");
		ASSERT_CONTAINS(d, "id=\"heatmap-0\"", "the heat map in the DOM");
		ASSERT_CONTAINS(d, "id=\"alert-table\"", "the alert table in the DOM");
		free(d);
	}
	ASSERT_EQ_INT(png_load(png, &im), 0, "the screenshot is a PNG we can read");
	ASSERT_EQ_INT(im.w, WIN_W, "screenshot width");
	ASSERT_EQ_INT(im.h, WIN_H, "screenshot height");
	if (im.px) {
		long bars = count_colour(&im, 0x3b6fb6), band = count_colour(&im, 0xcfe8d2);
		long crit = count_colour(&im, 0xa3001b), ink = count_not_white(&im);
		long all = (long)im.w * im.h;

		live_log("pixels: bars %ld, normal band %ld, critical %ld, not white %ld of %ld", bars,
			 band, crit, ink, all);
		ASSERT_GT_U64(bars, 2000, "pixels of volume bars drawn");
		ASSERT_GT_U64(band, 2000, "pixels of the normal band drawn");
		ASSERT_GT_U64(crit, 50, "pixels in the critical colour drawn (markers, badges)");
		CHECK(ink > all / 20 && ink < all / 10 * 9,
		      "a page neither blank nor filled: %ld of %ld pixels not white", ink, all);
	}
	free(im.px);

	live_section("hostile names rendered as text (tests/golden/report/hostile)");
	rc = vigie_exec(NULL, NULL, 60000, "report", "-q", "-o", live_path("hostile.html"),
			live_source_path("tests/golden/report/hostile/trace.jsonl"), NULL);
	ASSERT_EQ_INT(rc, 0, "vigie report of the hostile trace");
	rc = run_chromium("--dump-dom", live_path("hostile.html"), live_path("hostile.dom"),
			  live_path("hostile.err"));
	ASSERT_EQ_INT(rc, 0, "chromium on the hostile report");
	ASSERT_EQ_INT(console_lines(live_path("hostile.err"), first, sizeof(first)), 0,
		      "console messages of the hostile report");
	{
		char *d = live_read_file(live_path("hostile.dom"), NULL);

		CHECK(d && !strstr(d, "<img") && !strstr(d, "<script") && !strstr(d, "onload=\""),
		      "no element or handler made of a name in the DOM");
		ASSERT_CONTAINS(d, "&lt;/svg&gt;&lt;svg onload=alert(1)&gt;", "the peer shown as text");
		ASSERT_CONTAINS(d, "id=\"heatmap-0\"", "the page went on to its end");
		free(d);
	}

	live_section("the console check sees a script (control page)");
	rc = run_chromium("--dump-dom",
			  live_write_file("control.html",
					  "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>"
					  "<body><p>x</p><script>console.error('control')</script>"
					  "</body></html>\n"),
			  live_path("control.out"), live_path("control.err"));
	ASSERT_EQ_INT(rc, 0, "chromium on the control page");
	ASSERT_EQ_INT(console_lines(live_path("control.err"), first, sizeof(first)), 1,
		      "console messages of the control page");
	ASSERT_CONTAINS(first, "control", "the control page's message");
	live_log("report test took %.1f s", live_now() - t0);
	return live_finish();
}
