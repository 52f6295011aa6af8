// SPDX-License-Identifier: GPL-2.0
/* A request to the metrics endpoint (sensor.metrics_listen), as read so
 * far: never a crash, a status among those the server sends, 0 (wait for
 * more) only while the request is short of its bound, and the same answer
 * for the same bytes however they are split (the status of every prefix
 * that already got one is kept by the server: checked here). */
#include <stdbool.h>
#include "fuzz.h"
#include "output/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool head;
	int st;

	if (size > METRICS_MAX_REQUEST)
		size = METRICS_MAX_REQUEST;
	st = metrics_request_status((const char *)data, size, &head);
	FUZZ_CHECK(st == 0 || st == 200 || st == 400 || st == 404 || st == 405 || st == 431);
	FUZZ_CHECK(st != 0 || size < METRICS_MAX_REQUEST);
	FUZZ_CHECK(!head || st == 200 || st == 404);
	/* a whole request ends with its blank line: one byte less is either
	 * the same answer's prefix (an error seen sooner) or "wait" */
	if (size > 0 && (st == 200 || st == 404 || st == 405)) {
		bool h2;
		int st2 = metrics_request_status((const char *)data, size - 1, &h2);

		FUZZ_CHECK(st2 == 0 || st2 == st);
	}
	return 0;
}
