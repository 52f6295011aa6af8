/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SIGINT, SIGTERM and SIGHUP, held (blocked, so pending) where a command
 * must not die half-way: the daemon until its signalfd reads them, vigie
 * report while its page's temporary file exists, vigie replay from its
 * state's save to its lock's release.
 */
#ifndef VIGIE_STOPSIG_H
#define VIGIE_STOPSIG_H

#include <signal.h>
#include <stdbool.h>

/* Holds the three; old (may be NULL) gets the mask before. true: held. */
bool stop_signals_hold(sigset_t *old);

/* Back to old: a signal that came meanwhile takes effect now. */
void stop_signals_release(const sigset_t *old);

/* Is SIGINT or SIGTERM held and pending (a wait should end)? */
bool stop_signal_pending(void);

#endif
