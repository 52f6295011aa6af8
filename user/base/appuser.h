/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Application users (databases.app_user): how to read the end user a
 * pooled connection works for out of what the client told PostgreSQL.
 *   "app_user": { "pattern": "portail/{user}", "session_authorization": false }
 * pattern: literal text with one {user} and at most one {app}, matched
 * against the whole application_name (the application is {app}, or the
 * pattern's text around {user}, separators such as '/' trimmed, when
 * there is no {app}). With
 * session_authorization, a role set with SET SESSION AUTHORIZATION is the
 * user when the pattern does not match. Default: neither, so nothing is
 * guessed.
 */
#ifndef VIGIE_APPUSER_H
#define VIGIE_APPUSER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define APP_USER_MAX 64 /* bytes of a user or application name kept */

struct app_user_cfg {
	char *pattern;              /* NULL: no pattern */
	char *lit[3];               /* literals around the placeholders */
	int order[2];               /* placeholders in order: 'u' user, 'a' app, 0 */
	bool session_authorization;
};

/* From the JSON value of databases.app_user. 0, or -1 with a message in
 * err (the field it is about included). */
int app_user_parse(json_t *v, struct app_user_cfg *c, char *err, size_t len);
void app_user_free(struct app_user_cfg *c);
bool app_user_enabled(const struct app_user_cfg *c);

/* The user and application for an application_name (NULL or "" when the
 * client named none) and a session role (NULL: the login role). false: no
 * application user. */
bool app_user_of(const struct app_user_cfg *c, const char *app_name, const char *role,
		 char user[APP_USER_MAX], char app[APP_USER_MAX]);

/* The application_name that reads as user (and app) through the pattern,
 * into out. 0, or -1 (no pattern, or no name reads back the same). */
int app_user_render(const struct app_user_cfg *c, const char *user, const char *app, char *out,
		    size_t size);

#endif
