// SPDX-License-Identifier: GPL-2.0
/*
 * What a PostgreSQL backend reports when it serves a principal, as keys
 * of the kernel's session quarantine (pgwire_abi.h): a database account is
 * its login role; an application user is the application_name that the
 * configured pattern reads as it (databases.app_user), and with
 * session_authorization the role set for it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "contain/contain_keys.h"

static void set_key(struct pgwire_guard_key *k, uint8_t kind, const char *v, size_t n)
{
	memset(k, 0, sizeof(*k));
	/* PostgreSQL reports at most NAMEDATALEN - 1 = 63 bytes of these */
	if (n > 63)
		n = 63;
	k->kind = kind;
	k->len = (uint8_t)n;
	memcpy(k->value, v, n);
}

/* The application_name that the pattern reads as exactly this id. */
static bool render_id(const struct app_user_cfg *au, const char *id, char *name, size_t size)
{
	char user[APP_USER_MAX], app[APP_USER_MAX], back[2 * APP_USER_MAX + 2];
	const char *at = id + strlen(id);

	while (at) {
		size_t ul = (size_t)(at - id);

		if (ul && ul < sizeof(user)) {
			memcpy(user, id, ul);
			user[ul] = '\0';
			if (!app_user_render(au, user, *at ? at + 1 : "", name, size) &&
			    app_user_of(au, name, NULL, user, app)) {
				snprintf(back, sizeof(back), "%s%s%s", user, app[0] ? "@" : "", app);
				if (!strcmp(back, id))
					return true;
			}
		}
		at = at > id ? memrchr(id, '@', (size_t)(at - id)) : NULL;
	}
	return false;
}

int contain_guard_keys(const struct app_user_cfg *au, enum principal_kind kind, const char *id,
		       struct pgwire_guard_key *keys, int max)
{
	char name[256];
	const char *at;
	int n = 0;

	if (!id || !id[0] || max < 1)
		return 0;
	if (kind == PK_DB_USER) {
		set_key(&keys[n++], PGWIRE_GUARD_LOGIN_ROLE, id, strlen(id));
		return n;
	}
	if (kind != PK_APP_USER || !app_user_enabled(au))
		return 0;
	if (au->pattern && render_id(au, id, name, sizeof(name)))
		set_key(&keys[n++], PGWIRE_GUARD_APP_NAME, name, strlen(name));
	/* a role set for the user: "ROLE@APPLICATION_NAME" (or "ROLE") */
	if (au->session_authorization && n < max) {
		at = strchr(id, '@');
		set_key(&keys[n++], PGWIRE_GUARD_SET_ROLE, id, at ? (size_t)(at - id) : strlen(id));
	}
	return n;
}
