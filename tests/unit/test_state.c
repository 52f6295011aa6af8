// SPDX-License-Identifier: GPL-2.0
/*
 * The detection state file never loses what was learned: principal ids
 * that are not UTF-8 round-trip byte for byte, every field is checked on
 * load (out of range: refused), a refused file is kept aside and the
 * previous save is used, stale temporaries are removed.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "detect_capture.h"
#include "detect/detect.h"
#include "base/log.h"

#define T0 1709596800000000000ull /* 2024-03-05T00:00:00Z */
#define MIN_NS 60000000000ull

static char dir[] = "/tmp/vigie-state-test-XXXXXX";

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void feed_exe(struct detector *d, uint64_t ts, const char *exe, uint64_t bytes)
{
	struct trace_sample s;

	trace_sample_init(&s);
	s.ts_ns = ts;
	s.pid = 4242;
	s.uid = 0;
	strcpy(s.user, "root");
	snprintf(s.exe, sizeof(s.exe), "%s", exe);
	strcpy(s.peer, "203.0.113.9");
	s.egress_bytes = bytes;
	detector_feed(d, &s);
}

static int count_glob(const char *pattern)
{
	glob_t g;
	int n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;

	globfree(&g);
	return n;
}

/* An executable named with bytes that are not UTF-8 is saved, loaded and
 * saved again byte for byte (the hostile name of issue 16: ex\xff\xfeul). */
static void test_non_utf8_id(void)
{
	static const char exe[] = "/tmp/ex\xff\xfeul";
	struct detect_config c = parse_cfg(NULL);
	struct captured a = { 0 };
	struct detector *d1 = detector_new(&c, capture, &a), *d2 = detector_new(&c, capture, &a);
	char p1[512], p2[512];
	char *s1, *s2;

	path_of(p1, sizeof(p1), "utf8.json");
	path_of(p2, sizeof(p2), "utf8-2.json");
	for (int i = 0; i < 30; i++)
		feed_exe(d1, T0 + (uint64_t)i * MIN_NS, exe, 1500000);
	detector_advance(d1, T0 + 40 * MIN_NS);
	CHECK_EQ_INT(detector_state_save(d1, p1), 0);
	s1 = check_slurp(p1);
	CHECK_MSG(s1 && strstr(s1, "\"id_hex\":\"2f746d702f6578fffe756c40726f6f74\""),
		  "the id /tmp/ex\\xff\\xfeul@root in hex in %s", s1 ? s1 : "(none)");
	CHECK(s1 && strstr(s1, "\"kind\":\"process\""));
	CHECK_EQ_INT(detector_state_load(d2, p1), 0);
	CHECK_EQ_INT(detector_state_save(d2, p2), 0);
	s2 = check_slurp(p2);
	/* identical from the principals on (the time differs) */
	CHECK(s1 && s2 && strstr(s1, "\"principals\"") && strstr(s2, "\"principals\"") &&
	      strcmp(strstr(s1, "\"principals\""), strstr(s2, "\"principals\"")) == 0);
	free(s1);
	free(s2);
	detector_free(d1);
	detector_free(d2);
	captured_free(&a);
	detect_config_free(&c);
}

/* Each out-of-range or mistyped field refuses the whole file. */
static void test_fields_checked(void)
{
	static const char *const bad[] = {
		/* the overflow of issue 16: day -2^31 */
		"\"hist\":{\"1m\":{\"n\":3,\"total\":3,\"day\":-2147483648,\"b\":[[5,3]]}}",
		"\"hist\":{\"1m\":{\"n\":3,\"total\":3,\"day\":19787,\"b\":[[\"5\",3]]}}",
		"\"hist\":{\"1m\":{\"n\":3,\"total\":-1,\"day\":19787,\"b\":[[5,3]]}}",
		"\"hist\":{\"1m\":{\"n\":-3,\"total\":3,\"day\":19787,\"b\":[[5,3]]}}",
		"\"hist\":{\"1m\":{\"n\":3,\"total\":3,\"day\":19787,\"b\":[[96,3]]}}",
		"\"first\":\"yesterday\"",
		"\"lag\":[[-5,1,1,1]]",
	};
	struct detect_config c = parse_cfg(NULL);
	struct captured a = { 0 };
	char p[512], text[1024];

	path_of(p, sizeof(p), "fields.json");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct detector *d = detector_new(&c, capture, &a);

		snprintf(text, sizeof(text),
			 "{\"format\":\"vigie-detect-state\",\"version\":2,\"time\":1,\"principals\":"
			 "[{\"kind\":\"db_user\",\"id\":\"alice\",\"metrics\":{\"db_rows\":{%s,"
			 "\"win\":{\"cur_min\":-1,\"minute\":[],\"hour\":[]}}}}]}", bad[i]);
		write_text(p, text);
		CHECK_MSG(detector_state_load(d, p) == -1, "bad field %zu accepted: %s", i, bad[i]);
		detector_free(d);
	}
	/* the same with good values loads */
	{
		struct detector *d = detector_new(&c, capture, &a);

		write_text(p, "{\"format\":\"vigie-detect-state\",\"version\":2,\"time\":1,\"principals\":"
			      "[{\"kind\":\"db_user\",\"id\":\"alice\",\"uid\":-1,\"metrics\":{\"db_rows\":"
			      "{\"hist\":{\"1m\":{\"n\":3,\"total\":3,\"day\":19787,\"b\":[[5,3]]}},"
			      "\"lag\":[[19786,4,5,6]],\"first\":1,"
			      "\"win\":{\"cur_min\":-1,\"minute\":[],\"hour\":[]}}}}]}");
		CHECK_EQ_INT(detector_state_load(d, p), 0);
		detector_free(d);
	}
	/* a newer format version is refused, not misread */
	{
		struct detector *d = detector_new(&c, capture, &a);

		write_text(p, "{\"format\":\"vigie-detect-state\",\"version\":3,\"principals\":[]}");
		CHECK_EQ_INT(detector_state_load(d, p), -1);
		detector_free(d);
	}
	captured_free(&a);
	detect_config_free(&c);
}

/* The daemon's load: a refused file is kept aside byte for byte and never
 * overwritten; the previous save is used; stale temporaries go. */
static void test_recover(void)
{
	struct detect_config c = parse_cfg(NULL);
	struct captured a = { 0 };
	struct detector *d1 = detector_new(&c, capture, &a), *d2 = detector_new(&c, capture, &a);
	struct detector *d3 = detector_new(&c, capture, &a);
	char p[512], prev[600], pattern[600], stale[600], *good, *torn, *kept;
	size_t half;
	glob_t g;

	path_of(p, sizeof(p), "run.json");
	snprintf(prev, sizeof(prev), "%s.prev", p);
	for (int i = 0; i < 30; i++)
		feed_rows(d1, T0 + (uint64_t)i * MIN_NS, "adv1", 20 + (uint64_t)i);
	detector_advance(d1, T0 + 40 * MIN_NS);
	CHECK_EQ_INT(detector_state_save(d1, p), 0);
	CHECK(access(prev, F_OK) != 0); /* nothing before the first save */
	CHECK_EQ_INT(detector_state_save(d1, p), 0);
	CHECK_EQ_INT(access(prev, F_OK), 0); /* the first save kept */
	good = check_slurp(p);
	/* a save killed half-way: its temporary, and the file torn in half */
	snprintf(stale, sizeof(stale), "%s.tmp.999999999", p);
	write_text(stale, "{");
	half = good ? strlen(good) / 2 : 0;
	torn = good ? strndup(good, half) : NULL;
	write_text(p, torn ? torn : "");
	CHECK_EQ_INT(detector_state_recover(d2, p), 2); /* from FILE.prev */
	CHECK(access(stale, F_OK) != 0);
	snprintf(pattern, sizeof(pattern), "%s.bad-*", p);
	CHECK_EQ_INT(count_glob(pattern), 1);
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1) {
		kept = check_slurp(g.gl_pathv[0]);
		CHECK(kept && torn && strcmp(kept, torn) == 0); /* byte for byte */
		free(kept);
		globfree(&g);
	}
	{
		struct detect_summary sum;

		detector_summary(d2, &sum);
		CHECK(sum.principals > 0);
	}
	/* the next save writes FILE, the refused one stays */
	CHECK_EQ_INT(detector_state_save(d2, p), 0);
	CHECK_EQ_INT(count_glob(pattern), 1);
	/* without a previous save: refused, kept aside, fresh start */
	unlink(prev);
	write_text(p, "not json");
	CHECK_EQ_INT(detector_state_recover(d3, p), -1);
	CHECK_EQ_INT(count_glob(pattern), 2); /* both kept, even within one second */
	CHECK(access(p, F_OK) != 0);
	free(good);
	free(torn);
	detector_free(d1);
	detector_free(d2);
	detector_free(d3);
	captured_free(&a);
	detect_config_free(&c);
}

/* What is not a regular file (a directory, a named pipe: --state /etc or
 * /dev/null given by mistake) is never read, renamed away or replaced: the
 * daemon starts fresh and leaves it as it was. A pipe is not read either
 * (the load would block). */
static void test_not_a_file(void)
{
	struct detect_config c = parse_cfg(NULL);
	struct captured a = { 0 };
	struct detector *d = detector_new(&c, capture, &a);
	char p[512], q[512], pattern[600];
	struct stat st;

	path_of(p, sizeof(p), "a-directory");
	CHECK_EQ_INT(mkdir(p, 0700), 0);
	CHECK_EQ_INT(detector_state_load(d, p), -2);
	CHECK_EQ_INT(detector_state_recover(d, p), -1);
	CHECK_EQ_INT(detector_state_save(d, p), -1);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(pattern, sizeof(pattern), "%s.*", p);
	CHECK_EQ_INT(count_glob(pattern), 0); /* no .bad-, .prev or .tmp */

	path_of(q, sizeof(q), "a-pipe");
	CHECK_EQ_INT(mkfifo(q, 0600), 0);
	CHECK_EQ_INT(detector_state_recover(d, q), -1);
	CHECK_EQ_INT(detector_state_save(d, q), -1);
	CHECK(stat(q, &st) == 0 && S_ISFIFO(st.st_mode));
	snprintf(pattern, sizeof(pattern), "%s.*", q);
	CHECK_EQ_INT(count_glob(pattern), 0);
	unlink(q);
	rmdir(p);
	detector_free(d);
	captured_free(&a);
	detect_config_free(&c);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	test_non_utf8_id();
	test_fields_checked();
	test_recover();
	test_not_a_file();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return check_summary();
}
