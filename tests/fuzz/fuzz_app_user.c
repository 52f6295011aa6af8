// SPDX-License-Identifier: GPL-2.0
/* databases.app_user: the pattern (configuration) and the application
 * name a client sends, split at the first newline of the input. */
#include <jansson.h>
#include "fuzz.h"
#include "base/appuser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *nl, err[256];
	char user[APP_USER_MAX], app[APP_USER_MAX];
	struct app_user_cfg c;
	json_t *v;

	if (!text)
		return 0;
	nl = strchr(text, '\n');
	if (nl)
		*nl++ = '\0';
	memset(&c, 0, sizeof(c));
	v = json_pack("{ss}", "pattern", text);
	if (v && app_user_parse(v, &c, err, sizeof(err)) == 0) {
		if (app_user_of(&c, nl ? nl : "", NULL, user, app)) {
			FUZZ_CHECK(strnlen(user, sizeof(user)) < sizeof(user));
			FUZZ_CHECK(strnlen(app, sizeof(app)) < sizeof(app));
		}
		app_user_free(&c);
	}
	json_decref(v);
	free(text);
	return 0;
}
