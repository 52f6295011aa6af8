// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "base/pidlock.h"
#include "base/safefile.h"

int pidlock_take(struct pidlock *l, const char *path, pid_t *holder)
{
	char buf[32];
	ssize_t n;
	int err;

	l->fd = -1;
	l->path = NULL;
	*holder = 0;
	if (asprintf(&l->path, "%s.lock", path) < 0) {
		l->path = NULL;
		return -ENOMEM;
	}
	l->fd = safe_open_write(l->path, O_RDWR | O_CREAT, "lock file");
	if (l->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(l->fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*holder = (pid_t)atol(buf);
		}
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(l->fd, 0) || pwrite(l->fd, buf, (size_t)n, 0) != n) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
	return err;
}

void pidlock_release(struct pidlock *l)
{
	if (!l || l->fd < 0)
		return;
	unlink(l->path);
	close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}
