// SPDX-License-Identifier: GPL-2.0
/*
 * bench-pgserver: a stand-in PostgreSQL server for tools/bench.sh, to time
 * the sensor's PostgreSQL walk per send on a hot path, as section 1 times
 * the counting on 1-byte sends. Vigie takes it for a server when it is
 * named in databases.server_executables: the listening process is the
 * postmaster and each connection's forked child a backend, which Vigie
 * walks from its first send (like a real backend born under its eyes).
 *
 *   bench-pgserver serve PORT
 *       The "postmaster": listens on PORT (all addresses), prints
 *       "listening port=PORT", forks one child per connection. The child
 *       sets its process title as a backend does ("postgres: bench"),
 *       reads a request (two big-endian 32-bit numbers: ROWS, COUNT),
 *       sends COUNT answers, each in one send() and shaped like a simple
 *       query's answer: RowDescription, ROWS DataRows of one 8-byte text
 *       column, CommandComplete "SELECT ROWS", ReadyForQuery; then exits.
 *   bench-pgserver fetch HOST PORT ROWS COUNT
 *       The client: asks for COUNT answers of ROWS rows, reads them to the
 *       end and checks their length; prints "answers=COUNT bytes=N
 *       answer_bytes=B".
 *
 * Not a protocol implementation: no start-up exchange, the answers only.
 * Exit status 0, 1 on a system error, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ROWS 10000
#define MAX_COUNT 100000000L

static void die(const char *what)
{
	fprintf(stderr, "bench-pgserver: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long arg_long(const char *s, const char *what, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < 0 || v > max) {
		fprintf(stderr, "bench-pgserver: bad %s '%s' (0 to %ld)\n", what, s, max);
		exit(2);
	}
	return v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t put_msg(uint8_t *p, char type, const void *body, size_t n)
{
	p[0] = (uint8_t)type;
	put_be32(p + 1, (uint32_t)(n + 4));
	memcpy(p + 5, body, n);
	return 5 + n;
}

/* RowDescription of one int8 column "aid" (field count, name, table oid,
 * column number, type oid 20, size 8, modifier -1, text format). */
static const uint8_t rowdesc[] = { 0, 1, 'a', 'i', 'd', 0, 0, 0, 0, 0, 0, 0,
				   0, 0, 0, 20, 0, 8, 0xff, 0xff, 0xff, 0xff, 0, 0 };
#define DATAROW_BODY (2 + 4 + 8) /* one column of 8 bytes */
#define TAG_LEN 24               /* "SELECT n", NUL-padded to a fixed size */

static size_t answer_size(long rows)
{
	return 5 + sizeof(rowdesc) + (size_t)rows * (5 + DATAROW_BODY) + 5 + TAG_LEN + 5 + 1;
}

/* One answer of rows rows into p (answer_size(rows) bytes). */
static size_t build_answer(uint8_t *p, long rows)
{
	uint8_t datarow[DATAROW_BODY] = { 0, 1, 0, 0, 0, 8 };
	char tag[TAG_LEN], digits[16];
	size_t n = 0;

	n += put_msg(p + n, 'T', rowdesc, sizeof(rowdesc));
	for (long i = 0; i < rows; i++) {
		snprintf(digits, sizeof(digits), "%08ld", i % 100000000L);
		memcpy(datarow + 6, digits, 8);
		n += put_msg(p + n, 'D', datarow, sizeof(datarow));
	}
	memset(tag, 0, sizeof(tag));
	snprintf(tag, sizeof(tag), "SELECT %ld", rows);
	n += put_msg(p + n, 'C', tag, sizeof(tag));
	n += put_msg(p + n, 'Z', "I", 1);
	return n;
}

static int read_full(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static char **main_argv;
static int main_argc;

/* A backend's process title, as PostgreSQL writes it over its argv area
 * ("postgres: USER DB CLIENT STATE"): Vigie's walk reads it until it finds
 * one, then never again, like on a real server. */
static void set_title(const char *title)
{
	char *start = main_argv[0];
	char *end = main_argv[main_argc - 1] + strlen(main_argv[main_argc - 1]);
	size_t room = (size_t)(end - start);

	memset(start, 0, room);
	memcpy(start, title, strlen(title) < room ? strlen(title) : room);
}

/* A "backend": the answers, one send() each. */
static void backend(int fd)
{
	uint8_t req[8], *ans;
	long rows, count;
	size_t n;

	set_title("postgres: bench");
	if (read_full(fd, req, sizeof(req)))
		_exit(1);
	rows = (long)get_be32(req);
	count = (long)get_be32(req + 4);
	if (rows > MAX_ROWS || count > MAX_COUNT)
		_exit(2);
	ans = malloc(answer_size(rows));
	if (!ans)
		_exit(1);
	n = build_answer(ans, rows);
	for (long i = 0; i < count; i++)
		for (size_t off = 0; off < n;) {
			ssize_t w = send(fd, ans + off, n - off, 0);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
	_exit(0);
}

static _Noreturn void cmd_serve(long port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, lfd;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16))
		die("bind/listen");
	printf("listening port=%ld\n", port);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			backend(fd);
		}
		if (pid < 0)
			perror("bench-pgserver: fork");
		close(fd);
	}
}

static int cmd_fetch(const char *host, long port, long rows, long count)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint8_t req[8], buf[64 * 1024];
	unsigned long long total = 0, want;
	size_t one_answer;
	uint8_t *ans;
	ssize_t r;
	int fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "bench-pgserver: bad IPv4 address '%s'\n", host);
		return 2;
	}
	ans = malloc(answer_size(rows));
	if (!ans)
		die("malloc");
	one_answer = build_answer(ans, rows);
	free(ans);
	want = (unsigned long long)one_answer * (unsigned long long)count;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	put_be32(req, (uint32_t)rows);
	put_be32(req + 4, (uint32_t)count);
	if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
		die("write");
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		total += (unsigned long long)r;
	}
	close(fd);
	printf("answers=%ld bytes=%llu answer_bytes=%zu\n", count, total, one_answer);
	if (total != want) {
		fprintf(stderr, "bench-pgserver: got %llu bytes, want %llu\n", total, want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	main_argv = argv;
	main_argc = argc;
	if (argc == 3 && !strcmp(argv[1], "serve"))
		cmd_serve(arg_long(argv[2], "port", 65535));
	if (argc == 6 && !strcmp(argv[1], "fetch"))
		return cmd_fetch(argv[2], arg_long(argv[3], "port", 65535),
				 arg_long(argv[4], "rows", MAX_ROWS),
				 arg_long(argv[5], "count", MAX_COUNT));
	fprintf(stderr, "usage: bench-pgserver serve PORT\n"
			"       bench-pgserver fetch HOST PORT ROWS COUNT\n");
	return 2;
}
