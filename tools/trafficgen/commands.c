// SPDX-License-Identifier: GPL-2.0
/* trafficgen: the commands (send, sink, serve, fetch, udp, readfile...). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "trafficgen.h"

static int cmd_send_conns(const char *host, const char *port, unsigned long long conns,
			  unsigned long long bytes, size_t chunk)
{
	unsigned long long total = 0;

	for (unsigned long long i = 0; i < conns; i++) {
		unsigned long long sent = 0;
		int fd = connect_to(host, port, SOCK_STREAM);

		if (fd < 0)
			return EXIT_FAIL;
		if (send_exact(fd, bytes, chunk, &sent) || finish_send(fd)) {
			close(fd);
			return fail("send to %s port %s: %s (sent %llu)", host, port, strerror(errno),
				    total + sent);
		}
		close(fd);
		total += sent;
	}
	out("sent", total);
	return 0;
}

int cmd_send(int argc, char **argv)
{
	unsigned long long bytes, chunk = 65536;

	if (argc < 4 || argc > 5)
		return EXIT_USAGE;
	NUM(bytes, argv[3], ULLONG_MAX / 2);
	if (argc == 5)
		NUM(chunk, argv[4], MAX_CHUNK);
	if (!chunk)
		return EXIT_USAGE;
	return cmd_send_conns(argv[1], argv[2], 1, bytes, (size_t)chunk);
}

/* One TCP socket, two connections: BYTES to PORT1, then, after a
 * connect(AF_UNSPEC) that dissolves the first, BYTES to PORT2 (the same
 * struct sock, so the same socket cookie, another peer). */
int cmd_reconnect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct addrinfo *res;
	unsigned long long bytes, sent = 0, total = 0;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int fd;

	if (argc != 5)
		return EXIT_USAGE;
	NUM(bytes, argv[4], ULLONG_MAX / 2);
	fd = connect_to(argv[1], argv[2], SOCK_STREAM);
	if (fd < 0)
		return EXIT_FAIL;
	if (send_exact(fd, bytes, 65536, &sent) || finish_send(fd))
		goto fail;
	total += sent;
	if (connect(fd, &unspec, sizeof(unspec)) || resolve(argv[1], argv[3], SOCK_STREAM, false, &res))
		goto fail;
	memcpy(&ss, res->ai_addr, res->ai_addrlen);
	if (connect(fd, (struct sockaddr *)&ss, res->ai_addrlen)) {
		freeaddrinfo(res);
		goto fail;
	}
	freeaddrinfo(res);
	sent = 0;
	if (send_exact(fd, bytes, 65536, &sent) || finish_send(fd))
		goto fail;
	total += sent;
	close(fd);
	out("sent", total);
	return 0;
fail:
	close(fd);
	return fail("reconnect to %s ports %s, %s: %s (sent %llu)", argv[1], argv[2], argv[3],
		    strerror(errno), total + sent);
}

int cmd_multisend(int argc, char **argv)
{
	unsigned long long conns, bytes, chunk = 65536;

	if (argc < 5 || argc > 6)
		return EXIT_USAGE;
	NUM(conns, argv[3], 1000000);
	NUM(bytes, argv[4], ULLONG_MAX / 2);
	if (argc == 6)
		NUM(chunk, argv[5], MAX_CHUNK);
	if (!chunk)
		return EXIT_USAGE;
	return cmd_send_conns(argv[1], argv[2], conns, bytes, (size_t)chunk);
}

static int accept_one(int lfd)
{
	int fd;

	if (wait_fd(lfd, POLLIN))
		return -1;
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int cmd_sink(int argc, char **argv)
{
	unsigned long long conns = 1, total = 0, got;
	unsigned port;
	int lfd;

	if (argc < 2 || argc > 4)
		return EXIT_USAGE;
	if (argc == 4)
		NUM(conns, argv[3], 1000000);
	lfd = listen_on(argc >= 3 ? argv[2] : NULL, argv[1], SOCK_STREAM, &port);
	if (lfd < 0)
		return EXIT_FAIL;
	out("port", port);
	for (unsigned long long i = 0; i < conns; i++) {
		int fd = accept_one(lfd);

		if (fd < 0)
			return fail("accept: %s", strerror(errno));
		if (recv_all(fd, &got))
			return fail("receive: %s", strerror(errno));
		total += got;
		close(fd);
	}
	close(lfd);
	out("received", total);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	unsigned long long conns = 1, bytes, total = 0;
	unsigned port;
	int lfd;

	if (argc < 3 || argc > 5)
		return EXIT_USAGE;
	NUM(bytes, argv[2], ULLONG_MAX / 2);
	if (argc == 5)
		NUM(conns, argv[4], 1000000);
	lfd = listen_on(argc >= 4 ? argv[3] : NULL, argv[1], SOCK_STREAM, &port);
	if (lfd < 0)
		return EXIT_FAIL;
	out("port", port);
	for (unsigned long long i = 0; i < conns; i++) {
		unsigned long long sent;
		int fd = accept_one(lfd);

		if (fd < 0)
			return fail("accept: %s", strerror(errno));
		if (send_exact(fd, bytes, 65536, &sent) || finish_send(fd))
			return fail("serve: %s (sent %llu)", strerror(errno), sent);
		total += sent;
		close(fd);
	}
	close(lfd);
	out("served", total);
	return 0;
}

int cmd_fetch(int argc, char **argv)
{
	unsigned long long got;
	int fd;

	if (argc != 3)
		return EXIT_USAGE;
	fd = connect_to(argv[1], argv[2], SOCK_STREAM);
	if (fd < 0)
		return EXIT_FAIL;
	if (recv_all(fd, &got))
		return fail("fetch: %s", strerror(errno));
	close(fd);
	out("received", got);
	return 0;
}

int cmd_sendfile(int argc, char **argv)
{
	unsigned long long total = 0;
	struct stat st;
	int fd, in;

	if (argc != 4)
		return EXIT_USAGE;
	in = open(argv[3], O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st))
		return fail("%s: %s", argv[3], strerror(errno));
	fd = connect_to(argv[1], argv[2], SOCK_STREAM);
	if (fd < 0)
		return EXIT_FAIL;
	while (total < (unsigned long long)st.st_size) {
		ssize_t n = sendfile(fd, in, NULL, (size_t)st.st_size - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("sendfile: %s (sent %llu)", n ? strerror(errno) : "short", total);
		total += (unsigned long long)n;
	}
	if (finish_send(fd))
		return fail("sendfile: %s", strerror(errno));
	close(fd);
	close(in);
	out("sent", total);
	return 0;
}

int cmd_udp(int argc, char **argv)
{
	struct addrinfo *dest = NULL;
	unsigned long long bytes, count, total = 0;
	char *buf;
	int fd;

	if (argc != 5)
		return EXIT_USAGE;
	NUM(bytes, argv[3], 65000);
	NUM(count, argv[4], 10000000);
	if (method && !strcmp(method, "sendto")) {
		/* unconnected: the destination is in every sendto() */
		if (resolve(argv[1], argv[2], SOCK_DGRAM, false, &dest))
			return EXIT_FAIL;
		fd = socket(dest->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	} else {
		fd = connect_to(argv[1], argv[2], SOCK_DGRAM);
	}
	if (fd < 0)
		return EXIT_FAIL;
	buf = pattern((size_t)bytes);
	for (unsigned long long i = 0; i < count; i++) {
		ssize_t n = dest ? sendto(fd, buf, (size_t)bytes, 0, dest->ai_addr, dest->ai_addrlen)
				 : send_once(fd, buf, (size_t)bytes);

		if (n < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (n != (ssize_t)bytes)
			return fail("udp send: %s", n < 0 ? strerror(errno) : "short");
		total += (unsigned long long)n;
		if (i % 64 == 63)
			sleep_ms(1); /* let the receiver keep up */
	}
	free(buf);
	close(fd);
	if (dest)
		freeaddrinfo(dest);
	out("sent", total);
	return 0;
}

int cmd_udpsink(int argc, char **argv)
{
	unsigned long long want = ULLONG_MAX, total = 0;
	char *buf = malloc(65536);
	unsigned port;
	int fd;

	if (argc < 2 || argc > 4 || !buf)
		return EXIT_USAGE;
	if (argc == 4)
		NUM(want, argv[3], ULLONG_MAX / 2);
	fd = listen_on(argc >= 3 ? argv[2] : NULL, argv[1], SOCK_DGRAM, &port);
	if (fd < 0)
		return EXIT_FAIL;
	out("port", port);
	while (total < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			break;
		n = recv(fd, buf, 65536, 0);
		if (n > 0)
			total += (unsigned long long)n;
	}
	free(buf);
	close(fd);
	out("received", total);
	return 0;
}

/* Read exactly bytes of path with the chosen call. */
int cmd_readfile(int argc, char **argv)
{
	const char *m = method ? method : "read";
	unsigned long long bytes, chunk = 65536, total = 0;
	int fd, outfd = -1, pipefd[2] = { -1, -1 };
	char *buf;

	if (argc < 3 || argc > 4)
		return EXIT_USAGE;
	NUM(bytes, argv[2], ULLONG_MAX / 2);
	if (argc == 4)
		NUM(chunk, argv[3], MAX_CHUNK);
	if (!chunk)
		return EXIT_USAGE;
	if (!strcmp(m, "splice") && chunk > 65536)
		chunk = 65536; /* one pipe's worth */
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("%s: %s", argv[1], strerror(errno));
	buf = malloc((size_t)chunk);
	if (!buf)
		return EXIT_FAIL;
	if (!strcmp(m, "sendfile"))
		outfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	else if (!strcmp(m, "copy"))
		outfd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else if (!strcmp(m, "splice") && pipe2(pipefd, O_CLOEXEC))
		return fail("pipe: %s", strerror(errno));
	if ((!strcmp(m, "sendfile") || !strcmp(m, "copy")) && outfd < 0)
		return fail("output for %s: %s", m, strerror(errno));
	while (total < bytes) {
		size_t want = bytes - total < chunk ? (size_t)(bytes - total) : (size_t)chunk;
		off_t off = (off_t)total;
		ssize_t n;

		if (!strcmp(m, "read")) {
			n = read(fd, buf, want);
		} else if (!strcmp(m, "pread")) {
			n = pread(fd, buf, want, off);
		} else if (!strcmp(m, "readv") || !strcmp(m, "preadv") || !strcmp(m, "preadv2")) {
			size_t half = want / 2;
			struct iovec iov[2] = { { buf, half }, { buf + half, want - half } };

			if (m[1] == 'e')
				n = readv(fd, iov, 2);
			else if (m[6] == '2')
				n = preadv2(fd, iov, 2, off, 0);
			else
				n = preadv(fd, iov, 2, off);
		} else if (!strcmp(m, "uring")) {
			n = uring_op(IORING_OP_READ, fd, buf, want, (uint64_t)off);
		} else if (!strcmp(m, "sendfile")) {
			n = sendfile(outfd, fd, NULL, want);
		} else if (!strcmp(m, "copy")) {
			n = copy_file_range(fd, NULL, outfd, NULL, want, 0);
		} else if (!strcmp(m, "splice")) {
			n = splice(fd, NULL, pipefd[1], NULL, want, 0);
			for (ssize_t left = n; left > 0;) {
				ssize_t r = read(pipefd[0], buf, (size_t)left);

				if (r <= 0)
					return fail("pipe read: %s", strerror(errno));
				left -= r;
			}
		} else {
			return fail("unknown method '%s' for readfile", m);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("%s %s: %s (read %llu)", m, argv[1], strerror(errno), total);
		if (n == 0)
			return fail("%s: end of file after %llu bytes", argv[1], total);
		total += (unsigned long long)n;
	}
	free(buf);
	close(fd);
	out("read", total);
	return 0;
}

int cmd_sleep(int argc, char **argv)
{
	unsigned long long ms;

	if (argc != 2)
		return EXIT_USAGE;
	NUM(ms, argv[1], 86400000ull);
	sleep_ms((long)ms);
	return 0;
}
