// SPDX-License-Identifier: GPL-2.0
/*
 * Live: the files root writes cannot be turned against another file (issue
 * 11, item 4). With fs.protected_symlinks and fs.protected_hardlinks off
 * (as on many container hosts), user nobody plants, in a world-writable
 * sticky directory, symbolic links and a hard link to a root-owned file
 * under the names vigie is told to write (-o, --record, --state): each is
 * refused with a message naming the file and the reason, and the target is
 * unchanged byte for byte. What vigie creates itself is 0600.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/live.h"

static char old_sym[16], old_hard[16];

static void read_sysctl(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

static void write_sysctl(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(v, f);
		fclose(f);
	}
}

static void restore_sysctls(void)
{
	if (old_sym[0])
		write_sysctl("/proc/sys/fs/protected_symlinks", old_sym);
	if (old_hard[0])
		write_sysctl("/proc/sys/fs/protected_hardlinks", old_hard);
}

int main(void)
{
	static const char precious[] = "precious root-owned content\n";
	char dir[600], target[600], path[700], *got, *err = NULL;
	const struct {
		const char *name, *how, *opt, *needle;
	} cases[] = {
		{ "out.ndjson", "symlink", "-o", "is a symbolic link" },
		{ "rec.trace", "symlink", "--record", "is a symbolic link" },
		{ "hard.ndjson", "hardlink", "-o", "hard links" },
		{ "hard.trace", "hardlink", "--record", "hard links" },
	};
	struct stat st;
	int stc;

	live_init("files");
	read_sysctl("/proc/sys/fs/protected_symlinks", old_sym, sizeof(old_sym));
	read_sysctl("/proc/sys/fs/protected_hardlinks", old_hard, sizeof(old_hard));
	live_on_cleanup(restore_sysctls);
	write_sysctl("/proc/sys/fs/protected_symlinks", "0");
	write_sysctl("/proc/sys/fs/protected_hardlinks", "0");

	snprintf(dir, sizeof(dir), "%s/shared", live_tmpdir());
	snprintf(target, sizeof(target), "%s/root-owned", live_tmpdir());
	CHECK(mkdir(dir, 0777) == 0 && chmod(dir, 01777) == 0 && chmod(live_tmpdir(), 0755) == 0,
	      "a world-writable sticky directory");
	free(live_write_file("root-owned", precious));
	chmod(target, 0644);

	live_section("links planted by nobody under the names vigie writes");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].name);
		CHECK(live_sh("runuser -u nobody -- ln %s '%s' '%s'",
			      !strcmp(cases[i].how, "symlink") ? "-s" : "", target, path) == 0,
		      "nobody plants %s as a %s to the root-owned file", cases[i].name, cases[i].how);
		stc = !strcmp(cases[i].opt, "-o") ?
			      vigie_exec(NULL, &err, 10000, "run", "--duration", "1", "-o", path, NULL) :
			      vigie_exec(NULL, &err, 10000, "run", "--duration", "1", "-o", "/dev/null",
					 "--record", path, NULL);
		CHECK(stc == 1, "%s %s: refused, exit status %d (want 1)", cases[i].opt, cases[i].name,
		      stc);
		ASSERT_CONTAINS(err, cases[i].needle, "the message says why");
		ASSERT_CONTAINS(err, cases[i].name, "and names the file");
		free(err);
		err = NULL;
		got = live_read_file(target, NULL);
		ASSERT_EQ_STR(got, precious, "the root-owned file is unchanged");
		free(got);
	}

	live_section("files vigie creates are 0600");
	snprintf(path, sizeof(path), "%s/fresh.ndjson", dir);
	stc = vigie_exec(NULL, NULL, 10000, "run", "--duration", "1", "-o", path, "--record",
			 "/dev/null", NULL);
	ASSERT_EQ_INT(stc, 0, "a new output file: exit status");
	memset(&st, 0, sizeof(st));
	stc = stat(path, &st);
	CHECK(stc == 0 && (st.st_mode & 07777) == 0600 && st.st_uid == 0,
	      "output created 0600, owned by root (mode %o)", (unsigned)(st.st_mode & 07777));
	snprintf(path, sizeof(path), "%s/fresh.trace", dir);
	stc = vigie_exec(NULL, NULL, 10000, "run", "--duration", "1", "-o", "/dev/null", "--record",
			 path, NULL);
	ASSERT_EQ_INT(stc, 0, "a new trace: exit status");
	memset(&st, 0, sizeof(st));
	stc = stat(path, &st);
	CHECK(stc == 0 && (st.st_mode & 07777) == 0600, "trace created 0600 (mode %o)",
	      (unsigned)(st.st_mode & 07777));
	return live_finish();
}
