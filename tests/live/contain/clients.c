// SPDX-License-Identifier: GPL-2.0
/*
 * live_contain: the database clients (tests/live/contain_client.py, one
 * process each) and what they wrote, one line per step, to tmpdir/NAME.out.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "contain_test.h"

/* The clients' script (main sets it). */
char *client_script;

/* Start a client: its lines go to tmpdir/NAME.out. */
int client(struct child *c, const char *name, const char *mode, const char *user,
	   const char *arg, bool tls)
{
	char cmd[1024];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "exec /usr/bin/python3 '%s' %s %s %s %s > '%s/%s.out' 2>&1",
		 client_script, mode, user, arg, tls ? "tls" : "", live_tmpdir(), name);
	return child_spawn(c, &(struct spawn_opts){ 0 }, argv);
}

/* The last line of tmpdir/NAME.out starting with kind, its time and rows. */
bool last_line(const char *name, const char *kind, double *t, long long *rows,
	       char *rest, size_t rest_len)
{
	char path[512], *text, *line, *save = NULL;
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	text = live_read_file(path, NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		int off = 0;

		if (strncmp(line, kind, strlen(kind)) ||
		    sscanf(line + strlen(kind), " %lf %lld %n", t, rows, &off) < 2)
			continue;
		found = true;
		if (rest)
			snprintf(rest, rest_len, "%s", line + strlen(kind) + off);
	}
	free(text);
	return found;
}

/* Rows the extractor had at time t (its last "ROWS" line not after t). */
long long rows_at(const char *name, double t)
{
	char path[512], *text, *line, *save = NULL;
	long long n = 0;

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	text = live_read_file(path, NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		double lt;
		long long r;

		if (sscanf(line, "ROWS %lf %lld", &lt, &r) == 2 && lt <= t)
			n = r;
	}
	free(text);
	return n;
}

char *read_out(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.out", live_tmpdir(), name);
	return live_read_file(path, NULL);
}

void wait_exit(struct child *c, const char *name, int timeout_ms)
{
	int rc = child_wait(c, timeout_ms);

	if (rc < 0)
		live_log("%s did not end in %d ms", name, timeout_ms);
}
