/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network containment: structures shared by bpf/netguard.bpf.c and
 * user/contain/netguard.c. Fixed-width types only, explicit padding, no
 * holes.
 *
 * One map entry per blocked remote address. The programs refuse connects
 * and sends to it, and drop its packets, until the entry's deadline
 * (bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC) has passed.
 */
#ifndef VIGIE_NETGUARD_ABI_H
#define VIGIE_NETGUARD_ABI_H

#ifdef __VIGIE_BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define NG_MAX_BLOCKED 1024

/* Address families as the kernel numbers them (vmlinux.h has no macros). */
#define NG_AF_INET 2
#define NG_AF_INET6 10

/* Key of ng_blocked. An IPv4 address fills addr[0..3], the rest is 0; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is always stored and looked
 * up as the IPv4 address. */
struct ng_addr {
	__u8 family; /* NG_AF_INET or NG_AF_INET6 */
	__u8 pad[3];
	__u8 addr[16];
};

/* Value of ng_blocked. */
struct ng_block {
	__u64 until_ns; /* blocked while bpf_ktime_get_ns() < until_ns */
	__u64 hits;     /* refusals and drops counted against this entry */
};

/* Slots of the per-CPU ng_stats array. */
enum ng_stat {
	NG_STAT_CONNECT_REFUSED = 0,
	NG_STAT_SEND_REFUSED = 1,
	NG_STAT_PACKET_DROPPED = 2,
	NG_STAT_MAX = 3,
};

#endif
