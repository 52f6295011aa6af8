// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/appuser.h"

bool app_user_enabled(const struct app_user_cfg *c)
{
	return c && (c->pattern || c->session_authorization);
}

void app_user_free(struct app_user_cfg *c)
{
	if (!c)
		return;
	free(c->pattern);
	for (int i = 0; i < 3; i++)
		free(c->lit[i]);
	memset(c, 0, sizeof(*c));
}

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split "a{user}b{app}c" into literals and placeholder order. */
static int compile(struct app_user_cfg *c, const char *p, char *err, size_t len)
{
	const char *s = p;
	int n = 0, users = 0, apps = 0;

	for (;;) {
		const char *u = strstr(s, "{user}"), *a = strstr(s, "{app}"), *next;
		size_t skip;

		next = u && (!a || u < a) ? u : a;
		if (!next)
			break;
		if (n == 2)
			return bad(err, len, "databases.app_user.pattern: '%s' has more than two "
					     "placeholders", p);
		c->order[n] = next == u ? 'u' : 'a';
		users += next == u;
		apps += next == a;
		skip = next == u ? 6 : 5;
		c->lit[n] = strndup(s, (size_t)(next - s));
		if (!c->lit[n])
			return bad(err, len, "%s: out of memory", "databases.app_user");
		n++;
		s = next + skip;
	}
	if (users != 1 || apps > 1)
		return bad(err, len, "databases.app_user.pattern: '%s' must hold {user} once "
				     "(and {app} at most once)", p);
	if (n == 2 && !c->lit[1][0])
		return bad(err, len, "databases.app_user.pattern: '%s': {user} and {app} need "
				     "text between them", p);
	c->lit[n] = strdup(s);
	return c->lit[n] ? 0 : bad(err, len, "%s: out of memory", "databases.app_user");
}

int app_user_parse(json_t *v, struct app_user_cfg *c, char *err, size_t len)
{
	const char *key;
	json_t *x;

	app_user_free(c);
	if (!json_is_object(v))
		return bad(err, len, "%s: must be an object {\"pattern\": \"...{user}...\", "
				     "\"session_authorization\": false}", "databases.app_user");
	json_object_foreach(v, key, x) {
		if (strcmp(key, "pattern") && strcmp(key, "session_authorization")) {
			snprintf(err, len, "databases.app_user.%s: unknown field (known: pattern, "
				 "session_authorization)", key);
			return -1;
		}
	}
	x = json_object_get(v, "session_authorization");
	if (x && !json_is_boolean(x))
		return bad(err, len, "%s: must be true or false",
			   "databases.app_user.session_authorization");
	c->session_authorization = json_is_true(x);
	x = json_object_get(v, "pattern");
	if (x && !json_is_null(x)) {
		if (!json_is_string(x) || !json_string_value(x)[0])
			return bad(err, len, "%s: must be a string holding {user}",
				   "databases.app_user.pattern");
		c->pattern = strdup(json_string_value(x));
		if (!c->pattern || compile(c, c->pattern, err, len)) {
			app_user_free(c);
			return -1;
		}
	}
	return 0;
}

static void put(char out[APP_USER_MAX], const char *s, size_t n)
{
	if (n >= APP_USER_MAX)
		n = APP_USER_MAX - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Match name against the compiled pattern; captures non-empty. */
static bool match(const struct app_user_cfg *c, const char *name, char user[APP_USER_MAX],
		  char app[APP_USER_MAX])
{
	size_t nl = strlen(name), l0 = strlen(c->lit[0]);
	const char *cap[2] = { NULL, NULL }, *end;
	size_t caplen[2] = { 0, 0 };
	int n = c->order[1] ? 2 : 1;
	size_t ln = strlen(c->lit[n]);

	if (nl < l0 + ln || strncmp(name, c->lit[0], l0) || strcmp(name + nl - ln, c->lit[n]))
		return false;
	end = name + nl - ln;
	cap[0] = name + l0;
	if (n == 1) {
		caplen[0] = (size_t)(end - cap[0]);
	} else {
		const char *mid = strstr(cap[0], c->lit[1]);

		if (!mid || mid >= end || mid + strlen(c->lit[1]) > end)
			return false;
		caplen[0] = (size_t)(mid - cap[0]);
		cap[1] = mid + strlen(c->lit[1]);
		caplen[1] = (size_t)(end - cap[1]);
	}
	for (int i = 0; i < n; i++)
		if (!caplen[i])
			return false;
	app[0] = '\0';
	for (int i = 0; i < n; i++)
		put(c->order[i] == 'u' ? user : app, cap[i], caplen[i]);
	if (!app[0]) { /* no {app}: the pattern's text, separators trimmed */
		char a[APP_USER_MAX * 2];
		const char *sep = "/:@.-_| ", *b = a;
		size_t al;

		snprintf(a, sizeof(a), "%s%s", c->lit[0], c->lit[1]);
		b += strspn(a, sep);
		al = strlen(b);
		while (al && strchr(sep, b[al - 1]))
			al--;
		put(app, b, al);
	}
	return true;
}

bool app_user_of(const struct app_user_cfg *c, const char *app_name, const char *role,
		 char user[APP_USER_MAX], char app[APP_USER_MAX])
{
	if (!app_user_enabled(c))
		return false;
	if (c->pattern && app_name && app_name[0] && match(c, app_name, user, app))
		return true;
	if (c->session_authorization && role && role[0]) {
		put(user, role, strlen(role));
		put(app, app_name ? app_name : "", app_name ? strlen(app_name) : 0);
		return true;
	}
	return false;
}

int app_user_render(const struct app_user_cfg *c, const char *user, const char *app, char *out,
		    size_t size)
{
	char u[APP_USER_MAX], a[APP_USER_MAX];
	const char *cap[2];
	int n;

	if (!c || !c->pattern || !user || !user[0] || size == 0)
		return -1;
	n = c->order[1] ? 2 : 1;
	for (int i = 0; i < n; i++)
		cap[i] = c->order[i] == 'u' ? user : (app ? app : "");
	if (n == 1)
		snprintf(out, size, "%s%s%s", c->lit[0], cap[0], c->lit[1]);
	else
		snprintf(out, size, "%s%s%s%s%s", c->lit[0], cap[0], c->lit[1], cap[1], c->lit[2]);
	/* only a name that reads back as the same user and application */
	if (!match(c, out, u, a) || strcmp(u, user) || (app && app[0] && strcmp(a, app)))
		return -1;
	return 0;
}
