// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

struct msg {
	struct msg *next;
	size_t len, off; /* off: bytes already written (TCP) */
	bool from_spool; /* forgotten by spool_pop once sent */
	char data[];
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
	struct msg *head, *tail; /* the memory queue, oldest first */
	struct msg *inflight;    /* being written: sent before anything else */
	struct spool *spool;     /* older than the memory queue, newer than inflight */
	size_t max_bytes;
	struct syslog_stats st;
};

/* Printable US-ASCII of at most max bytes, "-" when empty (RFC 5424). */
static void header_field(char *out, size_t size, const char *in, size_t max)
{
	size_t n = 0;

	for (; in && *in && n < max && n + 1 < size; in++)
		out[n++] = *in > 32 && *in < 127 ? *in : '_';
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

size_t syslog_format(char *buf, size_t size, bool octet_count, int facility, int severity,
		     uint64_t realtime_ns, const char *host, int pid, const char *msgid,
		     const char *json, size_t len)
{
	char ts[40], h[256], m[33], head[400];
	int hl;
	size_t total;

	format_rfc3339(realtime_ns, ts, sizeof(ts));
	header_field(h, sizeof(h), host, 255);
	header_field(m, sizeof(m), msgid, 32);
	hl = snprintf(head, sizeof(head), "<%d>1 %s %s vigie %d %s - ", facility * 8 + severity, ts,
		      h, pid, m);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return 0;
	total = (size_t)hl + len;
	if (octet_count) {
		int pl = snprintf(buf, size, "%zu ", total);

		if (pl < 0 || (size_t)pl + total > size)
			return 0;
		memcpy(buf + pl, head, (size_t)hl);
		memcpy(buf + pl + hl, json, len);
		return (size_t)pl + total;
	}
	if (total > size)
		return 0;
	memcpy(buf, head, (size_t)hl);
	memcpy(buf + hl, json, len);
	return total;
}

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

static void drop_connection(struct syslog_sink *s, uint64_t now, int err)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->connecting = false;
	if (s->inflight)
		s->inflight->off = 0; /* sent again whole on the next connection */
	s->next_try_ns = now + s->backoff_ns;
	s->backoff_ns = s->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : s->backoff_ns * 2;
	if (!s->warned)
		log_warn("syslog %s: %s; events wait in memory (up to %zu bytes)%s until it is back",
			 s->url, strerror(err), s->max_bytes, s->spool ? ", then on disk" : "");
	s->warned = true;
}

static void try_connect(struct syslog_sink *s, uint64_t now)
{
	int type = s->t == T_TCP ? SOCK_STREAM : SOCK_DGRAM;

	s->fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		drop_connection(s, now, errno);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen)) {
		if (errno == EINPROGRESS) {
			s->connecting = true;
			return;
		}
		drop_connection(s, now, errno);
		return;
	}
	s->st.reconnects += s->warned;
}

/* The connection is up (a pending connect finished, the peer did not
 * close): true. */
static bool connection_up(struct syslog_sink *s, uint64_t now)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT | POLLIN };
	char c;

	if (s->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (poll(&p, 1, 0) <= 0)
			return false;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
			drop_connection(s, now, err ? err : errno);
			return false;
		}
		s->connecting = false;
		s->st.reconnects += s->warned;
	}
	/* a collector that went away shows as end of file: reconnect before
	 * handing it anything more */
	if (s->t == T_TCP && recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		drop_connection(s, now, ECONNRESET);
		return false;
	}
	return true;
}

/* Unlink the oldest message of the memory queue (still counted queued). */
static struct msg *unlink_head(struct syslog_sink *s)
{
	struct msg *m = s->head;

	s->head = m->next;
	if (!s->head)
		s->tail = NULL;
	m->next = NULL;
	return m;
}

static void forget(struct syslog_sink *s, struct msg *m)
{
	if (!m->from_spool) {
		s->st.queued--;
		s->st.queued_bytes -= m->len;
	}
	free(m);
}

static void pop(struct syslog_sink *s)
{
	forget(s, unlink_head(s));
}

static bool waiting(const struct syslog_sink *s)
{
	return s->inflight || s->head || spool_records(s->spool);
}

/* The next message to write, in order: the one being written, the spool's
 * oldest, the memory queue's oldest. NULL when nothing waits. */
static struct msg *next_msg(struct syslog_sink *s)
{
	while (!s->inflight && spool_records(s->spool)) {
		char *data;
		ssize_t n = spool_peek(s->spool, &data);
		struct msg *m = n > 0 ? malloc(sizeof(*m) + (size_t)n) : NULL;

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
		m->next = NULL;
		m->len = (size_t)n;
		m->off = 0;
		m->from_spool = true;
		s->inflight = m;
	}
	if (!s->inflight && s->head)
		s->inflight = unlink_head(s);
	return s->inflight;
}

static void sent(struct syslog_sink *s)
{
	struct msg *m = s->inflight;

	s->inflight = NULL;
	if (m->from_spool)
		spool_pop(s->spool);
	forget(s, m);
	s->st.sent++;
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
	for (struct msg *m; (m = next_msg(s));) {
		ssize_t n = send(s->fd, m->data + m->off, m->len - m->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			drop_connection(s, now, errno);
			return;
		}
		m->off += (size_t)n;
		if (m->off < m->len)
			return; /* the rest when the socket can take it */
		sent(s);
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
	m->next = NULL;
	m->off = 0;
	m->from_spool = false;
	m->len = syslog_format(m->data, cap, s->t == T_TCP, s->facility, severity, realtime_ns,
			       s->host, s->pid, msgid, json, len);
	if (m->len == 0) {
		free(m);
		s->st.dropped++;
		return;
	}
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->st.queued++;
	s->st.queued_bytes += m->len;
	/* over the bound: the oldest go to the spool, or are dropped (the
	 * one being written is not in this queue: never cut) */
	while (s->st.queued_bytes > s->max_bytes && s->head) {
		struct msg *o = s->head;
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

void syslog_close(struct syslog_sink *s, int flush_ms)
{
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
	/* what is left goes to the spool for the next start: the one being
	 * written (whole; if it came from the spool it is still there) */
	if (s->inflight && !s->inflight->from_spool) {
		s->inflight->next = s->head;
		s->head = s->inflight;
		if (!s->tail)
			s->tail = s->head;
	} else if (s->inflight) {
		free(s->inflight);
	}
	s->inflight = NULL;
	while (s->head && s->spool && spool_append(s->spool, s->head->data, s->head->len) == 0)
		pop(s);
	if (s->head)
		log_warn("syslog %s: %llu events not sent at stop", s->url,
			 (unsigned long long)s->st.queued);
	else if (spool_records(s->spool))
		log_info("syslog %s: %llu events kept in the spool for the next start", s->url,
			 (unsigned long long)spool_records(s->spool));
	while (s->head)
		pop(s);
	spool_close(s->spool);
	if (s->fd >= 0)
		close(s->fd);
	free(s->url);
	free(s);
}
