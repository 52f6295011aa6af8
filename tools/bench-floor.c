// SPDX-License-Identifier: GPL-2.0
/*
 * bench-floor: loads the empty "floor" programs (bpf/floor.bpf.c) on the
 * hooks of one sensor probe mode and keeps them attached until SIGINT or
 * SIGTERM (or a safety timeout), so that tools/bench.sh can read, side by
 * side, the kernel's per-program statistics of the sensor and of an empty
 * program on the same hook.
 *
 *   bench-floor MODE [TIMEOUT_S]
 *     MODE: sock (tp_btf), sock-tp (classic tracepoints), syscalls, all
 *
 * Prints "ready" on stdout once attached. Programs of process exec/exit are
 * attached in every mode, as the sensor does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static bool wanted(const char *name, const char *mode)
{
	bool all = !strcmp(mode, "all");

	if (!strncmp(name, "floor_process_", 14))
		return true;
	if (!strcmp(name, "floor_send_btf") || !strcmp(name, "floor_recv_btf"))
		return all || !strcmp(mode, "sock");
	if (!strcmp(name, "floor_send_tp") || !strcmp(name, "floor_recv_tp"))
		return all || !strcmp(mode, "sock-tp");
	if (!strncmp(name, "floor_sys_", 10))
		return all || !strcmp(mode, "syscalls");
	return false;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	struct bpf_program *prog;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *mode;
	unsigned timeout = 600;
	int err, n = 0;

	if (argc < 2 || argc > 3 ||
	    (strcmp(argv[1], "sock") && strcmp(argv[1], "sock-tp") && strcmp(argv[1], "syscalls") &&
	     strcmp(argv[1], "all"))) {
		fprintf(stderr, "usage: %s sock|sock-tp|syscalls|all [TIMEOUT_S]\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	if (argc == 3)
		timeout = (unsigned)strtoul(argv[2], NULL, 10);
	libbpf_set_print(libbpf_quiet);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench-floor: cannot open the floor object: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		bool on = wanted(bpf_program__name(prog), mode);

		bpf_program__set_autoload(prog, on);
		n += on;
	}
	err = floor_bpf__load(skel);
	if (!err)
		err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bench-floor: cannot load/attach the floor programs (%s): %s\n", mode,
			strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	printf("ready %d programs\n", n);
	fflush(stdout);
	alarm(timeout);
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
