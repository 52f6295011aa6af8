/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building ECS events: the common envelope every Vigie event carries, and
 * helpers that keep the output valid JSON whatever a process names itself.
 */
#ifndef VIGIE_EVENT_H
#define VIGIE_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define VIGIE_VERSION "0.1.0"

/* Host name written in host.name (set once: the live host, or a trace's). */
void event_set_host(const char *host_name);
const char *event_host(void);
/* host.id (NULL or "": omitted, the default). */
void event_set_host_id(const char *id);
/* host.id from a machine-id file (/etc/machine-id), trimmed; 0, or -1 when
 * unreadable or empty (host.id is then omitted, never an empty string). */
int event_host_id_from_file(const char *path);
const char *event_host_id(void);

/*
 * event.id: 32 hex digits, the 64-bit seed then a 64-bit counter that starts
 * at 0 when seeded. The live sensor seeds from getrandom() at start; replays
 * seed with event_seed_of() their trace's host so their output is
 * reproducible. Never seeded: seed 0.
 */
void event_seed_ids(uint64_t seed);
uint64_t event_seed_of(const char *text);

/* related.user and related.ip from the names and addresses the event
 * carries (user.name, user.audit.name, vigie.app_user,
 * vigie.app_users[].user, vigie.db_user; source.ip, destination.ip),
 * deduplicated, in that order. Call once the event is complete. */
void event_relate(json_t *ev);
/* Append value to the array at dotted path unless already there. */
void event_add_unique(json_t *ev, const char *path, const char *value);

/*
 * New event with @timestamp (RFC 3339 UTC, microseconds), event.id,
 * event.kind, event.category (array of one), event.type (array of one, may
 * be NULL), event.action, event.module/dataset, host.name, host.id (when
 * known), agent.type/version and ecs.version.
 */
json_t *event_new(uint64_t realtime_ns, const char *kind, const char *category,
		  const char *type, const char *action);

/* Set a value at a dotted path ("process.pid"), creating objects on the way.
 * Steals the reference to value. Returns 0, or -1 (value released). */
int event_set(json_t *root, const char *dotted_path, json_t *value);
/* event_set of a count (an integer). */
int event_set_count(json_t *root, const char *dotted_path, uint64_t value);

/* JSON string from arbitrary bytes: invalid UTF-8 bytes become U+FFFD and
 * NUL bytes become spaces, so the result is always a valid JSON string. */
json_t *json_string_bytes(const char *bytes, size_t len);
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
size_t utf8_valid_len(const unsigned char *s, size_t n);
/* Same for a NUL-terminated C string (NULL gives JSON null). */
json_t *json_string_safe(const char *s);

/* Format realtime nanoseconds as RFC 3339 UTC with microseconds:
 * "2026-11-23T06:41:17.123456Z". buf should hold 32 bytes. */
char *format_rfc3339(uint64_t realtime_ns, char *buf, size_t size);
/* Parse RFC 3339 (Z or +hh:mm, optional fraction) into ns; 0 ok, -1 bad. */
int parse_rfc3339(const char *s, uint64_t *realtime_ns);

#endif
