/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events to a syslog collector (sensor.syslog), beside the file or stdout:
 * RFC 5424 messages (<PRI>1 TIMESTAMP HOST vigie PID MSGID - JSON), over
 * TCP with octet-counting framing (RFC 6587), over UDP one datagram each,
 * or to a local socket (unix:///dev/log). Never blocks the daemon: the
 * socket is non-blocking, messages wait in a queue bounded in bytes
 * (sensor.syslog_queue_bytes) while the collector is down or slow, then
 * on disk (sensor.syslog_spool, bounded by sensor.syslog_spool_bytes:
 * syslog_spool.h, kept across restarts), and go in order when it is back
 * (reconnecting with a backoff from 1 to 5 s). What does not fit is
 * dropped, oldest first, and counted; the heartbeat says so.
 * At-least-once over TCP: a message cut by a broken connection is sent
 * again whole, and one written whole is kept until the collector is known
 * to have read it (its kernel acknowledged it and the connection stayed up
 * 5 s more, or the collector closed the connection cleanly, as it does
 * when the daemon stops and half-closes it); if the collector resets the
 * connection first (it was stopped with the message unread), the message
 * is written again on the next connection, before anything newer. The
 * collector may then get a message twice (the same event.id), never none.
 * A collector that keeps a connection open without reading for more than
 * 5 s and then resets it can still lose what it acknowledged.
 */
#ifndef VIGIE_SYSLOG_H
#define VIGIE_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct syslog_sink;

struct syslog_stats {
	uint64_t sent, dropped, reconnects;
	uint64_t resent; /* written again: the collector reset the connection (TCP) */
	uint64_t queued, queued_bytes;   /* in memory now */
	uint64_t spooled, spooled_bytes; /* on disk now (syslog_spool.h) */
};

/* NULL on a bad URL or spool (message logged). Connects later, never
 * blocks. spool_path NULL: memory only. */
struct syslog_sink *syslog_open(const char *url, int facility, size_t queue_bytes,
				const char *host, const char *spool_path, uint64_t spool_bytes);
/* Try for flush_ms to send what waits, then close (what is left is said). */
void syslog_close(struct syslog_sink *s, int flush_ms);
/* Queue one event line (JSON, no newline); msgid: its event.action,
 * severity: syslog severity (6 info, 4 warning, 2 critical...). */
void syslog_send(struct syslog_sink *s, const char *json, size_t len, const char *msgid,
		 int severity, uint64_t realtime_ns);
/* Make progress: connect, write what the socket takes, reconnect after
 * the backoff. syslog_send calls it; call it on every tick too. */
void syslog_service(struct syslog_sink *s, uint64_t mono_ns);
void syslog_get_stats(const struct syslog_sink *s, struct syslog_stats *st);
/* The RFC 5424 message of one event, framed for the transport, into buf
 * (tests). Returns its length, 0 if it does not fit. */
size_t syslog_format(char *buf, size_t size, bool octet_count, int facility, int severity,
		     uint64_t realtime_ns, const char *host, int pid, const char *msgid,
		     const char *json, size_t len);

#endif
