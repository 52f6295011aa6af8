// SPDX-License-Identifier: GPL-2.0
/*
 * ECS conformance checker (see ecs_check.h): field names, JSON types by the
 * ECS type, allowed values and the event.category/event.type pairs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "output/ecs_check.h"

struct ecs_field {
	char *name;
	char *type;
	bool array;
	size_t first_allowed, n_allowed;    /* into allowed[] */
};

struct ecs_allowed {
	char *field, *value, *expected;     /* expected: "a,b,c" or NULL */
};

struct ecs_schema {
	struct ecs_field *f;
	size_t n, cap;
	struct ecs_allowed *a;
	size_t na, acap;
};

static int cmp_field(const void *x, const void *y)
{
	return strcmp(((const struct ecs_field *)x)->name, ((const struct ecs_field *)y)->name);
}

static const struct ecs_field *find(const struct ecs_schema *s, const char *name)
{
	struct ecs_field key = { .name = (char *)name };

	return bsearch(&key, s->f, s->n, sizeof(*s->f), cmp_field);
}

size_t ecs_schema_fields(const struct ecs_schema *s) { return s ? s->n : 0; }

void ecs_schema_free(struct ecs_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].name);
		free(s->f[i].type);
	}
	for (size_t i = 0; i < s->na; i++) {
		free(s->a[i].field);
		free(s->a[i].value);
		free(s->a[i].expected);
	}
	free(s->f);
	free(s->a);
	free(s);
}

/* Split a TSV line in place into up to max columns; returns the count. */
static int split(char *line, char **col, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		col[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static int load_fields(struct ecs_schema *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1024], *col[4];
	int ln = 0, err_rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		ln++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split(line, col, 4) < 3 || !col[0][0] || !col[1][0]) {
			snprintf(err, errlen, "%s:%d: want name, type, array", path, ln);
			goto out;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 256;
			struct ecs_field *nf = realloc(s->f, cap * sizeof(*nf));

			if (!nf) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			s->f = nf;
			s->cap = cap;
		}
		s->f[s->n] = (struct ecs_field){ strdup(col[0]), strdup(col[1]),
						 strcmp(col[2], "array") == 0, 0, 0 };
		if (!s->f[s->n].name || !s->f[s->n].type) {
			free(s->f[s->n].name);
			free(s->f[s->n].type);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		s->n++;
	}
	err_rc = 0;
out:
	fclose(f);
	return err_rc;
}

static int load_allowed(struct ecs_schema *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[1024], *col[3];
	int ln = 0, rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct ecs_allowed *a;

		ln++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split(line, col, 3) < 3) {
			snprintf(err, errlen, "%s:%d: want field, value, expected types", path, ln);
			goto out;
		}
		if (s->na == s->acap) {
			size_t cap = s->acap ? s->acap * 2 : 64;

			a = realloc(s->a, cap * sizeof(*a));
			if (!a) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			s->a = a;
			s->acap = cap;
		}
		a = &s->a[s->na++];
		a->field = strdup(col[0]);
		a->value = strdup(col[1]);
		a->expected = strcmp(col[2], "-") ? strdup(col[2]) : NULL;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

struct ecs_schema *ecs_schema_load(const char *dir, char *err, size_t errlen)
{
	struct ecs_schema *s = calloc(1, sizeof(*s));
	char path[4096];

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/ecs_fields.tsv", dir);
	if (load_fields(s, path, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/vigie_fields.tsv", dir);
	if (load_fields(s, path, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/ecs_allowed.tsv", dir);
	if (load_allowed(s, path, err, errlen))
		goto fail;
	qsort(s->f, s->n, sizeof(*s->f), cmp_field);
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(s->f[i - 1].name, s->f[i].name) == 0) {
			snprintf(err, errlen, "%s: field listed twice", s->f[i].name);
			goto fail;
		}
	}
	/* allowed values are listed grouped by field */
	for (size_t i = 0; i < s->na; i++) {
		struct ecs_field *f = (struct ecs_field *)find(s, s->a[i].field);

		if (!s->a[i].field || !s->a[i].value) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (!f) {
			snprintf(err, errlen, "ecs_allowed.tsv: %s is not a known field", s->a[i].field);
			goto fail;
		}
		if (!f->n_allowed)
			f->first_allowed = i;
		else if (f->first_allowed + f->n_allowed != i) {
			snprintf(err, errlen, "ecs_allowed.tsv: %s: values not grouped", f->name);
			goto fail;
		}
		f->n_allowed++;
	}
	return s;
fail:
	ecs_schema_free(s);
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct ecs_allowed *allowed(const struct ecs_schema *s, const struct ecs_field *f,
					 const char *value)
{
	for (size_t i = 0; i < f->n_allowed; i++)
		if (strcmp(s->a[f->first_allowed + i].value, value) == 0)
			return &s->a[f->first_allowed + i];
	return NULL;
}

static bool is_one_of(const char *t, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(t, *list) == 0)
			return true;
	return false;
}

/* One scalar value against its field's type and allowed values. */
static int check_scalar(const struct ecs_schema *s, const struct ecs_field *f, json_t *v,
			char *err, size_t errlen)
{
	static const char *const strings[] = { "keyword", "constant_keyword", "wildcard",
					       "match_only_text", "text", NULL };
	static const char *const integers[] = { "long", "integer", "short", "byte",
						"unsigned_long", NULL };
	static const char *const reals[] = { "float", "double", "half_float", "scaled_float",
					     NULL };
	const char *t = f->type;

	if (json_is_null(v))
		return 0; /* Elasticsearch indexes nothing for null */
	if (is_one_of(t, strings) || strcmp(t, "ip") == 0 || strcmp(t, "date") == 0) {
		const char *str = json_string_value(v);

		if (!str)
			return fail(err, errlen, "%s: %s field holds a non-string", f->name, t);
		if (strcmp(t, "ip") == 0) {
			unsigned char b[16];

			if (inet_pton(AF_INET, str, b) != 1 && inet_pton(AF_INET6, str, b) != 1)
				return fail(err, errlen, "%s: not an IP address (\"%.60s\")", f->name,
					    str);
		} else if (strcmp(t, "date") == 0) {
			uint64_t ns;

			if (parse_rfc3339(str, &ns))
				return fail(err, errlen, "%s: not an RFC 3339 date (\"%.60s\")",
					    f->name, str);
		}
		if (f->n_allowed && !allowed(s, f, str))
			return fail(err, errlen, "%s: \"%.60s\" is not an allowed value", f->name, str);
		if (strcmp(t, "keyword") == 0 && !str[0] && strcmp(f->name, "message"))
			return fail(err, errlen, "%s: empty string", f->name);
		return 0;
	}
	if (is_one_of(t, integers)) {
		if (!json_is_integer(v))
			return fail(err, errlen, "%s: %s field holds a %s", f->name, t,
				    json_is_real(v) ? "real" : "non-number");
		if (strcmp(t, "unsigned_long") && json_integer_value(v) < 0 &&
		    strstr(f->name, "bytes"))
			return fail(err, errlen, "%s: negative byte count", f->name);
		return 0;
	}
	if (is_one_of(t, reals)) {
		if (json_is_integer(v))
			return fail(err, errlen, "%s: %s field holds an integer (%lld): write a JSON real",
				    f->name, t, (long long)json_integer_value(v));
		if (!json_is_real(v))
			return fail(err, errlen, "%s: %s field holds a non-number", f->name, t);
		return 0;
	}
	if (strcmp(t, "boolean") == 0) {
		if (!json_is_boolean(v))
			return fail(err, errlen, "%s: boolean field holds a non-boolean", f->name);
		return 0;
	}
	return fail(err, errlen, "%s: type %s is not checked by ecs-check (a scalar given)",
		    f->name, t);
}

static int check_object(const struct ecs_schema *s, const char *prefix, json_t *o, char *err,
			size_t errlen);

static int check_value(const struct ecs_schema *s, const char *name, json_t *v, char *err,
		       size_t errlen)
{
	const struct ecs_field *f = find(s, name);
	bool nested = f && strcmp(f->type, "nested") == 0;
	size_t i;
	json_t *e;

	if (json_is_object(v)) {
		if (f && strcmp(f->type, "object") && strcmp(f->type, "flattened"))
			return fail(err, errlen, "%s: %s field holds an object", name, f->type);
		if (f && strcmp(f->type, "flattened") == 0)
			return 0;
		return check_object(s, name, v, err, errlen);
	}
	if (!f)
		return fail(err, errlen, "%s: unknown field (neither ECS nor Vigie's)", name);
	if (json_is_array(v)) {
		if (!f->array && !nested)
			return fail(err, errlen, "%s: array given, the field is not an array", name);
		json_array_foreach(v, i, e) {
			if (nested) {
				if (!json_is_object(e))
					return fail(err, errlen, "%s[%zu]: nested field holds a non-object",
						    name, i);
				if (check_object(s, name, e, err, errlen))
					return -1;
			} else if (json_is_array(e) || json_is_object(e)) {
				return fail(err, errlen, "%s[%zu]: %s array holds a %s", name, i,
					    f->type, json_is_array(e) ? "array" : "object");
			} else if (check_scalar(s, f, e, err, errlen)) {
				return -1;
			}
		}
		return 0;
	}
	if (f->array || nested)
		return fail(err, errlen, "%s: array field holds a single value", name);
	return check_scalar(s, f, v, err, errlen);
}

static int check_object(const struct ecs_schema *s, const char *prefix, json_t *o, char *err,
			size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char name[512];

		if (!key[0] || strchr(key, '.'))
			return fail(err, errlen, "%s%s%s: dotted or empty key (write objects)",
				    prefix, prefix[0] ? "." : "", key);
		if (snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key) >=
		    (int)sizeof(name))
			return fail(err, errlen, "%.60s...: field name too long", name);
		if (check_value(s, name, v, err, errlen))
			return -1;
	}
	return 0;
}

static json_t *path(json_t *ev, const char *a, const char *b)
{
	json_t *o = json_object_get(ev, a);

	return o && b ? json_object_get(o, b) : o;
}

/* Each event.type must be expected for each event.category. */
static int check_pairs(const struct ecs_schema *s, json_t *ev, char *err, size_t errlen)
{
	json_t *cats = path(ev, "event", "category"), *types = path(ev, "event", "type"), *c, *t;
	const struct ecs_field *cf = find(s, "event.category");
	size_t i, j;

	if (!cf)
		return fail(err, errlen, "event.category: not in the ECS subset");
	json_array_foreach(cats, i, c) {
		const struct ecs_allowed *a = allowed(s, cf, json_string_value(c));

		json_array_foreach(types, j, t) {
			const char *ts = json_string_value(t);
			const char *p = a && a->expected ? a->expected : "";
			size_t n = strlen(ts);
			bool ok = false;

			while (*p && !ok) {
				ok = strncmp(p, ts, n) == 0 && (p[n] == ',' || !p[n]);
				p += strcspn(p, ",");
				p += *p == ',';
			}
			if (!ok)
				return fail(err, errlen,
					    "event.type: \"%s\" is not expected with event.category \"%s\"",
					    ts, json_string_value(c));
		}
	}
	return 0;
}

int ecs_check_event(const struct ecs_schema *s, json_t *ev, char *err, size_t errlen)
{
	static const char *const required[][2] = {
		{ "@timestamp", NULL }, { "event", "id" }, { "event", "kind" },
		{ "event", "category" }, { "event", "type" }, { "event", "action" },
		{ "event", "dataset" }, { "host", "name" }, { "ecs", "version" },
	};

	if (!json_is_object(ev))
		return fail(err, errlen, "event is not a JSON object");
	if (check_object(s, "", ev, err, errlen))
		return -1;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!path(ev, required[i][0], required[i][1]))
			return fail(err, errlen, "%s%s%s: missing", required[i][0],
				    required[i][1] ? "." : "", required[i][1] ? required[i][1] : "");
	return check_pairs(s, ev, err, errlen);
}

int ecs_check_line(const struct ecs_schema *s, const char *line, char *err, size_t errlen)
{
	json_error_t je;
	json_t *ev = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (!ev)
		return fail(err, errlen, "not JSON: %s", je.text);
	rc = ecs_check_event(s, ev, err, errlen);
	json_decref(ev);
	return rc;
}

long ecs_check_file(const struct ecs_schema *s, const char *path, unsigned long *events,
		    char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, msg[512];
	size_t cap = 0;
	unsigned long ln = 0;
	long bad = 0;

	*events = 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		ln++;
		if (line[0] == '\n')
			continue;
		(*events)++;
		if (ecs_check_line(s, line, msg, sizeof(msg)) && bad++ == 0)
			snprintf(err, errlen, "line %lu: %s", ln, msg);
	}
	free(line);
	fclose(f);
	return bad;
}

static json_t *template_props(json_t *tpl)
{
	return json_object_get(json_object_get(json_object_get(tpl, "template"), "mappings"),
			       "properties");
}

const char *ecs_template_type(json_t *tpl, const char *name)
{
	json_t *node = template_props(tpl);
	char key[128];
	const char *p = name, *dot;

	while (node && (dot = strchr(p, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - p), p);
		node = json_object_get(json_object_get(node, key), "properties");
		p = dot + 1;
	}
	node = node ? json_object_get(node, p) : NULL;
	if (node && json_object_get(node, "properties"))
		return "object";
	return node ? json_string_value(json_object_get(node, "type")) : NULL;
}

static int template_walk(json_t *tpl, json_t *o, const char *prefix, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char name[512];
		const char *t;
		json_t *x = json_is_array(v) ? json_array_get(v, 0) : v;

		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", key);
		if (json_is_object(x)) {
			if (template_walk(tpl, x, name, err, errlen))
				return -1;
			continue;
		}
		if (!x || json_is_null(x))
			continue;
		t = ecs_template_type(tpl, name);
		if (!t)
			return fail(err, errlen, "%s: not mapped by the index template", name);
		if ((json_is_real(x) && strcmp(t, "double") && strcmp(t, "float")) ||
		    (json_is_integer(x) && strcmp(t, "long")) ||
		    (json_is_boolean(x) && strcmp(t, "boolean")) ||
		    (json_is_string(x) && (!strcmp(t, "long") || !strcmp(t, "double") ||
					   !strcmp(t, "float") || !strcmp(t, "boolean"))))
			return fail(err, errlen, "%s: mapped as %s by the index template", name, t);
	}
	return 0;
}

int ecs_template_check(json_t *tpl, json_t *ev, char *err, size_t errlen)
{
	if (!template_props(tpl))
		return fail(err, errlen, "index template without template.mappings.properties");
	return template_walk(tpl, ev, "", err, errlen);
}
