// SPDX-License-Identifier: GPL-2.0
/* What the previous drain saw of each backend. See pgseen.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "postgres/pgseen.h"

static size_t slot_of(uint32_t tgid, size_t cap)
{
	return (size_t)(tgid * 2654435761u) & (cap - 1);
}

struct seen *seen_find(struct seen_table *t, uint32_t tgid)
{
	if (!t->cap)
		return NULL;
	for (size_t i = slot_of(tgid, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (t->v[i].tgid == tgid)
			return &t->v[i];
		if (t->v[i].tgid == 0)
			return NULL;
	}
}

static int seen_grow(struct seen_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 256;
	struct seen *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->v[i].tgid)
			continue;
		size_t j = slot_of(t->v[i].tgid, ncap);

		while (n[j].tgid)
			j = (j + 1) & (ncap - 1);
		n[j] = t->v[i];
	}
	free(t->v);
	t->v = n;
	t->cap = ncap;
	return 0;
}

struct seen *seen_add(struct seen_table *t, uint32_t tgid)
{
	size_t i;

	if ((t->len + 1) * 2 > t->cap && seen_grow(t))
		return NULL;
	i = slot_of(tgid, t->cap);
	while (t->v[i].tgid && t->v[i].tgid != tgid)
		i = (i + 1) & (t->cap - 1);
	if (!t->v[i].tgid)
		t->len++;
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->v[i].tgid = tgid;
	return &t->v[i];
}

void seen_del(struct seen_table *t, struct seen *s)
{
	size_t cap = t->cap, i = (size_t)(s - t->v), j = i;

	pg_session_free(s->sess);
	free(s->sess);
	s->sess = NULL;

	/* backward-shift deletion keeps probe chains intact */
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!t->v[j].tgid)
			break;
		size_t home = slot_of(t->v[j].tgid, cap);

		/* move j to i if home is not cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->v[i] = t->v[j];
			i = j;
		}
	}
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->len--;
}

void seen_free(struct seen_table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		pg_session_free(t->v[i].sess);
		free(t->v[i].sess);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
