// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "base/stdfds.h"

static bool closed_at_start[3];

void stdfds_open(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		closed_at_start[fd] = true;
		/* the lowest free number is fd itself; without /dev/null (a
		 * bare chroot), a directory holds the place: writes to it fail,
		 * and those failures are counted as for any output */
		got = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (got < 0)
			got = open("/", O_RDONLY | O_DIRECTORY);
		if (got >= 0 && got != fd) {
			dup2(got, fd);
			close(got);
		}
	}
}

bool stdfds_was_closed(int fd)
{
	return fd >= 0 && fd < 3 && closed_at_start[fd];
}
