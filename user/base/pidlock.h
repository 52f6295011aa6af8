/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One daemon per output file and per state file: a lock file beside each
 * (FILE.lock, holding the pid), locked with flock for the daemon's life. A
 * second `vigie run` on the same file is refused, naming the pid that
 * holds it (two daemons would write every count twice, and overwrite each
 * other's learned state). A lock file left by a daemon that died holds no
 * lock and is simply taken.
 */
#ifndef VIGIE_PIDLOCK_H
#define VIGIE_PIDLOCK_H

#include <sys/types.h>

struct pidlock {
	int fd;
	char *path;
};

/* Lock path + ".lock". 0 ok; -EBUSY held by another process (*holder its
 * pid, 0 if unknown); other negative errno. */
int pidlock_take(struct pidlock *l, const char *path, pid_t *holder);
/* Unlock and remove the lock file (NULL-safe, idempotent). */
void pidlock_release(struct pidlock *l);

#endif
