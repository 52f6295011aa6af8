// SPDX-License-Identifier: GPL-2.0
/* base/trust.c: an executable only root could have put there. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/trust.h"
#include "check.h"

int main(void)
{
	char root[] = "/tmp/vigie-trust-XXXXXX", p[256], cmd[300];

	if (!mkdtemp(root))
		return 1;
	if (geteuid() != 0) {
		rmdir(root);
		printf("0 passed, 0 failed, 1 skipped\n"); /* ownership needs root */
		return 0;
	}
	snprintf(p, sizeof(p), "%s/usr", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/usr/bin", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/usr/bin/postgres", root);
	fclose(fopen(p, "w"));
	chmod(p, 0755);
	CHECK(path_trusted(root, "/usr/bin/postgres"));
	CHECK(!path_trusted(root, "/usr/bin/missing"));
	CHECK(!path_trusted(root, "usr/bin/postgres")); /* relative */
	/* the file writable by its group, or another user's */
	chmod(p, 0775);
	CHECK(!path_trusted(root, "/usr/bin/postgres"));
	chmod(p, 0755);
	CHECK(chown(p, 65534, 65534) == 0);
	CHECK(!path_trusted(root, "/usr/bin/postgres"));
	CHECK(chown(p, 0, 0) == 0);
	/* a directory above it writable by others (as /tmp, sticky or not) */
	snprintf(p, sizeof(p), "%s/usr", root);
	chmod(p, 01777);
	CHECK(!path_trusted(root, "/usr/bin/postgres"));
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/usr/bin", root);
	CHECK(chown(p, 65534, 0) == 0);
	CHECK(!path_trusted(root, "/usr/bin/postgres"));
	CHECK(chown(p, 0, 0) == 0);
	CHECK(path_trusted(root, "/usr/bin/postgres"));
	/* an upgraded binary still running: judged by the new one at its name */
	CHECK(path_trusted(root, "/usr/bin/postgres (deleted)"));
	/* the real system */
	CHECK(path_trusted("", "/bin/sh") || path_trusted("", "/usr/bin/sh"));
	CHECK(!path_trusted("", root));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return check_summary();
}
