// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/log.h"
#include "base/stdfds.h"
#include "base/safefile.h"
#include "output/output.h"

struct output {
	char *path; /* NULL: stdout */
	int fd;
	int last_errno;      /* last write error, 0 after a success */
	uint64_t lost_before; /* st.lost when that error began */
	bool detached;       /* the open file is no longer at path */
	bool torn;           /* a line was cut and could not be removed (a pipe):
			      * the next event starts on a new line */
	struct output_stats st;
	output_observer_fn observer;
	void *observer_ctx;
	output_tee_fn tee;
	void *tee_ctx;
	long long gid;       /* sensor.output_group, -1: none */
	uint64_t max_bytes;  /* sensor.output_max_bytes, 0: no rotation */
	int keep;            /* rotated files kept: FILE.1 (newest) .. FILE.keep */
	uint64_t size;       /* of the open file */
};

static uint64_t size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

/* The group's mode and owner on fd (ours: no CAP_CHOWN or CAP_FOWNER
 * needed, the process being a member of the group). */
static int apply_group(const struct output *out, int fd)
{
	if (out->gid < 0)
		return 0;
	if (fchown(fd, (uid_t)-1, (gid_t)out->gid) || fchmod(fd, 0640)) {
		log_error("sensor.output_group: cannot make '%s' readable by group %lld: %s",
			  out->path, out->gid, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_file(const char *path)
{
	return safe_open_write(path, O_WRONLY | O_CREAT | O_APPEND, "output file");
}

struct output *output_open(const char *path)
{
	struct output *out = calloc(1, sizeof(*out));

	if (!out)
		return NULL;
	out->fd = -1;
	out->gid = -1;
	if (!path || strcmp(path, "-") == 0) {
		if (stdfds_was_closed(STDOUT_FILENO)) {
			log_error("standard output is closed: the events would be lost (give -o FILE)");
			free(out);
			return NULL;
		}
		out->fd = STDOUT_FILENO;
		return out;
	}
	out->path = strdup(path);
	if (!out->path)
		goto fail;
	out->fd = open_file(path);
	if (out->fd < 0)
		goto fail;
	out->size = size_of(out->fd);
	return out;
fail:
	free(out->path);
	free(out);
	return NULL;
}

/* *done: bytes written before an error. */
static int write_all(int fd, const char *buf, size_t len, size_t *done)
{
	*done = 0;
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		*done += (size_t)n;
	}
	return 0;
}

/* A line cut by an error (disk full): removed from a file, so that a SIEM
 * never reads half an event glued to the next; on a pipe or terminal it
 * cannot be, and the next event starts on a new line instead. */
static void untear(struct output *out, size_t done)
{
	off_t end;

	if (!done)
		return;
	end = lseek(out->fd, 0, SEEK_END);
	if (out->path && end >= (off_t)done && ftruncate(out->fd, end - (off_t)done) == 0)
		return;
	out->torn = true;
}

void output_set_rotation(struct output *out, uint64_t max_bytes, int keep)
{
	struct stat st;

	if (!out || !out->path)
		return;
	out->keep = keep < 1 ? 1 : keep;
	if (max_bytes && (fstat(out->fd, &st) || !S_ISREG(st.st_mode))) {
		/* a pipe or a device (-o /dev/null) is never renamed away */
		log_warn("output '%s' is not a regular file: sensor.output_max_bytes does not "
			 "apply (no rotation)", out->path);
		max_bytes = 0;
	}
	out->max_bytes = max_bytes;
}

/* FILE -> FILE.1 -> ... -> FILE.keep (the oldest removed), a new FILE. On
 * a failure the open file goes on growing and rotation stops (said). */
static void rotate(struct output *out)
{
	size_t n = strlen(out->path) + 16;
	char *from = malloc(n), *to = malloc(n), why[96];
	int fd;

	if (!from || !to)
		goto out;
	if (safe_replaceable(out->path, why, sizeof(why))) {
		/* something else was put at the path since: not ours to move */
		log_error("output rotation: '%s' is now %s; rotation stops", out->path, why);
		out->max_bytes = 0;
		goto out;
	}
	for (int i = out->keep - 1; i >= 1; i--) {
		snprintf(from, n, "%s.%d", out->path, i);
		snprintf(to, n, "%s.%d", out->path, i + 1);
		if (rename(from, to) && errno != ENOENT)
			log_warn("output rotation: cannot rename '%s': %s", from, strerror(errno));
	}
	snprintf(to, n, "%s.1", out->path);
	if (rename(out->path, to)) {
		log_error("output rotation: cannot rename '%s' to '%s': %s; rotation stops, "
			  "the file grows on", out->path, to, strerror(errno));
		out->max_bytes = 0;
		goto out;
	}
	fd = open_file(out->path);
	if (fd < 0) {
		/* the old file, now FILE.1, is still open: write there */
		log_error("output rotation: cannot create '%s' again: %s; rotation stops, "
			  "writing on to '%s'", out->path, strerror(errno), to);
		out->max_bytes = 0;
		goto out;
	}
	apply_group(out, fd);
	close(out->fd);
	out->fd = fd;
	out->size = 0;
	log_info("output file '%s' rotated at %llu bytes", out->path,
		 (unsigned long long)out->max_bytes);
out:
	free(from);
	free(to);
}

static int write_event(struct output *out, json_t *event)
{
	char *line;
	size_t len;
	int err = 0;

	if (!out || !event)
		return -EINVAL;
	line = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line) {
		out->st.lost++;
		return -ENOMEM;
	}
	len = strlen(line);
	if (out->tee)
		out->tee(line, len, event, out->tee_ctx);
	/* One write per line (plus newline) keeps lines whole for readers. */
	{
		char *with_nl = realloc(line, len + 2);

		if (!with_nl) {
			free(line);
			out->st.lost++;
			return -ENOMEM;
		}
		line = with_nl;
		line[len] = '\n';
		line[len + 1] = '\0';
	}
	if (out->detached) {
		/* the file is gone from its path: what we would write there
		 * reaches nobody (output_check retries) */
		err = -ENOENT;
	} else {
		size_t done = 0;

		if (out->max_bytes && out->size > 0 && out->size + len + 1 > out->max_bytes)
			rotate(out);
		/* after a line cut on a pipe, its end first (else this event
		 * is lost too: the cut line still waits for it) */
		if (!out->torn || !(err = write_all(out->fd, "\n", 1, &done))) {
			out->torn = false;
			err = write_all(out->fd, line, len + 1, &done);
			if (err)
				untear(out, done);
		}
	}
	free(line);
	/* One message when writing starts failing (disk full...), one when it
	 * works again, not one per event. */
	if (err) {
		if (!out->last_errno)
			out->lost_before = out->st.lost;
		if (out->last_errno != -err)
			log_error("cannot write events to %s: %s", out->path ? out->path : "stdout",
				  strerror(-err));
		out->last_errno = -err;
		out->st.lost++;
		out->st.lost_bytes += len + 1;
	} else {
		if (out->last_errno)
			log_warn("writing events works again; %llu events were lost",
				 (unsigned long long)(out->st.lost - out->lost_before));
		out->last_errno = 0;
		out->size += len + 1;
		out->st.written++;
		out->st.written_bytes += len + 1;
	}
	return err;
}

int output_write(struct output *out, json_t *event)
{
	int err = write_event(out, event);

	if (out && event && out->observer)
		out->observer(event, err, out->observer_ctx);
	return err;
}

void output_set_tee(struct output *out, output_tee_fn fn, void *ctx)
{
	if (!out)
		return;
	out->tee = fn;
	out->tee_ctx = ctx;
}

void output_set_observer(struct output *out, output_observer_fn fn, void *ctx)
{
	if (!out)
		return;
	out->observer = fn;
	out->observer_ctx = ctx;
}

/* Is the open file still the one at its path? */
static bool at_path(const struct output *out)
{
	struct stat a, b;

	return fstat(out->fd, &a) == 0 && stat(out->path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int output_reopen(struct output *out)
{
	int fd;

	if (!out || !out->path)
		return 0;
	fd = safe_open_write(out->path, O_WRONLY | O_CREAT | O_APPEND, "output file");
	if (fd < 0) {
		int err = -errno;

		if (!out->detached && !at_path(out)) {
			out->detached = true;
			log_error("output file '%s' is gone and cannot be created again (%s): events "
				  "are counted as lost until it can", out->path, strerror(-err));
		} else if (!out->detached) {
			log_error("cannot reopen output file '%s': %s; still writing to the open one",
				  out->path, strerror(-err));
		}
		return -1;
	}
	apply_group(out, fd);
	close(out->fd);
	out->fd = fd;
	out->size = size_of(fd);
	out->torn = false;
	if (out->detached) {
		out->detached = false;
		log_warn("output file '%s' is back; %llu events in all could not be written",
			 out->path, (unsigned long long)out->st.lost);
	} else {
		log_info("reopened output file '%s'", out->path);
	}
	return 0;
}

int output_check(struct output *out)
{
	if (!out || !out->path || (!out->detached && at_path(out)))
		return 0;
	if (!out->detached)
		log_warn("output file '%s' was removed or replaced: opening it again", out->path);
	return output_reopen(out);
}

static int join_group(gid_t gid)
{
	gid_t groups[NGROUPS_MAX + 1];
	int n = getgroups(NGROUPS_MAX, groups);

	if (n < 0)
		return -1;
	if (getegid() == gid)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 0;
	groups[n++] = gid;
	return setgroups((size_t)n, groups);
}

int output_set_group(struct output *out, uint32_t gid, const char *name)
{
	char *copy = NULL;
	const char *dir;
	struct stat st;
	int err = -1;

	if (!out || !out->path)
		return 0;
	if (join_group((gid_t)gid)) {
		log_error("sensor.output_group: cannot join group '%s': %s (vigie needs CAP_SETGID "
			  "at its start)", name, strerror(errno));
		goto out;
	}
	out->gid = gid;
	if (apply_group(out, out->fd))
		goto out;
	copy = strdup(out->path);
	if (!copy)
		goto out;
	dir = dirname(copy);
	if (stat(dir, &st)) {
		log_error("sensor.output_group: cannot stat the directory of '%s': %s", out->path,
			  strerror(errno));
		goto out;
	}
	/* a directory others can traverse is left alone (/var/log), as is
	 * one that is not ours */
	if (!(st.st_mode & S_IXOTH) && st.st_uid == geteuid() &&
	    ((st.st_gid != gid && chown(dir, (uid_t)-1, (gid_t)gid)) ||
	     chmod(dir, (st.st_mode & 07707) | S_IRGRP | S_IXGRP))) {
		log_error("sensor.output_group: cannot open the directory '%s' to group '%s': %s",
			  dir, name, strerror(errno));
		goto out;
	}
	err = 0;
out:
	free(copy);
	return err;
}

void output_get_stats(const struct output *out, struct output_stats *st)
{
	if (out)
		*st = out->st;
	else
		memset(st, 0, sizeof(*st));
}

void output_close(struct output *out)
{
	if (!out)
		return;
	/* the heartbeats that carry the count may have been lost too */
	if (out->st.lost)
		log_error("%llu events (%llu bytes) could not be written to %s in this run",
			  (unsigned long long)out->st.lost, (unsigned long long)out->st.lost_bytes,
			  out->path ? out->path : "standard output");
	if (out->path && out->fd >= 0)
		close(out->fd);
	free(out->path);
	free(out);
}
