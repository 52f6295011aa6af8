/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Vigie traces: what detection consumed, one JSON object per line, plain or
 * gzip-compressed. The format is a public contract: docs/trace-format.md.
 *
 * Reading never trusts the input: a bad line is skipped with a message that
 * names the file, the line and the field, and counted; only an unreadable
 * file, a bad header or a damaged gzip stream stop the reader.
 */
#ifndef VIGIE_TRACE_H
#define VIGIE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_FORMAT "vigie-trace"
#define TRACE_VERSION 1

#define TRACE_USER_LEN 64   /* user, db_user: up to 63 bytes */
#define TRACE_COMM_LEN 32   /* comm: up to 31 bytes */
#define TRACE_EXE_LEN 256   /* exe: up to 255 bytes */
#define TRACE_PEER_LEN 64   /* peer: up to 63 bytes */
#define TRACE_HOST_LEN 256

#define TRACE_MAX_LINE (1u << 20)                 /* longer lines are skipped */
#define TRACE_MAX_COUNTER 1000000000000000ull      /* 10^15 per sample */
#define TRACE_MAX_ID 4294967295ll                  /* pid, uid */

/* One sample: counter deltas of one (process, class, endpoint) for a tick.
 * Absent identity: -1 for pid/uid, "" for strings. */
struct trace_sample {
	uint64_t ts_ns;   /* realtime, ns since the epoch */
	int64_t pid;
	int64_t uid;
	char user[TRACE_USER_LEN];
	char comm[TRACE_COMM_LEN];
	char exe[TRACE_EXE_LEN];
	char db_user[TRACE_USER_LEN];
	char app_user[TRACE_USER_LEN]; /* application user (databases.app_user) */
	char app_name[TRACE_USER_LEN]; /* its application */
	char peer[TRACE_PEER_LEN];
	uint64_t egress_bytes;
	uint64_t db_bytes;     /* db_client + db_server */
	uint64_t db_rows;
	uint64_t dbfile_bytes;
	uint64_t ops;
	bool db_rows_unknown;  /* rows could not be counted (encrypted
				* connection): written as "db_rows_known":false */
};

/* All identities absent, all counters 0. */
void trace_sample_init(struct trace_sample *s);

struct trace_header {
	int version;
	char host[TRACE_HOST_LEN];
	double tick_s;
};

/* ---- reading ---- */

struct trace_reader;

/*
 * Open a trace ("-" is stdin), plain or gzip (detected by magic bytes), and
 * read its header line. NULL on failure with the reason in err.
 */
struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen);

/*
 * Next sample. 1: *out filled; 0: end of trace; -1: the trace is bad
 * (truncated or corrupt gzip stream, read error): trace_reader_error() says
 * why. Bad lines are skipped, counted and described in the message log
 * (first few per file on stderr, all through trace_reader_last_skip()).
 */
int trace_reader_next(struct trace_reader *r, struct trace_sample *out);

/* Samples older than ts_ns are skipped as non-monotonic (to chain files). */
void trace_reader_set_min_ts(struct trace_reader *r, uint64_t ts_ns);
/* Do not print skip messages (they are still counted and kept). */
void trace_reader_set_quiet(struct trace_reader *r, bool quiet);

const struct trace_header *trace_reader_header(const struct trace_reader *r);
uint64_t trace_reader_line(const struct trace_reader *r);      /* last line read */
uint64_t trace_reader_skipped(const struct trace_reader *r);   /* bad lines */
uint64_t trace_reader_ignored(const struct trace_reader *r);   /* other types */
bool trace_reader_compressed(const struct trace_reader *r);
uint64_t trace_reader_bytes(const struct trace_reader *r);     /* uncompressed */
const char *trace_reader_error(const struct trace_reader *r);  /* fatal error */
const char *trace_reader_last_skip(const struct trace_reader *r); /* "" if none */
void trace_reader_close(struct trace_reader *r);

/*
 * Parse one sample line (no newline). 0 ok; -1 bad with a message naming
 * the field in err; 1 a valid object of another type (ignored).
 */
int trace_parse_sample(const char *line, size_t len, struct trace_sample *out, char *err,
		       size_t errlen);

/* ---- writing ---- */

struct trace_writer;

/* Create path (gzip if it ends in ".gz", "-" is stdout) and write the
 * header. NULL on failure with a logged message. */
struct trace_writer *trace_writer_open(const char *path, const char *host, double tick_s);
/* 0 or -1 (write error, logged once). */
int trace_writer_write(struct trace_writer *w, const struct trace_sample *s);
/* Push buffered lines to the file (gzip: sync flush). 0 or -1. */
int trace_writer_flush(struct trace_writer *w);
/* Flush and close; 0, or -1 if any write failed. */
int trace_writer_close(struct trace_writer *w);

/* Format a sample line (no newline) into buf; returns its length, or 0 if
 * it does not fit. */
size_t trace_format_sample(const struct trace_sample *s, char *buf, size_t size);

#endif
