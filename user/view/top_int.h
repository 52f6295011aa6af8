/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vigie top's parts (docs/top.md): the formatting of lines (top_fmt.c,
 * pure, unit tested), the terminal (top_term.c), the connection to the
 * control socket (top_conn.c) and the in-process sensor of --standalone
 * (top_standalone.c). top.c holds the command and its loop.
 */
#ifndef VIGIE_VIEW_TOP_INT_H
#define VIGIE_VIEW_TOP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

/* ---- text (top_fmt.c) --------------------------------------------------- */

/* A growing string; oom set (and appends ignored) when memory runs out. */
struct top_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void top_buf_free(struct top_buf *b);
void top_buf_add(struct top_buf *b, const char *s, size_t n);
void top_buf_str(struct top_buf *b, const char *s);
void top_buf_printf(struct top_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A count or volume in at most 4 columns: "999", "1.2k", "12k", "123k",
 * "1.2M" ... (powers of 1000); a fraction below 10 keeps one decimal
 * ("2.5"); < 0: "-". */
void top_fmt_count(double v, char *buf, size_t size);
/* A ratio in at most 5 columns: "0.01x", "2.5x", "400x", "1.2kx", "123kx", "1.2Mx";
 * < 0 (no normal): "-". */
void top_fmt_ratio(double r, char *buf, size_t size);

/* s with every byte a terminal could act on replaced by a visible escape:
 * C0 and C1 controls and DEL as \xNN, and, when utf8, invisible formatting
 * (bidirectional overrides, zero-width characters) as \u{NNNN}; without
 * utf8 (or for invalid UTF-8) every byte >= 0x80 as \xNN. malloc'ed, NULL
 * when out of memory; NULL s gives "-". */
char *top_printable(const char *s, bool utf8);
/* Columns a printable string takes (wide characters count 2). */
int top_width(const char *s, bool utf8);
/* Append printable s in exactly width columns: padded with spaces (on the
 * left when right), or cut in the middle with a '~' when longer. */
void top_fit(struct top_buf *b, const char *s, int width, bool right, bool utf8);

/* Append printable (top_printable's) cut at its end to width columns (0:
 * whole). */
void top_cut(struct top_buf *b, const char *printable, int width, bool utf8);

/* The columns of a principal's line. */
enum top_col {
	TC_KIND = 0, TC_ID, TC_PROC, TC_PEER, TC_METRIC, TC_1M, TC_1H, TC_NORMAL, TC_RATIO,
	TC_WIN, TC_REF, TC_EP, TC_MAX
};

struct top_layout {
	int w[TC_MAX]; /* columns of each, 0: not shown */
};

/* The columns for a terminal width (the fixed ones first, the rest shared
 * by principal, process and peer, 2:1:1). */
void top_layout_for(int width, struct top_layout *l);
/* The columns that hold every row of rows whole (--once). */
void top_layout_fit(json_t *rows, bool utf8, struct top_layout *l);
/* The title line (no newline). */
void top_titles(struct top_buf *b, const struct top_layout *l);
/* One row of the snapshot as a line (no newline). shorten: executables by
 * their base name (the terminal; --once keeps them whole). */
void top_row_line(struct top_buf *b, json_t *row, const struct top_layout *l, bool utf8,
		  bool shorten);

/* What the screen shows besides the snapshot. */
struct top_screen {
	int width, height;
	bool utf8, colour;
	bool paused, help;
	const char *sort;   /* "ratio" or "volume" */
	const char *kind;   /* "all", "user", ... */
	const char *status; /* a message for the status line, NULL: none */
};

/* Header lines of a snapshot (health, totals), each cut to width columns
 * (0: whole), newline-terminated. */
void top_header(struct top_buf *b, json_t *snap, const struct top_screen *sc);
/* A whole frame for the terminal: cursor home, each line cleared to its
 * end, the rest of the screen cleared; lines cut to the width, at most
 * height lines, no newline after the last one. snap NULL: no data yet. */
void top_frame(struct top_buf *b, json_t *snap, const struct top_screen *sc);
/* --once: the header and every row, whole, plain text. */
void top_plain(struct top_buf *b, json_t *snap, bool utf8);
/* The rows a frame of this height has room for. */
int top_rows_room(int height);

/* ---- terminal (top_term.c) ---------------------------------------------- */

/* Raw mode (no echo, no line buffering, no signals from keys), the
 * alternate screen, cursor hidden. Restored by top_term_leave, which is
 * also registered with atexit and run on a crash (SIGSEGV, SIGABRT...).
 * 0, or -1 (not a terminal). */
int top_term_enter(int in_fd, int out_fd);
void top_term_leave(void);
/* Size of the terminal (80x24 when unknown). */
void top_term_size(int fd, int *width, int *height);
/* Write all of buf to fd (a terminal or a pipe): 0 or -1. */
int top_write_all(int fd, const char *buf, size_t len);

/* Keys, decoded from what the terminal sends. */
enum top_key { TK_NONE = 0, TK_QUIT, TK_PAUSE, TK_SORT_RATIO, TK_SORT_VOLUME, TK_SORT_NEXT,
	       TK_KIND, TK_HELP, TK_REDRAW, TK_SUSPEND, TK_OTHER };
/* The keys in buf[0..len) (escape sequences skipped), at most max. */
int top_keys(const char *buf, size_t len, enum top_key *keys, int max);

/* ---- the control socket (top_conn.c) -------------------------------------- */

struct top_conn {
	int fd;        /* -1: not connected */
	char *in;      /* what came, up to a whole line */
	size_t len, cap;
	bool pending;  /* a request sent, its answer not read yet */
};

enum top_conn_err { TCE_OK = 0, TCE_NO_DAEMON, TCE_DENIED, TCE_OTHER };

/* Connect to path (non-blocking afterwards). TCE_OK, or an error with msg
 * saying what to do. */
enum top_conn_err top_connect(struct top_conn *c, const char *path, char *msg, size_t msglen);
void top_disconnect(struct top_conn *c);
/* Send a snapshot request. 0 or -1 (the connection is lost). */
int top_send_request(struct top_conn *c, const char *sort, const char *kind, int limit);
/* Read what the socket has: 1 with *doc (an answer), 0 nothing whole yet,
 * -1 the connection is lost or the answer is not JSON. */
int top_read_answer(struct top_conn *c, json_t **doc);
/* Request and wait (timeout_ms) for the answer: the document (an error
 * document included), or NULL with msg. */
json_t *top_ask(struct top_conn *c, const char *sort, const char *kind, int limit, int timeout_ms,
		char *msg, size_t msglen);

/* ---- --standalone (top_standalone.c) ------------------------------------ */

struct top_standalone {
	pid_t pid;         /* the sensor, 0: none */
	char dir[64];      /* private directory: the socket and the sensor's log */
	char sock[128];
	char log[128];
};

/* Start the probes in a child process of ours (config_path: NULL for the
 * built-in defaults; outputs, state, containment and metrics off) with a
 * control socket in a private directory, and wait until it answers
 * (timeout_ms). 0, or -1 with msg (the sensor's own message when it
 * stopped). */
int top_standalone_start(struct top_standalone *sa, const char *config_path, int timeout_ms,
			 char *msg, size_t msglen);
/* Stop the child (SIGTERM, then SIGKILL after 5 s) and remove the
 * directory. Safe twice. */
void top_standalone_stop(struct top_standalone *sa);

#endif
