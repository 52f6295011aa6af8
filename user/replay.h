/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vigie replay [-c CONFIG] [--state FILE] [-o OUTPUT] [-q] TRACE...
 *
 * Runs the detection of the live sensor on recorded traces, time taken from
 * the trace only: the same traces and config give byte-identical output.
 */
#ifndef VIGIE_REPLAY_H
#define VIGIE_REPLAY_H

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

#endif
