/* SPDX-License-Identifier: GPL-2.0 */
/* trafficgen (tools/trafficgen/): what its files share. See main.c. */
#ifndef VIGIE_TRAFFICGEN_H
#define VIGIE_TRAFFICGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct addrinfo;

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define MAX_CHUNK (16u << 20)
#define IO_TIMEOUT_MS 20000

/* global options (main.c) */
extern const char *method; /* -m */
extern unsigned src_port;  /* -s: bind clients to this local port */
extern long pause_us;      /* -P: pause between chunks */

/* main.c: output and helpers */
void out(const char *key, unsigned long long v);
__attribute__((format(printf, 1, 2))) int fail(const char *fmt, ...);
void sleep_ms(long ms);
int parse_u64(const char *s, unsigned long long max, unsigned long long *out_v);

#define NUM(var, str, max)                                                       \
	do {                                                                     \
		if (parse_u64((str), (max), &(var))) {                           \
			fprintf(stderr, "trafficgen: bad number '%s'\n", (str)); \
			return EXIT_USAGE;                                       \
		}                                                                \
	} while (0)

/* uring.c: one io_uring operation at a time (no liburing) */
ssize_t uring_op(int op, int fd, void *buf, size_t len, uint64_t off);

/* net.c: sockets, exact transfers */
int resolve(const char *host, const char *port, int socktype, bool passive,
	    struct addrinfo **res);
int connect_to(const char *host, const char *port, int socktype);
int listen_on(const char *bind_addr, const char *port, int socktype, unsigned *bound);
int wait_fd(int fd, short events);
ssize_t send_once(int fd, const char *buf, size_t len);
ssize_t recv_once(int fd, char *buf, size_t len);
char *pattern(size_t len);
int send_exact(int fd, unsigned long long total, size_t chunk, unsigned long long *sent);
int recv_all(int fd, unsigned long long *got);
int finish_send(int fd);

/* commands.c: one per command (argc, argv from the command name) */
int cmd_send(int argc, char **argv);
int cmd_reconnect(int argc, char **argv);
int cmd_multisend(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_sendfile(int argc, char **argv);
int cmd_udp(int argc, char **argv);
int cmd_udpsink(int argc, char **argv);
int cmd_readfile(int argc, char **argv);
int cmd_sleep(int argc, char **argv);

#endif
