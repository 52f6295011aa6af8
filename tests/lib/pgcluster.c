// SPDX-License-Identifier: GPL-2.0
/* A throw-away PostgreSQL cluster for live tests (see live.h), made and
 * removed by tests/lib/pgcluster.sh. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

static char pgcluster_dir[PATH_MAX / 2];

void pgcluster_stop(void)
{
	char cmd[PATH_MAX + 64];

	if (!pgcluster_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1",
		 live_source_path("tests/lib/pgcluster.sh"), pgcluster_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cluster stop failed\n");
	pgcluster_dir[0] = '\0';
}

const char *pgcluster_psql(void)
{
	static char psql[PATH_MAX];
	const char *bin = getenv("PGCLUSTER_BIN");

	if (!bin)
		return NULL;
	snprintf(psql, sizeof(psql), "%s/psql", bin);
	setenv("PGSSLMODE", "disable", 1);
	unsetenv("PGPASSWORD");
	return access(psql, X_OK) == 0 ? psql : NULL;
}

int pgcluster_start(void)
{
	char cmd[PATH_MAX + 16], line[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' start", live_source_path("tests/lib/pgcluster.sh"));
	f = popen(cmd, "r");
	if (!f)
		return -1;
	/* lines "export NAME='value'" */
	while (fgets(line, sizeof(line), f)) {
		char *k = line + 7, *v, *eq;
		size_t n;

		if (strncmp(line, "export ", 7) || !(eq = strchr(k, '=')))
			continue;
		*eq = '\0';
		v = eq + 1;
		n = strlen(v);
		while (n && (v[n - 1] == '\n' || v[n - 1] == '\''))
			v[--n] = '\0';
		if (*v == '\'')
			v++;
		setenv(k, v, 1);
		if (!strcmp(k, "PGCLUSTER_DIR"))
			snprintf(pgcluster_dir, sizeof(pgcluster_dir), "%s", v);
	}
	if (pclose(f) != 0 || !pgcluster_dir[0]) {
		pgcluster_stop();
		return -1;
	}
	return 0;
}
