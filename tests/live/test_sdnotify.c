// SPDX-License-Identifier: GPL-2.0
/*
 * Live: systemd's notifications (Type=notify, WatchdogSec=), received on a
 * socket of the test's own as $NOTIFY_SOCKET: READY=1 once sensor-start is
 * written (probes attached), WATCHDOG=1 at the asked pace while it runs,
 * STOPPING=1 at stop. The abstract form
 * ("@name") too.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "lib/live.h"

static int listen_at(const char *name, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", abstract ? "@" : "", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path));
	if (abstract)
		sa.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Messages received within ms, appended to buf ('|' between them). */
static int receive(int fd, int ms, char *buf, size_t size)
{
	int n = 0;
	double end = live_now() + ms / 1000.0;

	while (live_now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char msg[256];
		ssize_t r;

		if (poll(&p, 1, (int)((end - live_now()) * 1000) + 1) <= 0)
			continue;
		r = recv(fd, msg, sizeof(msg) - 1, 0);
		if (r <= 0)
			continue;
		msg[r] = '\0';
		strncat(buf, msg, size - strlen(buf) - 2);
		strncat(buf, "|", size - strlen(buf) - 1);
		n++;
	}
	return n;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void run(const char *what, bool abstract)
{
	char name[96], got[8192] = "", env[128];
	struct vigie v;
	int fd;

	live_section("%s", what);
	snprintf(name, sizeof(name), "%s/notify-%d", live_tmpdir(), abstract);
	fd = listen_at(abstract ? strrchr(name, '/') + 1 : name, abstract);
	if (fd < 0) {
		CHECK(false, "notification socket");
		return;
	}
	snprintf(env, sizeof(env), "%s%s", abstract ? "@" : "", abstract ? strrchr(name, '/') + 1 : name);
	setenv("NOTIFY_SOCKET", env, 1);
	setenv("WATCHDOG_USEC", "1000000", 1); /* a ping every 0.5 s */
	unsetenv("WATCHDOG_PID");
	if (vigie_start(&v, NULL, "--tick", "0.1", NULL)) {
		CHECK(false, "vigie started");
		close(fd);
		return;
	}
	receive(fd, 2500, got, sizeof(got));
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	receive(fd, 500, got, sizeof(got));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	close(fd);
	CHECK(strncmp(got, "READY=1\nSTATUS=watching|", 24) == 0,
	      "READY=1 first: \"%.40s\"", got);
	ASSERT_EQ_INT(count(got, "READY=1"), 1, "READY=1 once");
	CHECK(count(got, "WATCHDOG=1") >= 4 && count(got, "WATCHDOG=1") <= 7,
	      "WATCHDOG=1 every 0.5 s for 2.5 s: %d", count(got, "WATCHDOG=1"));
	CHECK(strlen(got) >= 11 && !strcmp(got + strlen(got) - 11, "STOPPING=1|"),
	      "STOPPING=1 last");
}

int main(void)
{
	live_init("sdnotify");
	run("a socket path", false);
	run("an abstract socket (@name)", true);
	return live_finish();
}
