// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "base/cgroups.h"

#define CG_BUCKETS 1024
#define CG_MAX 65536
#define CG_RESCAN_S 10

struct cg_entry {
	uint64_t id;
	char *path;
	struct cg_entry *next;
};

static struct cg_entry *buckets[CG_BUCKETS];
static size_t n_entries;
static time_t last_scan;
static size_t root_len;

const char *cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[512], type[64];
	const char *found = NULL;

	if (!f)
		return NULL;
	while (fscanf(f, "%255s %511s %63s %*s %*d %*d", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, size, "%s", dir);
			found = buf;
			break;
		}
	}
	fclose(f);
	return found;
}

static void put(uint64_t id, const char *path)
{
	struct cg_entry **pp = &buckets[id % CG_BUCKETS], *e;

	for (e = *pp; e; e = e->next)
		if (e->id == id)
			return;
	if (n_entries >= CG_MAX)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->id = id;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return;
	}
	e->next = *pp;
	*pp = e;
	n_entries++;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D)
		put((uint64_t)st->st_ino, path[root_len] ? path + root_len : "/");
	return 0;
}

static const char *lookup(uint64_t id)
{
	for (struct cg_entry *e = buckets[id % CG_BUCKETS]; e; e = e->next)
		if (e->id == id)
			return e->path;
	return NULL;
}

char *cgroup_path_of(uint64_t id)
{
	char root[512];
	const char *p = lookup(id);
	time_t now = time(NULL);

	if (!p && now - last_scan >= CG_RESCAN_S && cgroup2_mount(root, sizeof(root))) {
		last_scan = now;
		root_len = strlen(root);
		nftw(root, visit, 32, FTW_PHYS | FTW_MOUNT);
		p = lookup(id);
	}
	return p ? strdup(p) : NULL;
}

void cgroup_paths_free(void)
{
	for (size_t b = 0; b < CG_BUCKETS; b++) {
		struct cg_entry *e = buckets[b], *next;

		for (; e; e = next) {
			next = e->next;
			free(e->path);
			free(e);
		}
		buckets[b] = NULL;
	}
	n_entries = 0;
	last_scan = 0;
}
