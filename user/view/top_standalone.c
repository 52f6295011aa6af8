// SPDX-License-Identifier: GPL-2.0
/*
 * vigie top --standalone (top_int.h): when no daemon runs, the probes are
 * loaded by a sensor of our own, the same code as vigie run, in a child
 * process: no output (its events go to /dev/null), no state file, no
 * recording, no syslog, no metrics, no containment, and a control socket
 * in a private directory (0700) that this process reads like the daemon's.
 * The sensor's loop and the terminal's stay apart; the child ends with us
 * (PR_SET_PDEATHSIG) whatever happens to us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/config.h"
#include "base/log.h"
#include "sensor/sensor.h"
#include "view/top_int.h"

static void drop(char **field)
{
	free(*field);
	*field = NULL;
}

/* The child: a sensor with nothing but its control socket. Exit status. */
static int run_sensor(const char *config_path, const char *sock)
{
	struct vigie_config cfg;
	char err[512] = "";
	int ret = 2;

	if (config_init(&cfg)) {
		log_error("out of memory");
		return 1;
	}
	if (config_path && config_load_file(&cfg, config_path))
		goto out;
	drop(&cfg.output);
	drop(&cfg.state_file);
	drop(&cfg.record);
	drop(&cfg.syslog);
	drop(&cfg.syslog_spool);
	drop(&cfg.metrics_listen);
	drop(&cfg.output_group);
	json_decref(cfg.containment);
	cfg.containment = NULL;
	drop(&cfg.control_socket);
	cfg.control_socket = strdup(sock);
	if (!cfg.control_socket) {
		ret = 1;
		goto out;
	}
	if (config_validate(&cfg, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	log_route_libbpf();
	ret = sensor_run(&cfg, 0, NULL);
out:
	config_free(&cfg);
	return ret;
}

static void child(const char *config_path, const struct top_standalone *sa, pid_t parent)
{
	int null_fd, log_fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(sa->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (null_fd < 0 || log_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
	    dup2(log_fd, 2) < 0)
		_exit(1);
	_exit(run_sensor(config_path, sa->sock));
}

/* The sensor's last message (its log), for ours. */
static void last_words(const struct top_standalone *sa, char *msg, size_t msglen)
{
	char buf[2048], *end, *start;
	int fd = open(sa->log, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(msg, msglen, "the sensor stopped without a message");
		return;
	}
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	end = buf + n;
	start = memrchr(buf, '\n', (size_t)(end - buf));
	start = start ? start + 1 : buf;
	if (!strncmp(start, "vigie: ", 7))
		start += 7;
	snprintf(msg, msglen, "the probes could not start: %s", start);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int top_standalone_start(struct top_standalone *sa, const char *config_path, int timeout_ms,
			 char *msg, size_t msglen)
{
	long long end = now_ms() + timeout_ms;
	pid_t parent = getpid();

	memset(sa, 0, sizeof(*sa));
	if (geteuid() != 0) {
		snprintf(msg, msglen, "--standalone loads eBPF programs: run it as root");
		return -1;
	}
	snprintf(sa->dir, sizeof(sa->dir), "/tmp/vigie-top.XXXXXX");
	if (!mkdtemp(sa->dir)) {
		snprintf(msg, msglen, "cannot make a private directory in /tmp: %s", strerror(errno));
		sa->dir[0] = '\0';
		return -1;
	}
	snprintf(sa->sock, sizeof(sa->sock), "%s/control.sock", sa->dir);
	snprintf(sa->log, sizeof(sa->log), "%s/sensor.log", sa->dir);
	fflush(NULL);
	sa->pid = fork();
	if (sa->pid < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		sa->pid = 0;
		top_standalone_stop(sa);
		return -1;
	}
	if (sa->pid == 0)
		child(config_path, sa, parent);
	for (;;) {
		struct top_conn c = { .fd = -1 };
		char ignored[256];
		int status;

		if (waitpid(sa->pid, &status, WNOHANG) == sa->pid) {
			sa->pid = 0;
			last_words(sa, msg, msglen);
			top_standalone_stop(sa);
			return -1;
		}
		if (top_connect(&c, sa->sock, ignored, sizeof(ignored)) == TCE_OK) {
			top_disconnect(&c);
			return 0;
		}
		if (now_ms() >= end) {
			snprintf(msg, msglen, "the probes did not start within %d s", timeout_ms / 1000);
			top_standalone_stop(sa);
			return -1;
		}
		poll(NULL, 0, 100);
	}
}

void top_standalone_stop(struct top_standalone *sa)
{
	char path[160];

	if (sa->pid > 0) {
		long long end = now_ms() + 5000;
		bool reaped = false;
		int status;

		kill(sa->pid, SIGTERM);
		while (!(reaped = waitpid(sa->pid, &status, WNOHANG) == sa->pid) && now_ms() < end)
			poll(NULL, 0, 20);
		if (!reaped) {
			kill(sa->pid, SIGKILL);
			waitpid(sa->pid, &status, 0);
		}
		sa->pid = 0;
	}
	if (!sa->dir[0])
		return;
	/* what the sensor leaves when it is killed: its socket, lock and log */
	unlink(sa->sock);
	snprintf(path, sizeof(path), "%s.lock", sa->sock);
	unlink(path);
	unlink(sa->log);
	rmdir(sa->dir);
	sa->dir[0] = '\0';
}
