// SPDX-License-Identifier: GPL-2.0
/* A whole trace file, plain or (first byte odd) gzip-compressed, read to
 * its end: samples come in time order, counts add up. */
#include <unistd.h>
#include <zlib.h>
#include "fuzz.h"
#include "base/log.h"
#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/vigie-fuzz-trace-XXXXXX", err[512];
	struct trace_reader *r;
	struct trace_sample s;
	uint64_t last = 0, n = 0;
	int fd = mkstemp(path), rc;

	log_set_level(LOG_QUIET);
	if (fd < 0)
		return 0;
	if (size && (data[0] & 1)) {
		gzFile gz = gzdopen(fd, "wb");

		if (gz) {
			if (size > 1)
				gzwrite(gz, data + 1, (unsigned)(size - 1));
			gzclose(gz);
		} else {
			close(fd);
		}
	} else {
		if (size && write(fd, data, size) != (ssize_t)size) {
			close(fd);
			unlink(path);
			return 0;
		}
		close(fd);
	}
	r = trace_reader_open(path, err, sizeof(err));
	if (r) {
		trace_reader_set_quiet(r, true);
		while ((rc = trace_reader_next(r, &s)) == 1) {
			FUZZ_CHECK(s.ts_ns >= last);
			last = s.ts_ns;
			n++;
		}
		trace_reader_close(r);
	} else {
		FUZZ_CHECK(err[0]);
	}
	unlink(path);
	(void)n;
	return 0;
}
