// SPDX-License-Identifier: GPL-2.0
/*
 * Test shim, loaded with LD_PRELOAD: rename() of a temporary file (a source
 * name containing ".tmp.") first creates the file VIGIE_TEST_RENAME_MARK,
 * then waits VIGIE_TEST_RENAME_DELAY_MS (2000 by default), then renames.
 * A test that waits for the mark sends its signal while a temporary file
 * exists beside its target (vigie report's page, vigie replay's state):
 * what the program does with a stop signal in that window is then seen,
 * not left to chance. Without VIGIE_TEST_RENAME_MARK, rename() is itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
	static int (*real_rename)(const char *, const char *);
	const char *mark = getenv("VIGIE_TEST_RENAME_MARK");
	const char *delay = getenv("VIGIE_TEST_RENAME_DELAY_MS");

	if (!real_rename) {
		real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
		if (!real_rename) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (mark && from && strstr(from, ".tmp.")) {
		long ms = delay ? strtol(delay, NULL, 10) : 2000;
		struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
		int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
		/* a signal that is caught (not held, not fatal) ends no wait */
		while (nanosleep(&left, &left) && errno == EINTR)
			;
	}
	return real_rename(from, to);
}
