// SPDX-License-Identifier: GPL-2.0
/*
 * live_pgwire, part 1: synthetic streams from a fake postmaster. A child
 * of this test, registered as a postmaster, forks one "backend" per
 * scenario that sends a crafted protocol stream over a socket pair: split
 * headers, one byte at a time, binary COPY trailers, garbage (lost sync,
 * then resync), TLS, a foreign socket; the counts drained are checked
 * against each scenario's expected ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pgwire_test.h"

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t nc = (b->cap ? b->cap * 2 : 4096) + n;
		uint8_t *np = realloc(b->p, nc);

		if (!np)
			abort();
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put_be32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

static void put_be16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v };

	put(b, x, 2);
}

static void msg(struct buf *b, char type, const void *body, size_t n)
{
	put(b, &type, 1);
	put_be32(b, (uint32_t)n + 4);
	if (n)
		put(b, body, n);
}

static void msg_T(struct buf *b)
{
	struct buf body = { 0 };
	uint8_t z[18] = { 0 };

	put_be16(&body, 1);
	put(&body, "a", 2);
	put(&body, z, sizeof(z));
	msg(b, 'T', body.p, body.n);
	free(body.p);
}

static void msg_D(struct buf *b, int ncols, size_t width)
{
	struct buf body = { 0 };

	put_be16(&body, (uint16_t)ncols);
	for (int i = 0; i < ncols; i++) {
		put_be32(&body, (uint32_t)width);
		for (size_t j = 0; j < width; j++)
			put(&body, "D", 1); /* 'D' bytes inside: must not count */
	}
	msg(b, 'D', body.p, body.n);
	free(body.p);
}

static void msg_C(struct buf *b, const char *tag)
{
	msg(b, 'C', tag, strlen(tag) + 1);
}

static void msg_Z(struct buf *b)
{
	msg(b, 'Z', "I", 1);
}

static void msg_H(struct buf *b, uint8_t format)
{
	struct buf body = { 0 };

	put(&body, &format, 1);
	put_be16(&body, 1);
	put_be16(&body, format);
	msg(b, 'H', body.p, body.n);
	free(body.p);
}

static void startup(struct buf *b)
{
	uint8_t ok[4] = { 0, 0, 0, 0 };
	uint8_t key[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	msg(b, 'R', ok, 4);
	msg(b, 'S', "client_encoding\0UTF8", 21);
	msg(b, 'K', key, 8);
	msg_Z(b);
}

static void result(struct buf *b, int rows)
{
	msg_T(b);
	for (int i = 0; i < rows; i++)
		msg_D(b, 1, (size_t)(i % 7));
	msg_C(b, "SELECT");
	msg_Z(b);
}

static void send_all(int fd, const uint8_t *p, size_t n, size_t chunk)
{
	while (n) {
		size_t c = n < chunk ? n : chunk;
		ssize_t r = send(fd, p, c, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		p += r;
		n -= (size_t)r;
	}
}

static void send_buf(int fd, struct buf *b, size_t chunk)
{
	send_all(fd, b->p, b->n, chunk);
	b->n = 0;
}

enum scen {
	SC_BASIC,       /* 'N', startup, 3 rows */
	SC_BYTEWISE,    /* 100 rows sent one byte per send */
	SC_SPLITS,      /* 40 rows, chunk sizes 1..23: 23 * 40 rows */
	SC_COPY_TEXT,   /* 7 copy rows */
	SC_COPY_BINARY, /* 10 copy rows + trailer, H format byte in next send */
	SC_COPY_ERROR,  /* binary copy of 5 rows cut by an ErrorResponse */
	SC_GARBAGE,     /* 3 rows, garbage (lost), mid-row send, 4 rows (resync) */
	SC_TLS,         /* 'S' then TLS records */
	SC_TLS_DIRECT,  /* TLS record first */
	SC_FOREIGN,     /* garbage on another socket first, then 6 rows */
	SC_ZERO_COLS,   /* 5000 zero-column rows in 8 KB sends */
	SC_BIG_ROWS,    /* 20 rows of 20 KB in 8 KB sends */
	SC_COPY_CSV_HEADER, /* header line + 5 rows, "COPY 5" */
	SC_COPY_SPLIT_TAG,  /* 4 rows, "COPY 4" split over sends */
	SC_FIRST_FAULT,     /* first send: startup then garbage; then 2 rows */
	SC_SMALL_HANDOFF,   /* small sends whose counting run stops at a COPY, a parameter */
	SC_SMALL_FAULT,     /* small send: 2 rows, then garbage; then 4 rows (resync) */
	SC_RANDOM,          /* startup, then 300 sends of random bytes */
	SC_COUNT,
};

#define ANY 0xffffffffu /* not checked */

static const struct {
	const char *name;
	uint64_t rows, copy_rows;
	uint32_t lost, resyncs;
	bool encrypted;
} expect[SC_COUNT] = {
	[SC_BASIC] = { "basic", 3, 0, 0, 0, false },
	[SC_BYTEWISE] = { "one byte per send", 100, 0, 0, 0, false },
	[SC_SPLITS] = { "split at every offset", 23 * 40, 0, 0, 0, false },
	[SC_COPY_TEXT] = { "copy text", 7, 7, 0, 0, false },
	[SC_COPY_BINARY] = { "copy binary", 10, 10, 0, 0, false },
	[SC_COPY_ERROR] = { "copy binary cut by error", 5, 5, 0, 0, false },
	[SC_GARBAGE] = { "lost sync then resync", 3 + 4, 0, 1, 1, false },
	[SC_TLS] = { "tls after S", 0, 0, 0, 0, true },
	[SC_TLS_DIRECT] = { "direct tls", 0, 0, 0, 0, true },
	[SC_FOREIGN] = { "foreign socket first", 6, 0, 0, 0, false },
	[SC_ZERO_COLS] = { "zero-column rows", 5000, 0, 0, 0, false },
	[SC_BIG_ROWS] = { "20 KB rows", 20, 0, 0, 0, false },
	[SC_COPY_CSV_HEADER] = { "copy csv header", 5, 5, 0, 0, false },
	[SC_COPY_SPLIT_TAG] = { "copy tag split over sends", 4, 4, 0, 0, false },
	[SC_FIRST_FAULT] = { "fault inside the first send", 2, 0, 1, 1, false },
	[SC_SMALL_HANDOFF] = { "small sends handed to the steps", 2 + 2 + 3, 2, 0, 0, false },
	[SC_SMALL_FAULT] = { "small send faulting after its rows", 2 + 4, 0, 1, 1, false },
	[SC_RANDOM] = { "random bytes", ANY, ANY, ANY, ANY, false },
};

static void run_scenario(enum scen s, int fd)
{
	struct buf b = { 0 };
	uint8_t n = 'N';

	switch (s) {
	case SC_BASIC:
		send_all(fd, &n, 1, 1);
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		result(&b, 3);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_BYTEWISE:
		startup(&b);
		result(&b, 100);
		send_buf(fd, &b, 1);
		break;
	case SC_SPLITS:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		for (size_t chunk = 1; chunk <= 23; chunk++) {
			result(&b, 40);
			send_buf(fd, &b, chunk);
		}
		break;
	case SC_COPY_TEXT:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_H(&b, 0);
		for (int i = 0; i < 7; i++)
			msg(&b, 'd', "1\tx\n", 4);
		msg(&b, 'c', NULL, 0);
		msg_C(&b, "COPY 7");
		msg_Z(&b);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_COPY_BINARY: {
		uint8_t trailer[2] = { 0xff, 0xff };
		size_t hend;

		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_H(&b, 1);
		hend = b.n - 5; /* end of the H header: format byte next */
		send_all(fd, b.p, hend, 1 << 20);
		memmove(b.p, b.p + hend, b.n - hend);
		b.n -= hend;
		for (int i = 0; i < 10; i++)
			msg(&b, 'd', "\0\1\0\0\0\1x", 7);
		msg(&b, 'd', trailer, 2);
		msg(&b, 'c', NULL, 0);
		msg_C(&b, "COPY 10");
		msg_Z(&b);
		send_buf(fd, &b, 1 << 20);
		break;
	}
	case SC_COPY_ERROR:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_H(&b, 1);
		for (int i = 0; i < 5; i++)
			msg(&b, 'd', "\0\1\0\0\0\1x", 7);
		msg(&b, 'E', "SERROR\0\0", 8);
		msg_Z(&b);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_GARBAGE: {
		startup(&b);
		result(&b, 3);
		send_buf(fd, &b, 1 << 20);
		put(&b, "xyzzy-not-a-message", 19);
		send_buf(fd, &b, 1 << 20);
		/* looks like it starts mid-row: a DataRow, then garbage */
		msg_D(&b, 1, 3);
		put(&b, "\x01\x02", 2);
		send_buf(fd, &b, 1 << 20);
		result(&b, 4);
		send_buf(fd, &b, 1 << 20);
		break;
	}
	case SC_TLS: {
		uint8_t s1 = 'S';
		uint8_t rec[64] = { 0x16, 0x03, 0x03, 0x00, 0x3b };

		send_all(fd, &s1, 1, 1);
		for (size_t i = 5; i < sizeof(rec); i++)
			rec[i] = (uint8_t)('D' + i);
		send_all(fd, rec, sizeof(rec), 1 << 20);
		rec[0] = 0x17;
		for (int i = 0; i < 10; i++)
			send_all(fd, rec, sizeof(rec), 1 << 20);
		break;
	}
	case SC_TLS_DIRECT: {
		uint8_t rec[32] = { 0x16, 0x03, 0x01, 0x00, 0x1b };

		send_all(fd, rec, sizeof(rec), 1 << 20);
		startup(&b); /* plain-looking data after: still encrypted */
		result(&b, 9);
		send_buf(fd, &b, 1 << 20);
		break;
	}
	case SC_FOREIGN: {
		int sp[2];
		uint8_t stat_msg[16] = { 0x0c, 0, 0, 0, 16, 0, 0, 0 };

		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp))
			_exit(4);
		send_all(sp[0], stat_msg, sizeof(stat_msg), 1 << 20);
		startup(&b);
		result(&b, 6);
		send_buf(fd, &b, 1 << 20);
		send_all(sp[0], stat_msg, sizeof(stat_msg), 1 << 20);
		close(sp[0]);
		close(sp[1]);
		break;
	}
	case SC_ZERO_COLS:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg(&b, 'T', "\0\0", 2);
		for (int i = 0; i < 5000; i++)
			msg_D(&b, 0, 0);
		msg_C(&b, "SELECT 5000");
		msg_Z(&b);
		send_buf(fd, &b, 8192);
		break;
	case SC_BIG_ROWS:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_T(&b);
		for (int i = 0; i < 20; i++)
			msg_D(&b, 1, 20000);
		msg_C(&b, "SELECT 20");
		msg_Z(&b);
		send_buf(fd, &b, 8192);
		break;
	case SC_COPY_CSV_HEADER:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_H(&b, 0);
		msg(&b, 'd', "id,name\n", 8);
		for (int i = 0; i < 5; i++)
			msg(&b, 'd', "1,x\n", 4);
		msg(&b, 'c', NULL, 0);
		msg_C(&b, "COPY 5");
		msg_Z(&b);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_COPY_SPLIT_TAG:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_H(&b, 0);
		for (int i = 0; i < 4; i++)
			msg(&b, 'd', "1\tx\n", 4);
		msg(&b, 'c', NULL, 0);
		msg_C(&b, "COPY 4");
		msg_Z(&b);
		send_all(fd, b.p, b.n - 9, 1 << 20); /* cut inside "COPY 4" */
		send_all(fd, b.p + b.n - 9, 9, 1 << 20);
		b.n = 0;
		break;
	case SC_FIRST_FAULT:
		startup(&b);
		put(&b, "\x7f\x7f\x7f\x7f\x7f\x7f", 6);
		send_buf(fd, &b, 1 << 20);
		result(&b, 2);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_SMALL_HANDOFF:
		/* each send under the walker's small-send size (PG_SMALL, 128
		 * bytes) and on a boundary: its counting run stops at the
		 * CopyOutResponse, then at the ParameterStatus, and the steps
		 * go on from there */
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_T(&b);
		msg_D(&b, 1, 0);
		msg_D(&b, 1, 1);
		msg_H(&b, 0);
		msg(&b, 'd', "1\tx\n", 4);
		msg(&b, 'd', "2\ty\n", 4);
		msg(&b, 'c', NULL, 0);
		msg_C(&b, "COPY 2");
		msg_Z(&b);
		if (b.n > 128)
			_exit(5);
		send_buf(fd, &b, 1 << 20);
		msg_C(&b, "SET");
		msg(&b, 'S', "application_name\0psql", 22);
		msg_Z(&b);
		send_buf(fd, &b, 1 << 20);
		result(&b, 3);
		if (b.n > 128)
			_exit(5);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_SMALL_FAULT:
		startup(&b);
		send_buf(fd, &b, 1 << 20);
		msg_T(&b);
		msg_D(&b, 1, 2);
		msg_D(&b, 1, 3);
		put(&b, "\x7f\x7f\x7f\x7f\x7f\x7f", 6);
		send_buf(fd, &b, 1 << 20);
		result(&b, 4);
		send_buf(fd, &b, 1 << 20);
		break;
	case SC_RANDOM: {
		uint32_t x = 12345;

		startup(&b);
		send_buf(fd, &b, 1 << 20);
		for (int i = 0; i < 300; i++) {
			size_t len;

			x = x * 1103515245u + 12345u;
			len = 1 + (x >> 8) % 20000;
			for (size_t k = 0; k < len; k++) {
				uint8_t c;

				x = x * 1103515245u + 12345u;
				/* mostly message type letters and small lengths */
				c = (x >> 24) % 3 ? (uint8_t)"DdTCZHcEN\0\0\0\x01\x05"[(x >> 8) % 14]
						  : (uint8_t)(x >> 16);
				put(&b, &c, 1);
			}
			send_buf(fd, &b, 1 << 20);
		}
		break;
	}
	case SC_COUNT:
		break;
	}
	free(b.p);
}

/* The fake postmaster: waits for "go", then forks one backend per
 * scenario, drains its socket, and reports the pids on `out`. */
static void fake_postmaster(int go, int out)
{
	char c;

	if (read(go, &c, 1) != 1)
		_exit(2);
	for (int s = 0; s < SC_COUNT; s++) {
		int sp[2];
		pid_t pid;
		char sink[65536];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
			_exit(2);
		pid = fork();
		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			close(sp[1]);
			run_scenario((enum scen)s, sp[0]);
			close(sp[0]);
			_exit(0);
		}
		close(sp[0]);
		while (read(sp[1], sink, sizeof(sink)) > 0)
			;
		close(sp[1]);
		waitpid(pid, NULL, 0);
		uint32_t p = (uint32_t)pid;

		if (write(out, &p, sizeof(p)) != sizeof(p))
			_exit(2);
	}
	_exit(0);
}

/* Every scenario once, its counts checked (mode: the probe, for the names). */
void synthetic_streams(struct pgwire *pg, const char *mode)
{
	int go[2], out[2];
	uint32_t pids[SC_COUNT];
	pid_t fpm;
	char c = 'g';
	struct pgwire_stats st0, st1;

	printf("synthetic streams (%s probe)\n", mode);
	pgwire_stats(pg, &st0);
	if (pipe(go) || pipe(out)) {
		CHECK(0, "pipe: %s", strerror(errno));
		return;
	}
	fpm = fork();
	if (fpm == 0) {
		close(go[1]);
		close(out[0]);
		fake_postmaster(go[0], out[1]);
	}
	close(go[0]);
	close(out[1]);
	CHECK(pgwire_add_postmaster(pg, (uint32_t)fpm) == 0, "add fake postmaster");
	pgwire_drain(pg, on_delta, NULL);
	acc_reset();
	if (write(go[1], &c, 1) != 1)
		CHECK(0, "write go");
	for (int s = 0; s < SC_COUNT; s++)
		if (read(out[0], &pids[s], sizeof(pids[s])) != sizeof(pids[s])) {
			CHECK(0, "fake postmaster died at scenario %d", s);
			pids[s] = 0;
		}
	waitpid(fpm, NULL, 0);
	close(go[1]);
	close(out[0]);
	drain_until_exits(pg, SC_COUNT);
	for (int s = 0; s < SC_COUNT; s++) {
		struct acc *a = acc_get(pids[s]);
		char what[128];

		if (!a) {
			CHECK(0, "%s: backend %u not reported", expect[s].name, pids[s]);
			continue;
		}
		if (expect[s].rows == ANY) {
			CHECK(a->exited && a->bytes > 0, "%s [%s]: survived", expect[s].name, mode);
			printf("  %-44s rows %llu lost_syncs %u resyncs %u unparsed %llu of %llu\n",
			       expect[s].name, (unsigned long long)a->rows, a->lost, a->resyncs,
			       (unsigned long long)a->unparsed, (unsigned long long)a->bytes);
			continue;
		}
		snprintf(what, sizeof(what), "%s [%s] rows", expect[s].name, mode);
		CHECK_EQ(a->rows, expect[s].rows, what);
		snprintf(what, sizeof(what), "%s [%s] copy_rows", expect[s].name, mode);
		CHECK_EQ(a->copy_rows, expect[s].copy_rows, what);
		snprintf(what, sizeof(what), "%s [%s] lost_syncs", expect[s].name, mode);
		CHECK_EQ(a->lost, expect[s].lost, what);
		snprintf(what, sizeof(what), "%s [%s] resyncs", expect[s].name, mode);
		CHECK_EQ(a->resyncs, expect[s].resyncs, what);
		CHECK(a->encrypted == expect[s].encrypted, "%s [%s]: encrypted %d", expect[s].name,
		      mode, a->encrypted);
		CHECK(a->unknown == (expect[s].encrypted || expect[s].lost > 0),
		      "%s [%s]: rows_known %d", expect[s].name, mode, !a->unknown);
		CHECK(a->exited, "%s [%s]: exit reported", expect[s].name, mode);
		CHECK(a->bytes > 0, "%s [%s]: bytes counted", expect[s].name, mode);
	}
	pgwire_stats(pg, &st1);
	CHECK_EQ(st1.encrypted_total - st0.encrypted_total, 2, "stats: encrypted connections");
	CHECK(st1.lost_syncs - st0.lost_syncs >= 3, "stats: lost syncs");
	CHECK(st1.resyncs - st0.resyncs >= 2, "stats: resyncs");
	CHECK_EQ(st1.loop_caps - st0.loop_caps, 0, "stats: loop caps");
	CHECK_EQ(st1.read_fails - st0.read_fails, 0, "stats: read failures");
	CHECK_EQ(st1.postmasters, st0.postmasters, "fake postmaster removed at exit");
}
