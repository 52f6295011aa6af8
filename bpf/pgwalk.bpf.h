/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PostgreSQL v3 protocol walker (backend -> frontend), BPF only. It
 * takes a connection's state and a buffer of what the backend sent, and
 * gives counts (DataRow rows, COPY rows, messages), the session parameter
 * changes it met (application users, roles) and a fault. A source calls
 * it with the bytes it has: today the socket send path (pgwire.bpf.c);
 * the plaintext at a TLS boundary would be another source of the same
 * walker. Include after pgwire_abi.h and a definition of stat_add().
 */
#ifndef VIGIE_PGWALK_BPF_H
#define VIGIE_PGWALK_BPF_H

#define PG_MAX_MSG (0x40000000u + 0x10000u) /* 1 GB StringInfo limit */
#define PG_MAX_ITERS (1u << 16)

#define PG_SCRATCH 16384 /* power of two */
#define PG_SCRATCH_MASK (PG_SCRATCH - 1)

struct pg_scratch {
	__u8 b[PG_SCRATCH];
};

/* Copy of the part of a send being walked (one per CPU: programs do not
 * migrate, and a tracing program does not nest into itself). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_scratch);
} pg_scratch SEC(".maps");


#define PG_PARAMS_PER_SEND 8

/* Changes found while walking one send, reported once its counts are
 * committed (a resync candidate that fails reports none). Per CPU, like
 * pg_scratch. */
struct pg_param_batch {
	struct pgwire_param_event ev[PG_PARAMS_PER_SEND]; /* pg_walk.params used */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_param_batch);
} pg_param_batch SEC(".maps");


/* ---- PostgreSQL v3 walker ------------------------------------------- */

enum walk_fault {
	FAULT_NONE = 0,
	FAULT_MSG,  /* impossible type or length */
	FAULT_READ, /* bpf_probe_read_user failed */
	FAULT_CAP,  /* iteration cap */
};

struct pg_walk {
	const __u8 *buf;        /* user buffer */
	__u32 len;              /* bytes sent */
	__u32 off;              /* walked so far */
	struct pgwire_conn st;  /* working copy of the connection state */
	__u64 rows;
	__u64 copy_rows;
	__u64 msgs;
	__u8 candidate;         /* resync candidate: first message checks */
	__u8 fault;             /* enum walk_fault */
	__u8 started;           /* a complete header was walked */
	__u8 params;            /* parameter changes put in pg_param_batch */
	__u8 params_lost;       /* and those that did not fit */
	__u8 pad[3];
	__u32 win_start;        /* bytes [win_start, +win_len) are in pg_scratch */
	__u32 win_len;
};

/* Backend -> frontend message types of protocol 3 with the lengths they
 * can have (length counts itself, not the type byte). */
static __always_inline bool pg_msg_valid(__u8 t, __u32 len)
{
	if (len < 4 || len > PG_MAX_MSG)
		return false;
	switch (t) {
	case '1': case '2': case '3': case 'n': case 'I': case 'c': case 's':
		return len == 4;
	case 'Z':
		return len == 5;
	case 'K':
		return len >= 8 && len <= 4 + 4 + 256;
	case 'D':
	case 'T':
	case 't':
		return len >= 6;
	case 'H': case 'G': case 'W':
		return len >= 7 && len <= 7 + 2 * 1664;
	case 'R':
		return len >= 8 && len <= (1u << 20);
	case 'S':
		return len >= 6 && len <= (1u << 20);
	case 'C':
		return len >= 5 && len <= (1u << 16);
	case 'A':
		return len >= 10;
	case 'v':
		return len >= 12 && len <= (1u << 20);
	case 'V':
		return len >= 8;
	case 'E': case 'N':
		return len >= 5;
	case 'd':
		return true;
	}
	return false;
}

/* COPY rows: a COPY ... TO STDOUT sends one CopyData per row, plus one
 * for a CSV header line (text format, HEADER option: not visible in the
 * protocol) or for the trailer (binary format). One CopyData is held back
 * (counted one behind) until CommandComplete "COPY n" says whether it was
 * a row: the count stays exact and live. */
static __always_inline void pg_copy_row(struct pg_walk *w)
{
	if (w->st.copy_held) {
		w->copy_rows++;
		w->st.copy_count++;
	}
	w->st.copy_held = 1;
}

/* COPY ended without a "COPY n" (error): the held one was a row. */
static __always_inline void pg_copy_end(struct pg_walk *w)
{
	if (w->st.copy_held)
		w->copy_rows++;
	w->st.copy_held = 0;
	w->st.copy_count = 0;
	w->st.copy = PGWIRE_COPY_NONE;
}

/* CommandComplete of a COPY: body at off, blen bytes. */
static __always_inline void pg_copy_complete(struct pg_walk *w, __u32 off, __u32 blen)
{
	char tag[32] = {};
	__u64 n = 0, rd = blen;
	bool ok = false;

	if (w->st.copy_held && blen >= 7 && blen <= sizeof(tag) && off < w->len &&
	    w->len - off >= blen) {
		barrier_var(rd);
		if (rd >= 7 && rd <= sizeof(tag) &&
		    bpf_probe_read_user(tag, rd, w->buf + off) == 0 &&
		    tag[0] == 'C' && tag[1] == 'O' && tag[2] == 'P' && tag[3] == 'Y' &&
		    tag[4] == ' ') {
			ok = true;
#pragma unroll
			for (int i = 5; i < 26; i++) {
				char c = tag[i];

				if (c == 0)
					break;
				if (c < '0' || c > '9') {
					ok = false;
					break;
				}
				n = n * 10 + (__u64)(c - '0');
			}
		}
	}
	if (ok) {
		if (n > w->st.copy_count)
			w->copy_rows++; /* the held one was a row */
	} else if (w->st.copy_held && w->st.copy == PGWIRE_COPY_OUT_TEXT) {
		w->copy_rows++; /* no readable tag: text, most likely a row */
	}
	w->st.copy_held = 0;
	w->st.copy_count = 0;
	w->st.copy = PGWIRE_COPY_NONE;
}

static __always_inline void pg_set_copy_format(struct pg_walk *w, __u32 off)
{
	__u8 fmt = 0;

	if (bpf_probe_read_user(&fmt, 1, w->buf + off)) {
		w->fault = FAULT_READ;
		return;
	}
	w->st.copy = fmt ? PGWIRE_COPY_OUT_BINARY : PGWIRE_COPY_OUT_TEXT;
}

/* nm (24 bytes) starts with the n bytes of name (its NUL included) */
static __always_inline bool pg_name_is(const char *nm, const char *name, __u32 n)
{
#pragma unroll
	for (__u32 i = 0; i < 24; i++) {
		if (i >= n)
			break;
		if (nm[i] != name[i])
			return false;
	}
	return true;
}

/* ParameterStatus 'S' (name NUL value NUL) at off, blen body bytes: an
 * application_name or session_authorization change is put in the batch
 * with the send's counts so far. The value is read from the user buffer
 * when the whole message is in this send; a message that crosses the end
 * of the send is reported with PGWIRE_PF_UNREAD when its name is here. */
static __always_inline void pg_param(struct pg_walk *w, __u32 off, __u32 blen)
{
	static const char app[] = "application_name";      /* 16 + NUL */
	static const char auth[] = "session_authorization"; /* 21 + NUL */
	struct pgwire_param_event *ev;
	struct pg_param_batch *pb;
	char nm[24] = {};
	__u32 zero = 0, avail, nlen, vlen, idx;
	__u64 rd;
	__u8 param = 0;

	if (off >= w->len)
		return;
	avail = w->len - off;
	rd = blen < avail ? blen : avail;
	if (rd > sizeof(nm))
		rd = sizeof(nm);
	barrier_var(rd);
	if (rd < sizeof(app) || rd > sizeof(nm) || bpf_probe_read_user(nm, rd, w->buf + off))
		return;
	if (pg_name_is(nm, app, sizeof(app))) {
		param = PGWIRE_PARAM_APP_NAME;
		nlen = sizeof(app);
	} else if (rd >= sizeof(auth) && pg_name_is(nm, auth, sizeof(auth))) {
		param = PGWIRE_PARAM_SESSION_AUTH;
		nlen = sizeof(auth);
	} else {
		return;
	}
	pb = bpf_map_lookup_elem(&pg_param_batch, &zero);
	if (!pb)
		return;
	idx = w->params;
	if (idx >= PG_PARAMS_PER_SEND) {
		if (w->params_lost < 255)
			w->params_lost++;
		return;
	}
	ev = &pb->ev[idx & (PG_PARAMS_PER_SEND - 1)];
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->param = param;
	ev->records_at = w->rows + w->copy_rows;
	ev->bytes_at = off >= 5 ? off - 5 : 0;
	vlen = blen > nlen ? blen - nlen - 1 : 0; /* without its NUL */
	if (blen > avail || blen < nlen + 1) {
		ev->flags = PGWIRE_PF_UNREAD;
	} else {
		rd = vlen;
		if (rd > PGWIRE_PARAM_MAX) {
			rd = PGWIRE_PARAM_MAX;
			ev->flags = PGWIRE_PF_TRUNCATED;
		}
		barrier_var(rd);
		if (rd > PGWIRE_PARAM_MAX)
			return;
		if (rd && bpf_probe_read_user(ev->value, rd, w->buf + off + nlen))
			ev->flags = PGWIRE_PF_UNREAD;
		else
			ev->len = (__u8)rd;
	}
	w->params = (__u8)(idx + 1);
}

/* One complete header: validate and count. off = first body byte. */
static __always_inline void pg_message(struct pg_walk *w, __u8 t, __u32 len, __u32 off)
{
	/* a resync candidate must start like a result does: not with a
	 * DataRow/CopyData, and not with a huge message */
	if (!pg_msg_valid(t, len) ||
	    (w->candidate && !w->started && (t == 'D' || t == 'd' || len > (1u << 20)))) {
		w->fault = FAULT_MSG;
		return;
	}
	w->started = 1;
	w->msgs++;
	switch (t) {
	case 'D':
		w->rows++;
		break;
	case 'd':
		if (w->st.copy == PGWIRE_COPY_OUT_TEXT ||
		    w->st.copy == PGWIRE_COPY_OUT_BINARY)
			pg_copy_row(w);
		break;
	case 'H':
		w->st.copy_held = 0;
		w->st.copy_count = 0;
		if (off < w->len)
			pg_set_copy_format(w, off);
		else
			w->st.copy = PGWIRE_COPY_OUT_FMT;
		break;
	case 'W':
		w->st.copy_held = 0;
		w->st.copy = PGWIRE_COPY_BOTH;
		break;
	case 'C':
		if (w->st.copy == PGWIRE_COPY_OUT_TEXT ||
		    w->st.copy == PGWIRE_COPY_OUT_BINARY)
			pg_copy_complete(w, off, len - 4);
		else
			pg_copy_end(w);
		break;
	case 'E': case 'Z':
		pg_copy_end(w);
		break;
	case 'S':
		pg_param(w, off, len - 4);
		break;
	}
}

#define PG_ROW_RUN 32

/* Messages that only count, outside COPY: their walk is msgs (and rows
 * for 'D') and nothing else (CommandComplete, ReadyForQuery and
 * ErrorResponse end a COPY, which is not under way). */
static __always_inline bool pg_counting_only(const struct pg_walk *w, __u8 t)
{
	if (t == 'D')
		return true;
	if (w->st.copy != PGWIRE_COPY_NONE)
		return false;
	switch (t) {
	case 'T': case 'C': case 'Z': case 'E': case 'N': case 'n': case 't':
	case '1': case '2': case '3': case 's': case 'I':
		return true;
	}
	return false;
}

/* A result is mostly DataRows, and a short query's answer a few messages
 * that only count (RowDescription, DataRow, CommandComplete,
 * ReadyForQuery): those whose headers are in a copy of the buffer already
 * read (b, cap bytes: a power of two; bytes [win_start, +win_len) of the
 * send) are counted here without a step each (one bpf_loop iteration for
 * up to PG_ROW_RUN + 1 messages, or none for a small send).
 * Anything else (another type, a header across the copy's end, an
 * impossible length) is left to the step, which checks it. */
static __always_inline void pg_count_run(struct pg_walk *w, const __u8 *b, __u32 cap)
{
	for (int k = 0; k < PG_ROW_RUN; k++) {
		__u32 off = w->off, idx, mlen, end;
		const __u8 *h;

		if (off >= w->len || off < w->win_start)
			break;
		idx = off - w->win_start;
		if (idx + 5 > w->win_len)
			break;
		idx &= cap - 1;
		if (idx > cap - 5)
			break;
		barrier_var(idx); /* the pointer is made from the checked register */
		h = b + idx;
		if (!pg_counting_only(w, h[0]))
			break;
		mlen = ((__u32)h[1] << 24) | ((__u32)h[2] << 16) | ((__u32)h[3] << 8) | h[4];
		if (!pg_msg_valid(h[0], mlen))
			break;
		w->rows += h[0] == 'D';
		w->msgs++;
		w->started = 1;
		end = off + 1 + mlen;
		if (end > w->len || end < off) { /* the body goes on in the next send */
			w->st.skip = off + 1 + mlen - w->len;
			w->off = w->len;
			break;
		}
		w->off = end;
	}
}

/* One walker step: consume the rest of a message or one header (and the
 * body that follows when it is in this buffer). 1 = stop.
 * A global function: the verifier checks it once, whatever the state of
 * the walk, which keeps verification small and stable. */
__noinline int pg_step_one(struct pg_walk *w)
{
	__u32 off, len, left, have, n, body, idx, zero = 0;
	struct pg_scratch *sc;
	__u64 acc, rd;

	if (!w)
		return 1;
	off = w->off;
	len = w->len;
	if (off >= len || w->fault)
		return 1;
	left = len - off;
	if (w->st.skip) {
		if (w->st.copy == PGWIRE_COPY_OUT_FMT) {
			pg_set_copy_format(w, off);
			if (w->fault)
				return 1;
		}
		n = w->st.skip < left ? w->st.skip : left;
		w->st.skip -= n;
		w->off = off + n;
		return 0;
	}
	have = w->st.hdr_len;
	if (have > 4) {
		w->fault = FAULT_MSG;
		return 1;
	}
	/* headers are read from a copy of the buffer (one bpf_probe_read_user
	 * per window instead of one per message) */
	if (off < w->win_start || off - w->win_start >= w->win_len) {
		rd = left;
		if (rd > PG_SCRATCH)
			rd = PG_SCRATCH;
		barrier_var(rd);
		if (rd < 1 || rd > PG_SCRATCH)
			return 1;
		sc = bpf_map_lookup_elem(&pg_scratch, &zero);
		if (!sc) {
			w->fault = FAULT_READ;
			return 1;
		}
		if (bpf_probe_read_user(sc->b, rd, w->buf + off)) {
			w->fault = FAULT_READ;
			return 1;
		}
		w->win_start = off;
		w->win_len = (__u32)rd;
	} else {
		sc = bpf_map_lookup_elem(&pg_scratch, &zero);
		if (!sc) {
			w->fault = FAULT_READ;
			return 1;
		}
	}
	idx = off - w->win_start;
	n = w->win_len - idx; /* bytes of this window from off */
	if (n > 5 - have)
		n = 5 - have;
	acc = w->st.hdr;
	if (n == 5) {
		acc = ((__u64)sc->b[idx & PG_SCRATCH_MASK] << 32) |
		      ((__u64)sc->b[(idx + 1) & PG_SCRATCH_MASK] << 24) |
		      ((__u64)sc->b[(idx + 2) & PG_SCRATCH_MASK] << 16) |
		      ((__u64)sc->b[(idx + 3) & PG_SCRATCH_MASK] << 8) |
		      sc->b[(idx + 4) & PG_SCRATCH_MASK];
	} else {
		acc = (acc << 8) | sc->b[idx & PG_SCRATCH_MASK];
		if (n > 1)
			acc = (acc << 8) | sc->b[(idx + 1) & PG_SCRATCH_MASK];
		if (n > 2)
			acc = (acc << 8) | sc->b[(idx + 2) & PG_SCRATCH_MASK];
		if (n > 3)
			acc = (acc << 8) | sc->b[(idx + 3) & PG_SCRATCH_MASK];
	}
	off += n;
	if (have + n < 5) { /* header continues in the next window or send */
		w->st.hdr = acc;
		w->st.hdr_len = have + n;
		w->off = off;
		return off < len ? 0 : 1;
	}
	w->st.hdr = 0;
	w->st.hdr_len = 0;
	pg_message(w, (__u8)(acc >> 32), (__u32)acc, off);
	if (w->fault)
		return 1;
	body = (__u32)acc - 4;
	left = len - off;
	if (body <= left) {
		off += body;
		body = 0;
	} else {
		body -= left;
		off = len;
	}
	w->st.skip = body;
	w->off = off;
	if (!body)
		pg_count_run(w, sc->b, PG_SCRATCH);
	return 0;
}

static long pg_step(__u32 i, void *data)
{
	return pg_step_one(data) ? 1 : 0;
}

/* A small send on a message boundary (most answers of a short query, the
 * whole of pgbench -S's) is copied to the stack and its counting-only
 * messages counted at once: no per-CPU copy to reach (memory only the
 * walk touches, cold at each send), no bpf_loop: 25 ns less a send in
 * pairs (docs/benchmarks.md). What the run leaves (another message type,
 * a fault) goes on in the steps, from where it stopped, with the same
 * rules. */
#define PG_SMALL 128 /* power of two */

static __always_inline void pg_walk_small(struct pg_walk *w)
{
	__u8 b[PG_SMALL];
	__u64 rd = w->len;

	barrier_var(rd);
	if (rd < 5 || rd > PG_SMALL)
		return;
	barrier_var(rd); /* the size passed is the register checked */
	if (bpf_probe_read_user(b, rd, w->buf))
		return;
	w->win_start = 0;
	w->win_len = rd;
	pg_count_run(w, b, PG_SMALL);
	w->win_len = 0; /* the steps read their own copy */
}

/* The PostgreSQL walker: state and buffer in, counts and fault out. */
static __always_inline void pg_walk(struct pg_walk *w)
{
	__u32 iters = w->len / 5 + w->len / PG_SCRATCH + 3;

	if (w->len <= PG_SMALL && !w->candidate && !w->st.skip && !w->st.hdr_len) {
		pg_walk_small(w);
		if (w->off >= w->len)
			return;
	}
	if (iters > PG_MAX_ITERS)
		iters = PG_MAX_ITERS;
	bpf_loop(iters, pg_step, w, 0);
	if (!w->fault && w->off < w->len) {
		w->fault = FAULT_CAP;
		stat_add(PGWIRE_STAT_LOOP_CAP, 1);
	}
	if (w->fault == FAULT_READ)
		stat_add(PGWIRE_STAT_READ_FAIL, 1);
}


#endif /* VIGIE_PGWALK_BPF_H */
