// SPDX-License-Identifier: GPL-2.0
/* Helpers for Vigie's live tests: see live.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/live.h"
#include "output/ecs_check.h"

int live_passed, live_failed, live_skipped;

static char test_name[64] = "live";
static char build_dir[PATH_MAX];
static char vigie_bin[PATH_MAX + 16];
static char tg_bin[PATH_MAX + 32];
static char tmpdir[PATH_MAX];
static pid_t main_pid;

#define MAX_TRACKED 256
static pid_t tracked_pids[MAX_TRACKED];
static struct {
	char name[32];
	char host_if[16];
} tracked_ns[16];
static volatile sig_atomic_t cleaning;
static void (*user_cleanup[8])(void);

void live_on_cleanup(void (*fn)(void))
{
	for (int i = 0; i < 8; i++)
		if (!user_cleanup[i]) {
			user_cleanup[i] = fn;
			return;
		}
}

/* ---- results ---------------------------------------------------------- */

const char *live_printable(int slot, const char *s)
{
	static char bufs[2][1024];
	char *b = bufs[slot & 1];
	size_t o = 0;

	if (!s)
		return "(null)";
	for (const unsigned char *p = (const unsigned char *)s; *p && o < sizeof(bufs[0]) - 8; p++) {
		if (*p == '\n')
			o += (size_t)sprintf(b + o, "\\n");
		else if (*p == '\\' || *p == '"')
			o += (size_t)sprintf(b + o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			o += (size_t)sprintf(b + o, "\\x%02x", *p);
		else
			b[o++] = (char)*p;
	}
	b[o] = '\0';
	return b;
}

void live_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ok) {
		live_passed++;
		printf("  ok    %s\n", msg);
	} else {
		live_failed++;
		printf("  FAIL  %s:%d: %s\n", file, line, msg);
	}
	fflush(stdout);
}

void live_skip(const char *why)
{
	live_skipped++;
	printf("  SKIP  %s\n", why);
	fflush(stdout);
}

void live_section(const char *fmt, ...)
{
	va_list ap;

	printf("== ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void live_log(const char *fmt, ...)
{
	va_list ap;

	printf("  ..    ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int live_finish(void)
{
	if (live_skipped)
		printf("%d passed, %d failed, %d skipped\n", live_passed, live_failed, live_skipped);
	else
		printf("%d passed, %d failed\n", live_passed, live_failed);
	fflush(stdout);
	return live_failed ? 1 : 0;
}

/* ---- cleanup ---------------------------------------------------------- */

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

static void run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
}

static void ns_remove(const char *name, const char *host_if)
{
	char *del_ns[] = { "ip", "netns", "del", (char *)name, NULL };
	char *del_if[] = { "ip", "link", "del", (char *)host_if, NULL };

	run_quiet(del_ns);
	run_quiet(del_if);
}

static void live_cleanup(void)
{
	if (getpid() != main_pid || cleaning)
		return;
	cleaning = 1;
	for (int i = 7; i >= 0; i--)
		if (user_cleanup[i])
			user_cleanup[i]();
	for (int i = 0; i < MAX_TRACKED; i++) {
		if (tracked_pids[i] > 0) {
			kill(tracked_pids[i], SIGKILL);
			waitpid(tracked_pids[i], NULL, 0);
			tracked_pids[i] = 0;
		}
	}
	for (size_t i = 0; i < sizeof(tracked_ns) / sizeof(tracked_ns[0]); i++) {
		if (tracked_ns[i].name[0]) {
			ns_remove(tracked_ns[i].name, tracked_ns[i].host_if);
			tracked_ns[i].name[0] = '\0';
		}
	}
	if (tmpdir[0] && !getenv("LIVE_KEEP")) {
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		run_quiet(rm);
		tmpdir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	live_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- set-up ----------------------------------------------------------- */

static void find_build_dir(void)
{
	const char *env = getenv("VIGIE_BUILD");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(build_dir, sizeof(build_dir), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(build_dir, sizeof(build_dir), "build");
		return;
	}
	exe[n] = '\0';
	/* BUILD/tests/live_x -> BUILD */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(exe, '/');

		if (slash)
			*slash = '\0';
	}
	snprintf(build_dir, sizeof(build_dir), "%s", exe);
}

void live_init(const char *name)
{
	struct sigaction sa = { .sa_handler = on_signal };

	snprintf(test_name, sizeof(test_name), "%s", name);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0) {
		printf("%s: SKIP: not root (live tests load BPF programs and create network "
		       "namespaces)\n", name);
		exit(77);
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("%s: SKIP: no /sys/kernel/btf/vmlinux (kernel without BTF)\n", name);
		exit(77);
	}
	find_build_dir();
	snprintf(vigie_bin, sizeof(vigie_bin), "%s/vigie", build_dir);
	snprintf(tg_bin, sizeof(tg_bin), "%s/tools/trafficgen", build_dir);
	if (access(vigie_bin, X_OK) || access(tg_bin, X_OK)) {
		printf("%s: FAIL: %s or %s missing (run make first)\n", name, vigie_bin, tg_bin);
		exit(1);
	}
	main_pid = getpid();
	/* temporary directories of an earlier run killed hard (SIGKILL) */
	live_sh("find /tmp -maxdepth 1 -name 'vigie-live-%s-*' -mmin +10 -exec rm -rf {} +",
		test_name);
	atexit(live_cleanup);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	printf("%s: vigie %s\n", name, vigie_bin);
}

const char *live_vigie_bin(void) { return vigie_bin; }
const char *live_trafficgen_bin(void) { return tg_bin; }
const char *live_build_dir(void) { return build_dir; }

const char *live_tool(const char *name)
{
	static char path[PATH_MAX + 64];
	size_t n = strlen(build_dir);

	snprintf(path, sizeof(path), "%s/tools/%s", build_dir, name);
	if (access(path, X_OK) == 0 || n < 5 || strcmp(build_dir + n - 5, "/asan"))
		return path;
	/* the sanitizer build (build/asan) has the daemon only: the tool
	 * from the build it sits in */
	snprintf(path, sizeof(path), "%.*s/tools/%s", (int)(n - 5), build_dir, name);
	return path;
}

/* ---- temporary files --------------------------------------------------- */

const char *live_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigie-live-%s-XXXXXX", test_name);
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		chmod(tmpdir, 0755); /* children switched to nobody read files here */
	}
	return tmpdir;
}

char *live_path(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", live_tmpdir(), name) < 0)
		abort();
	return p;
}

char *live_write_file(const char *name, const char *content)
{
	char *p = live_path(name);
	FILE *f = fopen(p, "w");

	if (!f || fputs(content, f) < 0 || fclose(f)) {
		perror(p);
		exit(1);
	}
	return p;
}

int live_make_file(const char *path, uint64_t size)
{
	char buf[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('A' + i % 23);
	while (size) {
		size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		size -= (uint64_t)w;
	}
	return close(fd);
}

char *live_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb = realloc(buf, cap * 2 + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap * 2 + 8192;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* ---- children ---------------------------------------------------------- */

int child_spawn(struct child *c, const struct spawn_opts *o, char *const argv[])
{
	static const struct spawn_opts none;
	int pfd[2] = { -1, -1 };
	pid_t pid;

	if (!o)
		o = &none;
	memset(c, 0, sizeof(*c));
	c->out_fd = -1;
	c->status = -1;
	if (o->capture && pipe2(pfd, O_CLOEXEC)) {
		perror("pipe");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
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
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(126);
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

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int child_readline(struct child *c, char *line, size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

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
		left = deadline - now_ms();
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
	long long deadline = now_ms() + timeout_ms;
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
		if (now_ms() >= deadline) {
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

	memset(c, 0, sizeof(*c));
	c->out_fd = -1;
	c->status = -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(126);
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

static int tg_vspawn(struct child *c, const struct spawn_opts *o, va_list ap)
{
	char *argv[64];
	struct spawn_opts opts = { 0 };
	int n = 0;
	const char *a;

	if (o)
		opts = *o;
	opts.capture = true;
	argv[n++] = tg_bin;
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

/* ---- the sensor -------------------------------------------------------- */

static void dump_file(const char *what, const char *path)
{
	char *s = live_read_file(path, NULL);

	if (s && *s)
		printf("  ..    %s (%s):\n%s%s", what, path, s, s[strlen(s) - 1] == '\n' ? "" : "\n");
	free(s);
}

bool vigie_wait_action(const struct vigie *v, const char *action, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char needle[128];

	snprintf(needle, sizeof(needle), "\"action\":\"%s\"", action);
	for (;;) {
		char *s = live_read_file(v->out_path, NULL);
		bool found = s && strstr(s, needle);

		free(s);
		if (found)
			return true;
		if (now_ms() >= deadline)
			return false;
		if (v->c.pid && !v->c.reaped) {
			siginfo_t si;

			/* exited? (not reaped: child_wait gets the status) */
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)v->c.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == v->c.pid)
				return false;
		}
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
	argv[n++] = vigie_bin;
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
	if (!vigie_wait_action(v, "sensor-start", 20000)) {
		printf("  ..    vigie did not write sensor-start\n");
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
	argv[n++] = vigie_bin;
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

/* ---- events ------------------------------------------------------------ */

int events_load(struct events *e, const char *path)
{
	size_t len;
	char *text = live_read_file(path, &len), *p, *nl;

	memset(e, 0, sizeof(*e));
	if (!text) {
		printf("  ..    cannot read %s\n", path);
		return -1;
	}
	for (p = text; p < text + len; p = nl + 1) {
		json_error_t jerr;
		json_t *j;

		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (!nl) {
			/* last line without newline: a torn write */
			e->lines++;
			e->bad_lines++;
			snprintf(e->first_bad, sizeof(e->first_bad), "line %zu: no final newline",
				 e->lines);
			break;
		}
		*nl = '\0';
		e->lines++;
		j = json_loads(p, JSON_REJECT_DUPLICATES, &jerr);
		if (!j || !json_is_object(j)) {
			if (!e->bad_lines)
				snprintf(e->first_bad, sizeof(e->first_bad), "line %zu: %s", e->lines,
					 j ? "not an object" : jerr.text);
			e->bad_lines++;
			json_decref(j);
			continue;
		}
		if ((e->n & (e->n + 1)) == 0 || e->n == 0) {
			json_t **nv = realloc(e->ev, (e->n * 2 + 2) * sizeof(*nv));

			if (!nv)
				abort();
			e->ev = nv;
		}
		e->ev[e->n++] = j;
	}
	free(text);
	return 0;
}

void events_free(struct events *e)
{
	for (size_t i = 0; i < e->n; i++)
		json_decref(e->ev[i]);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

json_t *jpath(json_t *root, const char *path)
{
	char key[128];
	const char *dot;
	json_t *node = root;

	while (node && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		node = json_object_get(node, key);
		path = dot + 1;
	}
	return node ? json_object_get(node, path) : NULL;
}

const char *jstr(json_t *root, const char *path)
{
	return json_string_value(jpath(root, path));
}

long long jint(json_t *root, const char *path, long long dflt)
{
	json_t *v = jpath(root, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static bool is_action(json_t *ev, const char *action)
{
	const char *a = jstr(ev, "event.action");

	return a && !strcmp(a, action);
}

json_t *events_find(const struct events *e, const char *action)
{
	for (size_t i = 0; i < e->n; i++)
		if (is_action(e->ev[i], action))
			return e->ev[i];
	return NULL;
}

json_t *events_find_last(const struct events *e, const char *action)
{
	for (size_t i = e->n; i > 0; i--)
		if (is_action(e->ev[i - 1], action))
			return e->ev[i - 1];
	return NULL;
}

size_t events_count(const struct events *e, const char *action)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		n += is_action(e->ev[i], action);
	return n;
}

static bool usage_match(json_t *ev, pid_t pid, const char *cls, const struct usage_filter *f)
{
	const char *c, *side;
	char path[32];

	if (!is_action(ev, "usage") || jint(ev, "process.pid", -1) != pid)
		return false;
	c = jstr(ev, "vigie.class");
	if (cls && (!c || strcmp(c, cls)))
		return false;
	if (!f)
		return true;
	side = c && !strcmp(c, "db_server") ? "source" : "destination";
	if (f->ip) {
		const char *ip;

		snprintf(path, sizeof(path), "%s.ip", side);
		ip = jstr(ev, path);
		if (!ip || strcmp(ip, f->ip))
			return false;
	}
	if (f->port) {
		snprintf(path, sizeof(path), "%s.port", side);
		if (jint(ev, path, -1) != f->port)
			return false;
	}
	if (f->transport) {
		const char *t = jstr(ev, "network.transport");

		if (!t || strcmp(t, f->transport))
			return false;
	}
	if (f->aggregated) {
		bool agg = json_is_true(jpath(ev, "vigie.aggregated"));

		if ((f->aggregated > 0) != agg)
			return false;
	}
	if (f->uid) {
		const char *u = jstr(ev, "user.id");

		if (!u || strcmp(u, f->uid))
			return false;
	}
	return true;
}

uint64_t usage_sum(const struct events *e, pid_t pid, const char *cls,
		   const struct usage_filter *f, uint64_t *ops, size_t *n_events)
{
	uint64_t bytes = 0, o = 0;
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++) {
		if (!usage_match(e->ev[i], pid, cls, f))
			continue;
		bytes += (uint64_t)jint(e->ev[i], "vigie.bytes", 0);
		o += (uint64_t)jint(e->ev[i], "vigie.ops", 0);
		n++;
	}
	if (ops)
		*ops = o;
	if (n_events)
		*n_events = n;
	return bytes;
}

json_t *usage_first(const struct events *e, pid_t pid, const char *cls)
{
	for (size_t i = 0; i < e->n; i++)
		if (usage_match(e->ev[i], pid, cls, NULL))
			return e->ev[i];
	return NULL;
}

/* ---- network namespaces ------------------------------------------------ */

int live_sh(const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL;
	va_list ap;
	int st, n;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&full, "%s >/dev/null 2>&1", cmd) < 0) {
		free(cmd);
		return -1;
	}
	fflush(NULL);
	st = system(full);
	free(cmd);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int netns_create(struct netns *ns, const char *tag, int n)
{
	static const char *const fmt_steps[] = {
		"ip netns add %1$s",
		"ip link add %2$s type veth peer name %3$s netns %1$s",
		"ip addr add %4$s/30 dev %2$s",
		"ip -6 addr add %6$s/64 dev %2$s nodad",
		"ip link set %2$s up",
		"ip -n %1$s addr add %5$s/30 dev %3$s",
		"ip -n %1$s -6 addr add %7$s/64 dev %3$s nodad",
		"ip -n %1$s link set %3$s up",
		"ip -n %1$s link set lo up",
	};
	size_t slot;

	memset(ns, 0, sizeof(*ns));
	snprintf(ns->name, sizeof(ns->name), "vgt-%.5s", tag);
	snprintf(ns->host_if, sizeof(ns->host_if), "vgt-%.5s-h", tag);
	snprintf(ns->ns_if, sizeof(ns->ns_if), "vgt-%.5s-n", tag);
	snprintf(ns->host_ip, sizeof(ns->host_ip), "10.213.%d.1", n);
	snprintf(ns->ns_ip, sizeof(ns->ns_ip), "10.213.%d.2", n);
	snprintf(ns->cidr, sizeof(ns->cidr), "10.213.%d.0/30", n);
	snprintf(ns->host_ip6, sizeof(ns->host_ip6), "fd00:213:%d::1", n);
	snprintf(ns->ns_ip6, sizeof(ns->ns_ip6), "fd00:213:%d::2", n);
	/* leftovers of a crashed run */
	ns_remove(ns->name, ns->host_if);
	for (slot = 0; slot < sizeof(tracked_ns) / sizeof(tracked_ns[0]); slot++)
		if (!tracked_ns[slot].name[0])
			break;
	if (slot < sizeof(tracked_ns) / sizeof(tracked_ns[0])) {
		snprintf(tracked_ns[slot].name, sizeof(tracked_ns[slot].name), "%s", ns->name);
		snprintf(tracked_ns[slot].host_if, sizeof(tracked_ns[slot].host_if), "%s",
			 ns->host_if);
	}
	for (size_t i = 0; i < sizeof(fmt_steps) / sizeof(fmt_steps[0]); i++) {
		char cmd[512];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(cmd, sizeof(cmd), fmt_steps[i], ns->name, ns->host_if, ns->ns_if,
			 ns->host_ip, ns->ns_ip, ns->host_ip6, ns->ns_ip6);
#pragma GCC diagnostic pop
		if (live_sh("%s", cmd)) {
			printf("  ..    network namespace set-up failed at: %s\n", cmd);
			netns_destroy(ns);
			return -1;
		}
	}
	/* wait for both ends to be up (carrier) */
	for (int i = 0; i < 300; i++) {
		if (live_sh("ip -n %s link show %s | grep -q LOWER_UP", ns->name, ns->ns_if) == 0 &&
		    live_sh("ip link show %s | grep -q LOWER_UP", ns->host_if) == 0) {
			ns->up = true;
			return 0;
		}
		usleep(10000);
	}
	printf("  ..    veth %s did not come up\n", ns->host_if);
	netns_destroy(ns);
	return -1;
}

void netns_destroy(struct netns *ns)
{
	if (!ns->name[0])
		return;
	ns_remove(ns->name, ns->host_if);
	for (size_t i = 0; i < sizeof(tracked_ns) / sizeof(tracked_ns[0]); i++)
		if (!strcmp(tracked_ns[i].name, ns->name))
			tracked_ns[i].name[0] = '\0';
	ns->up = false;
}

int netns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

/* ---- PostgreSQL -------------------------------------------------------- */

const char *live_source_path(const char *rel)
{
	static char buf[PATH_MAX];
	char exe[PATH_MAX / 2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	exe[n > 0 ? n : 0] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(buf, sizeof(buf), "%s/%s", exe, rel);
	return buf;
}

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

double live_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double live_parse_ts(const char *s)
{
	struct tm tm;
	const char *rest;
	double frac = 0;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
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

void live_check_ecs(const struct events *ev, const char *path)
{
	char err[600] = "";
	struct ecs_schema *schema = ecs_schema_load(live_source_path("tests/data/ecs"), err,
						    sizeof(err));
	json_t *tpl;
	unsigned long n = 0;
	long bad = schema ? ecs_check_file(schema, path, &n, err, sizeof(err)) : -1;
	size_t mapped = 0;

	CHECK(bad == 0 && n == ev->lines, "%lu of %zu events checked, %ld not conforming%s%s", n,
	      ev->lines, bad, err[0] ? ": " : "", err);
	ecs_schema_free(schema);
	tpl = json_load_file(live_source_path("packaging/siem/vigie-index-template.json"), 0, NULL);
	err[0] = '\0';
	for (size_t i = 0; i < ev->n; i++)
		if (tpl && ecs_template_check(tpl, ev->ev[i], err, sizeof(err)) == 0)
			mapped++;
	CHECK(tpl && mapped == ev->n, "%zu of %zu events with every field mapped by the index "
				       "template%s%s", mapped, ev->n, err[0] ? ": " : "", err);
	json_decref(tpl);
}

/* prog_id of a descriptor's fdinfo, and whether it is a link's */
static unsigned fdinfo_prog_id(pid_t pid, const char *fd, bool *link)
{
	char path[320], line[256];
	unsigned id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.255s", (int)pid, fd);
	f = fopen(path, "r");
	*link = false;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "link_type:", 10))
			*link = true;
		else if (!strncmp(line, "prog_id:", 8))
			id = (unsigned)strtoul(line + 8, NULL, 10);
	}
	fclose(f);
	return id;
}

static bool prog_named(unsigned id, const char *name)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool same;

	if (fd < 0)
		return false;
	same = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       !strncmp(info.name, name, sizeof(info.name) - 1);
	close(fd);
	return same;
}

int live_bpf_prog_state(pid_t pid, const char *name)
{
	char path[64];
	struct dirent *de;
	int state = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && state < 2) {
		bool link;
		unsigned id = de->d_name[0] == '.' ? 0 : fdinfo_prog_id(pid, de->d_name, &link);

		if (id && prog_named(id, name))
			state = link ? 2 : 1; /* the loop ends at 2 */
	}
	closedir(d);
	return state;
}

int live_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}
