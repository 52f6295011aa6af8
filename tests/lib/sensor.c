// SPDX-License-Identifier: GPL-2.0
/* The sensor under test (see live.h): vigie run started as a child and
 * stopped, its output waited on, and vigie run to completion (vigie_exec). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/live.h"
#include "lib/live_int.h"

static void dump_file(const char *what, const char *path)
{
	char *s = live_read_file(path, NULL);

	if (s && *s)
		printf("  ..    %s (%s):\n%s%s", what, path, s, s[strlen(s) - 1] == '\n' ? "" : "\n");
	free(s);
}

bool vigie_wait_action(const struct vigie *v, const char *action, int timeout_ms)
{
	long long deadline = live_now_ms() + timeout_ms;
	char needle[128];

	snprintf(needle, sizeof(needle), "\"action\":\"%s\"", action);
	for (;;) {
		/* asked before the read: a sensor that wrote the action and
		 * ended just after the last read is found in this one */
		bool gone = child_exited(&v->c);
		char *s = live_read_file(v->out_path, NULL);
		bool found = s && strstr(s, needle);

		free(s);
		if (found)
			return true;
		if (gone || live_now_ms() >= deadline)
			return false;
		usleep(20000);
	}
}

static int vigie_vstart(struct vigie *v, const char *out_path, const char *config_json,
			va_list ap)
{
	static int seq;
	char *argv[64];
	struct spawn_opts o = { 0 };
	const char *a;
	int n = 0;
	bool detail = false;

	memset(v, 0, sizeof(*v));
	v->seq = ++seq;
	if (out_path)
		snprintf(v->out_path, sizeof(v->out_path), "%s", out_path);
	else
		snprintf(v->out_path, sizeof(v->out_path), "%s/vigie-%d.json", live_tmpdir(), v->seq);
	snprintf(v->err_path, sizeof(v->err_path), "%s/vigie-%d.err", live_tmpdir(), v->seq);
	argv[n++] = (char *)live_vigie_bin();
	argv[n++] = "run";
	argv[n++] = "-o";
	argv[n++] = v->out_path;
	if (config_json) {
		char name[64];
		char *p;

		snprintf(name, sizeof(name), "vigie-%d.cfg.json", v->seq);
		p = live_write_file(name, config_json);
		snprintf(v->cfg_path, sizeof(v->cfg_path), "%s", p);
		free(p);
		argv[n++] = "-c";
		argv[n++] = v->cfg_path;
	}
	while ((a = va_arg(ap, const char *)) && n < 61) {
		detail |= !strcmp(a, "--usage-detail");
		argv[n++] = (char *)a;
	}
	/* per-flow usage events (per process and endpoint), which the exact
	 * figures of most tests are about, unless the test chose */
	if (!detail && !(config_json && strstr(config_json, "\"usage_detail\""))) {
		argv[n++] = "--usage-detail";
		argv[n++] = "flow";
	}
	argv[n] = NULL;
	o.stderr_path = v->err_path;
	unlink(v->out_path);
	if (child_spawn(&v->c, &o, argv))
		return -1;
	/* about 0.5 s of CPU (the verifier, the attachments), 0.5 s alone; up
	 * to 16 s measured beside the suite's two longest tests starting their
	 * clusters, portals and clients (one start of the previous 20 s bound
	 * ran out there): a bound for a hung start, not a measure of it */
	if (!vigie_wait_action(v, "sensor-start", 60000)) {
		printf("  ..    vigie did not write sensor-start within 60 s\n");
		dump_file("vigie stderr", v->err_path);
		child_kill(&v->c);
		return -1;
	}
	return 0;
}

int vigie_start(struct vigie *v, const char *config_json, ...)
{
	va_list ap;
	int rc;

	va_start(ap, config_json);
	rc = vigie_vstart(v, NULL, config_json, ap);
	va_end(ap);
	return rc;
}

int vigie_start_at(struct vigie *v, const char *out_path, const char *config_json, ...)
{
	va_list ap;
	int rc;

	va_start(ap, config_json);
	rc = vigie_vstart(v, out_path, config_json, ap);
	va_end(ap);
	return rc;
}

int vigie_stop(struct vigie *v)
{
	int st;

	if (!v->c.pid)
		return -1;
	if (!v->c.reaped)
		kill(v->c.pid, SIGTERM);
	st = child_wait(&v->c, 20000);
	if (st != 0)
		dump_file("vigie stderr", v->err_path);
	return st;
}

int vigie_exec(char **out, char **err, int timeout_ms, ...)
{
	static int seq;
	char *argv[64], out_path[PATH_MAX], err_path[PATH_MAX];
	struct spawn_opts o = { 0 };
	struct child c;
	const char *a;
	va_list ap;
	int n = 0, st, fd;

	seq++;
	snprintf(out_path, sizeof(out_path), "%s/exec-%d.out", live_tmpdir(), seq);
	snprintf(err_path, sizeof(err_path), "%s/exec-%d.err", live_tmpdir(), seq);
	argv[n++] = (char *)live_vigie_bin();
	va_start(ap, timeout_ms);
	while ((a = va_arg(ap, const char *)) && n < 63)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	o.stderr_path = err_path;
	/* stdout to a file: through a temporary dup of our own stdout */
	fflush(stdout);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	{
		int saved = dup(1);

		dup2(fd, 1);
		close(fd);
		st = child_spawn(&c, &o, argv);
		dup2(saved, 1);
		close(saved);
	}
	if (st)
		return -1;
	st = child_wait(&c, timeout_ms);
	if (out)
		*out = live_read_file(out_path, NULL);
	if (err)
		*err = live_read_file(err_path, NULL);
	return st;
}
