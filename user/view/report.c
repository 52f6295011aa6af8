// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report [-c CONFIG] [--state FILE] [-q] -o FILE.html TRACE...
 *
 * Replays the traces as vigie replay does (the same engine: configuration,
 * state, detection, exit codes) and writes one self-contained HTML page of
 * what happened (docs/report.md). The page is written to a temporary file
 * beside FILE (mode 0600, as traces and events), then renamed: FILE is
 * either the whole report or untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/log.h"
#include "base/stdfds.h"
#include "base/stopsig.h"
#include "replay/replay.h"
#include "view/report.h"
#include "view/report_data.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigie report [-c CONFIG] [--state FILE] [-q] -o FILE.html TRACE...\n"
		"  -c, --config FILE   sensor config (its \"detection\" section is used)\n"
		"      --state FILE    load learned baselines from FILE if it exists,\n"
		"                      save them back at the end (as vigie replay)\n"
		"  -o, --output FILE   the HTML report to write (required; - for standard output)\n"
		"  -q, --quiet         no progress, no per-line warnings\n"
		"TRACE is a vigie trace (plain or gzip, \"-\" for stdin); several are\n"
		"read in order as one stream. The report is one HTML file with no script\n"
		"and nothing to fetch; the same input gives the same file.\n"
		"exit: 0 ok, 1 report/state write error, 2 bad option/config/state,\n"
		"      3 bad trace (the report covers what was read), 4 done but bad\n"
		"      lines were skipped\n");
}

/* A temporary file beside path (same directory, so that rename is atomic). */
static FILE *open_temp(const char *path, char **tmp)
{
	FILE *f = NULL;
	int fd = -1;

	if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0) {
		*tmp = NULL;
		return NULL;
	}
	fd = mkstemp(*tmp);
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

/* The page into what path names when it is a pipe or a character device
 * (a terminal, /dev/null), or into standard output for "-": written to,
 * never replaced by a file. Made in memory first, so that its size is
 * known. */
static int write_stream(struct rpt_data *r, const char *path, size_t *size)
{
	char *page = NULL;
	size_t len = 0, done = 0;
	FILE *m = open_memstream(&page, &len);
	int err = 0, fd = -1;
	struct stat st;
	ssize_t n;

	if (!m || rpt_write_page(r, m))
		err = errno ? errno : ENOMEM;
	if (m && fclose(m) && !err)
		err = errno ? errno : ENOMEM;
	if (!err) {
		fd = strcmp(path, "-") ? open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) :
					 STDOUT_FILENO;
		if (fd < 0)
			err = errno;
		else if (fd != STDOUT_FILENO &&
			 (fstat(fd, &st) || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))))
			err = EINVAL; /* replaced since it was looked at */
	}
	while (!err && done < len) {
		n = write(fd, page + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? errno : EIO;
		else
			done += (size_t)n;
	}
	if (fd >= 0 && fd != STDOUT_FILENO && close(fd) && !err)
		err = errno;
	free(page);
	if (err) {
		log_error("cannot write the report '%s': %s", path, strerror(err));
		return -1;
	}
	*size = len;
	return 0;
}

/* What -o names, checked before the replay rather than after it: "-"
 * (standard output), nothing yet, a regular file (replaced), a pipe or a
 * character device (written to). A symbolic link is refused, as the
 * daemon's files are: root following a link planted in a shared
 * directory would write where the link says. 0, or -1 (logged). */
static int check_output(const char *path)
{
	struct stat st;
	const char *why = NULL;

	if (!strcmp(path, "-") && stdfds_was_closed(STDOUT_FILENO)) {
		log_error("cannot write the report to standard output: it is closed");
		return -1;
	}
	if (!strcmp(path, "-") || lstat(path, &st))
		return 0;
	if (S_ISLNK(st.st_mode))
		why = "a symbolic link: refused (give the real path, or - for standard output)";
	else if (S_ISDIR(st.st_mode))
		why = strerror(EISDIR);
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		why = "not a regular file, a pipe or a character device";
	if (!why)
		return 0;
	log_error("cannot write the report '%s': %s", path, why);
	return -1;
}

/* The page into a temporary file beside path, then renamed over it: 0, or
 * -1 (logged; path left as it was, the temporary file removed). */
static int write_temp_and_rename(struct rpt_data *r, const char *path, size_t *size)
{
	char *tmp = NULL;
	FILE *f;
	int err = 0;
	long end;

	f = open_temp(path, &tmp);
	if (!f) {
		log_error("cannot create the report beside '%s': %s", path, strerror(errno));
		return -1;
	}
	if (rpt_write_page(r, f))
		err = errno ? errno : EIO;
	fflush(f);
	if (!err && ferror(f))
		err = errno ? errno : EIO;
	end = ftell(f);
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		log_error("cannot write the report '%s': %s", path, strerror(err));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	*size = end > 0 ? (size_t)end : 0;
	return 0;
}

/* The page into path: 0, or -1 (logged; path left as it was). A regular
 * file (or none yet) is replaced atomically, through a temporary file
 * beside it; a pipe, a character device or "-" is written to. */
static int write_report(struct rpt_data *r, const char *path, size_t *size)
{
	sigset_t old;
	struct stat st;
	bool held;
	int ret;

	if (check_output(path))
		return -1;
	if (!strcmp(path, "-") || (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)))
		return write_stream(r, path, size);
	/* Ctrl-C or SIGTERM while the temporary file exists takes effect once
	 * it is renamed or removed: never a FILE.tmp.* left beside FILE */
	held = stop_signals_hold(&old);
	ret = write_temp_and_rename(r, path, size);
	if (held)
		stop_signals_release(&old);
	return ret;
}

int report_main(int argc, char **argv)
{
	struct replay_args a = { 0 };
	struct replay_opts o = { .name = "report" };
	struct replay_hooks h;
	struct rpt_data *r = NULL;
	size_t size = 0;
	int rc = replay_parse_args(&a, argc, argv, "report", true, usage), code;

	if (rc <= 0)
		return rc == 0 ? REPLAY_OK : REPLAY_USAGE;
	if (check_output(a.output_path))
		return REPLAY_USAGE;
	r = malloc(sizeof(*r));
	if (!r) {
		log_error("out of memory");
		return REPLAY_RUNTIME;
	}
	rpt_init(r);
	r->config_path = a.config_path;
	r->state_path = a.state_path;
	rpt_hooks(r, &h);
	o.config_path = a.config_path;
	o.state_path = a.state_path;
	o.output_path = a.output_path;
	o.quiet = a.quiet;
	o.traces = argv + optind;
	o.n_traces = argc - optind;
	code = replay_run(&o, &h, &r->res);
	r->replay_code = code;
	if (r->res.started) {
		if (write_report(r, a.output_path, &size))
			code = REPLAY_RUNTIME;
		else
			fprintf(stderr, "report: %s written (%zu bytes)\n", a.output_path, size);
	}
	rpt_free(r);
	free(r);
	return code;
}
