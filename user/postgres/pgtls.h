/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rows through TLS: PostgreSQL hands the plaintext of a TLS connection to
 * be_tls_write(); a uprobe on its entry (one hit per write, bpf/pgwire.bpf.c)
 * feeds that plaintext to the same protocol walker as the socket path.
 * The hooks are attached once per PostgreSQL executable (by inode), for
 * every process running it: only TLS backends call be_tls_write, so plain
 * connections never hit them.
 */
#ifndef VIGIE_PGTLS_H
#define VIGIE_PGTLS_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <sys/types.h>

#define PGTLS_MAX_BINARIES 16

struct pgtls_binary {
	char *path;
	bool ok;                   /* hooked; false: no be_tls_write (told once) */
	struct bpf_link *enter;
};

struct pgtls {
	struct bpf_program *enter;
	struct pgtls_binary bin[PGTLS_MAX_BINARIES];
	int n;
};

/* Hook the executable of process pid (a postmaster) if not done yet.
 * 0 hooked (now or before), -ENOENT no be_tls_write in it (rows of its TLS
 * connections stay unknown, logged once), other negative errno. */
int pgtls_hook_process(struct pgtls *t, pid_t pid);
/* Hook every PostgreSQL server executable installed in the usual places
 * (Debian's and the PGDG packages, /usr/local/pgsql), whether it runs or
 * not: at start, while the daemon may still attach uprobes. Returns the
 * number hooked. */
int pgtls_hook_installed(struct pgtls *t);
/* Is a PostgreSQL server installed in one of those places? */
bool pgtls_installed(void);
/* Executables hooked; the reason why not, for the others. */
int pgtls_hooked(const struct pgtls *t);
void pgtls_release(struct pgtls *t);

#endif
