/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A socket's endpoint (family, protocol, ports, peer address) into a flow
 * key: direct loads for programs with BTF pointers, CO-RE probe reads for
 * classic tracepoints; and the check that a cached key is still the
 * socket's. Included by vigie.bpf.c.
 */
#ifndef VIGIE_ENDPOINT_BPF_H
#define VIGIE_ENDPOINT_BPF_H

/* Endpoint of a socket, for programs with BTF pointers (direct loads). */
static __always_inline bool sock_endpoint_btf(struct sock *sk, struct vigie_flow_key *k)
{
	__u16 family = sk->__sk_common.skc_family;

	if (family != AF_INET && family != AF_INET6)
		return false;
	k->family = family;
	k->proto = sk->sk_protocol;
	k->lport = sk->__sk_common.skc_num;
	k->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (family == AF_INET) {
		__u32 a = sk->__sk_common.skc_daddr;

		__builtin_memcpy(k->raddr, &a, 4);
	} else {
		__u32 *w = (__u32 *)k->raddr;

		w[0] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0];
		w[1] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1];
		w[2] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2];
		w[3] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
	}
	return true;
}

/* Same through CO-RE probe reads, for classic tracepoints. */
/* The head of struct sock_common, as it has been laid out since Linux 2.6:
 * addresses, hash, ports, family. One probe read instead of four. */
struct sock_common_head {
	__u32 daddr;
	__u32 rcv_saddr;
	__u32 hash;
	__u16 dport;
	__u16 num;
	__u16 family;
};

static __always_inline bool sock_endpoint_core(struct sock *sk, struct vigie_flow_key *k)
{
	struct sock_common_head h;

	if (bpf_probe_read_kernel(&h, sizeof(h), (void *)sk +
				  bpf_core_field_offset(struct sock, __sk_common.skc_daddr)))
		return false;
	if (h.family != AF_INET && h.family != AF_INET6)
		return false;
	k->family = h.family;
	k->proto = BPF_CORE_READ(sk, sk_protocol);
	k->lport = h.num;
	k->rport = bpf_ntohs(h.dport);
	if (h.family == AF_INET)
		__builtin_memcpy(k->raddr, &h.daddr, 4);
	else
		BPF_CORE_READ_INTO((struct in6_addr *)k->raddr, sk, __sk_common.skc_v6_daddr);
	return true;
}

/* Is sk still connected to the peer, from the local port, that a cached
 * key k (normalized: a mapped address as IPv4) was made for? A TCP socket
 * disconnected with connect(AF_UNSPEC) and connected again keeps its
 * cookie and its file; only its endpoint tells the new connection. btf:
 * direct loads (the line the send just used); otherwise probe reads. */
static __always_inline bool sock_still_at(struct sock *sk, const struct vigie_flow_key *k,
					  bool btf)
{
	const __u32 *w = (const __u32 *)k->raddr;
	struct in6_addr a;
	__u16 dport, num;
	__u32 daddr;

	if (btf) {
		dport = sk->__sk_common.skc_dport;
		num = sk->__sk_common.skc_num;
		daddr = sk->__sk_common.skc_daddr;
	} else {
		struct sock_common_head h;

		if (bpf_probe_read_kernel(&h, sizeof(h), (void *)sk +
					  bpf_core_field_offset(struct sock, __sk_common.skc_daddr)))
			return false;
		dport = h.dport;
		num = h.num;
		daddr = h.daddr;
	}
	if (k->rport != bpf_ntohs(dport) || k->lport != num)
		return false;
	if (k->family == AF_INET)
		return w[0] == daddr; /* an IPv6 socket's mapped peer is there too */
	if (btf) {
		a = sk->__sk_common.skc_v6_daddr;
	} else if (BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_daddr)) {
		return false;
	}
	return w[0] == a.in6_u.u6_addr32[0] && w[1] == a.in6_u.u6_addr32[1] &&
	       w[2] == a.in6_u.u6_addr32[2] && w[3] == a.in6_u.u6_addr32[3];
}

#endif /* VIGIE_ENDPOINT_BPF_H */
