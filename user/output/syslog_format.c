// SPDX-License-Identifier: GPL-2.0
/* The RFC 5424 message of one event, framed for its transport (syslog.h). */
#include <stdio.h>
#include <string.h>
#include "base/event.h"
#include "output/syslog.h"

/* Printable US-ASCII of at most max bytes, "-" when empty (RFC 5424). */
static void header_field(char *out, size_t size, const char *in, size_t max)
{
	size_t n = 0;

	for (; in && *in && n < max && n + 1 < size; in++)
		out[n++] = *in > 32 && *in < 127 ? *in : '_';
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

size_t syslog_format(char *buf, size_t size, bool octet_count, int facility, int severity,
		     uint64_t realtime_ns, const char *host, int pid, const char *msgid,
		     const char *json, size_t len)
{
	char ts[40], h[256], m[33], head[400];
	int hl;
	size_t total;

	format_rfc3339(realtime_ns, ts, sizeof(ts));
	header_field(h, sizeof(h), host, 255);
	header_field(m, sizeof(m), msgid, 32);
	hl = snprintf(head, sizeof(head), "<%d>1 %s %s vigie %d %s - ", facility * 8 + severity, ts,
		      h, pid, m);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return 0;
	total = (size_t)hl + len;
	if (octet_count) {
		int pl = snprintf(buf, size, "%zu ", total);

		if (pl < 0 || (size_t)pl + total > size)
			return 0;
		memcpy(buf + pl, head, (size_t)hl);
		memcpy(buf + pl + hl, json, len);
		return (size_t)pl + total;
	}
	if (total > size)
		return 0;
	memcpy(buf, head, (size_t)hl);
	memcpy(buf + hl, json, len);
	return total;
}
