// SPDX-License-Identifier: GPL-2.0
/* Principal ids made of arbitrary bytes (the executable and database
 * account a process names): saved, loaded, saved again: identical. */
#include <unistd.h>
#include "fuzz.h"
#include "base/log.h"
#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[] = "/tmp/vigie-fuzz-ids-XXXXXX", b[64], prev[80], err[256];
	struct detect_config c;
	struct detector *d1, *d2;
	struct trace_sample s;
	size_t half = size / 2;
	char *s1, *s2;
	int fd = mkstemp(a);

	log_set_level(LOG_QUIET);
	if (fd < 0)
		return 0;
	close(fd);
	snprintf(b, sizeof(b), "%s.b", a);
	if (detect_config_parse(NULL, &c, err, sizeof(err))) {
		unlink(a);
		return 0;
	}
	d1 = detector_new(&c, fuzz_drop_event, NULL);
	d2 = detector_new(&c, fuzz_drop_event, NULL);
	trace_sample_init(&s);
	s.ts_ns = 1709632800000000000ull;
	s.pid = 42;
	s.uid = 1000;
	/* the input's bytes (NUL ends a C string) as executable and account */
	snprintf(s.exe, sizeof(s.exe), "%.*s", (int)(half < sizeof(s.exe) - 1 ? half : sizeof(s.exe) - 1),
		 (const char *)data);
	snprintf(s.db_user, sizeof(s.db_user), "%.*s",
		 (int)(size - half < sizeof(s.db_user) - 1 ? size - half : sizeof(s.db_user) - 1),
		 (const char *)data + half);
	strcpy(s.user, "u");
	s.egress_bytes = 1000;
	s.db_rows = 10;
	if (d1 && d2) {
		detector_feed(d1, &s);
		detector_advance(d1, s.ts_ns + 120000000000ull);
		FUZZ_CHECK(detector_state_save(d1, a) == 0);
		FUZZ_CHECK(detector_state_load(d2, a) == 0);
		FUZZ_CHECK(detector_state_save(d2, b) == 0);
		s1 = fuzz_slurp(a);
		s2 = fuzz_slurp(b);
		FUZZ_CHECK(s1 && s2 && strstr(s1, "\"principals\"") && strstr(s2, "\"principals\""));
		FUZZ_CHECK(strcmp(strstr(s1, "\"principals\""), strstr(s2, "\"principals\"")) == 0);
		free(s1);
		free(s2);
	}
	detector_free(d1);
	detector_free(d2);
	detect_config_free(&c);
	unlink(a);
	unlink(b);
	snprintf(prev, sizeof(prev), "%s.prev", a);
	unlink(prev);
	snprintf(prev, sizeof(prev), "%s.prev", b);
	unlink(prev);
	return 0;
}
