/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vigie report: writing HTML that no name can break. Every text from a
 * trace (process, user, account, peer, host names) goes through
 * html_text(): markup characters become entities, invalid UTF-8 becomes
 * U+FFFD, control characters their visible pictures (U+2400...), and
 * bidirectional overrides U+FFFD (a name cannot reorder what is shown
 * around it). Numbers and times are formatted the same on every host (C
 * locale, UTC).
 */
#ifndef VIGIE_VIEW_REPORT_HTML_H
#define VIGIE_VIEW_REPORT_HTML_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void html_raw(FILE *f, const char *s);
void html_fmt(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s escaped for text and attribute values; at most max code points (0: no
 * limit), the cut marked with an ellipsis. */
void html_text(FILE *f, const char *s, size_t max);

/* 1234567 -> "1,234,567" */
const char *fmt_count(uint64_t v, char *buf, size_t size);
/* A volume of metric m, three significant digits: "10.8 k records",
 * "9.00 GB" (decimal units); "0" for 0. */
const char *fmt_volume(double v, int metric, char *buf, size_t size);
/* Short axis label: "10k", "1M", "100 MB". */
const char *fmt_axis(double v, int metric, char *buf, size_t size);
/* "433x", "12.5x" */
const char *fmt_ratio(double r, char *buf, size_t size);
/* UTC: "2024-03-05 09:31" (with_time) or "2024-03-05" */
const char *fmt_time(uint64_t ns, int with_time, char *buf, size_t size);
/* "3 d 4 h", "12 min" */
const char *fmt_duration(uint64_t ns, char *buf, size_t size);
/* "medium", "high", "critical" (0: "none") */
const char *severity_label(int level);
/* Unit of a metric: "records" or "bytes". */
const char *metric_unit(int m);

#endif
