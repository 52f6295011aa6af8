// SPDX-License-Identifier: GPL-2.0
/*
 * tracegen service accounts, per population, and their ground truth: the
 * principals of each service and its first night (from its first activity
 * to the end of that night), when a detector with no configuration may
 * still see it as new.
 *
 * default: batch_etl (2 M rows, 01:00-03:00, from 10.30.0.5), backup (40 M
 *   rows and 28 GB of data files, 02:00-04:00, 10.30.0.9), replicator (WAL
 *   streaming to 10.30.0.2, all day, proportional to activity).
 * portal: archivist (a nightly archive, 6 M rows of 1.2 KB, 00:30-03:30, to
 *   172.16.50.20) and crm_sync (every hour from :05 for 6 minutes, 1,500 to
 *   12,000 rows depending on the shifts' activity, to 172.16.50.31).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include "tracegen.h"

int default_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd);
void default_services_truth(struct gen *g, json_t *services, json_t *allow);
int portal_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd);
void portal_services_truth(struct gen *g, json_t *services, json_t *allow);

static void add_service(json_t *services, const char *name, const char *schedule, json_t *principals,
			uint64_t night_start, uint64_t night_end)
{
	json_array_append_new(services, json_pack("{ss ss so so}", "name", name, "schedule",
						  schedule, "principals", principals,
						  "first_night", span(night_start, night_end)));
}

static json_t *two(const char *k1, const char *id1, const char *k2, const char *id2)
{
	json_t *a = json_array();

	json_array_append_new(a, principal(k1, id1));
	json_array_append_new(a, principal(k2, id2));
	return a;
}

static json_t *db_server(struct gen *g)
{
	char proc[TRACE_EXE_LEN + 16];

	snprintf(proc, sizeof(proc), "%s@postgres", g->pop->db_exe);
	return two("user", "postgres", "process", proc);
}

/* ---- default population ---- */

/* Nightly batch (01:00-03:00), backup (02:00-04:00), replication all day. */
int default_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd)
{
	double per_tick = g->tick / 60.0;
	double activity = wd < 5 && min_of_day >= 8 * 60 && min_of_day < 18 * 60 ? 1 : 0.1;
	struct trace_sample s;

	if (min_of_day >= 60 && min_of_day < 180 &&
	    emit_rows(g, &g->rng, ts, 4100, "batch_etl", "10.30.0.5", 2e6 / 120 * per_tick *
		      rng_lognormal1(&g->rng, 0.2), 400))
		return -1;
	if (min_of_day >= 120 && min_of_day < 240) {
		if (emit_rows(g, &g->rng, ts, 4200, "backup", "10.30.0.9", 40e6 / 120 * per_tick *
			      rng_lognormal1(&g->rng, 0.1), g->pop->bytes_per_row))
			return -1;
		pg_sample(g, &s, ts, 4200, "backup", NULL);
		s.dbfile_bytes = (uint64_t)(28e9 / 120 * per_tick * rng_lognormal1(&g->rng, 0.1));
		s.ops = s.dbfile_bytes / 8192;
		if (put(g, &s))
			return -1;
	}
	/* WAL streaming to the standby, proportional to activity */
	pg_sample(g, &s, ts, 900, "replicator", "10.30.0.2");
	s.egress_bytes = (uint64_t)((2e5 + 3e6 * activity) * per_tick * rng_lognormal1(&g->rng, 0.3));
	s.ops = 1 + s.egress_bytes / 65536;
	return put(g, &s);
}

void default_services_truth(struct gen *g, json_t *services, json_t *allow)
{
	uint64_t d0 = g->start_s, morning = d0 + (uint64_t)earliest_start_min(g) * 60;

	add_service(services, "batch_etl", "01:00-03:00 daily",
		    two("db_user", "batch_etl", "peer", "10.30.0.5"), d0 + 3600, d0 + 4 * 3600);
	add_service(services, "backup", "02:00-04:00 daily",
		    two("db_user", "backup", "peer", "10.30.0.9"), d0 + 2 * 3600, d0 + 5 * 3600);
	add_service(services, "replicator", "continuous",
		    two("db_user", "replicator", "peer", "10.30.0.2"), d0, morning);
	add_service(services, "database server", "continuous", db_server(g), d0, morning);
	json_array_append_new(allow, principal("db_user", "backup"));
	json_array_append_new(allow, principal("db_user", "replicator"));
	json_array_append_new(allow, principal("peer", "10.30.0.9"));
	json_array_append_new(allow, principal("peer", "10.30.0.2"));
}

/* ---- portal population ---- */

int portal_services_tick(struct gen *g, uint64_t ts, int min_of_day, int wd)
{
	double per_tick = g->tick / 60.0;
	bool shifts = min_of_day >= 6 * 60 && min_of_day < 21 * 60;
	double activity = shifts ? (wd < 5 ? 1 : 0.35) : 0;

	if (min_of_day >= 30 && min_of_day < 210 &&
	    emit_rows(g, &g->rng, ts, 5100, "archivist", "172.16.50.20",
		      6e6 / 180 * per_tick * rng_lognormal1(&g->rng, 0.2), g->pop->bytes_per_row))
		return -1;
	if (min_of_day % 60 >= 5 && min_of_day % 60 < 11 &&
	    emit_rows(g, &g->rng, ts, 5200, "crm_sync", "172.16.50.31",
		      (1500 + 10500 * activity) / 6 * per_tick * rng_lognormal1(&g->rng, 0.3),
		      g->pop->bytes_per_row))
		return -1;
	return 0;
}

void portal_services_truth(struct gen *g, json_t *services, json_t *allow)
{
	uint64_t d0 = g->start_s, morning = d0 + (uint64_t)earliest_start_min(g) * 60;

	(void)allow; /* nobody tuned anything: nothing is allow-listed */
	add_service(services, "archivist", "00:30-03:30 daily",
		    two("db_user", "archivist", "peer", "172.16.50.20"), d0 + 30 * 60,
		    d0 + 210 * 60 + 3600);
	add_service(services, "crm_sync", "hourly from :05 for 6 minutes",
		    two("db_user", "crm_sync", "peer", "172.16.50.31"), d0, morning);
	add_service(services, "database server", "continuous", db_server(g), d0, morning);
}
