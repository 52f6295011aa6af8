/* SPDX-License-Identifier: GPL-2.0 */
/* Containment in the running sensor (sensor_contain.c). */
#ifndef VIGIE_SENSOR_CONTAIN_H
#define VIGIE_SENSOR_CONTAIN_H

#include <stdint.h>
#include <jansson.h>

struct sensor;

/* After detection is set up: parse the containment section (a bad one
 * stops the start, logged) and, when enforced, load the address block.
 * 0 or -errno; s->contain NULL when containment is off. */
int sensor_contain_setup(struct sensor *s);
/* After PostgreSQL awareness exists. */
void sensor_contain_attach(struct sensor *s);
/* Capabilities the running sensor keeps for it (privs_drop's extra). */
uint64_t sensor_contain_caps(const struct sensor *s);
/* An event of detection, already written. */
void sensor_contain_alert(struct sensor *s, const json_t *ev);
/* Each tick: quarantines that ended are released. */
void sensor_contain_tick(struct sensor *s);
/* Heartbeat and stop statistics under vigie.stats.containment. */
void sensor_contain_stats(struct sensor *s, json_t *ev);
/* Release every quarantine (an event each): the sensor stops. */
void sensor_contain_stop(struct sensor *s);
/* Release what is left and free. Accepts none. */
void sensor_contain_free(struct sensor *s);

#endif
