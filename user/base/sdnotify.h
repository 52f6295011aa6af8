/* SPDX-License-Identifier: GPL-2.0 */
/*
 * systemd's notification protocol, without libsystemd: one datagram to
 * $NOTIFY_SOCKET (a path, or an abstract name starting with '@').
 * READY=1 once the probes are attached and the first drain is done,
 * WATCHDOG=1 every half $WATCHDOG_USEC (Type=notify, WatchdogSec=),
 * STOPPING=1 at stop. Without $NOTIFY_SOCKET, nothing is sent.
 */
#ifndef VIGIE_SDNOTIFY_H
#define VIGIE_SDNOTIFY_H

#include <stdint.h>

/* Send state ("READY=1\nSTATUS=..."). 0 sent, 1 no socket, -errno. */
int sd_notify_send(const char *state);
/* The watchdog period to ping at (half of $WATCHDOG_USEC, for this pid),
 * in ns; 0 when there is no watchdog. */
uint64_t sd_watchdog_interval_ns(void);

#endif
