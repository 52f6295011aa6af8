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

/* Key of a socket file's connection, classified; false if not counted. */
static __always_inline bool sock_file_key(struct file *f, struct vigie_flow_key *k, bool send,
					  __u64 dest)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);

	if (!sk || !sock_endpoint_core(sk, k))
		return false;
	if (send && dest && k->proto == IPPROTO_UDP)
		user_dest(k, dest);
	return send ? classify_send(k, (__u64)sk, false) : classify_recv(k, (__u64)sk, false);
}

static __always_inline int on_sys_enter(int out_fd, int in_fd, __u64 mmsg, __u64 flags,
					__u64 dest)
{
	struct sys_stash s = {}, *slot;
	__u64 id = bpf_get_current_pid_tgid();
	struct file *f;

	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	if (count_sock_syscalls && out_fd >= 0) {
		f = fd_file(out_fd);
		if (f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK)
			s.send_on = sock_file_key(f, &s.send, true, dest);
	}
	if (in_fd >= 0 && (count_sock_syscalls || count_dbfile)) {
		f = fd_file(in_fd);
		if (f) {
			struct inode *inode = BPF_CORE_READ(f, f_inode);
			__u16 mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;

			if (count_sock_syscalls && mode == S_IFSOCK) {
				/* peeked bytes are read again later: count them then */
				if (!(flags & MSG_PEEK))
					s.recv_on = sock_file_key(f, &s.recv, false, 0);
			} else if (count_dbfile && mode == S_IFREG) {
				__s32 dir = file_data_dir(f, inode);

				if (dir >= 0) {
					s.recv.cls = VIGIE_CLASS_DB_FILE;
					s.recv.lport = (__u16)dir;
					s.recv_on = 1;
				}
			}
		}
	}
	if (!s.send_on && !s.recv_on)
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

static __always_inline int on_sys_exit(long ret)
{
	struct sys_stash *s;
	__u64 bytes;

	s = bpf_task_storage_get(&sys_stash, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->active)
		return 0;
	s->active = 0;
	if (ret <= 0)
		return 0;
	bytes = (__u64)ret;
	if (s->mmsg) {
		struct mmsg_sum_ctx c = { .vec = s->mmsg };
		__u32 n = ret > MMSG_MAX ? MMSG_MAX : (__u32)ret;

		bpf_loop(n, mmsg_sum_one, &c, 0);
		bytes = c.sum;
		if (!bytes)
			return 0;
	}
	if (s->send_on && fill_task(&s->send))
		count_bytes(&s->send, bytes, 1);
	if (s->recv_on && fill_task(&s->recv))
		count_bytes(&s->recv, bytes, 1);
	return 0;
}

#define SYS_ENTER(name, out_fd, in_fd, mmsg, flags, dest)                     \
	SEC("tracepoint/syscalls/sys_enter_" #name)                           \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)           \
	{                                                                     \
		return on_sys_enter(out_fd, in_fd, mmsg, flags, dest);        \
	}                                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #name)                            \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)             \
	{                                                                     \
		return on_sys_exit(ctx->ret);                                 \
	}

#define ARG(n) ((int)ctx->args[n])

/* send family: the socket is written */
SYS_ENTER(sendto, ARG(0), -1, 0, 0, ctx->args[4])
SYS_ENTER(sendmsg, ARG(0), -1, 0, 0, msg_name_of(ctx->args[1]))
SYS_ENTER(sendmmsg, ARG(0), -1, ctx->args[1], 0, msg_name_of(ctx->args[1]))
SYS_ENTER(write, ARG(0), -1, 0, 0, 0)
SYS_ENTER(writev, ARG(0), -1, 0, 0, 0)
/* recv family: the socket is read */
SYS_ENTER(recvfrom, -1, ARG(0), 0, ctx->args[3], 0)
SYS_ENTER(recvmsg, -1, ARG(0), 0, ctx->args[2], 0)
SYS_ENTER(recvmmsg, -1, ARG(0), ctx->args[1], ctx->args[3], 0)
/* read family: a socket or a file is read */
SYS_ENTER(read, -1, ARG(0), 0, 0, 0)
SYS_ENTER(readv, -1, ARG(0), 0, 0, 0)
SYS_ENTER(pread64, -1, ARG(0), 0, 0, 0)
SYS_ENTER(preadv, -1, ARG(0), 0, 0, 0)
SYS_ENTER(preadv2, -1, ARG(0), 0, 0, 0)
/* both ends: sendfile(out, in), splice(in, off, out), copy_file_range(in, off, out) */
SYS_ENTER(sendfile64, ARG(0), ARG(1), 0, 0, 0)
SYS_ENTER(splice, ARG(2), ARG(0), 0, 0, 0)
SYS_ENTER(copy_file_range, -1, ARG(0), 0, 0, 0)

#endif
