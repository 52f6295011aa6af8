/* SPDX-License-Identifier: GPL-2.0 */
/*
 * End the TCP connections of this host to one remote address, as
 * `ss -K dst ADDR` does: a NETLINK_SOCK_DIAG dump finds them, SOCK_DESTROY
 * aborts each one (its owner's next call fails with ECONNABORTED, the peer
 * gets a reset). Needs CAP_NET_ADMIN and a kernel built with
 * CONFIG_INET_DIAG_DESTROY. Sees the network namespace of the caller only.
 */
#ifndef VIGIE_SOCKDESTROY_H
#define VIGIE_SOCKDESTROY_H

#include <stddef.h>
#include <stdint.h>

#define SOCK_DESTROY_LISTED 16 /* destroyed sockets described in the result */

struct sock_destroy_result {
	uint32_t found;     /* connections to the address, skipped ones not counted */
	uint32_t destroyed; /* of those, aborted */
	uint32_t failed;    /* of those, refused by the kernel (first_errno says why) */
	uint32_t vanished;  /* of those, closed by their owner before we got to them */
	int first_errno;    /* errno of the first failure (dump or destroy), 0 if none */
	/* the first SOCK_DESTROY_LISTED destroyed sockets */
	uint32_t inodes[SOCK_DESTROY_LISTED];
	uint16_t local_ports[SOCK_DESTROY_LISTED];  /* host order */
	uint16_t remote_ports[SOCK_DESTROY_LISTED]; /* host order */
	uint32_t n_inodes;
};

/* Abort the TCP connections (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1,
 * FIN_WAIT2, CLOSE_WAIT, LAST_ACK) whose remote end is addr (family
 * AF_INET: 4 bytes, AF_INET6: 16 bytes, network order; IPv4 also matches
 * IPv6 sockets with the IPv4-mapped peer ::ffff:a.b.c.d, and a mapped IPv6
 * address is taken as the IPv4 one) and, when port (host order) is not 0,
 * whose remote port is port. Sockets whose inode is in skip_inodes (the
 * sensor's own, sock_self_inodes) are left alone.
 * 0 when every connection found was destroyed (or had vanished), else
 * -errno: -EINVAL (bad argument), -EOPNOTSUPP (kernel without
 * CONFIG_INET_DIAG_DESTROY), -EPERM (no CAP_NET_ADMIN), ...; r is filled as
 * far as it got. */
int sock_destroy_peer(int family, const void *addr, uint16_t port, const uint32_t *skip_inodes,
		      size_t n_skip, struct sock_destroy_result *r);

/* Inodes of the sockets the current process has open (/proc/self/fd), at
 * most max of them: how many were written. */
size_t sock_self_inodes(uint32_t *out, size_t max);

#endif
