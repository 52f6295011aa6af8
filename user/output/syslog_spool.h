/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The syslog queue's disk part (sensor.syslog_spool): when the memory
 * queue is full, its oldest messages move to an append-only file, sent
 * before the memory queue when the collector is back, and kept across a
 * restart of the daemon (sent first by the next one). Bounded in bytes
 * (sensor.syslog_spool_bytes); a record that does not fit is refused and
 * the caller counts it dropped.
 *
 * File: a 16-byte header ("VSPOOL1\n", then the offset of the oldest
 * record not yet sent, little-endian u64, rewritten after each record
 * sent) and records (u32 length, little-endian, then the framed message).
 * Emptied (truncated to its header) when everything was sent. A torn last
 * record (the daemon killed during an append) is cut at open; a file that
 * is not a spool is set aside as FILE.bad-TIME, never overwritten.
 */
#ifndef VIGIE_SYSLOG_SPOOL_H
#define VIGIE_SYSLOG_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spool;

/* Opens or creates path (mode 0600, no symbolic link followed). NULL on
 * error, with a message in err. */
struct spool *spool_open(const char *path, uint64_t max_bytes, char *err, size_t errsize);
/* 0, -ENOSPC over the bound, other -errno (nothing written). */
int spool_append(struct spool *sp, const void *data, size_t len);
/* The oldest record, malloc'ed into *data: its length, 0 when the spool
 * is empty, -errno. The record stays until spool_pop. */
ssize_t spool_peek(struct spool *sp, char **data);
/* Forget the oldest record (sent). 0 or -errno. */
int spool_pop(struct spool *sp);
uint64_t spool_records(const struct spool *sp);
uint64_t spool_bytes(const struct spool *sp); /* of the records waiting */
/* Accepts NULL. */
void spool_close(struct spool *sp);

#endif
