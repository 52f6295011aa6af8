// SPDX-License-Identifier: GPL-2.0
/*
 * replay_main in process: the golden cases of tests/golden/replay (the same
 * as tests/golden-replay.sh, usable before main.c wires the sub-command),
 * exit codes, and --state round trips. Run from the repository root (the
 * test runner does); VIGIE_SRC can point elsewhere.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "base/log.h"
#include "replay/replay.h"

static char tmpdir[] = "/tmp/vigie-test-replay-XXXXXX";

static int run(const char *out, const char *a1, const char *a2, const char *a3, const char *a4,
	       const char *a5)
{
	char *argv[12];
	int argc = 0;
	const char *args[] = { a1, a2, a3, a4, a5 };

	argv[argc++] = (char *)"replay";
	argv[argc++] = (char *)"-q";
	if (out) {
		unlink(out);
		argv[argc++] = (char *)"-o";
		argv[argc++] = (char *)out;
	}
	for (int i = 0; i < 5 && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	return replay_main(argc, argv);
}

static int golden_case(const char *root, const char *name)
{
	char dir[1024], cfg[1100], trace[1100], expected[1100], codefile[1100], out[1100];
	char *want, *got;
	int want_rc = 0, rc;
	FILE *f;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	snprintf(trace, sizeof(trace), "%s/trace.jsonl", dir);
	if (stat(trace, &st))
		snprintf(trace, sizeof(trace), "%s/trace.jsonl.gz", dir);
	snprintf(expected, sizeof(expected), "%s/expected.jsonl", dir);
	snprintf(codefile, sizeof(codefile), "%s/exit_code", dir);
	snprintf(out, sizeof(out), "%s/%s.out", tmpdir, name);
	f = fopen(codefile, "r");
	if (f) {
		if (fscanf(f, "%d", &want_rc) != 1)
			want_rc = -1;
		fclose(f);
	}
	for (int pass = 0; pass < 2; pass++) {
		rc = run(out, "-c", cfg, trace, NULL, NULL);
		CHECK_EQ_INT(rc, want_rc);
		want = check_slurp(expected);
		got = check_slurp(out);
		CHECK(want && got && strcmp(want, got) == 0);
		if (!(want && got && strcmp(want, got) == 0))
			fprintf(stderr, "  golden case %s differs (see %s)\n", name, out);
		free(want);
		free(got);
	}
	return 0;
}

static void test_golden(void)
{
	const char *src = getenv("VIGIE_SRC") ? getenv("VIGIE_SRC") : ".";
	char root[512];
	struct dirent **names;
	int n;

	snprintf(root, sizeof(root), "%s/tests/golden/replay", src);
	n = scandir(root, &names, NULL, alphasort);
	CHECK(n > 2);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			golden_case(root, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_exit_codes(void)
{
	char trace[300], cfg[300], badcfg[300], state[300], out[300];
	struct stat st;

	snprintf(trace, sizeof(trace), "%s/t.jsonl", tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/c.json", tmpdir);
	snprintf(badcfg, sizeof(badcfg), "%s/bad.json", tmpdir);
	snprintf(state, sizeof(state), "%s/state.json", tmpdir);
	snprintf(out, sizeof(out), "%s/o.jsonl", tmpdir);
	write_text(trace, "{\"type\":\"header\",\"format\":\"vigie-trace\",\"version\":1}\n"
			  "{\"type\":\"sample\",\"ts\":100,\"db_user\":\"adv1\",\"db_rows\":10}\n"
			  "{\"type\":\"sample\",\"ts\":160,\"db_user\":\"adv1\",\"db_rows\":50000}\n");
	write_text(cfg, "{\"detection\":{\"profiles\":[{\"name\":\"a\",\"match\":"
			"{\"db_users\":[\"adv*\"]},\"per_day\":{\"db_rows\":100}}]}}\n");
	write_text(badcfg, "{\"detection\":{\"profiles\":[{\"name\":\"a\",\"match\":{},"
			   "\"per_day\":{\"db_rows\":0}}]}}\n");

	CHECK_EQ_INT(run(out, "-c", cfg, trace, NULL, NULL), REPLAY_OK);
	CHECK_EQ_INT(run(out, NULL, NULL, NULL, NULL, NULL), REPLAY_USAGE);   /* no trace */
	CHECK_EQ_INT(run(out, "--bogus", trace, NULL, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run(out, "-c", badcfg, trace, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run(out, "-c", cfg, "/nonexistent/trace", NULL, NULL), REPLAY_BAD_TRACE);
	/* two traces chained, the second (a copy: the same file twice is
	 * refused) going back in time: skipped lines */
	{
		char copy[300], *text = check_slurp(trace);

		snprintf(copy, sizeof(copy), "%s/copy.jsonl", tmpdir);
		CHECK(text != NULL);
		if (text)
			write_text(copy, text);
		CHECK_EQ_INT(run(out, "-c", cfg, trace, copy, NULL), REPLAY_SKIPPED);
		unlink(copy);
		free(text);
	}
	/* --state: created at the end, loaded the next time */
	unlink(state);
	CHECK_EQ_INT(run(out, "-c", cfg, "--state", state, trace), REPLAY_OK);
	CHECK(stat(state, &st) == 0 && st.st_size > 0);
	CHECK_EQ_INT(run(out, "-c", cfg, "--state", state, trace), REPLAY_OK);
	write_text(state, "not json");
	CHECK_EQ_INT(run(out, "-c", cfg, "--state", state, trace), REPLAY_USAGE);
}

/* replay_main with argv as given (run() removes -o's file first). */
static int run_argv(const char *a1, const char *a2, const char *a3, const char *a4,
		    const char *a5)
{
	const char *args[] = { a1, a2, a3, a4, a5 };
	char *argv[8] = { (char *)"replay", (char *)"-q" };
	int argc = 2;

	for (int i = 0; i < 5 && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	return replay_main(argc, argv);
}

/* The output, the state and the traces are files of their own: the
 * output named as a trace appended events to it, a state named as a
 * trace or as the output was saved over it. Refused (exit 2) before
 * anything is read or written; the trace keeps its bytes. */
static void test_same_files(void)
{
	char trace[300], second[300], state[300], out[300];
	char *before, *after;
	int saved, fd;
	struct stat st;

	snprintf(trace, sizeof(trace), "%s/t.jsonl", tmpdir);
	snprintf(second, sizeof(second), "%s/other-name.jsonl", tmpdir);
	snprintf(state, sizeof(state), "%s/same-state.json", tmpdir);
	snprintf(out, sizeof(out), "%s/same-out.jsonl", tmpdir);
	before = check_slurp(trace);
	CHECK(before != NULL);
	unlink(second);
	CHECK_EQ_INT(link(trace, second), 0);
	unlink(state);
	unlink(out);

	CHECK_EQ_INT(run_argv("-o", trace, trace, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run_argv("-o", second, trace, NULL, NULL), REPLAY_USAGE); /* a second name */
	CHECK_EQ_INT(run_argv("--state", trace, trace, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run_argv("-o", out, "--state", out, trace), REPLAY_USAGE);
	CHECK(stat(out, &st) != 0 && stat(state, &st) != 0); /* nothing written */
	/* standard output appended to the trace (vigie replay t >> t) */
	saved = dup(STDOUT_FILENO);
	fd = open(trace, O_WRONLY | O_APPEND);
	CHECK(saved >= 0 && fd >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	CHECK_EQ_INT(run_argv(trace, NULL, NULL, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run_argv("-o", "-", second, NULL, NULL), REPLAY_USAGE);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	after = check_slurp(trace);
	CHECK(before && after && strcmp(before, after) == 0);
	free(after);
	/* the configuration read is not written either */
	{
		char cfg[300], *cbefore, *cafter;

		snprintf(cfg, sizeof(cfg), "%s/c.json", tmpdir);
		cbefore = check_slurp(cfg);
		CHECK_EQ_INT(run_argv("-c", cfg, "-o", cfg, trace), REPLAY_USAGE);
		CHECK_EQ_INT(run_argv("-c", cfg, "--state", cfg, trace), REPLAY_USAGE);
		cafter = check_slurp(cfg);
		CHECK(cbefore && cafter && strcmp(cbefore, cafter) == 0);
		free(cbefore);
		free(cafter);
	}
	/* a trace given twice, or under a second name: its second reading went
	 * back in time, every line skipped (exit 4) */
	CHECK_EQ_INT(run_argv(trace, trace, NULL, NULL, NULL), REPLAY_USAGE);
	CHECK_EQ_INT(run_argv("-o", out, trace, second, NULL), REPLAY_USAGE);
	CHECK(stat(out, &st) != 0); /* nothing written */
	/* apart, the same files work */
	CHECK_EQ_INT(run_argv("-o", out, "--state", state, trace), REPLAY_OK);
	CHECK(stat(out, &st) == 0 && stat(state, &st) == 0 && st.st_size > 0);
	after = check_slurp(trace);
	CHECK(before && after && strcmp(before, after) == 0);
	free(after);
	free(before);
	unlink(second);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_ERROR);
	fprintf(stderr, "(error messages below are expected: bad inputs are tested)\n");
	test_golden();
	test_exit_codes();
	test_same_files();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_summary();
}
