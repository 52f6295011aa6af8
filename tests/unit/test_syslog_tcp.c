// SPDX-License-Identifier: GPL-2.0
/* The syslog sink over TCP against a real peer on loopback (this test is
 * the collector): an event written is kept until the collector is known
 * to have read it, and written again, exactly those, when the collector
 * resets the connection (it closed with bytes unread); a clean close
 * resends nothing; at stop the sink half-closes and a collector that
 * closes after reading confirms all, one that does not leaves the
 * unconfirmed events in the spool. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "output/syslog.h"
#include "output/syslog_spool.h"
#include "check.h"

#define T 1795416000123456000ull
#define SEC 1000000000ull

static int listener = -1;
static char url[64];

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void send_n(struct syslog_sink *s, int from, int to)
{
	char json[32];

	for (int i = from; i < to; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		syslog_send(s, json, strlen(json), "usage", 6, T);
	}
}

/* Accept the sink's next connection, servicing it (at now) until it comes. */
static int accept_sink(struct syslog_sink *s, uint64_t now)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd p = { .fd = listener, .events = POLLIN };

		syslog_service(s, now);
		if (poll(&p, 1, 10) == 1)
			return accept(listener, NULL, NULL);
	}
	return -1;
}

/* Read want octet-counted frames from fd (servicing s at now meanwhile);
 * their events' numbers into n. Returns how many came. */
static int read_frames(int fd, struct syslog_sink *s, uint64_t now, int *n, int want)
{
	static char buf[1 << 16];
	size_t have = 0;
	int got = 0;

	for (int tries = 0; got < want && tries < 300; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		syslog_service(s, now);
		if (poll(&p, 1, 10) != 1)
			continue;
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		for (;;) {
			char *sp = memchr(buf, ' ', have), *js;
			size_t len, hl;

			if (!sp)
				break;
			len = strtoul(buf, NULL, 10);
			hl = (size_t)(sp - buf) + 1;
			if (have < hl + len)
				break;
			js = memmem(buf + hl, len, "{\"n\":", 5);
			n[got++] = js ? atoi(js + 5) : -1;
			memmove(buf, buf + hl + len, have - hl - len);
			have -= hl + len;
			if (got == want)
				break;
		}
	}
	return got;
}

/* Close fd with bytes unread: the kernel resets the connection. */
static void close_unread(int fd)
{
	char c;

	usleep(50 * 1000); /* the sink's bytes are in fd's receive queue */
	CHECK(recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1);
	close(fd);
}

static void check_seq(const int *n, int got, int from, int to)
{
	CHECK_EQ_INT(got, to - from);
	for (int i = 0; i < got && i < to - from; i++)
		CHECK_MSG(n[i] == from + i, "event %d: got %d, want %d", i, n[i], from + i);
}

/* The sink's next connection accepted (serviced at when): the events from
 * .. to-1 come on it, in order. Returns the connection. */
static int next_connection_brings(struct syslog_sink *s, uint64_t when, int from, int to)
{
	int n[64], c = accept_sink(s, when), got = read_frames(c, s, when, n, to - from);

	check_seq(n, got, from, to);
	return c;
}

static void check_counts(struct syslog_sink *s, int sent, int resent)
{
	struct syslog_stats st;

	syslog_get_stats(s, &st);
	CHECK_EQ_INT(st.sent, sent);
	CHECK_EQ_INT(st.resent, resent);
	CHECK_EQ_INT(st.queued, 0);
}

static void test_reset_and_clean_close(void)
{
	struct syslog_sink *s = syslog_open(url, 3, 1 << 20, "h", NULL, 0);
	struct syslog_stats st;
	uint64_t t0 = mono();
	int n[64], c, got;

	CHECK(s != NULL);
	if (!s)
		return;
	/* 1. five events read, then the collector closes cleanly: nothing again */
	send_n(s, 0, 5);
	c = next_connection_brings(s, t0, 0, 5);
	close(c);
	usleep(20 * 1000);
	syslog_service(s, t0); /* sees the end of file */
	send_n(s, 5, 6);
	c = next_connection_brings(s, t0 + 2 * SEC, 5, 6); /* after the 1 s backoff */
	check_counts(s, 6, 0);
	syslog_get_stats(s, &st);
	CHECK_EQ_INT(st.reconnects, 1);

	/* 2. three more not read, the collector resets: the four written on
	 * this connection in the last 5 s go again (5 was read: twice) */
	send_n(s, 6, 9);
	close_unread(c);
	syslog_service(s, t0 + 2 * SEC);
	c = next_connection_brings(s, t0 + 5 * SEC, 5, 9);
	check_counts(s, 9, 4);

	/* 3. 9 read and 5 s gone by: confirmed; 10 not read, a reset: only 10
	 * goes again */
	send_n(s, 9, 10);
	got = read_frames(c, s, t0 + 5 * SEC, n, 1);
	check_seq(n, got, 9, 10);
	syslog_service(s, t0 + 11 * SEC);
	send_n(s, 10, 11);
	close_unread(c);
	syslog_service(s, t0 + 11 * SEC);
	c = next_connection_brings(s, t0 + 20 * SEC, 10, 11);
	check_counts(s, 11, 5);
	close(c);
	syslog_close(s, 0);
}

static char dir[] = "/tmp/vigie-syslog-tcp-XXXXXX";

/* At stop: a collector that reads to the end and closes confirms every
 * event (the spool stays empty); one that keeps the connection open
 * leaves the events of the last 5 s in the spool, in order. */
static void test_stop(bool collector_closes)
{
	char path[600], err[600];
	struct syslog_sink *s;
	struct spool *sp;
	pid_t child;
	int status = -1, c;

	snprintf(path, sizeof(path), "%s/stop-%d.spool", dir, collector_closes);
	s = syslog_open(url, 3, 1 << 20, "h", path, 1 << 20);
	CHECK(s != NULL);
	if (!s)
		return;
	send_n(s, 0, 3);
	c = accept_sink(s, mono());
	CHECK(c >= 0);
	child = fork();
	if (child == 0) {
		char buf[4096];
		ssize_t r;
		size_t total = 0;

		while ((r = read(c, buf, sizeof(buf))) > 0)
			total += (size_t)r;
		if (collector_closes)
			close(c);
		else
			pause();
		_exit(total > 0 ? 0 : 1);
	}
	close(c);
	syslog_close(s, collector_closes ? 2000 : 300);
	if (!collector_closes)
		kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (collector_closes)
		CHECK_EQ_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	sp = spool_open(path, 1 << 20, err, sizeof(err));
	CHECK(sp != NULL);
	if (!sp)
		return;
	CHECK_EQ_INT(spool_records(sp), collector_closes ? 0 : 3);
	for (int i = 0; spool_records(sp); i++) {
		char *d = NULL, want[32];
		ssize_t n = spool_peek(sp, &d);

		snprintf(want, sizeof(want), "{\"n\":%d}", i);
		CHECK(n > 0 && memmem(d, (size_t)n, want, strlen(want)));
		free(d);
		spool_pop(sp);
	}
	spool_close(sp);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(listener, 4) || getsockname(listener, (struct sockaddr *)&a, &al)) {
		perror("listener on 127.0.0.1");
		return 1;
	}
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", ntohs(a.sin_port));
	test_reset_and_clean_close();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_stop(true);
	test_stop(false);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
	close(listener);
	return check_summary();
}
