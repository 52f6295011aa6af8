/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small strict JSON scanner for trace lines: whitespace, strings (escapes
 * decoded, \u surrogates paired, bounded copy), numbers as tokens, literals,
 * and nested values skipped with a bounded depth. Static functions for the
 * one file that parses samples (trace_parse.c), kept in its translation unit
 * so that they inline: replay parses millions of lines a second.
 */
#ifndef VIGIE_JSON_SCAN_H
#define VIGIE_JSON_SCAN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

struct scan {
	const char *p;
	const char *end;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct scan *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}


static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Append bytes to out (cap includes the NUL); sets *overflow if cut. */
static void put(char *out, size_t cap, size_t *n, const char *b, size_t len, bool *overflow)
{
	if (!out)
		return;
	if (*n + len >= cap) {
		*overflow = true;
		return;
	}
	memcpy(out + *n, b, len);
	*n += len;
}

static size_t utf8_encode(unsigned cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX (and a following low surrogate); p points after "\u". */
static int unicode_escape(struct scan *s, unsigned *cp)
{
	unsigned hi, lo;

	if (s->end - s->p < 4 || hex4(s->p, &hi))
		return fail(s, "bad \\u escape in a string");
	s->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(s, "lone low surrogate in a string");
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi ? hi : ' '; /* NUL would cut a C string */
		return 0;
	}
	if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || hex4(s->p + 2, &lo) ||
	    lo < 0xdc00 || lo > 0xdfff)
		return fail(s, "unpaired surrogate in a string");
	s->p += 6;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/*
 * String at s->p (which is '"'). Decoded into out (cap bytes with NUL) when
 * out is not NULL; *overflow tells it did not fit. Raw bytes >= 0x80 are
 * kept as they are (output is made valid UTF-8 when events are built).
 */
/* Bytes that end a plain run inside a string: '"', '\\' and controls. */
static const unsigned char special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static int scan_string_n(struct scan *s, char *out, size_t cap, bool *overflow, size_t *len);

static int scan_string(struct scan *s, char *out, size_t cap, bool *overflow)
{
	size_t len;

	return scan_string_n(s, out, cap, overflow, &len);
}

static int scan_string_n(struct scan *s, char *out, size_t cap, bool *overflow, size_t *len)
{
	size_t n = 0;

	*overflow = false;
	s->p++;
	while (s->p < s->end) {
		const char *q = s->p;

		while (q < s->end && !special[(unsigned char)*q])
			q++;
		put(out, cap, &n, s->p, (size_t)(q - s->p), overflow);
		s->p = q;
		if (q >= s->end)
			break;
		if (*q == '"') {
			s->p++;
			if (out)
				out[n] = '\0';
			*len = n;
			return 0;
		}
		if ((unsigned char)*q < 0x20)
			return fail(s, "control character in a string");
		/* backslash */
		if (s->end - s->p < 2)
			break;
		{
			char c = s->p[1], b[4];
			size_t bl = 1;
			unsigned cp = 0;

			s->p += 2;
			switch (c) {
			case '"': b[0] = '"'; break;
			case '\\': b[0] = '\\'; break;
			case '/': b[0] = '/'; break;
			case 'b': b[0] = '\b'; break;
			case 'f': b[0] = '\f'; break;
			case 'n': b[0] = '\n'; break;
			case 'r': b[0] = '\r'; break;
			case 't': b[0] = '\t'; break;
			case 'u':
				if (unicode_escape(s, &cp))
					return -1;
				bl = utf8_encode(cp, b);
				break;
			default:
				return fail(s, "bad escape '\\%c' in a string", c >= 0x20 && c < 0x7f ? c : '?');
			}
			put(out, cap, &n, b, bl, overflow);
		}
	}
	return fail(s, "unterminated string");
}

/* JSON number grammar; [*start, *start+*len) is the token. */
static int scan_number(struct scan *s, const char **start, size_t *len)
{
	const char *p = s->p;

	*start = p;
	if (p < s->end && *p == '-')
		p++;
	if (p >= s->end || *p < '0' || *p > '9')
		return fail(s, "bad number");
	if (*p == '0')
		p++;
	else
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	if (p < s->end && *p == '.') {
		p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return fail(s, "bad number");
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return fail(s, "bad number");
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	*len = (size_t)(p - *start);
	s->p = p;
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, "invalid JSON value");
	s->p += n;
	return 0;
}

static int skip_value(struct scan *s, int depth);

static int skip_container(struct scan *s, int depth, char close)
{
	bool overflow;

	if (depth >= MAX_DEPTH)
		return fail(s, "nesting deeper than %d", MAX_DEPTH);
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (close == '}') {
			if (s->p >= s->end || *s->p != '"')
				return fail(s, "expected a field name");
			if (scan_string(s, NULL, 0, &overflow))
				return -1;
			skip_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return fail(s, "expected ':'");
			s->p++;
		}
		if (skip_value(s, depth + 1))
			return -1;
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return 0;
		}
		return fail(s, "expected ',' or '%c'", close);
	}
}

static int skip_value(struct scan *s, int depth)
{
	const char *st;
	size_t len;
	bool overflow;

	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "missing value");
	switch (*s->p) {
	case '"': return scan_string(s, NULL, 0, &overflow);
	case '{': return skip_container(s, depth, '}');
	case '[': return skip_container(s, depth, ']');
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	default: return scan_number(s, &st, &len);
	}
}

/* ---- field values ---- */

enum field {
	F_UNKNOWN, F_TYPE, F_TS, F_PID, F_UID, F_USER, F_COMM, F_EXE, F_DB_USER, F_PEER,
	F_EGRESS, F_DB_BYTES, F_DB_ROWS, F_DBFILE, F_OPS, F_APP_USER, F_APP_NAME,
};

#define FIELD(name, f) [f] = { name, sizeof(name) - 1 }
static const struct {
	const char *name;
	size_t len;
} fields[] = {
	FIELD("type", F_TYPE), FIELD("ts", F_TS), FIELD("pid", F_PID), FIELD("uid", F_UID),
	FIELD("user", F_USER), FIELD("comm", F_COMM), FIELD("exe", F_EXE),
	FIELD("db_user", F_DB_USER), FIELD("peer", F_PEER), FIELD("egress_bytes", F_EGRESS),
	FIELD("db_bytes", F_DB_BYTES), FIELD("db_rows", F_DB_ROWS),
	FIELD("dbfile_bytes", F_DBFILE), FIELD("ops", F_OPS),
	FIELD("app_user", F_APP_USER), FIELD("app_name", F_APP_NAME),
};

#endif
