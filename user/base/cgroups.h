/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cgroup v2 id -> path (e.g. "/system.slice/nginx.service"), for processes
 * gone before /proc/PID/cgroup could be read: the kernel gives the id, the
 * cgroup v2 file system gives the path (a cgroup's id is its directory's
 * inode number).
 */
#ifndef VIGIE_CGROUPS_H
#define VIGIE_CGROUPS_H

#include <stddef.h>
#include <stdint.h>

/* Where the cgroup v2 hierarchy is mounted, or NULL. */
const char *cgroup2_mount(char *buf, size_t size);
/* Path of cgroup id relative to the hierarchy's root ("/" for the root),
 * malloc'ed, or NULL when unknown. Walks the hierarchy at most once per
 * 10 seconds on a miss; answers from a cache otherwise. */
char *cgroup_path_of(uint64_t id);
void cgroup_paths_free(void);

#endif
