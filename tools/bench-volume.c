// SPDX-License-Identifier: GPL-2.0
/*
 * bench-volume: bytes of usage events a SIEM receives in one normal working
 * day of a database server, with one event per flow (sensor.usage_detail
 * "flow") and summarised per principal (the default), side by side.
 *
 * The day goes through the daemon's own usage code (usage_add,
 * usage_add_rows, usage_add_app_users, usage_flush every usage interval),
 * as the drain feeds it, with the built-in settings. The population is
 * drawn from a seed: ADVISORS advisors (default 2,300) with their own
 * database account, each working from a random start (07:30-09:30) to a
 * random end (16:00-18:30) with a lunch break, one lookup every few
 * minutes (exponential gaps, a personal mean of 2-8 minutes), each lookup a
 * new connection (a new backend and client port, as psql or a partner
 * application does) returning a few records (log-normal, median 8); a third
 * of them reach the server through a portal's pool of 20 connections
 * instead (application users); plus the server's own services: an hourly
 * synchronisation job (20,000 records), a nightly pg_dump (2 GB), a
 * monitoring agent and a log shipper sending a little every minute.
 *
 * Usage: bench-volume [--advisors N] [--seed S] [--days D]
 * Prints both volumes per day and the ratio; exits 0 unless something
 * broke. A benchmark, never a test.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/config.h"
#include "base/event.h"
#include "base/identity.h"
#include "output/output.h"
#include "postgres/pgsession.h"
#include "sensor/usage.h"

#define DAY_S 86400
#define POOL 20

struct advisor {
	char account[32];
	double start_s, end_s, lunch_s, lunch_len_s;
	double mean_gap_s, next_s;
	bool portal;
	uint32_t client_ip;
};

static uint64_t rng_state;

static double uniform(void)
{
	/* splitmix64: fixed sequence per seed */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((z >> 11) + 0.5) / 9007199254740992.0;
}

static double expo(double mean) { return -mean * log(uniform()); }

static double lognormal(double median, double sigma)
{
	double u1 = uniform(), u2 = uniform();

	return median * exp(sigma * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

static struct identity *ident(uint32_t pid, uint32_t uid, const char *comm, const char *exe,
			      const char *db_user, uint32_t client_ip, uint16_t client_port)
{
	struct identity *id = calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	id->refs = 1;
	id->pid = pid;
	id->uid = uid;
	id->loginuid = VIGIE_LOGINUID_UNSET;
	snprintf(id->comm, sizeof(id->comm), "%s", comm);
	id->exe = strdup(exe);
	id->complete = true;
	if (db_user) {
		id->db_user = strdup(db_user);
		id->db_name = strdup("fichier");
		inet_ntop(AF_INET, &client_ip, id->client_ip, sizeof(id->client_ip));
		id->client_port = client_port;
	}
	return id;
}

static void flow(struct usage *u, struct identity *id, uint8_t cls, uint32_t ip, uint16_t rport,
		 uint16_t lport, uint64_t bytes)
{
	struct vigie_flow_key k = { .tgid = id->pid, .uid = id->uid, .cls = cls, .proto = 6,
				    .family = AF_INET, .rport = rport, .lport = lport };
	struct vigie_counter v = { .bytes = bytes, .ops = 1 + bytes / 8192 };

	memcpy(k.raddr, &ip, 4);
	usage_add(u, &k, &v, false, id);
}

struct day_result {
	unsigned long long bytes, events;
	double seconds;
};

/* One day through the usage code with cfg; the population from seed. */
static int run_day(const struct vigie_config *cfg, int n_adv, uint64_t seed, int days,
		   struct day_result *res)
{
	const char *pg = "/usr/lib/postgresql/15/bin/postgres";
	char path[] = "/tmp/vigie-bench-volume-XXXXXX";
	struct advisor *adv = calloc((size_t)n_adv, sizeof(*adv));
	struct identity *pool[POOL] = { 0 }, *agent = NULL, *shipper = NULL;
	struct usage *u = usage_new(cfg, NULL, 0);
	struct output *out = NULL;
	uint64_t t0 = 1795392000ull * 1000000000ull; /* a Monday, 00:00 UTC */
	uint32_t next_pid = 100000;
	uint16_t next_port = 20000;
	struct timespec ta, tb;
	struct stat st;
	int fd = mkstemp(path), err = -1;
	long long written = 0;

	if (fd < 0 || !adv || !u)
		goto out;
	close(fd);
	out = output_open(path);
	if (!out)
		goto out;
	rng_state = seed;
	for (int i = 0; i < n_adv; i++) {
		struct advisor *v = &adv[i];

		snprintf(v->account, sizeof(v->account), "cns%05d%c", (i * 7919) % 100000,
			 'a' + (int)(uniform() * 26));
		v->start_s = 7.5 * 3600 + uniform() * 2 * 3600;
		v->end_s = 16 * 3600 + uniform() * 2.5 * 3600;
		v->lunch_s = 11.75 * 3600 + uniform() * 1.5 * 3600;
		v->lunch_len_s = 45 * 60 + uniform() * 45 * 60;
		v->mean_gap_s = 120 + uniform() * 360;
		v->next_s = v->start_s + expo(v->mean_gap_s);
		v->portal = uniform() < 1.0 / 3;
		v->client_ip = htonl(0x0a140000u + (uint32_t)i + 1); /* 10.20.x.y */
	}
	for (int i = 0; i < POOL; i++)
		pool[i] = ident(next_pid++, 106, "postgres", pg, "portail", htonl(0x0a1e0002u),
				(uint16_t)(41000 + i));
	agent = ident(900, 0, "node_exporter", "/usr/bin/prometheus-node-exporter", NULL, 0, 0);
	shipper = ident(901, 0, "filebeat", "/usr/share/filebeat/bin/filebeat", NULL, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &ta);
	for (int d = 0; d < days; d++) {
		for (int m = 0; m < 1440; m++) {
			double from = m * 60.0, to = from + 60;
			uint64_t start = t0 + ((uint64_t)d * DAY_S + (uint64_t)from) * 1000000000ull;
			uint64_t end = start + 60ull * 1000000000ull;
			int n;

			for (int i = 0; i < n_adv; i++) {
				struct advisor *v = &adv[i];

				while (v->next_s < to) {
					double t = v->next_s;
					uint64_t recs = (uint64_t)lognormal(8, 1.0) + 1;
					uint64_t bytes = recs * (150 + (uint64_t)(uniform() * 250)) + 400;

					v->next_s += expo(v->mean_gap_s);
					if (t < from || t > v->end_s ||
					    (t > v->lunch_s && t < v->lunch_s + v->lunch_len_s))
						continue;
					if (recs > 5000)
						recs = 5000;
					if (v->portal) {
						struct identity *b = pool[(int)(uniform() * POOL)];
						char app[64];
						struct pg_segment s;

						snprintf(app, sizeof(app), "portail/%s", v->account);
						memset(&s, 0, sizeof(s));
						s.app.set = true;
						snprintf(s.app.s, sizeof(s.app.s), "%s", app);
						s.records = recs;
						s.bytes = bytes;
						flow(u, b, VIGIE_CLASS_DB_SERVER, htonl(0x0a1e0002u),
						     b->client_port, 5432, bytes);
						usage_add_app_users(u, b, &s, 1);
						usage_add_rows(u, b, recs, 0, 0, 0);
					} else {
						struct identity *b = ident(next_pid++, 106, "postgres", pg,
									   v->account, v->client_ip,
									   next_port);

						if (!b)
							goto out;
						flow(u, b, VIGIE_CLASS_DB_SERVER, v->client_ip, next_port,
						     5432, bytes);
						usage_add_rows(u, b, recs, 0, 0, 0);
						identity_put(b);
						next_port = next_port >= 60000 ? 20000 : next_port + 1;
					}
				}
			}
			if (m % 60 == 5) { /* the hourly synchronisation job */
				struct identity *b = ident(next_pid++, 106, "postgres", pg, "sync_crm",
							   htonl(0x0a1e0005u), next_port++);

				flow(u, b, VIGIE_CLASS_DB_SERVER, htonl(0x0a1e0005u), b->client_port,
				     5432, 20000ull * 220);
				usage_add_rows(u, b, 20000, 0, 0, 0);
				identity_put(b);
			}
			if (m >= 120 && m < 140) { /* the nightly pg_dump, 2 GB in 20 min */
				static struct identity *dump;

				if (m == 120)
					dump = ident(next_pid++, 106, "postgres", pg, "backup",
						     htonl(0x0a1e0009u), next_port++);
				flow(u, dump, VIGIE_CLASS_DB_SERVER, htonl(0x0a1e0009u), dump->client_port,
				     5432, 100000000ull);
				usage_add_rows(u, dump, 0, 450000, 0, 0);
				if (m == 139) {
					identity_put(dump);
					dump = NULL;
				}
			}
			flow(u, agent, VIGIE_CLASS_EGRESS, htonl(0x0a000a0au), 9090, 9100,
			     40000 + (uint64_t)(uniform() * 5000));
			flow(u, shipper, VIGIE_CLASS_EGRESS, htonl(0x0a000a0bu), 5044, 33000,
			     150000 + (uint64_t)(uniform() * 50000));
			n = usage_flush(u, start, end, out);
			if (n < 0)
				goto out;
			written += n;
		}
		for (int i = 0; i < n_adv; i++) {
			/* the next working day: a new start, the same habits */
			adv[i].next_s = adv[i].start_s + expo(adv[i].mean_gap_s);
		}
	}
	written += usage_finish(u, t0 + (uint64_t)days * DAY_S * 1000000000ull,
				t0 + (uint64_t)days * DAY_S * 1000000000ull, out);
	clock_gettime(CLOCK_MONOTONIC, &tb);
	output_close(out);
	out = NULL;
	if (stat(path, &st))
		goto out;
	res->bytes = (unsigned long long)st.st_size / (unsigned long long)days;
	res->events = (unsigned long long)written / (unsigned long long)days;
	res->seconds = (double)(tb.tv_sec - ta.tv_sec) + (tb.tv_nsec - ta.tv_nsec) / 1e9;
	err = 0;
out:
	output_close(out);
	if (getenv("BENCH_VOLUME_KEEP"))
		fprintf(stderr, "events kept in %s\n", path);
	else
		unlink(path);
	for (int i = 0; i < POOL; i++)
		identity_put(pool[i]);
	identity_put(agent);
	identity_put(shipper);
	usage_free(u);
	free(adv);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "advisors", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' },
		{ 0 },
	};
	struct vigie_config cfg;
	struct day_result flowr = { 0 }, sumr = { 0 };
	int n_adv = 2300, days = 1, c;
	uint64_t seed = 20261205;
	char err[256];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': n_adv = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'd': days = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-volume [--advisors N] [--seed S] [--days D]\n");
			return 2;
		}
	}
	if (n_adv < 1 || n_adv > 1000000 || days < 1 || days > 30) {
		fprintf(stderr, "bench-volume: --advisors in [1, 1000000], --days in [1, 30]\n");
		return 2;
	}
	event_set_host("db-server-01");
	if (config_init(&cfg) ||
	    config_load_string(&cfg, "{\"databases\": {\"app_user\": {\"pattern\": \"portail/{user}\"}}}",
			       err, sizeof(err)))
		return 1;
	cfg.usage_detail = USAGE_FLOW;
	if (run_day(&cfg, n_adv, seed, days, &flowr))
		return 1;
	cfg.usage_detail = USAGE_SUMMARY;
	if (run_day(&cfg, n_adv, seed, days, &sumr))
		return 1;
	config_free(&cfg);
	printf("usage events of one working day, %d advisors on one database server (seed %llu):\n",
	       n_adv, (unsigned long long)seed);
	printf("  per flow (usage_detail flow):        %9llu events %8.1f MB/day  (%.2f s)\n",
	       flowr.events, flowr.bytes / 1e6, flowr.seconds);
	printf("  per principal (the default summary): %9llu events %8.1f MB/day  (%.2f s)\n",
	       sumr.events, sumr.bytes / 1e6, sumr.seconds);
	printf("  summary / flow: %.3f of the bytes; goal at most 20 MB/day: %s\n",
	       flowr.bytes ? (double)sumr.bytes / flowr.bytes : 0, sumr.bytes <= 20000000 ? "met" :
											   "NOT met");
	return 0;
}
