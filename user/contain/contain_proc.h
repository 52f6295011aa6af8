/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Containment's actions on processes: end PostgreSQL backends (SIGTERM,
 * what pg_terminate_backend sends) and stop a process (SIGSTOP). Each
 * returns 0 or -errno and adds what it did to detail ("pids", "sessions",
 * "pids_stopped", "reason"); detail may be NULL.
 */
#ifndef VIGIE_CONTAIN_PROC_H
#define VIGIE_CONTAIN_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* Every backend of a local PostgreSQL logged in as db_user (-ESRCH: none). */
int contain_end_db_sessions(const char *db_user, json_t *detail);
/* Backend pid, if it is one serving a client and serves(pid, ctx) says it
 * still serves the user (NULL: not asked). */
int contain_end_backend(uint32_t pid, bool (*serves)(uint32_t pid, void *ctx), void *ctx,
			json_t *detail);
/* pid, or with pid 0 every process "EXE@USER" (process_id). */
int contain_stop_process(uint32_t pid, const char *process_id, json_t *detail);

#endif
