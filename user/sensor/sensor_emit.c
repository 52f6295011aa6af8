// SPDX-License-Identifier: GPL-2.0
/* The sensor's clocks and its one way of writing an event (counted): what
 * every file of sensor/ uses, and which uses none of them. */
#include <stdint.h>
#include <time.h>
#include "output/output.h"
#include "sensor/sensor_int.h"

uint64_t sensor_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sensor_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Write ev (and release it), counting it. */
void sensor_emit(struct sensor *s, json_t *ev)
{
	if (ev && output_write(s->out, ev) == 0)
		s->events_written++;
	json_decref(ev);
}
