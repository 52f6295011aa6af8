/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal assertions for unit tests: print file:line, count, summarise. */
#ifndef VIGIE_CHECK_H
#define VIGIE_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (cond) {                                                          \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                              \
		}                                                                    \
	} while (0)

#define CHECK_EQ_INT(got, want)                                                      \
	do {                                                                         \
		long long g_ = (long long)(got), w_ = (long long)(want);             \
		if (g_ == w_) {                                                      \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__,     \
				__LINE__, #got, g_, w_);                             \
		}                                                                    \
	} while (0)

#define CHECK_EQ_STR(got, want)                                                      \
	do {                                                                         \
		const char *g_ = (got), *w_ = (want);                                \
		if (g_ && w_ && !strcmp(g_, w_)) {                                   \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, \
				__LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		}                                                                    \
	} while (0)

#define CHECK_NEAR(got, want, tol)                                                   \
	do {                                                                         \
		double g_ = (got), w_ = (want);                                      \
		if (g_ - w_ <= (tol) && w_ - g_ <= (tol)) {                          \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: %s = %.6g, want %.6g +- %g\n",         \
				__FILE__, __LINE__, #got, g_, w_, (double)(tol));    \
		}                                                                    \
	} while (0)

/* CHECK with a message of its own (printf format). */
#define CHECK_MSG(cond, ...)                                                         \
	do {                                                                         \
		if (cond) {                                                          \
			check_passed++;                                              \
		} else {                                                             \
			check_failed++;                                              \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);              \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
		}                                                                    \
	} while (0)

/* Whole file, NUL-terminated (malloc'ed), NULL if unreadable. */
static inline char *check_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
			buf[0] = '\0';
	}
	fclose(f);
	return buf;
}

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
