// SPDX-License-Identifier: GPL-2.0
/* The detection state file: loaded or refused; when loaded, saved, loaded
 * again and saved again, the two saves are identical (from "principals"). */
#include <unistd.h>
#include "fuzz.h"
#include "base/log.h"
#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[] = "/tmp/vigie-fuzz-state-XXXXXX", a[64], b[64];
	struct detect_config c;
	struct detector *d1 = NULL, *d2 = NULL;
	char err[256], *s1 = NULL, *s2 = NULL;
	int fd = mkstemp(in);

	log_set_level(LOG_QUIET);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(in);
		return 0;
	}
	close(fd);
	snprintf(a, sizeof(a), "%s.a", in);
	snprintf(b, sizeof(b), "%s.b", in);
	if (detect_config_parse(NULL, &c, err, sizeof(err)))
		goto out;
	d1 = detector_new(&c, fuzz_drop_event, NULL);
	d2 = detector_new(&c, fuzz_drop_event, NULL);
	if (!d1 || !d2)
		goto out_cfg;
	if (detector_state_load(d1, in) == 0 && detector_state_save(d1, a) == 0) {
		FUZZ_CHECK(detector_state_load(d2, a) == 0);
		FUZZ_CHECK(detector_state_save(d2, b) == 0);
		s1 = fuzz_slurp(a);
		s2 = fuzz_slurp(b);
		FUZZ_CHECK(s1 && s2 && strstr(s1, "\"principals\"") && strstr(s2, "\"principals\""));
		FUZZ_CHECK(strcmp(strstr(s1, "\"principals\""), strstr(s2, "\"principals\"")) == 0);
	}
out_cfg:
	detector_free(d1);
	detector_free(d2);
	detect_config_free(&c);
out:
	free(s1);
	free(s2);
	unlink(in);
	unlink(a);
	unlink(b);
	snprintf(err, sizeof(err), "%s.prev", a);
	unlink(err);
	snprintf(err, sizeof(err), "%s.prev", b);
	unlink(err);
	return 0;
}
