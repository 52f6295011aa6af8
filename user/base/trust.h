/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is an executable one that only root could have put there? The file and
 * every directory on its path owned by root and writable by no one else
 * (as sshd's StrictModes or sudo judge). A process's name, title and the
 * last part of its executable's path are whatever a local user chose; this
 * is not: a user cannot make a copy of cat named postgres in such a place,
 * so it is what recognising a database server relies on.
 */
#ifndef VIGIE_TRUST_H
#define VIGIE_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

/* path (absolute) as seen under root ("" for /, or "/proc/PID/root"). */
bool path_trusted(const char *root, const char *path);
/* The executable of process pid, as it names it (exe), in its own mount
 * namespace. */
bool exe_trusted(pid_t pid, const char *exe);

#endif
