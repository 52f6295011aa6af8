/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PostgreSQL's TLS plaintext source, included by pgwire.bpf.c (its maps,
 * current_backend and the walker's commit rules): a uprobe on the
 * server's be_tls_write, attached by user space (user/postgres/pgtls.c)
 * to every executable of a tracked server built with OpenSSL. One hit per
 * write of the protocol, not per row.
 */
#ifndef VIGIE_PGTLS_BPF_H
#define VIGIE_PGTLS_BPF_H

/* be_tls_write(Port *, void *ptr, size_t len, int *waitfor), at entry: one
 * uprobe hit per write, walked before it is encrypted. SSL_write writes all
 * of it or fails; a write whose socket send would block returns -1 and is
 * called again with the same buffer, and the socket hook marks that
 * (PGWIRE_F_TLS_RETRY, set on -EAGAIN): that call is not walked again. */
SEC("uprobe")
int BPF_KPROBE(pg_tls_write_enter, void *port, const void *ptr, __u64 size)
{
	struct pgwire_backend *b = current_backend(bpf_get_current_task_btf());
	struct pg_walk w = {};
	__u32 len;
	__u8 sync;

	if (!b || !size)
		return 0;
	if ((b->flags & PGWIRE_F_TLS_RETRY) && b->tls_last_buf == (__u64)ptr &&
	    b->tls_last_len == size) {
		b->flags &= ~PGWIRE_F_TLS_RETRY;
		stat_add(PGWIRE_STAT_TLS_RETRIES, 1);
		return 0;
	}
	b->flags &= ~PGWIRE_F_TLS_RETRY;
	b->tls_last_buf = (__u64)ptr;
	b->tls_last_len = size;
	len = size > 0x7fffffff ? 0x7fffffff : (__u32)size;
	if (!(b->flags & PGWIRE_F_TLS_PLAIN)) {
		/* a connection whose TLS began under our eyes starts on a
		 * message boundary; one found running joins at a result */
		b->flags |= PGWIRE_F_TLS_PLAIN;
		b->tls.fd = -1;
		b->tls.proto = PGWIRE_PROTO_PG;
		b->tls.sync = (b->flags & PGWIRE_F_TLS_START) && !(b->flags & PGWIRE_F_MIDSTREAM) ?
				      PGWIRE_SYNC_NEW : PGWIRE_SYNC_LOST;
		if (b->tls.sync == PGWIRE_SYNC_LOST)
			b->lost_syncs++;
	}
	sync = b->tls.sync;
	w.buf = (const __u8 *)ptr;
	w.len = len;
	w.st = b->tls;
	w.candidate = sync == PGWIRE_SYNC_LOST;
	pg_walk(&w);
	stat_add(PGWIRE_STAT_TLS_WRITES, 1);
	b->tls_bytes += len;
	if (sync == PGWIRE_SYNC_LOST && w.fault) {
		b->unparsed_bytes += len;
		stat_add(PGWIRE_STAT_UNSYNCED_BYTES, len);
		return 0;
	}
	if (sync == PGWIRE_SYNC_LOST) {
		b->resyncs++;
		stat_add(PGWIRE_STAT_RESYNC, 1);
	}
	end_walk(b, &b->tls, &w, true);
	return 0;
}

#endif
