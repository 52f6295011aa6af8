/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP ports a process listens on, read from /proc: its socket inodes
 * (/proc/PID/fd) matched against the LISTEN sockets of its network
 * namespace (/proc/PID/net/tcp and tcp6). Used to make a PostgreSQL
 * server's own ports database ports, whatever port it was given.
 */
#ifndef VIGIE_LISTEN_PORTS_H
#define VIGIE_LISTEN_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Fills ports (distinct, in the order found, at most max) and returns
 * their number, or a negative errno (-ENOENT: the process is gone).
 * on_unix (may be NULL): set to whether the process also holds a listening
 * unix socket (/proc/PID/net/unix). A PostgreSQL server opens its TCP
 * sockets before its unix ones: one listening on a unix socket and on no
 * TCP port has no TCP port to come.
 * proc_root: NULL for "/proc" (tests pass a directory of their own). */
int listen_ports(const char *proc_root, pid_t pid, uint16_t *ports, int max, bool *on_unix);

#endif
