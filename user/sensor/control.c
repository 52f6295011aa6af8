// SPDX-License-Identifier: GPL-2.0
/* The control socket's server: vigie top's snapshots (control.h, docs/top.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "base/event.h"
#include "base/log.h"
#include "base/pidlock.h"
#include "sensor/control.h"
#include "sensor/sensor_int.h"

#define LISTENER 0u /* epoll data of the listening socket; slot i is i + 1 */

struct conn {
	int fd;                 /* -1: free */
	size_t in_len;
	char in[CONTROL_MAX_REQUEST];
	char *out;              /* the answer being written, NULL: none */
	size_t out_len, out_off;
	uint64_t write_deadline_ns; /* the answer must be taken by then */
	uint64_t idle_deadline_ns;  /* the next request must come by then */
	bool closing;           /* close once the answer is written */
	bool eof;               /* the client sends no more: answer, then close */
	bool waiting;           /* a request waits for the next tick's budget */
	uid_t uid;
};

struct control {
	struct sensor *s;
	int lfd, efd;
	char *path;
	dev_t dev;              /* the socket file we made: removed only if still it */
	ino_t ino;
	struct pidlock lock;
	int n_conns, budget;
	uint64_t spent_ns;      /* making snapshots in this tick */
	uint64_t served, refused, dropped;
	/* the last snapshot, answered again for the same query in the same tick */
	char *cache;
	size_t cache_len;
	struct control_query cache_q;
	uint64_t cache_ticks;
	const struct detector *cache_det;
	struct conn conns[CONTROL_MAX_CONNS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- connections -------------------------------------------------------------- */

static void conn_close(struct control *c, struct conn *k)
{
	if (k->fd < 0)
		return;
	epoll_ctl(c->efd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	c->n_conns--;
}

static int conn_watch(struct control *c, struct conn *k, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)(k - c->conns) + 1 };

	return epoll_ctl(c->efd, EPOLL_CTL_MOD, k->fd, &ev);
}

static void conn_next(struct control *c, struct conn *k);

/* Write what the socket takes; the rest waits for EPOLLOUT. */
static void conn_write(struct control *c, struct conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conn_watch(c, k, EPOLLOUT))
				conn_close(c, k);
			return;
		}
		if (n <= 0) {
			conn_close(c, k);
			return;
		}
		k->out_off += (size_t)n;
	}
	free(k->out);
	k->out = NULL;
	if (k->closing) {
		conn_close(c, k);
		return;
	}
	if (conn_watch(c, k, k->eof ? 0 : EPOLLIN)) {
		conn_close(c, k);
		return;
	}
	conn_next(c, k); /* a request sent while this answer was written */
}

/* Queue line (malloc'ed, newline-terminated, ours now) and start writing it. */
static void conn_send(struct control *c, struct conn *k, char *line, size_t len)
{
	if (!line) {
		conn_close(c, k);
		return;
	}
	k->out = line;
	k->out_len = len;
	k->out_off = 0;
	k->write_deadline_ns = mono_ns() + CONTROL_WRITE_TIMEOUT_MS * 1000000ull;
	conn_write(c, k);
}

/* doc (released) as one line, malloc'ed; NULL when out of memory. */
static char *line_of(json_t *doc, size_t *len)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL, *line;

	json_decref(doc);
	if (!text)
		return NULL;
	*len = strlen(text) + 1;
	line = realloc(text, *len + 1);
	if (!line) {
		free(text);
		return NULL;
	}
	line[*len - 1] = '\n';
	line[*len] = '\0';
	return line;
}

static void conn_answer(struct control *c, struct conn *k, json_t *doc)
{
	size_t len = 0;
	char *line = line_of(doc, &len);

	conn_send(c, k, line, len);
}

static json_t *error_doc(const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "vigie_top", json_integer(CONTROL_PROTOCOL));
	json_object_set_new(o, "error", json_string_safe(msg)); /* never dropped */
	return o;
}

/* The line ending at nl taken out of k->in. */
static void consume(struct conn *k, const char *nl)
{
	size_t used = (size_t)(nl + 1 - k->in);

	memmove(k->in, nl + 1, k->in_len - used);
	k->in_len -= used;
}

/* A snapshot for q: the one made already in this tick for the same query
 * (several clients, one cost), else a new one (its cost counted). */
static void answer_snapshot(struct control *c, struct conn *k, const struct control_query *q)
{
	struct sensor *s = c->s;
	uint64_t t0;
	char *line;
	size_t len = 0;

	if (c->cache && c->cache_ticks == s->ticks && c->cache_det == s->det &&
	    c->cache_q.sort == q->sort && c->cache_q.kind == q->kind &&
	    c->cache_q.limit == q->limit) {
		line = malloc(c->cache_len + 1);
		if (line)
			memcpy(line, c->cache, c->cache_len + 1);
		conn_send(c, k, line, c->cache_len);
		return;
	}
	t0 = mono_ns();
	line = line_of(control_snapshot(s, q), &len);
	c->spent_ns += mono_ns() - t0;
	free(c->cache);
	c->cache = line ? malloc(len + 1) : NULL;
	if (c->cache) {
		memcpy(c->cache, line, len + 1);
		c->cache_len = len;
		c->cache_q = *q;
		c->cache_ticks = s->ticks;
		c->cache_det = s->det;
	}
	if (!line) {
		conn_answer(c, k, error_doc("out of memory"));
		return;
	}
	conn_send(c, k, line, len);
}

/* The first whole request line in k->in, if any, answered (budget allowing). */
static void conn_next(struct control *c, struct conn *k)
{
	char *nl, err[160];
	size_t len;
	struct control_query q;

	if (k->fd < 0 || k->out)
		return;
	nl = memchr(k->in, '\n', k->in_len);
	if (!nl) {
		if (k->in_len == sizeof(k->in)) {
			k->closing = true;
			conn_answer(c, k, error_doc("request too long (at most 1024 bytes a line)"));
		} else if (k->eof) {
			conn_close(c, k); /* every request answered */
		}
		return;
	}
	if (c->budget <= 0 || c->spent_ns >= CONTROL_TICK_BUDGET_MS * 1000000ull) {
		/* answered at the next tick; read nothing more until then */
		k->waiting = true;
		if (conn_watch(c, k, 0))
			conn_close(c, k);
		return;
	}
	k->waiting = false;
	len = (size_t)(nl - k->in);
	if (len && k->in[len - 1] == '\r')
		len--;
	k->idle_deadline_ns = mono_ns() + CONTROL_IDLE_TIMEOUT_MS * 1000000ull;
	if (len == 0) { /* an empty line: nothing asked */
		consume(k, nl);
		conn_next(c, k);
		return;
	}
	c->budget--;
	if (control_parse_request(k->in, len, &q, err, sizeof(err))) {
		consume(k, nl);
		conn_answer(c, k, error_doc(err));
		return;
	}
	consume(k, nl);
	c->served++;
	answer_snapshot(c, k, &q);
}

static void conn_read(struct control *c, struct conn *k, uint32_t events)
{
	if (k->waiting) {
		/* not watching input: only a hang-up or an error comes here */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(c, k);
		return;
	}
	while (!k->eof && k->in_len < sizeof(k->in)) {
		ssize_t n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_close(c, k);
			return;
		}
		if (n == 0) {
			/* half-closed (printf ... | socat): what was asked is
			 * still answered; no more wake-ups for input */
			k->eof = true;
			if (conn_watch(c, k, 0)) {
				conn_close(c, k);
				return;
			}
			break;
		}
		k->in_len += (size_t)n;
	}
	conn_next(c, k);
}

/* One try at a line, then close: a client that does not read loses it. */
static void refuse(int fd, const char *msg)
{
	json_t *doc = error_doc(msg);
	char *text = json_dumps(doc, JSON_COMPACT), *line = NULL;

	if (text && asprintf(&line, "%s\n", text) > 0 &&
	    send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control socket: refusing a client: %s", strerror(errno));
	free(line);
	free(text);
	json_decref(doc);
	close(fd);
}

static void accept_all(struct control *c)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = { .uid = (uid_t)-1 };
		socklen_t len = sizeof(cred);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *k = NULL;
		char msg[160];

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("control socket: accept: %s", strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
			c->refused++;
			snprintf(msg, sizeof(msg), "permission denied: the control socket answers "
				 "root only (this client runs as uid %d)", (int)cred.uid);
			log_warn("control socket: refused a client of uid %d (pid %d): root only",
				 (int)cred.uid, (int)cred.pid);
			refuse(fd, msg);
			continue;
		}
		if (c->n_conns >= CONTROL_MAX_CONNS) {
			c->refused++;
			snprintf(msg, sizeof(msg), "busy: %d clients already (the most there can be)",
				 CONTROL_MAX_CONNS);
			refuse(fd, msg);
			continue;
		}
		for (int j = 0; j < CONTROL_MAX_CONNS && !k; j++)
			if (c->conns[j].fd < 0)
				k = &c->conns[j];
		ev.data.u32 = (uint32_t)(k - c->conns) + 1;
		if (epoll_ctl(c->efd, EPOLL_CTL_ADD, fd, &ev)) {
			refuse(fd, "out of resources");
			continue;
		}
		k->fd = fd;
		k->uid = cred.uid;
		k->idle_deadline_ns = mono_ns() + CONTROL_IDLE_TIMEOUT_MS * 1000000ull;
		c->n_conns++;
	}
}

void control_service(struct control *c)
{
	struct epoll_event evs[CONTROL_MAX_CONNS + 1];
	int n;

	if (!c)
		return;
	n = epoll_wait(c->efd, evs, CONTROL_MAX_CONNS + 1, 0);
	for (int i = 0; i < n; i++) {
		uint32_t id = evs[i].data.u32;
		struct conn *k;

		if (id == LISTENER) {
			accept_all(c);
			continue;
		}
		k = &c->conns[id - 1];
		if (k->fd < 0)
			continue; /* closed by an earlier event of this round */
		if (k->out)
			conn_write(c, k);
		else
			conn_read(c, k, evs[i].events);
	}
}

void control_tick(struct control *c)
{
	uint64_t now;

	if (!c)
		return;
	c->budget = CONTROL_REQUESTS_PER_TICK;
	c->spent_ns = 0;
	now = mono_ns();
	for (int i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct conn *k = &c->conns[i];

		if (k->fd < 0)
			continue;
		if (k->out && now >= k->write_deadline_ns) {
			c->dropped++;
			log_info("control socket: dropped a client that did not take its answer "
				 "within %d ms", CONTROL_WRITE_TIMEOUT_MS);
			conn_close(c, k);
		} else if (!k->out && !k->waiting && now >= k->idle_deadline_ns) {
			conn_close(c, k);
		} else if (k->waiting) {
			if (conn_watch(c, k, k->eof ? 0 : EPOLLIN)) {
				conn_close(c, k);
				continue;
			}
			k->waiting = false;
			conn_next(c, k);
		}
	}
}

/* ---- the socket ------------------------------------------------------------------ */

/* The directory of path: made 0700 when missing; refused when others could
 * replace what is in it (not root's, or writable by others without the
 * sticky bit). */
static int check_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	struct stat st;

	snprintf(dir, sizeof(dir), "%.*s", slash && slash != path ? (int)(slash - path) : 1, path);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != 0 || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
		return -EPERM;
	return 0;
}

/* What is at path: nothing, or a socket no one listens on (removed). */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* not ours to remove */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? -EADDRINUSE : 0;
	close(fd);
	if (ret == 0 && unlink(path) && errno != ENOENT)
		ret = -errno;
	return ret;
}

static int listen_at(struct control *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTENER };
	struct stat st;
	mode_t old;
	int err;

	err = check_dir(c->path);
	if (err)
		return err;
	err = clear_stale(c->path);
	if (err)
		return err;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	old = umask(0177); /* made 0600, never wider even for an instant */
	err = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err)
		return err;
	if (lstat(c->path, &st))
		return -errno;
	c->dev = st.st_dev; /* ours from now on: removed by control_free */
	c->ino = st.st_ino;
	if (chmod(c->path, 0600) || listen(c->lfd, 16))
		return -errno;
	c->efd = epoll_create1(EPOLL_CLOEXEC);
	if (c->efd < 0 || epoll_ctl(c->efd, EPOLL_CTL_ADD, c->lfd, &ev))
		return -errno;
	return 0;
}

static const char *why(int err)
{
	switch (err) {
	case -EEXIST: return "something that is not a socket is there (not removed)";
	case -EADDRINUSE: return "another process listens on it";
	case -EPERM: return "its directory is not root's or others may write to it";
	default: return strerror(-err);
	}
}

int control_start(struct sensor *s)
{
	const char *path = s->cfg->control_socket;
	bool configured = path && strcmp(path, CONFIG_CONTROL_SOCKET);
	struct control *c;
	pid_t holder = 0;
	int err;

	s->control = NULL;
	if (!path)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->lfd = c->efd = -1;
	c->lock.fd = -1;
	c->budget = CONTROL_REQUESTS_PER_TICK;
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
	c->path = strdup(path);
	if (!c->path) {
		err = -ENOMEM;
		goto fail;
	}
	err = check_dir(path);
	if (!err)
		err = pidlock_take(&c->lock, path, &holder);
	if (err == -EBUSY) {
		if (configured)
			log_error("sensor.control_socket: another vigie (pid %d) serves '%s': give "
				  "this one another path", (int)holder, path);
		else
			log_warn("control socket: another vigie (pid %d) serves '%s'; vigie top "
				 "attaches to that one, this sensor has no control socket",
				 (int)holder, path);
		goto fail;
	}
	if (!err)
		err = listen_at(c);
	if (err) {
		if (configured)
			log_error("sensor.control_socket: cannot listen on '%s': %s", path, why(err));
		else
			log_warn("control socket: cannot listen on '%s': %s; running without (vigie "
				 "top cannot attach)", path, why(err));
		goto fail;
	}
	log_info("control socket: listening on %s (root only)", path);
	s->control = c;
	return 0;
fail:
	control_free(c);
	return configured ? (err ? err : -EBUSY) : 0;
}

int control_fd(const struct control *c)
{
	return c ? c->efd : -1;
}

int control_clients(const struct control *c)
{
	return c ? c->n_conns : 0;
}

void control_free(struct control *c)
{
	struct stat st;

	if (!c)
		return;
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		conn_close(c, &c->conns[i]);
	if (c->efd >= 0)
		close(c->efd);
	if (c->lfd >= 0)
		close(c->lfd);
	/* removed only if it is still the socket this sensor made */
	if (c->ino && c->path && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino && unlink(c->path))
		log_warn("control socket: cannot remove '%s': %s", c->path, strerror(errno));
	pidlock_release(&c->lock);
	free(c->cache);
	free(c->path);
	free(c);
}
