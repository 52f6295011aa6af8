// SPDX-License-Identifier: GPL-2.0
/*
 * ecs-check: check NDJSON events (Vigie's output) against the shipped ECS
 * subset and Vigie's own fields (tests/data/ecs/).
 *
 * Usage: ecs-check [-d DATA_DIR] [-q] [FILE...]   (no FILE or "-": stdin)
 * Exit: 0 every event conforms, 1 a violation (named on stderr: file, line,
 * event.id, field), 2 bad usage or unreadable data/input.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "output/ecs_check.h"

static const char *event_id_of(const char *line, char *buf, size_t n)
{
	json_t *ev = json_loads(line, 0, NULL);
	const char *id = json_string_value(json_object_get(json_object_get(ev, "event"), "id"));
	const char *action = json_string_value(json_object_get(json_object_get(ev, "event"),
							       "action"));

	snprintf(buf, n, "event.id %s, %s", id ? id : "?", action ? action : "?");
	json_decref(ev);
	return buf;
}

static int check_stream(const struct ecs_schema *s, FILE *f, const char *name, bool quiet,
			unsigned long *events, unsigned long *bad)
{
	char *line = NULL, err[512], idbuf[128];
	size_t cap = 0;
	ssize_t len;
	unsigned long ln = 0;

	while ((len = getline(&line, &cap, f)) > 0) {
		ln++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		(*events)++;
		if (ecs_check_line(s, line, err, sizeof(err))) {
			(*bad)++;
			if (!quiet || *bad <= 20)
				fprintf(stderr, "ecs-check: %s:%lu (%s): %s\n", name, ln,
					event_id_of(line, idbuf, sizeof(idbuf)), err);
		}
	}
	free(line);
	return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *dir = "tests/data/ecs";
	struct ecs_schema *s;
	unsigned long events = 0, bad = 0;
	bool quiet = false;
	char err[512];
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "d:qh")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			fprintf(stderr, "usage: ecs-check [-d DATA_DIR] [-q] [FILE...]\n"
					"  DATA_DIR holds ecs_fields.tsv, ecs_allowed.tsv and "
					"vigie_fields.tsv (default tests/data/ecs)\n"
					"  exit: 0 conform, 1 violation, 2 usage or read error\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	s = ecs_schema_load(dir, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "ecs-check: %s\n", err);
		return 2;
	}
	if (optind == argc)
		rc = check_stream(s, stdin, "<stdin>", quiet, &events, &bad) ? 2 : 0;
	for (int i = optind; i < argc && rc == 0; i++) {
		FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "re") : stdin;

		if (!f) {
			perror(argv[i]);
			rc = 2;
			break;
		}
		if (check_stream(s, f, argv[i], quiet, &events, &bad))
			rc = 2;
		if (f != stdin)
			fclose(f);
	}
	ecs_schema_free(s);
	if (rc)
		return rc;
	fprintf(stderr, "ecs-check: %lu events, %lu not conforming\n", events, bad);
	return bad ? 1 : 0;
}
