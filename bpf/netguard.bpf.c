// SPDX-License-Identifier: GPL-2.0
/*
 * Network containment, kernel side: refuses connects and sends to blocked
 * remote addresses and drops their packets, for every process of the
 * cgroup the programs are attached to (user space uses the v2 root).
 *
 *  - cgroup/connect4, connect6: connect() gets EPERM (TCP and UDP);
 *  - cgroup/sendmsg4, sendmsg6: sendto()/sendmsg() with a destination
 *    (unconnected UDP) gets EPERM;
 *  - cgroup_skb/egress: drops any packet to a blocked address, which
 *    catches what the two hooks above never see: sockets connected before
 *    the block (UDP, or TCP not destroyed by user space).
 *
 * The sensor's own process (ng_self_tgid) is never refused; its sockets
 * are marked in socket storage at connect/send so that their packets are
 * not dropped either. Sockets it connected while nothing was blocked are
 * not marked (the hooks return at once then).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netguard_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define VERDICT_REFUSE 0 /* sock_addr: EPERM; cgroup_skb: drop */
#define VERDICT_ALLOW 1
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPV4_DADDR_OFF 16 /* offsetof(struct iphdr, daddr) */
#define IPV6_DADDR_OFF 24 /* offsetof(struct ipv6hdr, daddr) */

/* The sensor's own tgid (0: none), set between open and load. */
const volatile __u32 ng_self_tgid = 0;
/* Number of ng_blocked entries, kept by user space: 0 lets every program
 * return at once, so the hooks cost nothing while nothing is blocked. */
__u32 ng_active = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NG_MAX_BLOCKED);
	__type(key, struct ng_addr);
	__type(value, struct ng_block);
} ng_blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NG_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ng_stats SEC(".maps");

/* Sockets of the sensor itself (value unused). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} ng_self_socks SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&ng_stats, &slot);

	if (v)
		*v += 1; /* per-CPU slot: no other writer */
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes the IPv4 key, so that a block
 * of a.b.c.d also holds for dual-stack sockets. */
static __always_inline void key_from_ip6(struct ng_addr *k, const __u32 w[4])
{
	__u32 *a = (__u32 *)k->addr;

	if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
		k->family = NG_AF_INET;
		a[0] = w[3];
		return;
	}
	k->family = NG_AF_INET6;
	a[0] = w[0];
	a[1] = w[1];
	a[2] = w[2];
	a[3] = w[3];
}

/* The entry of k while its block holds, else NULL. */
static __always_inline struct ng_block *block_of(const struct ng_addr *k)
{
	struct ng_block *b = bpf_map_lookup_elem(&ng_blocked, k);

	if (!b || bpf_ktime_get_ns() >= b->until_ns)
		return NULL;
	return b;
}

static __always_inline int refuse(struct ng_block *b, __u32 stat)
{
	__sync_fetch_and_add(&b->hits, 1);
	count(stat);
	return VERDICT_REFUSE;
}

/* Whether the caller is the sensor; if so its socket is marked for the
 * egress program. */
static __always_inline bool caller_is_self(struct bpf_sock_addr *ctx)
{
	if (!ng_self_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) != ng_self_tgid)
		return false;
	if (ctx->sk)
		bpf_sk_storage_get(&ng_self_socks, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return true;
}

static __always_inline int judge_addr(struct bpf_sock_addr *ctx, bool v6, __u32 stat)
{
	struct ng_addr k = {};
	struct ng_block *b;

	if (!ng_active || caller_is_self(ctx))
		return VERDICT_ALLOW;
	if (v6) {
		__u32 w[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			       ctx->user_ip6[3] };

		key_from_ip6(&k, w);
	} else {
		k.family = NG_AF_INET;
		*(__u32 *)k.addr = ctx->user_ip4;
	}
	b = block_of(&k);
	return b ? refuse(b, stat) : VERDICT_ALLOW;
}

SEC("cgroup/connect4")
int ng_connect4(struct bpf_sock_addr *ctx)
{
	return judge_addr(ctx, false, NG_STAT_CONNECT_REFUSED);
}

SEC("cgroup/connect6")
int ng_connect6(struct bpf_sock_addr *ctx)
{
	return judge_addr(ctx, true, NG_STAT_CONNECT_REFUSED);
}

SEC("cgroup/sendmsg4")
int ng_sendmsg4(struct bpf_sock_addr *ctx)
{
	return judge_addr(ctx, false, NG_STAT_SEND_REFUSED);
}

SEC("cgroup/sendmsg6")
int ng_sendmsg6(struct bpf_sock_addr *ctx)
{
	return judge_addr(ctx, true, NG_STAT_SEND_REFUSED);
}

/* Destination of the packet (cgroup_skb data starts at the IP header). */
static __always_inline bool packet_dest(struct __sk_buff *skb, struct ng_addr *k)
{
	__u32 w[4] = {};

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		k->family = NG_AF_INET;
		return bpf_skb_load_bytes(skb, IPV4_DADDR_OFF, k->addr, 4) == 0;
	}
	if (skb->protocol != bpf_htons(ETH_P_IPV6) ||
	    bpf_skb_load_bytes(skb, IPV6_DADDR_OFF, w, sizeof(w)))
		return false;
	key_from_ip6(k, w);
	return true;
}

static __always_inline bool packet_of_self(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	return sk && bpf_sk_storage_get(&ng_self_socks, sk, 0, 0);
}

SEC("cgroup_skb/egress")
int ng_egress(struct __sk_buff *skb)
{
	struct ng_addr k = {};
	struct ng_block *b;

	if (!ng_active || !packet_dest(skb, &k))
		return VERDICT_ALLOW;
	b = block_of(&k);
	if (!b || packet_of_self(skb))
		return VERDICT_ALLOW;
	return refuse(b, NG_STAT_PACKET_DROPPED);
}
