// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/listen_ports.c: a fake /proc tree (sockets among a
 * process's files, LISTEN lines of tcp and tcp6, lines that are not), and
 * this test's own listening socket read from the real /proc. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"
#include "postgres/listen_ports.h"

static char root[64] = "/tmp/vigie-test-lports-XXXXXX";

static void put(const char *rel, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

static void link_fd(int fd, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/42/fd/%d", root, fd);
	if (symlink(target, path))
		abort();
}

static void test_fake_proc(void)
{
	uint16_t ports[8];
	char path[256];
	int n;

	snprintf(path, sizeof(path), "%s/42", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/42/fd", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/42/net", root);
	mkdir(path, 0755);
	link_fd(3, "socket:[1001]");   /* listens on 5499 (IPv4) */
	link_fd(4, "socket:[1002]");   /* a connection on 5499 */
	link_fd(5, "/dev/null");
	link_fd(6, "socket:[2000]");   /* listens on 5499 (IPv6): the same port */
	link_fd(7, "socket:[2001]");   /* listens on 6532 (IPv6) */
	link_fd(8, "pipe:[1003]");
	put("42/net/tcp",
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	    "   0: 0100007F:157B 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 1001 1 0000000000000000 100 0 0 10 0\n"
	    "   1: 0100007F:157B 0100007F:D431 01 00000000:00000000 00:00000000 00000000   108        0 1002 1 0000000000000000 20 4 30 10 -1\n"
	    "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 100 0 0 10 0\n"
	    "garbage line\n"
	    "   3: 0100007F:1F90\n");
	put("42/net/tcp6",
	    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	    "   0: 00000000000000000000000000000000:157B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 2000 1 0000000000000000 100 0 0 10 0\n"
	    "   1: 00000000000000000000000000000000:1984 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 2001 1 0000000000000000 100 0 0 10 0\n");
	n = listen_ports(root, 42, ports, 8, NULL);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_INT(ports[0], 5499);
		CHECK_EQ_INT(ports[1], 6532);
	}
	/* room for one: the first found */
	CHECK_EQ_INT(listen_ports(root, 42, ports, 1, NULL), 1);
	CHECK_EQ_INT(ports[0], 5499);
	/* unix sockets: fd 9 listens (__SO_ACCEPTCON), fd 10 is connected; a
	 * listening one of another process does not count */
	{
		bool on_unix = true;

		CHECK_EQ_INT(listen_ports(root, 42, ports, 8, &on_unix), 2);
		CHECK(!on_unix); /* no net/unix yet */
		link_fd(10, "socket:[3002]");
		put("42/net/unix",
		    "Num       RefCount Protocol Flags    Type St Inode Path\n"
		    "0000000000000000: 00000003 00000000 00000000 0001 03 3002 /run/x/.s.PGSQL.5499\n"
		    "0000000000000000: 00000002 00000000 00010000 0001 01 4444 /run/other.sock\n"
		    "truncated\n");
		CHECK_EQ_INT(listen_ports(root, 42, ports, 8, &on_unix), 2);
		CHECK(!on_unix);
		link_fd(9, "socket:[3001]");
		put("42/net/unix",
		    "Num       RefCount Protocol Flags    Type St Inode Path\n"
		    "0000000000000000: 00000003 00000000 00000000 0001 03 3002 /run/x/.s.PGSQL.5499\n"
		    "0000000000000000: 00000002 00000000 00010000 0001 01 3001 /run/x/.s.PGSQL.5499\n");
		CHECK_EQ_INT(listen_ports(root, 42, ports, 8, &on_unix), 2);
		CHECK(on_unix);
	}
	/* a process that is gone, bad arguments */
	CHECK_EQ_INT(listen_ports(root, 43, ports, 8, NULL), -ENOENT);
	CHECK_EQ_INT(listen_ports(root, 0, ports, 8, NULL), -EINVAL);
	CHECK_EQ_INT(listen_ports(root, 42, NULL, 8, NULL), -EINVAL);
}

/* This process, through the real /proc: a listening socket is found, a
 * bound but not listening one is not. */
static void test_real_proc(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), bs = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t ports[16], lport, bport;
	int n, found_l = 0, found_b = 0;

	CHECK(ls >= 0 && bs >= 0);
	CHECK(bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(ls, 1) == 0 &&
	      getsockname(ls, (struct sockaddr *)&a, &alen) == 0);
	lport = ntohs(a.sin_port);
	a.sin_port = 0;
	alen = sizeof(a);
	CHECK(bind(bs, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      getsockname(bs, (struct sockaddr *)&a, &alen) == 0);
	bport = ntohs(a.sin_port);
	n = listen_ports(NULL, getpid(), ports, 16, NULL);
	CHECK_MSG(n >= 1, "listen_ports of self: %d", n);
	for (int i = 0; i < n; i++) {
		found_l += ports[i] == lport;
		found_b += ports[i] == bport;
	}
	CHECK_MSG(found_l == 1, "listening port %u found %d times", lport, found_l);
	CHECK_EQ_INT(found_b, 0);
	close(ls);
	close(bs);
}

/* This process, through the real /proc: a unix socket that listens is
 * seen, one bound only is not; no TCP port either way. */
static void test_real_unix(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int us = socket(AF_UNIX, SOCK_STREAM, 0);
	uint16_t ports[16];
	bool on_unix = true;

	CHECK(us >= 0);
	/* abstract name: nothing to remove */
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "vigie-test-lports-%d", (int)getpid());
	CHECK(bind(us, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen_ports(NULL, getpid(), ports, 16, &on_unix) >= 0);
	CHECK_MSG(!on_unix, "a bound unix socket that does not listen");
	CHECK(listen(us, 1) == 0);
	CHECK(listen_ports(NULL, getpid(), ports, 16, &on_unix) >= 0);
	CHECK_MSG(on_unix, "a listening unix socket of this process");
	close(us);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(root)) {
		CHECK_MSG(0, "mkdtemp");
		return check_summary();
	}
	test_fake_proc();
	test_real_proc();
	test_real_unix();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		CHECK_MSG(0, "cleanup of %s", root);
	return check_summary();
}
