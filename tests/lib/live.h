/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for Vigie's live tests: assertions, the sensor as a child process,
 * its JSON output, network namespaces, children, temporary files.
 *
 * A live test:
 *   live_init("egress");           skips (exit 77) without root or BTF
 *   struct vigie v; vigie_start(&v, config_json, "--probes", "sock", NULL);
 *   ... traffic with tg_run() / tg_server() ...
 *   ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
 *   struct events ev; events_load(&ev, v.out_path);
 *   ASSERT_EQ_U64(usage_bytes(&ev, pid, "egress", NULL), N, "egress");
 *   return live_finish();          prints "N passed, M failed"
 * Everything created (namespaces, children, temporary files) is removed at
 * exit, on SIGINT/SIGTERM too.
 *
 * Each section below names the file of tests/lib that implements it; what
 * those files share and the tests do not see is in live_int.h.
 */
#ifndef VIGIE_TESTS_LIVE_H
#define VIGIE_TESTS_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jansson.h>

/* ---- results, set-up, the build (live.c) ------------------------------ */

extern int live_passed, live_failed, live_skipped;

void live_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define CHECK(cond, ...) live_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define ASSERT_TRUE(cond, what) CHECK((cond), "%s", (what))

#define ASSERT_EQ_U64(got, want, what)                                                   \
	do {                                                                             \
		unsigned long long g_ = (unsigned long long)(got);                       \
		unsigned long long w_ = (unsigned long long)(want);                      \
		CHECK(g_ == w_, "%s: got %llu, want %llu", (what), g_, w_);              \
	} while (0)

#define ASSERT_GT_U64(got, bound, what)                                                  \
	do {                                                                             \
		unsigned long long g_ = (unsigned long long)(got);                       \
		unsigned long long b_ = (unsigned long long)(bound);                     \
		CHECK(g_ > b_, "%s: got %llu, want > %llu", (what), g_, b_);             \
	} while (0)

#define ASSERT_EQ_INT(got, want, what)                                                   \
	do {                                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want);                 \
		CHECK(g_ == w_, "%s: got %lld, want %lld", (what), g_, w_);              \
	} while (0)

#define ASSERT_EQ_STR(got, want, what)                                                   \
	do {                                                                             \
		const char *g_ = (got), *w_ = (want);                                    \
		CHECK(g_ && w_ && !strcmp(g_, w_), "%s: got \"%s\", want \"%s\"", (what),  \
		      live_printable(0, g_), live_printable(1, w_));                     \
	} while (0)

#define ASSERT_CONTAINS(hay, needle, what)                                               \
	do {                                                                             \
		const char *h_ = (hay), *n_ = (needle);                                  \
		CHECK(h_ && n_ && strstr(h_, n_), "%s: \"%s\" in \"%s\"", (what),        \
		      live_printable(1, n_), live_printable(0, h_));                     \
	} while (0)

/* Escaped copy of s for messages (two rotating buffers, slot 0 or 1). */
const char *live_printable(int slot, const char *s);

/* Root, BTF and the binaries; exit 77 (saying why) when the test cannot run.
 * Registers the cleanup handlers, removes leftovers of a crashed run. */
void live_init(const char *name);
/* Prints "N passed, M failed[, K skipped]"; exit code for main. */
int live_finish(void);
/* Run fn first at cleanup (exit, SIGINT, SIGTERM), e.g. to unmount. */
void live_on_cleanup(void (*fn)(void));
/* Counts a skipped check, saying why. */
void live_skip(const char *why);
/* Prints a section title. */
void live_section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void live_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Paths of the binaries under test (build dir found from /proc/self/exe,
 * or VIGIE_BUILD). */
const char *live_vigie_bin(void);
const char *live_trafficgen_bin(void);
const char *live_build_dir(void);
/* A tool that makes a test's input (tools/tracegen, tools/portal): the
 * build's own, or, for the sanitizer build (build/asan, which has the
 * daemon only), the one of the build it sits in. Valid until the next
 * call. */
const char *live_tool(const char *name);

/* ---- temporary files (live.c) ------------------------------------------ */

/* One private directory per test run, removed at exit. */
const char *live_tmpdir(void);
/* tmpdir/name; the returned buffer is static per call site: copy it. */
char *live_path(const char *name);
/* Write content to tmpdir/name; returns a malloc'ed path. */
char *live_write_file(const char *name, const char *content);
/* Create a file of exactly size bytes (pattern). 0 ok. */
int live_make_file(const char *path, uint64_t size);
/* Whole file content (malloc'ed, NUL-terminated), NULL if unreadable. */
char *live_read_file(const char *path, size_t *len);

/* ---- shell, source tree, clock (live.c) -------------------------------- */

/* Run a shell command quietly: its exit status. */
int live_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of rel in the source tree (two levels above BUILD/tests/live_x). */
const char *live_source_path(const char *rel);
/* Realtime clock, seconds since the epoch. */
double live_now(void);
/* "2024-03-05T09:31:00.000000Z" -> seconds since the epoch; -1 if bad. */
double live_parse_ts(const char *s);

/* ---- children, trafficgen (child.c) ------------------------------------ */

struct spawn_opts {
	const char *netns;  /* run inside /run/netns/NAME */
	bool set_user;      /* switch to uid/gid first */
	uid_t uid;
	gid_t gid;
	bool capture;       /* stdout to a pipe readable with child_readline */
	const char *stderr_path; /* stderr to this file (default: inherited) */
	const char *exe;    /* executable (default argv[0]) */
};

struct child {
	pid_t pid;
	int out_fd;
	char buf[8192];
	size_t len;
	int status; /* exit code, 128+signal, -1 unknown */
	bool reaped;
};

/* Fork and exec. 0 ok, -1 error (logged). Children are killed at cleanup. */
int child_spawn(struct child *c, const struct spawn_opts *o, char *const argv[]);
/* One line of the child's stdout (newline stripped). 0 ok, -1 EOF/timeout. */
int child_readline(struct child *c, char *line, size_t size, int timeout_ms);
/* Read lines until one starts with key; its number. -1 when none. */
long long child_read_value(struct child *c, const char *key, int timeout_ms);
/* Wait for the exit (kills it after timeout_ms): exit code, 128+signal or
 * -1 on timeout. */
int child_wait(struct child *c, int timeout_ms);
void child_kill(struct child *c);
/* Fork a child running fn(arg) in this program (no exec); its return value
 * is the exit status. Tracked and killed at cleanup like child_spawn's. 0 ok. */
int child_fork(struct child *c, int (*fn)(void *arg), void *arg);
/* Whether the child has exited, without reaping it (child_wait reaps). */
bool child_exited(const struct child *c);

/* trafficgen: spawn with arguments (NULL-terminated). */
int tg_spawn(struct child *c, const struct spawn_opts *o, ...) __attribute__((sentinel));
/* Run trafficgen to completion: exit status; *pid and the value of the
 * result line ("sent", "received", "read", ...; -1 if none) when non-NULL. */
int tg_run(pid_t *pid, long long *value, const struct spawn_opts *o, ...)
	__attribute__((sentinel));
/* Start a trafficgen server and return the port it listens on (-1 fails). */
int tg_server(struct child *c, const struct spawn_opts *o, ...) __attribute__((sentinel));

/* ---- a process's descriptors (proc_fds.c) ----------------------------- */

/* Open file descriptors of pid (its /proc/PID/fd), -1 if gone. */
int live_count_fds(pid_t pid);
/* A BPF program of that name among pid's descriptors: 2 attached (a link
 * pid holds runs it), 1 loaded only (a prog array may call it), 0 none,
 * -1 /proc not readable. */
int live_bpf_prog_state(pid_t pid, const char *name);

/* ---- the sensor (sensor.c) --------------------------------------------- */

struct vigie {
	struct child c;
	char out_path[512];
	char err_path[512];
	char cfg_path[512];
	int seq;
};

/* Start vigie run -o <tmp> [-c <config>] args... and wait (15 s) for the
 * sensor-start line. config may be NULL (built-in defaults). 0 ok. */
/* Usage events are per flow (--usage-detail flow) unless the arguments or
 * the configuration choose (the built-in default is "summary"). */
int vigie_start(struct vigie *v, const char *config_json, ...) __attribute__((sentinel));
/* The same, with the events written to out_path. */
int vigie_start_at(struct vigie *v, const char *out_path, const char *config_json, ...)
	__attribute__((sentinel));
/* SIGTERM, wait: the exit status (-1 when it had to be killed). */
int vigie_stop(struct vigie *v);
/* Wait until the output has a line with event.action == action (ms). */
bool vigie_wait_action(const struct vigie *v, const char *action, int timeout_ms);

/* Run vigie to completion with the given arguments (no -o added): exit
 * status, stdout and stderr (malloc'ed) when non-NULL. */
int vigie_exec(char **out, char **err, int timeout_ms, ...) __attribute__((sentinel));

/* ---- events (events.c) ------------------------------------------------- */

struct events {
	json_t **ev;
	size_t n;
	size_t lines;
	size_t bad_lines;       /* lines that are not one JSON object */
	char first_bad[256];
};

/* Parse every line of path. 0 ok (bad lines counted, not fatal), -1 I/O. */
int events_load(struct events *e, const char *path);
void events_free(struct events *e);

/* Value at a dotted path ("vigie.stats.flow_fallbacks"), NULL if absent. */
json_t *jpath(json_t *root, const char *path);
const char *jstr(json_t *root, const char *path);          /* NULL if not a string */
long long jint(json_t *root, const char *path, long long dflt);
/* First / last event with event.action == action; NULL if none. */
json_t *events_find(const struct events *e, const char *action);
/* Every event of e (read from path) conforms to the ECS subset
 * (tests/data/ecs) and is mapped by the shipped index template: two checks. */
void live_check_ecs(const struct events *e, const char *path);
json_t *events_find_last(const struct events *e, const char *action);
size_t events_count(const struct events *e, const char *action);

/* Which usage events to sum. Fields left 0/NULL match anything. */
struct usage_filter {
	const char *ip;        /* destination.ip (source.ip for db_server) */
	int port;              /* destination.port (source.port for db_server); 0 any */
	const char *transport; /* network.transport */
	int aggregated;        /* 0 any, 1 only aggregated, -1 only detailed */
	const char *uid;       /* user.id */
};

/* Sum of vigie.bytes (and vigie.ops into *ops) of usage events of pid and
 * class (class NULL: any). n_events gets how many matched. */
uint64_t usage_sum(const struct events *e, pid_t pid, const char *cls,
		   const struct usage_filter *f, uint64_t *ops, size_t *n_events);
static inline uint64_t usage_bytes(const struct events *e, pid_t pid, const char *cls,
				   const struct usage_filter *f)
{
	return usage_sum(e, pid, cls, f, NULL, NULL);
}
/* First usage event of pid and class (NULL if none). */
json_t *usage_first(const struct events *e, pid_t pid, const char *cls);

/* ---- network namespaces (netns.c) -------------------------------------- */

struct netns {
	char name[32];    /* vgt-TAG */
	char host_if[16]; /* vgt-TAG-h, on the host */
	char ns_if[16];   /* vgt-TAG-n, in the namespace */
	char host_ip[20], ns_ip[20];  /* 10.213.N.1 / 10.213.N.2 (/30) */
	char host_ip6[48], ns_ip6[48]; /* fd00:213:N::1 / ::2 (/64) */
	char cidr[24];    /* 10.213.N.0/30 */
	bool up;
};

/* Create namespace + veth pair (tag: up to 5 characters; n: 1..254).
 * Leftovers of the same name are removed first; cleanup is registered. */
int netns_create(struct netns *ns, const char *tag, int n);
void netns_destroy(struct netns *ns);
/* Move the calling thread into /run/netns/NAME: 0, or -1 with errno. */
int netns_enter(const char *name);

/* ---- PostgreSQL (pgcluster.c) ------------------------------------------ */

/* Start a throw-away cluster (tests/lib/pgcluster.sh) and export its PG*
 * variables (PGCLUSTER_DIR, PGHOST, PGPORT, ...) into this process.
 * 0 or -1. pgcluster_stop removes it (safe twice); call it at exit. */
int pgcluster_start(void);
void pgcluster_stop(void);
/* After pgcluster_start: its own psql (not Debian's pg_wrapper, a Perl
 * script per run), with plain connections (PGSSLMODE=disable: rows of TLS
 * connections are not walked); NULL if it is missing. */
const char *pgcluster_psql(void);

#endif
