/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU flow cache of the sock-btf programs, included by vigie.bpf.c.
 *
 * Most events on a TCP socket repeat the last one: same socket, same
 * direction, same process. Each CPU keeps a small direct-mapped table of
 * such flows (socket cookie and direction pick the slot); an event that
 * finds its own slot adds to it, without building the key, classifying the
 * endpoint, hashing 40 bytes into the shared flow map or any atomic
 * instruction (a CPU's slots are only touched by programs running on that
 * CPU, and the sock tracepoints run with preemption disabled and do not
 * nest). A miss takes the full path, then takes the slot over: what the
 * slot held goes to the flow map first (count_bytes).
 *
 * A CPU's slots are one per-CPU value (struct vigie_flow_slots): an event
 * reaches its slot from the same pointer every time, one cache line fewer
 * to find than a per-CPU array of slots (one pointer per slot) needs. The
 * cache is double-buffered like the flow maps: user space swaps in the
 * spare copy (the swap waits for running programs), reads the idle copy of
 * every CPU in one call, then zeroes it. Every byte is therefore read
 * exactly once, either from a slot or from the flow map it was evicted
 * into (the cache is swapped before the flow maps, so an eviction lands in
 * a map that is read in the same drain or a later one).
 *
 * The slot's tag is the socket cookie (never reused), the direction, the
 * owner (thread group, credentials and cgroup set of the task: a process
 * that changes uid or cgroup gets a new slot), the classification
 * generation (bumped when a database port is found while running) and
 * the endpoint the key holds (a TCP socket disconnected with
 * connect(AF_UNSPEC) and connected elsewhere keeps its cookie).
 */
#ifndef VIGIE_FLOWCACHE_BPF_H
#define VIGIE_FLOWCACHE_BPF_H

struct flow_cache_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigie_flow_slots);
};

struct flow_cache_map cache_a SEC(".maps"), cache_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flow_cache_map);
} flow_cache SEC(".maps") = {
	.values = { &cache_a },
};

/* Slots used per CPU less one (limits.flow_cache_slots, a power of two up
 * to VIGIE_FLOW_CACHE_SLOTS, less one); cache_on false: no cache (0). */
const volatile __u32 cache_mask = VIGIE_FLOW_CACHE_SLOTS - 1;
const volatile bool cache_on = true;

/* Bumped by user space when a database port is found while running: slots
 * classified before it miss, and the full path classifies again. */
__u32 class_gen = 0;

static __always_inline struct vigie_flow_slot *cache_slot(__u64 cookie, bool send)
{
	__u32 idx = (__u32)(((cookie << 1 | send) * 0x9e3779b97f4a7c15ull) >> 40) & cache_mask;
	__u32 zero = 0;
	struct vigie_flow_slots *all;
	void *inner = bpf_map_lookup_elem(&flow_cache, &zero);

	if (!inner)
		return NULL;
	all = bpf_map_lookup_elem(inner, &zero);
	if (!all)
		return NULL;
	return &all->s[idx & (VIGIE_FLOW_CACHE_SLOTS - 1)];
}

/* The fast path: true when the event was this socket's cached flow (and is
 * counted, or known not counted); false: take the full path. */
static __always_inline bool cache_hit(struct sock *sk, __u64 bytes, bool send)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter; /* 0 until first asked */
	struct vigie_flow_slot *s;
	struct task_struct *t;

	if (!cache_on || !cookie)
		return false;
	s = cache_slot(cookie, send);
	if (!s || s->cookie != cookie || s->send != send || s->gen != class_gen)
		return false;
	t = bpf_get_current_task_btf();
	if (s->key.tgid != t->tgid || s->cred != (__u64)t->cred || s->css != (__u64)t->cgroups ||
	    !sock_still_at(sk, &s->key, true))
		return false;
	if (s->key.cls == VIGIE_CLASS_NOT_COUNTED) {
		if (send)
			stat_add(VIGIE_STAT_EXCLUDED, 1);
		return true;
	}
	s->c.bytes += bytes;
	s->c.ops++;
	return true;
}

/* After the full path: this event's flow takes the slot over, with the
 * event's own count (k->cls VIGIE_CLASS_NOT_COUNTED: nothing counted). The
 * previous occupant's counts go to the flow map. gen: class_gen as read
 * before the event was classified. */
static __always_inline void cache_fill(struct sock *sk, const struct vigie_flow_key *k,
				       __u64 bytes, bool send, __u32 gen)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vigie_flow_slot *s = NULL;
	__u64 cookie = 0;

	if (cache_on) {
		cookie = bpf_get_socket_cookie(sk);
		s = cache_slot(cookie, send);
	}
	if (!s) {
		if (k->cls != VIGIE_CLASS_NOT_COUNTED)
			count_bytes((struct vigie_flow_key *)k, bytes, 1);
		return;
	}
	if (s->c.ops && s->key.cls != VIGIE_CLASS_NOT_COUNTED)
		count_bytes(&s->key, s->c.bytes, s->c.ops);
	s->cookie = cookie;
	s->cred = (__u64)t->cred;
	s->css = (__u64)t->cgroups;
	s->gen = gen;
	s->send = send;
	s->key = *k;
	s->c.bytes = k->cls == VIGIE_CLASS_NOT_COUNTED ? 0 : bytes;
	s->c.ops = k->cls == VIGIE_CLASS_NOT_COUNTED ? 0 : 1;
}

/* Counting at a syscall's exit (syscalls mode, db_file): no socket cookie
 * there, the slot is picked and tagged by the whole key, resolved already
 * (cookie VIGIE_SLOT_KEYED). Same single-CPU rule: these programs run with
 * preemption disabled and no sock program nests into them. */
static __always_inline void cache_count_key(struct vigie_flow_key *k, __u64 bytes)
{
	const __u64 *w = (const __u64 *)k, *sw;
	struct vigie_flow_slot *s = NULL;
	__u64 h;

	if (cache_on) {
		h = (w[0] ^ w[1] * 0xff51afd7ed558ccdull ^ w[2] ^ w[3] * 0xc4ceb9fe1a85ec53ull ^
		     w[4]) | 1;
		s = cache_slot(h, false);
	}
	if (!s) {
		count_bytes(k, bytes, 1);
		return;
	}
	sw = (const __u64 *)&s->key;
	if (s->cookie == VIGIE_SLOT_KEYED && sw[0] == w[0] && sw[1] == w[1] && sw[2] == w[2] &&
	    sw[3] == w[3] && sw[4] == w[4]) {
		s->c.bytes += bytes;
		s->c.ops++;
		return;
	}
	if (s->c.ops && s->key.cls != VIGIE_CLASS_NOT_COUNTED)
		count_bytes(&s->key, s->c.bytes, s->c.ops);
	s->cookie = VIGIE_SLOT_KEYED;
	s->cred = 0;
	s->css = 0;
	s->gen = 0;
	s->send = 0;
	s->key = *k;
	s->c.bytes = bytes;
	s->c.ops = 1;
}

#endif
