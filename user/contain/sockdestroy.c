// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include "contain/sockdestroy.h"

#define RECV_BUF_SIZE (64 * 1024) /* the kernel fills dump messages up to 32 KiB */
#define RECV_TIMEOUT_S 2          /* a silent kernel ends the call, never a hang */
#define MAX_RECVS 100000          /* a dump of 100k sockets needs ~1000 */
#define MAX_TARGETS 65536
#define MAX_ACK_READS 8           /* replies to read while waiting for one ack */

/* Connection states worth aborting: TIME_WAIT and CLOSING carry no data
 * any more, LISTEN has no peer. */
#define TARGET_STATES                                                                   \
	((1u << TCP_ESTABLISHED) | (1u << TCP_SYN_SENT) | (1u << TCP_SYN_RECV) |        \
	 (1u << TCP_FIN_WAIT1) | (1u << TCP_FIN_WAIT2) | (1u << TCP_CLOSE_WAIT) |       \
	 (1u << TCP_LAST_ACK))

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* What a socket must look like to be destroyed. */
struct peer_filter {
	bool v4;                /* addr[0..3] is an IPv4 address */
	uint8_t addr[16];
	uint16_t port_be;       /* 0: any remote port */
	const uint32_t *skip;
	size_t n_skip;
};

/* A socket to destroy: exactly what SOCK_DESTROY needs to find it. */
struct target {
	uint8_t family;
	uint32_t inode;
	struct inet_diag_sockid id;
};

struct targets {
	struct target *v;
	size_t n, cap;
};

struct diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

/* ---- netlink ------------------------------------------------------------ */

static int diag_socket(void)
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static int send_request(int fd, uint16_t type, uint16_t flags, uint32_t seq,
			const struct inet_diag_req_v2 *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct diag_request msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = type,
			 .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags), .nlmsg_seq = seq },
		.req = *req,
	};
	ssize_t n = sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel));

	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

/* One datagram from the kernel: its length or -errno (-ETIMEDOUT when the
 * kernel stays silent, -EMSGSIZE when it did not fit). */
static ssize_t recv_reply(int fd, void *buf, size_t size)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return n;
}

/* The error an NLMSG_ERROR carries (0 is an ack), -EBADMSG if cut short. */
static int nlmsg_error_code(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	return e->error > 0 ? -e->error : e->error;
}

/* NLMSG_DONE ends a dump; an error met while dumping rides in it. 1 or
 * -errno. */
static int dump_done_code(const struct nlmsghdr *h)
{
	int err;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(err)))
		return 1;
	memcpy(&err, NLMSG_DATA(h), sizeof(err));
	return err < 0 ? err : 1;
}

/* ---- matching ----------------------------------------------------------- */

static bool inode_skipped(const struct peer_filter *f, uint32_t inode)
{
	for (size_t i = 0; i < f->n_skip; i++)
		if (f->skip[i] == inode)
			return true;
	return false;
}

static bool peer_matches(const struct peer_filter *f, const struct inet_diag_msg *m)
{
	const uint8_t *dst = (const uint8_t *)m->id.idiag_dst;

	if (f->port_be && m->id.idiag_dport != f->port_be)
		return false;
	if (m->idiag_family == AF_INET)
		return f->v4 && !memcmp(dst, f->addr, 4);
	if (m->idiag_family != AF_INET6)
		return false;
	if (f->v4)
		return !memcmp(dst, v4_mapped_prefix, 12) && !memcmp(dst + 12, f->addr, 4);
	return !memcmp(dst, f->addr, 16);
}

static int targets_add(struct targets *t, const struct inet_diag_msg *m)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct target *v;

		if (cap > MAX_TARGETS)
			return -E2BIG;
		v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = (struct target){ .family = m->idiag_family, .inode = m->idiag_inode,
					.id = m->id };
	return 0;
}

/* ---- dump --------------------------------------------------------------- */

/* Walk the messages of one dump datagram. 1 when the dump is over, 0 when
 * more datagrams follow, -errno on error. */
static int take_dump_part(const void *buf, size_t len, uint32_t seq, const struct peer_filter *f,
			  struct targets *t, struct sock_destroy_result *r)
{
	unsigned int size = (unsigned int)len; /* NLMSG_OK compares it with a __u32 */

	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, size); h = NLMSG_NEXT(h, size)) {
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		int ret;

		if (h->nlmsg_seq != seq)
			continue; /* a late reply to an earlier request */
		if (h->nlmsg_type == NLMSG_DONE)
			return dump_done_code(h);
		if (h->nlmsg_type == NLMSG_ERROR)
			return nlmsg_error_code(h) ?: -EBADMSG;
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		if (!peer_matches(f, m) || inode_skipped(f, m->idiag_inode))
			continue;
		r->found++;
		ret = targets_add(t, m);
		if (ret)
			return ret;
	}
	return 0;
}

static int dump_family(int fd, uint8_t family, uint32_t seq, const struct peer_filter *f,
		       struct targets *t, struct sock_destroy_result *r)
{
	struct inet_diag_req_v2 req = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
					.idiag_states = TARGET_STATES };
	char *buf = malloc(RECV_BUF_SIZE);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = send_request(fd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, seq, &req);
	for (int i = 0; ret == 0 && i < MAX_RECVS; i++) {
		ssize_t n = recv_reply(fd, buf, RECV_BUF_SIZE);

		ret = n < 0 ? (int)n : take_dump_part(buf, (size_t)n, seq, f, t, r);
	}
	free(buf);
	if (ret == 0)
		return -ETIMEDOUT; /* MAX_RECVS datagrams and still no end */
	return ret < 0 ? ret : 0;
}

/* ---- destroy ------------------------------------------------------------ */

/* SOCK_DESTROY for one socket, named by its exact id (cookie included, so
 * that a new socket reusing the ports is not hit). 0 or -errno. */
static int destroy_target(int fd, const struct target *tg, uint32_t seq)
{
	struct inet_diag_req_v2 req = { .sdiag_family = tg->family,
					.sdiag_protocol = IPPROTO_TCP,
					.idiag_states = TARGET_STATES, .id = tg->id };
	char buf[1024];
	int ret = send_request(fd, SOCK_DESTROY, NLM_F_ACK, seq, &req);

	for (int i = 0; ret == 0 && i < MAX_ACK_READS; i++) {
		ssize_t n = recv_reply(fd, buf, sizeof(buf));
		unsigned int size = n > 0 ? (unsigned int)n : 0;

		if (n < 0)
			return (int)n;
		for (const struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, size);
		     h = NLMSG_NEXT(h, size))
			if (h->nlmsg_seq == seq && h->nlmsg_type == NLMSG_ERROR)
				return nlmsg_error_code(h);
	}
	return ret ? ret : -ETIMEDOUT;
}

static void note_failure(struct sock_destroy_result *r, int err)
{
	if (!r->first_errno)
		r->first_errno = -err;
}

static void note_destroyed(struct sock_destroy_result *r, const struct target *tg)
{
	r->destroyed++;
	if (r->n_inodes >= SOCK_DESTROY_LISTED)
		return;
	r->inodes[r->n_inodes] = tg->inode;
	r->local_ports[r->n_inodes] = ntohs(tg->id.idiag_sport);
	r->remote_ports[r->n_inodes] = ntohs(tg->id.idiag_dport);
	r->n_inodes++;
}

static void destroy_targets(int fd, uint32_t seq, const struct targets *t,
			    struct sock_destroy_result *r)
{
	for (size_t i = 0; i < t->n; i++) {
		int ret = destroy_target(fd, &t->v[i], seq + (uint32_t)i);

		if (ret == 0) {
			note_destroyed(r, &t->v[i]);
		} else if (ret == -ENOENT) {
			r->vanished++; /* closed meanwhile: nothing left to end */
		} else {
			r->failed++;
			note_failure(r, ret);
			/* missing kernel support or privilege: the rest would
			 * fail the same way (one namespace, one kernel) */
			if (ret == -EOPNOTSUPP || ret == -EPERM) {
				r->failed += (uint32_t)(t->n - i - 1);
				return;
			}
		}
	}
}

/* ---- entry points ------------------------------------------------------- */

static int make_filter(struct peer_filter *f, int family, const void *addr, uint16_t port)
{
	memset(f, 0, sizeof(*f));
	if (!addr)
		return -EINVAL;
	f->port_be = htons(port);
	if (family == AF_INET) {
		f->v4 = true;
		memcpy(f->addr, addr, 4);
	} else if (family == AF_INET6 && !memcmp(addr, v4_mapped_prefix, 12)) {
		f->v4 = true;
		memcpy(f->addr, (const uint8_t *)addr + 12, 4);
	} else if (family == AF_INET6) {
		memcpy(f->addr, addr, 16);
	} else {
		return -EINVAL;
	}
	return 0;
}

int sock_destroy_peer(int family, const void *addr, uint16_t port, const uint32_t *skip_inodes,
		      size_t n_skip, struct sock_destroy_result *r)
{
	struct targets t = { 0 };
	struct peer_filter f;
	uint32_t seq = (uint32_t)getpid() << 8; /* told apart from other callers' replies */
	int fd, ret;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	ret = make_filter(&f, family, addr, port);
	if (ret)
		return ret;
	f.skip = skip_inodes;
	f.n_skip = skip_inodes ? n_skip : 0;
	fd = diag_socket();
	if (fd < 0) {
		note_failure(r, fd);
		return fd;
	}
	/* IPv4 peers are also reached from dual-stack IPv6 sockets */
	ret = dump_family(fd, f.v4 ? AF_INET : AF_INET6, seq++, &f, &t, r);
	if (ret == 0 && f.v4)
		ret = dump_family(fd, AF_INET6, seq++, &f, &t, r);
	if (ret)
		note_failure(r, ret); /* still end what was found: containment first */
	destroy_targets(fd, seq, &t, r);
	close(fd);
	free(t.v);
	return r->first_errno ? -r->first_errno : 0;
}

/* Inode of a "socket:[N]" link target, 0 otherwise. */
static uint32_t socket_inode_of(const char *link)
{
	unsigned long ino;
	char end;

	if (sscanf(link, "socket:[%lu%c", &ino, &end) != 2 || end != ']' || ino > UINT32_MAX)
		return 0;
	return (uint32_t)ino;
}

size_t sock_self_inodes(uint32_t *out, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		char link[64];
		ssize_t len;
		uint32_t ino;

		if (de->d_name[0] == '.')
			continue;
		len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		ino = socket_inode_of(link);
		if (ino)
			out[n++] = ino;
	}
	closedir(d);
	return n;
}
