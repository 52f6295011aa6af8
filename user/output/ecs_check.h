/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ECS conformance of Vigie's events, checked by a machine: every field an
 * event carries must be an ECS field (tests/data/ecs/ecs_fields.tsv, a
 * subset of elastic/ecs's ecs_flat.yml) or one of Vigie's own fields
 * (vigie_fields.tsv), with a JSON value of its type (float fields: a JSON
 * real, always); fields with allowed values (event.kind, event.category,
 * event.type, event.outcome) hold one of them, and each event.type is
 * expected for each event.category.
 */
#ifndef VIGIE_ECS_CHECK_H
#define VIGIE_ECS_CHECK_H

#include <stddef.h>
#include <jansson.h>

struct ecs_schema;

/* Load ecs_fields.tsv, ecs_allowed.tsv and vigie_fields.tsv from dir.
 * NULL with the reason in err. */
struct ecs_schema *ecs_schema_load(const char *dir, char *err, size_t errlen);
void ecs_schema_free(struct ecs_schema *s);
/* Fields known (ECS subset + Vigie's), for tests. */
size_t ecs_schema_fields(const struct ecs_schema *s);

/* 0 if the event conforms; -1 with the first violation in err, naming the
 * field ("vigie.ratio: float field holds an integer (7)"). */
int ecs_check_event(const struct ecs_schema *s, json_t *ev, char *err, size_t errlen);
/* Same for one NDJSON line (not JSON, not an object: a violation). */
int ecs_check_line(const struct ecs_schema *s, const char *line, char *err, size_t errlen);

/* Every line of an NDJSON file: the number of events not conforming (the
 * first violation in err as "line N: ..."), or -1 if unreadable; *events
 * counts the events read. */
long ecs_check_file(const struct ecs_schema *s, const char *path, unsigned long *events,
		    char *err, size_t errlen);

/* The index template (packaging/siem/vigie-index-template.json) maps every
 * field of ev with a type its JSON value fits: 0, or -1 naming the first
 * field that is not mapped or mapped otherwise in err. */
int ecs_template_check(json_t *index_template, json_t *ev, char *err, size_t errlen);
/* Type mapped for a dotted field ("object" for objects), NULL if none. */
const char *ecs_template_type(json_t *index_template, const char *name);

#endif
