// SPDX-License-Identifier: GPL-2.0
/*
 * live_contain, egress: a sink in the peer's network namespace counting what
 * it receives, a paced sender on the host, and the check that containment
 * stopped the transfer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "contain_test.h"

struct transfer *transfer;
struct netns peer_ns;

int sink(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int l, one = 1;
	char buf[65536];

	(void)arg;
	if (netns_enter(peer_ns.name))
		return 1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		return 1;
	transfer->port = ntohs(a.sin_port);
	for (;;) {
		int c = accept(l, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			__atomic_add_fetch(&transfer->received, (unsigned long long)n,
					   __ATOMIC_RELAXED);
			transfer->last_rx = live_now();
		}
		close(c);
	}
	return 0;
}

int tcp_connect(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* As nobody: 64 KB every 1.25 ms (about 50 MB/s) until a send fails. */
int sender(void *arg)
{
	static char buf[65536];
	int fd;

	(void)arg;
	if (setgid(65534) || setuid(65534))
		return 1;
	fd = tcp_connect(peer_ns.ns_ip, transfer->port);
	if (fd < 0)
		return 1;
	for (;;) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n <= 0) {
			transfer->end_errno = errno;
			transfer->end_time = live_now();
			return 0;
		}
		transfer->sent += (unsigned long long)n;
		usleep(1250);
	}
}

/* Within a second of its alert: the peer gets nothing more, the sender is
 * stopped, a new connection to the peer is refused. */
void check_egress_stopped(pid_t sender_pid)
{
	unsigned long long r0 = transfer->received, r1;
	char path[64], *st;
	int fd;

	usleep(300 * 1000);
	r1 = transfer->received;
	ASSERT_EQ_U64(r1, r0, "the peer's byte count no longer grows");
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sender_pid);
	st = live_read_file(path, NULL);
	CHECK(st && strstr(st, ") T "), "the sender is stopped (SIGSTOP): %.40s",
	      st ? strrchr(st, ')') : "gone");
	free(st);
	fd = tcp_connect(peer_ns.ns_ip, transfer->port);
	ASSERT_EQ_INT(fd, -EPERM, "a new connection to the peer is refused in quarantine");
	if (fd >= 0)
		close(fd);
}
