// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: empty programs on the same hooks as the sensor's
 * (bpf/vigie.bpf.c, bpf/syscalls.bpf.h, bpf/process.bpf.h). Their
 * kernel.bpf_stats_enabled run time per event is the cost of merely being
 * called on that hook (dispatch plus the statistics' own clock reads): what
 * no sensor program on that hook can go below. Loaded by tools/bench-floor.c,
 * used only by tools/bench.sh; never part of the sensor.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Keeps the compiler from folding the programs into one another. */
volatile const int floor_ret = 0;

/* sock mode, tp_btf variant (sock_send_btf / sock_recv_btf) */
SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send_btf, struct sock *sk, int ret, int flags)
{
	return floor_ret;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv_btf, struct sock *sk, int ret, int flags)
{
	return floor_ret;
}

/* sock mode, classic tracepoint variant (sock_send_tp / sock_recv_tp) */
SEC("tracepoint/sock/sock_send_length")
int floor_send_tp(void *ctx)
{
	return floor_ret;
}

SEC("tracepoint/sock/sock_recv_length")
int floor_recv_tp(void *ctx)
{
	return floor_ret;
}

/* exec/exit (process_exec / process_exit) */
SEC("tracepoint/sched/sched_process_exec")
int floor_process_exec(void *ctx)
{
	return floor_ret;
}

SEC("tracepoint/sched/sched_process_exit")
int floor_process_exit(void *ctx)
{
	return floor_ret;
}

/* syscalls mode: one empty enter and exit program per syscall the sensor
 * uses (names: floor_sys_enter_X / floor_sys_exit_X, X as in the sensor). */
#define FLOOR_SYSCALL(name)                                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                           \
	int floor_sys_enter_##name(void *ctx)                                 \
	{                                                                     \
		return floor_ret;                                             \
	}                                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #name)                            \
	int floor_sys_exit_##name(void *ctx)                                  \
	{                                                                     \
		return floor_ret;                                             \
	}

FLOOR_SYSCALL(sendto)
FLOOR_SYSCALL(sendmsg)
FLOOR_SYSCALL(sendmmsg)
FLOOR_SYSCALL(write)
FLOOR_SYSCALL(writev)
FLOOR_SYSCALL(recvfrom)
FLOOR_SYSCALL(recvmsg)
FLOOR_SYSCALL(recvmmsg)
FLOOR_SYSCALL(read)
FLOOR_SYSCALL(readv)
FLOOR_SYSCALL(sendfile64)
FLOOR_SYSCALL(splice)
