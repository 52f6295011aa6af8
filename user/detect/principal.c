// SPDX-License-Identifier: GPL-2.0
/*
 * Principals: the hash table (by kind and id, 8-byte-at-a-time hash),
 * profile matching and allow-lists, top contributors, forgetting idle
 * principals (docs/detection.md).
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/hash.h"
#include "detect/detect_int.h"
#include "base/log.h"

/* ---- principals ---- */

/* ids are hashed for every sample */
uint64_t principal_hash(enum principal_kind kind, const char *id)
{
	return hash_bytes(id, strlen(id), (uint64_t)kind << 56);
}

static bool match_list(const struct detect_pattern_list *l, const char *s)
{
	if (!s || !*s)
		return false;
	for (int i = 0; i < l->n; i++)
		if (fnmatch(l->pat[i], s, 0) == 0)
			return true;
	return false;
}

static bool match_user(const struct detect_profile *pr, const char *name, int64_t uid)
{
	if (match_list(&pr->users, name) || match_list(&pr->group_members, name))
		return true;
	for (int i = 0; uid >= 0 && i < pr->n_uids; i++)
		if (uid >= pr->uids[i].lo && uid <= pr->uids[i].hi)
			return true;
	return false;
}

/* Process ids are "exe@user": split at the last '@'. */
static void split_process(const char *id, char *exe, size_t exe_len, const char **user)
{
	const char *at = strrchr(id, '@');
	size_t n = at ? (size_t)(at - id) : strlen(id);

	if (n >= exe_len)
		n = exe_len - 1;
	memcpy(exe, id, n);
	exe[n] = '\0';
	*user = at ? at + 1 : "";
}

static bool profile_matches(const struct detect_profile *pr, enum principal_kind kind,
			    const char *id, int64_t uid)
{
	char exe[TRACE_EXE_LEN + 32];
	const char *user;

	switch (kind) {
	case PK_USER:
		return match_user(pr, strncmp(id, "uid:", 4) ? id : "", uid);
	case PK_DB_USER:
		return match_list(&pr->db_users, id);
	case PK_PROCESS:
		split_process(id, exe, sizeof(exe), &user);
		return match_list(&pr->exes, exe) ||
		       match_user(pr, strncmp(user, "uid:", 4) ? user : "", uid);
	case PK_PEER:
		return match_list(&pr->peers, id);
	case PK_APP_USER:
		return match_list(&pr->app_users, id);
	default:
		return false;
	}
}

static int profile_of(const struct detect_config *cfg, enum principal_kind kind, const char *id,
		      int64_t uid)
{
	for (int i = 0; i < cfg->n_profiles; i++)
		if (profile_matches(&cfg->profiles[i], kind, id, uid))
			return i;
	return -1;
}

static bool allowed(const struct detect_config *cfg, int profile, enum principal_kind kind,
		    const char *id)
{
	char key[TRACE_EXE_LEN + 128];

	snprintf(key, sizeof(key), "%s:%s", principal_kind_name(kind), id);
	return (profile >= 0 && !cfg->profiles[profile].alert) || match_list(&cfg->allow, key);
}

bool detect_allowed(const struct detect_config *cfg, enum principal_kind kind, const char *id,
		    int64_t uid)
{
	return allowed(cfg, profile_of(cfg, kind, id, uid), kind, id);
}

static void classify(struct detector *d, struct principal *p)
{
	p->profile = profile_of(&d->cfg, p->kind, p->id, p->uid);
	p->allowed = allowed(&d->cfg, p->profile, p->kind, p->id);
}

static int grow_table(struct detector *d)
{
	size_t n = d->table_size ? d->table_size * 2 : 1024;
	struct principal **t = calloc(n, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < d->table_size; i++) {
		struct principal *p = d->table[i], *next;

		for (; p; p = next) {
			next = p->next;
			p->next = t[p->hash & (n - 1)];
			t[p->hash & (n - 1)] = p;
		}
	}
	free(d->table);
	d->table = t;
	d->table_size = n;
	return 0;
}

int detect_push_ptr(void ***arr, size_t *n, size_t *cap, void *v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		void **na = realloc(*arr, nc * sizeof(void *));

		if (!na)
			return -1;
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

static struct principal *new_principal(struct detector *d, enum principal_kind kind,
				       const char *id, uint64_t h, int64_t uid)
{
	struct principal *p;

	if (d->n_all >= d->cfg.max_principals) {
		d->sum.principals_dropped++;
		if (!d->warned_full)
			log_warn("detection: more than %u principals, new ones are not tracked "
				 "(detection.max_principals)", d->cfg.max_principals);
		d->warned_full = true;
		return NULL;
	}
	if ((d->n_all + 1) * 4 > d->table_size * 3 && grow_table(d))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->id = strdup(id)) ||
	    detect_push_ptr((void ***)&d->all, &d->n_all, &d->cap_all, p)) {
		if (p)
			free(p->id);
		free(p);
		return NULL;
	}
	p->index = d->n_all - 1;
	p->kind = kind;
	p->hash = h;
	p->seq = ++d->principal_seq;
	p->uid = uid;
	p->rate_hour = -1;
	p->contrib_hour = -1;
	for (int i = 0; i < N_CONTRIB; i++)
		p->procs[i].pid = p->peers[i].pid = -1;
	classify(d, p);
	p->next = d->table[h & (d->table_size - 1)];
	d->table[h & (d->table_size - 1)] = p;
	return p;
}

struct principal *principal_lookup(struct detector *d, enum principal_kind kind, const char *id,
				uint64_t h, int64_t uid, bool create)
{
	struct principal *p;

	if (d->table_size) {
		for (p = d->table[h & (d->table_size - 1)]; p; p = p->next)
			if (p->hash == h && p->kind == kind && strcmp(p->id, id) == 0)
				return p;
	}
	if (!create)
		return NULL;
	if (!d->table_size && grow_table(d))
		return NULL;
	return new_principal(d, kind, id, h, uid);
}

struct principal *detector_principal(struct detector *d, enum principal_kind kind,
				     const char *id, int64_t uid, bool create)
{
	return principal_lookup(d, kind, id, principal_hash(kind, id), uid, create);
}

struct metric_state *principal_metric(struct principal *p, int metric)
{
	if (!p->m[metric]) {
		p->m[metric] = calloc(1, sizeof(struct metric_state));
		if (p->m[metric]) {
			mwin_init(&p->m[metric]->win);
			memset(p->m[metric]->group_bucket, -1, sizeof(p->m[metric]->group_bucket));
		}
	}
	return p->m[metric];
}

struct group *principal_group(struct detector *d, const struct principal *p)
{
	if (!d->groups)
		return NULL;
	return &d->groups[(p->profile >= 0 ? p->profile : d->cfg.n_profiles) * PK_MAX + p->kind];
}

void principal_free(struct principal *p)
{
	for (int m = 0; m < M_MAX; m++) {
		if (p->m[m])
			free(p->m[m]->ep);
		free(p->m[m]);
	}
	free(p->db_user);
	free(p->id);
	free(p);
}


/* ---- contributors ---- */

/* Contributors are told apart by a 64-bit hash of their name. */
void principal_contrib_add(struct contrib *t, uint8_t *last, const char *name, uint64_t h,
			int64_t pid, const uint64_t *vals)
{
	int slot = -1, min = 0;
	uint64_t minv = UINT64_MAX;

	if (t[*last].hash == h && t[*last].name[0])
		slot = *last;
	for (int i = 0; i < N_CONTRIB && slot < 0; i++) {
		uint64_t tot = 0;

		if (t[i].hash == h && t[i].name[0]) {
			slot = i;
			break;
		}
		for (int m = 0; m < M_MAX; m++)
			tot = sat_add(tot, t[i].vol[m]);
		if (!t[i].name[0])
			tot = 0;
		if (tot < minv) {
			minv = tot;
			min = i;
		}
	}
	if (slot < 0) { /* space saving: replace the smallest, keep its count */
		slot = min;
		snprintf(t[slot].name, sizeof(t[slot].name), "%s", name);
		t[slot].hash = h;
	}
	*last = (uint8_t)slot;
	t[slot].pid = pid;
	for (int m = 0; m < M_MAX; m++)
		t[slot].vol[m] = sat_add(t[slot].vol[m], vals[m]);
}

void principal_contrib_decay(struct principal *p, uint64_t ts)
{
	int64_t hour = (int64_t)(ts / NS_PER_HOUR);

	if (p->contrib_hour == hour)
		return;
	for (int i = 0; i < N_CONTRIB; i++) {
		for (int m = 0; m < M_MAX; m++) {
			p->procs[i].vol[m] /= 2;
			p->peers[i].vol[m] /= 2;
		}
	}
	p->contrib_hour = hour;
}

/* ---- forgetting idle principals ---- */

static void unlink_principal(struct detector *d, struct principal *p)
{
	struct principal **pp = &d->table[p->hash & (d->table_size - 1)];

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
}

static bool has_episode(const struct principal *p)
{
	for (int m = 0; m < M_MAX; m++)
		if (p->m[m] && p->m[m]->ep)
			return true;
	return false;
}

void principals_expire_idle(struct detector *d)
{
	uint64_t limit = (uint64_t)d->cfg.idle_expiry_days * NS_PER_DAY;
	size_t o = 0;

	if (d->now_ns < limit)
		return;
	for (size_t i = 0; i < d->n_all; i++) {
		struct principal *p = d->all[i];

		if (p->last_seen_ns + limit < d->now_ns && !has_episode(p) && !p->in_dirty) {
			group_leave(d, p);
			unlink_principal(d, p);
			principal_free(p);
			continue;
		}
		p->index = o;
		d->all[o++] = p;
	}
	d->n_all = o;
}

