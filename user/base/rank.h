/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The order top lists are given in (an alert's top processes and peers, a
 * report's contributors): larger volume first, then by name, so that the
 * same counts always give the same list.
 */
#ifndef VIGIE_RANK_H
#define VIGIE_RANK_H

#include <stddef.h>
#include <stdint.h>

struct rank_entry {
	const char *name;
	uint64_t volume;
	int idx; /* the entry's place in the caller's table */
};

void rank_sort(struct rank_entry *r, size_t n);

#endif
