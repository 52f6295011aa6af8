// SPDX-License-Identifier: GPL-2.0
/* vigie report: HTML escaping and number formats (see report_html.h). */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>
#include <time.h>
#include "base/event.h"
#include "detect/detect.h"
#include "view/report_html.h"

void html_raw(FILE *f, const char *s)
{
	fputs(s, f);
}

void html_fmt(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

/* Code point of the valid sequence s[0..len). */
static uint32_t code_point(const unsigned char *s, size_t len)
{
	switch (len) {
	case 1: return s[0];
	case 2: return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	case 3: return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	default:
		return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
}

/* Shown as U+FFFD: C1 controls, and what reorders text (bidirectional
 * marks, embeddings, overrides and isolates). */
static int hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x61c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

void html_text(FILE *f, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0, shown = 0;

	while (i < n) {
		size_t len = u[i] < 0x80 ? 1 : utf8_valid_len(u + i, n - i);
		uint32_t c = len ? code_point(u + i, len) : 0xfffd;

		if (max && shown == max) {
			fputs("\xe2\x80\xa6", f); /* ellipsis */
			return;
		}
		shown++;
		if (!len) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		i += len;
		switch (c) {
		case '&': fputs("&amp;", f); continue;
		case '<': fputs("&lt;", f); continue;
		case '>': fputs("&gt;", f); continue;
		case '"': fputs("&quot;", f); continue;
		case '\'': fputs("&#39;", f); continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) /* control pictures: U+2400 + c, U+2421 */
			fprintf(f, "&#x%X;", c == 0x7f ? 0x2421u : 0x2400u + c);
		else if (hidden(c))
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(u + i - len, 1, len, f);
	}
}

const char *fmt_count(uint64_t v, char *buf, size_t size)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *metric_unit(int m)
{
	return m == M_DB_ROWS ? "records" : "bytes";
}

/* v scaled to [1, 1000) with its prefix ("", k, M, G, T, P, E). */
static const char *scale(double *v)
{
	static const char *const prefix[] = { "", "k", "M", "G", "T", "P", "E" };
	int i = 0;

	while (*v >= 999.5 && i < 6) {
		*v /= 1000;
		i++;
	}
	return prefix[i];
}

const char *fmt_volume(double v, int metric, char *buf, size_t size)
{
	const char *p;

	if (!isfinite(v) || v <= 0) {
		snprintf(buf, size, "0 %s", metric == M_DB_ROWS ? "records" : "B");
		return buf;
	}
	if (metric == M_DB_ROWS && v < 1000) {
		snprintf(buf, size, "%.0f records", v);
		return buf;
	}
	p = scale(&v);
	snprintf(buf, size, v >= 99.95 ? "%.0f %s%s" : v >= 9.995 ? "%.1f %s%s" : "%.2f %s%s", v, p,
		 metric == M_DB_ROWS ? " records" : "B");
	return buf;
}

const char *fmt_axis(double v, int metric, char *buf, size_t size)
{
	const char *p = scale(&v);

	snprintf(buf, size, "%.0f%s%s", v, metric == M_DB_ROWS ? "" : " ", p);
	if (metric != M_DB_ROWS)
		snprintf(buf + strlen(buf), size - strlen(buf), "B");
	return buf;
}

const char *fmt_ratio(double r, char *buf, size_t size)
{
	if (!isfinite(r) || r < 0)
		r = 0;
	if (r >= 1e9)
		snprintf(buf, size, ">1e9x");
	else
		snprintf(buf, size, r >= 100 ? "%.0fx" : "%.1fx", r);
	return buf;
}

const char *fmt_time(uint64_t ns, int with_time, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, size, "?");
		return buf;
	}
	if (with_time)
		snprintf(buf, size, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min);
	else
		snprintf(buf, size, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return buf;
}

const char *fmt_duration(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000ull;

	if (s >= 86400)
		snprintf(buf, size, "%llu d %llu h", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, size, "%llu h %llu min", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%llu min", (unsigned long long)(s / 60));
	else
		snprintf(buf, size, "%llu s", (unsigned long long)s);
	return buf;
}

const char *severity_label(int level)
{
	static const char *const names[] = { "none", "medium", "high", "critical" };

	return names[level < 0 || level > 3 ? 0 : level];
}
