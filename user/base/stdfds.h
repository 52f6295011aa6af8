/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Descriptors 0, 1 and 2 open before any other file is: a command started
 * with one of them closed (vigie >&-, 2>&-) gives that number to the next
 * file it opens, and then writes its events or messages into it (a lock
 * file took the events, which were lost with it). A closed one is opened
 * on /dev/null; writing events to a standard output that was closed is
 * then refused (output_open, vigie report -o -) rather than lost.
 */
#ifndef VIGIE_STDFDS_H
#define VIGIE_STDFDS_H

#include <stdbool.h>

/* Opens what is closed among 0, 1 and 2. Call first, before any open. */
void stdfds_open(void);

/* Was this standard descriptor closed when the command started? */
bool stdfds_was_closed(int fd);

#endif
