/* SPDX-License-Identifier: GPL-2.0 */
/* PostgreSQL row counting's state, shared by the loader (pgwire.c) and
 * the drain (pgwire_drain.c); not for other files. */
#ifndef VIGIE_PGWIRE_INT_H
#define VIGIE_PGWIRE_INT_H

#include <stdint.h>
#include "postgres/pgseen.h"
#include "postgres/pgtls.h"
#include "postgres/pgwire.h"
#include "pgwire_abi.h"

/* One backend's entry as read at the start of a drain. */
struct read_entry {
	uint32_t tgid;
	struct pgwire_backend v;
};

struct pgwire {
	struct pgwire_bpf *skel;
	struct bpf_link *links[4];
	enum pgwire_probe probe;
	int backends_fd;
	int postmasters_fd;
	int stats_fd;
	int ncpus;
	/* open addressing, linear probing, power-of-two size */
	struct seen_table seen;
	uint32_t mark;
	struct ring_buffer *params_rb;   /* pg_params: session parameter changes */
	uint64_t params_dropped;         /* changes of a backend not matched */
	uint64_t sends_walked;           /* the backends' sends, summed by the drains */
	struct read_entry *reads;        /* drain: the entries read */
	size_t reads_cap;
	struct pg_segment *segs;         /* drain: a backend's segments */
	size_t segs_cap;
	struct pgtls tls;                /* be_tls_write hooks per executable */
	pgwire_contained_fn contained_fn; /* the kernel ended a backend */
	void *contained_ctx;
	int chain_fd;                    /* send_chain holding pg_sock_send, or -1 */
};

#endif
