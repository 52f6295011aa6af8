// SPDX-License-Identifier: GPL-2.0
/* vigie top: the client side of the control socket (top_int.h,
 * docs/top.md): one request line, one answer line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "view/top_int.h"

#define MAX_ANSWER (64u << 20) /* far more than 1000 rows */

void top_disconnect(struct top_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	c->len = c->cap = 0;
	c->pending = false;
}

enum top_conn_err top_connect(struct top_conn *c, const char *path, char *msg, size_t msglen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int err;

	top_disconnect(c);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(msg, msglen, "socket path too long: %s", path);
		return TCE_OTHER;
	}
	/* a socket someone else made could feed us anything: root's only */
	if (stat(path, &st) == 0 && (!S_ISSOCK(st.st_mode) || st.st_uid != 0)) {
		snprintf(msg, msglen, "%s is not a socket of root's: not connecting to it", path);
		return TCE_OTHER;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(msg, msglen, "socket: %s", strerror(errno));
		return TCE_OTHER;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		return TCE_OK;
	}
	err = errno;
	top_disconnect(c);
	if (err == ENOENT || err == ECONNREFUSED) {
		snprintf(msg, msglen, "no vigie daemon is running (nothing answers on %s): start it "
			 "(systemctl start vigie), or run 'vigie top --standalone' to load the probes "
			 "in this process", path);
		return TCE_NO_DAEMON;
	}
	if (err == EACCES || err == EPERM) {
		snprintf(msg, msglen, "permission denied on %s: the control socket is root's "
			 "only (run vigie top as root)", path);
		return TCE_DENIED;
	}
	snprintf(msg, msglen, "cannot connect to %s: %s", path, strerror(err));
	return TCE_OTHER;
}

int top_send_request(struct top_conn *c, const char *sort, const char *kind, int limit)
{
	char req[160];
	int n = snprintf(req, sizeof(req),
			 "{\"request\":\"snapshot\",\"sort\":\"%s\",\"kind\":\"%s\",\"limit\":%d}\n",
			 sort, kind, limit);
	size_t off = 0;

	if (c->fd < 0 || n <= 0 || (size_t)n >= sizeof(req))
		return -1;
	/* a request is small: the socket's buffer takes it whole */
	while (off < (size_t)n) {
		ssize_t w = send(c->fd, req + off, (size_t)n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = c->fd, .events = POLLOUT };

			if (poll(&p, 1, 1000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	c->pending = true;
	return 0;
}

int top_read_answer(struct top_conn *c, json_t **doc)
{
	char *nl;

	*doc = NULL;
	if (c->fd < 0)
		return -1;
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 262144;
			char *p;

			if (cap > MAX_ANSWER)
				return -1;
			p = realloc(c->in, cap);
			if (!p)
				return -1;
			c->in = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->in + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* closed: an answer already whole is still read below */
			if (c->len && memchr(c->in, '\n', c->len))
				break;
			return -1;
		}
		c->len += (size_t)n;
	}
	nl = c->len ? memchr(c->in, '\n', c->len) : NULL;
	if (!nl)
		return 0;
	*doc = json_loadb(c->in, (size_t)(nl - c->in), 0, NULL);
	c->len -= (size_t)(nl + 1 - c->in);
	memmove(c->in, nl + 1, c->len);
	c->pending = false;
	return *doc ? 1 : -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *top_ask(struct top_conn *c, const char *sort, const char *kind, int limit, int timeout_ms,
		char *msg, size_t msglen)
{
	long long end = now_ms() + timeout_ms;
	json_t *doc = NULL;

	if (top_send_request(c, sort, kind, limit)) {
		/* refused at once: its line may be here already */
		if (top_read_answer(c, &doc) == 1)
			return doc;
		snprintf(msg, msglen, "the daemon closed the connection");
		return NULL;
	}
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		long long left = end - now_ms();
		int rc = top_read_answer(c, &doc);

		if (rc == 1)
			return doc;
		if (rc < 0) {
			snprintf(msg, msglen, "the daemon closed the connection or sent something "
				 "that is not a snapshot");
			return NULL;
		}
		if (left <= 0) {
			snprintf(msg, msglen, "no answer from the daemon within %d ms", timeout_ms);
			return NULL;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			snprintf(msg, msglen, "poll: %s", strerror(errno));
			return NULL;
		}
	}
}
