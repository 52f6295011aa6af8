// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/log.h"
#include "output/output.h"

struct output {
	char *path; /* NULL: stdout */
	int fd;
	int last_errno;      /* last write error, 0 after a success */
	unsigned long lost;  /* events not written since that error began */
	output_observer_fn observer;
	void *observer_ctx;
};

static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		log_error("cannot open output file '%s': %s", path, strerror(errno));
	return fd;
}

struct output *output_open(const char *path)
{
	struct output *out = calloc(1, sizeof(*out));

	if (!out)
		return NULL;
	out->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		out->fd = STDOUT_FILENO;
		return out;
	}
	out->path = strdup(path);
	if (!out->path)
		goto fail;
	out->fd = open_file(path);
	if (out->fd < 0)
		goto fail;
	return out;
fail:
	free(out->path);
	free(out);
	return NULL;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_event(struct output *out, json_t *event)
{
	char *line;
	size_t len;
	int err;

	if (!out || !event)
		return -EINVAL;
	line = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len] = '\0';
	/* One write per line (plus newline) keeps lines whole for readers. */
	{
		char *with_nl = realloc(line, len + 2);

		if (!with_nl) {
			free(line);
			return -ENOMEM;
		}
		line = with_nl;
		line[len] = '\n';
		line[len + 1] = '\0';
	}
	err = write_all(out->fd, line, len + 1);
	free(line);
	/* One message when writing starts failing (disk full...), one when it
	 * works again, not one per event. */
	if (err) {
		if (out->last_errno != -err)
			log_error("cannot write events to %s: %s", out->path ? out->path : "stdout",
				  strerror(-err));
		out->last_errno = -err;
		out->lost++;
	} else if (out->last_errno) {
		log_warn("writing events works again; %lu events were lost", out->lost);
		out->last_errno = 0;
		out->lost = 0;
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

void output_set_observer(struct output *out, output_observer_fn fn, void *ctx)
{
	if (!out)
		return;
	out->observer = fn;
	out->observer_ctx = ctx;
}

int output_reopen(struct output *out)
{
	int fd;

	if (!out || !out->path)
		return 0;
	fd = open_file(out->path);
	if (fd < 0)
		return -1;
	close(out->fd);
	out->fd = fd;
	log_info("reopened output file '%s'", out->path);
	return 0;
}

void output_close(struct output *out)
{
	if (!out)
		return;
	if (out->path && out->fd >= 0)
		close(out->fd);
	free(out->path);
	free(out);
}
