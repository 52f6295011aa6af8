/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring completions, included by vigie.bpf.c. io_uring reads and sends
 * make no read/send system call: in syscalls mode their socket bytes, and
 * in both modes their file reads (db_file), are counted at completion.
 * (In sock mode io_uring socket I/O goes through sock_sendmsg/recvmsg and
 * is already counted by the sock tracepoints.) The process is the
 * request's task, whatever context the completion runs in.
 */
#ifndef VIGIE_URING_BPF_H
#define VIGIE_URING_BPF_H

/* io_uring opcodes (UAPI, stable) */
#define OP_READV 1
#define OP_WRITEV 2
#define OP_READ_FIXED 4
#define OP_WRITE_FIXED 5
#define OP_SENDMSG 9
#define OP_RECVMSG 10
#define OP_READ 22
#define OP_WRITE 23
#define OP_SEND 26
#define OP_RECV 27
#define OP_SEND_ZC 47
#define OP_SENDMSG_ZC 48
#define OP_READ_MULTISHOT 49
#define OP_READV_FIXED 60
#define OP_WRITEV_FIXED 61

static __always_inline bool uring_is_read(__u8 op)
{
	return op == OP_READV || op == OP_READ_FIXED || op == OP_READ || op == OP_RECV ||
	       op == OP_RECVMSG || op == OP_READ_MULTISHOT || op == OP_READV_FIXED;
}

static __always_inline bool uring_is_write(__u8 op)
{
	return op == OP_WRITEV || op == OP_WRITE_FIXED || op == OP_WRITE || op == OP_SEND ||
	       op == OP_SENDMSG || op == OP_SEND_ZC || op == OP_SENDMSG_ZC ||
	       op == OP_WRITEV_FIXED;
}

/* Process part of the key from a task (not the current one). */
static __always_inline bool fill_from_task(struct vigie_flow_key *k, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (!task || tgid == self_tgid)
		return false;
	k->tgid = tgid;
	k->uid = BPF_CORE_READ(task, cred, uid.val);
	k->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	return true;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(uring_complete, struct io_ring_ctx *ring, void *req_ptr, struct io_uring_cqe *cqe)
{
	struct io_kiocb *req = req_ptr;
	struct vigie_flow_key k = {};
	struct task_struct *task;
	struct inode *inode;
	struct file *f;
	__u16 mode;
	__s32 res;
	__u8 op;

	res = BPF_CORE_READ(cqe, res);
	if (res <= 0)
		return 0;
	op = BPF_CORE_READ(req, opcode);
	if (!uring_is_read(op) && !uring_is_write(op))
		return 0;
	f = BPF_CORE_READ(req, file);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	if (mode == S_IFSOCK) {
		if (!count_sock_syscalls || !sock_file_key(f, &k, uring_is_write(op), 0, false))
			return 0;
	} else if (mode == S_IFREG && count_dbfile && uring_is_read(op)) {
		__s32 dir = file_data_dir(f, inode);

		if (dir < 0)
			return 0;
		k.cls = VIGIE_CLASS_DB_FILE;
		k.lport = (__u16)dir;
	} else {
		return 0;
	}
	task = BPF_CORE_READ(req, tctx, task);
	if (fill_from_task(&k, task))
		count_bytes(&k, (__u64)res, 1);
	return 0;
}

#endif
