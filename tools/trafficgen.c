// SPDX-License-Identifier: GPL-2.0
/*
 * trafficgen: small deterministic traffic generator for Vigie's live tests.
 *
 * Every command moves an exact number of bytes and prints what a test needs
 * on stdout, one "key value" per line, flushed at once:
 *   "port P"      a server is listening (printed before it accepts),
 *   "sent N", "received N", "served N", "read N"   the figure at the end.
 * Exit status: 0 done, 1 runtime failure (connect, short transfer...),
 * 2 bad usage.
 *
 * Global options come before the command (see usage()). Arguments after a
 * literal "--" are ignored, so a test can give the process an arbitrary
 * (hostile) command line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define MAX_CHUNK (16u << 20)
#define IO_TIMEOUT_MS 20000

static const char *method = NULL; /* -m */
static unsigned src_port;         /* -s: bind clients to this local port */
static long pause_us;             /* -P: pause between chunks */

/* ---- a minimal io_uring (no liburing): one operation at a time ------ */

struct uring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static struct uring ring = { .fd = -1 };

static int uring_init(struct uring *u)
{
	struct io_uring_params p;
	size_t sq_sz, cq_sz;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (u->fd < 0)
		return -1;
	sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_sz = cq_sz = sq_sz > cq_sz ? sq_sz : cq_sz;
	sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -1;
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
			  IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return -1;
	}
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED)
		return -1;
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit one operation and wait for its completion: its result. */
static ssize_t uring_op(int op, int fd, void *buf, size_t len, uint64_t off)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	unsigned tail, idx, head;
	int res;

	if (ring.fd < 0 && uring_init(&ring)) {
		fprintf(stderr, "trafficgen: io_uring: %s\n", strerror(errno));
		return -1;
	}
	tail = *ring.sq_tail;
	idx = tail & *ring.sq_mask;
	sqe = &ring.sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = (uint8_t)op;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)buf;
	sqe->len = (uint32_t)len;
	sqe->off = off;
	ring.sq_array[idx] = idx;
	__atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
	for (;;) {
		if (syscall(__NR_io_uring_enter, ring.fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) >= 0)
			break;
		if (errno != EINTR)
			return -1;
	}
	head = __atomic_load_n(ring.cq_head, __ATOMIC_ACQUIRE);
	while (head == __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE))
		syscall(__NR_io_uring_enter, ring.fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	cqe = &ring.cqes[head & *ring.cq_mask];
	res = cqe->res;
	__atomic_store_n(ring.cq_head, head + 1, __ATOMIC_RELEASE);
	if (res < 0) {
		errno = -res;
		return -1;
	}
	return res;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: trafficgen [OPTIONS] COMMAND [ARGS...] [-- IGNORED...]\n"
		"Options (before the command):\n"
		"  -n NAME    set the process name (prctl PR_SET_NAME)\n"
		"  -u USER    switch to USER (name or uid) before the command (root only)\n"
		"  -D MS      sleep MS milliseconds before the command\n"
		"  -H MS      sleep MS milliseconds after the command, before exiting\n"
		"  -m METHOD  I/O call: send side write|send|sendto|sendmsg|writev|sendmmsg|\n"
		"             splice|uring (udp: sendto = unconnected socket),\n"
		"             receive side read|recv|recvmsg|readv|peek|splice|uring, files\n"
		"             read|pread|readv|preadv|preadv2|sendfile|splice|copy|uring\n"
		"  -s PORT    clients bind this local (source) port\n"
		"  -P USEC    pause USEC microseconds after every chunk sent\n"
		"  -E         after the command, exec the arguments after \"--\"\n"
		"  -X         re-exec with a hostile command line (quotes, newlines,\n"
		"             backslashes, invalid UTF-8) and then run the command\n"
		"Commands:\n"
		"  send HOST PORT BYTES [CHUNK]         TCP: send BYTES, shut down, wait for close\n"
		"  multisend HOST PORT CONNS BYTES [CHUNK]  CONNS such connections in a row\n"
		"  sink PORT [BIND [CONNS]]             accept CONNS (1) clients, read to EOF\n"
		"  serve PORT BYTES [BIND [CONNS]]      accept CONNS (1) clients, send each BYTES\n"
		"  fetch HOST PORT                      connect, read to EOF\n"
		"  sendfile HOST PORT FILE              TCP: sendfile(2) the whole FILE\n"
		"  udp HOST PORT BYTES COUNT            connected UDP: COUNT datagrams of BYTES\n"
		"  udpsink PORT [BIND [TOTAL]]          receive until TOTAL bytes or 3 s idle\n"
		"  readfile PATH BYTES [CHUNK]          read exactly BYTES of PATH (-m for the call)\n"
		"  sleep MS\n"
		"PORT 0 for servers picks a free port (printed as \"port P\").\n"
		"BIND defaults to :: (dual stack).\n");
}

static void out(const char *key, unsigned long long v)
{
	printf("%s %llu\n", key, v);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "trafficgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out_v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out_v = strtoull(s, &end, 0);
	if (errno || *end || *out_v > max)
		return -1;
	return 0;
}

#define NUM(var, str, max)                                                       \
	do {                                                                     \
		if (parse_u64((str), (max), &(var))) {                           \
			fprintf(stderr, "trafficgen: bad number '%s'\n", (str)); \
			return EXIT_USAGE;                                       \
		}                                                                \
	} while (0)

/* ---- sockets -------------------------------------------------------- */

static int resolve(const char *host, const char *port, int socktype, bool passive,
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

static int connect_to(const char *host, const char *port, int socktype)
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

static int listen_on(const char *bind_addr, const char *port, int socktype, unsigned *bound)
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

static int wait_fd(int fd, short events)
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
static ssize_t send_once(int fd, const char *buf, size_t len)
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

static ssize_t recv_once(int fd, char *buf, size_t len)
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

static char *pattern(size_t len)
{
	char *b = malloc(len ? len : 1);

	if (b)
		for (size_t i = 0; i < len; i++)
			b[i] = (char)('a' + i % 26);
	return b;
}

/* Send exactly total bytes in chunk-sized calls. */
static int send_exact(int fd, unsigned long long total, size_t chunk, unsigned long long *sent)
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
static int recv_all(int fd, unsigned long long *got)
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
static int finish_send(int fd)
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

static int cmd_send(int argc, char **argv)
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

static int cmd_multisend(int argc, char **argv)
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

static int cmd_sink(int argc, char **argv)
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

static int cmd_serve(int argc, char **argv)
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

static int cmd_fetch(int argc, char **argv)
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

static int cmd_sendfile(int argc, char **argv)
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

static int cmd_udp(int argc, char **argv)
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

static int cmd_udpsink(int argc, char **argv)
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
static int cmd_readfile(int argc, char **argv)
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

static int cmd_sleep(int argc, char **argv)
{
	unsigned long long ms;

	if (argc != 2)
		return EXIT_USAGE;
	NUM(ms, argv[1], 86400000ull);
	sleep_ms((long)ms);
	return 0;
}

/* ---- hostile command line ------------------------------------------- */

static const char *const hostile_args[] = {
	"quo\"te", "back\\slash", "new\nline", "tab\tand\rcr", "bad\xff\xfe utf8",
	"trunc\xc3", "ok-\xc3\xa9t\xc3\xa9", "ctl\x01\x1f", NULL,
};

/* argv[0] becomes hostile, the original arguments follow, then "--" and
 * the hostile arguments (ignored by the command parser). */
static int reexec_hostile(int argc, char **argv)
{
	char **nargv = calloc((size_t)argc + 16, sizeof(char *));
	int n = 0;

	if (!nargv)
		return EXIT_FAIL;
	nargv[n++] = "tg\"\n\\\xff";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-X"))
			nargv[n++] = argv[i];
	nargv[n++] = "--";
	for (int i = 0; hostile_args[i]; i++)
		nargv[n++] = (char *)hostile_args[i];
	nargv[n] = NULL;
	execv("/proc/self/exe", nargv);
	return fail("re-exec: %s", strerror(errno));
}

static int switch_user(const char *user)
{
	unsigned long long uid;
	gid_t gid;
	struct passwd *pw = NULL;

	if (parse_u64(user, UINT_MAX - 1, &uid) == 0) {
		pw = getpwuid((uid_t)uid);
		gid = pw ? pw->pw_gid : (gid_t)uid;
	} else {
		pw = getpwnam(user);
		if (!pw)
			return fail("no user '%s'", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (setgroups(0, NULL) || setgid(gid) || setuid((uid_t)uid))
		return fail("switch to user %s: %s", user, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "send", cmd_send },       { "multisend", cmd_multisend }, { "sink", cmd_sink },
		{ "serve", cmd_serve },     { "fetch", cmd_fetch },         { "sendfile", cmd_sendfile },
		{ "udp", cmd_udp },         { "udpsink", cmd_udpsink },     { "readfile", cmd_readfile },
		{ "sleep", cmd_sleep },
	};
	const char *name = NULL, *user = NULL;
	long delay = 0, hold = 0;
	bool hostile = false, exec_after = false;
	int opt, cargc, ret;
	char **cargv;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "+n:u:D:H:m:s:P:EXh")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'u': user = optarg; break;
		case 'D': delay = atol(optarg); break;
		case 'H': hold = atol(optarg); break;
		case 'm': method = optarg; break;
		case 'X': hostile = true; break;
		case 's': src_port = (unsigned)atoi(optarg); break;
		case 'P': pause_us = atol(optarg); break;
		case 'E': exec_after = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (hostile)
		return reexec_hostile(argc, argv);
	/* the command's arguments stop at "--" */
	cargv = argv + optind;
	for (cargc = 0; cargc < argc - optind && strcmp(cargv[cargc], "--"); cargc++)
		;
	if (user && switch_user(user))
		return EXIT_FAIL;
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0))
		return fail("prctl(PR_SET_NAME): %s", strerror(errno));
	if (delay > 0)
		sleep_ms(delay);
	ret = -1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cargv[0], cmds[i].name)) {
			ret = cmds[i].fn(cargc, cargv);
			break;
		}
	}
	if (ret < 0) {
		fprintf(stderr, "trafficgen: unknown command '%s'\n", cargv[0]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ret == EXIT_USAGE) {
		fprintf(stderr, "trafficgen: bad arguments for '%s'\n", cargv[0]);
		usage(stderr);
	}
	if (hold > 0)
		sleep_ms(hold);
	if (exec_after && ret == 0 && cargc + 1 < argc - optind) {
		char **rest = cargv + cargc + 1;

		fflush(NULL);
		execv(rest[0], rest);
		return fail("exec %s: %s", rest[0], strerror(errno));
	}
	return ret;
}
