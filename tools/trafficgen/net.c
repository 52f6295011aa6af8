// SPDX-License-Identifier: GPL-2.0
/* trafficgen: sockets, and sending and receiving exact byte counts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/uio.h>
#include "trafficgen.h"

int resolve(const char *host, const char *port, int socktype, bool passive,
		   struct addrinfo **res)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_family = AF_UNSPEC,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      (passive ? AI_PASSIVE : 0) };
	int err = getaddrinfo(host, port, &hints, res);

	if (err) {
		fprintf(stderr, "trafficgen: address %s port %s: %s\n", host ? host : "*", port,
			gai_strerror(err));
		return -1;
	}
	return 0;
}

int connect_to(const char *host, const char *port, int socktype)
{
	struct addrinfo *res;
	int fd;

	if (resolve(host, port, socktype, false, &res))
		return -1;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd >= 0 && src_port) {
		struct sockaddr_storage ss;
		int one = 1;

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)res->ai_family;
		if (res->ai_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)src_port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)src_port);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* the port may be busy for a moment (someone's ephemeral port) */
		for (int tries = 0; tries < 20; tries++) {
			if (!bind(fd, (struct sockaddr *)&ss, res->ai_family == AF_INET ?
				  sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6))) {
				errno = 0;
				break;
			}
			if (errno != EADDRINUSE)
				break;
			sleep_ms(50);
		}
		if (errno) {
			fprintf(stderr, "trafficgen: bind to local port %u: %s\n", src_port,
				strerror(errno));
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
	}
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen)) {
		fprintf(stderr, "trafficgen: connect %s port %s: %s\n", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int listen_on(const char *bind_addr, const char *port, int socktype, unsigned *bound)
{
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1, zero = 0;

	if (!bind_addr)
		bind_addr = "::";
	if (resolve(bind_addr, port, socktype, true, &res))
		return -1;
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen))
		goto err;
	if (socktype == SOCK_STREAM && listen(fd, 128))
		goto err;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		goto err;
	*bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	freeaddrinfo(res);
	return fd;
err:
	fprintf(stderr, "trafficgen: listen %s port %s: %s\n", bind_addr, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, IO_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return n < 0 ? -1 : 0;
}

/* One send call of len bytes from buf, with the chosen method. */
ssize_t send_once(int fd, const char *buf, size_t len)
{
	const char *m = method ? method : "write";

	if (!strcmp(m, "write"))
		return write(fd, buf, len);
	if (!strcmp(m, "send"))
		return send(fd, buf, len, MSG_NOSIGNAL);
	if (!strcmp(m, "sendto"))
		return sendto(fd, buf, len, MSG_NOSIGNAL, NULL, 0);
	if (!strcmp(m, "sendmsg") || !strcmp(m, "writev")) {
		/* two iovecs, to exercise the vector paths */
		size_t half = len / 2;
		struct iovec iov[2] = { { (void *)buf, half }, { (void *)(buf + half), len - half } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		return m[0] == 'w' ? writev(fd, iov, 2) : sendmsg(fd, &mh, MSG_NOSIGNAL);
	}
	if (!strcmp(m, "uring"))
		return uring_op(IORING_OP_SEND, fd, (void *)buf, len, 0);
	if (!strcmp(m, "splice")) {
		/* through a pipe: write to the pipe, splice the pipe to the socket */
		static int p[2] = { -1, -1 };
		ssize_t w, total = 0;

		if (p[0] < 0 && pipe2(p, O_CLOEXEC))
			return -1;
		if (len > 65536)
			len = 65536;
		w = write(p[1], buf, len);
		if (w <= 0)
			return -1;
		while (total < w) {
			ssize_t n = splice(p[0], NULL, fd, NULL, (size_t)(w - total), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			total += n;
		}
		return total;
	}
	if (!strcmp(m, "sendmmsg")) {
		/* two messages of half each */
		size_t half = len / 2;
		struct iovec iov[2] = { { (void *)buf, half }, { (void *)(buf + half), len - half } };
		struct mmsghdr mm[2];
		int n;

		memset(mm, 0, sizeof(mm));
		mm[0].msg_hdr.msg_iov = &iov[0];
		mm[0].msg_hdr.msg_iovlen = 1;
		mm[1].msg_hdr.msg_iov = &iov[1];
		mm[1].msg_hdr.msg_iovlen = 1;
		n = sendmmsg(fd, mm, 2, MSG_NOSIGNAL);
		if (n < 0)
			return -1;
		return (ssize_t)(mm[0].msg_len + (n > 1 ? mm[1].msg_len : 0));
	}
	errno = EINVAL;
	return -1;
}

ssize_t recv_once(int fd, char *buf, size_t len)
{
	const char *m = method ? method : "read";

	if (!strcmp(m, "read"))
		return read(fd, buf, len);
	if (!strcmp(m, "recv"))
		return recv(fd, buf, len, 0);
	if (!strcmp(m, "uring"))
		return uring_op(IORING_OP_RECV, fd, buf, len, 0);
	if (!strcmp(m, "splice")) {
		/* socket -> pipe -> buffer (how proxies forward) */
		static int p[2] = { -1, -1 };
		ssize_t n, got = 0;

		if (p[0] < 0 && pipe2(p, O_CLOEXEC))
			return -1;
		n = splice(fd, NULL, p[1], NULL, len > 65536 ? 65536 : len, 0);
		while (n > 0 && got < n) {
			ssize_t r = read(p[0], buf + got, (size_t)(n - got));

			if (r <= 0)
				return -1;
			got += r;
		}
		return n;
	}
	if (!strcmp(m, "peek")) {
		/* look first, then take what was seen (a common parser pattern) */
		ssize_t n = recv(fd, buf, len, MSG_PEEK);

		return n <= 0 ? n : recv(fd, buf, (size_t)n, 0);
	}
	if (!strcmp(m, "recvmsg") || !strcmp(m, "readv")) {
		struct iovec iov = { buf, len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		return m[0] == 'r' && m[4] == 'm' ? recvmsg(fd, &mh, 0) : readv(fd, &iov, 1);
	}
	errno = EINVAL;
	return -1;
}

char *pattern(size_t len)
{
	char *b = malloc(len ? len : 1);

	if (b)
		for (size_t i = 0; i < len; i++)
			b[i] = (char)('a' + i % 26);
	return b;
}

/* Send exactly total bytes in chunk-sized calls. */
int send_exact(int fd, unsigned long long total, size_t chunk, unsigned long long *sent)
{
	char *buf = pattern(chunk);

	*sent = 0;
	if (!buf)
		return -1;
	while (*sent < total) {
		size_t want = total - *sent < chunk ? (size_t)(total - *sent) : chunk;
		ssize_t n = send_once(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT) == 0)
				continue;
		}
		if (n <= 0) {
			free(buf);
			return -1;
		}
		*sent += (unsigned long long)n;
		if (pause_us > 0)
			usleep((useconds_t)pause_us);
	}
	free(buf);
	return 0;
}

/* Read to EOF; counts bytes. */
int recv_all(int fd, unsigned long long *got)
{
	char *buf = malloc(65536);

	*got = 0;
	if (!buf)
		return -1;
	for (;;) {
		ssize_t n;

		if (wait_fd(fd, POLLIN)) {
			free(buf);
			return -1;
		}
		n = recv_once(fd, buf, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		*got += (unsigned long long)n;
	}
	free(buf);
	return 0;
}

/* Half-close and wait for the peer to close: the peer has read it all. */
int finish_send(int fd)
{
	char c;
	ssize_t n;

	if (shutdown(fd, SHUT_WR))
		return -1;
	for (;;) {
		if (wait_fd(fd, POLLIN))
			return -1;
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : 0;
	}
}
