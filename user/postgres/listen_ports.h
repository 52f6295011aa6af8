/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP ports a process listens on, read from /proc: its socket inodes
 * (/proc/PID/fd) matched against the LISTEN sockets of its network
 * namespace (/proc/PID/net/tcp and tcp6). Used to make a PostgreSQL
 * server's own ports database ports, whatever port it was given.
 */
#ifndef VIGIE_LISTEN_PORTS_H
#define VIGIE_LISTEN_PORTS_H

#include <stdint.h>
#include <sys/types.h>

/* Fills ports (distinct, in the order found, at most max) and returns
 * their number, or a negative errno (-ENOENT: the process is gone).
 * proc_root: NULL for "/proc" (tests pass a directory of their own). */
int listen_ports(const char *proc_root, pid_t pid, uint16_t *ports, int max);

#endif
