// SPDX-License-Identifier: GPL-2.0
/*
 * benchload: load generators for tools/bench.sh.
 *
 *   benchload server PORT
 *       TCP peer (run it inside the benchmark's network namespace). Each
 *       connection starts with one byte: 'S' = sink (read and discard in
 *       64 KiB chunks), 'R' = source (write 64 KiB chunks until the peer
 *       closes). One thread per connection.
 *   benchload send HOST PORT COUNT REPS
 *       One TCP connection in sink mode; REPS timed loops of COUNT 1-byte
 *       send() calls (after a warm-up loop). Prints the median, min and max
 *       ns per send of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID: time
 *       other processes had the CPU is left out), and the wall-clock ones.
 *   benchload read HOST PORT COUNT REPS
 *       Same with 1-byte read() calls on a connection in source mode.
 *   benchload udpsend HOST PORT COUNT REPS
 *       Same with 1-byte send() calls on a connected UDP socket (no peer
 *       needed; for experiments, not used by bench.sh).
 *   benchload spread HOST PORT_BASE NPORTS NPROCS SOCKS RATE SECONDS
 *       NPROCS processes, each with SOCKS UDP sockets connected to
 *       HOST:PORT_BASE+(i % NPORTS), together sending RATE 64-byte
 *       datagrams per second round-robin over all their sockets for SECONDS
 *       seconds: NPROCS*SOCKS distinct (process, local port, peer) keys.
 *       Prints what was sent and the rate reached.
 *
 * Output lines are "key=value" pairs that the script parses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "benchload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long arg_long(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "benchload: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void addr_of(struct sockaddr_in *sa, const char *host, long port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "benchload: bad IPv4 address '%s'\n", host);
		exit(2);
	}
}

/* ---- server ------------------------------------------------------------ */

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char buf[CHUNK]; /* contents do not matter: shared is fine */
	char mode;

	if (read(fd, &mode, 1) != 1)
		goto out;
	if (mode == 'S') {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	} else if (mode == 'R') {
		while (write(fd, buf, sizeof(buf)) > 0)
			;
	}
out:
	close(fd);
	return NULL;
}

static int cmd_server(long port)
{
	struct sockaddr_in sa;
	int one = 1, lfd;

	signal(SIGPIPE, SIG_IGN);
	addr_of(&sa, "0.0.0.0", port);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128))
		die("bind/listen");
	printf("listening port=%ld\n", port);
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
	return 0;
}

/* ---- tight loops ------------------------------------------------------- */

static int connect_to(const char *host, long port, char mode)
{
	struct sockaddr_in sa;
	int fd, sz = 4 << 20, one = 1;

	addr_of(&sa, host, port);
	if (mode == 'U') { /* UDP: no peer needed, nothing comes back */
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("udp socket/connect");
		return fd;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	/* Big buffers: the loops should rarely block on the peer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	if (write(fd, &mode, 1) != 1)
		die("write mode");
	/* Corked: a 1-byte send appends to the queue and full segments leave
	 * now and then, so each send costs about the same (without it, Nagle
	 * and ACK timing make the loop bimodal and noisy). */
	if (mode == 'S' && setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)))
		die("setsockopt(TCP_CORK)");
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread per operation, in ns (the wall clock per
 * operation in *wall): CPU time leaves out the time other processes had
 * the CPU, so it is what the syscall and its probes cost. */
static double loop_once(int fd, long count, bool send_side, double *wall)
{
	char c = 'x';
	double t0 = now_s(), c0 = thread_cpu_s();

	for (long i = 0; i < count; i++) {
		ssize_t r = send_side ? send(fd, &c, 1, 0) : read(fd, &c, 1);

		if (r != 1)
			die(send_side ? "send" : "read");
	}
	*wall = (now_s() - t0) * 1e9 / (double)count;
	return (thread_cpu_s() - c0) * 1e9 / (double)count;
}

static int cmd_loop(const char *host, long port, long count, long reps, bool send_side, bool udp)
{
	double *v, *w, wall;
	int fd;

	if (count < 1 || reps < 1 || reps > 1000)
		return 2;
	v = calloc((size_t)reps, sizeof(*v));
	w = calloc((size_t)reps, sizeof(*w));
	if (!v || !w)
		die("calloc");
	signal(SIGPIPE, SIG_IGN);
	fd = connect_to(host, port, udp ? 'U' : send_side ? 'S' : 'R');
	loop_once(fd, count / 10 + 1, send_side, &wall); /* warm-up */
	for (long r = 0; r < reps; r++)
		v[r] = loop_once(fd, count, send_side, &w[r]);
	close(fd);
	qsort(v, (size_t)reps, sizeof(*v), cmp_double);
	qsort(w, (size_t)reps, sizeof(*w), cmp_double);
	printf("op=%s%s count=%ld reps=%ld median_ns=%.1f min_ns=%.1f max_ns=%.1f "
	       "wall_median_ns=%.1f wall_min_ns=%.1f\n",
	       udp ? "udp" : "", send_side ? "send" : "read", count, reps, v[reps / 2], v[0],
	       v[reps - 1], w[reps / 2], w[0]);
	free(v);
	free(w);
	return 0;
}

/* ---- spread ------------------------------------------------------------ */

static void spread_child(const char *host, long port_base, long nports, long nsocks, double rate,
			 double seconds, uint64_t *sent_out, uint64_t *err_out)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)nsocks + 64, .rlim_max = (rlim_t)nsocks + 64 };
	char payload[64];
	uint64_t sent = 0, errs = 0;
	double t0, t;
	int *fds;

	memset(payload, 'v', sizeof(payload));
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE)");
	fds = calloc((size_t)nsocks, sizeof(*fds));
	if (!fds)
		die("calloc");
	for (long i = 0; i < nsocks; i++) {
		struct sockaddr_in sa;

		addr_of(&sa, host, port_base + i % nports);
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[i] < 0)
			die("socket");
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
	}
	t0 = now_s();
	while ((t = now_s() - t0) < seconds) {
		uint64_t target = (uint64_t)(rate * t);
		struct timespec slot = { 0, 1000000 }; /* 1 ms */

		while (sent < target) {
			if (send(fds[sent % (uint64_t)nsocks], payload, sizeof(payload), MSG_DONTWAIT) < 0)
				errs++;
			sent++;
		}
		nanosleep(&slot, NULL);
	}
	*sent_out = sent;
	*err_out = errs;
	_exit(0);
}

static int cmd_spread(char **argv)
{
	const char *host = argv[0];
	long port_base = arg_long(argv[1], "port base"), nports = arg_long(argv[2], "port count");
	long nprocs = arg_long(argv[3], "process count"), nsocks = arg_long(argv[4], "socket count");
	long rate = arg_long(argv[5], "rate"), seconds = arg_long(argv[6], "seconds");
	uint64_t *shared, sent = 0, errs = 0;
	double t0, elapsed;
	int failed = 0;

	if (nports < 1 || nprocs < 1 || nprocs > 64 || nsocks < 1 || rate < 1 || seconds < 1)
		return 2;
	shared = mmap(NULL, 2 * 64 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	t0 = now_s();
	for (long p = 0; p < nprocs; p++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			spread_child(host, port_base, nports, nsocks, (double)rate / (double)nprocs,
				     (double)seconds, &shared[p], &shared[64 + p]);
	}
	for (long p = 0; p < nprocs; p++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed = 1;
	}
	elapsed = now_s() - t0; /* includes socket set-up */
	for (long p = 0; p < nprocs; p++) {
		sent += shared[p];
		errs += shared[64 + p];
	}
	printf("op=spread procs=%ld keys=%ld sent=%llu errors=%llu seconds=%ld wall=%.2f rate=%.0f\n",
	       nprocs, nprocs * nsocks, (unsigned long long)sent, (unsigned long long)errs, seconds,
	       elapsed, (double)sent / (double)seconds);
	return failed;
}

static void usage(void)
{
	fprintf(stderr, "usage: benchload server PORT\n"
			"       benchload send|read|udpsend HOST PORT COUNT REPS\n"
			"       benchload spread HOST PORT_BASE NPORTS NPROCS SOCKS RATE SECONDS\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "server"))
		return cmd_server(arg_long(argv[2], "port"));
	if (argc == 6 && (!strcmp(argv[1], "send") || !strcmp(argv[1], "read") ||
			  !strcmp(argv[1], "udpsend")))
		return cmd_loop(argv[2], arg_long(argv[3], "port"), arg_long(argv[4], "count"),
				arg_long(argv[5], "repetitions"), argv[1][0] != 'r',
				argv[1][0] == 'u');
	if (argc == 9 && !strcmp(argv[1], "spread"))
		return cmd_spread(argv + 2);
	usage();
	return 2;
}
