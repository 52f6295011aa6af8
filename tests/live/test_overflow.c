// SPDX-License-Identifier: GPL-2.0
/*
 * Live test: a deliberately tiny detailed map (limits.flow_entries 4) and
 * traffic to many endpoints (every connection is its own flow key) keeps
 * exact totals per pid (detailed + aggregated usage events) and reports
 * the overflow; with a tiny totals map too, the bytes that fit nowhere are
 * reported as unattributed, never silently lost. In sock mode, with the
 * per-CPU flow cache off (only the maps), of one slot (every new
 * connection evicts the last one into the maps) and of the default size.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"

static struct netns ns;
static struct spawn_opts in_ns;

#define CONNS4 40
#define BYTES4 50001
#define CONNS6 30
#define BYTES6 33333

struct multi {
	pid_t pid;
	long long sent;
	int status;
};

static struct multi multisend(const char *host, int conns, int bytes)
{
	struct multi m = { 0 };
	struct child sink;
	char c[16], b[16], p[16];
	int port;

	snprintf(c, sizeof(c), "%d", conns);
	snprintf(b, sizeof(b), "%d", bytes);
	port = tg_server(&sink, &in_ns, "sink", "0", "::", c, NULL);
	if (port < 0) {
		m.status = -1;
		return m;
	}
	snprintf(p, sizeof(p), "%d", port);
	m.status = tg_run(&m.pid, &m.sent, NULL, "multisend", host, p, c, b, "8192", NULL);
	if (child_read_value(&sink, "received", 10000) != (long long)conns * bytes)
		m.status = -2;
	child_wait(&sink, 5000);
	return m;
}

/* mode: --probes; cache: limits.flow_cache_slots, -1 for the default (the
 * cache then holds most connections: whether one of them reaches the 4-entry
 * map depends on where its cookie hashes, so only exact totals are expected;
 * 0 or 1 slot sends the 40 connections to the map and overflows it). */
static void run_mode(const char *probes, int cache)
{
	char config[128], label[64];
	const char *mode = label; /* in every message */
	bool overflow = cache >= 0; /* expected */
	struct multi m4, m6;
	struct vigie v;
	struct events ev;
	json_t *stop, *hb;
	char msg[200];
	size_t n_agg, n_det;
	uint64_t agg, det;
	struct usage_filter only_agg = { .aggregated = 1 }, only_det = { .aggregated = -1 };

	if (cache >= 0) {
		snprintf(config, sizeof(config),
			 "{\"limits\": {\"flow_entries\": 4, \"flow_cache_slots\": %d}}", cache);
		snprintf(label, sizeof(label), "%s, cache %d", probes, cache);
	} else {
		snprintf(config, sizeof(config), "{\"limits\": {\"flow_entries\": 4}}");
		snprintf(label, sizeof(label), "%s", probes);
	}
	live_section("overflow, flow_entries 4, --probes %s", label);
	if (vigie_start(&v, config, "--probes", probes, "--tick", "0.2", "--heartbeat", "0.5",
			NULL)) {
		CHECK(0, "vigie started with limits.flow_entries 4");
		return;
	}
	m4 = multisend(ns.ns_ip, CONNS4, BYTES4);
	ASSERT_EQ_INT(m4.status, 0, "40 IPv4 connections done");
	m6 = multisend(ns.ns_ip6, CONNS6, BYTES6);
	ASSERT_EQ_INT(m6.status, 0, "30 IPv6 connections done");
	usleep(600000); /* a heartbeat */
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return;
	ASSERT_EQ_U64(ev.bad_lines, 0, "output lines that are not JSON objects");

	snprintf(msg, sizeof(msg), "[%s] pid %d, %d connections x %d bytes: total egress", mode,
		 m4.pid, CONNS4, BYTES4);
	ASSERT_EQ_U64(usage_bytes(&ev, m4.pid, "egress", NULL), (uint64_t)CONNS4 * BYTES4, msg);
	agg = usage_sum(&ev, m4.pid, "egress", &only_agg, NULL, &n_agg);
	det = usage_sum(&ev, m4.pid, "egress", &only_det, NULL, &n_det);
	live_log("pid %d: %zu detailed events (%llu bytes), %zu aggregated (%llu bytes)", m4.pid,
		 n_det, (unsigned long long)det, n_agg, (unsigned long long)agg);
	snprintf(msg, sizeof(msg), "[%s] some of it came from the coarse map (vigie.aggregated)",
		 mode);
	if (overflow)
		ASSERT_GT_U64(agg, 0, msg);
	snprintf(msg, sizeof(msg), "[%s] pid %d, %d IPv6 connections x %d bytes: total egress",
		 mode, m6.pid, CONNS6, BYTES6);
	ASSERT_EQ_U64(usage_bytes(&ev, m6.pid, "egress", NULL), (uint64_t)CONNS6 * BYTES6, msg);
	if (overflow) {
		json_t *e = NULL;

		for (size_t i = 0; i < ev.n && !e; i++)
			if (jint(ev.ev[i], "process.pid", 0) == m4.pid &&
			    json_is_true(jpath(ev.ev[i], "vigie.aggregated")))
				e = ev.ev[i];
		snprintf(msg, sizeof(msg), "[%s] aggregated event keeps the process name", mode);
		ASSERT_EQ_STR(e ? jstr(e, "process.name") : NULL, "trafficgen", msg);
		snprintf(msg, sizeof(msg), "[%s] aggregated event has no endpoint", mode);
		ASSERT_TRUE(e && !jpath(e, "destination.ip"), msg);
	}
	stop = events_find_last(&ev, "sensor-stop");
	ASSERT_TRUE(stop != NULL, "sensor-stop written");
	snprintf(msg, sizeof(msg), "[%s] sensor-stop vigie.stats.flow_fallbacks > 0", mode);
	if (overflow)
		ASSERT_GT_U64(stop ? jint(stop, "vigie.stats.flow_fallbacks", 0) : 0, 0, msg);
	snprintf(msg, sizeof(msg), "[%s] sensor-stop vigie.stats.failed_inserts", mode);
	ASSERT_EQ_U64(stop ? jint(stop, "vigie.stats.failed_inserts", -1) : 1, 0, msg);
	snprintf(msg, sizeof(msg), "[%s] sensor-stop unattributed egress bytes", mode);
	ASSERT_EQ_U64(stop ? jint(stop, "vigie.stats.unattributed_bytes.egress", -1) : 1, 0, msg);
	snprintf(msg, sizeof(msg), "[%s] sensor-stop map_capacity", mode);
	ASSERT_EQ_U64(stop ? jint(stop, "vigie.stats.map_capacity", -1) : 0, 4, msg);
	hb = events_find(&ev, "heartbeat");
	snprintf(msg, sizeof(msg), "[%s] a heartbeat with vigie.stats", mode);
	ASSERT_TRUE(hb && jpath(hb, "vigie.stats.flow_fallbacks"), msg);
	/* the detailed map was full in some tick: its peak is its capacity */
	if (overflow) {
		long long peak = 0;

		for (size_t i = 0; i < ev.n; i++) {
			const char *a = jstr(ev.ev[i], "event.action");

			if (a && (!strcmp(a, "heartbeat") || !strcmp(a, "sensor-stop")) &&
			    jint(ev.ev[i], "vigie.stats.map_entries_peak", 0) > peak)
				peak = jint(ev.ev[i], "vigie.stats.map_entries_peak", 0);
		}
		snprintf(msg, sizeof(msg), "[%s] map_entries_peak reached the capacity", mode);
		ASSERT_EQ_U64(peak, 4, msg);
	}
	live_log("sensor-stop stats: flow_fallbacks %lld, failed_inserts %lld",
		 stop ? jint(stop, "vigie.stats.flow_fallbacks", -1) : -1,
		 stop ? jint(stop, "vigie.stats.failed_inserts", -1) : -1);
	events_free(&ev);
}

/* Both maps tiny: whatever fits nowhere is in unattributed_bytes. */
static void run_both_tiny(void)
{
	struct multi m;
	struct vigie v;
	struct events ev;
	json_t *stop;
	uint64_t counted, lost;

	live_section("overflow, flow_entries 1 and total_entries 1");
	if (vigie_start(&v, "{\"limits\": {\"flow_entries\": 1, \"total_entries\": 1, "
			"\"flow_cache_slots\": 1}}", "--tick", "0.2", NULL)) {
		CHECK(0, "vigie started with both maps of 1 entry");
		return;
	}
	m = multisend(ns.ns_ip, 20, 40009);
	ASSERT_EQ_INT(m.status, 0, "20 connections done");
	ASSERT_EQ_INT(vigie_stop(&v), 0, "vigie exit status");
	if (events_load(&ev, v.out_path))
		return;
	stop = events_find_last(&ev, "sensor-stop");
	counted = usage_bytes(&ev, m.pid, "egress", NULL);
	lost = stop ? (uint64_t)jint(stop, "vigie.stats.unattributed_bytes.egress", 0) : 0;
	live_log("pid %d: %llu bytes in usage events, %llu unattributed (all processes), %lld "
		 "failed inserts", m.pid, (unsigned long long)counted, (unsigned long long)lost,
		 stop ? jint(stop, "vigie.stats.failed_inserts", -1) : -1);
	CHECK(counted <= 20ull * 40009, "usage bytes of pid (%llu) <= sent (%llu)",
	      (unsigned long long)counted, 20ull * 40009);
	CHECK(counted + lost >= 20ull * 40009,
	      "usage bytes of pid + unattributed bytes (%llu) >= sent (%llu): nothing silently lost",
	      (unsigned long long)(counted + lost), 20ull * 40009);
	events_free(&ev);
}

int main(void)
{
	live_init("overflow");
	if (netns_create(&ns, "ovf", 14)) {
		CHECK(0, "network namespace created");
		return live_finish();
	}
	in_ns.netns = ns.name;
	run_mode("sock", 0);
	run_mode("sock", 1);
	run_mode("sock", -1);
	run_mode("syscalls", 1);
	run_mode("syscalls", -1);
	run_both_tiny();
	netns_destroy(&ns);
	return live_finish();
}
