// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "base/rank.h"

static int cmp_rank(const void *a, const void *b)
{
	const struct rank_entry *x = a, *y = b;

	if (x->volume != y->volume)
		return x->volume > y->volume ? -1 : 1;
	return strcmp(x->name, y->name);
}

void rank_sort(struct rank_entry *r, size_t n)
{
	if (r && n > 1)
		qsort(r, n, sizeof(*r), cmp_rank);
}
