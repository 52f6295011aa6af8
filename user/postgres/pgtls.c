// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
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

int pgtls_hook_process(struct pgtls *t, pid_t pid)
{
	char link[64], path[PATH_MAX];
	struct pgtls_binary *b;
	ssize_t n;
	int err;

	if (!t || !t->enter)
		return -EINVAL;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -errno;
	path[n] = '\0';
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
	{
		char full[PATH_MAX + 64];

		/* the binary in the process's own mount namespace */
		snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
		b->enter = attach(t->enter, full);
		err = b->enter ? 0 : -errno;
	}
	if (err) {
		log_warn("PostgreSQL %s: cannot hook %s (%s): rows of its TLS connections are "
			 "not counted (bytes are)", path, TLS_WRITE_FN, strerror(-err));
		return -ENOENT;
	}
	b->ok = true;
	log_info("PostgreSQL %s: TLS plaintext hooked at %s", path, TLS_WRITE_FN);
	return 0;
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
