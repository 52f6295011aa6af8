/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Syscall tracepoints, included by vigie.bpf.c.
 *  - syscalls mode (kernels without sock:sock_*_length): send/recv family
 *    enter/exit with fd -> socket resolution;
 *  - db_file: read family enter/exit with fd -> file -> data directory.
 * User space enables only the programs the configuration needs.
 */
#ifndef VIGIE_SYSCALLS_BPF_H
#define VIGIE_SYSCALLS_BPF_H

const volatile bool count_sock_syscalls = false;
const volatile bool count_dbfile = false;

#define DIR_WALK_MAX 32
#define MMSG_MAX 1024

/* What a syscall's enter decided to count, for its exit: the full keys
 * (endpoint and class resolved at enter, so that nothing is stashed for
 * sockets and files that are not counted). */
struct sys_stash {
	struct vigie_flow_key send;  /* valid when send_on */
	struct vigie_flow_key recv;  /* recv socket or db_file, when recv_on */
	__u64 mmsg;                  /* user pointer to struct mmsghdr[], or 0 */
	__u8 send_on;
	__u8 recv_on;
	__u8 active;                 /* set at enter, cleared at exit */
	__u8 pad[5];
};

/* Per-thread, in task local storage: cheaper than a hash keyed by thread
 * id (no hashing, no insert and delete per syscall), freed with the task. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sys_stash);
} sys_stash SEC(".maps");

/* Configured data directories, by inode identity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VIGIE_MAX_DATA_DIRS);
	__type(key, struct vigie_inode_key);
	__type(value, __u32);
} data_dirs SEC(".maps");

/* Regular files known to be under a data directory, by inode: filled by
 * user space at start (a walk of each directory) and by the kernel when a
 * path walk finds one. Keyed by inode, so that a hard link elsewhere to a
 * data file is still a data file. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, struct vigie_inode_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} data_inodes SEC(".maps");

/* Paths known not to be under a data directory, by (dentry, parent):
 * one name of a file, so a hard link cannot hide the data file. */
struct dentry_key {
	__u64 dentry;
	__u64 parent;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dentry_key);
	__type(value, __u8);
} outside_dentries SEC(".maps");

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt; /* direct loads, fault-safe */
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void inode_key(struct inode *inode, struct vigie_inode_key *ik)
{
	ik->ino = BPF_CORE_READ(inode, i_ino);
	ik->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ik->pad = 0;
}

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return (struct mount *)((void *)mnt - bpf_core_field_offset(struct mount, mnt));
}

/* Data directory index of a file read, or -1. The path walk goes up the
 * dentry parents and, at the root of a mount, on from its mount point, so
 * a file system mounted inside a data directory (pg_wal on its own disk)
 * counts too. */
static __always_inline __s32 file_data_dir(struct file *f, struct inode *inode)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry), *parent, *mnt_root;
	struct mount *mnt = real_mount(BPF_CORE_READ(f, f_path.mnt)), *up;
	struct vigie_inode_key ik, dk;
	struct dentry_key nk;
	__s32 found = -1;
	__u32 *idx;
	__u8 one = 1;

	inode_key(inode, &ik);
	idx = bpf_map_lookup_elem(&data_inodes, &ik);
	if (idx)
		return (__s32)*idx;
	nk.dentry = (__u64)d;
	nk.parent = (__u64)BPF_CORE_READ(d, d_parent);
	if (bpf_map_lookup_elem(&outside_dentries, &nk))
		return -1;
	stat_add(VIGIE_STAT_DIRCACHE_MISS, 1);
	mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
	for (int i = 0; i < DIR_WALK_MAX; i++) {
		if (d == mnt_root) {
			up = BPF_CORE_READ(mnt, mnt_parent);
			if (!up || up == mnt)
				break; /* the root of everything */
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
		} else {
			parent = BPF_CORE_READ(d, d_parent);
			if (!parent || parent == d)
				break;
			d = parent;
		}
		inode_key(BPF_CORE_READ(d, d_inode), &dk);
		idx = bpf_map_lookup_elem(&data_dirs, &dk);
		if (idx) {
			found = (__s32)*idx;
			break;
		}
	}
	if (found >= 0) {
		__u32 v = (__u32)found;

		bpf_map_update_elem(&data_inodes, &ik, &v, BPF_ANY);
	} else {
		bpf_map_update_elem(&outside_dentries, &nk, &one, BPF_ANY);
	}
	return found;
}

/* Destination given to sendto/sendmsg (user sockaddr), for UDP. */
static __always_inline void user_dest(struct vigie_flow_key *k, __u64 uaddr)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr))
		return;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		__builtin_memset(k->raddr, 0, 16);
		__builtin_memcpy(k->raddr, &in->sin_addr, 4);
	} else if (sa.sin6_family == AF_INET6) {
		__builtin_memcpy(k->raddr, &sa.sin6_addr, 16);
	} else {
		return;
	}
	k->family = sa.sin6_family;
	k->rport = bpf_ntohs(sa.sin6_port);
}

/* msg_name of a user msghdr (also the first of an mmsghdr array). */
static __always_inline __u64 msg_name_of(__u64 umsg)
{
	void *name = NULL;

	if (umsg)
		bpf_probe_read_user(&name, sizeof(name), (void *)umsg);
	return (__u64)name;
}

/* Key of a socket file's connection, classified; false if not counted.
 * dest: the user sockaddr of a sendto, or the user msghdr of a sendmsg
 * (dest_msg) whose msg_name it is; read for UDP only. *excluded: a send
 * not counted because of its peer (classify_send counted it as such). */
static __always_inline bool sock_file_key_sk(struct file *f, struct vigie_flow_key *k, bool send,
					     __u64 dest, bool dest_msg, __u64 *skp, bool *excluded)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);

	*skp = (__u64)sk;
	*excluded = false;
	if (!sk || !sock_endpoint_core(sk, k))
		return false;
	if (send && dest && k->proto == IPPROTO_UDP)
		user_dest(k, dest_msg ? msg_name_of(dest) : dest);
	if (!send)
		return classify_recv(k, (__u64)sk, false);
	*excluded = !classify_send(k, (__u64)sk, false);
	return !*excluded;
}

static __always_inline bool sock_file_key(struct file *f, struct vigie_flow_key *k, bool send,
					  __u64 dest, bool dest_msg)
{
	bool excluded;
	__u64 sk;

	return sock_file_key_sk(f, k, send, dest, dest_msg, &sk, &excluded);
}

/* What a send/recv/read family syscall moves, resolved: the flow keys of
 * its ends (out_fd written, in_fd read; -1: none), in s. False when
 * nothing of it is counted. */
/* What a descriptor resolved to, per CPU: most calls repeat the last one
 * on their descriptor. Tagged by the file and its inode number (sockfs and
 * file systems do not reuse those while the file is open; the file alone
 * is often reused at once by the next socket), the thread group and the
 * classification generation; a TCP socket's hit also checks that the
 * socket still has the endpoint of its key (connect(AF_UNSPEC) then
 * connect elsewhere keeps the file). A hit costs three reads (four or
 * five for a TCP socket) instead of up to nine. Not for UDP (a destination per send). */
#define FD_SLOTS 256

struct fd_slot {
	__u64 file;
	__u64 ino;
	__u32 tgid;
	__s32 fd;
	__u32 gen;
	__u8 send;
	__u8 sock;      /* a socket (MSG_PEEK applies) */
	__u8 on;        /* counted: key valid (task fields aside) */
	__u8 excluded;  /* a send not counted because of its peer */
	__u64 sk;       /* the socket's struct sock, as the file had it */
	struct vigie_flow_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FD_SLOTS);
	__type(key, __u32);
	__type(value, struct fd_slot);
} fd_cache SEC(".maps");

/* A cached socket's key (an inet TCP socket's) is still its connection's:
 * the endpoint of the struct sock the slot kept (the same file, so the
 * same socket and sock). */
static __always_inline bool sock_file_still(const struct fd_slot *c)
{
	return c->sk && sock_still_at((struct sock *)c->sk, &c->key, false);
}

/* Key of what fd is for this call (send: written, else read); false when
 * it is not counted. */
static __always_inline bool fd_key(int fd, bool send, __u64 flags, __u64 dest, bool dest_msg,
				   struct vigie_flow_key *k)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, gen = class_gen, idx;
	struct file *f = fd_file(fd);
	struct inode *inode;
	struct fd_slot *c;
	bool on = false, sock = false, excluded = false;
	__u64 sk = 0;
	__u16 mode;
	__u64 ino;

	if (!f)
		return false;
	inode = BPF_CORE_READ(f, f_inode);
	ino = BPF_CORE_READ(inode, i_ino);
	idx = (__u32)((((__u64)tgid << 32 | (__u32)fd) * 2 + send) * 0x9e3779b97f4a7c15ull >> 40) &
	      (FD_SLOTS - 1);
	c = bpf_map_lookup_elem(&fd_cache, &idx);
	if (c && c->file == (__u64)f && c->ino == ino && c->tgid == tgid && c->fd == fd &&
	    c->send == send && c->gen == gen && (!c->key.family || sock_file_still(c))) {
		/* peeked bytes are read again later: count them then */
		if (!c->on || (c->sock && (flags & MSG_PEEK))) {
			if (c->excluded) /* a send each time, as classify_send counts it */
				stat_add(VIGIE_STAT_EXCLUDED, 1);
			return false;
		}
		*k = c->key;
		return true;
	}
	mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	if (mode == S_IFSOCK && count_sock_syscalls) {
		sock = true;
		if (flags & MSG_PEEK)
			return false; /* classified at the next call */
		on = sock_file_key_sk(f, k, send, send ? dest : 0, dest_msg, &sk, &excluded);
		if (k->family && (k->proto == IPPROTO_UDP || !k->rport))
			return on; /* not cached: no fixed peer */
	} else if (mode == S_IFREG && count_dbfile && !send) {
		__s32 dir = file_data_dir(f, inode);

		if (dir >= 0) {
			k->cls = VIGIE_CLASS_DB_FILE;
			k->lport = (__u16)dir;
			on = true;
		}
	}
	if (c) {
		c->file = (__u64)f;
		c->ino = ino;
		c->tgid = tgid;
		c->fd = fd;
		c->gen = gen;
		c->send = send;
		c->sock = sock;
		c->on = on;
		c->excluded = excluded;
		c->sk = sk;
		c->key = *k;
	}
	return on;
}

/* What a send/recv/read family syscall moves, resolved: the flow keys of
 * its ends (out_fd written, in_fd read; -1: none), in s. False when
 * nothing of it is counted. */
static __always_inline bool sys_keys(struct sys_stash *s, int out_fd, int in_fd, __u64 flags,
				     __u64 dest, bool dest_msg)
{
	if (count_sock_syscalls && out_fd >= 0)
		s->send_on = fd_key(out_fd, true, 0, dest, dest_msg, &s->send);
	if (in_fd >= 0 && (count_sock_syscalls || count_dbfile))
		s->recv_on = fd_key(in_fd, false, flags, 0, false, &s->recv);
	return s->send_on || s->recv_on;
}

static __always_inline int on_sys_enter(int out_fd, int in_fd, __u64 mmsg, __u64 flags,
					__u64 dest, bool dest_msg)
{
	struct sys_stash s = {}, *slot;
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	if (!sys_keys(&s, out_fd, in_fd, flags, dest, dest_msg))
		return 0;
	s.mmsg = mmsg;
	s.active = 1;
	slot = bpf_task_storage_get(&sys_stash, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!slot) {
		stat_add(VIGIE_STAT_SYSARGS_FAIL, 1);
		return 0;
	}
	*slot = s;
	return 0;
}

struct mmsg_sum_ctx {
	__u64 vec;
	__u64 sum;
};

static long mmsg_sum_one(__u32 i, void *data)
{
	struct mmsg_sum_ctx *c = data;
	__u32 len = 0;

	bpf_probe_read_user(&len, sizeof(len),
			    (void *)(c->vec + (__u64)i * sizeof(struct mmsghdr) +
				     __builtin_offsetof(struct mmsghdr, msg_len)));
	c->sum += len;
	return 0;
}

/* Count what a syscall moved (ret > 0) at the keys resolved for it. */
static __always_inline void sys_count(struct sys_stash *s, long ret)
{
	__u64 bytes = (__u64)ret;

	if (s->mmsg) {
		struct mmsg_sum_ctx c = { .vec = s->mmsg };
		__u32 n = ret > MMSG_MAX ? MMSG_MAX : (__u32)ret;

		bpf_loop(n, mmsg_sum_one, &c, 0);
		bytes = c.sum;
		if (!bytes)
			return;
	}
	if (s->send_on && fill_task(&s->send))
		cache_count_key(&s->send, bytes);
	if (s->recv_on && fill_task(&s->recv))
		cache_count_key(&s->recv, bytes);
}

static __always_inline int on_sys_exit(long ret)
{
	struct sys_stash *s;

	s = bpf_task_storage_get(&sys_stash, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->active)
		return 0;
	s->active = 0;
	if (ret > 0)
		sys_count(s, ret);
	return 0;
}

/* Exit only (Linux >= 5.15): the arguments come from the user registers
 * saved at entry (bpf_task_pt_regs), so no enter program is attached (an
 * enter tracepoint costs every syscall of the host) and nothing is stashed
 * per thread. Chosen by trying; the enter/exit pair is the fallback. The
 * descriptor is resolved after the call: one closed by another thread in
 * between is not counted (the pair has the same window before the call). */
static __always_inline int on_sys_ret(long ret, int out_fd, int in_fd, __u64 mmsg, __u64 flags,
				      __u64 dest, bool dest_msg)
{
	struct sys_stash s = {};

	if (ret <= 0 || (__u32)(bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return 0;
	if (!sys_keys(&s, out_fd, in_fd, flags, dest, dest_msg))
		return 0;
	s.mmsg = mmsg;
	sys_count(&s, ret);
	return 0;
}

static __always_inline __u64 sys_reg(struct pt_regs *r, int n)
{
	switch (n) {
	case 0: return PT_REGS_PARM1_SYSCALL(r);
	case 1: return PT_REGS_PARM2_SYSCALL(r);
	case 2: return PT_REGS_PARM3_SYSCALL(r);
	case 3: return PT_REGS_PARM4_SYSCALL(r);
	default: return PT_REGS_PARM5_SYSCALL(r);
	}
}

/* Both ways for one syscall: the pair (sys_enter_NAME, sys_exit_NAME) and
 * the exit only program (sys_ret_NAME). A(n) is its argument n. */
#define SYS_PROGS(name, out_fd, in_fd, mmsg, flags, dest, dest_msg)                       \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                       \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)                       \
	{                                                                                 \
		__u64 a[5] = { ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3],    \
			       ctx->args[4] };                                            \
		return on_sys_enter(out_fd, in_fd, mmsg, flags, dest, dest_msg);          \
	}                                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                        \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                         \
	{                                                                                 \
		return on_sys_exit(ctx->ret);                                             \
	}                                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                        \
	int sys_ret_##name(struct trace_event_raw_sys_exit *ctx)                          \
	{                                                                                 \
		struct pt_regs *r;                                                        \
		__u64 a[5];                                                               \
                                                                                          \
		if (ctx->ret <= 0)                                                        \
			return 0;                                                         \
		r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());       \
		for (int i = 0; i < 5; i++)                                               \
			a[i] = sys_reg(r, i);                                             \
		return on_sys_ret(ctx->ret, out_fd, in_fd, mmsg, flags, dest, dest_msg);  \
	}

#define FD(n) ((int)a[n])

/* send family: the socket is written */
SYS_PROGS(sendto, FD(0), -1, 0, 0, a[4], false)
SYS_PROGS(sendmsg, FD(0), -1, 0, 0, a[1], true)
SYS_PROGS(sendmmsg, FD(0), -1, a[1], 0, a[1], true)
SYS_PROGS(write, FD(0), -1, 0, 0, 0, false)
SYS_PROGS(writev, FD(0), -1, 0, 0, 0, false)
/* recv family: the socket is read */
SYS_PROGS(recvfrom, -1, FD(0), 0, a[3], 0, false)
SYS_PROGS(recvmsg, -1, FD(0), 0, a[2], 0, false)
SYS_PROGS(recvmmsg, -1, FD(0), a[1], a[3], 0, false)
/* read family: a socket or a file is read */
SYS_PROGS(read, -1, FD(0), 0, 0, 0, false)
SYS_PROGS(readv, -1, FD(0), 0, 0, 0, false)
SYS_PROGS(pread64, -1, FD(0), 0, 0, 0, false)
SYS_PROGS(preadv, -1, FD(0), 0, 0, 0, false)
SYS_PROGS(preadv2, -1, FD(0), 0, 0, 0, false)
/* both ends: sendfile(out, in), splice(in, off, out), copy_file_range(in, off, out) */
SYS_PROGS(sendfile64, FD(0), FD(1), 0, 0, 0, false)
SYS_PROGS(splice, FD(2), FD(0), 0, 0, 0, false)
SYS_PROGS(copy_file_range, -1, FD(0), 0, 0, 0, false)

#endif
