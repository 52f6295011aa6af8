/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Least privilege once the probes are loaded and attached: every
 * capability but the few the running sensor still uses is dropped (from
 * the effective, permitted, inheritable, ambient and bounding sets), and
 * no_new_privs is set, so that nothing the daemon runs or becomes can
 * regain them. Kept, and why:
 *   CAP_BPF, CAP_PERFMON  load and attach the PostgreSQL programs when a
 *                    server first starts after the daemon (their tracepoints
 *                    and tp_btf programs need no more); a uprobe needs
 *                    CAP_SYS_ADMIN on this kernel, so the TLS hook is put at
 *                    start on every installed PostgreSQL executable
 *                    (pgtls.h): only one installed later, elsewhere, is
 *                    missed (logged, its rows unknown)
 *   CAP_SYS_PTRACE   read /proc/PID/exe, /proc/PID/fd and /proc/PID/root of
 *                    other users' processes (identity, PostgreSQL ports)
 *   CAP_DAC_READ_SEARCH  read what those paths lead to (a data directory
 *                    owned by postgres, mode 0700)
 * Dropped, among others: CAP_SYS_ADMIN (mounts at start), CAP_SYS_RESOURCE
 * (the memlock limit at load), CAP_SETUID, and, unless containment is
 * enforced (which passes them as extra), CAP_KILL (end PostgreSQL backends,
 * stop processes) and CAP_NET_ADMIN (destroy sockets, change the address
 * block).
 */
#ifndef VIGIE_PRIVS_H
#define VIGIE_PRIVS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* The capabilities kept (a mask of CAP_* bits). */
uint64_t privs_keep_mask(void);
/* Drop to privs_keep_mask() | extra and set no_new_privs. 0, or a negative
 * errno (logged; the daemon goes on with what it has). */
int privs_drop(uint64_t extra);
/* {"capabilities": ["cap_bpf", ...], "no_new_privs": bool}: what the
 * process has now, read back from the kernel. */
json_t *privs_json(void);
/* Names of the bits of mask into a JSON array (lower case, "cap_..."). */
json_t *privs_names(uint64_t mask);

#endif
