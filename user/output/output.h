/* SPDX-License-Identifier: GPL-2.0 */
/* Newline-delimited JSON output: stdout or a file, reopened on SIGHUP. */
#ifndef VIGIE_OUTPUT_H
#define VIGIE_OUTPUT_H

#include <stdint.h>
#include <jansson.h>

struct output;

/* Since open: events (and their bytes, newline included) written whole,
 * and lost (a write error such as a full disk, or the file gone from its
 * path). A line cut by an error is removed from the file. */
struct output_stats {
	uint64_t written, written_bytes;
	uint64_t lost, lost_bytes;
};

/* path NULL or "-" means stdout. NULL on failure (message logged). */
struct output *output_open(const char *path);
/* Write one event as one line and flush. Does not steal the reference. */
int output_write(struct output *out, json_t *event);
/* Called after each output_write with the event and its result (0:
 * written, negative errno: lost), e.g. to count events (metrics). */
typedef void (*output_observer_fn)(json_t *event, int err, void *ctx);
void output_set_observer(struct output *out, output_observer_fn fn, void *ctx);
/* Called with each event's line (no newline) before it is written, to send
 * it elsewhere too (syslog), whatever becomes of the file's copy. */
typedef void (*output_tee_fn)(const char *line, size_t len, json_t *event, void *ctx);
void output_set_tee(struct output *out, output_tee_fn fn, void *ctx);
/* sensor.output_group: the file (now and at each reopen) mode 0640 and of
 * group gid; its directory, when others cannot traverse it and it is ours,
 * of group gid and group-readable (0750 from 0700). The process joins gid
 * as a supplementary group (CAP_SETGID: before privileges are dropped) so
 * that files made after the drop can still be given the group. 0, or -1
 * (logged, naming sensor.output_group). No-op on stdout. */
int output_set_group(struct output *out, uint32_t gid, const char *name);
/* sensor.output_max_bytes / output_keep: before an event would take the
 * file past max_bytes, FILE becomes FILE.1 (FILE.1 FILE.2 ..., up to
 * FILE.keep, the oldest removed) and a new FILE is started: whole lines
 * only, nothing lost. 0: never (logrotate does it). No-op on stdout. */
void output_set_rotation(struct output *out, uint64_t max_bytes, int keep);
/* Reopen the file (logrotate); no-op on stdout. */
int output_reopen(struct output *out);
/* The open file is still the one at its path, else reopen it (a deleted
 * file or directory): call it on a schedule. 0 ok, -1 not (logged once). */
int output_check(struct output *out);
void output_get_stats(const struct output *out, struct output_stats *st);
void output_close(struct output *out);

#endif
