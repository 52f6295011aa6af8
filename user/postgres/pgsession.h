/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session parameters a PostgreSQL backend reported to its client
 * (ParameterStatus, captured by the kernel walker in send order): the
 * application user the client named (application_name) and the session's
 * role (session_authorization). A pooled connection serves many
 * application users in turn; each change carries the backend's cumulative
 * counts at that point, so a backend's counts between two drains split
 * exactly into segments, one per application user (and role) in turn.
 */
#ifndef VIGIE_PGSESSION_H
#define VIGIE_PGSESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pgwire_abi.h"

struct pg_param_value {
	char s[PGWIRE_PARAM_MAX + 1]; /* NUL-terminated; "" when not set */
	bool set;                     /* reported at least once */
	bool unread;                  /* the last change could not be read */
	bool truncated;               /* longer than PGWIRE_PARAM_MAX */
};

struct pg_session {
	struct pg_param_value app;  /* application_name */
	struct pg_param_value role; /* session_authorization */
	struct pgwire_param_event *queue; /* changes not yet reached by a drain */
	size_t n, cap;
};

/* Counts of one backend under one application user and role. */
struct pg_segment {
	struct pg_param_value app;
	struct pg_param_value role;
	uint64_t records; /* rows + copy rows */
	uint64_t bytes;
};

/* Queue a change (in the order the kernel reported them). 0 or -ENOMEM. */
int pg_session_queue(struct pg_session *s, const struct pgwire_param_event *ev);
/* Split the counts from (rec0, bytes0) to (rec1, bytes1), cumulative, into
 * segments, applying the queued changes reached by then (the others stay
 * queued). Fills *segs (grown as needed, *cap its capacity) and returns
 * their number (at least 1, consecutive segments of the same user
 * merged), or -ENOMEM. */
int pg_session_split(struct pg_session *s, uint64_t rec0, uint64_t bytes0, uint64_t rec1,
		     uint64_t bytes1, struct pg_segment **segs, size_t *cap);
/* The values now: the last change queued of each, else the last applied. */
void pg_session_current(const struct pg_session *s, struct pg_param_value *app,
			struct pg_param_value *role);
void pg_session_free(struct pg_session *s);

#endif
