// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "base/stopsig.h"

bool stop_signals_hold(sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	return sigprocmask(SIG_BLOCK, &stop, old) == 0;
}

void stop_signals_release(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

bool stop_signal_pending(void)
{
	sigset_t set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGINT) == 1 ||
					 sigismember(&set, SIGTERM) == 1);
}
