// SPDX-License-Identifier: GPL-2.0
/*
 * Vigie PostgreSQL awareness: exact row counting in the kernel.
 *
 * Backend tracking: user space fills pg_postmasters; a process forked by a
 * postmaster becomes a backend (entry in pg_backends, from birth). User
 * space also adds backends that already ran at start (mid-stream). At exit
 * the entry is marked, user space reads its final values and deletes it.
 *
 * Send path: one program on the send side, one of
 *   tp_btf/sock_send_length  (Linux >= 6.3, fires for socket sends only)
 *   tracepoint/syscalls/sys_exit_sendto  (fallback)
 * Both fire after the data left the process, with the byte count sent.
 * In sock mode the first runs as the tail call of the sensor's own
 * sock_send_btf (vigie.bpf.c), which makes it only for sends that can be
 * a backend's answer (from a database port or a unix socket) once the
 * ports of every tracked server are known. The first check is the task
 * storage mark of backends, then one hash lookup of the current tgid in
 * pg_backends: every other process stops there. The fd and buffer are the
 * syscall's own arguments, read from the task's saved user registers
 * (valid until the syscall returns), so no enter probe is needed.
 *
 * The walker (pg_walk, bpf/pgwalk.bpf.h) follows the PostgreSQL v3 framing (1 type byte,
 * 4-byte big-endian length that includes itself) with per-connection state
 * kept across sends: body bytes left in the current message and a partial
 * header. It counts DataRow 'D' as rows and, between CopyOutResponse 'H'
 * and CommandComplete, CopyData 'd' as copy rows (see pg_copy_row). Headers
 * are read from a copy of the send (one bpf_probe_read_user per 16 KB
 * window, not one per message; on the stack for a send of at most 128
 * bytes, a short query's whole answer); bodies are skipped without reading.
 * Another wire protocol (MySQL) would add its own walker of the same shape:
 * connection state and a buffer in, counts and a fault out.
 *
 * Sync rules:
 *  - a connection seen from birth starts on a message boundary; a lone
 *    'N' byte (SSLRequest/GSSENCRequest refused) is skipped, a lone 'S' or
 *    'G' (accepted) or a TLS record means encrypted: never walked, bytes
 *    counted as unparsed, rows unknown. A first send whose first message
 *    is invalid is not the client connection (e.g. the statistics socket
 *    of PostgreSQL <= 14): ignored; the fd of the first valid one is the
 *    client connection, sends on any other fd are ignored.
 *  - an impossible type or length, a failed read or the iteration cap
 *    loses sync (counted). Counts before the fault are kept.
 *  - while unsynced (and for backends that were already running at start),
 *    a send is a resync candidate when it starts with a result-start
 *    message (any valid type but DataRow/CopyData, which are what a send
 *    starting mid-result most often looks like, and at most 1 MB long)
 *    and the whole send walks without a fault; only then are its counts
 *    committed. PostgreSQL flushes its send buffer at the end of every
 *    query cycle (ReadyForQuery), so the next result starts a send on a
 *    boundary. Bytes sent while unsynced are counted as unparsed.
 *
 * The backend's title is copied into its entry at the first send after
 * PostgreSQL set it, so user space can attribute a backend that exited
 * before it read /proc.
 *
 * TLS connections are walked from the plaintext, at be_tls_write's entry
 * (bpf/pgtls.bpf.h), with the same walker.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pgwire_abi.h"

char LICENSE[] SEC("license") = "GPL";


#if defined(__TARGET_ARCH_x86)
#define NR_WRITE 1
#define NR_SENDTO 44
#define NR_SENDMSG 46
#define REGS_NR(r) ((r)->orig_ax)
#define REGS_ARG1(r) ((r)->di)
#define REGS_ARG2(r) ((r)->si)
#else
#error "pgwire.bpf.c: syscall register layout only written for x86_64"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PGWIRE_MAX_POSTMASTERS);
	__type(key, __u32);
	__type(value, __u8);
} pg_postmasters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PGWIRE_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct pgwire_backend);
} pg_backends SEC(".maps");

/* Backend mark in task local storage: the first check of every socket send
 * of every process, much cheaper than the hash lookup on the tgid (which
 * only marked tasks then do). Set at fork by the kernel, or by user space
 * (through a pidfd) for backends found running at start. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} pg_task_mark SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PGWIRE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pg_stats SEC(".maps");

/* Session parameter changes (application users, roles), in send order. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} pg_params SEC(".maps");

/* Containment's session quarantine (pgwire_abi.h), filled by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PGWIRE_MAX_GUARDS);
	__type(key, struct pgwire_guard_key);
	__type(value, struct pgwire_guard);
} pg_guards SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&pg_stats, &idx);

	if (v)
		*v += n;
}

/* ---- backend tracking ------------------------------------------------ */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pg_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pgwire_backend nb = {};
	struct pgwire_backend *old;
	__u32 ptgid = parent->tgid;
	__u8 *pm;
	__u32 ctgid;

	pm = bpf_map_lookup_elem(&pg_postmasters, &ptgid);
	if (!pm)
		return 0;
	if (child->pid != child->tgid) /* a thread, not a process */
		return 0;
	ctgid = child->tgid;
	old = bpf_map_lookup_elem(&pg_backends, &ctgid);
	if (old && (old->flags & PGWIRE_F_EXITED))
		stat_add(PGWIRE_STAT_PID_REUSE, 1);
	nb.created_ns = bpf_ktime_get_ns();
	if (*pm & PGWIRE_PM_TLS_HOOKED)
		nb.flags |= PGWIRE_F_TLS_HOOKED;
	nb.conn.fd = -1;
	nb.conn.sync = PGWIRE_SYNC_NEW;
	nb.conn.proto = PGWIRE_PROTO_PG;
	if (bpf_map_update_elem(&pg_backends, &ctgid, &nb, BPF_ANY)) {
		stat_add(PGWIRE_STAT_BACKEND_FULL, 1);
	} else {
		__u8 *mark = bpf_task_storage_get(&pg_task_mark, child, 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (mark)
			*mark = 1;
		stat_add(PGWIRE_STAT_FORKS, 1);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pg_exit, struct task_struct *p)
{
	struct pgwire_backend *b;
	__u32 tgid = p->tgid;

	if (p->pid != p->tgid)
		return 0;
	bpf_map_delete_elem(&pg_postmasters, &tgid);
	b = bpf_map_lookup_elem(&pg_backends, &tgid);
	if (b)
		b->flags |= PGWIRE_F_EXITED;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pgwire_backend *b;
	__u32 tgid = p->tgid;

	b = bpf_map_lookup_elem(&pg_backends, &tgid);
	if (b)
		b->flags |= PGWIRE_F_EXECED;
	return 0;
}

#include "pgwalk.bpf.h"

/* Benchmarks only (tools/bench-walk-steps.sh): a build made with
 * VIGIE_BPF_DEFS=-DPGWIRE_BENCH_STOP=N returns early from a socket send
 * at step N, to measure what each step of a walked send costs: 1 at once,
 * 2 after the backend mark (none in pg_sock_send_db, which takes the sends
 * from database ports), 3 after the hash entry, 4 after the saved
 * registers, 5 after the walk (the connection claimed, its state kept, no
 * count). 0, every real build: no step is skipped, no code is added. */
#ifndef PGWIRE_BENCH_STOP
#define PGWIRE_BENCH_STOP 0
#endif
#define BENCH_STOP(n) (PGWIRE_BENCH_STOP == (n))

/* ---- send path ----------------------------------------------------- */

static __always_inline bool is_tls_record(const __u8 *h)
{
	return h[0] >= 0x14 && h[0] <= 0x17 && h[1] == 0x03 && h[2] <= 0x04;
}

static __always_inline void commit(struct pgwire_backend *b, struct pg_walk *w)
{
	b->rows += w->rows;
	b->copy_rows += w->copy_rows;
	b->msgs += w->msgs;
}

static __always_inline void mark_encrypted(struct pgwire_backend *b)
{
	b->conn.sync = PGWIRE_SYNC_ENCRYPTED;
	b->flags |= PGWIRE_F_ENCRYPTED;
	stat_add(PGWIRE_STAT_ENCRYPTED, 1);
}

/* A fault in stream c (the socket's, or a TLS connection's plaintext):
 * what was left of the buffer is unparsed; wait for the next result. */
static __always_inline void lose_sync(struct pgwire_backend *b, struct pgwire_conn *c,
				      struct pg_walk *w)
{
	__u32 rest = w->len - w->off;

	if (w->off > w->len)
		rest = 0;
	b->lost_syncs++;
	b->unparsed_bytes += rest;
	c->sync = PGWIRE_SYNC_LOST;
	c->skip = 0;
	c->hdr = 0;
	c->hdr_len = 0;
	c->copy = PGWIRE_COPY_NONE;
	c->copy_held = 0;
	c->copy_count = 0;
	stat_add(PGWIRE_STAT_LOST_SYNC, 1);
	stat_add(PGWIRE_STAT_UNSYNCED_BYTES, rest);
}

/* A clean walk: stream c continues where it ended. */
static __always_inline void keep_state(struct pgwire_conn *c, const struct pg_walk *w)
{
	c->skip = w->st.skip;
	c->hdr = w->st.hdr;
	c->hdr_len = w->st.hdr_len;
	c->copy = w->st.copy;
	c->copy_held = w->st.copy_held;
	c->copy_count = w->st.copy_count;
}

/* Keep the backend's title ("postgres: USER DB CLIENT(PORT) ...") once
 * it is set: PostgreSQL writes it over the argv area (at arg_start) right
 * after the startup packet, before authentication and before any row.
 * Tried at each send until found, then never again. */
static __always_inline void capture_title(struct pgwire_backend *b)
{
	struct task_struct *task = bpf_get_current_task_btf();
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);

	if (!start || bpf_probe_read_user(b->title, sizeof(b->title), (const void *)start))
		return;
	if (b->title[0] == 'p' && b->title[1] == 'o' && b->title[2] == 's' &&
	    b->title[3] == 't' && b->title[4] == 'g' && b->title[5] == 'r' &&
	    b->title[6] == 'e' && b->title[7] == 's' && b->title[8] == ':' &&
	    b->title[9] == ' ')
		b->flags |= PGWIRE_F_TITLE;
}

/* A reported value in quarantine ends the backend: SIGTERM, sent in its
 * own context, is what pg_terminate_backend sends. The backend finishes
 * the send under way and ends at its next check for interrupts: at login
 * or after a switch of user, before the next query's first row. */
static __always_inline void check_guard(struct pgwire_backend *b, struct pgwire_param_event *ev)
{
	struct pgwire_guard_key k = {};
	struct pgwire_guard *g;

	if (ev->flags & PGWIRE_PF_UNREAD)
		return;
	if (ev->param == PGWIRE_PARAM_APP_NAME)
		k.kind = PGWIRE_GUARD_APP_NAME;
	else
		k.kind = (ev->flags & PGWIRE_PF_LOGIN) ? PGWIRE_GUARD_LOGIN_ROLE :
							 PGWIRE_GUARD_SET_ROLE;
	k.len = ev->len;
	__builtin_memcpy(k.value, ev->value, sizeof(k.value));
	g = bpf_map_lookup_elem(&pg_guards, &k);
	if (!g || bpf_ktime_get_ns() >= g->until_ns)
		return;
	if (bpf_send_signal(15 /* SIGTERM */))
		return;
	__sync_fetch_and_add(&g->hits, 1);
	b->flags |= PGWIRE_F_CONTAINED;
	ev->flags |= PGWIRE_PF_CONTAINED;
	stat_add(PGWIRE_STAT_CONTAINED, 1);
}

/* The walk's parameter changes, before its counts are committed (their
 * counters are relative to the buffer). Most walks have none: no lookup. */
static __always_inline void report_params(struct pgwire_backend *b, const struct pg_walk *w,
					  bool tls)
{
	struct pg_param_batch *pb;
	__u32 tgid, zero = 0;

	if (w->params_lost)
		stat_add(PGWIRE_STAT_PARAM_LOST, w->params_lost);
	if (!w->params || !(pb = bpf_map_lookup_elem(&pg_param_batch, &zero)))
		return;
	tgid = bpf_get_current_pid_tgid() >> 32;
	for (__u32 i = 0; i < PG_PARAMS_PER_SEND; i++) {
		struct pgwire_param_event *ev = &pb->ev[i];

		if (i >= w->params)
			break;
		ev->tgid = tgid;
		ev->created_ns = b->created_ns;
		ev->records_at += b->rows + b->copy_rows;
		/* through TLS, bytes are the socket's: the change is placed at
		 * the start of the TLS write (walked before it is sent), so
		 * its record goes to the new value, like the rows after it */
		ev->bytes_at = tls ? b->bytes : ev->bytes_at + b->bytes;
		if (ev->param == PGWIRE_PARAM_SESSION_AUTH) {
			/* the first role a backend seen from birth reports
			 * is its login role */
			if (!(b->flags & (PGWIRE_F_ROLE_SEEN | PGWIRE_F_MIDSTREAM)))
				ev->flags |= PGWIRE_PF_LOGIN;
			b->flags |= PGWIRE_F_ROLE_SEEN;
		}
		check_guard(b, ev); /* one lookup per change: rare */
		if (bpf_ringbuf_output(&pg_params, ev, sizeof(*ev), 0))
			stat_add(PGWIRE_STAT_PARAM_LOST, 1);
		else
			stat_add(PGWIRE_STAT_PARAMS, 1);
	}
}

/* The end of a walk of stream c (the socket's, or a TLS connection's
 * plaintext): the parameter changes reported (their counters are relative
 * to the buffer, so before the counts move), the counts committed, then
 * the stream goes on where the walk ended, or waits for the next result
 * after a fault. */
static __always_inline void end_walk(struct pgwire_backend *b, struct pgwire_conn *c,
				     struct pg_walk *w, bool tls)
{
	c->sync = PGWIRE_SYNC_OK;
	report_params(b, w, tls);
	commit(b, w);
	if (w->fault)
		lose_sync(b, c, w);
	else
		keep_state(c, w);
}

/* The plaintext of this TLS connection is (or will be, from its first
 * write) walked: its encrypted bytes are not unparsed. */
static __always_inline bool tls_walked(const struct pgwire_backend *b)
{
	return (b->flags & PGWIRE_F_TLS_PLAIN) ||
	       ((b->flags & PGWIRE_F_TLS_HOOKED) && (b->flags & PGWIRE_F_TLS_START) &&
		!(b->flags & PGWIRE_F_MIDSTREAM));
}

/* A send of a TLS connection that would block: the be_tls_write it is
 * part of returns -1 and is called again with the same buffer. */
static __always_inline void note_blocked_send(struct pgwire_backend *b, long ret)
{
	if (ret == -11 /* EAGAIN */ && (b->flags & PGWIRE_F_TLS_PLAIN))
		b->flags |= PGWIRE_F_TLS_RETRY;
}

static __always_inline int handle_send(struct pgwire_backend *b, long ret, int fd,
				       const __u8 *buf)
{
	struct pg_walk w = {};
	__u8 h[4] = {};
	__u64 hl;
	__u32 len;
	bool claimed = b->conn.fd == fd;
	__u8 sync = b->conn.sync;

	if (ret <= 0 || fd < 0)
		return 0;
	if (!claimed && b->conn.fd != -1) {
		stat_add(PGWIRE_STAT_FOREIGN_SEND, 1);
		return 0;
	}
	len = ret > 0x7fffffff ? 0x7fffffff : (__u32)ret;
	if (!(b->flags & PGWIRE_F_TITLE))
		capture_title(b);

	if (sync == PGWIRE_SYNC_ENCRYPTED) {
		/* the plaintext path counts what it could not walk */
		b->bytes += len;
		if (!tls_walked(b))
			b->unparsed_bytes += len;
		return 0;
	}
	if (sync == PGWIRE_SYNC_NEW || !claimed) {
		/* the first bytes: TLS, or an SSL/GSS answer byte */
		hl = len < 4 ? len : 4;
		barrier_var(hl);
		if (hl < 1 || hl > 4 || bpf_probe_read_user(h, hl, buf))
			return 0;
		if (len >= 3 && is_tls_record(h)) {
			/* TLS without a preceding 'S' we saw (direct TLS,
			 * or a backend that was already running) */
			b->conn.fd = fd;
			mark_encrypted(b);
			b->bytes += len;
			/* its plaintext may already be walked at be_tls_write
			 * (a TLS session open before vigie, now hooked) */
			if (!tls_walked(b))
				b->unparsed_bytes += len;
			return 0;
		}
		if (sync == PGWIRE_SYNC_NEW && len == 1 &&
		    (h[0] == 'N' || h[0] == 'S' || h[0] == 'G')) {
			/* answer to SSLRequest/GSSENCRequest: 'N' refused
			 * (the protocol follows), 'S'/'G' accepted */
			b->conn.fd = fd;
			b->bytes += 1;
			if (h[0] != 'N')
				mark_encrypted(b);
			if (h[0] == 'S')
				b->flags |= PGWIRE_F_TLS_START;
			else if (h[0] == 'G')
				b->flags |= PGWIRE_F_GSSENC;
			return 0;
		}
	}

	w.buf = buf;
	w.len = len;
	w.st = b->conn;
	w.candidate = sync == PGWIRE_SYNC_LOST;
	pg_walk(&w);
	if (BENCH_STOP(5)) {
		b->conn.fd = fd;
		b->conn.sync = PGWIRE_SYNC_OK;
		if (!w.fault)
			keep_state(&b->conn, &w);
		return 0;
	}
	b->sends++;

	if (sync == PGWIRE_SYNC_LOST) {
		/* resync candidate: commit only a clean walk */
		if (w.fault) {
			b->bytes += len;
			b->unparsed_bytes += len;
			stat_add(PGWIRE_STAT_UNSYNCED_BYTES, len);
			return 0;
		}
		b->resyncs++;
		stat_add(PGWIRE_STAT_RESYNC, 1);
	} else if (sync == PGWIRE_SYNC_NEW) {
		/* from birth: the first send starts on a boundary, unless
		 * this is not the client connection at all */
		if (w.fault && !w.started) {
			stat_add(PGWIRE_STAT_FOREIGN_SEND, 1);
			return 0;
		}
	}
	b->conn.fd = fd;
	end_walk(b, &b->conn, &w, false);
	b->bytes += len; /* after: report_params places changes from it */
	return 0;
}

/* The backend t is, if it is one (t: the current task, read once by the
 * caller for the mark and the saved registers). marked: the task mark is
 * checked first (cheap for the other processes, which have none); a
 * caller whose sends are almost all a backend's goes to the hash at once. */
static __always_inline struct pgwire_backend *task_backend(struct task_struct *t, bool marked)
{
	struct pgwire_backend *b;
	__u32 tgid;

	if ((marked && !bpf_task_storage_get(&pg_task_mark, t, 0, 0)) || BENCH_STOP(2))
		return NULL;
	tgid = t->tgid;
	b = bpf_map_lookup_elem(&pg_backends, &tgid);

	if (!b || (b->flags & (PGWIRE_F_EXITED | PGWIRE_F_EXECED)))
		return NULL;
	return b;
}

static __always_inline struct pgwire_backend *current_backend(struct task_struct *t)
{
	return task_backend(t, true);
}

/* A socket send (Linux >= 6.3: sock_send_length fires after every one, in
 * the sender's context). */
static __always_inline int sock_send(int ret, bool marked)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pgwire_backend *b;
	struct pt_regs *regs;
	long nr;
	int fd;
	const __u8 *buf;

	if (BENCH_STOP(1))
		return 0;
	b = task_backend(t, marked);
	if (!b || BENCH_STOP(3))
		return 0;
	if (ret <= 0) {
		note_blocked_send(b, ret);
		return 0;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	nr = REGS_NR(regs);
	fd = (int)REGS_ARG1(regs);
	buf = (const __u8 *)REGS_ARG2(regs);
	if (nr == NR_SENDMSG) {
		struct user_msghdr m = {};
		struct iovec iov = {};

		/* single-iovec sendmsg only (PostgreSQL uses send()) */
		if (bpf_probe_read_user(&m, sizeof(m), buf) || m.msg_iovlen != 1 ||
		    bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov)) {
			stat_add(PGWIRE_STAT_FOREIGN_SEND, 1);
			return 0;
		}
		buf = iov.iov_base;
	} else if (nr != NR_SENDTO && nr != NR_WRITE) {
		return 0; /* sendfile, io_uring, kernel sends: not walked */
	}
	if (BENCH_STOP(4))
		return buf == NULL; /* the registers read, not dropped as unused */
	return handle_send(b, ret, fd, buf);
}

/* Every send of the host (attached on its own), or the sensor's tail call
 * for a send that may be a backend's (send_chain's ANY slot). */
SEC("tp_btf/sock_send_length")
int BPF_PROG(pg_sock_send, struct sock *sk, int ret, int flags)
{
	return sock_send(ret, true);
}

/* The sensor's tail call for a send from an inet database port once every
 * server's ports are known (send_chain's DB_PORT slot): never attached on
 * its own. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(pg_sock_send_db, struct sock *sk, int ret, int flags)
{
	return sock_send(ret, false);
}

/* Fallback: the sendto syscall exit. */
SEC("tracepoint/syscalls/sys_exit_sendto")
int pg_sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pgwire_backend *b = current_backend(t);
	struct pt_regs *regs;
	long ret = ctx->ret;

	if (!b)
		return 0;
	if (ret <= 0) {
		note_blocked_send(b, ret);
		return 0;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	return handle_send(b, ret, (int)REGS_ARG1(regs), (const __u8 *)REGS_ARG2(regs));
}

#include "pgtls.bpf.h"
