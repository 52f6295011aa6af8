/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A read-only look at the detector, for the views (vigie top, vigie report):
 * per principal and metric, what each window holds now, its normal and which
 * reference set it, the floor, the ratio, and whether an episode is open.
 * Never changes the detector (no roll, no alert, no state), so calling it
 * does not change what replay or the sensor output.
 */
#ifndef VIGIE_DETECT_VIEW_H
#define VIGIE_DETECT_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include "detect/detect.h"

struct detect_view_window {
	uint64_t observed;     /* volume in the window ending now */
	double normal;         /* < 0: no reference yet (never shown as 0) */
	const char *reference; /* "profile", "learned", "peer_group", "new_principal",
				  "first_seen", or NULL with no reference */
	double floor;          /* absolute minimum for an alert */
	double ratio;          /* observed / normal; < 0 when normal < 0 */
};

struct detect_view_metric {
	bool active;           /* the principal has data for this metric */
	struct detect_view_window w[W_MAX];
	bool episode_open;
	int episode_level;     /* 1 medium, 2 high, 3 critical; 0 when none open */
	char episode_id[48];   /* "" when none open */
};

struct detect_view_row {
	enum principal_kind kind;
	const char *id;        /* valid during the callback only */
	bool allowed;          /* never alerted (allow list, profile) */
	bool aggregate;        /* a database server's own user or executable */
	uint64_t last_seen_ns;
	const char *top_process; /* largest contributor, NULL when none */
	const char *top_peer;
	struct detect_view_metric m[M_MAX];
};

/* Calls fn once per principal, in creation order, as of the detector's
 * current time (a window with no data since is shown empty, the detector
 * itself left untouched). fn returning non-zero
 * stops the walk; that value is returned, else 0. */
typedef int (*detect_view_fn)(const struct detect_view_row *row, void *arg);
int detect_view_each(struct detector *d, detect_view_fn fn, void *arg);
/* The same walk, restricted to principals seen at or after since_ns (their
 * last sample): what was active lately, without a row for every other. */
int detect_view_each_since(struct detector *d, uint64_t since_ns, detect_view_fn fn, void *arg);

/* The detector's current time (ns, from the samples), 0 before any. */
uint64_t detect_view_now(const struct detector *d);

#endif
