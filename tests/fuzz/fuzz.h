/* SPDX-License-Identifier: GPL-2.0 */
/* libFuzzer harnesses of Vigie's parsers of outside input (docs/fuzzing.md).
 * Each defines LLVMFuzzerTestOneInput; FUZZ_CHECK aborts (a finding) when an
 * invariant of the parser does not hold. */
#ifndef VIGIE_FUZZ_H
#define VIGIE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,     \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'ed). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Detection events are not what these harnesses look at. */
static inline void fuzz_drop_event(json_t *ev, void *ctx)
{
	(void)ctx;
	json_decref(ev);
}

/* A whole file (malloc'ed, NUL-terminated), NULL if unreadable. */
static inline char *fuzz_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

#endif
