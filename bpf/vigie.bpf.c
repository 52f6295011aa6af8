// SPDX-License-Identifier: GPL-2.0
/*
 * Vigie kernel side: counts bytes per (process, user, cgroup, class, remote
 * endpoint) in kernel maps, and reports exec/exit through a ring buffer.
 *
 * Two ways to see socket traffic, chosen by user space by trying:
 *  - sock mode: sock:sock_send_length / sock:sock_recv_length (Linux >= 6.3),
 *    in a tp_btf variant (direct loads) and a classic tracepoint variant;
 *  - syscalls mode: syscall enter/exit tracepoints with fd -> socket
 *    resolution.
 * db_file counting (reads of files under data directories) always uses the
 * read-family syscall tracepoints, attached only when directories are set.
 *
 * Counters live in an inner hash map reached through a one-slot
 * ARRAY_OF_MAPS: user space swaps in the spare map before draining the
 * old one (the swap waits for running programs), so every increment is
 * read exactly once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "vigie.h"
#include "vigie.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings, set by user space between open and load. */
const volatile __u64 db_port_bits[VIGIE_PORT_WORDS] = {};
const volatile bool exclude_loopback = true;
const volatile bool have_excluded_nets = false;
const volatile bool have_db_endpoints = false;
const volatile __u32 self_tgid = 0;
/* Ports a PostgreSQL server was found listening on while running (written
 * by user space through the mmapped .bss, never cleared): database ports
 * too, whatever the configuration says. */
__u64 db_port_found[VIGIE_PORT_WORDS] = {};
/* 1 while user space knows the ports of every PostgreSQL server it tracks
 * (written through the mmapped .bss): PostgreSQL's walk (send_chain) then
 * runs for sends from database ports and unix sockets only. 0, as loaded:
 * for every send. */
__u32 pg_ports_known = 0;

struct flow_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vigie_flow_key);
	__type(value, struct vigie_counter);
};

struct total_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vigie_total_key);
	__type(value, struct vigie_counter);
};

struct flow_map flows_a SEC(".maps"), flows_b SEC(".maps");
struct total_map totals_a SEC(".maps"), totals_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flow_map);
} flows SEC(".maps") = {
	.values = { &flows_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct total_map);
} totals SEC(".maps") = {
	.values = { &totals_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct vigie_net_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} excluded_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vigie_endpoint_key);
	__type(value, __u8);
} db_endpoints SEC(".maps");

/* TCP connection roles learnt from state changes: did this host open the
 * connection (client) or accept it (server)? Decides db_server/db_client
 * when a client's ephemeral port happens to be a database port. */
#define ROLE_ACTIVE 1
#define ROLE_PASSIVE 2

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock address */
	__type(value, __u8);
} tcp_roles SEC(".maps");

/* The same in socket local storage, for programs with BTF socket
 * pointers (sock-btf): a third of the lookup's cost, freed with the
 * socket. User space loads one tracker or the other. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} tcp_roles_sk SEC(".maps");

/* Destination of the unconnected UDP send under way in a thread, from
 * the cgroup sendmsg hooks (the socket itself has no peer). */
struct udp_dest {
	__u64 cookie;
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct udp_dest);
} udp_dests SEC(".maps");

/* The PostgreSQL walker's send programs (pgwire.bpf.c, pg_sock_send and
 * pg_sock_send_db; slots in vigie.h) when they can run as tail calls of
 * sock_send_btf: one program per socket send instead of two on the same
 * tracepoint. Filled by user space (pgwire.c) after a real insert; empty,
 * the tail call falls through. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VIGIE_SEND_CHAIN_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} send_chain SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&stats, &idx);

	if (p)
		*p += v;
}

static __always_inline bool port_is_db(__u16 port)
{
	__u32 word = port >> 6;

	if (word >= VIGIE_PORT_WORDS)
		return false;
	return ((db_port_bits[word] | db_port_found[word]) >> (port & 63)) & 1;
}

/* Add bytes (of ops events) to the detailed map; when it is full, to the
 * coarse totals; when that is full too, to the per-class lost counters. */
static __always_inline void count_bytes(struct vigie_flow_key *k, __u64 bytes, __u64 ops)
{
	struct vigie_counter init = { .bytes = bytes, .ops = ops };
	struct vigie_total_key tk = {};
	struct vigie_counter *c;
	__u32 zero = 0;
	void *inner;

	inner = bpf_map_lookup_elem(&flows, &zero);
	if (inner) {
		c = bpf_map_lookup_elem(inner, k);
		if (c)
			goto add;
		if (!bpf_map_update_elem(inner, k, &init, BPF_NOEXIST))
			return;
		c = bpf_map_lookup_elem(inner, k); /* lost a race to insert */
		if (c)
			goto add;
	}
	stat_add(VIGIE_STAT_FLOW_FALLBACK, 1);
	tk.tgid = k->tgid;
	tk.uid = k->uid;
	tk.cls = k->cls;
	inner = bpf_map_lookup_elem(&totals, &zero);
	if (inner) {
		c = bpf_map_lookup_elem(inner, &tk);
		if (c)
			goto add;
		if (!bpf_map_update_elem(inner, &tk, &init, BPF_NOEXIST))
			return;
		c = bpf_map_lookup_elem(inner, &tk);
		if (c)
			goto add;
	}
	stat_add(VIGIE_STAT_TOTAL_FAIL, 1);
	stat_add(VIGIE_STAT_LOST_BYTES_EGRESS + (k->cls & 3), bytes);
	return;
add:
	__sync_fetch_and_add(&c->bytes, bytes);
	__sync_fetch_and_add(&c->ops, ops);
}

/* Fill the process part of the key. False for our own process. One BTF
 * task pointer and direct loads: cheaper than three helper calls. */
static __always_inline bool fill_task(struct vigie_flow_key *k)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = t->tgid;

	if (tgid == self_tgid)
		return false;
	k->tgid = tgid;
	k->uid = t->cred->uid.val;
	k->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	return true;
}

#include "classify.bpf.h"
#include "endpoint.bpf.h"

/* Take the destination stashed by the cgroup sendmsg hook for this
 * thread's UDP send, if any (consumed whatever the send's outcome). */
static __always_inline void take_udp_dest(struct vigie_flow_key *k, __u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct udp_dest *d = bpf_map_lookup_elem(&udp_dests, &id);
	struct udp_dest copy;

	if (!d)
		return;
	copy = *d;
	bpf_map_delete_elem(&udp_dests, &id);
	if (cookie && copy.cookie != cookie)
		return;
	k->family = copy.family;
	k->rport = copy.port;
	__builtin_memcpy(k->raddr, copy.addr, 16);
}

/* ---- sock mode -------------------------------------------------------- */

#include "flowcache.bpf.h"

static __always_inline int on_sock_length(struct sock *sk, int ret, int flags, bool send,
					  bool btf)
{
	struct vigie_flow_key k = {};
	bool counted, cached;
	__u32 gen;

	if (send && ret <= 0) {
		/* a failed UDP send still consumes its stashed destination */
		if ((btf ? sk->sk_protocol : BPF_CORE_READ(sk, sk_protocol)) == IPPROTO_UDP)
			bpf_map_delete_elem(&udp_dests, &(__u64){ bpf_get_current_pid_tgid() });
		return 0;
	}
	if (ret <= 0 || (!send && (flags & MSG_PEEK)))
		return 0;
	if (!send && !have_db_endpoints) {
		/* most receives are not from a database: leave early */
		__u16 rport = btf ? sk->__sk_common.skc_dport :
				    BPF_CORE_READ(sk, __sk_common.skc_dport);

		if (!port_is_db(bpf_ntohs(rport)))
			return 0;
	}
	if (btf && cache_hit(sk, (__u64)ret, send))
		return 0;
	gen = class_gen;
	if (btf ? !sock_endpoint_btf(sk, &k) : !sock_endpoint_core(sk, &k))
		return 0;
	if (send && k.proto == IPPROTO_UDP)
		take_udp_dest(&k, btf ? bpf_get_socket_cookie(sk) : 0);
	/* TCP on sock-btf: the flow (even one not counted) goes to the cache. */
	cached = btf && k.proto == IPPROTO_TCP;
	counted = send ? classify_send(&k, (__u64)sk, btf) : classify_recv(&k, (__u64)sk, btf);
	if ((!counted && !cached) || !fill_task(&k))
		return 0;
	if (!counted)
		k.cls = VIGIE_CLASS_NOT_COUNTED;
	if (cached)
		cache_fill(sk, &k, (__u64)ret, send, gen);
	else
		count_bytes(&k, (__u64)ret, 1);
	return 0;
}

/* Could this send be a PostgreSQL backend's answer to its client, and
 * which of the walk's programs takes it (send_chain's slot), or -1? A
 * backend answers on the socket its client reached: a server's port (a
 * database port once found) or a unix socket. The other sends of the host
 * (clients, every other process) skip the walk's programs. A send from an
 * inet database port is almost always a backend's: its program looks the
 * tgid up at once, without the task mark that filters every other
 * process first (22 ns less a walked send, docs/benchmarks.md). */
static __always_inline int pg_answer_slot(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	if (!pg_ports_known || family == AF_UNIX)
		return VIGIE_SEND_CHAIN_ANY;
	if ((family == AF_INET || family == AF_INET6) && port_is_db(sk->__sk_common.skc_num))
		return VIGIE_SEND_CHAIN_DB_PORT;
	return -1;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_btf, struct sock *sk, int ret, int flags)
{
	int slot;

	on_sock_length(sk, ret, flags, true, true);
	slot = pg_answer_slot(sk);
	/* a tail call returns only when its slot is empty */
	if (slot == VIGIE_SEND_CHAIN_DB_PORT)
		bpf_tail_call(ctx, &send_chain, VIGIE_SEND_CHAIN_DB_PORT);
	if (slot >= 0)
		bpf_tail_call(ctx, &send_chain, VIGIE_SEND_CHAIN_ANY);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_btf, struct sock *sk, int ret, int flags)
{
	return on_sock_length(sk, ret, flags, false, true);
}

/* Layout of sock:sock_{send,recv}_length records (see the format file). */
struct sock_length_record {
	__u64 common;
	struct sock *sk;
	__u16 family;
	__u16 protocol;
	int ret;
	int flags;
};

SEC("tracepoint/sock/sock_send_length")
int sock_send_tp(struct sock_length_record *ctx)
{
	if (ctx->family != AF_INET && ctx->family != AF_INET6)
		return 0;
	return on_sock_length(ctx->sk, ctx->ret, ctx->flags, true, false);
}

SEC("tracepoint/sock/sock_recv_length")
int sock_recv_tp(struct sock_length_record *ctx)
{
	if (ctx->family != AF_INET && ctx->family != AF_INET6)
		return 0;
	return on_sock_length(ctx->sk, ctx->ret, ctx->flags, false, false);
}

/* ---- TCP roles and UDP destinations ---------------------------------- */

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u8 role;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->newstate == TCP_ESTABLISHED) {
		role = ctx->oldstate == TCP_SYN_SENT ? ROLE_ACTIVE :
		       ctx->oldstate == TCP_SYN_RECV ? ROLE_PASSIVE : 0;
		if (role)
			bpf_map_update_elem(&tcp_roles, &sk, &role, BPF_ANY);
	} else if (ctx->newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&tcp_roles, &sk);
	}
	return 0;
}

/* Same tracker into socket local storage (sock-btf variant). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	__u8 *role;

	if (sk->sk_protocol != IPPROTO_TCP || newstate != TCP_ESTABLISHED)
		return 0;
	if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
		return 0;
	role = bpf_sk_storage_get(&tcp_roles_sk, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (role)
		*role = oldstate == TCP_SYN_SENT ? ROLE_ACTIVE : ROLE_PASSIVE;
	return 0;
}

static __always_inline int stash_udp_dest(struct bpf_sock_addr *ctx, bool v6)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct udp_dest d = {};
	__u32 *w = (__u32 *)d.addr;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	d.cookie = bpf_get_socket_cookie(ctx);
	if (v6) {
		d.family = AF_INET6;
		w[0] = ctx->user_ip6[0];
		w[1] = ctx->user_ip6[1];
		w[2] = ctx->user_ip6[2];
		w[3] = ctx->user_ip6[3];
	} else {
		d.family = AF_INET;
		w[0] = ctx->user_ip4;
	}
	d.port = bpf_ntohs((__u16)ctx->user_port);
	bpf_map_update_elem(&udp_dests, &id, &d, BPF_ANY);
	return 1; /* never blocks the send */
}

SEC("cgroup/sendmsg4")
int udp_sendmsg4(struct bpf_sock_addr *ctx)
{
	return stash_udp_dest(ctx, false);
}

SEC("cgroup/sendmsg6")
int udp_sendmsg6(struct bpf_sock_addr *ctx)
{
	return stash_udp_dest(ctx, true);
}

#include "syscalls.bpf.h"
#include "uring.bpf.h"
#include "process.bpf.h"
