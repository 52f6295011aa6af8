// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: db_file, exact, for every read path the kernel side covers
 * (read, pread64, readv, preadv, preadv2, sendfile64, splice,
 * copy_file_range), nested directories, a second data directory, files
 * outside (including a sibling whose name starts like the data directory),
 * another user, the reader flag, io_uring reads, a file system mounted
 * inside the data directory, and hard links outside it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/live.h"

static char *d1, *d2, *deep_dir, *outside_dir, *sibling_dir, *wal_dir;
static char *f_base, *f_deep, *f_d2, *f_outside, *f_sibling, *f_wal, *f_hl, *f_link;
static bool wal_mounted;

static void unmount_wal(void)
{
	if (wal_mounted && live_sh("umount '%s'", wal_dir) == 0)
		wal_mounted = false;
}

#define FILE_SIZE (4ull * 1024 * 1024 + 1000)
#define K_READ (2ull * 1024 * 1024 + 11) /* read exactly this much */

static void make_tree(void)
{
	d1 = live_path("pgdata");
	d2 = live_path("second data dir");
	deep_dir = live_path("pgdata/base/16384/sub");
	outside_dir = live_path("outside");
	sibling_dir = live_path("pgdata2");
	live_sh("mkdir -p '%s' '%s' '%s' '%s'", d2, deep_dir, outside_dir, sibling_dir);
	f_base = live_path("pgdata/base.bin");
	f_deep = live_path("pgdata/base/16384/sub/deep.bin");
	f_d2 = live_path("second data dir/other.bin");
	f_outside = live_path("outside/x.bin");
	f_sibling = live_path("pgdata2/y.bin");
	/* pg_wal on its own file system, as many installations have it */
	wal_dir = live_path("pgdata/pg_wal");
	live_sh("mkdir -p '%s'", wal_dir);
	live_on_cleanup(unmount_wal);
	wal_mounted = live_sh("mount -t tmpfs -o size=16m vigie-test '%s'", wal_dir) == 0;
	CHECK(wal_mounted, "tmpfs mounted on pgdata/pg_wal");
	f_wal = live_path("pgdata/pg_wal/000000010000000000000001");
	/* a data file with a hard link outside the data directory */
	f_hl = live_path("pgdata/linked.bin");
	f_link = live_path("outside/linked-copy.bin");
	CHECK(!live_make_file(f_hl, FILE_SIZE) && link(f_hl, f_link) == 0,
	      "hard link outside the data directory");
	CHECK(!live_make_file(f_wal, FILE_SIZE), "file under the mounted pg_wal");
	CHECK(!live_make_file(f_base, FILE_SIZE) && !live_make_file(f_deep, FILE_SIZE) &&
		      !live_make_file(f_d2, FILE_SIZE) && !live_make_file(f_outside, FILE_SIZE) &&
		      !live_make_file(f_sibling, FILE_SIZE),
	      "test files created");
}

struct rd {
	const char *what;
	const char *method;
	const char *path;
	unsigned long long bytes;
	const char *chunk;
	const char *dir; /* expected file.directory, NULL: nothing counted */
	bool as_nobody;
	pid_t pid;
	long long got;
};

static void do_read(struct rd *r)
{
	struct spawn_opts nobody = { .set_user = true, .uid = 65534, .gid = 65534 };
	char b[32];
	int st;

	snprintf(b, sizeof(b), "%llu", r->bytes);
	st = tg_run(&r->pid, &r->got, r->as_nobody ? &nobody : NULL, "-m", r->method, "readfile",
		    r->path, b, r->chunk, NULL);
	CHECK(st == 0 && r->got == (long long)r->bytes, "%s: trafficgen read %lld (exit %d)",
	      r->what, r->got, st);
}

static void run_mode(const char *mode)
{
	struct rd reads[] = {
		{ "read 4 KiB chunks", "read", f_base, K_READ, "4096", d1, false, 0, 0 },
		{ "pread64", "pread", f_base, K_READ - 1, "65536", d1, false, 0, 0 },
		{ "readv", "readv", f_base, K_READ - 2, "65536", d1, false, 0, 0 },
		{ "preadv", "preadv", f_base, K_READ - 3, "65536", d1, false, 0, 0 },
		{ "preadv2", "preadv2", f_base, K_READ - 4, "65536", d1, false, 0, 0 },
		{ "sendfile to /dev/null", "sendfile", f_base, K_READ - 5, "1000000", d1, false, 0, 0 },
		{ "splice to a pipe", "splice", f_base, K_READ - 6, "65536", d1, false, 0, 0 },
		{ "copy_file_range", "copy", f_base, K_READ - 7, "1000000", d1, false, 0, 0 },
		{ "nested subdirectory", "read", f_deep, K_READ + 1, "65536", d1, false, 0, 0 },
		{ "second data directory", "read", f_d2, K_READ + 2, "65536", d2, false, 0, 0 },
		{ "as nobody", "read", f_base, K_READ + 3, "65536", d1, true, 0, 0 },
		{ "outside", "read", f_outside, K_READ, "65536", NULL, false, 0, 0 },
		{ "sibling pgdata2", "read", f_sibling, K_READ, "65536", NULL, false, 0, 0 },
		/* io_uring reads (completions); pg_wal on its own file system
		 * (the walk crosses mount points); a hard link outside read
		 * first, then the data file (inodes marked at start) */
		{ "io_uring IORING_OP_READ", "uring", f_base, K_READ - 8, "65536", d1, false, 0, 0 },
		{ "file system mounted on pgdata/pg_wal", "read", f_wal, K_READ + 4, "65536", d1,
		  false, 0, 0 },
		{ "hard link outside, read first", "read", f_link, K_READ + 5, "65536", d1, false, 0,
		  0 },
		{ "data file read after its hard link", "read", f_hl, K_READ + 6, "65536", d1, false,
		  0, 0 },
	};
	const size_t n = sizeof(reads) / sizeof(reads[0]);
	char cfg[1024], msg[256];
	struct vigie v;
	struct events ev;
	json_t *start;

	live_section("db_file, --probes %s", mode);
	snprintf(cfg, sizeof(cfg),
		 "{\"databases\": {\"data_directories\": [\"%s\", \"%s\"]}}\n", d1, d2);
	if (vigie_start(&v, cfg, "--probes", mode, "--tick", "0.2", NULL)) {
		CHECK(0, "vigie started with data directories");
		return;
	}
	for (size_t i = 0; i < n; i++)
		do_read(&reads[i]);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return;
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");
	start = events_find(&ev, "sensor-start");
	ASSERT_EQ_INT(start ? jint(start, "vigie.data_directories_watched", -1) : -1, 2,
		      "sensor-start: 2 data directories watched");
	for (size_t i = 0; i < n; i++) {
		struct rd *r = &reads[i];
		uint64_t ops;
		size_t nev;
		uint64_t got = usage_sum(&ev, r->pid, "db_file", NULL, &ops, &nev);
		json_t *e = usage_first(&ev, r->pid, "db_file");

		if (!r->dir) {
			usage_sum(&ev, r->pid, NULL, NULL, NULL, &nev);
			snprintf(msg, sizeof(msg), "[%s] %s: no usage event for pid %d", mode, r->what,
				 r->pid);
			ASSERT_EQ_U64(nev, 0, msg);
			continue;
		}
		snprintf(msg, sizeof(msg), "[%s] %s: db_file of pid %d", mode, r->what, r->pid);
		ASSERT_EQ_U64(got, r->bytes, msg);
		if (!e)
			continue; /* the rest would only repeat the failure */
		snprintf(msg, sizeof(msg), "[%s] %s: file.directory", mode, r->what);
		ASSERT_EQ_STR(e ? jstr(e, "file.directory") : NULL, r->dir, msg);
		snprintf(msg, sizeof(msg), "[%s] %s: vigie.reader_is_db_server false", mode, r->what);
		ASSERT_TRUE(e && json_is_false(jpath(e, "vigie.reader_is_db_server")), msg);
		snprintf(msg, sizeof(msg), "[%s] %s: user.id", mode, r->what);
		ASSERT_EQ_STR(e ? jstr(e, "user.id") : NULL, r->as_nobody ? "65534" : "0", msg);
		if (r->as_nobody) {
			snprintf(msg, sizeof(msg), "[%s] %s: user.name", mode, r->what);
			ASSERT_EQ_STR(e ? jstr(e, "user.name") : NULL, "nobody", msg);
		}
		if (!strcmp(r->method, "read") && !strcmp(r->chunk, "4096")) {
			snprintf(msg, sizeof(msg), "[%s] %s: vigie.ops = read() calls", mode, r->what);
			ASSERT_EQ_U64(ops, (r->bytes + 4095) / 4096, msg);
		}
		snprintf(msg, sizeof(msg), "[%s] %s: nothing but db_file", mode, r->what);
		ASSERT_EQ_U64(usage_bytes(&ev, r->pid, NULL, NULL), r->bytes, msg);
	}
	events_free(&ev);
}

static char trusted_dir[] = "/var/lib/vigie-live-XXXXXX", trusted_exe[64];
static bool trusted_made;

static void remove_trusted_dir(void)
{
	if (trusted_made)
		live_sh("rm -rf '%s'", trusted_dir);
}

/* The reader flag: server_executables names the database server. */
static void run_server_flag(void)
{
	char cfg[1024];
	struct vigie v;
	struct events ev;
	pid_t pid = 0, upid = 0;
	long long got = -1;
	json_t *e;

	live_section("db_file, reader is the database server");
	/* a server executable is recognised only where root alone could have
	 * put it (base/trust.h): the program installed in a root-owned
	 * directory outside the world-writable /tmp the tree may be in */
	trusted_made = mkdtemp(trusted_dir) != NULL;
	live_on_cleanup(remove_trusted_dir);
	if (!trusted_made ||
	    live_sh("cp '%s' '%s/trafficgen'", live_trafficgen_bin(), trusted_dir)) {
		CHECK(0, "the program installed under /var/lib");
		return;
	}
	snprintf(trusted_exe, sizeof(trusted_exe), "%s/trafficgen", trusted_dir);
	snprintf(cfg, sizeof(cfg),
		 "{\"databases\": {\"data_directories\": [\"%s\"],\n"
		 "  \"server_executables\": [\"trafficgen\"]}}\n", d1);
	if (vigie_start(&v, cfg, "--tick", "0.2", NULL)) {
		CHECK(0, "vigie started");
		return;
	}
	{
		struct spawn_opts o = { .exe = trusted_exe };

		ASSERT_EQ_INT(tg_run(&pid, &got, &o, "readfile", f_base, "123457", NULL), 0,
			      "read as a 'server executable'");
	}
	/* the same program copied by a user into a directory of their own:
	 * same name, but a path anyone could have written (base/trust.h) */
	{
		char dir[600], copy[700];
		struct spawn_opts o = { 0 };

		snprintf(dir, sizeof(dir), "%s/userbin", live_tmpdir());
		snprintf(copy, sizeof(copy), "%s/trafficgen", dir);
		CHECK(live_sh("mkdir -p '%s' && cp '%s' '%s' && chown -R nobody '%s'", dir,
			      live_trafficgen_bin(), copy, dir) == 0, "a user's copy of the program");
		o.exe = copy;
		ASSERT_EQ_INT(tg_run(&upid, &got, &o, "readfile", f_base, "22222", NULL), 0,
			      "read by the user's copy");
	}
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return;
	ASSERT_EQ_U64(usage_bytes(&ev, pid, "db_file", NULL), 123457, "db_file of the server");
	e = usage_first(&ev, pid, "db_file");
	ASSERT_TRUE(e && json_is_true(jpath(e, "vigie.reader_is_db_server")),
		    "vigie.reader_is_db_server true for a configured server executable");
	ASSERT_EQ_U64(usage_bytes(&ev, upid, "db_file", NULL), 22222, "db_file of the user's copy");
	e = usage_first(&ev, upid, "db_file");
	ASSERT_TRUE(e && json_is_false(jpath(e, "vigie.reader_is_db_server")),
		    "vigie.reader_is_db_server false for a user's copy under the same name");
	events_free(&ev);
}

int main(void)
{
	/* leftover mounts of a run killed hard (before live_init removes its
	 * directories; fails quietly when not root) */
	live_sh("grep -o ' /tmp/vigie-live-dbfile-[^ ]*/pgdata/pg_wal ' /proc/mounts | "
		"xargs -r -n1 umount");
	live_init("dbfile");
	make_tree();
	run_mode("sock");
	run_mode("syscalls");
	run_server_flag();
	return live_finish();
}
