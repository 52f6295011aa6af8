/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files the daemon writes as root (output, trace, state, lock): opened
 * without following a symbolic link (O_NOFOLLOW), created 0600, and
 * refused when what is there is not a plain file of ours with one name (a
 * hard link planted in a shared directory would make root append to or
 * truncate another file). The message names the file and the reason.
 */
#ifndef VIGIE_SAFEFILE_H
#define VIGIE_SAFEFILE_H

#include <stdbool.h>

/* open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600) and the checks; what
 * names the file in messages ("output file"). fd, or -1 (logged, errno
 * set). */
int safe_open_write(const char *path, int flags, const char *what);
/* "-" for /dev/stdout and its other names (/dev/fd/1, /proc/self/fd/1):
 * links, which safe_open_write refuses, to the standard output the
 * process already has; any other path as it is. */
const char *stdout_alias(const char *path);

/* May the daemon rename path away or replace it with a new file (a state
 * save, a refused file set aside, a rotation)? Only when nothing is there
 * or a regular file is: never a directory, a device (--state /dev/null
 * would replace /dev/null), a pipe, a socket or a symbolic link. 0, or -1
 * with why ("a directory", ...) in why. */
int safe_replaceable(const char *path, char *why, size_t len);

/* Which file path names, as a string two paths can be compared by: the
 * file's device and inode when it exists (so a second name, a link or a
 * relative path is the same file), else its directory's real path and
 * its name. NULL for a character device (/dev/null, a terminal: writing
 * it twice corrupts nothing) or when out of memory. The caller frees it. */
char *file_identity(const char *path);

/* The same for an open descriptor (standard output, standard input). */
char *fd_identity(int fd);

/* A file a command is given, for files_clash. */
struct named_file {
	const char *path; /* NULL: not given */
	int std_fd;       /* the descriptor "-" stands for (STDIN_FILENO, STDOUT_FILENO); -1: none */
	bool written;     /* the command writes it (read only: false) */
};

/* The first two of the n files that are one file (file_identity, or the
 * same standard descriptor, whatever it is) while the command writes at
 * least one of them: reading a file twice corrupts nothing. Earlier pairs
 * first: the later one's index smallest, then the earlier one's. true
 * with *a < *b set; false: every written file is its own. */
bool files_clash(const struct named_file *f, int n, int *a, int *b);

#endif
