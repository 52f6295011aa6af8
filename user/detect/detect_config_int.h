/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the parsers of the detection section (detect_config.c,
 * detect_profiles.c): errors naming the field by its full path, and typed
 * getters that report through them. */
#ifndef VIGIE_DETECT_CONFIG_INT_H
#define VIGIE_DETECT_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "detect/detect.h"

struct perr {
	char *buf;
	size_t len;
};

/* Metric names, NULL-terminated (the keys of per-metric objects). */
extern const char *const detect_metric_keys[M_MAX + 1];

/* "path: message" into e; returns -1. */
int detect_cfg_bad(struct perr *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Every key of obj is in known (NULL-terminated) or starts with $comment. */
int detect_cfg_check_fields(json_t *obj, const char *path, const char *const *known,
			    struct perr *e);
/* min_open: the minimum itself is refused (a positive number) */
int detect_cfg_number(json_t *obj, const char *key, const char *path, double min, double max,
		      bool min_open, double *out, struct perr *e);
int detect_cfg_u32(json_t *obj, const char *key, const char *path, uint32_t min, uint32_t max,
		   uint32_t *out, struct perr *e);
int detect_cfg_bool(json_t *obj, const char *key, const char *path, bool *out, struct perr *e);
/* detection.profiles and detection.allow (detect_profiles.c). */
int detect_cfg_profiles(json_t *arr, struct detect_config *c, struct perr *e);
int detect_cfg_allow(json_t *arr, struct detect_config *c, struct perr *e);

#endif
