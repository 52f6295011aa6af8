// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/log.h"
#include "postgres/pgtls.h"

#define TLS_WRITE_FN "be_tls_write"

static struct bpf_link *attach(struct bpf_program *prog, const char *path)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = TLS_WRITE_FN);

	return bpf_program__attach_uprobe_opts(prog, -1, path, 0, &o);
}

/* Hook the executable known as path (as the processes running it name it)
 * at full (the same file as seen from vigie). */
static int hook(struct pgtls *t, const char *path, const char *full)
{
	struct pgtls_binary *b;
	int err;

	if (!t || !t->enter)
		return -EINVAL;
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->bin[i].path, path))
			return t->bin[i].ok ? 0 : -ENOENT;
	if (t->n == PGTLS_MAX_BINARIES)
		return -ENOSPC;
	b = &t->bin[t->n];
	memset(b, 0, sizeof(*b));
	b->path = strdup(path);
	if (!b->path)
		return -ENOMEM;
	t->n++;
	b->enter = attach(t->enter, full);
	err = b->enter ? 0 : -errno;
	if (err) {
		log_warn("PostgreSQL %s: cannot hook %s (%s): rows of its TLS connections are "
			 "not counted (bytes are)%s", path, TLS_WRITE_FN, strerror(-err),
			 err == -EACCES || err == -EPERM ?
				 "; an executable installed after vigie started is hooked at its "
				 "next start" : "");
		return -ENOENT;
	}
	b->ok = true;
	log_info("PostgreSQL %s: TLS plaintext hooked at %s", path, TLS_WRITE_FN);
	return 0;
}

int pgtls_hook_process(struct pgtls *t, pid_t pid)
{
	char link[64], path[PATH_MAX], full[PATH_MAX + 64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -errno;
	path[n] = '\0';
	/* the binary in the process's own mount namespace */
	snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
	return hook(t, path, full);
}

int pgtls_hook_installed(struct pgtls *t)
{
	static const char *const patterns[] = {
		"/usr/lib/postgresql/*/bin/postgres", /* Debian, Ubuntu, the PGDG apt packages */
		"/usr/pgsql-*/bin/postgres",          /* the PGDG rpm packages */
		"/usr/local/pgsql/bin/postgres",      /* built from source */
	};
	int hooked = 0;

	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		glob_t g;

		if (glob(patterns[p], 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char real[PATH_MAX];

			/* named as /proc/PID/exe will name it */
			if (realpath(g.gl_pathv[i], real) && hook(t, real, real) == 0)
				hooked++;
		}
		globfree(&g);
	}
	return hooked;
}

static bool any_match(const char *pattern)
{
	glob_t g;
	bool found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;

	globfree(&g);
	return found;
}

bool pgtls_installed(void)
{
	return any_match("/usr/lib/postgresql/*/bin/postgres") ||
	       any_match("/usr/pgsql-*/bin/postgres") ||
	       access("/usr/local/pgsql/bin/postgres", X_OK) == 0;
}

int pgtls_hooked(const struct pgtls *t)
{
	int n = 0;

	for (int i = 0; t && i < t->n; i++)
		n += t->bin[i].ok;
	return n;
}

void pgtls_release(struct pgtls *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++) {
		bpf_link__destroy(t->bin[i].enter);
		free(t->bin[i].path);
	}
	t->n = 0;
}
