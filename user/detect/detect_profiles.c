// SPDX-License-Identifier: GPL-2.0
/* Profiles ("detection.profiles") and allow-lists ("detection.allow") of
 * the detection section; the rest is in detect_config.c. */
#define _GNU_SOURCE
#include <grp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect.h"
#include "detect/detect_config_int.h"

static int add_pattern(struct detect_pattern_list *l, const char *s, const char *path,
		       struct perr *e)
{
	if (l->n >= DETECT_MAX_PATTERNS)
		return detect_cfg_bad(e, path, "more than %d entries", DETECT_MAX_PATTERNS);
	if (!*s || strlen(s) > 255)
		return detect_cfg_bad(e, path, "must be a non-empty string of at most 255 bytes");
	l->pat[l->n] = strdup(s);
	if (!l->pat[l->n])
		return detect_cfg_bad(e, path, "out of memory");
	l->n++;
	return 0;
}

static int get_patterns(json_t *obj, const char *key, const char *path,
			struct detect_pattern_list *l, struct perr *e)
{
	json_t *arr = json_object_get(obj, key), *v;
	char p[256];
	size_t i;

	if (!arr)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_array(arr))
		return detect_cfg_bad(e, p, "must be an array of strings");
	json_array_foreach(arr, i, v) {
		char pi[300];

		snprintf(pi, sizeof(pi), "%s[%zu]", p, i);
		if (!json_is_string(v))
			return detect_cfg_bad(e, pi, "must be a string");
		if (add_pattern(l, json_string_value(v), pi, e))
			return -1;
	}
	return 0;
}

/* "uids": [[1000, 1999], 0, "2000-2999"] */
static int get_uids(json_t *match, const char *path, struct detect_profile *pr, struct perr *e)
{
	json_t *arr = json_object_get(match, "uids"), *v;
	char p[300];
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return detect_cfg_bad(e, path, "uids: must be an array");
	json_array_foreach(arr, i, v) {
		long long lo = -1, hi = -1;

		snprintf(p, sizeof(p), "%s.uids[%zu]", path, i);
		if (pr->n_uids >= DETECT_MAX_PATTERNS)
			return detect_cfg_bad(e, p, "more than %d entries", DETECT_MAX_PATTERNS);
		if (json_is_integer(v)) {
			lo = hi = json_integer_value(v);
		} else if (json_is_array(v) && json_array_size(v) == 2 &&
			   json_is_integer(json_array_get(v, 0)) &&
			   json_is_integer(json_array_get(v, 1))) {
			lo = json_integer_value(json_array_get(v, 0));
			hi = json_integer_value(json_array_get(v, 1));
		} else if (json_is_string(v)) {
			char tail;

			if (sscanf(json_string_value(v), "%lld-%lld%c", &lo, &hi, &tail) != 2)
				lo = hi = -1;
		}
		if (lo < 0 || hi < lo || hi > 4294967295ll)
			return detect_cfg_bad(e, p, "must be a uid, [first, last] or \"first-last\"");
		pr->uids[pr->n_uids].lo = (uint32_t)lo;
		pr->uids[pr->n_uids].hi = (uint32_t)hi;
		pr->n_uids++;
	}
	return 0;
}

/* Unix groups resolved to their listed members, at load time. */
static int resolve_groups(struct detect_profile *pr, const char *path, struct perr *e)
{
	for (int i = 0; i < pr->groups.n; i++) {
		struct group *g = getgrnam(pr->groups.pat[i]);

		if (!g)
			continue; /* unknown here: matches nobody (documented) */
		for (char **m = g->gr_mem; m && *m; m++)
			if (add_pattern(&pr->group_members, *m, path, e))
				return -1;
	}
	return 0;
}

static int parse_match(json_t *m, const char *path, struct detect_profile *pr, struct perr *e)
{
	static const char *const known[] = { "users", "uids", "groups", "db_users", "exes",
					     "peers", "app_users", NULL };

	if (!json_is_object(m))
		return detect_cfg_bad(e, path, "must be an object");
	if (detect_cfg_check_fields(m, path, known, e) || get_patterns(m, "users", path, &pr->users, e) ||
	    get_uids(m, path, pr, e) || get_patterns(m, "groups", path, &pr->groups, e) ||
	    get_patterns(m, "db_users", path, &pr->db_users, e) ||
	    get_patterns(m, "exes", path, &pr->exes, e) ||
	    get_patterns(m, "peers", path, &pr->peers, e) ||
	    get_patterns(m, "app_users", path, &pr->app_users, e))
		return -1;
	return resolve_groups(pr, path, e);
}

static int parse_per_day(json_t *o, const char *path, double *per_day, struct perr *e)
{
	if (!json_is_object(o))
		return detect_cfg_bad(e, path, "must be an object of metric: volume per day");
	if (detect_cfg_check_fields(o, path, detect_metric_keys, e))
		return -1;
	for (int m = 0; m < M_MAX; m++)
		if (detect_cfg_number(o, metric_name(m), path, 0, 1e18, true, &per_day[m], e))
			return -1;
	return 0;
}

static int parse_profile(json_t *o, const char *path, struct detect_config *c,
			 struct detect_profile *pr, struct perr *e)
{
	static const char *const known[] = { "name", "match", "per_day", "alert", NULL };
	json_t *v;
	char p[256];

	if (!json_is_object(o))
		return detect_cfg_bad(e, path, "must be an object");
	if (detect_cfg_check_fields(o, path, known, e))
		return -1;
	v = json_object_get(o, "name");
	snprintf(p, sizeof(p), "%s.name", path);
	if (!json_is_string(v) || !*json_string_value(v) ||
	    strlen(json_string_value(v)) >= DETECT_NAME_LEN)
		return detect_cfg_bad(e, p, "must be a non-empty string of at most %d bytes",
			   DETECT_NAME_LEN - 1);
	snprintf(pr->name, sizeof(pr->name), "%s", json_string_value(v));
	for (int i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, pr->name) == 0)
			return detect_cfg_bad(e, p, "duplicate profile name '%s'", pr->name);
	pr->alert = true;
	snprintf(p, sizeof(p), "%s.match", path);
	v = json_object_get(o, "match");
	if (!v)
		return detect_cfg_bad(e, p, "missing (a profile must say whom it matches)");
	if (parse_match(v, p, pr, e))
		return -1;
	v = json_object_get(o, "per_day");
	snprintf(p, sizeof(p), "%s.per_day", path);
	if (v && parse_per_day(v, p, pr->per_day, e))
		return -1;
	return detect_cfg_bool(o, "alert", path, &pr->alert, e);
}

int detect_cfg_profiles(json_t *arr, struct detect_config *c, struct perr *e)
{
	json_t *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return detect_cfg_bad(e, "detection.profiles", "must be an array");
	json_array_foreach(arr, i, v) {
		char p[64];

		snprintf(p, sizeof(p), "detection.profiles[%zu]", i);
		if (c->n_profiles >= DETECT_MAX_PROFILES)
			return detect_cfg_bad(e, p, "more than %d profiles", DETECT_MAX_PROFILES);
		if (parse_profile(v, p, c, &c->profiles[c->n_profiles], e)) {
			c->n_profiles++; /* so that free releases what was parsed */
			return -1;
		}
		c->n_profiles++;
	}
	return 0;
}

int detect_cfg_allow(json_t *arr, struct detect_config *c, struct perr *e)
{
	json_t *v;
	size_t i;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return detect_cfg_bad(e, "detection.allow", "must be an array of \"kind:pattern\"");
	json_array_foreach(arr, i, v) {
		char p[64];
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		const char *colon = strchr(s, ':');
		bool ok = false;

		snprintf(p, sizeof(p), "detection.allow[%zu]", i);
		for (int k = 0; k < PK_MAX && colon; k++)
			ok |= strlen(principal_kind_name(k)) == (size_t)(colon - s) &&
			      strncmp(s, principal_kind_name(k), (size_t)(colon - s)) == 0;
		if (!ok || !colon[1])
			return detect_cfg_bad(e, p, "must be \"kind:pattern\" with kind user, db_user, process or peer");
		if (add_pattern(&c->allow, s, p, e))
			return -1;
	}
	return 0;
}

/* "floors" and "ceilings": metric -> window -> volume; set[m][w] says
 * which were given. */
