// SPDX-License-Identifier: GPL-2.0
/* Local PostgreSQL recognition and backend title parsing. See pgbackend.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "base/trust.h"
#include "postgres/pgbackend.h"

#define TITLE_PREFIX "postgres: "
#define DELETED_SUFFIX " (deleted)"
#define MAX_TOKENS 64

static char *server_exes[PGB_MAX_SERVER_EXES];
static size_t n_server_exes;

/* ---- pure parsing ------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Copy a span into a fixed buffer; -EINVAL if it does not fit. */
static int span_copy(char *dst, size_t size, const char *p, size_t n)
{
	if (n >= size)
		return -EINVAL;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static bool all_digits(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static bool host_chars(const char *p, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return false;
	}
	return true;
}

int pgb_parse_client(const char *s, size_t len, struct pgb_title *t)
{
	char addr[PGB_CLIENT_MAX];
	const char *open;
	size_t alen = len;
	unsigned long port = 0;

	if (!s || !t || len == 0 || len >= PGB_CLIENT_MAX)
		return -EINVAL;
	if (len == 7 && memcmp(s, "[local]", 7) == 0) {
		memcpy(t->client, "[local]", 8);
		memset(t->client_addr, 0, sizeof(t->client_addr));
		t->family = AF_UNIX;
		t->client_port = 0;
		t->local = true;
		return 0;
	}
	if (s[len - 1] == ')') {
		open = memchr(s, '(', len);
		if (!open)
			return -EINVAL;
		alen = (size_t)(open - s);
		const char *ds = open + 1;
		size_t dn = len - 1 - alen - 1;

		if (!all_digits(ds, dn) || dn > 5)
			return -EINVAL;
		for (size_t i = 0; i < dn; i++)
			port = port * 10 + (unsigned long)(ds[i] - '0');
		if (port == 0 || port > 65535)
			return -EINVAL;
	}
	if (alen == 0)
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (memchr(addr, '(', alen) || memchr(addr, ')', alen))
		return -EINVAL;

	uint8_t bin[16] = { 0 };
	int family;

	if (inet_pton(AF_INET, addr, bin) == 1) {
		family = AF_INET;
	} else {
		char v6[PGB_CLIENT_MAX];
		char *pct;

		memcpy(v6, addr, alen + 1);
		pct = strchr(v6, '%'); /* fe80::1%eth0 */
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, v6, bin) == 1)
			family = AF_INET6;
		else if (host_chars(addr, alen))
			family = 0;
		else
			return -EINVAL;
	}
	memcpy(t->client, addr, alen + 1);
	memcpy(t->client_addr, bin, sizeof(bin));
	t->family = family;
	t->client_port = (uint16_t)port;
	t->local = false;
	return 0;
}

/* Fields from tokens [first, ntok): [walsender] USER [DB] CLIENT [STATE]. */
static int parse_tokens(const struct span *tok, size_t ntok, size_t first, const char *end,
			struct pgb_title *t)
{
	ssize_t client = -1;
	int err;

	/* the client is the last token that parses as one (names come
	 * before it; the state after it never looks like ADDR(PORT)) */
	for (size_t i = ntok; i-- > first + 1;) {
		struct pgb_title tmp;

		memset(&tmp, 0, sizeof(tmp));
		if (pgb_parse_client(tok[i].p, tok[i].n, &tmp) == 0 &&
		    (tmp.local || tmp.client_port != 0)) {
			client = (ssize_t)i;
			break;
		}
	}
	if (client < 0)
		return -EINVAL;
	err = pgb_parse_client(tok[client].p, tok[client].n, t);
	if (err)
		return err;

	size_t nb = (size_t)client - first; /* tokens before the client */
	size_t u = first;

	if (nb >= 2 && span_eq(tok[u], "walsender")) {
		t->walsender = true;
		u++;
		nb--;
	}
	if (nb == 0)
		return -EINVAL;
	if (nb == 1) {
		/* only a physical walsender has no database */
		if (!t->walsender)
			return -EINVAL;
		if (span_copy(t->db_user, sizeof(t->db_user), tok[u].p, tok[u].n))
			return -EINVAL;
	} else {
		/* user = all but the last token (spaces kept), db = last */
		struct span db = tok[client - 1];
		const char *us = tok[u].p;
		size_t un = (size_t)(tok[client - 2].p + tok[client - 2].n - us);

		if (nb > 2)
			t->ambiguous = true;
		if (span_copy(t->db_user, sizeof(t->db_user), us, un) ||
		    span_copy(t->db_name, sizeof(t->db_name), db.p, db.n))
			return -EINVAL;
	}
	if ((size_t)client + 1 < ntok) {
		const char *ss = tok[client + 1].p;
		size_t sn = (size_t)(end - ss);

		if (sn >= sizeof(t->state))
			sn = sizeof(t->state) - 1; /* the state is informative */
		memcpy(t->state, ss, sn);
		t->state[sn] = '\0';
	}
	return 0;
}

int pgb_parse_title(const char *buf, size_t len, struct pgb_title *t)
{
	struct span tok[MAX_TOKENS];
	size_t ntok = 0, plen = strlen(TITLE_PREFIX);
	const char *p, *end, *nul;

	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (!buf)
		return -EINVAL;
	nul = memchr(buf, '\0', len);
	if (nul)
		len = (size_t)(nul - buf);
	while (len > 0 && buf[len - 1] == ' ')
		len--;
	if (len <= plen || memcmp(buf, TITLE_PREFIX, plen) != 0)
		return -EINVAL;
	p = buf + plen;
	end = buf + len;

	/* split on spaces; runs of spaces make no empty tokens */
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		const char *s = p;

		while (p < end && *p != ' ')
			p++;
		if (ntok == MAX_TOKENS)
			return -EINVAL;
		tok[ntok].p = s;
		tok[ntok].n = (size_t)(p - s);
		ntok++;
	}
	if (ntok < 2)
		return -EINVAL;

	/* "CLUSTER_NAME: " prefix when the first token ends with ':' and
	 * the rest parses; else the first token is a user name */
	if (tok[0].p[tok[0].n - 1] == ':' && ntok >= 3 &&
	    span_copy(t->cluster, sizeof(t->cluster), tok[0].p, tok[0].n - 1) == 0) {
		char cluster[PGB_CLUSTER_MAX];

		memcpy(cluster, t->cluster, sizeof(cluster));
		if (parse_tokens(tok, ntok, 1, end, t) == 0) {
			memcpy(t->cluster, cluster, sizeof(cluster));
			return 0;
		}
		memset(t, 0, sizeof(*t));
	}
	if (parse_tokens(tok, ntok, 0, end, t) == 0)
		return 0;
	memset(t, 0, sizeof(*t));
	return -EINVAL;
}

int pgb_parse_stat_ppid(const char *buf, size_t len, uint32_t *ppid)
{
	const char *rp = NULL;
	unsigned long v = 0;
	size_t i;

	if (!buf || !ppid)
		return -EINVAL;
	for (i = 0; i < len; i++) /* comm may hold ')' : use the last one */
		if (buf[i] == ')')
			rp = buf + i;
	if (!rp)
		return -EINVAL;
	i = (size_t)(rp - buf) + 1;
	/* ") S PPID " */
	if (i + 3 >= len || buf[i] != ' ' || buf[i + 2] != ' ')
		return -EINVAL;
	i += 3;
	if (i >= len || buf[i] < '0' || buf[i] > '9')
		return -EINVAL;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (unsigned long)(buf[i] - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	if (i < len && buf[i] != ' ')
		return -EINVAL;
	*ppid = (uint32_t)v;
	return 0;
}

static size_t strip_deleted(const char *path, size_t n)
{
	size_t sl = strlen(DELETED_SUFFIX);

	if (n > sl && memcmp(path + n - sl, DELETED_SUFFIX, sl) == 0)
		return n - sl;
	return n;
}

bool pgb_is_server_exe(const char *path)
{
	const char *base, *dir;
	size_t n;

	if (!path || path[0] != '/')
		return false;
	n = strip_deleted(path, strlen(path));
	for (size_t i = 0; i < n_server_exes; i++)
		if (strlen(server_exes[i]) == n && memcmp(server_exes[i], path, n) == 0)
			return true;
	/* default: .../bin/postgres */
	if (n < 13 || memcmp(path + n - 9, "/postgres", 9) != 0)
		return false;
	base = path + n - 9;
	dir = base;
	while (dir > path && dir[-1] != '/')
		dir--;
	return base - dir == 3 && memcmp(dir, "bin", 3) == 0;
}

int pgb_set_server_exes(const char *const *paths, size_t n)
{
	if (n > PGB_MAX_SERVER_EXES)
		return -E2BIG;
	for (size_t i = 0; i < n_server_exes; i++) {
		free(server_exes[i]);
		server_exes[i] = NULL;
	}
	n_server_exes = 0;
	for (size_t i = 0; i < n; i++) {
		if (!paths[i])
			continue;
		server_exes[n_server_exes] = strdup(paths[i]);
		if (!server_exes[n_server_exes])
			return -ENOMEM;
		n_server_exes++;
	}
	return 0;
}

/* ---- /proc readers ------------------------------------------------ */

static const char *root_of(const char *proc_root)
{
	return proc_root ? proc_root : "/proc";
}

/* Read up to size-1 bytes of a /proc file; returns bytes or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

int pgb_read_exe(const char *proc_root, uint32_t pid, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	if (!buf || size < 2)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%u/exe", root_of(proc_root), pid);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	n = (ssize_t)strip_deleted(buf, (size_t)n);
	buf[n] = '\0';
	return 0;
}

int pgb_read_ppid(const char *proc_root, uint32_t pid, uint32_t *ppid)
{
	char path[PATH_MAX], buf[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", root_of(proc_root), pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return pgb_parse_stat_ppid(buf, (size_t)n, ppid);
}

int pgb_read_title(const char *proc_root, uint32_t pid, struct pgb_title *t)
{
	char path[PATH_MAX];
	char *buf;
	ssize_t n;
	int err;

	buf = malloc(PGB_TITLE_MAX);
	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%u/cmdline", root_of(proc_root), pid);
	n = read_small(path, buf, PGB_TITLE_MAX);
	if (n < 0)
		err = (int)n;
	else
		err = pgb_parse_title(buf, (size_t)n, t);
	free(buf);
	return err;
}

int pgb_classify(const char *proc_root, uint32_t pid, uint32_t *postmaster)
{
	char exe[PATH_MAX], pexe[PATH_MAX];
	uint32_t ppid, gppid;
	int err;

	err = pgb_read_exe(proc_root, pid, exe, sizeof(exe));
	if (err)
		return err;
	if (!pgb_is_server_exe(exe) || (!proc_root && !exe_trusted((pid_t)pid, exe)))
		return PGB_OTHER; /* (a test's own proc tree has no trust to check) */
	err = pgb_read_ppid(proc_root, pid, &ppid);
	if (err)
		return err;
	if (ppid == 0 || pgb_read_exe(proc_root, ppid, pexe, sizeof(pexe)) ||
	    strcmp(exe, pexe) != 0)
		return PGB_POSTMASTER;
	/* parent runs the same binary: a backend if the parent is a
	 * postmaster (its own parent does not run it) */
	if (pgb_read_ppid(proc_root, ppid, &gppid))
		return PGB_OTHER;
	if (gppid != 0 && pgb_read_exe(proc_root, gppid, pexe, sizeof(pexe)) == 0 &&
	    strcmp(exe, pexe) == 0)
		return PGB_OTHER; /* grandchild (e.g. forked by a backend) */
	if (postmaster)
		*postmaster = ppid;
	return PGB_BACKEND;
}

struct cand {
	uint32_t pid;
	uint32_t ppid;
	char *exe;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct cand *cand_find(const struct cand *c, size_t n, uint32_t pid)
{
	struct cand key = { .pid = pid };

	return bsearch(&key, c, n, sizeof(*c), cand_cmp);
}

void pgb_scan_free(struct pgb_scan *s)
{
	if (!s)
		return;
	free(s->postmasters);
	free(s->backends);
	memset(s, 0, sizeof(*s));
}

int pgb_scan(const char *proc_root, struct pgb_scan *out)
{
	struct cand *c = NULL, *tmp;
	size_t n = 0, cap = 0;
	char exe[PATH_MAX];
	struct dirent *de;
	DIR *dir = NULL;
	int err = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	dir = opendir(root_of(proc_root));
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char *endp;
		unsigned long pid;
		uint32_t ppid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		errno = 0;
		pid = strtoul(de->d_name, &endp, 10);
		if (*endp || errno || pid > UINT32_MAX)
			continue;
		if (pgb_read_exe(proc_root, (uint32_t)pid, exe, sizeof(exe)) ||
		    !pgb_is_server_exe(exe) || (!proc_root && !exe_trusted((pid_t)pid, exe)))
			continue;
		if (pgb_read_ppid(proc_root, (uint32_t)pid, &ppid))
			continue; /* gone meanwhile */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(c, cap * sizeof(*c));
			if (!tmp) {
				err = -ENOMEM;
				goto cleanup;
			}
			c = tmp;
		}
		c[n].pid = (uint32_t)pid;
		c[n].ppid = ppid;
		c[n].exe = strdup(exe);
		if (!c[n].exe) {
			err = -ENOMEM;
			goto cleanup;
		}
		n++;
	}
	if (n == 0)
		goto cleanup;
	qsort(c, n, sizeof(*c), cand_cmp);
	out->postmasters = calloc(n, sizeof(*out->postmasters));
	out->backends = calloc(n, sizeof(*out->backends));
	if (!out->postmasters || !out->backends) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cand *p = cand_find(c, n, c[i].ppid);

		if (!p || strcmp(p->exe, c[i].exe) != 0)
			out->postmasters[out->n_postmasters++] = c[i].pid;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cand *p = cand_find(c, n, c[i].ppid);

		if (!p || strcmp(p->exe, c[i].exe) != 0)
			continue; /* a postmaster itself */
		const struct cand *gp = cand_find(c, n, p->ppid);

		if (gp && strcmp(gp->exe, p->exe) == 0)
			continue; /* parent is not a postmaster */
		out->backends[out->n_backends].pid = c[i].pid;
		out->backends[out->n_backends].ppid = c[i].ppid;
		out->n_backends++;
	}

cleanup:
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < n; i++)
		free(c[i].exe);
	free(c);
	if (err)
		pgb_scan_free(out);
	return err;
}
