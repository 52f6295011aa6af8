// SPDX-License-Identifier: GPL-2.0
/*
 * Writing traces (vigie run --record, tools/tracegen). Lines are formatted
 * by hand: time with nanoseconds so a replay sees exactly what detection
 * saw, zero counters and absent identities omitted, strings escaped and
 * made valid UTF-8.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "base/log.h"
#include "base/safefile.h"
#include "base/event.h"
#include "trace/trace.h"

struct trace_writer {
	gzFile gz;
	char *path;
	bool failed;
	uint64_t cached_sec; /* time prefix cache */
	char cached_prefix[80];
	char line[8192]; /* worst case: every byte escaped */
};

struct out {
	char *p, *end;
	bool full;
};

static void out_bytes(struct out *o, const char *s, size_t n)
{
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void out_str(struct out *o, const char *s) { out_bytes(o, s, strlen(s)); }

static void out_u64(struct out *o, uint64_t v)
{
	char b[24];
	int i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_bytes(o, b + i, sizeof(b) - (size_t)i);
}

static void out_json_string(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);

	out_bytes(o, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_bytes(o, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_bytes(o, esc, 6);
			i++;
		} else {
			size_t l = utf8_valid_len(s + i, n - i);

			if (l == 0) {
				out_bytes(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				i++;
			} else {
				out_bytes(o, (const char *)s + i, l);
				i += l;
			}
		}
	}
	out_bytes(o, "\"", 1);
}

static void out_time(struct out *o, uint64_t ns, struct trace_writer *w)
{
	uint64_t sec = ns / 1000000000ull;
	unsigned frac = (unsigned)(ns % 1000000000ull);
	char buf[80];

	if (!w || w->cached_sec != sec || !w->cached_prefix[0]) {
		time_t t = (time_t)sec;
		struct tm tm;
		char *dst = w ? w->cached_prefix : buf;
		size_t cap = w ? sizeof(w->cached_prefix) : sizeof(buf);

		if (!gmtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		snprintf(dst, cap, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (w)
			w->cached_sec = sec;
	}
	out_str(o, w ? w->cached_prefix : buf);
	if (frac) {
		snprintf(buf, sizeof(buf), ".%09u", frac);
		out_str(o, buf);
	}
	out_bytes(o, "Z", 1);
}

static void out_field_str(struct out *o, const char *name, const char *v)
{
	if (!v[0])
		return;
	out_str(o, ",\"");
	out_str(o, name);
	out_str(o, "\":");
	out_json_string(o, v);
}

static void out_field_u64(struct out *o, const char *name, uint64_t v, bool always)
{
	if (!v && !always)
		return;
	out_str(o, ",\"");
	out_str(o, name);
	out_str(o, "\":");
	out_u64(o, v);
}

static size_t format_sample(const struct trace_sample *s, char *buf, size_t size,
			    struct trace_writer *w)
{
	struct out o = { buf, buf + size, false };

	out_str(&o, "{\"type\":\"sample\",\"ts\":\"");
	out_time(&o, s->ts_ns, w);
	out_str(&o, "\"");
	if (s->pid >= 0)
		out_field_u64(&o, "pid", (uint64_t)s->pid, true);
	if (s->uid >= 0)
		out_field_u64(&o, "uid", (uint64_t)s->uid, true);
	out_field_str(&o, "user", s->user);
	out_field_str(&o, "comm", s->comm);
	out_field_str(&o, "exe", s->exe);
	out_field_str(&o, "db_user", s->db_user);
	out_field_str(&o, "app_user", s->app_user);
	out_field_str(&o, "app_name", s->app_name);
	out_field_str(&o, "peer", s->peer);
	out_field_u64(&o, "egress_bytes", s->egress_bytes, false);
	out_field_u64(&o, "db_bytes", s->db_bytes, false);
	out_field_u64(&o, "db_rows", s->db_rows, false);
	out_field_u64(&o, "dbfile_bytes", s->dbfile_bytes, false);
	out_field_u64(&o, "ops", s->ops, false);
	if (s->db_rows_unknown)
		out_str(&o, ",\"db_rows_known\":false");
	out_bytes(&o, "}", 1);
	if (o.full || o.p >= o.end)
		return 0;
	*o.p = '\0';
	return (size_t)(o.p - buf);
}

size_t trace_format_sample(const struct trace_sample *s, char *buf, size_t size)
{
	return format_sample(s, buf, size, NULL);
}

static int put_line(struct trace_writer *w, const char *line, size_t len)
{
	if (w->failed)
		return -1;
	if (gzwrite(w->gz, line, (unsigned)len) != (int)len) {
		int errnum;
		const char *msg = gzerror(w->gz, &errnum);

		log_error("cannot write trace '%s': %s", w->path,
			  errnum == Z_ERRNO ? strerror(errno) : msg);
		w->failed = true;
		return -1;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct trace_writer *trace_writer_open(const char *path, const char *host, double tick_s)
{
	struct trace_writer *w = calloc(1, sizeof(*w));
	bool gzip = ends_with(path, ".gz");
	char hdr[600];
	struct out o;
	int fd;

	if (!w || !(w->path = strdup(path)))
		goto oom;
	fd = strcmp(path, "-") == 0 ? dup(STDOUT_FILENO) :
				     safe_open_write(path, O_WRONLY | O_CREAT | O_TRUNC, "trace");
	if (fd < 0)
		goto fail;
	w->gz = gzdopen(fd, gzip ? "wb6" : "wbT");
	if (!w->gz) {
		close(fd);
		goto oom;
	}
	gzbuffer(w->gz, 256 * 1024);
	o = (struct out){ hdr, hdr + sizeof(hdr) - 2, false };
	out_str(&o, "{\"type\":\"header\",\"format\":\"" TRACE_FORMAT "\",\"version\":1,\"host\":");
	out_json_string(&o, host ? host : "unknown");
	snprintf(o.p, (size_t)(o.end - o.p), ",\"tick_s\":%.17g}\n", tick_s > 0 ? tick_s : 1);
	if (o.full || put_line(w, hdr, strlen(hdr)))
		goto fail;
	return w;
oom:
	log_error("cannot create trace '%s': out of memory", path);
fail:
	if (w && w->gz)
		gzclose_w(w->gz);
	if (w)
		free(w->path);
	free(w);
	return NULL;
}

int trace_writer_write(struct trace_writer *w, const struct trace_sample *s)
{
	size_t n = format_sample(s, w->line, sizeof(w->line) - 1, w);

	if (n == 0) {
		log_error("trace '%s': sample does not fit a line", w->path);
		return -1;
	}
	w->line[n] = '\n';
	return put_line(w, w->line, n + 1);
}

int trace_writer_flush(struct trace_writer *w)
{
	if (w->failed)
		return -1;
	if (gzflush(w->gz, Z_SYNC_FLUSH) != Z_OK) {
		log_error("cannot write trace '%s'", w->path);
		w->failed = true;
		return -1;
	}
	return 0;
}

int trace_writer_close(struct trace_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = w->failed ? -1 : 0;
	if (gzclose_w(w->gz) != Z_OK) {
		if (!w->failed)
			log_error("cannot write trace '%s': %s", w->path, strerror(errno));
		rc = -1;
	}
	free(w->path);
	free(w);
	return rc;
}
