// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/cgroups.h"
#include "base/identity.h"
#include "base/trust.h"

#define ID_BUCKETS 4096
#define CMDLINE_MAX 4096

struct id_node {
	struct identity *id;
	struct id_node *next;
};

struct identities {
	struct id_node *buckets[ID_BUCKETS];
	size_t count;
};

/* ---- user names ------------------------------------------------------ */

struct uid_name {
	uint32_t uid;
	char *name; /* NULL: no such user */
	struct uid_name *next;
};

static struct uid_name *uid_names;

bool identity_exe_trusted(struct identity *id)
{
	char root[64];

	if (!id || !id->exe)
		return false;
	if (!id->exe_trust) {
		/* in the process's own mount namespace while it runs; once it
		 * is gone, as the host sees the path (a container's binary is
		 * then not trusted: the cautious side) */
		snprintf(root, sizeof(root), "/proc/%u/root", id->pid);
		if (id->exited || access(root, F_OK))
			root[0] = '\0';
		id->exe_trust = path_trusted(root, id->exe) ? 1 : -1;
	}
	return id->exe_trust > 0;
}

const char *user_name_of(uint32_t uid)
{
	struct uid_name *u;
	struct passwd pw, *res = NULL;
	char buf[1024];

	for (u = uid_names; u; u = u->next)
		if (u->uid == uid)
			return u->name;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		u->name = strdup(res->pw_name);
	u->next = uid_names;
	uid_names = u;
	return u->name;
}

/* ---- /proc ----------------------------------------------------------- */

static ssize_t read_file(uint32_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* NUL-separated arguments to one space-joined byte string. */
static char *join_args(const char *raw, size_t len, size_t *out_len)
{
	char *s;

	while (len && raw[len - 1] == '\0')
		len--;
	s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[i] = raw[i] ? raw[i] : ' ';
	s[len] = '\0';
	*out_len = len;
	return s;
}

static void fill_users(struct identity *id)
{
	id->user_name = user_name_of(id->uid);
	id->audit_name = id->loginuid != VIGIE_LOGINUID_UNSET ? user_name_of(id->loginuid) : NULL;
}

static void read_cgroup(struct identity *id)
{
	char buf[4096];
	char *line, *save = NULL;

	if (read_file(id->pid, "cgroup", buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "0::", 3)) {
			free(id->cgroup_path);
			id->cgroup_path = strdup(line + 3);
			return;
		}
	}
}

struct identity *identity_from_proc(uint32_t pid)
{
	struct identity *id = calloc(1, sizeof(*id));
	char buf[CMDLINE_MAX], path[64];
	ssize_t n;
	char *p;

	if (!id)
		return NULL;
	id->refs = 1;
	id->pid = pid;
	id->loginuid = VIGIE_LOGINUID_UNSET;
	if (read_file(pid, "status", buf, sizeof(buf)) <= 0)
		return id; /* gone: the caller fills what the kernel told */
	if ((p = strstr(buf, "\nPPid:")))
		id->ppid = (uint32_t)strtoul(p + 6, NULL, 10);
	if ((p = strstr(buf, "\nUid:")))
		id->uid = (uint32_t)strtoul(p + 5, NULL, 10);
	if (read_file(pid, "loginuid", buf, sizeof(buf)) > 0)
		id->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	n = read_file(pid, "comm", buf, sizeof(buf));
	if (n <= 0)
		return id; /* reaped meanwhile: the exit event will tell */
	if (buf[n - 1] == '\n')
		buf[--n] = '\0';
	snprintf(id->comm, sizeof(id->comm), "%.16s", buf);
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		id->exe = strdup(buf);
	}
	n = read_file(pid, "cmdline", buf, sizeof(buf));
	if (n > 0)
		id->cmdline = join_args(buf, (size_t)n, &id->cmdline_len);
	read_cgroup(id);
	fill_users(id);
	id->complete = true;
	return id;
}

struct identity *identity_get(struct identity *id)
{
	if (id)
		id->refs++;
	return id;
}

void identity_put(struct identity *id)
{
	if (!id || --id->refs > 0)
		return;
	free(id->exe);
	free(id->cmdline);
	free(id->cgroup_path);
	free(id->db_user);
	free(id->db_name);
	free(id);
}

/* ---- table ----------------------------------------------------------- */

struct identities *identities_new(void)
{
	return calloc(1, sizeof(struct identities));
}

void identities_free(struct identities *ids)
{
	cgroup_paths_free();
	if (!ids)
		return;
	for (size_t b = 0; b < ID_BUCKETS; b++) {
		struct id_node *n = ids->buckets[b], *next;

		for (; n; n = next) {
			next = n->next;
			identity_put(n->id);
			free(n);
		}
	}
	free(ids);
}

size_t identities_count(const struct identities *ids) { return ids->count; }

static struct id_node **find_slot(struct identities *ids, uint32_t pid)
{
	struct id_node **pp = &ids->buckets[pid % ID_BUCKETS];

	while (*pp && (*pp)->id->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static void table_put(struct identities *ids, struct identity *id)
{
	struct id_node **pp = find_slot(ids, id->pid);

	if (*pp) {
		identity_put((*pp)->id);
		(*pp)->id = id;
		return;
	}
	*pp = calloc(1, sizeof(**pp));
	if (!*pp) {
		identity_put(id);
		return;
	}
	(*pp)->id = id;
	ids->count++;
}

static void fill_from_event(struct identity *id, const struct vigie_proc_event *e)
{
	id->ppid = e->ppid;
	id->uid = e->uid;
	id->loginuid = e->loginuid;
	id->cgroup_id = e->cgroup_id;
	if (!id->cgroup_path && e->cgroup_id)
		id->cgroup_path = cgroup_path_of(e->cgroup_id);
	if (!id->comm[0])
		snprintf(id->comm, sizeof(id->comm), "%.*s", VIGIE_COMM_LEN, e->comm);
	fill_users(id);
}

static struct identity *identity_lookup_alive(struct identities *ids, uint32_t pid)
{
	struct identity *id = identity_from_proc(pid);

	if (!id)
		return NULL;
	if (!id->complete) {
		identity_put(id);
		return NULL;
	}
	table_put(ids, id);
	return id;
}

/* A process that forked and never exec'd runs its parent's program: when
 * it is gone before /proc could be read, take the parent's executable and
 * command line (as they were at the fork). */
static void inherit_from_parent(struct identities *ids, struct identity *id)
{
	struct id_node **pp;
	const struct identity *parent;

	if (id->exe || !id->ppid)
		return;
	pp = find_slot(ids, id->ppid);
	parent = *pp ? (*pp)->id : identity_lookup_alive(ids, id->ppid);
	if (!parent || !parent->complete || strcmp(parent->comm, id->comm))
		return;
	if (parent->exe) {
		id->exe = strdup(parent->exe);
	}
	if (!id->cmdline && parent->cmdline) {
		id->cmdline = malloc(parent->cmdline_len + 1);
		if (id->cmdline) {
			memcpy(id->cmdline, parent->cmdline, parent->cmdline_len + 1);
			id->cmdline_len = parent->cmdline_len;
		}
	}
}

void identities_on_event(struct identities *ids, const struct vigie_proc_event *e, uint64_t gen)
{
	struct identity *id;

	if (e->type == VIGIE_EV_EXEC) {
		id = identity_from_proc(e->pid);
		if (!id)
			return;
		/* The kernel's view wins for what the exec itself decided. */
		memset(id->comm, 0, sizeof(id->comm));
		fill_from_event(id, e);
		if (!id->exe) {
			size_t n = strnlen(e->filename, sizeof(e->filename));

			id->exe = strndup(e->filename, n);
		}
		if (!id->cmdline && e->args_len) {
			size_t len = e->args_len > VIGIE_ARGS_LEN ? VIGIE_ARGS_LEN : e->args_len;

			id->cmdline = join_args(e->args, len, &id->cmdline_len);
		}
		id->complete = true;
		table_put(ids, id);
		return;
	}
	if (e->type != VIGIE_EV_EXIT)
		return;
	id = identities_lookup(ids, e->pid, e->uid);
	if (!id)
		return;
	if (!id->complete) {
		memset(id->comm, 0, sizeof(id->comm));
		fill_from_event(id, e);
		inherit_from_parent(ids, id);
	}
	id->exited = true;
	id->exit_gen = gen;
}

struct identity *identities_lookup(struct identities *ids, uint32_t pid, uint32_t uid)
{
	struct id_node **pp = find_slot(ids, pid);
	struct identity *id;

	if (*pp)
		return (*pp)->id;
	id = identity_from_proc(pid);
	if (!id)
		return NULL;
	if (!id->complete) {
		id->uid = uid;
		fill_users(id);
	}
	table_put(ids, id);
	pp = find_slot(ids, pid);
	return *pp ? (*pp)->id : NULL;
}

void identities_purge(struct identities *ids, uint64_t gen)
{
	for (size_t b = 0; b < ID_BUCKETS; b++) {
		struct id_node **pp = &ids->buckets[b];

		while (*pp) {
			struct id_node *n = *pp;

			if (n->id->exited && n->id->exit_gen < gen) {
				*pp = n->next;
				identity_put(n->id);
				free(n);
				ids->count--;
			} else {
				pp = &n->next;
			}
		}
	}
}
