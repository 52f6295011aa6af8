// SPDX-License-Identifier: GPL-2.0
/* Children of a live test (see live.h): spawned, forked, read, waited for,
 * killed; trafficgen as such a child. Every child is tracked until it is
 * reaped, and killed at clean-up (live_kill_children). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/live.h"
#include "lib/live_int.h"

/* ---- children ---------------------------------------------------------- */

#define MAX_TRACKED 256
static pid_t tracked_pids[MAX_TRACKED];

static void track_pid(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (!tracked_pids[i]) {
			tracked_pids[i] = pid;
			return;
		}
}

static void untrack_pid(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (tracked_pids[i] == pid)
			tracked_pids[i] = 0;
}

void live_kill_children(void)
{
	for (int i = 0; i < MAX_TRACKED; i++) {
		if (tracked_pids[i] > 0) {
			kill(tracked_pids[i], SIGKILL);
			waitpid(tracked_pids[i], NULL, 0);
			tracked_pids[i] = 0;
		}
	}
}

static void child_reset(struct child *c)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = -1;
	c->status = -1;
}

/* fork() with our buffers flushed first (not written twice) */
static pid_t fork_flushed(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		perror("fork");
	return pid;
}

/* In the child: killed with the test, or gone at once if it already died.
 * After any change of credentials, which clears the death signal. */
static void die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(126);
}

int child_spawn(struct child *c, const struct spawn_opts *o, char *const argv[])
{
	static const struct spawn_opts none;
	int pfd[2] = { -1, -1 };
	pid_t pid;

	if (!o)
		o = &none;
	child_reset(c);
	if (o->capture && pipe2(pfd, O_CLOEXEC)) {
		perror("pipe");
		return -1;
	}
	pid = fork_flushed();
	if (pid < 0) {
		if (o->capture) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (o->capture)
			dup2(pfd[1], 1);
		if (o->stderr_path) {
			int fd = open(o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd >= 0)
				dup2(fd, 2);
		}
		if (o->netns && netns_enter(o->netns)) {
			fprintf(stderr, "setns /run/netns/%s: %s\n", o->netns, strerror(errno));
			_exit(126);
		}
		if (o->set_user && (setgroups(0, NULL) || setgid(o->gid) || setuid(o->uid))) {
			fprintf(stderr, "setuid %u: %s\n", (unsigned)o->uid, strerror(errno));
			_exit(126);
		}
		die_with_parent();
		execv(o->exe ? o->exe : argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", o->exe ? o->exe : argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	track_pid(pid);
	if (o->capture) {
		close(pfd[1]);
		c->out_fd = pfd[0];
	}
	return 0;
}

int child_readline(struct child *c, char *line, size_t size, int timeout_ms)
{
	long long deadline = live_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->out_fd, .events = POLLIN };
		long long left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(line, size, "%.*s", (int)l, c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 0;
		}
		if (c->out_fd < 0 || c->len == sizeof(c->buf))
			return -1;
		left = deadline - live_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = read(c->out_fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

long long child_read_value(struct child *c, const char *key, int timeout_ms)
{
	char line[512];
	size_t kl = strlen(key);

	while (child_readline(c, line, sizeof(line), timeout_ms) == 0)
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			return strtoll(line + kl + 1, NULL, 10);
	return -1;
}

int child_wait(struct child *c, int timeout_ms)
{
	long long deadline = live_now_ms() + timeout_ms;
	int st;

	if (c->reaped)
		return c->status;
	for (;;) {
		pid_t r = waitpid(c->pid, &st, WNOHANG);

		if (r == c->pid)
			break;
		if (r < 0 && errno != EINTR) {
			c->status = -1;
			goto done;
		}
		if (live_now_ms() >= deadline) {
			fprintf(stdout, "  ..    pid %d did not exit within %d ms: killed\n", c->pid,
				timeout_ms);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			c->status = -1;
			goto done;
		}
		usleep(5000);
	}
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
done:
	c->reaped = true;
	untrack_pid(c->pid);
	if (c->out_fd >= 0) {
		close(c->out_fd);
		c->out_fd = -1;
	}
	return c->status;
}

void child_kill(struct child *c)
{
	if (!c->pid || c->reaped)
		return;
	kill(c->pid, SIGKILL);
	child_wait(c, 5000);
}

int child_fork(struct child *c, int (*fn)(void *arg), void *arg)
{
	pid_t pid;

	child_reset(c);
	pid = fork_flushed();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		die_with_parent();
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		_exit(fn(arg));
	}
	c->pid = pid;
	track_pid(pid);
	return 0;
}

bool child_exited(const struct child *c)
{
	siginfo_t si;

	if (!c->pid || c->reaped)
		return true;
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == c->pid;
}

/* ---- trafficgen -------------------------------------------------------- */

static int tg_vspawn(struct child *c, const struct spawn_opts *o, va_list ap)
{
	char *argv[64];
	struct spawn_opts opts = { 0 };
	int n = 0;
	const char *a;

	if (o)
		opts = *o;
	opts.capture = true;
	argv[n++] = (char *)live_trafficgen_bin();
	while ((a = va_arg(ap, const char *)) && n < 63)
		argv[n++] = (char *)a;
	argv[n] = NULL;
	return child_spawn(c, &opts, argv);
}

int tg_spawn(struct child *c, const struct spawn_opts *o, ...)
{
	va_list ap;
	int r;

	va_start(ap, o);
	r = tg_vspawn(c, o, ap);
	va_end(ap);
	return r;
}

int tg_run(pid_t *pid, long long *value, const struct spawn_opts *o, ...)
{
	struct child c;
	char line[512];
	long long v = -1;
	va_list ap;
	int r;

	va_start(ap, o);
	r = tg_vspawn(&c, o, ap);
	va_end(ap);
	if (r)
		return -1;
	if (pid)
		*pid = c.pid;
	while (child_readline(&c, line, sizeof(line), 60000) == 0) {
		char *sp = strchr(line, ' ');

		if (sp && strncmp(line, "port ", 5))
			v = strtoll(sp + 1, NULL, 10);
	}
	if (value)
		*value = v;
	return child_wait(&c, 60000);
}

int tg_server(struct child *c, const struct spawn_opts *o, ...)
{
	va_list ap;
	long long port;
	int r;

	va_start(ap, o);
	r = tg_vspawn(c, o, ap);
	va_end(ap);
	if (r)
		return -1;
	port = child_read_value(c, "port", 10000);
	if (port <= 0) {
		printf("  ..    trafficgen server did not start (exit %d)\n", child_wait(c, 2000));
		return -1;
	}
	return (int)port;
}
