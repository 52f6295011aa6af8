// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/appuser.c: databases.app_user patterns, what they
 * read out of application_name, session roles, and bad settings. */
#define _GNU_SOURCE
#include <string.h>
#include "base/appuser.h"
#include "check.h"

static int parse(const char *json, struct app_user_cfg *c, char *err, size_t len)
{
	json_error_t je;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
	int r;

	if (!v)
		return -2;
	r = app_user_parse(v, c, err, len);
	json_decref(v);
	return r;
}

static void expect(const struct app_user_cfg *c, const char *name, const char *role,
		   const char *user, const char *app)
{
	char u[APP_USER_MAX] = "", a[APP_USER_MAX] = "";
	bool ok = app_user_of(c, name, role, u, a);

	if (!user) {
		CHECK_MSG(!ok, "'%s' gave user '%s'", name ? name : "(null)", u);
		return;
	}
	CHECK_MSG(ok, "'%s' gave no user", name ? name : "(null)");
	CHECK_EQ_STR(u, user);
	CHECK_EQ_STR(a, app);
}

static void test_patterns(void)
{
	struct app_user_cfg c = { 0 };
	char err[256];

	CHECK_EQ_INT(parse("{\"pattern\": \"portail/{user}\"}", &c, err, sizeof(err)), 0);
	CHECK(app_user_enabled(&c));
	expect(&c, "portail/adv0001", NULL, "adv0001", "portail");
	expect(&c, "portail/", NULL, NULL, NULL);         /* empty user */
	expect(&c, "psql", NULL, NULL, NULL);
	expect(&c, "xportail/adv0001", NULL, NULL, NULL); /* whole name */
	expect(&c, NULL, NULL, NULL, NULL);
	expect(&c, "portail/adv0001", "auditor", "adv0001", "portail"); /* role not counted */
	app_user_free(&c);

	CHECK_EQ_INT(parse("{\"pattern\": \"{app}:{user}@partner\"}", &c, err, sizeof(err)), 0);
	expect(&c, "crm:j.dupont@partner", NULL, "j.dupont", "crm");
	expect(&c, "crm:j:dupont@partner", NULL, "j:dupont", "crm"); /* first ':' splits */
	expect(&c, "crm:@partner", NULL, NULL, NULL);
	expect(&c, "crm-j.dupont@partner", NULL, NULL, NULL);
	app_user_free(&c);

	/* a user longer than kept: cut at APP_USER_MAX - 1 */
	CHECK_EQ_INT(parse("{\"pattern\": \"{user}\"}", &c, err, sizeof(err)), 0);
	{
		char longname[200], u[APP_USER_MAX], a[APP_USER_MAX];

		memset(longname, 'z', 199);
		longname[199] = '\0';
		CHECK(app_user_of(&c, longname, NULL, u, a));
		CHECK_EQ_INT(strlen(u), APP_USER_MAX - 1);
		CHECK_EQ_STR(a, "");
	}
	app_user_free(&c);

	CHECK_EQ_INT(parse("{\"session_authorization\": true}", &c, err, sizeof(err)), 0);
	expect(&c, "portail", "adv0007", "adv0007", "portail");
	expect(&c, "portail", NULL, NULL, NULL);
	app_user_free(&c);

	/* default: nothing guessed */
	CHECK(!app_user_enabled(&c));
	expect(&c, "portail/adv0001", "adv0001", NULL, NULL);
}

static void test_bad(void)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "\"portail/{user}\"", "databases.app_user: must be an object" },
		{ "{\"pattern\": \"portail\"}", "must hold {user} once" },
		{ "{\"pattern\": \"{user}{user}\"}", "must hold {user} once" },
		{ "{\"pattern\": \"{app}{user}\"}", "need text between them" },
		{ "{\"pattern\": \"{app}/{user}/{app}\"}", "more than two placeholders" },
		{ "{\"pattern\": 42}", "databases.app_user.pattern: must be a string" },
		{ "{\"pattern\": \"\"}", "databases.app_user.pattern: must be a string" },
		{ "{\"session_authorization\": \"yes\"}", "must be true or false" },
		{ "{\"patern\": \"{user}\"}", "databases.app_user.patern: unknown field" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct app_user_cfg c = { 0 };
		char err[256] = "";

		CHECK_EQ_INT(parse(cases[i].json, &c, err, sizeof(err)), -1);
		CHECK_MSG(strstr(err, cases[i].msg) != NULL, "%s: message '%s', want '%s'",
			  cases[i].json, err, cases[i].msg);
		CHECK(!app_user_enabled(&c));
		app_user_free(&c);
	}
}

int main(void)
{
	test_patterns();
	test_bad();
	return check_summary();
}
