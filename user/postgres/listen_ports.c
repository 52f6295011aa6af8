// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "postgres/listen_ports.h"

#define MAX_SOCKETS 512 /* a postmaster has a handful */
#define TCP_LISTEN 0x0A

struct inodes {
	uint64_t v[MAX_SOCKETS];
	int n;
};

/* The socket inodes among the process's open files. */
static int socket_inodes(const char *root, pid_t pid, struct inodes *in)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "%s/%d/fd", root, (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	dfd = dirfd(d);
	in->n = 0;
	while ((de = readdir(d)) && in->n < MAX_SOCKETS) {
		char link[64];
		ssize_t len;
		uint64_t ino;

		if (de->d_name[0] == '.')
			continue;
		len = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%" SCNu64 "]", &ino) == 1)
			in->v[in->n++] = ino;
	}
	closedir(d);
	return 0;
}

static bool has_inode(const struct inodes *in, uint64_t ino)
{
	for (int i = 0; i < in->n; i++)
		if (in->v[i] == ino)
			return true;
	return false;
}

static int add_port(uint16_t *ports, int n, int max, uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (ports[i] == port)
			return n;
	if (n < max)
		ports[n++] = port;
	return n;
}

/* Lines of /proc/net/tcp{,6}: "sl local rem st tx:rx tr:when retr uid
 * timeout inode ...", addresses as HEX:HEXPORT. */
static int scan_table(const char *path, const struct inodes *in, uint16_t *ports, int n, int max)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return n; /* no IPv6, say */
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return n;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int port, st;
		uint64_t ino;

		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %" SCNu64,
			   &port, &st, &ino) != 3)
			continue;
		if (st == TCP_LISTEN && port && port <= 0xffff && has_inode(in, ino))
			n = add_port(ports, n, max, (uint16_t)port);
	}
	fclose(f);
	return n;
}

/* Lines of /proc/net/unix: "Num: RefCount Protocol Flags Type St Inode
 * [Path]"; a listening socket has __SO_ACCEPTCON (0x10000) in Flags. */
static bool listens_on_unix(const char *path, const struct inodes *in)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int flags;
		uint64_t ino;

		if (sscanf(line, " %*[0-9A-Fa-f]: %*x %*x %x %*x %*x %" SCNu64, &flags, &ino) != 2)
			continue;
		found = (flags & 0x10000) && has_inode(in, ino);
	}
	fclose(f);
	return found;
}

int listen_ports(const char *proc_root, pid_t pid, uint16_t *ports, int max, bool *on_unix)
{
	const char *root = proc_root ? proc_root : "/proc";
	static const char *const tables[] = { "net/tcp", "net/tcp6" };
	struct inodes *in;
	char path[4096];
	int n = 0, err;

	if (pid <= 0 || !ports || max <= 0)
		return -EINVAL;
	in = malloc(sizeof(*in));
	if (!in)
		return -ENOMEM;
	err = socket_inodes(root, pid, in);
	if (err) {
		free(in);
		return err;
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && in->n; i++) {
		snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, tables[i]);
		n = scan_table(path, in, ports, n, max);
	}
	if (on_unix) {
		snprintf(path, sizeof(path), "%s/%d/net/unix", root, (int)pid);
		*on_unix = in->n && listens_on_unix(path, in);
	}
	free(in);
	return n;
}
