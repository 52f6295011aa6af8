// SPDX-License-Identifier: GPL-2.0
/* Strings a process controls become valid JSON that jansson reads back. */
#include <jansson.h>
#include "fuzz.h"
#include "base/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *s = json_string_bytes((const char *)data, size), *o, *back;
	char *text;

	FUZZ_CHECK(s != NULL);
	o = json_object();
	json_object_set_new(o, "v", s);
	text = json_dumps(o, JSON_COMPACT);
	FUZZ_CHECK(text != NULL);
	back = json_loads(text, 0, NULL);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(!strchr(text, '\n'));
	json_decref(back);
	free(text);
	json_decref(o);
	return 0;
}
