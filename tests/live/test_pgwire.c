// SPDX-License-Identifier: GPL-2.0
/*
 * Live test of PostgreSQL row counting (bpf/pgwire.bpf.c, user/pgwire.c,
 * user/pgbackend.c). Root only: loads the real probes.
 *
 * Part 1, synthetic: a fake postmaster (a child of this test, registered
 * as a postmaster) forks "backends" that send crafted protocol streams
 * over socket pairs: split headers, one byte at a time, binary COPY
 * trailers, garbage (lost sync, then resync), TLS, a foreign socket.
 * Part 2, real: a throw-away cluster (tests/lib/pgcluster.sh) queried with
 * psql over TCP, the unix socket and TLS, asserting exact row counts and
 * the attribution read from backend titles.
 * Both parts run with the sock probe, then part 1 and a subset of part 2
 * with the syscall probe.
 *
 * Exit 0 pass, 1 fail, 77 cannot run (not root, no BTF, no PostgreSQL).
 * Usage: live_pgwire [--hold SECONDS [auto|sock|syscall [POSTMASTER_PID]]]
 * (--hold: only attach row counting to every running PostgreSQL, or to the
 * one postmaster given, for SECONDS or until SIGINT/SIGTERM, and print the
 * totals; used by tools/bench-pgwire.sh)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "base/log.h"
#include "postgres/pgbackend.h"
#include "postgres/pgwire.h"
#include "lib/live.h"


#define CHECK_EQ(got, want, what)                                             \
	CHECK((uint64_t)(got) == (uint64_t)(want), "%s: got %llu, want %llu", \
	      what, (unsigned long long)(got), (unsigned long long)(want))

struct conn {
	const char *host;    /* NULL: unix socket (PGHOST) */
	const char *sslmode; /* NULL: disable */
	const char *user;
	const char *db;
};

/* ---- accumulating drained deltas ---- */

struct acc {
	uint32_t tgid;
	uint64_t rows, copy_rows, bytes, unparsed, msgs;
	uint32_t lost, resyncs;
	bool unknown, encrypted, exited, midstream, title_ok;
	struct pgb_title title;
};

#define MAX_ACC 1024
static struct acc accs[MAX_ACC];
static size_t naccs;

static struct acc *acc_get(uint32_t tgid)
{
	for (size_t i = 0; i < naccs; i++)
		if (accs[i].tgid == tgid)
			return &accs[i];
	return NULL;
}

static void on_delta(const struct pgwire_delta *d, void *ctx)
{
	struct acc *a = acc_get(d->tgid);

	(void)ctx;
	if (!a) {
		if (naccs == MAX_ACC)
			return;
		a = &accs[naccs++];
		memset(a, 0, sizeof(*a));
		a->tgid = d->tgid;
	}
	a->rows += d->rows;
	a->copy_rows += d->copy_rows;
	a->bytes += d->bytes;
	a->unparsed += d->unparsed_bytes;
	a->msgs += d->msgs;
	a->lost += d->lost_syncs;
	a->resyncs += d->resyncs;
	a->unknown |= !d->rows_known;
	a->encrypted |= d->encrypted;
	a->exited |= d->exited;
	a->midstream |= (d->flags & PGWIRE_F_MIDSTREAM) != 0;
	if (d->title_ok) {
		a->title_ok = true;
		a->title = d->title;
	}
}

/* The title the kernel kept (the process is gone by now). */
static void check_title(const struct acc *a, const struct conn *c, const char *name)
{
	CHECK(a->title_ok, "%s: title kept by the kernel", name);
	if (!a->title_ok)
		return;
	CHECK(strcmp(a->title.db_user, c->user) == 0 && strcmp(a->title.db_name, c->db) == 0,
	      "%s: title user %s db %s", name, a->title.db_user, a->title.db_name);
	if (c->host)
		CHECK(a->title.family == AF_INET && a->title.client_port != 0,
		      "%s: title client %s(%u)", name, a->title.client, a->title.client_port);
	else
		CHECK(a->title.local, "%s: title [local]", name);
}

static void acc_reset(void)
{
	naccs = 0;
}

static size_t acc_exited(void)
{
	size_t n = 0;

	for (size_t i = 0; i < naccs; i++)
		n += accs[i].exited;
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Drain until `exits` backends reported their exit (or 10 s). */
static void drain_until_exits(struct pgwire *pg, size_t exits)
{
	for (int i = 0; i < 200; i++) {
		pgwire_drain(pg, on_delta, NULL);
		if (acc_exited() >= exits)
			return;
		sleep_ms(50);
	}
	fprintf(stderr, "warning: only %zu of %zu backend exits seen\n", acc_exited(), exits);
}

/* ---- part 1: synthetic streams from a fake postmaster ---- */

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

static void synthetic(struct pgwire *pg, const char *mode)
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

/* ---- part 2: a real cluster ---- */

static uint32_t postmaster;

static void on_signal(int sig)
{
	pgcluster_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const struct conn TCP = { "127.0.0.1", NULL, "alice", "vigie" };
static const struct conn UNIX = { NULL, NULL, "alice", "vigie" };
static const struct conn TLS = { "127.0.0.1", "require", "alice", "vigie" };
static const struct conn ADMIN = { NULL, NULL, "postgres", "postgres" };

static bool quiet; /* psql_spawn: stderr to /dev/null too */

/* Start psql running sql; output to /dev/null, or to out_fd. */
static pid_t psql_spawn(const struct conn *c, const char *sql, int out_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (c->host)
		setenv("PGHOST", c->host, 1);
	setenv("PGSSLMODE", c->sslmode ? c->sslmode : "disable", 1);
	setenv("PGUSER", c->user, 1);
	setenv("PGDATABASE", c->db, 1);
	if (out_fd >= 0) {
		dup2(out_fd, 1);
		close(out_fd);
		execlp("psql", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
		       (char *)NULL);
	} else {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0) {
			dup2(dn, 1);
			if (quiet)
				dup2(dn, 2);
		}
		execlp("psql", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-o",
		       "/dev/null", "-c", sql, (char *)NULL);
	}
	_exit(127);
}

static int psql_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int psql(const struct conn *c, const char *sql)
{
	return psql_wait(psql_spawn(c, sql, -1));
}

/* Run sql and capture its output (trimmed). */
static int psql_capture(const struct conn *c, const char *sql, char *out, size_t size)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe(p))
		return -1;
	pid = psql_spawn(c, sql, p[1]);
	close(p[1]);
	while (got + 1 < size && (n = read(p[0], out + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	out[got] = '\0';
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	return psql_wait(pid);
}

/* Background processes tracked when no client is connected. */
static uint64_t idle_backends;

/* Wait until the backends of previous cases exited and were drained. */
static void settle(struct pgwire *pg)
{
	struct pgwire_stats st;

	for (int i = 0; i < 200; i++) {
		pgwire_drain(pg, on_delta, NULL);
		pgwire_stats(pg, &st);
		if (st.backends <= idle_backends)
			break;
		sleep_ms(25);
	}
	acc_reset();
}

static uint64_t sum_rows(void)
{
	uint64_t s = 0;

	for (size_t i = 0; i < naccs; i++)
		s += accs[i].rows;
	return s;
}

/* One psql query, exact count expected over the backends it used. */
static void case_query_rc(struct pgwire *pg, const char *name, const struct conn *c,
			  const char *sql, uint64_t rows, uint64_t copy_rows, int want_rc)
{
	char what[160];
	int rc;

	settle(pg);
	quiet = want_rc != 0; /* the expected ERROR line */
	rc = psql(c, sql);
	quiet = false;
	CHECK(rc == want_rc, "%s: psql exit %d", name, rc);
	drain_until_exits(pg, 1);
	CHECK_EQ(naccs, 1, "backends used by one psql");
	if (naccs < 1)
		return;
	snprintf(what, sizeof(what), "%s: rows", name);
	CHECK_EQ(accs[0].rows, rows, what);
	snprintf(what, sizeof(what), "%s: copy_rows", name);
	CHECK_EQ(accs[0].copy_rows, copy_rows, what);
	CHECK(!accs[0].unknown, "%s: rows known", name);
	CHECK(accs[0].lost == 0, "%s: no lost sync", name);
	check_title(&accs[0], c, name);
	printf("  %-44s rows %llu copy_rows %llu bytes %llu msgs %llu\n", name,
	       (unsigned long long)accs[0].rows, (unsigned long long)accs[0].copy_rows,
	       (unsigned long long)accs[0].bytes, (unsigned long long)accs[0].msgs);
}

static void case_query(struct pgwire *pg, const char *name, const struct conn *c,
		       const char *sql, uint64_t rows, uint64_t copy_rows)
{
	case_query_rc(pg, name, c, sql, rows, copy_rows, 0);
}

static void case_concurrent(struct pgwire *pg, const char *name, const struct conn *c, int n)
{
	pid_t pids[64];
	uint64_t want = 0;
	bool seen[64] = { false };
	char sql[128];
	int bad = 0;

	settle(pg);
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "select * from t5 limit %d", 10000 + 1000 * i);
		want += 10000 + 1000 * (uint64_t)i;
		pids[i] = psql_spawn(c, sql, -1);
	}
	for (int i = 0; i < n; i++)
		bad += psql_wait(pids[i]) != 0;
	CHECK(bad == 0, "%s: %d psql failed", name, bad);
	drain_until_exits(pg, (size_t)n);
	CHECK_EQ(naccs, n, "concurrent backends");
	CHECK_EQ(sum_rows(), want, name);
	/* each backend got exactly one of the limits */
	for (size_t k = 0; k < naccs; k++) {
		uint64_t r = accs[k].rows;
		bool ok = r >= 10000 && (r - 10000) % 1000 == 0 && (r - 10000) / 1000 < (uint64_t)n &&
			  !seen[(r - 10000) / 1000];

		if (ok)
			seen[(r - 10000) / 1000] = true;
		CHECK(ok && !accs[k].unknown, "%s: backend %u rows %llu", name, accs[k].tgid,
		      (unsigned long long)r);
		check_title(&accs[k], c, name);
	}
	printf("  %-44s %d connections, rows %llu\n", name, n, (unsigned long long)sum_rows());
}

/* Extended query protocol (Parse/Bind/Describe/Execute/Sync): pgbench
 * with a custom script sends nothing else. 2 clients x 100 x 10 rows. */
static void case_pgbench(struct pgwire *pg, const char *mode)
{
	char script[PATH_MAX + 32], name[64];
	FILE *f;
	pid_t pid;
	int rc;

	snprintf(name, sizeof(name), "pgbench -M %s, 2 x 100 x 10 rows", mode);
	snprintf(script, sizeof(script), "%s/pgwire-bench.sql", getenv("PGCLUSTER_DIR"));
	f = fopen(script, "w");
	if (!f) {
		CHECK(0, "%s: cannot write the script", name);
		return;
	}
	fprintf(f, "select * from t5 where id <= 10;\n");
	fclose(f);
	settle(pg);
	pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		setenv("PGHOST", "127.0.0.1", 1);
		setenv("PGSSLMODE", "disable", 1);
		setenv("PGUSER", "alice", 1);
		setenv("PGDATABASE", "vigie", 1);
		execlp("pgbench", "pgbench", "-n", "-M", mode, "-f", script, "-t", "100", "-c", "2",
		       "-j", "1", (char *)NULL);
		_exit(127);
	}
	rc = psql_wait(pid);
	CHECK(rc == 0, "%s: exit %d", name, rc);
	drain_until_exits(pg, 3);
	CHECK_EQ(sum_rows(), 2000, name);
	/* pgbench also opens (and closes) one connection of its own */
	for (size_t k = 0; k < naccs; k++)
		CHECK((accs[k].rows == 1000 || accs[k].rows == 0) && !accs[k].unknown,
		      "%s: backend rows %llu", name, (unsigned long long)accs[k].rows);
	printf("  %-44s rows %llu\n", name, (unsigned long long)sum_rows());
}

static void case_tls(struct pgwire *pg)
{
	struct pgwire_stats st0, st1;
	int rc;

	settle(pg);
	pgwire_stats(pg, &st0);
	rc = psql(&TLS, "select * from t5 limit 1000");
	CHECK(rc == 0, "tls: psql exit %d", rc);
	drain_until_exits(pg, 1);
	pgwire_stats(pg, &st1);
	CHECK_EQ(naccs, 1, "tls: backends");
	if (naccs < 1)
		return;
	CHECK(accs[0].encrypted, "tls: connection marked encrypted");
	check_title(&accs[0], &TLS, "tls");
	/* the plaintext is walked at be_tls_write (user/pgtls.c) */
	CHECK(!accs[0].unknown, "tls: rows known");
	CHECK_EQ(accs[0].rows, 1000, "tls: rows through TLS");
	CHECK(accs[0].bytes > 1000 * 30, "tls: bytes counted (%llu)",
	      (unsigned long long)accs[0].bytes);
	CHECK_EQ(accs[0].unparsed, 0, "tls: nothing unparsed");
	CHECK_EQ(st1.encrypted_total - st0.encrypted_total, 1, "tls: encrypted connection counted");
	CHECK(st1.tls_writes > st0.tls_writes, "tls: plaintext writes walked");
	printf("  %-44s encrypted, rows %llu, bytes %llu\n", "TLS (sslmode=require)",
	       (unsigned long long)accs[0].rows, (unsigned long long)accs[0].bytes);
}

/* A long query to catch the backend title while it runs. */
static void case_title(const struct conn *c, const char *label)
{
	struct pgb_scan s;
	struct pgb_title t;
	bool found = false;
	char out[256], sql[256];
	pid_t q;

	q = psql_spawn(c, "select pg_sleep(1.5)", -1);
	for (int i = 0; i < 40 && !found; i++) {
		sleep_ms(50);
		if (pgb_scan(NULL, &s))
			continue;
		for (size_t k = 0; k < s.n_backends && !found; k++) {
			if (s.backends[k].ppid != postmaster)
				continue;
			if (pgb_read_title(NULL, s.backends[k].pid, &t) ||
			    strcmp(t.db_user, c->user) != 0 || strstr(t.state, "SELECT") == NULL)
				continue;
			found = true;
			CHECK(strcmp(t.db_name, c->db) == 0, "%s title: db %s", label, t.db_name);
			if (c->host) {
				CHECK(t.family == AF_INET && strcmp(t.client, "127.0.0.1") == 0,
				      "%s title: client %s", label, t.client);
				snprintf(sql, sizeof(sql),
					 "select client_port from pg_stat_activity where pid = %u",
					 s.backends[k].pid);
				if (psql_capture(&ADMIN, sql, out, sizeof(out)) == 0)
					CHECK(strtoul(out, NULL, 10) == t.client_port,
					      "%s title: port %u, pg_stat_activity %s", label,
					      t.client_port, out);
				else
					CHECK(0, "%s: pg_stat_activity query failed", label);
			} else {
				CHECK(t.local && t.family == AF_UNIX && t.client_port == 0,
				      "%s title: local", label);
			}
			printf("  title %-38s user=%s db=%s client=%s port=%u state=%s\n", label,
			       t.db_user, t.db_name, t.client, t.client_port, t.state);
		}
		pgb_scan_free(&s);
	}
	CHECK(found, "%s: backend title found by scan", label);
	psql_wait(q);
}

static int setup_db(void)
{
	static const char *const sql[] = {
		"create role alice login",
		"create database vigie owner alice",
	};
	static const char *const sql2[] = {
		"create table t5 (id int primary key, name text, email text, "
		"nir text, balance numeric)",
		"insert into t5 select i, 'advisor ' || i, 'user' || i || '@example.org', "
		"lpad((1000000000000 + i)::text, 15, '0'), i * 1.5 "
		"from generate_series(1, 1000000) i",
		"analyze t5",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if (psql(&ADMIN, sql[i]))
			return -1;
	for (size_t i = 0; i < sizeof(sql2) / sizeof(sql2[0]); i++)
		if (psql(&UNIX, sql2[i]))
			return -1;
	return 0;
}

static uint32_t read_postmaster_pid(void)
{
	char path[PATH_MAX], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/postmaster.pid", getenv("PGDATA"));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return (uint32_t)strtoul(line, NULL, 10);
}

static void real_cases(struct pgwire *pg, bool full)
{
	const char *mode = pgwire_probe_name(pg);
	char name[96];

	printf("real cluster (%s probe)\n", mode);
#define NAME(s) (snprintf(name, sizeof(name), "%s [%s]", s, mode), name)
	case_query(pg, NAME("1 row, TCP"), &TCP, "select 1", 1, 0);
	case_query(pg, NAME("1,000,000 rows x 5 columns, TCP"), &TCP, "select * from t5", 1000000,
		   0);
	case_query(pg, NAME("100 rows of 20 KB, TCP"), &TCP,
		   "select i, repeat('x', 20000) from generate_series(1, 100) i", 100, 0);
	case_query(pg, NAME("COPY TO STDOUT 100,000 rows, TCP"), &TCP,
		   "copy (select * from t5 where id <= 100000) to stdout", 100000, 100000);
	if (full) {
		case_query(pg, NAME("1 row, unix"), &UNIX, "select 1", 1, 0);
		case_query(pg, NAME("1,000,000 rows x 5 columns, unix"), &UNIX, "select * from t5",
			   1000000, 0);
		case_query(pg, NAME("10 rows of 1 MB, unix"), &UNIX,
			   "select repeat(md5(i::text), 32768) from generate_series(1, 10) i", 10, 0);
		case_query(pg, NAME("zero-column rows x 200,000, TCP"), &TCP,
			   "select from generate_series(1, 200000)", 200000, 0);
		case_query(pg, NAME("zero-column rows x 50,000, unix"), &UNIX,
			   "select from generate_series(1, 50000)", 50000, 0);
		case_query(pg, NAME("COPY t5 TO STDOUT 1,000,000 rows, unix"), &UNIX,
			   "copy t5 to stdout", 1000000, 1000000);
		case_query(pg, NAME("COPY binary 100,000 rows, TCP"), &TCP,
			   "copy (select * from t5 where id <= 100000) to stdout (format binary)",
			   100000, 100000);
		case_query(pg, NAME("COPY csv header 1,000 rows, TCP"), &TCP,
			   "copy (select * from t5 where id <= 1000) to stdout (format csv, header)",
			   1000, 1000);
		case_query(pg, NAME("two statements, 0 + 12,345 rows, TCP"), &TCP,
			   "select * from t5 where id < 0; select * from t5 where id <= 12345", 12345,
			   0);
		/* the rows before the failing one were sent */
		case_query_rc(pg, NAME("error after 99,999 rows, TCP"), &TCP,
			      "select 1 / (100000 - i) from generate_series(1, 100000) i", 99999, 0,
			      1);
		if (access("/usr/bin/pgbench", X_OK) == 0) {
			case_pgbench(pg, "extended");
			case_pgbench(pg, "prepared");
		}
		case_concurrent(pg, NAME("16 concurrent, TCP"), &TCP, 16);
		case_concurrent(pg, NAME("8 concurrent, unix"), &UNIX, 8);
	}
	if (getenv("PGCLUSTER_SSL") && strcmp(getenv("PGCLUSTER_SSL"), "1") == 0)
		case_tls(pg);
	else
		printf("  TLS case skipped: no openssl to make a certificate\n");
#undef NAME
}

/* A psql session connected before the probes: joins mid-stream. */
struct session {
	FILE *in;
	pid_t pid;
};

static int session_open(struct session *s, const struct conn *c)
{
	int p[2];

	if (pipe(p))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if (dn >= 0)
			dup2(dn, 1);
		if (c->host)
			setenv("PGHOST", c->host, 1);
		setenv("PGSSLMODE", "disable", 1);
		setenv("PGUSER", c->user, 1);
		setenv("PGDATABASE", c->db, 1);
		execlp("psql", "psql", "-X", "-q", "-A", "-t", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	s->in = fdopen(p[1], "w");
	return s->in ? 0 : -1;
}

static volatile sig_atomic_t hold_stop;

static void on_hold_signal(int sig)
{
	(void)sig;
	hold_stop = 1;
}

/* Track one postmaster (and its running backends) only. */
static int track_one(struct pgwire *pg, uint32_t pm)
{
	struct pgb_scan scan;

	if (pgwire_add_postmaster(pg, pm))
		return 0;
	if (pgb_scan(NULL, &scan) == 0) {
		for (size_t i = 0; i < scan.n_backends; i++)
			if (scan.backends[i].ppid == pm)
				pgwire_add_backend(pg, scan.backends[i].pid);
		pgb_scan_free(&scan);
	}
	return 1;
}

static int hold(int seconds, const char *probe, uint32_t only)
{
	struct pgwire_opts opts = { .probe = PGWIRE_PROBE_AUTO };
	struct pgwire *pg;
	int n, stats_fd;

	if (probe && strcmp(probe, "sock") == 0)
		opts.probe = PGWIRE_PROBE_SOCK;
	else if (probe && strcmp(probe, "syscall") == 0)
		opts.probe = PGWIRE_PROBE_SYSCALL;

	signal(SIGINT, on_hold_signal);
	signal(SIGTERM, on_hold_signal);

	pg = pgwire_start(&opts);
	if (!pg)
		return 1;
	n = only ? track_one(pg, only) : pgwire_scan(pg);
	/* run time statistics of our program only while we hold this fd
	 * (reference counted: does not disturb anyone else) */
	stats_fd = getenv("PGWIRE_PROG_STATS") ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
	fprintf(stderr, "pgwire: %d postmaster(s), %s probe, holding %d s\n", n,
		pgwire_probe_name(pg), seconds);
	for (int i = 0; i < seconds * 10 && !hold_stop; i++) {
		pgwire_drain(pg, on_delta, NULL);
		sleep_ms(100);
	}
	pgwire_drain(pg, on_delta, NULL);
	uint64_t rows = 0, bytes = 0;

	for (size_t i = 0; i < naccs; i++) {
		rows += accs[i].rows;
		bytes += accs[i].bytes;
	}
	printf("rows %llu bytes %llu backends %zu\n", (unsigned long long)rows,
	       (unsigned long long)bytes, naccs);
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		printf("tls_writes %llu\n", (unsigned long long)st.tls_writes);
	}
	if (stats_fd >= 0) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(pgwire_send_prog_fd(pg), &info, &len) == 0)
			printf("prog run_time_ns %llu run_cnt %llu\n",
			       (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(pgwire_tls_prog_fd(pg), &info, &len) == 0)
			printf("tls_prog run_time_ns %llu run_cnt %llu\n",
			       (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		close(stats_fd);
	}
	pgwire_stop(pg);
	return 0;
}

int main(int argc, char **argv)
{
	struct pgwire_opts sys_opts = { .probe = PGWIRE_PROBE_SYSCALL };
	struct pgwire *pg = NULL;
	struct session sess = { NULL, -1 }, busy = { NULL, -1 };
	struct pgb_scan scan;
	struct timespec t0, t1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(getenv("VIGIE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	log_route_libbpf();
	if (geteuid() != 0) {
		printf("SKIP: live_pgwire needs root\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("SKIP: no kernel BTF (/sys/kernel/btf/vmlinux)\n");
		return 77;
	}
	if (argc >= 3 && strcmp(argv[1], "--hold") == 0)
		return hold(atoi(argv[2]), argc > 3 ? argv[3] : NULL,
			    argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* part 1 does not need PostgreSQL */
	pg = pgwire_start(NULL);
	if (!pg) {
		printf("FAIL: pgwire_start\n0 passed, 1 failed\n");
		return 1;
	}
	CHECK(strcmp(pgwire_probe_name(pg), "sock") == 0, "auto probe is sock on this kernel: %s",
	      pgwire_probe_name(pg));
	synthetic(pg, pgwire_probe_name(pg));

	if (access(live_source_path("tests/lib/pgcluster.sh"), X_OK) ||
	    access("/usr/bin/psql", X_OK) != 0) {
		printf("SKIP part 2: no tests/lib/pgcluster.sh or psql\n");
		goto done;
	}
	atexit(pgcluster_stop);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (pgcluster_start()) {
		CHECK(0, "throw-away cluster did not start");
		goto done;
	}
	postmaster = read_postmaster_pid();
	CHECK(postmaster != 0, "postmaster pid");
	if (setup_db()) {
		CHECK(0, "database setup failed");
		goto done;
	}

	/* a session connected before tracking starts (restart the probes) */
	pgwire_stop(pg);
	pg = NULL;
	if (session_open(&sess, &TCP) == 0) {
		fprintf(sess.in, "select 1;\n");
		fflush(sess.in);
	}
	/* and one busy sending a 1,000,000-row result when tracking starts */
	if (session_open(&busy, &UNIX) == 0) {
		fprintf(busy.in, "select 1;\n");
		fflush(busy.in);
	}
	sleep_ms(500);
	if (busy.in) {
		fprintf(busy.in, "select * from t5;\n");
		fflush(busy.in);
		sleep_ms(300);
	}
	pg = pgwire_start(NULL);
	if (!pg) {
		CHECK(0, "pgwire_start");
		goto done;
	}
	/* what pgwire_scan does, limited to our cluster */
	CHECK(pgb_scan(NULL, &scan) == 0, "pgb_scan");
	{
		bool pm = false;
		size_t nb = 0;

		for (size_t i = 0; i < scan.n_postmasters; i++)
			pm |= scan.postmasters[i] == postmaster;
		CHECK(pm, "scan finds the postmaster %u", postmaster);
		CHECK(pgwire_add_postmaster(pg, postmaster) == 0, "add postmaster");
		for (size_t i = 0; i < scan.n_backends; i++) {
			if (scan.backends[i].ppid != postmaster)
				continue;
			CHECK(pgwire_add_backend(pg, scan.backends[i].pid) == 0, "add backend");
			nb++;
		}
		/* checkpointer, bgwriter, walwriter, launcher, our sessions */
		CHECK(nb >= 6, "scan finds the running backends (%zu)", nb);
		pgb_scan_free(&scan);
	}
	/* deltas accumulate from here for both sessions */
	acc_reset();
	if (sess.in) {
		fprintf(sess.in, "select * from t5 limit 5000;\n\\q\n");
		fclose(sess.in);
		psql_wait(sess.pid);
		drain_until_exits(pg, 1);
		struct acc *a = NULL;

		/* the TCP one (the busy one is on the unix socket) */
		for (size_t i = 0; i < naccs; i++)
			if (accs[i].title_ok && !accs[i].title.local && accs[i].exited)
				a = &accs[i];
		CHECK(a != NULL, "mid-stream session reported");
		if (a) {
			CHECK_EQ(a->rows, 5000, "mid-stream session: rows after resync");
			CHECK_EQ(a->resyncs, 1, "mid-stream session: resyncs");
			CHECK(a->midstream, "mid-stream flag");
			printf("  %-44s rows %llu (joined at the next result)\n",
			       "session connected before start", (unsigned long long)a->rows);
		}
	}
	if (busy.in) {
		struct acc *a = NULL;

		fprintf(busy.in, "select * from t5 limit 7777;\n\\q\n");
		fclose(busy.in);
		psql_wait(busy.pid);
		drain_until_exits(pg, 2);
		for (size_t i = 0; i < naccs; i++)
			if (accs[i].title_ok && accs[i].title.local && accs[i].exited)
				a = &accs[i];
		CHECK(a != NULL, "busy session reported");
		if (a) {
			/* the rest of the 1,000,000-row result is not walked
			 * (unparsed, rows unknown), the next result is */
			CHECK_EQ(a->rows, 7777, "busy session: rows after resync");
			CHECK_EQ(a->resyncs, 1, "busy session: resyncs");
			printf("  %-44s rows %llu, %llu bytes unparsed before the resync\n",
			       "session busy at start", (unsigned long long)a->rows,
			       (unsigned long long)a->unparsed);
			if (a->unparsed > 0)
				CHECK(a->unknown, "busy session: rows unknown while unsynced");
			else
				printf("  (the busy result ended before tracking started)\n");
		}
	}
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		idle_backends = st.backends;
	}
	case_title(&TCP, "TCP");
	case_title(&UNIX, "unix");
	real_cases(pg, true);

	/* syscall probe */
	pgwire_stop(pg);
	pg = pgwire_start(&sys_opts);
	if (!pg) {
		CHECK(0, "pgwire_start(syscall)");
		goto done;
	}
	CHECK(strcmp(pgwire_probe_name(pg), "syscall") == 0, "syscall probe");
	synthetic(pg, "syscall");
	CHECK(pgwire_add_postmaster(pg, postmaster) == 0, "add postmaster");
	idle_backends = 0; /* background processes not added this time */
	real_cases(pg, false);
	{
		struct pgwire_stats st;

		pgwire_stats(pg, &st);
		printf("stats (syscall run): backends %llu forks %llu sends %llu lost %llu "
		       "resyncs %llu encrypted %llu loop_caps %llu read_fails %llu foreign %llu\n",
		       (unsigned long long)st.backends, (unsigned long long)st.forks,
		       (unsigned long long)st.sends, (unsigned long long)st.lost_syncs,
		       (unsigned long long)st.resyncs, (unsigned long long)st.encrypted_total,
		       (unsigned long long)st.loop_caps, (unsigned long long)st.read_fails,
		       (unsigned long long)st.foreign_sends);
		CHECK(st.loop_caps == 0 && st.read_fails == 0, "no loop cap, no read failure");
	}

done:
	pgwire_stop(pg);
	pgcluster_stop();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("time %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
					 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("%d passed, %d failed\n", live_passed, live_failed);
	return live_failed ? 1 : 0;
}
