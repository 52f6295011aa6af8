// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "base/clock.h"

uint64_t vclock_now(struct vclock *c, uint64_t realtime_ns, uint64_t monotonic_ns, bool *stepped)
{
	int64_t t, diff;

	if (stepped)
		*stepped = false;
	if (!c->started) {
		c->started = true;
		c->offset = (int64_t)(realtime_ns - monotonic_ns);
		c->last = realtime_ns;
		return realtime_ns;
	}
	t = (int64_t)monotonic_ns + c->offset;
	/* how far the wall clock is from where it should be, steps aside */
	diff = (int64_t)realtime_ns - (t + c->behind_ns);
	if (diff > (int64_t)VCLOCK_STEP_NS || diff < -(int64_t)VCLOCK_STEP_NS) {
		c->steps++;
		c->behind_ns += diff;
		if (stepped)
			*stepped = true;
	} else {
		/* slewing: followed (but never backwards, below) */
		c->offset += diff;
		t += diff;
	}
	if ((uint64_t)t < c->last)
		t = (int64_t)c->last;
	c->last = (uint64_t)t;
	return (uint64_t)t;
}
