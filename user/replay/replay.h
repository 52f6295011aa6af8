/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vigie replay [-c CONFIG] [--state FILE] [-o OUTPUT] [-q] TRACE...
 *
 * Runs the detection of the live sensor on recorded traces, time taken from
 * the trace only: the same traces and config give byte-identical output.
 */
#ifndef VIGIE_REPLAY_H
#define VIGIE_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <jansson.h>
#include "detect/detect.h"
#include "trace/trace.h"

/* Same meaning as for vigie run where they overlap: 1 runtime, 2 usage. */
enum replay_exit {
	REPLAY_OK = 0,           /* every line used */
	REPLAY_RUNTIME = 1,      /* output or state could not be written */
	REPLAY_USAGE = 2,        /* bad option, configuration or state file */
	REPLAY_BAD_TRACE = 3,    /* unreadable trace, bad header, damaged gzip */
	REPLAY_SKIPPED = 4,      /* done, but bad lines were skipped */
};

/* argv[0] is "replay". Returns the exit code above. */
int replay_main(int argc, char **argv);

/* The command line vigie replay and vigie report share: -c CONFIG,
 * --state FILE, -o FILE (need_output: required), -q, -h, then the traces
 * from optind. 1: go on; 0: help printed; -1: usage error (said, with
 * say_usage(stderr)). cmd names the command in messages. */
struct replay_args {
	const char *config_path, *state_path, *output_path;
	bool quiet;
};
int replay_parse_args(struct replay_args *a, int argc, char **argv, const char *cmd,
		      bool need_output, void (*say_usage)(FILE *));

/*
 * The replay engine, shared by vigie replay and vigie report (user/view/):
 * the same configuration and state handling, trace reading, detection,
 * containment in dry-run and exit codes. Every hook is optional.
 */

struct replay_hooks {
	void *ctx;
	/* the detector is ready (configuration and state loaded), nothing read
	 * yet; non-zero: stop with REPLAY_RUNTIME */
	int (*start)(void *ctx, struct detector *d, const struct detect_config *dc);
	/* each trace opened, with its header */
	void (*trace)(void *ctx, const char *path, const struct trace_header *h);
	/* each sample, before the detector gets it (the detector as of the
	 * sample before: detect_view.h) */
	void (*sample)(void *ctx, struct detector *d, const struct trace_sample *s);
	/* after the last sample, before open episodes are closed */
	void (*finish)(void *ctx, struct detector *d);
	/* each event (alert, episode end, containment's); it stays the
	 * engine's. 0, or -1: could not be written (exit REPLAY_RUNTIME) */
	int (*event)(void *ctx, json_t *ev);
};

struct replay_opts {
	const char *name;         /* prefix of progress and summary lines */
	const char *config_path;  /* NULL: built-in defaults */
	const char *state_path;   /* NULL: none */
	const char *output_path;  /* where the caller writes; NULL or "-": standard
				   * output (checked: not a trace, not the state) */
	bool quiet;               /* no progress, no per-line warnings */
	char *const *traces;      /* read in order as one stream */
	int n_traces;
};

struct replay_result {
	bool started;             /* the detector ran (start hook called) */
	uint64_t samples, skipped, ignored;
	uint64_t first_ts, last_ts; /* of the samples read (0: none) */
	struct detect_summary sum;
	char error[600];          /* why a trace stopped ("" if none) */
};

/* Runs a replay: enum replay_exit. res may be NULL. */
int replay_run(const struct replay_opts *o, const struct replay_hooks *h,
	       struct replay_result *res);

#endif
