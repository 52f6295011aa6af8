/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live_detect_defaults' parts, shared declarations
 * (tests/live/test_detect_defaults.c holds main: the run and its checks):
 *   traffic.c  the throw-away cluster, the honest roles' loops, the
 *              extraction's script
 *   alerts.c   the alerts found in the output, rows and byte classes of
 *              the usage events
 */
#ifndef VIGIE_TESTS_LIVE_DETECT_DEFAULTS_TEST_H
#define VIGIE_TESTS_LIVE_DETECT_DEFAULTS_TEST_H

#include <limits.h>
#include <stdbool.h>
#include "lib/live.h"

#define N_ROLES 20
#define TABLE_ROWS 20000
#define NEW_ROLE "newrole7"
#define EXT_AFTER_S 40       /* extraction starts this long after the sensor */
#define EXT_SECONDS 70
#define EXT_ROWS_PER_S 150
#define EXT_BATCHES_PER_S 5  /* 30 records every 0.2 s */
#define EXT_DEADLINE_S 60
#define XFER_AFTER_S 70      /* more than the sensor's first minute */
#define XFER_BYTES 524288000ull /* 500 MB */
#define XFER_CHUNK 262144
#define XFER_PAUSE_US 20000  /* 2000 chunks x 20 ms: about 40 s */
#define XFER_DEADLINE_S 120

/* ---- traffic.c ---- */

/* the cluster's port, its own psql; the file that ends the honest loops */
extern const char *pg_port;
extern char psql_bin[PATH_MAX];
extern char stop_file[PATH_MAX];

/* The throw-away cluster (stopped at cleanup), its port and psql found. */
bool cluster_start(void);
/* The table of TABLE_ROWS records, the N_ROLES honest roles and NEW_ROLE. */
bool setup_sql(void);

struct role {
	char name[16];
	unsigned seed;
	struct child c;
	/* read back after the loop ended */
	unsigned long long rows, queries, failures;
	/* from the usage events */
	unsigned long long ev_rows, ev_events;
};

/* child_fork function: an honest role's queries until the stop file
 * exists; what it did goes to tmpdir/NAME.count. */
int honest_loop(void *arg);
/* Reads tmpdir/NAME.count back into r. */
void honest_collect(struct role *r);
/* The extraction's psql script (malloc'ed path, NULL on error); *rows gets
 * the rows expected on the wire. */
char *extraction_script(unsigned long long *rows);

/* ---- alerts.c ---- */

struct watch {
	double t0;             /* sensor started (test clock) */
	double ext_start, xfer_start;
	double ext_alert, peer_alert, proc_alert; /* @timestamp of the first; 0 none */
	const char *peer_ip;
	char exe[PATH_MAX];
	char proc_id[PATH_MAX + 16];
};

bool is_alert(json_t *e);
bool str_is(const char *a, const char *b);
/* Scan the output for the first alert of each target. */
void scan_alerts(struct watch *w, const char *out_path);
/* Every alert, then the other exfiltration events. */
void print_alerts(const struct events *ev, const struct watch *w);
/* Rows of db_user's usage events and how many events. */
void usage_rows(const struct events *ev, const char *db_user, unsigned long long *rows,
		unsigned long long *n);
/* Byte classes of the usage events of db_user (NULL: all but NEW_ROLE). */
void print_classes(const struct events *ev, const char *db_user, const char *label);

#endif
