/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel programs: choose the probe variant by trying what really loads and
 * attaches, set the settings, fill the configuration maps.
 */
#ifndef VIGIE_PROBES_H
#define VIGIE_PROBES_H

#include <stdbool.h>
#include "base/config.h"

enum probe_variant {
	VARIANT_SOCK_BTF = 0, /* tp_btf/sock_{send,recv}_length */
	VARIANT_SOCK_TP,      /* tracepoint/sock/sock_{send,recv}_length */
	VARIANT_SYSCALLS,     /* syscall enter/exit tracepoints */
	VARIANT_MAX,
};

struct vigie_bpf;
struct bpf_link;

struct probes {
	struct vigie_bpf *skel;
	enum probe_variant variant;
	bool dbfile;              /* db_file counting attached */
	int n_data_dirs;          /* data directories found and watched */
	char *data_dir_paths[CONFIG_MAX_DATA_DIRS]; /* index -> path (borrowed) */
	int n_attached;           /* programs attached */
	struct bpf_link *udp_links[2]; /* cgroup sendmsg4/6 on the cgroup v2 root */
	bool udp_dest;            /* unconnected UDP destinations known */
	bool uring;               /* io_uring completions counted */
	bool sys_ret;             /* syscall tracepoints at exit only (else enter and exit) */
};

const char *probe_variant_name(enum probe_variant v);
/* Mount tracefs and bpffs when they are not mounted yet. */
int probes_mount_fs(void);
/* Load and attach. 0 or negative errno (logged). */
int probes_start(struct probes *p, const struct vigie_config *cfg);
void probes_stop(struct probes *p);
/* Make a TCP port a database port from now on (a server found listening
 * on it). 0 or -EINVAL. */
int probes_add_db_port(struct probes *p, uint16_t port);
/* Is port a database port (configured or added)? */
bool probes_is_db_port(const struct probes *p, uint16_t port);
/* The prog array sock_send_btf tail-calls at its end (one slot, key 0),
 * where another object's tp_btf/sock_send_length program can run instead
 * of attaching on its own; -1 when sock_send_btf is not the variant
 * attached. */
int probes_send_chain_fd(const struct probes *p);
/* known: the ports of every PostgreSQL server tracked are database ports,
 * and the program in send_chain runs for sends from database ports and
 * unix sockets only; !known (as loaded): for every send. 0, or -EINVAL
 * where there is no send_chain. */
int probes_pg_ports_known(struct probes *p, bool known);

#endif
