/* SPDX-License-Identifier: GPL-2.0 */
/* Constants the BPF side needs that vmlinux.h does not carry (macros). */
#ifndef VIGIE_BPF_H
#define VIGIE_BPF_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2
#define SOCK_BINDPORT_LOCK 8
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFDIR 0040000

#endif
