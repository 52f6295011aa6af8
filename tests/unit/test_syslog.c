// SPDX-License-Identifier: GPL-2.0
/* syslog output: the RFC 5424 message and its framing, the URL and the
 * facility, and the bounded queue (a collector that never answers). */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include "base/syslog_url.h"
#include "output/syslog.h"
#include "check.h"

#define T 1795416000123456000ull /* 2026-11-23T06:40:00.123456Z */

static void test_format(void)
{
	static const char json[] = "{\"event\":{\"action\":\"usage\"}}";
	char buf[512];
	size_t n;

	n = syslog_format(buf, sizeof(buf), false, 3, 6, T, "db-01", 4242, "usage", json,
			  strlen(json));
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "<30>1 2026-11-23T06:40:00.123456Z db-01 vigie 4242 usage - "
			  "{\"event\":{\"action\":\"usage\"}}");
	/* TCP: octet counting (RFC 6587), the count of the message's bytes */
	n = syslog_format(buf, sizeof(buf), true, 16, 2, T, "db-01", 4242, "exfiltration-volume",
			  json, strlen(json));
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "102 <130>1 2026-11-23T06:40:00.123456Z db-01 vigie 4242 "
			  "exfiltration-volume - {\"event\":{\"action\":\"usage\"}}");
	CHECK_EQ_INT(strlen(strchr(buf, ' ') + 1), 102);
	/* header fields: printable ASCII, bounded, "-" when empty */
	n = syslog_format(buf, sizeof(buf), false, 3, 6, T, "h\xc3\xa9 st", 1, "", "{}", 2);
	buf[n] = '\0';
	CHECK_EQ_STR(buf, "<30>1 2026-11-23T06:40:00.123456Z h___st vigie 1 - - {}"); /* 2 bytes of é, a space */
	CHECK_EQ_INT(syslog_format(buf, 40, false, 3, 6, T, "h", 1, "m", json, strlen(json)), 0);
}

static void test_url(void)
{
	char err[200];

	CHECK_EQ_INT(syslog_url_check("tcp://127.0.0.1:514", err, sizeof(err)), 0);
	CHECK_EQ_INT(syslog_url_check("udp://[::1]:10514", err, sizeof(err)), 0);
	CHECK_EQ_INT(syslog_url_check("unix:///dev/log", err, sizeof(err)), 0);
	CHECK_EQ_INT(syslog_url_check("tcp://localhost:514", err, sizeof(err)), -1);
	CHECK(strstr(err, "IPv4 address") != NULL);
	CHECK_EQ_INT(syslog_url_check("tcp://127.0.0.1:0", err, sizeof(err)), -1);
	CHECK(strstr(err, "1-65535") != NULL);
	CHECK_EQ_INT(syslog_url_check("http://127.0.0.1:514", err, sizeof(err)), -1);
	CHECK_EQ_INT(syslog_url_check("unix://dev/log", err, sizeof(err)), -1);
	CHECK_EQ_INT(syslog_facility_code("daemon"), 3);
	CHECK_EQ_INT(syslog_facility_code("local0"), 16);
	CHECK_EQ_INT(syslog_facility_code("local7"), 23);
	CHECK_EQ_INT(syslog_facility_code("nope"), -1);
}

/* A collector that is not there: the queue keeps the newest up to its
 * bound, the oldest are dropped and counted, exactly. */
static void test_queue_bound(void)
{
	static const char json[] = "{\"a\":\"0123456789012345678901234567890123456789\"}";
	struct syslog_sink *s = syslog_open("tcp://127.0.0.1:9", 3, 65536, "h");
	struct syslog_stats st;
	size_t one;
	char buf[512];

	CHECK(s != NULL);
	one = syslog_format(buf, sizeof(buf), true, 3, 6, T, "h", (int)getpid(), "usage", json,
			    strlen(json));
	for (int i = 0; i < 1000; i++)
		syslog_send(s, json, strlen(json), "usage", 6, T);
	syslog_get_stats(s, &st);
	CHECK_EQ_INT(st.sent, 0);
	CHECK_EQ_INT(st.queued, 65536 / one);
	CHECK_EQ_INT(st.dropped, 1000 - 65536 / one);
	CHECK(st.queued_bytes <= 65536);
	syslog_close(s, 0);
}

int main(void)
{
	test_format();
	test_url();
	test_queue_bound();
	return check_summary();
}
