/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The time detection runs on: the wall clock, made continuous. It follows
 * the host's realtime clock while that ticks with the monotonic one (NTP
 * slewing, small adjustments of up to VCLOCK_STEP_NS), but a step of the
 * wall clock (set by hand, NTP stepping minutes or years) is not followed:
 * detection time goes on from where it was, so that windows neither jump
 * ahead and close unseen (a step forward) nor go back over what they
 * already counted (a step back), and no false episode opens. The step is
 * counted and logged once; events other than detection's carry the wall
 * clock, and detection's own events keep the continuous time until the
 * daemon restarts (documented in docs/detection.md).
 * Pure: both clocks are passed in, so that tests control them.
 */
#ifndef VIGIE_CLOCK_H
#define VIGIE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define VCLOCK_STEP_NS 2000000000ull /* a larger difference is a step */

struct vclock {
	bool started;
	int64_t offset;    /* detection time - monotonic time */
	uint64_t last;     /* last time returned: never goes back */
	uint64_t steps;    /* wall clock steps not followed */
	int64_t behind_ns; /* wall clock - detection time: the steps not followed */
};

/* Detection time for these two readings of the realtime and monotonic
 * clocks (ns). *stepped set when this reading found a step. */
uint64_t vclock_now(struct vclock *c, uint64_t realtime_ns, uint64_t monotonic_ns, bool *stepped);

#endif
