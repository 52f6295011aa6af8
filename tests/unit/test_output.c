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

static void test_rotation(void)
{
	char path[256], p[300], pad[201];
	struct output *out;
	struct output_stats st;
	int ns[1000], next = -1, total = 0, out_of_order = 0;
	long size;
	int failed = 0;

	snprintf(path, sizeof(path), "%s/events.ndjson", dir);
	out = output_open(path);
	CHECK(out != NULL);
	if (!out)
		return;
	output_set_rotation(out, 65536, 3);
	memset(pad, 'x', 200);
	pad[200] = '\0';
	/* 2,000 events of ~220 bytes: ~440 KB, 6 to 7 files of 64 KB */
	for (int i = 0; i < 2000; i++) {
		json_t *e = json_pack("{s:i, s:s}", "n", i, "pad", pad);

		failed += output_write(out, e) != 0;
		json_decref(e);
	}
	CHECK_EQ_INT(failed, 0);
	output_get_stats(out, &st);
	CHECK_EQ_INT(st.written, 2000);
	CHECK_EQ_INT(st.lost, 0);
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

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_rotation();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return check_summary();
}
