// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: network containment (user/contain/). The peer is a server in
 * a private network namespace (veth, 10.213.31.0/30, fd00:213:31::/64)
 * counting what it receives in memory shared with this process.
 *  a. sock_destroy_peer ends a running bulk TCP transfer to one peer port
 *     (the sender gets ECONNABORTED, the peer's count stops), leaves the
 *     connection to the other port alone, honours the skip list;
 *  b. netguard_block: connect and UDP sendto get EPERM (also through an
 *     IPv4-mapped IPv6 socket), loopback and the sensor itself are not
 *     refused, datagrams of a UDP socket connected before are dropped;
 *  c. the block ends by itself at its deadline;
 *  d. netguard_unblock, IPv6, bad arguments.
 * Every probe runs in a forked child (not the "sensor" process), whose
 * exit status is the errno it got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "lib/live.h"
#include "contain/netguard.h"
#include "contain/sockdestroy.h"

#define BULK 0   /* peer port index: the bulk transfer */
#define STEADY 1 /* peer port index: the connection left alone */
#define BULK_CHUNK 65536
#define STEADY_CHUNK 1000
#define UDP_AFTER_BLOCK 5
#define MAX_CONNS 8
#define BLOCK_NS 2000000000ull
#define EXIT_SETUP 200 /* a child's own set-up failed */

/* Written by the children, read here. */
struct shared {
	int ready;
	uint16_t tcp_port[2];
	uint16_t udp_port;
	uint64_t tcp_bytes[2];
	uint64_t udp_datagrams;
	uint32_t bulk_inode;
	int udp_go;
	int udp_sent_ok;
	int udp_errno;
};

static struct shared *sh;
static struct netns ns;
static struct sockaddr_in6 peer; /* the namespace peer, IPv4-mapped */

static uint64_t load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void add64(uint64_t *p, uint64_t v) { __atomic_add_fetch(p, v, __ATOMIC_RELEASE); }

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* ---- the peer ----------------------------------------------------------- */

/* Dual-stack socket bound to any address, port chosen by the kernel. */
static int bound_socket(int type, uint16_t *port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t len = sizeof(a);
	int off = 0, fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 16)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin6_port);
	return fd;
}

/* pfd[0..1]: TCP listeners, pfd[2]: UDP, then accepted connections whose
 * port index is in which[]. */
static int serve(void *arg)
{
	struct pollfd pfd[3 + MAX_CONNS];
	int which[3 + MAX_CONNS];
	static char buf[BULK_CHUNK];
	nfds_t n = 3;

	if (netns_enter(ns.name))
		return EXIT_SETUP;
	for (int i = 0; i < 2; i++)
		pfd[i].fd = bound_socket(SOCK_STREAM, &sh->tcp_port[i]);
	pfd[2].fd = bound_socket(SOCK_DGRAM, &sh->udp_port);
	for (int i = 0; i < 3; i++) {
		if (pfd[i].fd < 0)
			return EXIT_SETUP;
		pfd[i].events = POLLIN;
	}
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		if (poll(pfd, n, -1) < 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			ssize_t got;

			if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			if (i < 2) {
				int fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);

				if (fd >= 0 && n == 3 + MAX_CONNS)
					close(fd); /* more than the test ever opens */
				else if (fd >= 0) {
					pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
					which[n++] = (int)i;
				}
				continue;
			}
			got = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (i == 2 && got >= 0)
				add64(&sh->udp_datagrams, 1);
			else if (i > 2 && got > 0)
				add64(&sh->tcp_bytes[which[i]], (uint64_t)got);
			else if (i > 2) { /* closed or reset: forget it */
				close(pfd[i].fd);
				pfd[i] = pfd[--n];
				which[i] = which[n];
				break; /* revents of the moved entry are stale */
			}
		}
	}
	return 0;
}

/* ---- probes, each in a child -------------------------------------------- */

struct target {
	int family; /* of the socket: AF_INET or AF_INET6 */
	int type;
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} a;
};

static struct target target_of(int family, int type, const char *ip, uint16_t port)
{
	struct target t = { .family = family, .type = type };

	if (family == AF_INET) {
		t.a.v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
		inet_pton(AF_INET, ip, &t.a.v4.sin_addr);
	} else {
		t.a.v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port) };
		inet_pton(AF_INET6, ip, &t.a.v6.sin6_addr);
	}
	return t;
}

static socklen_t target_len(const struct target *t)
{
	return t->family == AF_INET ? sizeof(t->a.v4) : sizeof(t->a.v6);
}

/* A connected socket, or -errno. */
static int connect_to(const struct target *t)
{
	int fd = socket(t->family, t->type | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->a, target_len(t)) == 0)
		return fd;
	err = -errno;
	close(fd);
	return err;
}

static int probe_connect(void *arg)
{
	int fd = connect_to(arg);

	return fd < 0 ? -fd : 0;
}

static int probe_sendto(void *arg)
{
	const struct target *t = arg;
	int fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return EXIT_SETUP;
	return sendto(fd, "x", 1, 0, (const struct sockaddr *)&t->a, target_len(t)) == 1 ? 0 : errno;
}

/* Exit status of fn(arg) run in a child (-1: did not end within 3 s). */
static int in_child(int (*fn)(void *), void *arg)
{
	struct child c;

	if (child_fork(&c, fn, arg))
		return -1;
	return child_wait(&c, 3000);
}

/* Sends until the connection fails: the errno is the exit status. */
static int send_until_error(void *arg)
{
	int port = *(int *)arg, fd;
	struct target t = target_of(AF_INET, SOCK_STREAM, ns.ns_ip, sh->tcp_port[port]);
	static char buf[BULK_CHUNK];
	struct stat st;

	fd = connect_to(&t);
	if (fd < 0 || fstat(fd, &st))
		return EXIT_SETUP;
	if (port == BULK)
		__atomic_store_n(&sh->bulk_inode, (uint32_t)st.st_ino, __ATOMIC_RELEASE);
	for (;;) {
		if (send(fd, buf, port == BULK ? BULK_CHUNK : STEADY_CHUNK, MSG_NOSIGNAL) < 0)
			return errno;
		if (port == STEADY)
			sleep_ms(20);
	}
}

/* One datagram, then UDP_AFTER_BLOCK more once told (udp_go). */
static int udp_connected_sender(void *arg)
{
	struct target t = target_of(AF_INET, SOCK_DGRAM, ns.ns_ip, sh->udp_port);
	int fd = connect_to(&t);

	if (fd < 0 || send(fd, "first", 5, 0) != 5)
		return EXIT_SETUP;
	for (int i = 0; i < 500 && !__atomic_load_n(&sh->udp_go, __ATOMIC_ACQUIRE); i++)
		sleep_ms(10);
	for (int i = 0; i < UDP_AFTER_BLOCK; i++) {
		if (send(fd, "after", 5, 0) == 5)
			sh->udp_sent_ok++;
		else
			sh->udp_errno = errno;
	}
	return 0;
}

static bool wait_for(const uint64_t *counter, uint64_t at_least, int timeout_ms)
{
	for (int waited = 0; load64(counter) < at_least && waited < timeout_ms; waited += 10)
		sleep_ms(10);
	return load64(counter) >= at_least;
}

/* ---- a. destroying connections ------------------------------------------ */

static void check_destroy_result(const struct sock_destroy_result *r, int ret, uint16_t port)
{
	ASSERT_EQ_INT(ret, 0, "sock_destroy_peer return");
	ASSERT_EQ_U64(r->found, 1, "sockets found");
	ASSERT_EQ_U64(r->destroyed, 1, "sockets destroyed");
	ASSERT_EQ_U64(r->failed + r->vanished, 0, "sockets failed or vanished");
	ASSERT_EQ_U64(r->n_inodes, 1, "destroyed sockets listed");
	ASSERT_EQ_U64(r->remote_ports[0], port, "remote port of the destroyed socket");
	CHECK(r->local_ports[0] != 0, "local port of the destroyed socket: %u", r->local_ports[0]);
}

static void test_self_inodes(void)
{
	uint32_t inodes[64];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct stat st;
	size_t n;
	bool seen = false;

	fstat(fd, &st);
	n = sock_self_inodes(inodes, 64);
	for (size_t i = 0; i < n; i++)
		seen |= inodes[i] == (uint32_t)st.st_ino;
	CHECK(seen, "sock_self_inodes lists this process's socket (%zu sockets)", n);
	close(fd);
}

static void test_destroy(void)
{
	static int bulk_idx = BULK, steady_idx = STEADY;
	struct child bulk, steady;
	struct sock_destroy_result r;
	uint32_t self[64];
	size_t n_self = sock_self_inodes(self, 64);
	uint64_t c1, c2, s1;
	int ret, status;

	live_section("a. sock_destroy_peer ends a running transfer");
	test_self_inodes();
	child_fork(&steady, send_until_error, &steady_idx);
	child_fork(&bulk, send_until_error, &bulk_idx);
	CHECK(wait_for(&sh->tcp_bytes[BULK], 4u << 20, 3000) &&
	      wait_for(&sh->tcp_bytes[STEADY], 1, 3000), "both transfers running");
	/* the skip list protects a socket (here: the bulk sender's) */
	ret = sock_destroy_peer(AF_INET, &peer.sin6_addr.s6_addr[12], sh->tcp_port[BULK],
				&sh->bulk_inode, 1, &r);
	CHECK(ret == 0 && r.found == 0 && r.destroyed == 0 && !child_exited(&bulk),
	      "skipped inode left alone (ret %d, found %u)", ret, r.found);

	ret = sock_destroy_peer(AF_INET, &peer.sin6_addr.s6_addr[12], sh->tcp_port[BULK], self,
				n_self, &r);
	check_destroy_result(&r, ret, sh->tcp_port[BULK]);
	ASSERT_EQ_U64(r.inodes[0], sh->bulk_inode, "inode of the destroyed socket");
	status = child_wait(&bulk, 2000);
	ASSERT_EQ_INT(status, ECONNABORTED, "bulk sender's send() errno");
	sleep_ms(100); /* what was in flight or queued at the peer */
	c1 = load64(&sh->tcp_bytes[BULK]);
	s1 = load64(&sh->tcp_bytes[STEADY]);
	sleep_ms(500);
	c2 = load64(&sh->tcp_bytes[BULK]);
	ASSERT_EQ_U64(c2, c1, "peer's bulk byte count 500 ms later");
	live_log("bulk transfer ended at %llu bytes, local port %u", (unsigned long long)c1,
		 r.local_ports[0]);
	CHECK(load64(&sh->tcp_bytes[STEADY]) > s1 && !child_exited(&steady),
	      "connection to the other peer port untouched (%llu -> %llu bytes)",
	      (unsigned long long)s1, (unsigned long long)load64(&sh->tcp_bytes[STEADY]));

	/* port 0: any connection to the address, the steady one now */
	ret = sock_destroy_peer(AF_INET6, &peer.sin6_addr, 0, self, n_self, &r);
	check_destroy_result(&r, ret, sh->tcp_port[STEADY]);
	ASSERT_EQ_INT(child_wait(&steady, 2000), ECONNABORTED, "steady sender's send() errno");
}

/* ---- b, c, d. blocking ---------------------------------------------------- */

static void check_stats(struct netguard *g, uint64_t connects, uint64_t sends, const char *when)
{
	struct netguard_stats st;

	netguard_stats(g, &st);
	CHECK(st.connects_refused == connects && st.sends_refused == sends,
	      "%s: refused connects %llu (want %llu), sends %llu (want %llu)", when,
	      (unsigned long long)st.connects_refused, (unsigned long long)connects,
	      (unsigned long long)st.sends_refused, (unsigned long long)sends);
}

static uint64_t dropped(struct netguard *g)
{
	struct netguard_stats st;

	netguard_stats(g, &st);
	return st.packets_dropped;
}

/* Loopback listener of this process (connects queue in its backlog). */
static int loopback_listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_udp_connected_before(struct netguard *g, struct child *udp)
{
	uint64_t before = dropped(g);

	__atomic_store_n(&sh->udp_go, 1, __ATOMIC_RELEASE);
	ASSERT_EQ_INT(child_wait(udp, 3000), 0, "connected UDP sender exit status");
	sleep_ms(300);
	ASSERT_EQ_U64(load64(&sh->udp_datagrams), 1, "peer's datagrams (1 before the block)");
	ASSERT_EQ_U64(dropped(g) - before, UDP_AFTER_BLOCK, "dropped packets");
	live_log("connected UDP after the block: %d of %d send() calls succeeded, errno %d",
		 sh->udp_sent_ok, UDP_AFTER_BLOCK, sh->udp_errno);
}

static void test_block(struct netguard *g, uint64_t *until)
{
	struct target tcp = target_of(AF_INET, SOCK_STREAM, ns.ns_ip, sh->tcp_port[BULK]);
	struct target udp = target_of(AF_INET, SOCK_DGRAM, ns.ns_ip, sh->udp_port);
	char mapped_ip[64];
	struct target mapped;
	struct target lo;
	struct child udp_child;
	uint16_t lo_port = 0;
	int lo_fd = loopback_listener(&lo_port), self_fd;
	uint64_t drops, t0;

	live_section("b. netguard_block refuses, drops, spares loopback and the sensor");
	snprintf(mapped_ip, sizeof(mapped_ip), "::ffff:%s", ns.ns_ip);
	mapped = target_of(AF_INET6, SOCK_STREAM, mapped_ip, sh->tcp_port[BULK]);
	lo = target_of(AF_INET, SOCK_STREAM, "127.0.0.1", lo_port);
	child_fork(&udp_child, udp_connected_sender, NULL);
	CHECK(wait_for(&sh->udp_datagrams, 1, 2000), "connected UDP: first datagram received");

	*until = mono_ns() + BLOCK_NS;
	ASSERT_EQ_INT(netguard_block(g, AF_INET, &peer.sin6_addr.s6_addr[12], *until), 0,
		      "netguard_block");
	ASSERT_EQ_U64(netguard_active(g), 1, "ng_active after block");
	ASSERT_EQ_INT(in_child(probe_connect, &tcp), EPERM, "TCP connect to the blocked peer");
	ASSERT_EQ_INT(in_child(probe_sendto, &udp), EPERM, "UDP sendto to the blocked peer");
	ASSERT_EQ_INT(in_child(probe_connect, &lo), 0, "TCP connect to 127.0.0.1");
	check_stats(g, 1, 1, "after one connect and one send");
	ASSERT_EQ_INT(in_child(probe_connect, &mapped), EPERM, "connect to ::ffff:peer");
	check_stats(g, 2, 1, "after the IPv4-mapped connect");
	test_udp_connected_before(g, &udp_child);

	/* this process is the "sensor": its SYN passes the egress program too
	 * (a dropped SYN would show as a drop and a retransmission 1 s later) */
	drops = dropped(g);
	t0 = mono_ns();
	self_fd = connect_to(&tcp);
	CHECK(self_fd >= 0 && mono_ns() - t0 < 500000000ull,
	      "the sensor's own connect to the blocked peer: %s in %.3f s",
	      self_fd >= 0 ? "connected" : strerror(-self_fd), (double)(mono_ns() - t0) / 1e9);
	ASSERT_EQ_U64(dropped(g), drops, "packets dropped during the sensor's connect");
	if (self_fd >= 0)
		close(self_fd);
	if (lo_fd >= 0)
		close(lo_fd);
}

static void test_expiry(struct netguard *g, uint64_t until)
{
	struct target tcp = target_of(AF_INET, SOCK_STREAM, ns.ns_ip, sh->tcp_port[BULK]);
	uint64_t now = mono_ns();

	live_section("c. the block ends at its deadline");
	if (now < until + 200000000ull)
		usleep((useconds_t)((until + 200000000ull - now) / 1000));
	ASSERT_EQ_INT(in_child(probe_connect, &tcp), 0, "TCP connect after the deadline");
	ASSERT_EQ_U64(netguard_active(g), 1, "ng_active (expired entry still there)");
}

static void test_unblock_and_ipv6(struct netguard *g)
{
	struct target tcp6 = target_of(AF_INET6, SOCK_STREAM, ns.ns_ip6, sh->tcp_port[BULK]);
	const void *v4 = &peer.sin6_addr.s6_addr[12];

	live_section("d. unblock, IPv6");
	ASSERT_EQ_INT(netguard_unblock(g, AF_INET, v4), 0, "netguard_unblock");
	ASSERT_EQ_U64(netguard_active(g), 0, "ng_active after unblock");
	ASSERT_EQ_INT(netguard_unblock(g, AF_INET, v4), -ENOENT, "second netguard_unblock");

	ASSERT_EQ_INT(netguard_block(g, AF_INET6, &tcp6.a.v6.sin6_addr, mono_ns() + BLOCK_NS), 0,
		      "netguard_block IPv6");
	ASSERT_EQ_INT(in_child(probe_connect, &tcp6), EPERM, "TCP connect to the blocked IPv6 peer");
	ASSERT_EQ_INT(netguard_unblock(g, AF_INET6, &tcp6.a.v6.sin6_addr), 0, "unblock IPv6");
	ASSERT_EQ_INT(in_child(probe_connect, &tcp6), 0, "TCP connect to the IPv6 peer after");
	ASSERT_EQ_U64(netguard_active(g), 0, "ng_active at the end");
}

static void test_bad_input(struct netguard *g)
{
	struct sock_destroy_result r;
	const void *v4 = &peer.sin6_addr.s6_addr[12];

	live_section("bad arguments");
	ASSERT_EQ_INT(netguard_block(g, 99, v4, mono_ns()), -EINVAL, "netguard_block family 99");
	ASSERT_EQ_INT(netguard_block(g, AF_INET, NULL, mono_ns()), -EINVAL, "netguard_block NULL");
	ASSERT_EQ_INT(netguard_unblock(g, 99, v4), -EINVAL, "netguard_unblock family 99");
	ASSERT_EQ_INT(netguard_block(NULL, AF_INET, v4, 0), -EINVAL, "netguard_block NULL guard");
	ASSERT_EQ_INT(sock_destroy_peer(99, v4, 0, NULL, 0, &r), -EINVAL, "sock_destroy_peer 99");
	ASSERT_EQ_INT(sock_destroy_peer(AF_INET, NULL, 0, NULL, 0, &r), -EINVAL,
		      "sock_destroy_peer NULL");
	ASSERT_EQ_U64(netguard_active(g), 0, "ng_active unchanged");
	netguard_close(NULL);
}

/* ---- main --------------------------------------------------------------- */

static bool start_peer(struct child *server)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || child_fork(server, serve, NULL))
		return false;
	for (int i = 0; i < 300 && !__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE); i++)
		sleep_ms(10);
	peer.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:0.0.0.0", &peer.sin6_addr);
	inet_pton(AF_INET, ns.ns_ip, &peer.sin6_addr.s6_addr[12]);
	return __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE);
}

int main(void)
{
	struct netguard *g;
	struct child server;
	char err[256] = "";
	uint64_t until = 0;
	double t0;

	live_init("netguard");
	t0 = live_now();
	if (netns_create(&ns, "ng", 31) || !start_peer(&server)) {
		CHECK(0, "network namespace and peer server set up");
		return live_finish();
	}
	test_destroy();
	g = netguard_open((uint32_t)getpid(), err, sizeof(err));
	CHECK(g != NULL, "netguard_open: %s", g ? "ok" : err);
	if (g) {
		test_block(g, &until);
		test_expiry(g, until);
		test_unblock_and_ipv6(g);
		test_bad_input(g);
		netguard_close(g);
	}
	child_kill(&server);
	netns_destroy(&ns);
	live_log("took %.2f s", live_now() - t0);
	return live_finish();
}
