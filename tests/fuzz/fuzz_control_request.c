// SPDX-License-Identifier: GPL-2.0
/* A request line to the control socket (sensor.control_socket, vigie top):
 * never a crash; accepted, a query within bounds; refused, an error message
 * that can be sent (the answer carries it as a JSON string: valid UTF-8). */
#include "fuzz.h"
#include "detect/detect.h"
#include "sensor/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_query q;
	char err[256] = "";
	json_t *msg;
	int rc;

	if (size > CONTROL_MAX_REQUEST)
		size = CONTROL_MAX_REQUEST;
	rc = control_parse_request((const char *)data, size, &q, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(q.sort == CONTROL_SORT_RATIO || q.sort == CONTROL_SORT_VOLUME);
		FUZZ_CHECK(q.kind >= -1 && q.kind < PK_MAX);
		FUZZ_CHECK(q.limit >= 1 && q.limit <= CONTROL_MAX_ROWS);
		return 0;
	}
	FUZZ_CHECK(err[0] != '\0');
	msg = json_string(err);
	FUZZ_CHECK(msg != NULL);
	json_decref(msg);
	return 0;
}
