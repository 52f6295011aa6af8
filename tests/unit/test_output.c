// SPDX-License-Identifier: GPL-2.0
/* The file output's size rotation (sensor.output_max_bytes, output_keep):
 * whole lines only, no file over the bound, FILE.1 the newest rotated,
 * FILE.keep the oldest kept, the events in order across the files, and
 * nothing lost but what rotation removes on purpose (beyond keep). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "output/output.h"
#include "check.h"

static char dir[] = "/tmp/vigie-output-XXXXXX";

/* The "n" of each line of path, in order, into ns (at most max); -1 when a
 * line is not a whole JSON object with "n". */
static int numbers_of(const char *path, int *ns, int max, long *size)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int k = 0;

	*size = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		json_t *n = json_object_get(j, "n");

		if (!json_is_integer(n) || line[strlen(line) - 1] != '\n' || k == max) {
			json_decref(j);
			fclose(f);
			return -1;
		}
		ns[k++] = (int)json_integer_value(n);
		json_decref(j);
	}
	*size = ftell(f);
	fclose(f);
	return k;
}

/* n events {"n": i, "pad": 200 x's} of ~220 bytes each, written to out;
 * then the output's counts: all written, none lost. */
static void write_events(struct output *out, int n)
{
	struct output_stats st;
	char pad[201];
	int failed = 0;

	memset(pad, 'x', 200);
	pad[200] = '\0';
	for (int i = 0; i < n; i++) {
		json_t *e = json_pack("{s:i, s:s}", "n", i, "pad", pad);

		failed += output_write(out, e) != 0;
		json_decref(e);
	}
	CHECK_EQ_INT(failed, 0);
	output_get_stats(out, &st);
	CHECK_EQ_INT(st.written, n);
	CHECK_EQ_INT(st.lost, 0);
}

static void test_rotation(void)
{
	char path[256], p[300];
	struct output *out;
	int ns[1000], next = -1, total = 0, out_of_order = 0;
	long size;

	snprintf(path, sizeof(path), "%s/events.ndjson", dir);
	out = output_open(path);
	CHECK(out != NULL);
	if (!out)
		return;
	output_set_rotation(out, 65536, 3);
	/* 2,000 events of ~220 bytes: ~440 KB, 6 to 7 files of 64 KB */
	write_events(out, 2000);
	output_close(out);
	/* oldest first: FILE.3, FILE.2, FILE.1, FILE; contiguous numbers */
	for (int i = 3; i >= 0; i--) {
		int k;

		if (i)
			snprintf(p, sizeof(p), "%s.%d", path, i);
		else
			snprintf(p, sizeof(p), "%s", path);
		k = numbers_of(p, ns, 1000, &size);
		CHECK_MSG(k > 0, "%s: whole JSON lines", p);
		CHECK_MSG(size > 0 && size <= 65536, "%s: %ld bytes, at most 65536", p, size);
		for (int j = 0; j < k; j++) {
			out_of_order += next >= 0 && ns[j] != next + 1;
			next = ns[j];
		}
		total += k > 0 ? k : 0;
	}
	CHECK_EQ_INT(out_of_order, 0);
	CHECK_EQ_INT(next, 1999);
	CHECK(total > 1000 && total < 2000);
	snprintf(p, sizeof(p), "%s.4", path);
	CHECK_MSG(access(p, F_OK) != 0, "no FILE.4: keep is 3");
}

/* Rotation applies to a regular file only: an output that is a named
 * pipe (or -o /dev/null) is written on past the bound and never renamed
 * away. A child reads the pipe and counts the lines. */
static void test_no_rotation_of_a_pipe(void)
{
	char path[256], p[300];
	struct output *out;
	struct stat sb;
	int status = 0;
	pid_t child;

	snprintf(path, sizeof(path), "%s/events.fifo", dir);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	child = fork();
	if (child == 0) {
		FILE *r = fopen(path, "r");
		long lines = 0;
		int c;

		while (r && (c = fgetc(r)) != EOF)
			lines += c == '\n';
		_exit(lines == 1000 ? 0 : 1);
	}
	CHECK(child > 0);
	out = output_open(path); /* blocks until the child opens it */
	CHECK(out != NULL);
	if (!out)
		return;
	output_set_rotation(out, 65536, 3);
	/* 1,000 events of ~220 bytes: 220 KB, 3 times the bound */
	write_events(out, 1000);
	output_close(out);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0); /* every line through the one pipe */
	CHECK(stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
	snprintf(p, sizeof(p), "%s.1", path);
	CHECK_MSG(access(p, F_OK) != 0, "the pipe was not renamed to %s", p);
	unlink(path);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_rotation();
	test_no_rotation_of_a_pipe();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return check_summary();
}
