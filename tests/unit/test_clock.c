// SPDX-License-Identifier: GPL-2.0
/* Detection time (user/base/clock.c) under wall clock steps and slewing,
 * with clocks the test controls. */
#include <stdbool.h>
#include "base/clock.h"
#include "check.h"

#define S 1000000000ull
#define R0 1795416000000000000ull /* a wall clock reading */
#define M0 5000ull * S            /* the monotonic clock at that moment */

static void test_steps(void)
{
	struct vclock c = { 0 };
	bool stepped;

	CHECK_EQ_INT(vclock_now(&c, R0, M0, &stepped), R0);
	CHECK_EQ_INT(vclock_now(&c, R0 + 60 * S, M0 + 60 * S, &stepped), R0 + 60 * S);
	CHECK(!stepped);
	/* NTP slews: 1 ms ahead of monotonic: followed */
	CHECK_EQ_INT(vclock_now(&c, R0 + 120 * S + 1000000, M0 + 120 * S, &stepped),
		     R0 + 120 * S + 1000000);
	CHECK(!stepped);
	/* the wall clock steps 8 years ahead: not followed */
	CHECK_EQ_INT(vclock_now(&c, R0 + 180 * S + 252460800ull * S, M0 + 180 * S, &stepped),
		     R0 + 180 * S + 1000000);
	CHECK(stepped);
	CHECK_EQ_INT(c.steps, 1);
	/* and goes on from the new wall clock at the monotonic pace */
	CHECK_EQ_INT(vclock_now(&c, R0 + 240 * S + 252460800ull * S, M0 + 240 * S, &stepped),
		     R0 + 240 * S + 1000000);
	CHECK(!stepped);
	/* slewing after the step is followed too */
	CHECK_EQ_INT(vclock_now(&c, R0 + 300 * S + 252460800ull * S + 500000, M0 + 300 * S, &stepped),
		     R0 + 300 * S + 1500000);
	/* stepped back 10 minutes (before where it was): time never goes back */
	CHECK_EQ_INT(vclock_now(&c, R0 + 360 * S + 252460800ull * S - 600 * S, M0 + 360 * S, &stepped),
		     R0 + 360 * S + 1500000);
	CHECK(stepped);
	CHECK_EQ_INT(c.steps, 2);
	/* a reading with the wall clock slightly behind (NTP): never backwards */
	{
		uint64_t a = vclock_now(&c, R0 + 420 * S + 252460800ull * S - 600 * S, M0 + 420 * S, NULL);
		uint64_t b = vclock_now(&c, R0 + 420 * S + 252460800ull * S - 600 * S - 1000000,
					M0 + 420 * S, NULL);

		CHECK(b >= a);
	}
}

int main(void)
{
	test_steps();
	return check_summary();
}
