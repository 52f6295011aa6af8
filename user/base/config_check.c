// SPDX-License-Identifier: GPL-2.0
/* The checks that hold whatever set a value (file or command line):
 * bounds of the periods and how they relate, a state file the daemon may
 * replace, and one file for each thing the daemon writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/config.h"
#include "base/safefile.h"

struct period_bound {
	const char *name;  /* "sensor.tick (--tick)" */
	double min, max;
};

static int check(const struct period_bound *b, double v, char *err, size_t errlen)
{
	if (v >= b->min && v <= b->max)
		return 0;
	snprintf(err, errlen, "%s: %g s is outside [%g, %g]", b->name, v, b->min, b->max);
	return -1;
}

/* The state file is saved by writing a new file next to it and renaming
 * it over the old one, and a refused one is renamed away: only a regular
 * file (or none yet) in an existing directory. */
static int check_state_file(const char *path, char *err, size_t errlen)
{
	char why[96], *copy = strdup(path), *dir;
	struct stat st;
	int ret = 0;

	if (!copy) {
		snprintf(err, errlen, "sensor.state_file (--state): out of memory");
		return -1;
	}
	dir = dirname(copy);
	if (!*path) {
		snprintf(err, errlen, "sensor.state_file (--state): empty path");
		ret = -1;
	} else if (safe_replaceable(path, why, sizeof(why))) {
		snprintf(err, errlen, "sensor.state_file (--state): '%s' is %s, not a file Vigie "
			 "may replace", path, why);
		ret = -1;
	} else if (stat(dir, &st)) {
		snprintf(err, errlen, "sensor.state_file (--state): directory '%s': %s", dir,
			 strerror(errno));
		ret = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "sensor.state_file (--state): '%s' is not a directory", dir);
		ret = -1;
	}
	free(copy);
	return ret;
}

/* The files the daemon writes are each its own: the output, the trace
 * recorded, the state and the spool written into one file corrupt each
 * other (and the second lock taken on it names vigie itself), and none of
 * them is the configuration file it reads (config_path, NULL: none). "-"
 * (the output by default, --record -) is standard output, and counts as
 * its file (vigie --state s >> s). */
int config_check_files(const struct vigie_config *cfg, const char *config_path, char *err,
		       size_t errlen)
{
	bool out_std = !cfg->output || !strcmp(cfg->output, "-");
	bool rec_std = cfg->record && !strcmp(cfg->record, "-");
	const char *name[] = {
		"the configuration file (-c)",
		out_std ? "standard output (sensor.output)" : "sensor.output (-o)",
		"sensor.record (--record)",
		"sensor.state_file (--state)",
		"sensor.syslog_spool",
	};
	const struct named_file f[] = {
		{ config_path, -1, false },
		{ out_std ? "-" : cfg->output, out_std ? STDOUT_FILENO : -1, true },
		{ cfg->record, rec_std ? STDOUT_FILENO : -1, true },
		{ cfg->state_file, -1, true },
		{ cfg->syslog_spool, -1, true },
	};
	int i, j;

	if (!files_clash(f, (int)(sizeof(f) / sizeof(f[0])), &j, &i))
		return 0;
	snprintf(err, errlen, "%s and %s name the same file '%s': each needs its own", name[j],
		 name[i], f[i].path);
	return -1;
}

int config_validate(const struct vigie_config *cfg, char *err, size_t errlen)
{
	const struct period_bound tick = { "sensor.tick (--tick)", 0.01, 3600 };
	const struct period_bound usage = { "sensor.usage_interval (--usage-interval)", 0.01, 86400 };
	const struct period_bound heartbeat = { "sensor.heartbeat (--heartbeat)", 0.01, 86400 };
	const struct period_bound coarse = { "sensor.usage_coarse_interval", 1, 7 * 86400 };

	if (check(&tick, cfg->tick_s, err, errlen) || check(&usage, cfg->usage_interval_s, err, errlen) ||
	    check(&heartbeat, cfg->heartbeat_s, err, errlen) ||
	    check(&coarse, cfg->usage_coarse_interval_s, err, errlen))
		return -1;
	if (cfg->usage_interval_s < cfg->tick_s) {
		snprintf(err, errlen, "sensor.usage_interval (--usage-interval): %g s is shorter than "
			 "the tick (%g s)", cfg->usage_interval_s, cfg->tick_s);
		return -1;
	}
	if (cfg->usage_coarse_interval_s < cfg->usage_interval_s) {
		snprintf(err, errlen, "sensor.usage_coarse_interval: %g s is shorter than the usage "
			 "interval (%g s)", cfg->usage_coarse_interval_s, cfg->usage_interval_s);
		return -1;
	}
	if (cfg->state_file && check_state_file(cfg->state_file, err, errlen))
		return -1;
	if (config_check_files(cfg, NULL, err, errlen))
		return -1;
	if (cfg->output_group && (!cfg->output || !strcmp(cfg->output, "-"))) {
		snprintf(err, errlen, "sensor.output_group: the output is standard output, not a "
			 "file (set sensor.output or -o)");
		return -1;
	}
	return 0;
}
