// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "base/trust.h"

static bool root_only(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

bool path_trusted(const char *root, const char *path)
{
	char buf[PATH_MAX + 64];
	size_t rl = strlen(root), n;

	if (!path || path[0] != '/')
		return false;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s", root, path);
	if (n >= sizeof(buf))
		return false;
	/* " (deleted)": an upgraded binary still running; judged by its name */
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
	if (!root_only(buf))
		return false;
	/* each directory above it, up to (not including) root */
	for (char *slash = strrchr(buf, '/'); slash && slash > buf + rl; slash = strrchr(buf, '/')) {
		*slash = '\0';
		if (!root_only(buf))
			return false;
	}
	return true;
}

bool exe_trusted(pid_t pid, const char *exe)
{
	char root[64];

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	return path_trusted(root, exe);
}
