// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "base/event.h"
#include "base/log.h"
#include "base/syslog_url.h"
#include "output/syslog.h"
#include "output/syslog_spool.h"

#define BACKOFF_MIN_NS 1000000000ull
#define BACKOFF_MAX_NS 5000000000ull
/* TCP: a written event is taken as read by the collector once its kernel
 * acknowledged it and the connection was still up this long after. Until
 * then it is kept, and written again if the collector resets the
 * connection (it closed with the event unread, or the event came after
 * its close): the collector may then get it twice, never not at all. */
#define CONFIRM_NS 5000000000ull

struct msg {
	struct msg *next;
	size_t len, off;     /* off: bytes already written (TCP) */
	uint64_t end;        /* bytes of the connection up to its last (TCP) */
	uint64_t written_ns; /* when it was written (TCP) */
	bool from_spool;     /* forgotten by spool_pop once sent */
	bool in_queue;       /* counted in st.queued */
	bool again;          /* written once already: its next write is a resend */
	char data[];
};

struct msgs {
	struct msg *head, *tail; /* oldest first */
};

struct syslog_sink {
	enum syslog_transport t;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *url;
	int facility, pid;
	char host[256];
	int fd;
	bool connecting, warned;
	uint64_t next_try_ns, backoff_ns;
	struct msgs queue;       /* the memory queue */
	struct msg *inflight;    /* being written: sent before anything else */
	struct msgs redo;        /* written, then reset by the collector: next after inflight */
	struct spool *spool;     /* older than the memory queue, newer than inflight */
	struct msgs unconfirmed; /* written on this connection, not yet known read (TCP) */
	size_t unconfirmed_bytes;
	uint64_t conn_bytes; /* written on this connection */
	uint64_t acked_base; /* TCP_INFO's bytes acknowledged when it connected (its SYN) */
	size_t max_bytes;
	struct syslog_stats st;
};

struct syslog_sink *syslog_open(const char *url, int facility, size_t queue_bytes,
				const char *host, const char *spool_path, uint64_t spool_bytes)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	char err[600];

	if (!s)
		return NULL;
	if (syslog_url_parse(url, &s->t, &s->addr, &s->addrlen, err, sizeof(err))) {
		log_error("sensor.syslog '%s': %s", url, err);
		free(s);
		return NULL;
	}
	if (spool_path && !(s->spool = spool_open(spool_path, spool_bytes, err, sizeof(err)))) {
		log_error("sensor.syslog_spool: %s", err);
		free(s);
		return NULL;
	}
	s->url = strdup(url);
	s->facility = facility;
	s->pid = (int)getpid();
	snprintf(s->host, sizeof(s->host), "%s", host ? host : "");
	s->fd = -1;
	s->max_bytes = queue_bytes;
	s->backoff_ns = BACKOFF_MIN_NS;
	return s;
}

static void msgs_push(struct msgs *l, struct msg *m)
{
	m->next = NULL;
	if (l->tail)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
}

static struct msg *msgs_pop(struct msgs *l)
{
	struct msg *m = l->head;

	if (m) {
		l->head = m->next;
		if (!l->head)
			l->tail = NULL;
		m->next = NULL;
	}
	return m;
}

/* Forget the oldest written events the collector is known to have read:
 * those within the first acked bytes of the connection written at or before
 * written_by (and beyond the queue's bound in bytes, the oldest: no more
 * than that is kept to write again). */
static void confirm(struct syslog_sink *s, uint64_t acked, uint64_t written_by)
{
	while (s->unconfirmed.head) {
		struct msg *m = s->unconfirmed.head;

		if (!(m->end <= acked && m->written_ns <= written_by) &&
		    s->unconfirmed_bytes <= s->max_bytes)
			break;
		s->unconfirmed_bytes -= m->len;
		free(msgs_pop(&s->unconfirmed));
	}
}

static size_t msgs_count(const struct msgs *l)
{
	size_t n = 0;

	for (const struct msg *m = l->head; m; m = m->next)
		n++;
	return n;
}

/* Taken out as one list, in order: the events written and not known read,
 * the one being written (whole again), those to write again. */
static struct msgs take_unsettled(struct syslog_sink *s)
{
	struct msgs l = s->unconfirmed;

	if (s->inflight) {
		s->inflight->off = 0;
		msgs_push(&l, s->inflight);
	}
	if (!l.tail) {
		l = s->redo;
	} else if (s->redo.head) {
		l.tail->next = s->redo.head;
		l.tail = s->redo.tail;
	}
	s->inflight = NULL;
	s->unconfirmed = s->redo = (struct msgs){ 0 };
	s->unconfirmed_bytes = 0;
	return l;
}

/* The connection ended. lost: the collector may not have read all that was
 * written on it (it reset the connection): what is not confirmed goes
 * again, before anything else. */
static void drop_connection(struct syslog_sink *s, uint64_t now, int err, bool lost)
{
	size_t again = lost ? msgs_count(&s->unconfirmed) : 0;

	if (lost)
		s->redo = take_unsettled(s);
	else
		confirm(s, UINT64_MAX, UINT64_MAX);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connecting = false;
	if (s->inflight)
		s->inflight->off = 0; /* sent again whole on the next connection */
	s->next_try_ns = now + s->backoff_ns;
	s->backoff_ns = s->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff_ns * 2;
	if (again)
		log_warn("syslog %s: the collector reset the connection; the %zu event%s written "
			 "in the last %llu s go%s again (it may get some twice)",
			 s->url, again, again == 1 ? "" : "s", CONFIRM_NS / 1000000000ull,
			 again == 1 ? "es" : "");
	if (!s->warned)
		log_warn("syslog %s: %s; events wait in memory (up to %zu bytes)%s until it is back",
			 s->url, err ? strerror(err) : "the collector closed the connection",
			 s->max_bytes, s->spool ? ", then on disk" : "");
	s->warned = true;
}

/* TCP_INFO's count of bytes the collector's kernel acknowledged (its SYN
 * and, once sent, our FIN count too); 0 when the kernel does not say (then
 * nothing is confirmed but by the bound in bytes). */
static uint64_t tcp_bytes_acked(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) ||
	    l < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		return 0;
	return ti.tcpi_bytes_acked;
}

/* Bytes written on this connection that the collector's kernel
 * acknowledged (less its SYN, counted at connect: acked_base). */
static uint64_t data_acked(const struct syslog_sink *s)
{
	uint64_t a = tcp_bytes_acked(s->fd);

	return a > s->acked_base ? a - s->acked_base : 0;
}

static void connected(struct syslog_sink *s)
{
	s->connecting = false;
	s->st.reconnects += s->warned;
	s->acked_base = s->t == T_TCP ? tcp_bytes_acked(s->fd) : 0;
}

/* The connection ended (err: the error that said so, 0 for end of file).
 * A collector that closes with bytes unread resets the connection instead
 * of ending it (and its kernel resets it for bytes that come after the
 * close): after an end of file, the events its kernel acknowledged were
 * read and are confirmed, the others go again. A reset with no end of
 * file before it (ECONNRESET; EPIPE after an end of file) tells nothing of
 * what was read: every event not yet confirmed goes again. */
static void connection_ended(struct syslog_sink *s, uint64_t now, int err)
{
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	char c;

	if (err != ECONNRESET && recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0 &&
	    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) == 0 && soerr != ECONNRESET)
		confirm(s, data_acked(s), UINT64_MAX);
	drop_connection(s, now, err ? err : soerr, true);
}

static void try_connect(struct syslog_sink *s, uint64_t now)
{
	int type = s->t == T_TCP ? SOCK_STREAM : SOCK_DGRAM;

	s->conn_bytes = 0;
	s->fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		drop_connection(s, now, errno, false);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen)) {
		if (errno == EINPROGRESS) {
			s->connecting = true;
			return;
		}
		drop_connection(s, now, errno, false);
		return;
	}
	connected(s);
}

/* The connection is up (a pending connect finished, the peer did not
 * close): true. */
static bool connection_up(struct syslog_sink *s, uint64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT | POLLIN };
	ssize_t r;
	char c;

	if (s->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (poll(&p, 1, 0) <= 0)
			return false;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
			drop_connection(s, now, err ? err : errno, false);
			return false;
		}
		connected(s);
	}
	if (s->t != T_TCP)
		return true;
	/* a collector that went away shows as end of file, or as a reset:
	 * reconnect before handing it anything more */
	r = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		connection_ended(s, now, r ? errno : 0);
		return false;
	}
	return true;
}

/* No longer counted as waiting in memory. */
static void unqueue(struct syslog_sink *s, struct msg *m)
{
	if (m->in_queue) {
		s->st.queued--;
		s->st.queued_bytes -= m->len;
		m->in_queue = false;
	}
}

static void pop(struct syslog_sink *s)
{
	struct msg *m = msgs_pop(&s->queue);

	unqueue(s, m);
	free(m);
}

static bool waiting(const struct syslog_sink *s)
{
	return s->inflight || s->redo.head || s->queue.head || spool_records(s->spool);
}

/* The next message to write, in order: the one being written, those the
 * collector reset, the spool's oldest, the memory queue's oldest. NULL
 * when nothing waits. */
static struct msg *next_msg(struct syslog_sink *s)
{
	if (!s->inflight && s->redo.head)
		s->inflight = msgs_pop(&s->redo);
	while (!s->inflight && spool_records(s->spool)) {
		char *data;
		ssize_t n = spool_peek(s->spool, &data);
		struct msg *m = n > 0 ? calloc(1, sizeof(*m) + (size_t)n) : NULL;

		if (!m) {
			/* unreadable: said, counted, skipped (never a loop) */
			log_warn("syslog spool: a waiting event cannot be read (%s); dropped",
				 strerror(n < 0 ? (int)-n : ENOMEM));
			free(data);
			s->st.dropped++;
			if (spool_pop(s->spool))
				return NULL;
			continue;
		}
		memcpy(m->data, data, (size_t)n);
		free(data);
		m->len = (size_t)n;
		m->from_spool = true;
		s->inflight = m;
	}
	if (!s->inflight)
		s->inflight = msgs_pop(&s->queue);
	return s->inflight;
}

/* inflight is written whole: counted, and kept until the collector is
 * known to have read it (TCP). */
static void written(struct syslog_sink *s, uint64_t now)
{
	struct msg *m = s->inflight;

	s->inflight = NULL;
	if (m->from_spool)
		spool_pop(s->spool);
	m->from_spool = false;
	unqueue(s, m);
	if (m->again)
		s->st.resent++;
	else
		s->st.sent++;
	if (s->t != T_TCP) {
		free(m);
		return;
	}
	m->again = true;
	m->off = 0;
	m->end = s->conn_bytes;
	m->written_ns = now;
	msgs_push(&s->unconfirmed, m);
	s->unconfirmed_bytes += m->len;
}

void syslog_service(struct syslog_sink *s, uint64_t now)
{
	if (!s)
		return;
	if (s->fd < 0) {
		if (!waiting(s) || now < s->next_try_ns)
			return;
		try_connect(s, now);
		if (s->fd < 0)
			return;
	}
	if (!connection_up(s, now))
		return;
	confirm(s, data_acked(s), now >= CONFIRM_NS ? now - CONFIRM_NS : 0);
	for (struct msg *m; (m = next_msg(s));) {
		ssize_t n = send(s->fd, m->data + m->off, m->len - m->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			connection_ended(s, now, errno);
			return;
		}
		m->off += (size_t)n;
		s->conn_bytes += (uint64_t)n;
		if (m->off < m->len)
			return; /* the rest when the socket can take it */
		written(s, now);
	}
	if (s->warned) {
		log_info("syslog %s: back; the waiting events were sent", s->url);
		s->warned = false;
		s->backoff_ns = BACKOFF_MIN_NS;
	}
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void syslog_send(struct syslog_sink *s, const char *json, size_t len, const char *msgid,
		 int severity, uint64_t realtime_ns)
{
	size_t cap = len + 512;
	struct msg *m;

	if (!s)
		return;
	m = malloc(sizeof(*m) + cap);
	if (!m) {
		s->st.dropped++;
		return;
	}
	memset(m, 0, sizeof(*m));
	m->in_queue = true;
	m->len = syslog_format(m->data, cap, s->t == T_TCP, s->facility, severity, realtime_ns,
			       s->host, s->pid, msgid, json, len);
	if (m->len == 0) {
		free(m);
		s->st.dropped++;
		return;
	}
	msgs_push(&s->queue, m);
	s->st.queued++;
	s->st.queued_bytes += m->len;
	/* over the bound: the oldest go to the spool, or are dropped (the
	 * one being written is not in this queue: never cut) */
	while (s->st.queued_bytes > s->max_bytes && s->queue.head) {
		struct msg *o = s->queue.head;
		bool spooled = s->spool && spool_append(s->spool, o->data, o->len) == 0;

		if (!spooled && o == m)
			break;
		s->st.dropped += !spooled;
		pop(s);
	}
	syslog_service(s, mono_now());
}

void syslog_get_stats(const struct syslog_sink *s, struct syslog_stats *st)
{
	if (s) {
		*st = s->st;
		st->spooled = spool_records(s->spool);
		st->spooled_bytes = spool_bytes(s->spool);
	} else {
		memset(st, 0, sizeof(*st));
	}
}

/* Everything written and the connection up: end it as TCP ends, and wait
 * (until end) for the collector to close its side, which it does once it
 * has read all: then every event written is confirmed. */
static void finish_connection(struct syslog_sink *s, uint64_t end)
{
	char buf[512];

	if (s->t != T_TCP || s->fd < 0 || s->connecting || waiting(s) || !s->unconfirmed.head ||
	    shutdown(s->fd, SHUT_WR))
		return;
	for (uint64_t now; (now = mono_now()) < end;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int r = poll(&p, 1, (int)((end - now) / 1000000ull) + 1);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
			continue; /* what the collector says is not read */
		if (n == 0) /* it read all, up to our end (acknowledged) */
			confirm(s, data_acked(s), UINT64_MAX);
		return;
	}
}

void syslog_close(struct syslog_sink *s, int flush_ms)
{
	struct msgs left;
	size_t unconfirmed = 0, not_sent = 0;
	uint64_t end;

	if (!s)
		return;
	end = mono_now() + (uint64_t)flush_ms * 1000000ull;
	while (waiting(s) && mono_now() < end) {
		s->next_try_ns = 0;
		syslog_service(s, mono_now());
		if (waiting(s))
			poll(NULL, 0, 20);
	}
	finish_connection(s, end);
	/* what is left goes to the spool for the next start, in order: the
	 * events written but not known read, the one being written (whole),
	 * those to write again, then the memory queue (one that came from the
	 * spool is still there) */
	unconfirmed = msgs_count(&s->unconfirmed);
	left = take_unsettled(s);
	{
		struct msgs keep = { 0 };

		while (left.head) {
			struct msg *m = msgs_pop(&left);

			if (m->from_spool)
				free(m);
			else
				msgs_push(&keep, m);
		}
		if (keep.tail) {
			keep.tail->next = s->queue.head;
			s->queue.head = keep.head;
			if (!s->queue.tail)
				s->queue.tail = keep.tail;
		}
	}
	not_sent = msgs_count(&s->queue);
	while (s->queue.head && s->spool &&
	       spool_append(s->spool, s->queue.head->data, s->queue.head->len) == 0) {
		pop(s);
		not_sent--;
		unconfirmed -= unconfirmed > 0; /* they come first */
	}
	if (not_sent && unconfirmed)
		log_warn("syslog %s: %zu event%s not sent at stop (%zu of them sent in the last %llu s, "
			 "not confirmed by the collector)",
			 s->url, not_sent, not_sent == 1 ? "" : "s", unconfirmed,
			 CONFIRM_NS / 1000000000ull);
	else if (not_sent)
		log_warn("syslog %s: %zu event%s not sent at stop", s->url, not_sent,
			 not_sent == 1 ? "" : "s");
	else if (spool_records(s->spool))
		log_info("syslog %s: %llu events kept in the spool for the next start", s->url,
			 (unsigned long long)spool_records(s->spool));
	while (s->queue.head)
		pop(s);
	spool_close(s->spool);
	if (s->fd >= 0)
		close(s->fd);
	free(s->url);
	free(s);
}
