// SPDX-License-Identifier: GPL-2.0
/*
 * Live: the output under faults (issue 16, items 1-3). A disk that fills
 * (a 16 KB tmpfs) then frees space: no line is ever cut in the file (each
 * parses), the bytes in the file are exactly those the daemon says it
 * wrote, and what could not be written is counted in the heartbeat and
 * sensor-stop (vigie.stats.output.events_lost, bytes_lost). The output's
 * directory removed while running: the daemon notices (no SIGHUP needed),
 * counts what could not reach it, and writes to the file again once the
 * directory is back, saying so once.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/live.h"

static char mnt[512];

static void unmount_tmpfs(void)
{
	if (mnt[0])
		umount2(mnt, MNT_DETACH);
}

static void full_disk(void)
{
	char out[600], filler[600];
	struct vigie v;
	struct events ev;
	json_t *stop;
	int fd;

	live_section("a disk that fills, then frees space");
	snprintf(mnt, sizeof(mnt), "%s/small", live_tmpdir());
	mkdir(mnt, 0700);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=16k")) {
		CHECK(false, "a 16 KB tmpfs mounted");
		mnt[0] = '\0';
		return;
	}
	live_on_cleanup(unmount_tmpfs);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0) {
		static char zeros[8000];

		CHECK(write(fd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros), "8,000 bytes of filler (2 pages of the 4; the lock file takes one)");
		close(fd);
	}
	snprintf(out, sizeof(out), "%s/events.json", mnt);
	if (vigie_start_at(&v, out, NULL, "--heartbeat", "0.1", "--tick", "0.1", NULL)) {
		CHECK(false, "vigie started");
		return;
	}
	sleep(2); /* heartbeats of ~1.3 KB every 0.1 s: the 4 KB left fill at once */
	unlink(filler); /* 8 KB again, for the last heartbeats and sensor-stop */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, out)) {
		CHECK(false, "events loaded");
		return;
	}
	ASSERT_EQ_U64(ev.bad_lines, 0, "lines that are not whole JSON events");
	stop = events_find_last(&ev, "sensor-stop");
	CHECK(stop != NULL, "sensor-stop written once space was back");
	CHECK(jint(stop, "vigie.stats.output.events_lost", 0) > 0,
	      "sensor-stop: events lost to the full disk counted (%lld)",
	      jint(stop, "vigie.stats.output.events_lost", 0));
	CHECK(jint(stop, "vigie.stats.output.bytes_lost", 0) >=
		      500 * jint(stop, "vigie.stats.output.events_lost", 0),
	      "sensor-stop: their bytes counted (%lld)", jint(stop, "vigie.stats.output.bytes_lost", 0));
	ASSERT_EQ_INT(ev.n - 1, jint(stop, "vigie.stats.output.events_written", -1),
		      "events in the file (before sensor-stop) = events_written");
	{
		char *all = live_read_file(out, NULL);
		const char *last = all ? strstr(all, "\"sensor-stop\"") : NULL;

		/* the bytes before sensor-stop's line are exactly those it says it
		 * wrote: no cut line was left behind */
		while (last && last > all && last[-1] != '\n')
			last--;
		ASSERT_EQ_INT(last ? (long long)(last - all) : -1,
			      jint(stop, "vigie.stats.output.bytes_written", -2),
			      "bytes in the file before sensor-stop = bytes_written");
		free(all);
	}
	events_free(&ev);
	umount2(mnt, MNT_DETACH);
	mnt[0] = '\0';
}

static void directory_removed(void)
{
	char dir[600], out[700], cmd[800], *err;
	struct vigie v;
	struct events ev;
	json_t *stop;

	live_section("the output's directory removed, then made again");
	snprintf(dir, sizeof(dir), "%s/logs", live_tmpdir());
	mkdir(dir, 0700);
	snprintf(out, sizeof(out), "%s/events.json", dir);
	if (vigie_start_at(&v, out, NULL, "--heartbeat", "0.2", "--tick", "0.1", NULL)) {
		CHECK(false, "vigie started");
		return;
	}
	usleep(500 * 1000);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "directory removed");
	sleep(2);
	mkdir(dir, 0700);
	sleep(2);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, out)) {
		CHECK(false, "events in the new file");
		return;
	}
	ASSERT_EQ_U64(ev.bad_lines, 0, "new file: lines that are not whole JSON events");
	stop = events_find_last(&ev, "sensor-stop");
	CHECK(stop != NULL, "sensor-stop in the new file (no SIGHUP)");
	CHECK(jint(stop, "vigie.stats.output.events_lost", 0) >= 5,
	      "events that could not reach the removed directory counted (%lld; heartbeats every "
	      "0.2 s for 2 s)", jint(stop, "vigie.stats.output.events_lost", 0));
	err = live_read_file(v.err_path, NULL);
	ASSERT_CONTAINS(err, "is gone and cannot be created again", "said once when it went");
	ASSERT_CONTAINS(err, "is back", "said once when it came back");
	{
		int gone = 0;

		for (const char *p = err; p && (p = strstr(p, "is gone")); p++)
			gone++;
		ASSERT_EQ_INT(gone, 1, "the loss said once, not per event");
	}
	free(err);
	events_free(&ev);
}

int main(void)
{
	live_init("outfaults");
	full_disk();
	directory_removed();
	return live_finish();
}
