// SPDX-License-Identifier: GPL-2.0
/*
 * vigie report: the principals gathered (report_data.h), by kind and id,
 * in creation order; ids kept as valid UTF-8, as the events write them, so
 * that an alert finds the principal its samples made.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "base/event.h"
#include "base/hash.h"
#include "view/report_data.h"

/* every sample's ids are hashed */
uint64_t rpt_hash(const char *s, size_t n)
{
	return hash_bytes(s, n, 0);
}

/* A principal's hash: its id's, told apart by kind. */
uint64_t rpt_kind_hash(int kind, uint64_t h)
{
	return h ^ ((uint64_t)(kind + 1) * 0x9e3779b97f4a7c15ull);
}

/* Copy of s[0..n) as valid UTF-8 into buf (NUL-terminated, whole
 * sequences only); its length. */
size_t rpt_utf8_copy(const char *s, size_t n, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, i = 0;

	while (i < n && u[i] < 0x80) /* the usual: ASCII */
		i++;
	if (i == n && n < size) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		return n;
	}
	i = 0;
	while (i < n) {
		size_t len = u[i] < 0x80 ? 1 : utf8_valid_len(u + i, n - i);
		const char *src = len ? s + i : "\xef\xbf\xbd"; /* U+FFFD */
		size_t out = len ? len : 3;

		if (o + out + 1 > size)
			break;
		if (out == 1)
			buf[o] = *src;
		else
			memcpy(buf + o, src, out);
		o += out;
		i += len ? len : 1;
	}
	buf[o] = '\0';
	return o;
}

char *rpt_utf8(const char *s, char *buf, size_t size)
{
	rpt_utf8_copy(s, strlen(s), buf, size);
	return buf;
}

void rpt_init(struct rpt_data *r)
{
	memset(r, 0, sizeof(*r));
	r->hour_step = 1;
	r->last_min = -1;
	r->cur_host = -1;
}

void rpt_series_free(struct rpt_series *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

void rpt_free(struct rpt_data *r)
{
	for (size_t i = 0; i < r->n_all; i++) {
		struct rpt_principal *p = r->all[i];

		for (int m = 0; m < M_MAX; m++) {
			if (p->m[m]) {
				rpt_series_free(&p->m[m]->min);
				rpt_series_free(&p->m[m]->hour);
			}
		}
		free(p->profile);
		if (p->id != p->id_inline)
			free(p->id);
		free(p);
	}
	free(r->all);
	free(r->table);
	for (size_t i = 0; i < r->names_size; i++) {
		struct rpt_name *nm = r->names[i], *next;

		for (; nm; nm = next) {
			next = nm->next;
			free(nm);
		}
	}
	free(r->names);
	for (int i = 0; i < r->n_hosts; i++) {
		free(r->hosts[i].name);
		free(r->hosts[i].cells);
	}
	for (int i = 0; i < r->n_traces; i++)
		free(r->traces[i]);
	free(r->alerts);
	free(r->eps);
	free(r->ep_hash);
	memset(r, 0, sizeof(*r));
}

/* ---- principals ---- */

static int grow_table(struct rpt_data *r)
{
	size_t n = r->table_size ? r->table_size * 2 : 1024;
	struct rpt_slot *t = calloc(n, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < r->table_size; i++) {
		size_t j = r->table[i].hash & (n - 1);

		if (!r->table[i].p)
			continue;
		while (t[j].p)
			j = (j + 1) & (n - 1);
		t[j] = r->table[i];
	}
	free(r->table);
	r->table = t;
	r->table_size = n;
	return 0;
}

/* The principal (kind, id of length n, hash of the id h0). */
struct rpt_principal *rpt_principal_find(struct rpt_data *r, enum principal_kind kind,
					 const char *id, size_t n, uint64_t h0, bool create)
{
	uint64_t h = rpt_kind_hash(kind, h0);
	struct rpt_principal *p;
	size_t j;

	for (j = h & (r->table_size - 1); r->table_size && r->table[j].p;
	     j = (j + 1) & (r->table_size - 1)) {
		p = r->table[j].p;
		if (r->table[j].hash == h && p->kind == kind && p->id_len == n &&
		    !memcmp(p->id, id, n))
			return p;
	}
	if (!create)
		return NULL;
	if (r->max_principals && r->n_all >= r->max_principals) {
		r->principals_dropped++;
		return NULL;
	}
	if ((r->n_all + 1) * 2 > r->table_size && grow_table(r))
		goto oom;
	if (r->n_all == r->cap_all) {
		size_t nc = r->cap_all ? r->cap_all * 2 : 256;
		struct rpt_principal **na = realloc(r->all, nc * sizeof(*na));

		if (!na)
			goto oom;
		r->all = na;
		r->cap_all = nc;
	}
	p = calloc(1, sizeof(*p));
	if (p && n < sizeof(p->id_inline)) {
		memcpy(p->id_inline, id, n);
		p->id = p->id_inline;
	} else if (!p || !(p->id = strndup(id, n))) {
		free(p);
		goto oom;
	}
	p->kind = kind;
	p->hash = h;
	p->id_len = n;
	p->index = (uint32_t)r->n_all;
	p->chart = RPT_NONE;
	for (j = h & (r->table_size - 1); r->table[j].p; j = (j + 1) & (r->table_size - 1))
		;
	r->table[j] = (struct rpt_slot){ .hash = h, .p = p };
	r->all[r->n_all++] = p;
	return p;
oom:
	r->oom = true;
	return NULL;
}

struct rpt_principal *rpt_principal_get(struct rpt_data *r, enum principal_kind kind,
					const char *id, bool create)
{
	size_t n = strlen(id);

	return rpt_principal_find(r, kind, id, n, rpt_hash(id, n), create);
}

struct rpt_metric *rpt_metric_of(struct rpt_data *r, struct rpt_principal *p, int m)
{
	if (!p->m[m]) { /* beside the principal: one place in memory per sample */
		p->m[m] = &p->mstore[m];
		p->m[m]->cur_min = p->m[m]->cur_hour = -1;
		p->m[m]->cur_min_normal = p->m[m]->cur_hour_normal = -1;
	}
	return p->m[m];
}

const char *rpt_intern(struct rpt_data *r, const char *s, size_t n, uint64_t h)
{
	struct rpt_name *nm;

	if (r->names_size) {
		for (nm = r->names[h & (r->names_size - 1)]; nm; nm = nm->next)
			if (nm->hash == h && nm->len == n && !memcmp(nm->s, s, n))
				return nm->s;
	}
	if ((r->n_names + 1) * 4 > r->names_size * 3) {
		size_t size = r->names_size ? r->names_size * 2 : 256;
		struct rpt_name **t = calloc(size, sizeof(*t));

		if (!t)
			goto oom;
		for (size_t i = 0; i < r->names_size; i++) {
			struct rpt_name *next;

			for (nm = r->names[i]; nm; nm = next) {
				next = nm->next;
				nm->next = t[nm->hash & (size - 1)];
				t[nm->hash & (size - 1)] = nm;
			}
		}
		free(r->names);
		r->names = t;
		r->names_size = size;
	}
	nm = malloc(sizeof(*nm) + n + 1);
	if (!nm)
		goto oom;
	nm->hash = h;
	nm->len = n;
	memcpy(nm->s, s, n);
	nm->s[n] = '\0';
	nm->next = r->names[h & (r->names_size - 1)];
	r->names[h & (r->names_size - 1)] = nm;
	r->n_names++;
	return nm->s;
oom:
	r->oom = true;
	return NULL;
}
