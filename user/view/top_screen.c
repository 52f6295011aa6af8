// SPDX-License-Identifier: GPL-2.0
/* vigie top: the header, the terminal's frame and --once's text from a
 * snapshot (top_int.h). Pure, like top_fmt.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/event.h"
#include "view/top_int.h"

#define HEADER_LINES 4 /* health, principals, totals, status */

#define SGR_TITLE "\x1b[7m"
#define SGR_EPISODE "\x1b[31m"
#define SGR_CRITICAL "\x1b[1;31m"
#define SGR_RESET "\x1b[0m"

static const char *const help_lines[] = {
	"Keys",
	"  q, Ctrl-C   quit",
	"  p, space    pause or resume the refresh",
	"  r, v, s     sort by ratio, by volume, or switch",
	"  k           next kind: all, user, db_user, process, peer, app_user",
	"  h, ?        this help (any key closes it)",
	"Columns (docs/top.md)",
	"  PRINCIPAL   kind and id; PROCESS, PEER: its largest contributors",
	"  METRIC      rows (db_rows), db (db_bytes), file (dbfile_bytes), egress",
	"  1M, 1H      volume of the last minute and of the last hour",
	"  NORM RATIO  the normal and observed/normal of window WIN",
	"  REF         what set the normal: prof(ile), learn(ed), group (peer",
	"              group), new (new principal), first (egress first seen)",
	"  E           open episode: M medium, H high, C critical",
	"Volumes in powers of 1000 (k, M, G); rows sorted by ratio or volume.",
};

int top_rows_room(int height)
{
	return height > HEADER_LINES + 1 ? height - HEADER_LINES - 1 : 0;
}

static long long num(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = json_object_get(o, path);
	return json_is_integer(o) ? (long long)json_integer_value(o) :
	       json_is_real(o) ? (long long)json_real_value(o) : 0;
}

static const char *str(json_t *o, const char *obj, const char *key)
{
	return json_string_value(json_object_get(obj ? json_object_get(o, obj) : o, key));
}

/* One header line made printable, cut to width (0: whole), newline-terminated. */
static void line(struct top_buf *b, const char *text, int width, bool utf8)
{
	char *p = top_printable(text, utf8);

	if (!p) {
		b->oom = true;
		return;
	}
	top_cut(b, p, width, utf8);
	free(p);
	top_buf_str(b, "\n");
}

static void uptime(long long s, char *buf, size_t size)
{
	if (s >= 86400)
		snprintf(buf, size, "%lldd%02lld:%02lld", s / 86400, s / 3600 % 24, s / 60 % 60);
	else
		snprintf(buf, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

static void clock_of(json_t *snap, char *buf, size_t size)
{
	uint64_t ns;
	time_t t;
	struct tm tm;

	buf[0] = '\0';
	if (!str(snap, NULL, "time") || parse_rfc3339(str(snap, NULL, "time"), &ns))
		return;
	t = (time_t)(ns / 1000000000ull);
	if (localtime_r(&t, &tm))
		strftime(buf, size, "%H:%M:%S", &tm);
}

static void totals(char *buf, size_t size, json_t *t)
{
	static const char *const m[4] = { "db_rows", "db_bytes", "dbfile_bytes", "egress_bytes" };
	static const char *const label[4] = { "rows", "db", "file", "egress" };
	size_t n = (size_t)snprintf(buf, size, "last 1m/1h:");

	for (int i = 0; i < 4 && n < size; i++) {
		char a[16], h[16];

		top_fmt_count((double)num(json_object_get(t, "1m"), m[i]), a, sizeof(a));
		top_fmt_count((double)num(json_object_get(t, "1h"), m[i]), h, sizeof(h));
		n += (size_t)snprintf(buf + n, size - n, "  %s %s/%s", label[i], a, h);
	}
}

void top_header(struct top_buf *b, json_t *snap, const struct top_screen *sc)
{
	json_t *h = json_object_get(snap, "health"), *t = json_object_get(snap, "totals");
	char l[512], up[32], clk[16], fb[48] = "";
	long long drops = num(h, "ringbuf_drops") + num(h, "failed_inserts");

	uptime(num(snap, "sensor.uptime_s"), up, sizeof(up));
	clock_of(snap, clk, sizeof(clk));
	if (num(h, "flow_fallbacks"))
		snprintf(fb, sizeof(fb), "  fallbacks %lld", num(h, "flow_fallbacks"));
	snprintf(l, sizeof(l), "vigie top - %s  up %s  probes %s  drops %lld%s  map %.1f%%  %s",
		 str(snap, "sensor", "host") ? str(snap, "sensor", "host") : "?", up,
		 str(snap, "sensor", "probe_mode") ? str(snap, "sensor", "probe_mode") : "?", drops,
		 fb, 100 * json_number_value(json_object_get(h, "map_fill")), clk);
	line(b, l, sc->width, sc->utf8);
	if (!json_is_true(json_object_get(json_object_get(snap, "sensor"), "detection")))
		snprintf(l, sizeof(l), "detection is off in this sensor: no principals");
	else
		snprintf(l, sizeof(l), "principals %lld  open episodes %lld  alerts %lld  "
			 "suppressed %lld%s", num(t, "principals"), num(t, "episodes_open"),
			 num(t, "alerts"), num(t, "suppressed"),
			 num(t, "principals_dropped") ? "  (max_principals reached)" : "");
	line(b, l, sc->width, sc->utf8);
	totals(l, sizeof(l), t);
	line(b, l, sc->width, sc->utf8);
}

/* Printable text (no newline) cut to width columns, with sgr around it,
 * the rest of the terminal's line cleared. */
static void frame_line(struct top_buf *b, const char *text, int width, const char *sgr,
		       bool utf8)
{
	if (sgr)
		top_buf_str(b, sgr);
	top_cut(b, text, width, utf8);
	if (sgr)
		top_buf_str(b, SGR_RESET);
	top_buf_str(b, "\x1b[K");
}

/* One line of the frame, after a newline unless it is the first, when the
 * terminal has room for it (*shown lines so far, of height): a terminal
 * lower than the frame shows its first lines, the title first, and never
 * scrolls. */
static void frame_next(struct top_buf *b, int *shown, int height, const char *text, int width,
		       const char *sgr, bool utf8)
{
	if (height > 0 && *shown >= height)
		return;
	if (*shown)
		top_buf_str(b, "\n");
	frame_line(b, text, width, sgr, utf8);
	(*shown)++;
}

void top_frame(struct top_buf *b, json_t *snap, const struct top_screen *sc)
{
	struct top_buf hdr = { 0 }, row = { 0 };
	struct top_layout l;
	json_t *rows = json_object_get(snap, "rows");
	int lines = 0, shown = 0, room = top_rows_room(sc->height);
	char status[768], *st;
	char *save = NULL, *tok;

	top_buf_str(b, "\x1b[H");
	if (snap) {
		top_header(&hdr, snap, &(struct top_screen){ .width = 0, .utf8 = sc->utf8 });
	} else {
		top_buf_str(&hdr, "vigie top\n\n\n");
	}
	for (tok = hdr.s ? strtok_r(hdr.s, "\n", &save) : NULL; tok && lines < 3;
	     tok = strtok_r(NULL, "\n", &save), lines++)
		frame_next(b, &shown, sc->height, tok, sc->width, NULL, sc->utf8);
	for (; lines < 3; lines++)
		frame_next(b, &shown, sc->height, "", sc->width, NULL, sc->utf8);
	top_buf_free(&hdr);
	snprintf(status, sizeof(status), "sort %s  kind %s%s  %s", sc->sort, sc->kind,
		 sc->paused ? "  [paused]" : "", sc->status ? sc->status : "h: help  q: quit");
	st = top_printable(status, sc->utf8);
	frame_next(b, &shown, sc->height, st ? st : "", sc->width,
		   sc->colour && (sc->paused || sc->status) ? SGR_TITLE : NULL, sc->utf8);
	free(st);
	top_layout_for(sc->width, &l);
	top_titles(&row, &l);
	frame_next(b, &shown, sc->height, row.s ? row.s : "", sc->width,
		   sc->colour ? SGR_TITLE : NULL, sc->utf8);
	top_buf_free(&row);
	lines = 0;
	if (sc->help) {
		for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]) &&
				   lines < room; i++, lines++)
			frame_next(b, &shown, sc->height, help_lines[i], sc->width, NULL, false);
	} else {
		for (size_t i = 0; i < json_array_size(rows) && lines < room; i++, lines++) {
			json_t *r = json_array_get(rows, i);
			const char *ep = json_string_value(json_object_get(r, "episode"));
			const char *sgr = NULL;

			if (sc->colour && ep)
				sgr = !strcmp(ep, "critical") ? SGR_CRITICAL : SGR_EPISODE;
			top_row_line(&row, r, &l, sc->utf8, true);
			frame_next(b, &shown, sc->height, row.s ? row.s : "", sc->width, sgr,
				   sc->utf8);
			top_buf_free(&row);
		}
		if (snap && !json_array_size(rows) && room > 0)
			frame_next(b, &shown, sc->height, "(no principal yet)", sc->width, NULL,
				   false);
	}
	top_buf_str(b, "\x1b[J");
}

void top_plain(struct top_buf *b, json_t *snap, bool utf8)
{
	json_t *rows = json_object_get(snap, "rows");
	struct top_layout l;
	size_t i;
	json_t *r;

	top_header(b, snap, &(struct top_screen){ .width = 0, .utf8 = utf8 });
	top_layout_fit(rows, utf8, &l);
	top_titles(b, &l);
	top_buf_str(b, "\n");
	json_array_foreach(rows, i, r) {
		top_row_line(b, r, &l, utf8, false);
		top_buf_str(b, "\n");
	}
}
