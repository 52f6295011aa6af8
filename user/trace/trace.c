// SPDX-License-Identifier: GPL-2.0
/*
 * Reading traces: zlib reads gzip and plain files alike (it looks at the
 * magic bytes), lines are cut from 64 KiB chunks, each sample line is parsed
 * by trace_parse_sample(). Bad lines are skipped and counted; a damaged
 * gzip stream is a fatal error, so a cut file never passes for a short one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <zlib.h>
#include "base/log.h"
#include "trace/trace.h"

#define CHUNK (256 * 1024) /* > zlib's buffer: plain files are read directly */
#define SHOWN_SKIPS 10 /* skip messages printed per file */
#define TRACE_JUMP_NS (3600ull * 1000000000ull) /* further ahead: held (see held) */
#define TRACE_JUMP_CONFIRM 8 /* samples that confirm a jump */

struct trace_reader {
	gzFile gz;
	char *name;
	struct trace_header hdr;
	unsigned char *chunk;
	size_t pos, end;
	bool eof;           /* gzread returned 0 */
	char *line;         /* long lines assembled here */
	size_t line_len, line_cap;
	bool line_too_long;
	uint64_t lineno, skipped, ignored, bytes;
	uint64_t min_ts;
	/* a sample far ahead of the last one is held until the samples after it
	 * say whether the trace jumped (they follow it) or it was alone (they
	 * go on from before it: it is skipped) */
	struct held_sample { struct trace_sample s; uint64_t lineno; } held[TRACE_JUMP_CONFIRM];
	int n_held, out_pos;
	bool releasing;
	bool quiet, compressed;
	char error[512];
	char last_skip[512];
};

static void set_error(struct trace_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

static void skip_line_at(struct trace_reader *r, uint64_t lineno, const char *why)
{
	r->skipped++;
	snprintf(r->last_skip, sizeof(r->last_skip), "%s:%llu: %s, line skipped", r->name,
		 (unsigned long long)lineno, why);
	if (r->quiet)
		return;
	if (r->skipped <= SHOWN_SKIPS)
		log_warn("%s", r->last_skip);
	if (r->skipped == SHOWN_SKIPS)
		log_warn("%s: further skipped lines are counted, not shown", r->name);
}

static void skip_line(struct trace_reader *r, const char *why)
{
	skip_line_at(r, r->lineno, why);
}

/* Refill the chunk. 1 data, 0 end of stream, -1 damaged stream. */
static int refill(struct trace_reader *r)
{
	int n, errnum;
	const char *msg;

	if (r->eof)
		return 0;
	n = gzread(r->gz, r->chunk, CHUNK);
	if (n > 0) {
		r->pos = 0;
		r->end = (size_t)n;
		r->bytes += (uint64_t)n;
		return 1;
	}
	msg = gzerror(r->gz, &errnum);
	if (n < 0 || errnum != Z_OK) {
		if (errnum == Z_ERRNO)
			set_error(r, "%s: read error after line %llu: %s", r->name,
				  (unsigned long long)r->lineno, strerror(errno));
		else if (errnum == Z_BUF_ERROR)
			set_error(r, "%s: truncated gzip stream after line %llu", r->name,
				  (unsigned long long)r->lineno);
		else
			set_error(r, "%s: corrupt gzip stream after line %llu: %s", r->name,
				  (unsigned long long)r->lineno, msg ? msg : "?");
		return -1;
	}
	r->eof = true;
	return 0;
}

static int append_line(struct trace_reader *r, const unsigned char *p, size_t n)
{
	if (r->line_too_long || n == 0)
		return 0;
	if (r->line_len + n > TRACE_MAX_LINE) {
		r->line_too_long = true;
		return 0;
	}
	if (r->line_len + n > r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap : 4096;
		char *nl;

		while (cap < r->line_len + n)
			cap *= 2;
		nl = realloc(r->line, cap);
		if (!nl) {
			r->line_too_long = true;
			return 0;
		}
		r->line = nl;
		r->line_cap = cap;
	}
	memcpy(r->line + r->line_len, p, n);
	r->line_len += n;
	return 0;
}

/*
 * Next raw line, without its newline. 1 line (check *too_long), 0 end,
 * -1 fatal. Lines held whole in the chunk are returned in place. A line
 * over TRACE_MAX_LINE is read to its end and skipped, unless stop_long:
 * then it is returned as soon as it is too long (a header cannot be that
 * long, and an endless stream has no end to read to).
 */
static int read_line(struct trace_reader *r, const char **line, size_t *len, bool *too_long,
		     bool stop_long)
{
	r->line_len = 0;
	r->line_too_long = false;
	for (;;) {
		if (r->pos < r->end) {
			unsigned char *st = r->chunk + r->pos;
			unsigned char *nl = memchr(st, '\n', r->end - r->pos);

			if (nl) {
				size_t n = (size_t)(nl - st);

				r->pos += n + 1;
				r->lineno++;
				if (r->line_len == 0 && !r->line_too_long) {
					*line = (const char *)st;
					*len = n;
					*too_long = n > TRACE_MAX_LINE;
					return 1;
				}
				append_line(r, st, n);
				break;
			}
			append_line(r, st, r->end - r->pos);
			r->pos = r->end;
			if (stop_long && r->line_too_long) {
				r->lineno++;
				break;
			}
		}
		int rc = refill(r);

		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (r->line_len == 0 && !r->line_too_long)
				return 0;
			r->lineno++; /* last line without a newline */
			break;
		}
	}
	*line = r->line;
	*len = r->line_len;
	*too_long = r->line_too_long;
	return 1;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static int parse_header(struct trace_reader *r, const char *line, size_t len, char *err,
			size_t errlen)
{
	json_error_t jerr;
	json_t *h = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *v;
	int rc = -1;

	if (!h || !json_is_object(h)) {
		snprintf(err, errlen, "%s:%llu: not a vigie trace header (invalid JSON object: %s)",
			 r->name, (unsigned long long)r->lineno, h ? "not an object" : jerr.text);
		goto out;
	}
	if (!json_is_string(json_object_get(h, "type")) ||
	    strcmp(json_string_value(json_object_get(h, "type")), "header") ||
	    !json_is_string(json_object_get(h, "format")) ||
	    strcmp(json_string_value(json_object_get(h, "format")), TRACE_FORMAT)) {
		snprintf(err, errlen,
			 "%s:%llu: not a vigie trace header (needs \"type\":\"header\", \"format\":\"%s\")",
			 r->name, (unsigned long long)r->lineno, TRACE_FORMAT);
		goto out;
	}
	v = json_object_get(h, "version");
	if (!json_is_integer(v) || json_integer_value(v) != TRACE_VERSION) {
		snprintf(err, errlen, "%s:%llu: header field 'version': unsupported (this reader knows %d)",
			 r->name, (unsigned long long)r->lineno, TRACE_VERSION);
		goto out;
	}
	r->hdr.version = TRACE_VERSION;
	v = json_object_get(h, "host");
	if (v && !json_is_string(v)) {
		snprintf(err, errlen, "%s:%llu: header field 'host': must be a string", r->name,
			 (unsigned long long)r->lineno);
		goto out;
	}
	snprintf(r->hdr.host, sizeof(r->hdr.host), "%s", v ? json_string_value(v) : "unknown");
	v = json_object_get(h, "tick_s");
	r->hdr.tick_s = 1;
	if (v) {
		if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 86400) {
			snprintf(err, errlen,
				 "%s:%llu: header field 'tick_s': must be a number of seconds in (0, 86400]",
				 r->name, (unsigned long long)r->lineno);
			goto out;
		}
		r->hdr.tick_s = json_number_value(v);
	}
	rc = 0;
out:
	json_decref(h);
	return rc;
}

static int read_header(struct trace_reader *r, char *err, size_t errlen)
{
	const char *line;
	size_t len;
	bool too_long;
	int rc;

	do {
		rc = read_line(r, &line, &len, &too_long, true);
		if (rc < 0) {
			snprintf(err, errlen, "%s", r->error);
			return -1;
		}
		if (rc == 0) {
			snprintf(err, errlen, "%s: empty trace (no header line)", r->name);
			return -1;
		}
	} while (!too_long && blank(line, len));
	if (too_long) {
		snprintf(err, errlen, "%s:%llu: header line longer than %u bytes", r->name,
			 (unsigned long long)r->lineno, TRACE_MAX_LINE);
		return -1;
	}
	return parse_header(r, line, len, err, errlen);
}

static gzFile open_gz(const char *path, char *err, size_t errlen)
{
	gzFile gz;
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) :
					 open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		snprintf(err, errlen, "%s: cannot open: out of memory", path);
		return NULL;
	}
	gzbuffer(gz, 128 * 1024);
	return gz;
}

struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen)
{
	struct trace_reader *r = calloc(1, sizeof(*r));

	if (!r || !(r->chunk = malloc(CHUNK)) || !(r->name = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	r->gz = open_gz(path, err, errlen);
	if (!r->gz)
		goto fail;
	if (read_header(r, err, errlen))
		goto fail;
	r->compressed = !gzdirect(r->gz);
	return r;
fail:
	trace_reader_close(r);
	return NULL;
}

/* The next sample that parses (bad lines skipped), in file order. */
static int next_parsed(struct trace_reader *r, struct trace_sample *out)
{
	char why[400];
	const char *line;
	size_t len;
	bool too_long;

	if (r->error[0])
		return -1;
	for (;;) {
		int rc = read_line(r, &line, &len, &too_long, false);

		if (rc <= 0)
			return rc;
		if (too_long) {
			snprintf(why, sizeof(why), "line longer than %u bytes", TRACE_MAX_LINE);
			skip_line(r, why);
			continue;
		}
		if (blank(line, len))
			continue;
		rc = trace_parse_sample(line, len, out, why, sizeof(why));
		if (rc < 0) {
			skip_line(r, why);
			continue;
		}
		if (rc == 1) {
			r->ignored++;
			continue;
		}
		return 1;
	}
}

/* A sample before the last one given: skipped. */
static bool goes_back(struct trace_reader *r, const struct trace_sample *s, uint64_t lineno)
{
	char why[160];

	if (s->ts_ns >= r->min_ts)
		return false;
	snprintf(why, sizeof(why), "field 'ts': time goes backwards (%.3f s before the previous "
		 "sample)", (double)(r->min_ts - s->ts_ns) / 1e9);
	skip_line_at(r, lineno, why);
	return true;
}

int trace_reader_next(struct trace_reader *r, struct trace_sample *out)
{
	struct trace_sample s;
	char why[200];

	for (;;) {
		int rc;

		if (r->releasing) {
			/* a jump the samples after it confirmed */
			if (r->out_pos < r->n_held) {
				struct held_sample *h = &r->held[r->out_pos++];

				if (goes_back(r, &h->s, h->lineno))
					continue;
				*out = h->s;
				r->min_ts = out->ts_ns;
				return 1;
			}
			r->releasing = false;
			r->n_held = r->out_pos = 0;
		}
		rc = next_parsed(r, &s);
		if (rc <= 0) {
			if (rc == 0 && r->n_held) {
				r->releasing = true; /* nothing contradicts it */
				continue;
			}
			return rc;
		}
		if (r->n_held && s.ts_ns + TRACE_JUMP_NS < r->held[0].s.ts_ns &&
		    s.ts_ns >= r->min_ts) {
			/* back on the timeline before the jump: what was held
			 * was alone ahead of it */
			for (int i = 0; i < r->n_held; i++) {
				snprintf(why, sizeof(why), "field 'ts': %.0f s ahead of the samples "
					 "around it", (double)(r->held[i].s.ts_ns - s.ts_ns) / 1e9);
				skip_line_at(r, r->held[i].lineno, why);
			}
			r->n_held = 0;
		}
		if (r->n_held) {
			r->held[r->n_held].s = s;
			r->held[r->n_held++].lineno = r->lineno;
			if (r->n_held == TRACE_JUMP_CONFIRM)
				r->releasing = true;
			continue;
		}
		if (goes_back(r, &s, r->lineno))
			continue;
		if (s.ts_ns > r->min_ts + TRACE_JUMP_NS) {
			r->held[0].s = s;
			r->held[0].lineno = r->lineno;
			r->n_held = 1;
			continue;
		}
		*out = s;
		r->min_ts = out->ts_ns;
		return 1;
	}
}

void trace_reader_set_min_ts(struct trace_reader *r, uint64_t ts_ns) { r->min_ts = ts_ns; }
void trace_reader_set_quiet(struct trace_reader *r, bool quiet) { r->quiet = quiet; }
const struct trace_header *trace_reader_header(const struct trace_reader *r) { return &r->hdr; }
uint64_t trace_reader_line(const struct trace_reader *r) { return r->lineno; }
uint64_t trace_reader_skipped(const struct trace_reader *r) { return r->skipped; }
uint64_t trace_reader_ignored(const struct trace_reader *r) { return r->ignored; }
bool trace_reader_compressed(const struct trace_reader *r) { return r->compressed; }
uint64_t trace_reader_bytes(const struct trace_reader *r) { return r->bytes; }
const char *trace_reader_error(const struct trace_reader *r) { return r->error; }
const char *trace_reader_last_skip(const struct trace_reader *r) { return r->last_skip; }

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose_r(r->gz);
	free(r->chunk);
	free(r->line);
	free(r->name);
	free(r);
}
