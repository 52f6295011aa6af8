/* SPDX-License-Identifier: GPL-2.0 */
/* The fields both kinds of usage event carry (usage_fields.c). Below
 * usage.c and summary.c, which both use it: neither needs the other's
 * internals for these. */
#ifndef VIGIE_USAGE_FIELDS_H
#define VIGIE_USAGE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base/config.h"
#include "base/identity.h"

struct usage_entry;

/* Is id's executable a database server's (databases.server_executables,
 * owned by root)? */
bool is_db_server_exe(const struct vigie_config *cfg, struct identity *id);
/* process.*, user.* of an entry. */
void usage_add_process(json_t *ev, const struct usage_entry *e);
/* network.transport of an IP protocol number, NULL for 0. */
const char *usage_transport_name(uint8_t proto);
/* vigie.class of a counter class (VIGIE_CLASS_*) */
const char *class_name(uint8_t cls);
/* Text form of an address (family AF_INET or AF_INET6; "" otherwise) */
void format_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t size);
/* vigie.rows_unknown_reason from PGWIRE_UNKNOWN_* bits */
void usage_set_unknown_reason(json_t *ev, uint32_t unknown_why);

#endif
