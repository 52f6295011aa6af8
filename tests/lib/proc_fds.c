// SPDX-License-Identifier: GPL-2.0
/* A process's file descriptors as live tests see them (see live.h): how
 * many, and whether a BPF program of some name is among them, attached or
 * only loaded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/live.h"

/* prog_id of a descriptor's fdinfo, and whether it is a link's */
static unsigned fdinfo_prog_id(pid_t pid, const char *fd, bool *link)
{
	char path[320], line[256];
	unsigned id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.255s", (int)pid, fd);
	f = fopen(path, "r");
	*link = false;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "link_type:", 10))
			*link = true;
		else if (!strncmp(line, "prog_id:", 8))
			id = (unsigned)strtoul(line + 8, NULL, 10);
	}
	fclose(f);
	return id;
}

static bool prog_named(unsigned id, const char *name)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool same;

	if (fd < 0)
		return false;
	same = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       !strncmp(info.name, name, sizeof(info.name) - 1);
	close(fd);
	return same;
}

int live_bpf_prog_state(pid_t pid, const char *name)
{
	char path[64];
	struct dirent *de;
	int state = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && state < 2) {
		bool link;
		unsigned id = de->d_name[0] == '.' ? 0 : fdinfo_prog_id(pid, de->d_name, &link);

		if (id && prog_named(id, name))
			state = link ? 2 : 1; /* the loop ends at 2 */
	}
	closedir(d);
	return state;
}

int live_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}
