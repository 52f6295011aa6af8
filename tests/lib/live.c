// SPDX-License-Identifier: GPL-2.0
/* Helpers for Vigie's live tests (see live.h): results, set-up and
 * clean-up, the build's binaries, temporary files, the shell, the clock.
 * The rest is in child.c (children, trafficgen), sensor.c (vigie as a
 * child), events.c (its JSON output), netns.c, pgcluster.c and proc_fds.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/live.h"
#include "lib/live_int.h"

int live_passed, live_failed, live_skipped;

static char test_name[64] = "live";
static char build_dir[PATH_MAX];
static char vigie_bin[PATH_MAX + 16];
static char tg_bin[PATH_MAX + 32];
static char tmpdir[PATH_MAX];
static pid_t main_pid;

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

void live_run_quiet(char *const argv[])
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

static void live_cleanup(void)
{
	if (getpid() != main_pid || cleaning)
		return;
	cleaning = 1;
	for (int i = 7; i >= 0; i--)
		if (user_cleanup[i])
			user_cleanup[i]();
	live_kill_children();
	live_remove_namespaces();
	if (tmpdir[0] && !getenv("LIVE_KEEP")) {
		char *rm[] = { "rm", "-rf", tmpdir, NULL };

		live_run_quiet(rm);
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

/* ---- shell, source tree, clock ----------------------------------------- */

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

long long live_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
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
