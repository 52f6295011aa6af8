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

struct counters {
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

struct counters *counters_new(struct vigie_bpf *skel)
{
	struct counters *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (pair_init(&c->flows, skel->maps.flows, skel->maps.flows_a, skel->maps.flows_b,
		      sizeof(struct vigie_flow_key)) ||
	    pair_init(&c->totals, skel->maps.totals, skel->maps.totals_a, skel->maps.totals_b,
		      sizeof(struct vigie_total_key)))
		goto fail;
	c->stats_fd = bpf_map__fd(skel->maps.stats);
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		goto fail;
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
static int pair_swap(struct map_pair *mp)
{
	uint32_t zero = 0;
	int spare = !mp->active;

	if (bpf_map_update_elem(mp->outer_fd, &zero, &mp->inner_fd[spare], BPF_ANY))
		return -errno;
	mp->active = spare;
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
	uint32_t nf = 0, nt = 0;
	int err;

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
	for (uint32_t i = 0; i < nf; i++)
		fn((struct vigie_flow_key *)c->flows.keys + i, &c->flows.vals[i], false, ctx);
	for (uint32_t i = 0; i < nt; i++) {
		const struct vigie_total_key *tk = (struct vigie_total_key *)c->totals.keys + i;
		struct vigie_flow_key k = { .tgid = tk->tgid, .uid = tk->uid, .cls = tk->cls };

		fn(&k, &c->totals.vals[i], true, ctx);
	}
	return (int)(nf + nt);
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
	free(c->flows.keys);
	free(c->flows.vals);
	free(c->totals.keys);
	free(c->totals.vals);
	free(c->percpu);
	free(c);
}
