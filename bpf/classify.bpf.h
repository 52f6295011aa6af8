/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a counted byte is (egress, db_server, db_client), from its socket's
 * endpoint and role: loopback and excluded networks, database ports and
 * endpoints, TCP roles. Included by vigie.bpf.c after its settings and
 * maps (excluded_nets, db_endpoints, tcp_roles, tcp_roles_sk).
 */
#ifndef VIGIE_CLASSIFY_BPF_H
#define VIGIE_CLASSIFY_BPF_H

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) is reported as IPv4. */
static __always_inline void normalize_mapped(struct vigie_flow_key *k)
{
	__u32 *w = (__u32 *)k->raddr;

	if (k->family == AF_INET6 && w[0] == 0 && w[1] == 0 &&
	    w[2] == bpf_htonl(0x0000ffff)) {
		w[0] = w[3];
		w[2] = 0;
		w[3] = 0;
		k->family = AF_INET;
	}
}

static __always_inline bool is_loopback(const struct vigie_flow_key *k)
{
	const __u32 *w = (const __u32 *)k->raddr;

	if (k->family == AF_INET)
		return k->raddr[0] == 127;
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

static __always_inline bool is_excluded_net(const struct vigie_flow_key *k)
{
	struct vigie_net_key nk = { .prefixlen = 128 };
	__u32 *w = (__u32 *)nk.addr;

	if (k->family == AF_INET) {
		w[2] = bpf_htonl(0x0000ffff);
		__builtin_memcpy(&w[3], k->raddr, 4);
	} else {
		__builtin_memcpy(nk.addr, k->raddr, 16);
	}
	return bpf_map_lookup_elem(&excluded_nets, &nk) != NULL;
}

static __always_inline bool is_db_endpoint(const struct vigie_flow_key *k)
{
	struct vigie_endpoint_key ek = { .family = k->family, .port = k->rport };

	__builtin_memcpy(ek.addr, k->raddr, 16);
	if (bpf_map_lookup_elem(&db_endpoints, &ek))
		return true;
	ek.port = 0;
	return bpf_map_lookup_elem(&db_endpoints, &ek) != NULL;
}

/* Role of a TCP socket, from the map keyed by its address. */
static __always_inline __u8 tcp_role(__u64 sk)
{
	__u8 *role = bpf_map_lookup_elem(&tcp_roles, &sk);

	return role ? *role : 0;
}

/* Role of a socket: from its local storage when the program has a BTF
 * pointer (btf), else from the map keyed by its address. */
static __always_inline __u8 sock_role(__u64 sk, bool btf)
{
	__u8 *role;

	if (!btf)
		return tcp_role(sk);
	role = bpf_sk_storage_get(&tcp_roles_sk, (struct sock *)sk, 0, 0);
	return role ? *role : 0;
}

/* Is a socket sending from a database port a server's? TCP: unless this
 * host opened the connection. Other protocols: only if the port was bound
 * explicitly (an automatically chosen port, such as a UDP client's, can
 * land on 50000 by chance). Rare path: only for database local ports. */
static __always_inline bool serves_db(__u64 sk, bool btf, __u8 proto)
{
	__u8 locks = 0;

	if (proto == IPPROTO_TCP)
		return sock_role(sk, btf) != ROLE_ACTIVE;
	bpf_probe_read_kernel(&locks, sizeof(locks),
			      (void *)sk + bpf_core_field_offset(struct sock, sk_userlocks));
	return locks & SOCK_BINDPORT_LOCK;
}

/* A sent byte: db_server when the local port is a database port, else
 * egress unless the destination is loopback or an internal network.
 * Sets k->cls; false when the byte is not counted. */
static __always_inline bool classify_send(struct vigie_flow_key *k, __u64 sk, bool btf)
{
	normalize_mapped(k);
	if (port_is_db(k->lport) && serves_db(sk, btf, k->proto)) {
		k->cls = VIGIE_CLASS_DB_SERVER;
		return true;
	}
	if ((exclude_loopback && is_loopback(k)) ||
	    (have_excluded_nets && is_excluded_net(k))) {
		stat_add(VIGIE_STAT_EXCLUDED, 1);
		return false;
	}
	k->cls = VIGIE_CLASS_EGRESS;
	return true;
}

/* A received byte counts only when it comes from a database endpoint. */
static __always_inline bool classify_recv(struct vigie_flow_key *k, __u64 sk, bool btf)
{
	normalize_mapped(k);
	if ((port_is_db(k->rport) || (have_db_endpoints && is_db_endpoint(k))) &&
	    sock_role(sk, btf) != ROLE_PASSIVE) {
		k->cls = VIGIE_CLASS_DB_CLIENT;
		return true;
	}
	return false;
}

#endif /* VIGIE_CLASSIFY_BPF_H */
