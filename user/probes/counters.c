// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vigie.skel.h"
#include "probes/counters.h"
#include "base/log.h"

struct map_pair {
	int outer_fd;
	int inner_fd[2];
	int active; /* index of the inner map the kernel writes to */
	uint32_t capacity;
	size_t key_size;
	void *keys;
	struct vigie_counter *vals;
	bool batch_ok;
};

/* The per-CPU flow cache (bpf/flowcache.bpf.h), double-buffered too. */
struct cache_pair {
	bool on;                      /* the sock-btf programs are loaded */
	int outer_fd;
	int inner_fd[2];
	int active;
	uint32_t slots;                /* used per CPU */
	struct vigie_flow_slots *vals; /* every CPU's slots */
	struct vigie_flow_slots *zero;
};

struct counters {
	struct cache_pair cache;
	struct map_pair flows;
	struct map_pair totals;
	int stats_fd;
	int ncpus;
	uint64_t *percpu;
	uint32_t last_flows;
};

static int pair_init(struct map_pair *mp, struct bpf_map *outer, struct bpf_map *a,
		     struct bpf_map *b, size_t key_size)
{
	mp->outer_fd = bpf_map__fd(outer);
	mp->inner_fd[0] = bpf_map__fd(a);
	mp->inner_fd[1] = bpf_map__fd(b);
	mp->active = 0; /* the object's initial value: slot 0 holds map a */
	mp->capacity = bpf_map__max_entries(a);
	mp->key_size = key_size;
	mp->keys = calloc(mp->capacity, key_size);
	mp->vals = calloc(mp->capacity, sizeof(*mp->vals));
	mp->batch_ok = true;
	return mp->keys && mp->vals ? 0 : -ENOMEM;
}

static int cache_init(struct cache_pair *cp, struct vigie_bpf *skel, int ncpus)
{
	struct bpf_program *prog;

	/* its users: the sock-btf programs and the syscall exit programs */
	cp->on = false;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		if (bpf_program__autoload(prog) &&
		    (!strncmp(name, "sock_", 5) || !strncmp(name, "sys_", 4)))
			cp->on = true;
	}
	cp->on = cp->on && skel->rodata->cache_on;
	cp->slots = skel->rodata->cache_mask + 1;
	cp->outer_fd = bpf_map__fd(skel->maps.flow_cache);
	cp->inner_fd[0] = bpf_map__fd(skel->maps.cache_a);
	cp->inner_fd[1] = bpf_map__fd(skel->maps.cache_b);
	cp->active = 0;
	cp->vals = calloc((size_t)ncpus, sizeof(*cp->vals));
	cp->zero = calloc((size_t)ncpus, sizeof(*cp->zero));
	return cp->vals && cp->zero ? 0 : -ENOMEM;
}

struct counters *counters_new(struct vigie_bpf *skel)
{
	struct counters *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0 || cache_init(&c->cache, skel, c->ncpus))
		goto fail;
	if (pair_init(&c->flows, skel->maps.flows, skel->maps.flows_a, skel->maps.flows_b,
		      sizeof(struct vigie_flow_key)) ||
	    pair_init(&c->totals, skel->maps.totals, skel->maps.totals_a, skel->maps.totals_b,
		      sizeof(struct vigie_total_key)))
		goto fail;
	c->stats_fd = bpf_map__fd(skel->maps.stats);
	c->percpu = calloc((size_t)c->ncpus, sizeof(uint64_t));
	if (!c->percpu)
		goto fail;
	return c;
fail:
	counters_free(c);
	return NULL;
}

/* Point the kernel at the spare map; returns when no program still uses
 * the old one (map-in-map updates wait for an RCU grace period). */
static int outer_swap(int outer_fd, const int inner_fd[2], int *active)
{
	uint32_t zero = 0;
	int spare = !*active;

	if (bpf_map_update_elem(outer_fd, &zero, &inner_fd[spare], BPF_ANY))
		return -errno;
	*active = spare;
	return 0;
}

static int pair_swap(struct map_pair *mp)
{
	return outer_swap(mp->outer_fd, mp->inner_fd, &mp->active);
}

/* Deliver every counted slot of the idle cache (every CPU's, read in one
 * call) and zero it when a slot was in use, so that the copy starts empty
 * when it is active again. */
static int cache_read_idle(struct counters *c, int fd, counter_fn fn, void *ctx, int *n_out)
{
	struct cache_pair *cp = &c->cache;
	uint32_t zero = 0;
	bool used = false;
	int n = 0;

	if (bpf_map_lookup_elem(fd, &zero, cp->vals))
		return -errno;
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		for (uint32_t i = 0; i < cp->slots; i++) {
			const struct vigie_flow_slot *s = &cp->vals[cpu].s[i];

			if (!s->cookie)
				continue;
			used = true;
			if (s->key.cls == VIGIE_CLASS_NOT_COUNTED || !s->c.ops)
				continue;
			fn(&s->key, &s->c, false, ctx);
			n++;
		}
	}
	if (used && bpf_map_update_elem(fd, &zero, cp->zero, BPF_ANY))
		return -errno;
	*n_out = n;
	return 0;
}

/* Read and delete every entry of an idle map. */
static int pair_read_idle(struct map_pair *mp, int fd, uint32_t *n_out)
{
	uint32_t total = 0;

	if (mp->batch_ok) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		uint64_t in_batch = 0, out_batch = 0;
		bool first = true;

		for (;;) {
			uint32_t count = mp->capacity - total;
			int err;

			if (count == 0)
				break;
			err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in_batch, &out_batch,
							      (char *)mp->keys + total * mp->key_size,
							      mp->vals + total, &count, &opts);
			err = err ? -errno : 0;
			total += count;
			first = false;
			if (err == -ENOENT)
				break;
			if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) {
				if (total == 0) {
					log_info("batch map operations unavailable; reading one by one");
					mp->batch_ok = false;
					break;
				}
				return err;
			}
			if (err)
				return err;
			in_batch = out_batch;
		}
		if (mp->batch_ok) {
			*n_out = total;
			return 0;
		}
	}
	/* One by one; the map is idle, so this is exact as well. */
	while (total < mp->capacity) {
		char *key = (char *)mp->keys + total * mp->key_size;

		if (bpf_map_get_next_key(fd, NULL, key))
			break;
		if (bpf_map_lookup_elem(fd, key, &mp->vals[total]) == 0)
			total++;
		bpf_map_delete_elem(fd, key);
	}
	*n_out = total;
	return 0;
}

int counters_drain(struct counters *c, counter_fn fn, void *ctx)
{
	int old_flows = c->flows.inner_fd[c->flows.active];
	int old_totals = c->totals.inner_fd[c->totals.active];
	int old_cache = c->cache.inner_fd[c->cache.active];
	uint32_t nf = 0, nt = 0;
	int nc = 0, err = 0;

	/* The cache first: its evictions go to the flow map still active,
	 * which is swapped and read below. */
	if (c->cache.on)
		err = outer_swap(c->cache.outer_fd, c->cache.inner_fd, &c->cache.active);
	if (!err)
		err = pair_swap(&c->totals);
	if (!err)
		err = pair_swap(&c->flows);
	if (err) {
		log_error("cannot swap counter maps: %s", strerror(-err));
		return err;
	}
	err = pair_read_idle(&c->flows, old_flows, &nf);
	if (!err)
		err = pair_read_idle(&c->totals, old_totals, &nt);
	if (err) {
		log_error("cannot read counter maps: %s", strerror(-err));
		return err;
	}
	c->last_flows = nf;
	if (c->cache.on) {
		err = cache_read_idle(c, old_cache, fn, ctx, &nc);
		if (err) {
			log_error("cannot read the flow cache: %s", strerror(-err));
			return err;
		}
	}
	for (uint32_t i = 0; i < nf; i++)
		fn((struct vigie_flow_key *)c->flows.keys + i, &c->flows.vals[i], false, ctx);
	for (uint32_t i = 0; i < nt; i++) {
		const struct vigie_total_key *tk = (struct vigie_total_key *)c->totals.keys + i;
		struct vigie_flow_key k = { .tgid = tk->tgid, .uid = tk->uid, .cls = tk->cls };

		fn(&k, &c->totals.vals[i], true, ctx);
	}
	return (int)(nf + nt) + nc;
}

int counters_stats(struct counters *c, uint64_t out[VIGIE_STAT_MAX])
{
	for (uint32_t i = 0; i < VIGIE_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(c->stats_fd, &i, c->percpu))
			return -errno;
		for (int cpu = 0; cpu < c->ncpus; cpu++)
			out[i] += c->percpu[cpu];
	}
	return 0;
}

uint32_t counters_last_flows(const struct counters *c) { return c->last_flows; }
uint32_t counters_capacity(const struct counters *c) { return c->flows.capacity; }

void counters_free(struct counters *c)
{
	if (!c)
		return;
	free(c->cache.vals);
	free(c->cache.zero);
	free(c->flows.keys);
	free(c->flows.vals);
	free(c->totals.keys);
	free(c->totals.vals);
	free(c->percpu);
	free(c);
}
