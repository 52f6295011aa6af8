// SPDX-License-Identifier: GPL-2.0
/*
 * Containment's actions on processes (contain_proc.h): SIGTERM to the
 * backends of a local PostgreSQL, the way pg_terminate_backend does, and
 * SIGSTOP to a process. A process is addressed by a pidfd opened before
 * it is checked, so the signal cannot reach another process that reused
 * the pid in between. Never signalled: the sensor, PID 1, kernel threads,
 * a postmaster and its auxiliary processes (only a backend serving a
 * client connection is ended), and no PostgreSQL process is stopped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/appuser.h"
#include "contain/contain_proc.h"
#include "postgres/pgbackend.h"

#define PF_KTHREAD 0x00200000u

static int pidfd_open_(uint32_t pid)
{
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) ? -errno : 0;
}

/* Flags field of /proc/PID/stat (the 9th), -1 unknown. */
static long long proc_flags(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold anything */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %llu", &flags) != 1)
		return -1;
	return (long long)flags;
}

/* Processes no containment touches, whatever the alert says. */
static const char *untouchable(uint32_t pid)
{
	long long flags;

	if (pid == 0 || pid == 1)
		return "pid 1";
	if (pid == (uint32_t)getpid())
		return "the sensor itself";
	flags = proc_flags(pid);
	if (flags < 0)
		return NULL; /* gone: the signal says so */
	if (flags & PF_KTHREAD)
		return "a kernel thread";
	return NULL;
}

static void note(json_t *detail, const char *key, const char *why)
{
	if (detail && why)
		json_object_set_new(detail, key, json_string(why));
}

static void add_pid(json_t *detail, const char *key, uint32_t pid)
{
	json_t *a;

	if (!detail)
		return;
	a = json_object_get(detail, key);
	if (!a) {
		a = json_array();
		json_object_set_new(detail, key, a);
	}
	json_array_append_new(a, json_integer(pid));
}

/* A backend serving a client (not the postmaster, not an auxiliary or
 * background process), its title read after its pidfd was opened. */
static int backend_title(uint32_t pid, struct pgb_title *t)
{
	uint32_t pm = 0;

	if (pgb_classify(NULL, pid, &pm) != PGB_BACKEND)
		return -EPERM;
	if (pgb_read_title(NULL, pid, t))
		return -ESRCH;
	if (!t->client[0] || t->walsender)
		return -EPERM;
	return 0;
}

int contain_end_db_sessions(const char *db_user, json_t *detail)
{
	struct pgb_scan scan = { 0 };
	uint32_t ended = 0, failed = 0;
	int err = 0;

	if (!db_user || !db_user[0])
		return -EINVAL;
	err = pgb_scan(NULL, &scan);
	if (err)
		return err;
	for (size_t i = 0; i < scan.n_backends; i++) {
		uint32_t pid = scan.backends[i].pid;
		struct pgb_title t;
		int fd = pidfd_open_(pid), e;

		if (fd < 0)
			continue; /* gone */
		if (backend_title(pid, &t) || strcmp(t.db_user, db_user) || untouchable(pid)) {
			close(fd);
			continue;
		}
		e = pidfd_signal(fd, SIGTERM);
		close(fd);
		if (e) {
			failed++;
			err = e;
			add_pid(detail, "pids_failed", pid);
		} else {
			ended++;
			add_pid(detail, "pids", pid);
		}
	}
	pgb_scan_free(&scan);
	if (detail)
		json_object_set_new(detail, "sessions", json_integer(ended));
	if (failed)
		return err;
	if (!ended) {
		note(detail, "reason", "no session of this account is open");
		return -ESRCH;
	}
	return 0;
}

int contain_end_backend(uint32_t pid, bool (*serves)(uint32_t pid, void *ctx), void *ctx,
			json_t *detail)
{
	struct pgb_title t;
	const char *why;
	int fd, err;

	fd = pidfd_open_(pid);
	if (fd < 0) {
		note(detail, "reason", "the backend has exited");
		return -ESRCH;
	}
	err = backend_title(pid, &t);
	why = err ? "not a PostgreSQL backend serving a client" : untouchable(pid);
	if (!why && serves && !serves(pid, ctx)) {
		why = "the backend no longer serves this user (the quarantine ends it if it "
		      "switches back)";
		err = -ESTALE;
	}
	if (why) {
		close(fd);
		note(detail, "reason", why);
		return err ? err : -EPERM;
	}
	err = pidfd_signal(fd, SIGTERM);
	close(fd);
	return err;
}

static int stop_one(uint32_t pid, json_t *detail)
{
	const char *why;
	int fd, err;

	fd = pidfd_open_(pid);
	if (fd < 0) {
		note(detail, "reason", "the process has exited");
		return -ESRCH;
	}
	why = untouchable(pid);
	if (!why && pgb_classify(NULL, pid, NULL) != PGB_OTHER)
		why = "a PostgreSQL server process";
	if (why) {
		close(fd);
		note(detail, "reason", why);
		return -EPERM;
	}
	err = pidfd_signal(fd, SIGSTOP);
	close(fd);
	if (!err)
		add_pid(detail, "pids_stopped", pid);
	return err;
}

/* "EXE@USER" of pid, as detection names a process principal. */
static bool is_process(uint32_t pid, const char *exe, const char *user)
{
	char path[64], buf[4096];
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	ssize_t n;
	uid_t uid;
	FILE *f;
	char line[256];
	bool uid_ok = false;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (strcmp(buf, exe))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned u;

		if (sscanf(line, "Uid: %*u %u", &u) == 1) {
			uid = u;
			uid_ok = true;
			break;
		}
	}
	fclose(f);
	if (!uid_ok)
		return false;
	if (!strncmp(user, "uid:", 4))
		return strtoul(user + 4, NULL, 10) == uid;
	return getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res &&
	       !strcmp(res->pw_name, user);
}

int contain_stop_process(uint32_t pid, const char *process_id, json_t *detail)
{
	char exe[4096];
	const char *at, *user;
	uint32_t found = 0;
	struct dirent *de;
	int err = 0;
	DIR *d;

	if (pid)
		return stop_one(pid, detail);
	at = process_id ? strrchr(process_id, '@') : NULL;
	if (!at || at == process_id || (size_t)(at - process_id) >= sizeof(exe))
		return -EINVAL;
	memcpy(exe, process_id, (size_t)(at - process_id));
	exe[at - process_id] = '\0';
	user = at + 1;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && found < 64) {
		char *end;
		unsigned long p = strtoul(de->d_name, &end, 10);
		int e;

		if (*end || !p || !is_process((uint32_t)p, exe, user))
			continue;
		found++;
		e = stop_one((uint32_t)p, detail);
		if (e)
			err = e;
	}
	closedir(d);
	if (!found) {
		note(detail, "reason", "no such process runs");
		return -ESRCH;
	}
	return err;
}
