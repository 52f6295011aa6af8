// SPDX-License-Identifier: GPL-2.0
/* vigie top: lines of text from a snapshot (top_int.h). Pure: no terminal,
 * no socket; the same bytes for the same snapshot and size. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include "base/event.h"
#include "view/top_int.h"

/* ---- buffer ------------------------------------------------------------------ */

void top_buf_free(struct top_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void top_buf_add(struct top_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void top_buf_str(struct top_buf *b, const char *s)
{
	top_buf_add(b, s, strlen(s));
}

void top_buf_printf(struct top_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		top_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- numbers -------------------------------------------------------------------- */

void top_fmt_count(double v, char *buf, size_t size)
{
	static const char units[] = "kMGTPE";
	double x = v;
	int u = -1;

	if (v < 0 || isnan(v)) {
		snprintf(buf, size, "-");
		return;
	}
	if (v < 9.95 && v != floor(v)) {
		snprintf(buf, size, "%.1f", v);
		return;
	}
	if (v < 999.5) {
		snprintf(buf, size, "%.0f", v);
		return;
	}
	while (x >= 999.5 && u < 5) {
		x /= 1000;
		u++;
	}
	if (x >= 999.5) {
		snprintf(buf, size, "huge");
		return;
	}
	if (x < 9.95)
		snprintf(buf, size, "%.1f%c", x, units[u]);
	else
		snprintf(buf, size, "%.0f%c", x, units[u]);
}

void top_fmt_ratio(double r, char *buf, size_t size)
{
	if (r < 0 || isnan(r))
		snprintf(buf, size, "-");
	else if (r < 0.995)
		snprintf(buf, size, "%.2fx", r);
	else if (r < 9.95)
		snprintf(buf, size, "%.1fx", r);
	else if (r < 999.5)
		snprintf(buf, size, "%.0fx", r);
	else if (r < 9950)
		snprintf(buf, size, "%.1fkx", r / 1e3);
	else if (r < 999500)
		snprintf(buf, size, "%.0fkx", r / 1e3);
	else if (r < 9.95e6)
		snprintf(buf, size, "%.1fMx", r / 1e6);
	else if (r < 999.5e6)
		snprintf(buf, size, "%.0fMx", r / 1e6);
	else
		snprintf(buf, size, ">1Gx");
}

/* ---- printable text --------------------------------------------------------------- */

/* Code point of the valid UTF-8 sequence at s of n bytes. */
static unsigned decode(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0];
	if (n == 2)
		return (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu);
	if (n == 3)
		return (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
	return (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
}

/* Characters a terminal shows as nothing, or that turn the text around. */
static bool invisible(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || cp == 0x61c || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Columns of code point cp, -1 when it is not printable. */
static int cp_width(unsigned cp)
{
	if (cp < 0x20 || cp == 0x7f || invisible(cp))
		return -1;
	if (cp < 0x7f)
		return 1;
	return wcwidth((wchar_t)cp);
}

char *top_printable(const char *s, bool utf8)
{
	struct top_buf b = { 0 };
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s)
		return strdup("-");
	n = strlen(s);
	top_buf_add(&b, "", 0);
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80 ? 1 : utf8 ? utf8_valid_len(p + i, n - i) : 0;
		unsigned cp;

		if (len == 0) { /* a byte that is not (valid) UTF-8 */
			top_buf_printf(&b, "\\x%02x", p[i]);
			i++;
			continue;
		}
		cp = decode(p + i, len);
		if (cp == '\\')
			top_buf_str(&b, "\\\\");
		else if (cp < 0x80 && cp_width(cp) < 0)
			top_buf_printf(&b, "\\x%02x", cp);
		else if (cp_width(cp) < 0)
			top_buf_printf(&b, "\\u{%04x}", cp);
		else
			top_buf_add(&b, (const char *)p + i, len);
		i += len;
	}
	if (b.oom) {
		top_buf_free(&b);
		return NULL;
	}
	return b.s;
}

/* The printable character at s: its length in bytes and columns. */
static size_t next_char(const char *s, bool utf8, int *cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = p[0] < 0x80 || !utf8 ? 1 : utf8_valid_len(p, strlen(s));

	if (len == 0)
		len = 1;
	*cols = len == 1 ? 1 : cp_width(decode(p, len));
	if (*cols < 0)
		*cols = 1;
	return len;
}

int top_width(const char *s, bool utf8)
{
	int w = 0, c;

	while (*s) {
		s += next_char(s, utf8, &c);
		w += c;
	}
	return w;
}

static void pad(struct top_buf *b, int n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k = n < 32 ? n : 32;

		top_buf_add(b, spaces, (size_t)k);
		n -= k;
	}
}

/* The first characters of s that fit in cols columns: their bytes and columns. */
static size_t head_fit(const char *s, bool utf8, int cols, int *used)
{
	size_t off = 0;
	int c;

	*used = 0;
	while (s[off]) {
		size_t len = next_char(s + off, utf8, &c);

		if (*used + c > cols)
			break;
		*used += c;
		off += len;
	}
	return off;
}

void top_fit(struct top_buf *b, const char *s, int width, bool right, bool utf8)
{
	char *p = top_printable(s, utf8);
	int w, head, tail, used;
	size_t hb, off;

	if (!p) {
		b->oom = true;
		return;
	}
	w = top_width(p, utf8);
	if (w <= width) {
		if (right)
			pad(b, width - w);
		top_buf_str(b, p);
		if (!right)
			pad(b, width - w);
		free(p);
		return;
	}
	if (width <= 0) {
		free(p);
		return;
	}
	/* cut in the middle: the end of a name (an executable, an address)
	 * says more than its start */
	head = (width - 1) / 3;
	tail = width - 1 - head;
	hb = head_fit(p, utf8, head, &used);
	top_buf_add(b, p, hb);
	pad(b, head - used);
	top_buf_str(b, "~");
	/* the tail: skip characters until what is left fits */
	off = 0;
	while (p[off] && top_width(p + off, utf8) > tail) {
		int c;

		off += next_char(p + off, utf8, &c);
	}
	pad(b, tail - top_width(p + off, utf8));
	top_buf_str(b, p + off);
	free(p);
}

void top_cut(struct top_buf *b, const char *printable, int width, bool utf8)
{
	int used;

	if (!width)
		top_buf_str(b, printable);
	else
		top_buf_add(b, printable, head_fit(printable, utf8, width, &used));
}

/* ---- columns ------------------------------------------------------------------------ */

static const char *const titles[TC_MAX] = { "KIND",   "PRINCIPAL", "PROCESS", "PEER",
					    "METRIC", "1M",        "1H",      "NORM",
					    "RATIO",  "WIN",       "REF",     "E" };
static const int fixed[TC_MAX] = { 8, 0, 0, 0, 6, 4, 4, 4, 5, 3, 5, 1 };
static const bool right_aligned[TC_MAX] = { [TC_1M] = true, [TC_1H] = true, [TC_NORMAL] = true,
					    [TC_RATIO] = true };

void top_layout_for(int width, struct top_layout *l)
{
	int used = 0, n = 0, flex;

	for (int c = 0; c < TC_MAX; c++) {
		l->w[c] = fixed[c];
		if (fixed[c]) {
			used += fixed[c];
			n++;
		}
	}
	/* principal, process, peer, and a space between every two columns */
	flex = width - used - (n + 3 - 1);
	if (flex >= 24) {
		l->w[TC_ID] = flex / 2;
		l->w[TC_PROC] = (flex - l->w[TC_ID]) / 2;
		l->w[TC_PEER] = flex - l->w[TC_ID] - l->w[TC_PROC];
	} else if (flex + 1 >= 16) { /* no peer column */
		l->w[TC_ID] = (flex + 1) * 2 / 3;
		l->w[TC_PROC] = flex + 1 - l->w[TC_ID];
	} else {                     /* the principal only */
		l->w[TC_ID] = flex + 2 > 8 ? flex + 2 : 8;
	}
}

static const char *short_metric(const char *m)
{
	if (!m)
		return "-";
	if (!strcmp(m, "db_rows"))
		return "rows";
	if (!strcmp(m, "db_bytes"))
		return "db";
	if (!strcmp(m, "dbfile_bytes"))
		return "file";
	if (!strcmp(m, "egress_bytes"))
		return "egress";
	return m;
}

static const char *short_ref(const char *r)
{
	if (!r)
		return "-";
	if (!strcmp(r, "learned"))
		return "learn";
	if (!strcmp(r, "peer_group"))
		return "group";
	if (!strcmp(r, "new_principal"))
		return "new";
	if (!strcmp(r, "first_seen"))
		return "first";
	if (!strcmp(r, "profile"))
		return "prof";
	return r;
}

static const char *episode_mark(const char *level)
{
	if (!level)
		return "";
	return !strcmp(level, "critical") ? "C" : !strcmp(level, "high") ? "H" : "M";
}

/* "exe@user" by its executable's base name; with_user false: without "@user". */
static void short_exe(const char *id, bool with_user, char *out, size_t size)
{
	const char *at = strrchr(id, '@'), *end = at ? at : id + strlen(id), *base = id;

	for (const char *p = id; p < end; p++)
		if (*p == '/' && p + 1 < end)
			base = p + 1;
	if (with_user && at)
		snprintf(out, size, "%.*s%s", (int)(end - base), base, at);
	else
		snprintf(out, size, "%.*s", (int)(end - base), base);
}

/* The texts of a row's cells. */
struct cells {
	char s[TC_MAX][512];
};

static void row_cells(json_t *row, bool shorten, struct cells *c)
{
	const char *kind = json_string_value(json_object_get(row, "kind"));
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *proc = json_string_value(json_object_get(row, "process"));
	const char *peer = json_string_value(json_object_get(row, "peer"));
	json_t *lead = json_object_get(row, "lead"), *mo = NULL, *wo = NULL;
	const char *metric = json_string_value(json_object_get(lead, "metric"));
	const char *win = json_string_value(json_object_get(lead, "window"));
	json_t *normal, *ratio;

	memset(c, 0, sizeof(*c));
	snprintf(c->s[TC_KIND], sizeof(c->s[0]), "%s", kind ? kind : "?");
	if (shorten && kind && !strcmp(kind, "process") && id)
		short_exe(id, true, c->s[TC_ID], sizeof(c->s[0]));
	else
		snprintf(c->s[TC_ID], sizeof(c->s[0]), "%s", id ? id : "");
	if (shorten && proc)
		short_exe(proc, false, c->s[TC_PROC], sizeof(c->s[0]));
	else
		snprintf(c->s[TC_PROC], sizeof(c->s[0]), "%s", proc ? proc : "-");
	snprintf(c->s[TC_PEER], sizeof(c->s[0]), "%s", peer ? peer : "-");
	snprintf(c->s[TC_METRIC], sizeof(c->s[0]), "%s", short_metric(metric));
	if (metric)
		mo = json_object_get(json_object_get(row, "metrics"), metric);
	if (mo && win)
		wo = json_object_get(mo, win);
	top_fmt_count(mo ? (double)json_integer_value(json_object_get(json_object_get(mo, "1m"),
								      "observed")) : -1,
		      c->s[TC_1M], sizeof(c->s[0]));
	top_fmt_count(mo ? (double)json_integer_value(json_object_get(json_object_get(mo, "1h"),
								      "observed")) : -1,
		      c->s[TC_1H], sizeof(c->s[0]));
	normal = json_object_get(wo, "normal");
	ratio = json_object_get(wo, "ratio");
	top_fmt_count(json_is_number(normal) ? json_number_value(normal) : -1, c->s[TC_NORMAL],
		      sizeof(c->s[0]));
	top_fmt_ratio(json_is_number(ratio) ? json_number_value(ratio) : -1, c->s[TC_RATIO],
		      sizeof(c->s[0]));
	snprintf(c->s[TC_WIN], sizeof(c->s[0]), "%s", win ? win : "-");
	snprintf(c->s[TC_REF], sizeof(c->s[0]), "%s",
		 short_ref(json_string_value(json_object_get(wo, "reference"))));
	snprintf(c->s[TC_EP], sizeof(c->s[0]), "%s",
		 episode_mark(json_string_value(json_object_get(row, "episode"))));
}

static void cells_line(struct top_buf *b, const struct cells *c, const struct top_layout *l,
		       bool utf8)
{
	size_t start = b->len;
	bool first = true;

	for (int k = 0; k < TC_MAX; k++) {
		if (!l->w[k])
			continue;
		if (!first)
			top_buf_str(b, " ");
		first = false;
		top_fit(b, c->s[k], l->w[k], right_aligned[k], utf8);
	}
	/* no trailing blanks (an empty last column) */
	while (!b->oom && b->len > start && b->s[b->len - 1] == ' ')
		b->s[--b->len] = '\0';
}

void top_titles(struct top_buf *b, const struct top_layout *l)
{
	struct cells c;

	for (int k = 0; k < TC_MAX; k++)
		snprintf(c.s[k], sizeof(c.s[k]), "%s", titles[k]);
	cells_line(b, &c, l, false);
}

void top_row_line(struct top_buf *b, json_t *row, const struct top_layout *l, bool utf8,
		  bool shorten)
{
	struct cells c;

	row_cells(row, shorten, &c);
	cells_line(b, &c, l, utf8);
}

void top_layout_fit(json_t *rows, bool utf8, struct top_layout *l)
{
	size_t i;
	json_t *row;

	for (int k = 0; k < TC_MAX; k++)
		l->w[k] = fixed[k] ? fixed[k] : (int)strlen(titles[k]);
	json_array_foreach(rows, i, row) {
		struct cells c;

		row_cells(row, false, &c);
		for (int k = TC_ID; k <= TC_PEER; k++) {
			char *p = top_printable(c.s[k], utf8);
			int w = p ? top_width(p, utf8) : 0;

			if (w > l->w[k])
				l->w[k] = w;
			free(p);
		}
	}
}
