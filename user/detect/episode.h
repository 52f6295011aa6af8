/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Episodes and rate limits (episode.c): what detect.c hands over once it
 * has decided that a principal's window is over its threshold. episode.c
 * never calls back into detect.c: detect.c owns the windows (it rolls them
 * and checks open episodes against their threshold), episode.c owns the
 * episodes, their rate limits and their events.
 */
#ifndef VIGIE_EPISODE_H
#define VIGIE_EPISODE_H

#include <stddef.h>
#include "detect/detect_int.h"

void detect_queue_alert(struct detector *d, struct principal *p, int m,
			const struct alert_info *a);
void detect_send_queued(struct detector *d);
void detect_report_suppressed(struct detector *d);
void detect_close_episode(struct detector *d, size_t idx, const char *reason);

#endif
