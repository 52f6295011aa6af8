// SPDX-License-Identifier: GPL-2.0
/* A PostgreSQL process title (any process can set its own). */
#include "fuzz.h"
#include "postgres/pgbackend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgb_title t;

	if (pgb_parse_title((const char *)data, size, &t) == 0) {
		FUZZ_CHECK(strnlen(t.db_user, sizeof(t.db_user)) < sizeof(t.db_user));
		FUZZ_CHECK(strnlen(t.db_name, sizeof(t.db_name)) < sizeof(t.db_name));
	}
	return 0;
}
