// SPDX-License-Identifier: GPL-2.0
/* The fields both kinds of usage event carry (usage.c: one event per flow;
 * summary.c: one per principal): the process and its user, the transport,
 * whether the reader is a database server, names of classes, addresses
 * and of why rows are unknown. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "base/event.h"
#include "base/identity.h"
#include "postgres/pgwire.h"
#include "sensor/usage_fields.h"
#include "sensor/usage_int.h"
#include "vigie.h"

static const char *const class_names[] = { "egress", "db_client", "db_server", "db_file" };

const char *class_name(uint8_t cls)
{
	return cls < VIGIE_CLASS_MAX ? class_names[cls] : "unknown";
}

void format_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t size)
{
	buf[0] = '\0';
	if (family == AF_INET)
		inet_ntop(AF_INET, addr, buf, (socklen_t)size);
	else if (family == AF_INET6)
		inet_ntop(AF_INET6, addr, buf, (socklen_t)size);
}

void usage_set_unknown_reason(json_t *ev, uint32_t unknown_why)
{
	json_t *a = json_array();

	for (uint32_t bit = 1; bit && bit <= unknown_why; bit <<= 1) {
		const char *name = (unknown_why & bit) ? pgwire_unknown_name(bit) : NULL;

		if (name)
			json_array_append_new(a, json_string(name));
	}
	event_set(ev, "vigie.rows_unknown_reason", a);
}

bool is_db_server_exe(const struct vigie_config *cfg, struct identity *id)
{
	const char *base;

	if (!id || !id->exe)
		return false;
	base = strrchr(id->exe, '/');
	base = base ? base + 1 : id->exe;
	for (int i = 0; i < cfg->n_server_exes; i++)
		if (!strcmp(base, cfg->server_exes[i]))
			/* a name is anyone's to choose: the file must be root's */
			return identity_exe_trusted(id);
	return false;
}

const char *usage_transport_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	case 0: return NULL;
	default: return "other";
	}
}

void usage_add_process(json_t *ev, const struct usage_entry *e)
{
	const struct identity *id = e->id;
	char buf[32];

	event_set(ev, "process.pid", json_integer(e->key.pid));
	if (!id)
		return;
	if (id->comm[0])
		event_set(ev, "process.name", json_string_safe(id->comm));
	if (id->exe)
		event_set(ev, "process.executable", json_string_safe(id->exe));
	if (id->cmdline)
		event_set(ev, "process.command_line", json_string_bytes(id->cmdline, id->cmdline_len));
	if (id->ppid)
		event_set(ev, "process.parent.pid", json_integer(id->ppid));
	snprintf(buf, sizeof(buf), "%u", e->key.uid);
	event_set(ev, "user.id", json_string(buf));
	if (e->key.uid == id->uid && id->user_name)
		event_set(ev, "user.name", json_string_safe(id->user_name));
	else if (user_name_of(e->key.uid))
		event_set(ev, "user.name", json_string_safe(user_name_of(e->key.uid)));
	if (id->loginuid != VIGIE_LOGINUID_UNSET) {
		snprintf(buf, sizeof(buf), "%u", id->loginuid);
		event_set(ev, "user.audit.id", json_string(buf));
		if (id->audit_name)
			event_set(ev, "user.audit.name", json_string_safe(id->audit_name));
	}
}
