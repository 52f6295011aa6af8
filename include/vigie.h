/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structures shared by the kernel programs (bpf/vigie.bpf.c) and user space.
 * Fixed-width types only, explicit padding, no implicit holes: both sides
 * must agree byte for byte.
 */
#ifndef VIGIE_H
#define VIGIE_H

#ifdef __VIGIE_BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define VIGIE_COMM_LEN 16
#define VIGIE_FILENAME_LEN 256
#define VIGIE_ARGS_LEN 512
#define VIGIE_PORT_WORDS (65536 / 64)
#define VIGIE_MAX_DATA_DIRS 16

/* Slots of the sensor's send_chain (bpf/vigie.bpf.c), which hold the
 * PostgreSQL walker's send programs (bpf/pgwire.bpf.c): ANY checks that
 * the sender is a marked backend before its hash lookup; DB_PORT, for a
 * send from an inet database port once every server's ports are known
 * (almost always a backend's), goes to the lookup at once. An empty
 * DB_PORT slot falls back to ANY. */
#define VIGIE_SEND_CHAIN_ANY 0
#define VIGIE_SEND_CHAIN_DB_PORT 1
#define VIGIE_SEND_CHAIN_SLOTS 2

/* What a counted byte is. A sent byte lands in exactly one class. */
enum vigie_class {
	VIGIE_CLASS_EGRESS = 0,    /* sent on an inet socket, not to a DB client */
	VIGIE_CLASS_DB_CLIENT = 1, /* received from a database endpoint */
	VIGIE_CLASS_DB_SERVER = 2, /* sent by a local DB server to its clients */
	VIGIE_CLASS_DB_FILE = 3,   /* read from a file under a data directory */
	VIGIE_CLASS_MAX = 4,
};

/* Detailed counter key: one per (process, user, cgroup, class, endpoint). */
struct vigie_flow_key {
	__u32 tgid;
	__u32 uid;
	__u64 cgroup_id;
	__u8 cls;       /* enum vigie_class */
	__u8 family;    /* AF_INET, AF_INET6, or 0 for db_file */
	__u16 rport;    /* remote port, host order */
	__u16 lport;    /* local port, host order; db_file: data dir index */
	__u8 proto;     /* IPPROTO_TCP, IPPROTO_UDP, ...; 0 for db_file */
	__u8 pad;
	__u8 raddr[16]; /* remote address; IPv4 in the first 4 bytes */
};

/* Coarse key used when the detailed map is full: totals stay exact. */
struct vigie_total_key {
	__u32 tgid;
	__u32 uid;
	__u8 cls;
	__u8 pad[7];
};

struct vigie_counter {
	__u64 bytes;
	__u64 ops;
};

/* One slot of the per-CPU flow cache of the sock-btf programs
 * (bpf/flowcache.bpf.h): a TCP socket's flow in one direction, as counted
 * on one CPU since the last drain. User space reads the idle copy at each
 * drain like the flow maps, then zeroes it. cookie 0: empty slot. The
 * syscall programs tag theirs by the whole key (cookie VIGIE_SLOT_KEYED). */
#define VIGIE_FLOW_CACHE_SLOTS 256 /* per CPU, at most (limits.flow_cache_slots) */
#define VIGIE_CLASS_NOT_COUNTED 0xff /* cached "not counted" (key.cls) */
#define VIGIE_SLOT_KEYED (~0ull) /* cookie of a slot tagged by its whole key */

struct vigie_flow_slot {
	__u64 cookie;     /* socket cookie */
	__u64 cred;       /* owner: task->cred and task->cgroups (tgid in key) */
	__u64 css;
	__u32 gen;        /* classification generation when filled */
	__u8 send;        /* 1 sends, 0 receives */
	__u8 pad[3];
	struct vigie_flow_key key; /* key.cls: class, or VIGIE_CLASS_NOT_COUNTED */
	struct vigie_counter c;
};

/* A CPU's whole cache: one per-CPU value, so that an event finds its slot
 * from the same pointer every time and user space reads a copy in one
 * call. */
struct vigie_flow_slots {
	struct vigie_flow_slot s[VIGIE_FLOW_CACHE_SLOTS];
};

/* Endpoint key for configured database addresses (addr:port). */
struct vigie_endpoint_key {
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
	__u16 port;    /* host order; 0 = any port */
	__u8 family;
	__u8 pad[5];
};

/* LPM trie key for excluded networks; IPv4 stored as ::ffff:a.b.c.d */
struct vigie_net_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Inode identity of a configured data directory (kernel dev_t encoding). */
struct vigie_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

/* Per-CPU statistics, cumulative since load. */
enum vigie_stat {
	VIGIE_STAT_FLOW_FALLBACK = 0, /* detailed map full: went to totals */
	VIGIE_STAT_TOTAL_FAIL,        /* totals map full too: see LOST_* */
	VIGIE_STAT_LOST_BYTES_EGRESS, /* bytes only in these counters */
	VIGIE_STAT_LOST_BYTES_DB_CLIENT,
	VIGIE_STAT_LOST_BYTES_DB_SERVER,
	VIGIE_STAT_LOST_BYTES_DB_FILE,
	VIGIE_STAT_RINGBUF_DROP,      /* exec/exit events that did not fit */
	VIGIE_STAT_EXEC,
	VIGIE_STAT_EXIT,
	VIGIE_STAT_SYSARGS_FAIL,      /* syscall mode: could not stash args */
	VIGIE_STAT_DIRCACHE_MISS,     /* db_file: dentry walks done */
	VIGIE_STAT_EXCLUDED,          /* sends skipped: loopback/internal */
	VIGIE_STAT_MAX,
};

enum vigie_proc_event_type {
	VIGIE_EV_EXEC = 1,
	VIGIE_EV_EXIT = 2,
};

/* exec/exit notification through the ring buffer. */
struct vigie_proc_event {
	__u32 type;
	__u32 pid;        /* tgid */
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 loginuid;   /* (u32)-1 when unset */
	__u64 cgroup_id;
	__u64 ktime_ns;
	__u32 exit_code;
	__u32 args_len;   /* bytes valid in args (NUL separated) */
	char comm[VIGIE_COMM_LEN];
	char filename[VIGIE_FILENAME_LEN];
	char args[VIGIE_ARGS_LEN];
};
/* An exit record ends before filename (no file name or arguments). */
#define VIGIE_PROC_EXIT_SIZE 64

#define VIGIE_LOGINUID_UNSET 0xffffffffu

#endif /* VIGIE_H */
