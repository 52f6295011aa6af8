// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: egress bytes, exact, per pid and uid, in both probe modes.
 * The peer is a trafficgen sink inside a private network namespace (veth,
 * 10.213.11.0/30 and fd00:213:11::/64); loopback traffic stays on lo.
 * Also: unconnected UDP (destination from the message, loopback
 * excluded), a client whose source port is a database port (egress, not
 * db_server), io_uring sends in both modes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/live.h"

#define TCP_BYTES (5ull * 1024 * 1024 + 12345) /* 5,255,225 bytes */
#define TCP_CHUNK 4096
#define VEC_BYTES (1024ull * 1024 + 1)
#define FILE_BYTES (3ull * 1024 * 1024 + 7)
#define UDP_SIZE 1000
#define UDP_COUNT 200
#define V6_BYTES (2ull * 1024 * 1024 + 3)
#define LO_BYTES (1024ull * 1024)
#define SPLICE_BYTES (1024ull * 1024 + 13)
#define URING_BYTES (1024ull * 1024 + 17)
#define MAPPED_BYTES 400001
#define BIG_BYTES 4500000007ull
#define PACED_CHUNKS 40
#define PACED_CHUNK 16384

static struct netns ns;
static struct spawn_opts in_ns;

struct sent {
	pid_t pid;
	int port;
	long long value;
	int status;
};

/* A sink in the namespace (or on the host when bind is loopback) and a
 * sender on the host. */
static struct sent tcp_send(const char *host, const char *bind, unsigned long long bytes,
			    const char *method, const char *chunk)
{
	struct sent s = { 0 };
	struct child sink;
	char b[32];
	bool local = strstr(host, "127.0.0.1") || !strcmp(host, "::1");

	snprintf(b, sizeof(b), "%llu", bytes);
	s.port = tg_server(&sink, local ? NULL : &in_ns, "sink", "0", bind, NULL);
	if (s.port < 0) {
		s.status = -1;
		return s;
	}
	{
		char port[16];

		snprintf(port, sizeof(port), "%d", s.port);
		if (method)
			s.status = tg_run(&s.pid, &s.value, NULL, "-m", method, "send", host, port, b,
					  chunk, NULL);
		else
			s.status = tg_run(&s.pid, &s.value, NULL, "send", host, port, b, chunk, NULL);
	}
	if (child_read_value(&sink, "received", 10000) != (long long)bytes)
		s.status = -2;
	child_wait(&sink, 5000);
	return s;
}

static void check_sent(const char *what, const struct sent *s, unsigned long long bytes)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s: transfer done (exit status, -2: sink short)", what);
	ASSERT_EQ_INT(s->status, 0, msg);
	snprintf(msg, sizeof(msg), "%s: trafficgen sent", what);
	ASSERT_EQ_U64(s->value, bytes, msg);
}

/* pair: syscalls mode with the enter/exit pairs, the fallback of kernels
 * without bpf_task_pt_regs (VIGIE_SYSCALLS_PAIR=1), instead of the exit
 * only programs. */
static void run_mode(const char *mode, bool pair)
{
	struct vigie v;
	struct events ev;
	struct sent tcp, vec, wv, lo, sf, v6, spl, uring, mapped, mapped_lo;
	struct child usink;
	pid_t udp_pid = 0, mmsg_pid = 0, uudp_pid = 0, uudp_lo_pid = 0, paced_pid = 0, sp_pid = 0, sp_sink = 0;
	pid_t auto_pid = 0, rc_pid = 0;
	int uudp_port = 0, rc_port[2] = { 0, 0 };
	long long udp_sent = -1;
	int udp_port, st;
	char msg[160], *file;
	const char *probe_mode;
	uint64_t ops;
	size_t nev;
	json_t *e;

	live_section("egress, --probes %s%s", mode, pair ? ", enter/exit pairs" : "");
	if (pair)
		setenv("VIGIE_SYSCALLS_PAIR", "1", 1);
	st = vigie_start(&v, NULL, "--probes", mode, "--tick", "0.2", "--usage-interval", "0.5",
			 "-v", NULL);
	unsetenv("VIGIE_SYSCALLS_PAIR");
	if (st) {
		CHECK(0, "vigie --probes %s started", mode);
		return;
	}
	if (!strcmp(mode, "syscalls")) {
		char *log = live_read_file(v.err_path, NULL);

		ASSERT_CONTAINS(log, pair ? "syscalls at enter and exit" : "syscalls at exit only",
				"the syscall programs chosen");
		free(log);
	}
	/* 1. TCP, many 4 KiB writes, to the namespace peer */
	tcp = tcp_send(ns.ns_ip, NULL, TCP_BYTES, NULL, "4096");
	check_sent("tcp write", &tcp, TCP_BYTES);
	/* same with sendmsg and writev (two iovecs per call) */
	vec = tcp_send(ns.ns_ip, NULL, VEC_BYTES, "sendmsg", "65536");
	check_sent("tcp sendmsg", &vec, VEC_BYTES);
	wv = tcp_send(ns.ns_ip, NULL, VEC_BYTES, "writev", "65536");
	check_sent("tcp writev", &wv, VEC_BYTES);
	/* 2. loopback */
	lo = tcp_send("127.0.0.1", "127.0.0.1", LO_BYTES, NULL, "65536");
	check_sent("loopback", &lo, LO_BYTES);
	/* 3. sendfile */
	file = live_path("sendfile.bin");
	live_make_file(file, FILE_BYTES);
	{
		struct child sink;
		char port[16];

		sf.port = tg_server(&sink, &in_ns, "sink", "0", NULL);
		snprintf(port, sizeof(port), "%d", sf.port);
		sf.status = tg_run(&sf.pid, &sf.value, NULL, "sendfile", ns.ns_ip, port, file, NULL);
		if (child_read_value(&sink, "received", 10000) != (long long)FILE_BYTES)
			sf.status = -2;
		child_wait(&sink, 5000);
		check_sent("sendfile", &sf, FILE_BYTES);
	}
	free(file);
	/* 4. connected UDP */
	{
		char port[16], total[32];

		snprintf(total, sizeof(total), "%d", UDP_SIZE * UDP_COUNT);
		udp_port = tg_server(&usink, &in_ns, "udpsink", "0", "0.0.0.0", total, NULL);
		snprintf(port, sizeof(port), "%d", udp_port);
		st = tg_run(&udp_pid, &udp_sent, NULL, "udp", ns.ns_ip, port, "1000", "200", NULL);
		ASSERT_EQ_INT(st, 0, "udp: sender exit status");
		live_log("udp sink received %lld of %d bytes (loss does not matter: the sender "
			 "counts)", child_read_value(&usink, "received", 5000),
			 UDP_SIZE * UDP_COUNT);
		child_wait(&usink, 5000);
		/* the same with sendmmsg(): two datagrams of 500 per call */
		snprintf(port, sizeof(port), "%d",
			 tg_server(&usink, &in_ns, "udpsink", "0", "0.0.0.0", total, NULL));
		st = tg_run(&mmsg_pid, &udp_sent, NULL, "-m", "sendmmsg", "udp", ns.ns_ip, port,
			    "1000", "200", NULL);
		ASSERT_EQ_INT(st, 0, "udp sendmmsg: sender exit status");
		child_wait(&usink, 5000);
	}
	/* 5. IPv6 to the namespace peer */
	v6 = tcp_send(ns.ns_ip6, NULL, V6_BYTES, "send", "10000");
	check_sent("ipv6", &v6, V6_BYTES);

	/* 6. splice (pipe -> socket) and io_uring sends */
	spl = tcp_send(ns.ns_ip, NULL, SPLICE_BYTES, "splice", "65536");
	check_sent("splice", &spl, SPLICE_BYTES);
	uring = tcp_send(ns.ns_ip, NULL, URING_BYTES, "uring", "65536");
	check_sent("io_uring send", &uring, URING_BYTES);
	/* 7. IPv4-mapped IPv6 destinations, to the peer and to loopback */
	mapped = tcp_send("::ffff:10.213.11.2", "::", MAPPED_BYTES, NULL, "65536");
	check_sent("ipv4-mapped", &mapped, MAPPED_BYTES);
	mapped_lo = tcp_send("::ffff:127.0.0.1", "::", MAPPED_BYTES, NULL, "65536");
	check_sent("ipv4-mapped loopback", &mapped_lo, MAPPED_BYTES);
	/* 8. unconnected UDP: sendto() with a destination each time */
	{
		char port[16], total[32];
		long long sent = -1;

		snprintf(total, sizeof(total), "%d", UDP_SIZE * 50);
		uudp_port = tg_server(&usink, &in_ns, "udpsink", "0", "0.0.0.0", total, NULL);
		snprintf(port, sizeof(port), "%d", uudp_port);
		st = tg_run(&uudp_pid, &sent, NULL, "-m", "sendto", "udp", ns.ns_ip, port, "1000",
			    "50", NULL);
		ASSERT_EQ_INT(st, 0, "unconnected udp to the peer: sender exit status");
		child_wait(&usink, 5000);
		uudp_port = uudp_port > 0 ? uudp_port : -1;
		snprintf(port, sizeof(port), "%d",
			 tg_server(&usink, NULL, "udpsink", "0", "127.0.0.1", total, NULL));
		st = tg_run(&uudp_lo_pid, &sent, NULL, "-m", "sendto", "udp", "127.0.0.1", port,
			    "1000", "50", NULL);
		ASSERT_EQ_INT(st, 0, "unconnected udp to loopback: sender exit status");
		child_wait(&usink, 5000);
	}
	/* 11. a UDP client whose automatically chosen port is 50000: the
	 * namespace's port range is narrowed to that one port */
	{
		struct spawn_opts in_ns_udp = { .netns = ns.name };
		char port[16];
		long long sent = -1;
		struct child hsink;

		live_sh("ip netns exec %s sysctl -qw net.ipv4.ip_local_port_range='50000 50000'",
			ns.name);
		snprintf(port, sizeof(port), "%d",
			 tg_server(&hsink, NULL, "udpsink", "0", ns.host_ip, "20000", NULL));
		st = tg_run(&auto_pid, &sent, &in_ns_udp, "udp", ns.host_ip, port, "1000", "20",
			    NULL);
		ASSERT_EQ_INT(st, 0, "udp client on automatic port 50000: sender exit status");
		child_wait(&hsink, 5000);
		live_sh("ip netns exec %s sysctl -qw net.ipv4.ip_local_port_range='32768 60999'",
			ns.name);
	}
	/* 10. a client whose (ephemeral) source port happens to be 50000,
	 * DB2's port, inside Linux's default ephemeral range 32768-60999 */
	{
		struct child sink;
		char port[16];
		long long sent = -1;
		int sp = tg_server(&sink, &in_ns, "sink", "0", NULL);

		sp_sink = sink.pid;
		snprintf(port, sizeof(port), "%d", sp);
		st = tg_run(&sp_pid, &sent, NULL, "-s", "50000", "send", ns.ns_ip, port, "300017",
			    NULL);
		if (st) {
			/* 50000 busy here (someone's socket): any database port
			 * shows the same thing; 1433 is outside the ephemeral range */
			live_log("source port 50000 busy; using 1433");
			st = tg_run(&sp_pid, &sent, NULL, "-s", "1433", "send", ns.ns_ip, port,
				    "300017", NULL);
		}
		ASSERT_EQ_INT(st, 0, "sender from source port 50000 (or 1433): exit status");
		child_wait(&sink, 5000);
	}
	/* 9. a slow sender spanning several usage intervals (0.5 s) */
	{
		struct child sink;
		char port[16], total[32];
		long long sent = -1;
		int sp = tg_server(&sink, &in_ns, "sink", "0", NULL);

		snprintf(port, sizeof(port), "%d", sp);
		snprintf(total, sizeof(total), "%d", PACED_CHUNKS * PACED_CHUNK);
		st = tg_run(&paced_pid, &sent, NULL, "-P", "40000", "send", ns.ns_ip, port, total,
			    "16384", NULL);
		ASSERT_EQ_INT(st, 0, "paced sender exit status");
		child_wait(&sink, 5000);
	}

	/* 12. one TCP socket, reconnected (connect AF_UNSPEC) to another port
	 * of the peer at once: the same socket cookie, another flow */
	{
		struct child sink[2];
		char port[2][16];
		long long sent = -1;

		for (int i = 0; i < 2; i++) {
			rc_port[i] = tg_server(&sink[i], &in_ns, "sink", "0", NULL);
			snprintf(port[i], sizeof(port[i]), "%d", rc_port[i]);
		}
		st = tg_run(&rc_pid, &sent, NULL, "reconnect", ns.ns_ip, port[0], port[1],
			    "100003", NULL);
		ASSERT_EQ_INT(st, 0, "reconnecting sender: exit status");
		ASSERT_EQ_INT(sent, 2 * 100003, "reconnecting sender: bytes sent");
		for (int i = 0; i < 2; i++)
			child_wait(&sink[i], 5000);
	}

	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status after SIGTERM");
	if (events_load(&ev, v.out_path)) {
		CHECK(0, "output readable");
		return;
	}
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");
	e = events_find(&ev, "sensor-start");
	probe_mode = e ? jstr(e, "vigie.probe_mode") : NULL;
	ASSERT_TRUE(probe_mode && !strncmp(probe_mode, mode, strlen(mode)),
		    "sensor-start vigie.probe_mode matches --probes");
	live_log("probe mode %s", probe_mode ? probe_mode : "?");
	ASSERT_TRUE(events_find_last(&ev, "sensor-stop") != NULL, "sensor-stop written");

	{
		struct usage_filter f = { .ip = ns.ns_ip, .port = tcp.port, .transport = "tcp",
					  .uid = "0" };

		snprintf(msg, sizeof(msg), "[%s] tcp %llu bytes in 4 KiB writes: egress of pid %d "
			 "to %s:%d uid 0", mode, TCP_BYTES, tcp.pid, ns.ns_ip, tcp.port);
		ASSERT_EQ_U64(usage_sum(&ev, tcp.pid, "egress", &f, &ops, NULL), TCP_BYTES, msg);
		snprintf(msg, sizeof(msg), "[%s] tcp: vigie.ops = number of write() calls", mode);
		ASSERT_EQ_U64(ops, (TCP_BYTES + TCP_CHUNK - 1) / TCP_CHUNK, msg);
		snprintf(msg, sizeof(msg), "[%s] tcp: egress of pid %d, all endpoints", mode, tcp.pid);
		ASSERT_EQ_U64(usage_bytes(&ev, tcp.pid, "egress", NULL), TCP_BYTES, msg);
		snprintf(msg, sizeof(msg), "[%s] tcp: sender has no other class", mode);
		ASSERT_EQ_U64(usage_bytes(&ev, tcp.pid, NULL, NULL), TCP_BYTES, msg);
		e = usage_first(&ev, tcp.pid, "egress");
		snprintf(msg, sizeof(msg), "[%s] tcp: user.name root", mode);
		ASSERT_EQ_STR(e ? jstr(e, "user.name") : NULL, "root", msg);
		snprintf(msg, sizeof(msg), "[%s] tcp: process.name trafficgen", mode);
		ASSERT_EQ_STR(e ? jstr(e, "process.name") : NULL, "trafficgen", msg);
		snprintf(msg, sizeof(msg), "[%s] tcp: network.direction egress", mode);
		ASSERT_EQ_STR(e ? jstr(e, "network.direction") : NULL, "egress", msg);
	}
	snprintf(msg, sizeof(msg), "[%s] sendmsg %llu bytes: egress", mode, VEC_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, vec.pid, "egress", NULL), VEC_BYTES, msg);
	snprintf(msg, sizeof(msg), "[%s] writev %llu bytes: egress", mode, VEC_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, wv.pid, "egress", NULL), VEC_BYTES, msg);
	snprintf(msg, sizeof(msg), "[%s] loopback %llu bytes: no egress (excluded by default)",
		 mode, LO_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, lo.pid, "egress", NULL), 0, msg);
	usage_sum(&ev, lo.pid, NULL, NULL, NULL, &nev);
	snprintf(msg, sizeof(msg), "[%s] loopback: no usage event at all for the sender", mode);
	ASSERT_EQ_U64(nev, 0, msg);
	for (int i = 0; i < 2; i++) {
		struct usage_filter f = { .ip = ns.ns_ip, .port = rc_port[i], .transport = "tcp" };

		snprintf(msg, sizeof(msg), "[%s] one socket reconnected: 100003 bytes to %s:%d, "
			 "connection %d", mode, ns.ns_ip, rc_port[i], i + 1);
		ASSERT_EQ_U64(usage_bytes(&ev, rc_pid, "egress", &f), 100003, msg);
	}
	snprintf(msg, sizeof(msg), "[%s] sendfile %llu bytes: egress", mode, FILE_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, sf.pid, "egress", NULL), FILE_BYTES, msg);
	{
		struct usage_filter f = { .ip = ns.ns_ip, .port = udp_port, .transport = "udp" };

		snprintf(msg, sizeof(msg), "[%s] udp %d x %d bytes: egress (transport udp)", mode,
			 UDP_COUNT, UDP_SIZE);
		ASSERT_EQ_U64(usage_sum(&ev, udp_pid, "egress", &f, &ops, NULL),
			      UDP_SIZE * UDP_COUNT, msg);
		snprintf(msg, sizeof(msg), "[%s] udp: vigie.ops = datagrams", mode);
		ASSERT_EQ_U64(ops, UDP_COUNT, msg);
		snprintf(msg, sizeof(msg), "[%s] udp sendmmsg 200 calls x 2 x 500 bytes: egress",
			 mode);
		ASSERT_EQ_U64(usage_bytes(&ev, mmsg_pid, "egress", NULL), UDP_SIZE * UDP_COUNT, msg);
	}
	{
		struct usage_filter f = { .ip = ns.ns_ip6, .port = v6.port, .transport = "tcp" };

		snprintf(msg, sizeof(msg), "[%s] ipv6 %llu bytes to [%s]:%d: egress", mode, V6_BYTES,
			 ns.ns_ip6, v6.port);
		ASSERT_EQ_U64(usage_bytes(&ev, v6.pid, "egress", &f), V6_BYTES, msg);
		e = usage_first(&ev, v6.pid, "egress");
		snprintf(msg, sizeof(msg), "[%s] ipv6: network.type", mode);
		ASSERT_EQ_STR(e ? jstr(e, "network.type") : NULL, "ipv6", msg);
	}
	snprintf(msg, sizeof(msg), "[%s] splice pipe->socket %llu bytes: egress", mode,
		 SPLICE_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, spl.pid, "egress", NULL), SPLICE_BYTES, msg);
	/* The issue: egress includes io_uring sends. The syscall tracepoints
	 * never see them (no send syscall): fails with --probes syscalls. */
	snprintf(msg, sizeof(msg), "[%s] io_uring IORING_OP_SEND %llu bytes: egress", mode,
		 URING_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, uring.pid, "egress", NULL), URING_BYTES, msg);
	{
		struct usage_filter f = { .ip = ns.ns_ip, .port = mapped.port };

		snprintf(msg, sizeof(msg), "[%s] ::ffff:%s: egress reported as IPv4 %s", mode,
			 ns.ns_ip, ns.ns_ip);
		ASSERT_EQ_U64(usage_bytes(&ev, mapped.pid, "egress", &f), MAPPED_BYTES, msg);
		snprintf(msg, sizeof(msg), "[%s] ::ffff:127.0.0.1: no egress (loopback)", mode);
		ASSERT_EQ_U64(usage_bytes(&ev, mapped_lo.pid, "egress", NULL), 0, msg);
	}
	{
		struct usage_filter f = { .ip = ns.ns_ip, .port = uudp_port, .transport = "udp" };

		snprintf(msg, sizeof(msg), "[%s] unconnected udp sendto 50 x 1000: egress bytes", mode);
		ASSERT_EQ_U64(usage_bytes(&ev, uudp_pid, "egress", NULL), 50 * 1000, msg);
		/* the socket has no peer: the destination comes from the
		 * message (cgroup sendmsg hook, or the syscall's arguments) */
		e = usage_first(&ev, uudp_pid, "egress");
		snprintf(msg, sizeof(msg), "[%s] unconnected udp: destination %s:%d", mode, ns.ns_ip,
			 uudp_port);
		CHECK(usage_bytes(&ev, uudp_pid, "egress", &f) == 50 * 1000,
		      "%s: got destination.ip %s destination.port %lld", msg,
		      e && jstr(e, "destination.ip") ? jstr(e, "destination.ip") : "(none)",
		      e ? jint(e, "destination.port", -1) : -1);
		/* and so loopback is excluded for unconnected sends too */
		snprintf(msg, sizeof(msg), "[%s] unconnected udp to 127.0.0.1: no egress (loopback)",
			 mode);
		ASSERT_EQ_U64(usage_bytes(&ev, uudp_lo_pid, "egress", NULL), 0, msg);
	}
	/* A client's outgoing connection whose source port is a database
	 * port (one in 28,000 lands on 50000 by chance, or bound on
	 * purpose) is egress: the connection's role (opened here, not
	 * accepted) decides, not the port alone. Its peer, a plain sink,
	 * has no db_client either. */
	snprintf(msg, sizeof(msg), "[%s] udp client on automatic port 50000: egress", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, auto_pid, "egress", NULL), 20000, msg);
	snprintf(msg, sizeof(msg), "[%s] udp client on automatic port 50000: no db_server", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, auto_pid, "db_server", NULL), 0, msg);
	snprintf(msg, sizeof(msg), "[%s] client on source port 50000: egress", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, sp_pid, "egress", NULL), 300017, msg);
	snprintf(msg, sizeof(msg), "[%s] client on source port 50000: no db_server", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, sp_pid, "db_server", NULL), 0, msg);
	snprintf(msg, sizeof(msg), "[%s] its peer (a plain sink) has no db_client", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, sp_sink, "db_client", NULL), 0, msg);
	{
		size_t n = 0, distinct = 0;
		const char *ends[64];

		snprintf(msg, sizeof(msg), "[%s] paced sender over ~1.6 s: total egress", mode);
		ASSERT_EQ_U64(usage_sum(&ev, paced_pid, "egress", NULL, NULL, &n),
			      PACED_CHUNKS * PACED_CHUNK, msg);
		for (size_t i = 0; i < ev.n; i++) {
			json_t *u = ev.ev[i];
			const char *end = jstr(u, "event.end");
			const char *c = jstr(u, "vigie.class");
			bool seen = false;

			if (jint(u, "process.pid", -1) != paced_pid || !c || strcmp(c, "egress") ||
			    !end)
				continue;
			for (size_t k = 0; k < distinct; k++)
				seen |= !strcmp(ends[k], end);
			if (!seen && distinct < 64)
				ends[distinct++] = end;
		}
		live_log("paced sender: %zu usage events over %zu intervals", n, distinct);
		snprintf(msg, sizeof(msg), "[%s] paced sender: several usage intervals", mode);
		ASSERT_GT_U64(distinct, 1, msg);
		snprintf(msg, sizeof(msg), "[%s] paced sender: one event per endpoint per interval",
			 mode);
		ASSERT_EQ_U64(n, distinct, msg);
	}
	events_free(&ev);
}

/* internal_networks excludes the namespace peer; exclude_loopback false
 * makes loopback count. */
static void run_config(const char *mode)
{
	struct vigie v;
	struct events ev;
	struct sent in4, in6, lo4, lo6, big;
	char cfg[512], msg[160];
	json_t *stop;

	live_section("egress configuration, --probes %s", mode);
	snprintf(cfg, sizeof(cfg),
		 "{\n  \"network\": {\n    \"exclude_loopback\": false,\n"
		 "    \"internal_networks\": [\"%s\", \"fd00:213:11::/64\"]\n  }\n}\n",
		 ns.cidr);
	if (vigie_start(&v, cfg, "--probes", mode, "--tick", "0.2", NULL)) {
		CHECK(0, "vigie started with a configuration");
		return;
	}
	in4 = tcp_send(ns.ns_ip, NULL, 300000, NULL, "65536");
	check_sent("internal ipv4", &in4, 300000);
	in6 = tcp_send(ns.ns_ip6, NULL, 300001, NULL, "65536");
	check_sent("internal ipv6", &in6, 300001);
	lo4 = tcp_send("127.0.0.1", "127.0.0.1", 400003, NULL, "65536");
	check_sent("loopback ipv4", &lo4, 400003);
	lo6 = tcp_send("::1", "::1", 400009, NULL, "65536");
	check_sent("loopback ipv6", &lo6, 400009);
	/* more than 2^32 bytes: no 32-bit counter anywhere */
	big = tcp_send("127.0.0.1", "127.0.0.1", BIG_BYTES, NULL, "1048576");
	check_sent("loopback 4.5 GB", &big, BIG_BYTES);
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return;
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");
	snprintf(msg, sizeof(msg), "[%s] internal network %s: no egress", mode, ns.cidr);
	ASSERT_EQ_U64(usage_bytes(&ev, in4.pid, "egress", NULL), 0, msg);
	snprintf(msg, sizeof(msg), "[%s] internal network fd00:213:11::/64: no egress", mode);
	ASSERT_EQ_U64(usage_bytes(&ev, in6.pid, "egress", NULL), 0, msg);
	{
		struct usage_filter f = { .ip = "127.0.0.1", .port = lo4.port };

		snprintf(msg, sizeof(msg), "[%s] exclude_loopback false: 127.0.0.1 egress", mode);
		ASSERT_EQ_U64(usage_bytes(&ev, lo4.pid, "egress", &f), 400003, msg);
	}
	{
		struct usage_filter f = { .ip = "::1", .port = lo6.port };

		snprintf(msg, sizeof(msg), "[%s] exclude_loopback false: ::1 egress", mode);
		ASSERT_EQ_U64(usage_bytes(&ev, lo6.pid, "egress", &f), 400009, msg);
	}
	snprintf(msg, sizeof(msg), "[%s] loopback %llu bytes (> 2^32): egress", mode, BIG_BYTES);
	ASSERT_EQ_U64(usage_bytes(&ev, big.pid, "egress", NULL), BIG_BYTES, msg);
	stop = events_find_last(&ev, "sensor-stop");
	/* each of the two internal transfers is at least 5 sends of 64 KB,
	 * every one excluded (the first classified, the next ones from the
	 * flow cache or the descriptor cache); exclude_loopback is off, so
	 * nothing else of the host is */
	snprintf(msg, sizeof(msg), "[%s] sensor-stop: excluded_sends >= 10", mode);
	ASSERT_GT_U64(stop ? jint(stop, "vigie.stats.excluded_sends", 0) : 0, 9, msg);
	events_free(&ev);
}

int main(void)
{
	live_init("egress");
	if (netns_create(&ns, "egr", 11)) {
		CHECK(0, "network namespace created");
		return live_finish();
	}
	in_ns.netns = ns.name;
	run_mode("sock", false);
	run_mode("syscalls", false);
	run_mode("syscalls", true);
	run_config("sock");
	run_config("syscalls");
	netns_destroy(&ns);
	return live_finish();
}
