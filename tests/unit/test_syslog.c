// SPDX-License-Identifier: GPL-2.0
/* syslog output: the RFC 5424 message and its framing, the URL and the
 * facility, the bounded queue (a collector that never answers), and the
 * disk spool (order, bound, restart, torn record, a file not ours). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include "base/syslog_url.h"
#include "output/syslog.h"
#include "output/syslog_spool.h"
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
	struct syslog_sink *s = syslog_open("tcp://127.0.0.1:9", 3, 65536, "h", NULL, 0);
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

static char dir[] = "/tmp/vigie-spool-XXXXXX";

static char *spool_file(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void expect_record(struct spool *sp, const char *want)
{
	char *d = NULL;
	ssize_t n = spool_peek(sp, &d);

	CHECK_EQ_INT(n, (ssize_t)strlen(want));
	CHECK(d && n > 0 && !memcmp(d, want, (size_t)n));
	free(d);
	CHECK_EQ_INT(spool_pop(sp), 0);
}

static void test_spool(void)
{
	char err[600] = "", *path = spool_file("a.spool"), big[1000];
	struct spool *sp = spool_open(path, 65536, err, sizeof(err));
	struct stat st;
	int fd;

	CHECK_MSG(sp != NULL, "%s", err);
	if (!sp)
		return;
	CHECK_EQ_INT(spool_append(sp, "one", 3), 0);
	CHECK_EQ_INT(spool_append(sp, "two!", 4), 0);
	CHECK_EQ_INT(spool_append(sp, "three", 5), 0);
	CHECK_EQ_INT(spool_records(sp), 3);
	CHECK_EQ_INT(spool_bytes(sp), 3 * 4 + 3 + 4 + 5);
	expect_record(sp, "one");
	spool_close(sp);
	/* a restart: what was not sent is still there, in order */
	sp = spool_open(path, 65536, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK_EQ_INT(spool_records(sp), 2);
	expect_record(sp, "two!");
	expect_record(sp, "three");
	CHECK_EQ_INT(spool_records(sp), 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 16); /* emptied to its header */
	/* the bound, in bytes of the file */
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 65; i++)
		CHECK_EQ_INT(spool_append(sp, big, sizeof(big)), 0);
	CHECK_EQ_INT(spool_append(sp, big, sizeof(big)), -ENOSPC);
	CHECK_EQ_INT(spool_records(sp), 65);
	spool_close(sp);
	/* a torn last record (killed during an append): cut at open */
	fd = open(path, O_WRONLY | O_APPEND);
	{
		static const char torn[7] = { 0x10, 0, 0, 0, 'a', 'b', 'c' };

		CHECK(fd >= 0 && write(fd, torn, sizeof(torn)) == 7);
	}
	close(fd);
	sp = spool_open(path, 1 << 20, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK_EQ_INT(spool_records(sp), 65);
	CHECK(stat(path, &st) == 0 && st.st_size == 16 + 65 * 1004);
	spool_close(sp);
	/* a file that is not a spool is set aside, never overwritten */
	path = spool_file("b.spool");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "precious data, not a spool\n", 27) == 27);
	close(fd);
	sp = spool_open(path, 65536, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK_EQ_INT(spool_records(sp), 0);
	spool_close(sp);
	CHECK_EQ_INT(system("test $(cat /tmp/vigie-spool-*/b.spool.bad-* | wc -c) -eq 27"), 0);
	/* a symbolic link is not followed */
	CHECK_EQ_INT(symlink("/etc/passwd", spool_file("c.spool")), 0);
	CHECK(spool_open(spool_file("c.spool"), 65536, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "c.spool") != NULL);
	/* a named pipe (or a device) keeps nothing: refused, left as it is */
	path = spool_file("d.spool");
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	CHECK(spool_open(path, 65536, err, sizeof(err)) == NULL);
	CHECK_MSG(strstr(err, "d.spool: not a regular file") != NULL, "%s", err);
	CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
}

/* The memory queue full, the oldest go to the spool: nothing dropped; at
 * close what waits in memory joins them, in order, for the next start. */
static void test_sink_spool(void)
{
	char json[64], err[600], *d = NULL, *path = spool_file("sink.spool");
	struct syslog_sink *s = syslog_open("tcp://127.0.0.1:9", 3, 4096, "h", path, 1 << 20);
	struct syslog_stats st;
	struct spool *sp;

	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 200; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		syslog_send(s, json, strlen(json), "usage", 6, T);
	}
	syslog_get_stats(s, &st);
	CHECK_EQ_INT(st.dropped, 0);
	CHECK_EQ_INT(st.queued + st.spooled, 200);
	CHECK(st.spooled > 100 && st.queued_bytes <= 4096);
	syslog_close(s, 0);
	sp = spool_open(path, 1 << 20, err, sizeof(err));
	CHECK(sp != NULL);
	CHECK_EQ_INT(spool_records(sp), 200);
	for (int i = 0; i < 200 && sp; i++) {
		ssize_t n = spool_peek(sp, &d);

		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		CHECK(n > 0 && (size_t)n > strlen(json) &&
		      !memcmp(d + n - strlen(json), json, strlen(json)));
		free(d);
		spool_pop(sp);
	}
	spool_close(sp);
}

int main(void)
{
	test_format();
	test_url();
	test_queue_bound();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_spool();
	test_sink_spool();
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
	return check_summary();
}
