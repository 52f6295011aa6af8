// SPDX-License-Identifier: GPL-2.0
/* One trace line: parsed or refused with a message; strings fit their
 * fields, NUL-terminated. */
#include "fuzz.h"
#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_sample s;
	char err[400] = "";
	int rc;

	trace_sample_init(&s);
	rc = trace_parse_sample((const char *)data, size, &s, err, sizeof(err));
	if (rc < 0)
		FUZZ_CHECK(err[0]);
	if (rc == 0) {
		FUZZ_CHECK(strnlen(s.user, sizeof(s.user)) < sizeof(s.user));
		FUZZ_CHECK(strnlen(s.exe, sizeof(s.exe)) < sizeof(s.exe));
		FUZZ_CHECK(strnlen(s.db_user, sizeof(s.db_user)) < sizeof(s.db_user));
		FUZZ_CHECK(strnlen(s.peer, sizeof(s.peer)) < sizeof(s.peer));
		FUZZ_CHECK(strnlen(s.app_user, sizeof(s.app_user)) < sizeof(s.app_user));
	}
	return 0;
}
