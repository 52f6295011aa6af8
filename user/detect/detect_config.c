// SPDX-License-Identifier: GPL-2.0
/*
 * The "detection" section of the config file (docs/detection.md). Every
 * error names the field by its full path, e.g.
 * "detection.profiles[2].per_day.db_rows: must be a positive number".
 * Profiles and allow-lists: detect_profiles.c.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect.h"
#include "detect/detect_config_int.h"

static const char *const kind_names[PK_MAX] = { "user", "db_user", "process", "peer",
						"app_user" };
static const char *const metric_names[M_MAX] = { "db_rows", "db_bytes", "dbfile_bytes",
						 "egress_bytes" };
const char *const detect_metric_keys[M_MAX + 1] = { "db_rows", "db_bytes", "dbfile_bytes",
						     "egress_bytes", NULL };
static const char *const window_names[W_MAX] = { "1m", "1h", "24h" };
const uint64_t window_ns[W_MAX] = { 60000000000ull, 3600000000000ull, 86400000000000ull };

const char *principal_kind_name(enum principal_kind k) { return kind_names[k]; }
const char *metric_name(enum metric m) { return metric_names[m]; }
const char *window_name(enum window w) { return window_names[w]; }

int detect_cfg_bad(struct perr *e, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(e->buf, e->len, "%s: %s", path, msg);
	return -1;
}

static void set_defaults(struct detect_config *c)
{
	static const double floors[M_MAX][W_MAX] = {
		[M_DB_ROWS] = { 1000, 1000, 2000 },
		[M_DB_BYTES] = { 5e6, 20e6, 50e6 },
		[M_DBFILE_BYTES] = { 100e6, 500e6, 2e9 },
		[M_EGRESS_BYTES] = { 20e6, 100e6, 500e6 },
	};

	/* Set from the breach's scale: 150 records/s is 9,000 a minute; a
	 * 2.4 GB dump in 20 minutes is 120 MB a minute. db_bytes follows
	 * db_rows x bytes_per_record (derive_byte_limits). */
	static const double ceilings[M_MAX][W_MAX] = {
		[M_DB_ROWS] = { 3000, 50000, 500000 },
		[M_DBFILE_BYTES] = { 1e9, 10e9, 50e9 },
		[M_EGRESS_BYTES] = { 100e6, 1e9, 10e9 },
	};

	memset(c, 0, sizeof(*c));
	c->enabled = true;
	for (int k = 0; k < PK_MAX; k++)
		c->kinds[k] = true;
	c->ratio = 10;
	c->ratio_high = 100;
	c->ratio_critical = 1000;
	memcpy(c->floor, floors, sizeof(floors));
	memcpy(c->ceiling, ceilings, sizeof(ceilings));
	c->novelty_factor = 4;
	c->novelty_warmup_s = 60;
	c->lag_days = 4;
	c->hour_share = 0.25;
	c->minute_share = 0.05;
	c->learned_quantile[W_1M] = 0.99;
	c->learned_quantile[W_1H] = 0.95;
	c->learned_quantile[W_24H] = 0.9;
	c->learned_min[W_1M] = 60;
	c->learned_min[W_1H] = 8;
	c->learned_min[W_24H] = 3;
	c->half_life_days = 14;
	c->peer_quantile = 0.9;
	c->peer_min_principals = 5;
	c->episode_quiet_s = 600;
	c->rate_per_principal_hour = 6;
	c->rate_global_minute = 60;
	c->bytes_per_record = 700; /* 9 GB / 13 M records in the breach */
	c->max_principals = 200000;
	c->idle_expiry_days = 35;
}

int detect_cfg_check_fields(json_t *obj, const char *path, const char *const *known, struct perr *e)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = strncmp(key, "$comment", 8) == 0;

		for (int i = 0; known[i]; i++)
			ok |= strcmp(key, known[i]) == 0;
		if (!ok)
			return detect_cfg_bad(e, path, "unknown field '%s'", key);
	}
	return 0;
}

int detect_cfg_number(json_t *obj, const char *key, const char *path, double min, double max,
		      bool min_open, double *out, struct perr *e)
{
	json_t *v = json_object_get(obj, key);
	char p[256];
	double d;

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_number(v))
		return detect_cfg_bad(e, p, "must be a number");
	d = json_number_value(v);
	if (!isfinite(d) || (min_open ? d <= min : d < min) || d > max) {
		if (min == 0 && min_open)
			return detect_cfg_bad(e, p, "must be a positive number");
		return detect_cfg_bad(e, p, "must be a number %s %g and <= %g", min_open ? ">" : ">=", min, max);
	}
	*out = d;
	return 0;
}

int detect_cfg_u32(json_t *obj, const char *key, const char *path, uint32_t min, uint32_t max,
		   uint32_t *out, struct perr *e)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return detect_cfg_bad(e, p, "must be an integer from %u to %u", min, max);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

int detect_cfg_bool(json_t *obj, const char *key, const char *path, bool *out, struct perr *e)
{
	json_t *v = json_object_get(obj, key);
	char p[256];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_boolean(v))
		return detect_cfg_bad(e, p, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int parse_kind_list(json_t *arr, struct detect_config *c, struct perr *e)
{
	json_t *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return detect_cfg_bad(e, "detection.principals", "must be an array of kinds");
	for (int k = 0; k < PK_MAX; k++)
		c->kinds[k] = false;
	json_array_foreach(arr, i, v) {
		char p[64];
		bool found = false;

		snprintf(p, sizeof(p), "detection.principals[%zu]", i);
		for (int k = 0; k < PK_MAX && json_is_string(v); k++)
			if (strcmp(json_string_value(v), kind_names[k]) == 0)
				found = c->kinds[k] = true;
		if (!found)
			return detect_cfg_bad(e, p, "must be one of user, db_user, process, peer");
	}
	return 0;
}

static int parse_limits(json_t *o, const char *name, double lim[M_MAX][W_MAX],
			bool set[M_MAX][W_MAX], struct perr *e)
{
	static const char *const wins[] = { "1m", "1h", "24h", NULL };
	char path[64];

	if (!o)
		return 0;
	snprintf(path, sizeof(path), "detection.%s", name);
	if (!json_is_object(o))
		return detect_cfg_bad(e, path, "must be an object");
	if (detect_cfg_check_fields(o, path, detect_metric_keys, e))
		return -1;
	for (int m = 0; m < M_MAX; m++) {
		json_t *mo = json_object_get(o, metric_names[m]);
		char p[96];

		if (!mo)
			continue;
		snprintf(p, sizeof(p), "%s.%s", path, metric_names[m]);
		if (!json_is_object(mo))
			return detect_cfg_bad(e, p, "must be an object of window: volume");
		if (detect_cfg_check_fields(mo, p, wins, e))
			return -1;
		for (int w = 0; w < W_MAX; w++) {
			if (detect_cfg_number(mo, wins[w], p, 0, 1e18, strcmp(name, "ceilings") == 0,
				       &lim[m][w], e))
				return -1;
			if (json_object_get(mo, wins[w]))
				set[m][w] = true;
		}
	}
	return 0;
}

/* Byte limits of the metrics that carry records (db_bytes, egress_bytes)
 * must not hide what the record limits catch: by default they are the
 * record limits x bytes_per_record; a configured byte floor above that is
 * refused. (Egress ceilings stand on their own: egress is any traffic.) */
static int derive_byte_limits(struct detect_config *c, bool fset[M_MAX][W_MAX],
			      bool cset[M_MAX][W_MAX], struct perr *e)
{
	static const int carry[] = { M_DB_BYTES, M_EGRESS_BYTES };

	for (size_t i = 0; i < sizeof(carry) / sizeof(carry[0]); i++) {
		int m = carry[i];

		for (int w = 0; w < W_MAX; w++) {
			double max = c->floor[M_DB_ROWS][w] * c->bytes_per_record;
			char p[96];

			snprintf(p, sizeof(p), "detection.floors.%s.%s", metric_names[m], window_names[w]);
			if (!fset[m][w])
				c->floor[m][w] = max;
			else if (c->floor[m][w] > max)
				return detect_cfg_bad(e, p,
					   "%.0f bytes would hide what floors.db_rows.%s (%.0f records) "
					   "catches at bytes_per_record %.0f: at most %.0f",
					   c->floor[m][w], window_names[w], c->floor[M_DB_ROWS][w],
					   c->bytes_per_record, max);
			if (m == M_DB_BYTES && !cset[m][w])
				c->ceiling[m][w] = c->ceiling[M_DB_ROWS][w] * c->bytes_per_record;
		}
	}
	return 0;
}

static int parse_novelty(json_t *o, struct detect_config *c, struct perr *e)
{
	static const char *const known[] = { "factor", "warmup_s", NULL };
	const char *p = "detection.novelty";

	if (!o)
		return 0;
	if (!json_is_object(o))
		return detect_cfg_bad(e, p, "must be an object");
	return detect_cfg_check_fields(o, p, known, e) ||
	       detect_cfg_number(o, "factor", p, 1, 1e6, false, &c->novelty_factor, e) ||
	       detect_cfg_number(o, "warmup_s", p, 0, 30 * 86400, false, &c->novelty_warmup_s, e) ? -1 : 0;
}

static int parse_per_window(json_t *o, const char *key, const char *path, double min,
			    double max, double *vals, uint32_t *ivals, struct perr *e)
{
	static const char *const wins[] = { "1m", "1h", "24h", NULL };
	json_t *v = json_object_get(o, key);
	char p[128];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_object(v))
		return detect_cfg_bad(e, p, "must be an object of window: value");
	if (detect_cfg_check_fields(v, p, wins, e))
		return -1;
	for (int w = 0; w < W_MAX; w++) {
		if (vals && detect_cfg_number(v, wins[w], p, min, max, true, &vals[w], e))
			return -1;
		if (ivals && detect_cfg_u32(v, wins[w], p, 1, 1000000, &ivals[w], e))
			return -1;
	}
	return 0;
}

static int parse_learned(json_t *o, struct detect_config *c, struct perr *e)
{
	static const char *const known[] = { "quantile", "min_windows", "half_life_days",
					     "lag_days", NULL };
	const char *p = "detection.learned";

	if (!o)
		return 0;
	if (!json_is_object(o))
		return detect_cfg_bad(e, p, "must be an object");
	return detect_cfg_check_fields(o, p, known, e) ||
	       parse_per_window(o, "quantile", p, 0, 1, c->learned_quantile, NULL, e) ||
	       parse_per_window(o, "min_windows", p, 0, 0, NULL, c->learned_min, e) ||
	       detect_cfg_number(o, "half_life_days", p, 0, 3650, true, &c->half_life_days, e) ||
	       detect_cfg_u32(o, "lag_days", p, 0, LAG_MAX_DAYS, &c->lag_days, e) ? -1 : 0;
}

static int parse_peer(json_t *o, struct detect_config *c, struct perr *e)
{
	static const char *const known[] = { "quantile", "min_principals", NULL };
	const char *p = "detection.peer_group";

	if (!o)
		return 0;
	if (!json_is_object(o))
		return detect_cfg_bad(e, p, "must be an object");
	return detect_cfg_check_fields(o, p, known, e) ||
	       detect_cfg_number(o, "quantile", p, 0, 1, true, &c->peer_quantile, e) ||
	       detect_cfg_u32(o, "min_principals", p, 1, 1000000, &c->peer_min_principals, e) ? -1 : 0;
}

static int parse_rate(json_t *o, struct detect_config *c, struct perr *e)
{
	static const char *const known[] = { "per_principal_per_hour", "global_per_minute", NULL };
	const char *p = "detection.rate_limit";

	if (!o)
		return 0;
	if (!json_is_object(o))
		return detect_cfg_bad(e, p, "must be an object");
	return detect_cfg_check_fields(o, p, known, e) ||
	       detect_cfg_u32(o, "per_principal_per_hour", p, 1, 1000000, &c->rate_per_principal_hour, e) ||
	       detect_cfg_u32(o, "global_per_minute", p, 1, 1000000, &c->rate_global_minute, e) ? -1 : 0;
}

static int parse_top(json_t *d, struct detect_config *c, struct perr *e)
{
	static const char *const known[] = {
		"enabled", "principals", "ratio", "ratio_high", "ratio_critical", "floors",
		"hour_share", "minute_share", "learned", "peer_group", "rate_limit",
		"bytes_per_record", "max_principals", "idle_expiry_days", "profiles", "allow",
		"episode_quiet_s", "ceilings", "novelty", NULL
	};
	const char *p = "detection";
	bool fset[M_MAX][W_MAX] = { { false } }, cset[M_MAX][W_MAX] = { { false } };

	if (!json_is_object(d))
		return detect_cfg_bad(e, p, "must be an object");
	if (detect_cfg_check_fields(d, p, known, e) || detect_cfg_bool(d, "enabled", p, &c->enabled, e) ||
	    parse_kind_list(json_object_get(d, "principals"), c, e) ||
	    detect_cfg_number(d, "ratio", p, 1, 1e9, true, &c->ratio, e) ||
	    detect_cfg_number(d, "ratio_high", p, 1, 1e12, true, &c->ratio_high, e) ||
	    detect_cfg_number(d, "ratio_critical", p, 1, 1e15, true, &c->ratio_critical, e) ||
	    parse_limits(json_object_get(d, "floors"), "floors", c->floor, fset, e) ||
	    parse_limits(json_object_get(d, "ceilings"), "ceilings", c->ceiling, cset, e) ||
	    parse_novelty(json_object_get(d, "novelty"), c, e) ||
	    detect_cfg_number(d, "hour_share", p, 0, 1, true, &c->hour_share, e) ||
	    detect_cfg_number(d, "minute_share", p, 0, 1, true, &c->minute_share, e) ||
	    parse_learned(json_object_get(d, "learned"), c, e) ||
	    parse_peer(json_object_get(d, "peer_group"), c, e) ||
	    parse_rate(json_object_get(d, "rate_limit"), c, e) ||
	    detect_cfg_number(d, "bytes_per_record", p, 0, 1e9, true, &c->bytes_per_record, e) ||
	    detect_cfg_number(d, "episode_quiet_s", p, 0, 30 * 86400, false, &c->episode_quiet_s, e) ||
	    detect_cfg_u32(d, "max_principals", p, 1, 100000000, &c->max_principals, e) ||
	    detect_cfg_u32(d, "idle_expiry_days", p, 1, 36500, &c->idle_expiry_days, e) ||
	    detect_cfg_profiles(json_object_get(d, "profiles"), c, e) ||
	    detect_cfg_allow(json_object_get(d, "allow"), c, e))
		return -1;
	if (derive_byte_limits(c, fset, cset, e))
		return -1;
	if (c->ratio_high < c->ratio)
		return detect_cfg_bad(e, "detection.ratio_high", "must be >= detection.ratio (%g)", c->ratio);
	if (c->ratio_critical < c->ratio_high)
		return detect_cfg_bad(e, "detection.ratio_critical", "must be >= detection.ratio_high (%g)",
			   c->ratio_high);
	return 0;
}

int detect_config_parse(json_t *detection, struct detect_config *out, char *err, size_t errlen)
{
	struct perr e = { err, errlen };

	set_defaults(out);
	if (errlen)
		err[0] = '\0';
	if (!detection || json_is_null(detection)) {
		bool none[M_MAX][W_MAX] = { { false } };

		return derive_byte_limits(out, none, none, &e);
	}
	if (parse_top(detection, out, &e)) {
		detect_config_free(out);
		set_defaults(out);
		return -1;
	}
	return 0;
}

static void free_list(struct detect_pattern_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->pat[i]);
	l->n = 0;
}

void detect_config_free(struct detect_config *c)
{
	for (int i = 0; i < c->n_profiles; i++) {
		struct detect_profile *pr = &c->profiles[i];

		free_list(&pr->users);
		free_list(&pr->groups);
		free_list(&pr->group_members);
		free_list(&pr->db_users);
		free_list(&pr->app_users);
		free_list(&pr->exes);
		free_list(&pr->peers);
	}
	c->n_profiles = 0;
	free_list(&c->allow);
}
