// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing one trace sample line with a small strict JSON scanner
 * (json_scan.h) written for the flat sample object: it is several times
 * faster than building a jansson tree per line, which matters at millions
 * of samples per second. Unknown fields are validated and skipped (nesting
 * depth bounded).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "trace/trace.h"

#include "trace/json_scan.h"

void trace_sample_init(struct trace_sample *s)
{
	s->ts_ns = 0;
	s->pid = -1;
	s->uid = -1;
	s->user[0] = s->comm[0] = s->exe[0] = s->db_user[0] = s->peer[0] = '\0';
	s->app_user[0] = s->app_name[0] = '\0';
	s->egress_bytes = s->db_bytes = s->db_rows = s->dbfile_bytes = s->ops = 0;
	s->db_rows_unknown = false;
}

static bool key_is(const char *key, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (key[i] != name[i])
			return false;
	return true;
}

/* By length and letters: this runs for every field of every line. */
static enum field field_of(const char *key, size_t n)
{
	enum field f = F_UNKNOWN;

	switch (n) {
	case 2: f = F_TS; break;
	case 3: f = key[0] == 'p' ? F_PID : key[0] == 'u' ? F_UID : key[0] == 'e' ? F_EXE : F_OPS; break;
	case 4: f = key[0] == 't' ? F_TYPE : key[0] == 'u' ? F_USER : key[0] == 'c' ? F_COMM : F_PEER; break;
	case 7: f = key[3] == 'u' ? F_DB_USER : F_DB_ROWS; break;
	case 8: f = key[0] == 'd' ? F_DB_BYTES : key[4] == 'u' ? F_APP_USER : F_APP_NAME; break;
	case 12: f = key[0] == 'e' ? F_EGRESS : F_DBFILE; break;
	default: return F_UNKNOWN;
	}
	return fields[f].len == n && key_is(key, fields[f].name, n) ? f : F_UNKNOWN;
}

static bool has_frac_or_exp(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == '.' || t[i] == 'e' || t[i] == 'E')
			return true;
	return false;
}

/* Non-negative integer token <= max (integral floats like 1e3 accepted). */
static int token_to_u64(struct scan *s, const char *name, const char *t, size_t n, uint64_t max,
			uint64_t *out)
{
	uint64_t v = 0;

	if (t[0] == '-')
		return fail(s, "field '%s': must be a non-negative integer", name);
	if (has_frac_or_exp(t, n)) {
		char buf[64];
		double d;

		if (n >= sizeof(buf))
			return fail(s, "field '%s': number out of range (max %llu)", name,
				    (unsigned long long)max);
		memcpy(buf, t, n);
		buf[n] = '\0';
		d = strtod(buf, NULL);
		if (!isfinite(d) || d > (double)max)
			return fail(s, "field '%s': number out of range (max %llu)", name,
				    (unsigned long long)max);
		if (d != floor(d))
			return fail(s, "field '%s': must be an integer", name);
		*out = (uint64_t)d;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(t[i] - '0');
		if (v > max)
			return fail(s, "field '%s': number out of range (max %llu)", name,
				    (unsigned long long)max);
	}
	*out = v;
	return 0;
}

/* Numeric ts: decimal epoch seconds with an optional fraction. */
static int token_to_ts(struct scan *s, const char *t, size_t n, uint64_t *out)
{
	uint64_t sec = 0, frac = 0, scale = 100000000ull;
	size_t i = 0;

	if (t[0] == '-')
		return fail(s, "field 'ts': must not be negative");
	for (; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
		sec = sec * 10 + (uint64_t)(t[i] - '0');
		if (sec > 17000000000ull) /* year 2508: ns still fit in 64 bits */
			return fail(s, "field 'ts': number out of range");
	}
	if (i < n && t[i] == '.') {
		for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
			frac += (uint64_t)(t[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i != n)
		return fail(s, "field 'ts': numeric time must be plain decimal seconds");
	*out = sec * 1000000000ull + frac;
	return 0;
}

static int value_string(struct scan *s, const char *name, char *out, size_t cap)
{
	bool overflow;

	skip_ws(s);
	if (s->p < s->end && *s->p == 'n') {
		out[0] = '\0';
		return scan_literal(s, "null");
	}
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "field '%s': must be a string", name);
	if (scan_string(s, out, cap, &overflow))
		return -1;
	if (overflow)
		return fail(s, "field '%s': longer than %zu bytes", name, cap - 1);
	return 0;
}

static int value_u64(struct scan *s, const char *name, uint64_t max, uint64_t *out)
{
	const char *t;
	size_t n;

	skip_ws(s);
	if (s->p < s->end && *s->p == 'n') {
		*out = 0;
		return scan_literal(s, "null");
	}
	if (s->p >= s->end || !(*s->p == '-' || (*s->p >= '0' && *s->p <= '9')))
		return fail(s, "field '%s': must be a number", name);
	if (scan_number(s, &t, &n))
		return -1;
	return token_to_u64(s, name, t, n, max, out);
}

static int value_id(struct scan *s, const char *name, int64_t *out)
{
	uint64_t v;
	const char *t;
	size_t n;

	skip_ws(s);
	if (s->p < s->end && *s->p == 'n') {
		*out = -1;
		return scan_literal(s, "null");
	}
	if (s->p < s->end && *s->p == '-') {
		if (scan_number(s, &t, &n))
			return -1;
		if (n == 2 && t[1] == '1') { /* -1: absent */
			*out = -1;
			return 0;
		}
		return fail(s, "field '%s': must be an integer from 0 to %lld", name, TRACE_MAX_ID);
	}
	if (value_u64(s, name, (uint64_t)TRACE_MAX_ID, &v))
		return -1;
	*out = (int64_t)v;
	return 0;
}

/*
 * RFC 3339 time. Consecutive samples share their second: the seconds of
 * the last "YYYY-MM-DDTHH:MM:SS" prefix are cached (one per thread).
 */
static int parse_ts_string(struct scan *s, const char *buf, uint64_t *out)
{
	static __thread char last_prefix[20];
	static __thread uint64_t last_sec_ns;
	const char *rest = buf + 19;
	size_t len = strlen(buf);

	if (len >= 20 && key_is(buf, last_prefix, 19) &&
	    (rest[0] == 'Z' || rest[0] == '.')) {
		uint64_t frac = 0, scale = 100000000ull;
		const char *p = rest;

		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++) {
				frac += (uint64_t)(*p - '0') * scale;
				scale /= 10;
			}
			if (p == rest + 1)
				goto slow;
		}
		if (p[0] == 'Z' && p[1] == '\0') {
			*out = last_sec_ns + frac;
			return 0;
		}
	}
slow:
	if (parse_rfc3339(buf, out))
		return fail(s, "field 'ts': not an RFC 3339 time: '%s'", buf);
	if (len >= 20 && (buf[19] == 'Z' || buf[19] == '.')) {
		uint64_t base;
		char tmp[24];

		memcpy(tmp, buf, 19);
		tmp[19] = 'Z';
		tmp[20] = '\0';
		if (parse_rfc3339(tmp, &base) == 0) {
			memcpy(last_prefix, buf, 19);
			last_sec_ns = base;
		}
	}
	return 0;
}

static int value_ts(struct scan *s, uint64_t *out)
{
	char buf[64];
	const char *t;
	size_t n;

	skip_ws(s);
	if (s->p < s->end && *s->p == '"') {
		if (value_string(s, "ts", buf, sizeof(buf)))
			return -1;
		return parse_ts_string(s, buf, out);
	}
	if (s->p >= s->end || !(*s->p == '-' || (*s->p >= '0' && *s->p <= '9')))
		return fail(s, "field 'ts': must be an RFC 3339 string or epoch seconds");
	if (scan_number(s, &t, &n))
		return -1;
	return token_to_ts(s, t, n, out);
}

/* "type": 0 sample, 1 other, -1 bad */
static int value_type(struct scan *s, int *is_other)
{
	char buf[32];
	bool overflow;

	skip_ws(s);
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "field 'type': must be a string");
	if (scan_string(s, buf, sizeof(buf), &overflow))
		return -1;
	*is_other = overflow || strcmp(buf, "sample") != 0;
	return 0;
}

/* Field name at s->p ('"'): plain names are matched in place. */
static int scan_key(struct scan *s, enum field *f)
{
	const char *q = s->p + 1;
	char key[32];
	bool overflow;
	size_t klen;

	while (q < s->end && !special[(unsigned char)*q])
		q++;
	if (q < s->end && *q == '"') {
		*f = field_of(s->p + 1, (size_t)(q - s->p - 1));
		s->p = q + 1;
		return 0;
	}
	if (scan_string_n(s, key, sizeof(key), &overflow, &klen))
		return -1;
	*f = overflow ? F_UNKNOWN : field_of(key, klen);
	return 0;
}

static int parse_field(struct scan *s, enum field f, struct trace_sample *o, int *type)
{
	switch (f) {
	case F_TYPE: return value_type(s, type);
	case F_TS: return value_ts(s, &o->ts_ns);
	case F_PID: return value_id(s, "pid", &o->pid);
	case F_UID: return value_id(s, "uid", &o->uid);
	case F_USER: return value_string(s, "user", o->user, sizeof(o->user));
	case F_COMM: return value_string(s, "comm", o->comm, sizeof(o->comm));
	case F_EXE: return value_string(s, "exe", o->exe, sizeof(o->exe));
	case F_DB_USER: return value_string(s, "db_user", o->db_user, sizeof(o->db_user));
	case F_PEER: return value_string(s, "peer", o->peer, sizeof(o->peer));
	case F_APP_USER: return value_string(s, "app_user", o->app_user, sizeof(o->app_user));
	case F_APP_NAME: return value_string(s, "app_name", o->app_name, sizeof(o->app_name));
	case F_EGRESS: return value_u64(s, "egress_bytes", TRACE_MAX_COUNTER, &o->egress_bytes);
	case F_DB_BYTES: return value_u64(s, "db_bytes", TRACE_MAX_COUNTER, &o->db_bytes);
	case F_DB_ROWS: return value_u64(s, "db_rows", TRACE_MAX_COUNTER, &o->db_rows);
	case F_DBFILE: return value_u64(s, "dbfile_bytes", TRACE_MAX_COUNTER, &o->dbfile_bytes);
	case F_OPS: return value_u64(s, "ops", TRACE_MAX_COUNTER, &o->ops);
	default: return skip_value(s, 1);
	}
}

int trace_parse_sample(const char *line, size_t len, struct trace_sample *out, char *err,
		       size_t errlen)
{
	struct scan s = { line, line + len, err, errlen };
	int type = -1; /* -1 missing, 0 sample, 1 other */
	bool have_ts = false;

	trace_sample_init(out);
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return fail(&s, "not a JSON object");
	s.p++;
	skip_ws(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
	} else {
		for (;;) {
			enum field f;

			skip_ws(&s);
			if (s.p >= s.end || *s.p != '"')
				return fail(&s, "expected a field name");
			if (scan_key(&s, &f))
				return -1;
			skip_ws(&s);
			if (s.p >= s.end || *s.p != ':')
				return fail(&s, "expected ':' after a field name");
			s.p++;
			if (parse_field(&s, f, out, &type))
				return -1;
			have_ts |= f == F_TS;
			skip_ws(&s);
			if (s.p < s.end && *s.p == ',') {
				s.p++;
				continue;
			}
			if (s.p < s.end && *s.p == '}') {
				s.p++;
				break;
			}
			return fail(&s, "expected ',' or '}'");
		}
	}
	skip_ws(&s);
	if (s.p != s.end)
		return fail(&s, "text after the JSON object");
	if (type < 0)
		return fail(&s, "missing field 'type'");
	if (type == 1)
		return 1;
	if (!have_ts)
		return fail(&s, "missing field 'ts'");
	return 0;
}
