// SPDX-License-Identifier: GPL-2.0
/* The Prometheus endpoint's HTTP server: non-blocking, bounded (metrics.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "base/log.h"
#include "output/metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define LISTENER 0u /* epoll data of the listening socket; slot i is i + 1 */

enum conn_state { C_FREE = 0, C_READING, C_WRITING, C_CLOSING };

struct conn {
	enum conn_state state;
	int fd;
	uint64_t deadline_ns;
	size_t in_len;
	char in[METRICS_MAX_REQUEST];
	char *out;
	size_t out_len, out_off;
};

struct metrics_server {
	int lfd, efd;
	uint16_t port;
	metrics_render_fn render;
	void *ctx;
	int timeout_ms, max_conns, n_conns;
	struct conn conns[METRICS_MAX_CONNS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_close(struct metrics_server *m, struct conn *c)
{
	if (c->state == C_FREE)
		return;
	epoll_ctl(m->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = C_FREE;
	m->n_conns--;
}

static int conn_watch(struct metrics_server *m, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)(c - m->conns) + 1 };

	return epoll_ctl(m->efd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Everything answered: stop sending, wait (deadline-bounded) for the
 * client's close so that the answer is not cut by a reset. */
static void conn_finish(struct metrics_server *m, struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->state = C_CLOSING;
	if (conn_watch(m, c, EPOLLIN))
		conn_close(m, c);
}

static void conn_write(struct metrics_server *m, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (conn_watch(m, c, EPOLLOUT))
					conn_close(m, c);
				return;
			}
			conn_close(m, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_finish(m, c);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* Queue the answer (body NULL: the status text) and start writing it. */
static void conn_answer(struct metrics_server *m, struct conn *c, int status, const char *body,
			size_t body_len, bool head)
{
	char hdr[256], msg[64];
	int hlen;

	if (!body) {
		snprintf(msg, sizeof(msg), "%s\n", status_text(status));
		body = msg;
		body_len = strlen(msg);
	}
	hlen = snprintf(hdr, sizeof(hdr),
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			"Connection: close\r\n\r\n",
			status, status_text(status),
			status == 200 ? CONTENT_TYPE : "text/plain; charset=utf-8", body_len,
			status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (head)
		body_len = 0;
	c->out = malloc((size_t)hlen + body_len);
	if (!c->out) {
		conn_close(m, c);
		return;
	}
	memcpy(c->out, hdr, (size_t)hlen);
	memcpy(c->out + hlen, body, body_len);
	c->out_len = (size_t)hlen + body_len;
	c->out_off = 0;
	c->state = C_WRITING;
	conn_write(m, c);
}

/* The request line "METHOD TARGET HTTP/1.x" (no CR/LF). 0 ok, -1 garbage. */
static int parse_request_line(const char *line, size_t len, char *method, size_t msize,
			      char *path, size_t psize)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *end = line + len, *q;
	size_t mlen, tlen;

	if (!sp1)
		return -1;
	mlen = (size_t)(sp1 - line);
	if (mlen == 0 || mlen >= msize)
		return -1;
	for (size_t i = 0; i < mlen; i++)
		if (line[i] < 'A' || line[i] > 'Z')
			return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return -1;
	if ((size_t)(end - sp2 - 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) && memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return -1;
	for (const char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	memcpy(method, line, mlen);
	method[mlen] = '\0';
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	tlen = (size_t)((q ? q : sp2) - sp1 - 1);
	if (tlen >= psize)
		tlen = psize - 1; /* a long path is not /metrics anyway */
	memcpy(path, sp1 + 1, tlen);
	path[tlen] = '\0';
	return 0;
}

int metrics_request_status(const char *in, size_t len, bool *head)
{
	const char *nl = memchr(in, '\n', len), *hdr_end;
	char method[17], path[64];
	size_t line_len;

	*head = false;
	for (size_t i = 0; i < (nl ? (size_t)(nl - in) : len); i++) {
		unsigned char ch = (unsigned char)in[i];

		if ((ch < ' ' && ch != '\r') || ch >= 0x7f)
			return 400;
	}
	if (!nl)
		return len >= METRICS_MAX_REQUEST ? 431 : 0;
	line_len = (size_t)(nl - in);
	if (line_len && in[line_len - 1] == '\r')
		line_len--;
	if (parse_request_line(in, line_len, method, sizeof(method), path, sizeof(path)))
		return 400;
	hdr_end = memmem(in, len, "\r\n\r\n", 4);
	if (!hdr_end)
		hdr_end = memmem(in, len, "\n\n", 2);
	if (!hdr_end)
		return len >= METRICS_MAX_REQUEST ? 431 : 0;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return 405;
	*head = !strcmp(method, "HEAD");
	return strcmp(path, "/metrics") ? 404 : 200;
}

/* What has been read so far: answer when it is a whole request or cannot
 * become a valid one. */
static void conn_examine(struct metrics_server *m, struct conn *c)
{
	bool head;
	int status = metrics_request_status(c->in, c->in_len, &head);
	struct mx_text t = { 0 };

	if (status == 0)
		return;
	if (status != 200) {
		conn_answer(m, c, status, NULL, 0, status == 404 && head);
		return;
	}
	m->render(&t, m->ctx);
	if (t.oom || !t.s)
		conn_answer(m, c, 500, NULL, 0, false);
	else
		conn_answer(m, c, 200, t.s, t.len, head);
	mx_text_free(&t);
}

static void conn_read(struct metrics_server *m, struct conn *c)
{
	for (;;) {
		char sink[512];
		size_t room = c->state == C_READING ? METRICS_MAX_REQUEST - c->in_len : sizeof(sink);
		char *dst = c->state == C_READING ? c->in + c->in_len : sink;
		ssize_t n;

		if (room == 0)
			break;
		n = recv(c->fd, dst, room, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) { /* closed by the client, or an error */
			conn_close(m, c);
			return;
		}
		if (c->state == C_READING)
			c->in_len += (size_t)n;
	}
	if (c->state == C_READING)
		conn_examine(m, c);
}

static void refuse(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n";

	/* One try: a client that does not read loses the answer, not us. */
	if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("metrics: refusing a connection: %s", strerror(errno));
	close(fd);
}

static void accept_all(struct metrics_server *m)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("metrics: accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		if (m->n_conns >= m->max_conns) {
			refuse(fd);
			continue;
		}
		for (int k = 0; k < METRICS_MAX_CONNS && !c; k++)
			if (m->conns[k].state == C_FREE)
				c = &m->conns[k];
		ev.data.u32 = (uint32_t)(c - m->conns) + 1;
		if (epoll_ctl(m->efd, EPOLL_CTL_ADD, fd, &ev)) {
			refuse(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READING;
		c->in_len = 0;
		c->deadline_ns = mono_ns() + (uint64_t)m->timeout_ms * 1000000ull;
		m->n_conns++;
	}
}

void metrics_server_expire(struct metrics_server *m)
{
	uint64_t now;

	if (!m || !m->n_conns)
		return;
	now = mono_ns();
	for (int i = 0; i < METRICS_MAX_CONNS; i++)
		if (m->conns[i].state != C_FREE && now >= m->conns[i].deadline_ns)
			conn_close(m, &m->conns[i]);
}

void metrics_server_service(struct metrics_server *m)
{
	struct epoll_event evs[METRICS_MAX_CONNS + 1];
	int n;

	if (!m)
		return;
	metrics_server_expire(m);
	n = epoll_wait(m->efd, evs, METRICS_MAX_CONNS + 1, 0);
	for (int i = 0; i < n; i++) {
		uint32_t id = evs[i].data.u32;
		struct conn *c;

		if (id == LISTENER) {
			accept_all(m);
			continue;
		}
		c = &m->conns[id - 1];
		if (c->state == C_FREE)
			continue; /* closed by an earlier event of this round */
		if (c->state == C_WRITING)
			conn_write(m, c);
		else
			conn_read(m, c);
	}
}

struct metrics_server *metrics_server_new(const struct config_endpoint *addr, const char *name,
					  metrics_render_fn render, void *ctx)
{
	struct metrics_server *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss = { 0 };
	socklen_t slen;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTENER };
	int one = 1;

	if (!m) {
		log_error("sensor.metrics_listen: out of memory");
		return NULL;
	}
	m->lfd = m->efd = -1;
	m->render = render;
	m->ctx = ctx;
	m->timeout_ms = METRICS_TIMEOUT_MS;
	m->max_conns = METRICS_MAX_CONNS;
	for (int i = 0; i < METRICS_MAX_CONNS; i++)
		m->conns[i].fd = -1;
	if (addr->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(addr->port);
		memcpy(&sin->sin_addr, addr->addr, 4);
		slen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(addr->port);
		memcpy(&sin6->sin6_addr, addr->addr, 16);
		slen = sizeof(*sin6);
	}
	m->lfd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto fail;
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == AF_INET6)
		setsockopt(m->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(m->lfd, (struct sockaddr *)&ss, slen) || listen(m->lfd, 64))
		goto fail;
	slen = sizeof(ss);
	if (getsockname(m->lfd, (struct sockaddr *)&ss, &slen))
		goto fail;
	m->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	m->efd = epoll_create1(EPOLL_CLOEXEC);
	if (m->efd < 0 || epoll_ctl(m->efd, EPOLL_CTL_ADD, m->lfd, &ev))
		goto fail;
	return m;
fail:
	log_error("sensor.metrics_listen: cannot listen on %s: %s", name ? name : "?",
		  strerror(errno));
	metrics_server_free(m);
	return NULL;
}

int metrics_server_fd(const struct metrics_server *m)
{
	return m ? m->efd : -1;
}

uint16_t metrics_server_port(const struct metrics_server *m)
{
	return m ? m->port : 0;
}

int metrics_server_conns(const struct metrics_server *m)
{
	return m ? m->n_conns : 0;
}

void metrics_server_set_limits(struct metrics_server *m, int timeout_ms, int max_conns)
{
	if (!m)
		return;
	if (timeout_ms > 0)
		m->timeout_ms = timeout_ms;
	if (max_conns > 0 && max_conns <= METRICS_MAX_CONNS)
		m->max_conns = max_conns;
}

void metrics_server_free(struct metrics_server *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_MAX_CONNS; i++)
		conn_close(m, &m->conns[i]);
	if (m->efd >= 0)
		close(m->efd);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
}
