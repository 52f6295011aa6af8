// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/log.h"
#include "base/safefile.h"
#include "base/stopsig.h"

/* open() that does not block on a named pipe no process reads yet (the
 * daemon, its stop signals held, could then only be killed): retried for
 * FIFO_WAIT_MS, or until a held SIGINT or SIGTERM is pending. */
#define FIFO_WAIT_MS 10000
#define FIFO_RETRY_MS 100

static int open_no_block(const char *path, int flags, const char *what)
{
	const struct timespec pause = { 0, FIFO_RETRY_MS * 1000000L };
	int fd = open(path, flags | O_NONBLOCK, 0600), fl;
	struct stat st;

	/* ENXIO is also what a socket's name gives: only a pipe is waited for */
	for (int waited = 0; fd < 0 && errno == ENXIO && waited < FIFO_WAIT_MS &&
			     stat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
			     !stop_signal_pending(); waited += FIFO_RETRY_MS) {
		if (waited == 0)
			log_warn("%s '%s' is a named pipe that no process reads yet: waiting up to "
				 "%d s for one", what, path, FIFO_WAIT_MS / 1000);
		nanosleep(&pause, NULL);
		fd = open(path, flags | O_NONBLOCK, 0600);
	}
	if (fd >= 0 && !(flags & O_NONBLOCK) && (fl = fcntl(fd, F_GETFL)) >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* written as any file */
	return fd;
}

const char *stdout_alias(const char *path)
{
	static const char *const names[] = { "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1" };

	for (size_t i = 0; path && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(path, names[i]))
			return "-";
	return path;
}

int safe_open_write(const char *path, int flags, const char *what)
{
	/* truncated only once checked: a planted link is never cut */
	int fd = open_no_block(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC, what), err;
	struct stat st;
	const char *why = NULL;

	if (fd < 0) {
		err = errno;
		/* ELOOP, or EACCES where fs.protected_regular refuses first */
		if (err == ELOOP || (err == EACCES && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)))
			log_error("%s '%s' is a symbolic link: refused (give the real path)", what, path);
		else if (err == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
			log_error("%s '%s' is a named pipe that no process reads: start its reader "
				  "first", what, path);
		else if (err == ENXIO && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			log_error("cannot open %s '%s': it is a socket, not a file", what, path);
		else
			log_error("cannot open %s '%s': %s", what, path, strerror(err));
		errno = err;
		return -1;
	}
	if (fstat(fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		why = "not a regular file";
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
		why = "it has other names (hard links)";
	else if (S_ISREG(st.st_mode) && st.st_uid != geteuid())
		why = "it belongs to another user";
	if (!why && (flags & O_TRUNC) && S_ISREG(st.st_mode) && ftruncate(fd, 0))
		why = strerror(errno);
	if (why) {
		log_error("%s '%s': refused: %s", what, path, why);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int safe_replaceable(const char *path, char *why, size_t len)
{
	struct stat st;
	const char *what;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, len, "not reachable (%s)", strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	what = S_ISDIR(st.st_mode)  ? "a directory" :
	       S_ISLNK(st.st_mode)  ? "a symbolic link (give the real path)" :
	       S_ISCHR(st.st_mode)  ? "a character device" :
	       S_ISBLK(st.st_mode)  ? "a block device" :
	       S_ISFIFO(st.st_mode) ? "a named pipe" :
	       S_ISSOCK(st.st_mode) ? "a socket" : "not a regular file";
	snprintf(why, len, "%s", what);
	return -1;
}

static char *stat_identity(const struct stat *st)
{
	char *id = NULL;

	/* a character device (/dev/null, a terminal) is no file to corrupt */
	if (S_ISCHR(st->st_mode) ||
	    asprintf(&id, "#%llu:%llu", (unsigned long long)st->st_dev,
		     (unsigned long long)st->st_ino) < 0)
		return NULL;
	return id;
}

char *file_identity(const char *path)
{
	char *copy = strdup(path), *copy2 = strdup(path), *dir, *real = NULL, *id = NULL;
	struct stat st;

	if (!copy || !copy2)
		goto out;
	if (stat(path, &st) == 0) {
		id = stat_identity(&st);
		goto out;
	}
	dir = dirname(copy);
	real = realpath(dir, NULL);
	if (asprintf(&id, "%s/%s", real ? real : dir, basename(copy2)) < 0)
		id = NULL;
out:
	free(real);
	free(copy);
	free(copy2);
	return id;
}

char *fd_identity(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? NULL : stat_identity(&st);
}

/* f's identity; a standard descriptor without one (a terminal, closed)
 * still meets itself. */
static char *named_identity(const struct named_file *f)
{
	char *id = NULL;

	if (f->std_fd < 0 || strcmp(f->path, "-"))
		return file_identity(f->path);
	id = fd_identity(f->std_fd);
	if (!id && asprintf(&id, "#fd%d", f->std_fd) < 0)
		id = NULL;
	return id;
}

bool files_clash(const struct named_file *f, int n, int *a, int *b)
{
	char **id = calloc((size_t)(n > 0 ? n : 1), sizeof(*id));
	bool found = false;

	if (!id)
		return false;
	for (int i = 0; i < n && !found; i++) {
		if (!f[i].path || !(id[i] = named_identity(&f[i])))
			continue;
		for (int j = 0; j < i && !found; j++) {
			if (id[j] && (f[i].written || f[j].written) && !strcmp(id[i], id[j])) {
				*a = j;
				*b = i;
				found = true;
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(id[i]);
	free(id);
	return found;
}
