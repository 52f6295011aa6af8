/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network containment: refuse connects and sends to a remote address, and
 * drop its packets, for every process on the host (BPF programs attached
 * to the cgroup v2 root, bpf/netguard.bpf.c), until a deadline on the
 * monotonic clock. The sensor's own process is never refused.
 *
 * Connections established before the block are only cut at the packet
 * level (their packets are dropped); end them with sock_destroy_peer()
 * (contain/sockdestroy.h) so that their owners see an error at once.
 */
#ifndef VIGIE_NETGUARD_H
#define VIGIE_NETGUARD_H

#include <stddef.h>
#include <stdint.h>

struct netguard;

/* Sums over all CPUs since netguard_open. */
struct netguard_stats {
	uint64_t connects_refused; /* connect() answered EPERM */
	uint64_t sends_refused;    /* sendto()/sendmsg() answered EPERM */
	uint64_t packets_dropped;  /* packets of already connected sockets */
};

/* Load the programs and attach them to the cgroup v2 root (a cgroup2 file
 * system is mounted when none is). self_tgid: the process never refused
 * (0: none). NULL on failure, with the reason in err. */
struct netguard *netguard_open(uint32_t self_tgid, char *err, size_t errlen);
/* Block family (AF_INET, AF_INET6) address addr (4 or 16 bytes, network
 * order) until CLOCK_MONOTONIC reaches until_mono_ns; blocking an address
 * again sets its new deadline. An IPv4-mapped IPv6 address blocks the IPv4
 * address. 0, -EINVAL (bad argument), -E2BIG (NG_MAX_BLOCKED addresses
 * blocked already) or another -errno. */
int netguard_block(struct netguard *g, int family, const void *addr, uint64_t until_mono_ns);
/* Lift a block before its deadline. 0, -ENOENT when not blocked, -EINVAL. */
int netguard_unblock(struct netguard *g, int family, const void *addr);
/* Addresses in the map, expired ones included (what the programs see). */
uint32_t netguard_active(const struct netguard *g);
void netguard_stats(struct netguard *g, struct netguard_stats *st);
/* Detach everything. NULL-safe. */
void netguard_close(struct netguard *g);

#endif
