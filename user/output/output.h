/* SPDX-License-Identifier: GPL-2.0 */
/* Newline-delimited JSON output: stdout or a file, reopened on SIGHUP. */
#ifndef VIGIE_OUTPUT_H
#define VIGIE_OUTPUT_H

#include <jansson.h>

struct output;

/* path NULL or "-" means stdout. NULL on failure (message logged). */
struct output *output_open(const char *path);
/* Write one event as one line and flush. Does not steal the reference. */
int output_write(struct output *out, json_t *event);
/* Called after each output_write with the event and its result (0:
 * written, negative errno: lost), e.g. to count events (metrics). */
typedef void (*output_observer_fn)(json_t *event, int err, void *ctx);
void output_set_observer(struct output *out, output_observer_fn fn, void *ctx);
/* Reopen the file (logrotate); no-op on stdout. */
int output_reopen(struct output *out);
void output_close(struct output *out);

#endif
