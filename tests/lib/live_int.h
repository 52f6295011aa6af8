/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the live-test library in tests/lib share with each
 * other and not with the tests (which include live.h only): the clean-up
 * at exit (live.c) kills the children child.c tracks and removes the
 * namespaces netns.c tracks.
 */
#ifndef VIGIE_TESTS_LIVE_INT_H
#define VIGIE_TESTS_LIVE_INT_H

/* live.c: monotonic clock in milliseconds, for deadlines. */
long long live_now_ms(void);
/* live.c: run argv (PATH searched), its output discarded, and wait. */
void live_run_quiet(char *const argv[]);

/* child.c, at clean-up: kill and reap every child not yet reaped. */
void live_kill_children(void);
/* netns.c, at clean-up: remove every namespace not yet destroyed. */
void live_remove_namespaces(void);

#endif
