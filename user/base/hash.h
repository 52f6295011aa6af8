/* SPDX-License-Identifier: GPL-2.0 */
/* A fast 64-bit hash of a byte string (8 bytes a step), for the names the
 * detector and the report hash for every sample. Not for anything an
 * attacker's collisions could hurt beyond a slower table probe. */
#ifndef VIGIE_HASH_H
#define VIGIE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* seed tells apart strings of different kinds (0: none). */
static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ seed ^ n, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, s + i, n - i);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

#endif
