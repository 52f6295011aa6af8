/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the parsers of the configuration file (config.c,
 * config_sensor.c, config_databases.c; defined in config_parse.c): where
 * a key is in the text (for its line), and errors that name the field.
 * Not for other subsystems. */
#ifndef VIGIE_CONFIG_PARSE_H
#define VIGIE_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base/config.h"

struct parse_ctx {
	const char *text; /* for line numbers, may be NULL */
	const char *file;
	char *err;
	size_t errlen;
};

/* "FILE:LINE: path: message" (into the context's buffer or the log); -1. */
int cfgp_fail(const struct parse_ctx *pc, const char *path, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cfgp_fail_item(const struct parse_ctx *pc, const char *path, const char *key, json_t *item,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int cfgp_get_seconds(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		     double *out);
int cfgp_get_bool(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		  bool *out);
int cfgp_get_string(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		    char **out);
int cfgp_get_u32(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		 uint32_t min, uint32_t max, uint32_t *out);
/* One of names (NULL-terminated): its index into *out; else "must be
 * \"a\", \"b\" or \"c\"". */
int cfgp_get_choice(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		    const char *const *names, int *out);
/* A size in bytes: an integer >= min, or 0 when zero_means names what 0
 * does ("no spool"); NULL: 0 refused. */
int cfgp_get_bytes(const struct parse_ctx *pc, json_t *v, const char *path, const char *key,
		   uint64_t min, const char *zero_means, uint64_t *out);
/* Free n strings of v, n becomes 0. */
void cfgp_free_strv(char **v, int *n);
/* Every key of obj is allowed (NULL-terminated); else an error naming it. */
int cfgp_check_keys(const struct parse_ctx *pc, json_t *obj, const char *section,
		    const char *const *allowed);
/* The "databases" section (config_databases.c). */
int config_parse_databases(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg);
/* The "sensor" section (config_sensor.c). */
int config_parse_sensor(const struct parse_ctx *pc, json_t *o, struct vigie_config *cfg);

#endif
