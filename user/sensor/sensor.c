// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "probes/counters.h"
#include "detect/detect.h"
#include "base/clock.h"
#include "base/event.h"
#include "base/log.h"
#include "base/pidlock.h"
#include "base/privs.h"
#include "base/sdnotify.h"
#include "output/output.h"
#include "output/syslog.h"
#include "postgres/postgres.h"
#include "probes/probes.h"
#include "sensor/control.h"
#include "sensor/samples.h"
#include "sensor/sensor_metrics.h"
#include "sensor/sensor.h"
#include "sensor/sensor_int.h"
#include "trace/trace.h"
#include "sensor/usage.h"
#include "vigie.skel.h"


/* Samples' time: the wall clock, except across a step of it (clock.h). */
static uint64_t detection_ns(struct sensor *s)
{
	bool stepped;
	uint64_t t = vclock_now(&s->dclock, sensor_realtime_ns(), sensor_monotonic_ns(), &stepped);

	if (stepped)
		log_warn("the wall clock stepped: it is now %+.3f s from detection time, which goes "
			 "on at its own pace (windows not moved; detection's events carry its time "
			 "until a restart)", (double)s->dclock.behind_ns / 1e9);
	return t;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_Static_assert(offsetof(struct vigie_proc_event, filename) == VIGIE_PROC_EXIT_SIZE,
	       "an exit record is the event up to its file name");

static int on_proc_event(void *ctx, void *data, size_t size)
{
	struct sensor *s = ctx;

	const struct vigie_proc_event *e = data;
	struct vigie_proc_event full;

	/* an exit record stops before the file name (VIGIE_PROC_EXIT_SIZE) */
	if (size >= VIGIE_PROC_EXIT_SIZE && size < sizeof(full) && e->type == VIGIE_EV_EXIT) {
		memset(&full, 0, sizeof(full));
		memcpy(&full, data, VIGIE_PROC_EXIT_SIZE);
		e = &full;
	} else if (size < sizeof(full)) {
		return 0;
	}
	identities_on_event(s->ids, e, s->gen);
	if (e->type == VIGIE_EV_EXEC)
		pg_awareness_on_exec(s->pga, e);
	return 0;
}

static void on_counter(const struct vigie_flow_key *key, const struct vigie_counter *val,
		       bool coarse, void *ctx)
{
	struct sensor *s = ctx;
	struct identity *id = identities_lookup(s->ids, key->tgid, key->uid);

	usage_add(s->usage, key, val, coarse, id);
	tick_samples_add(s->samples_tick, key, val, id);
}

/* Rows of one PostgreSQL backend since the last drain. Bytes of TCP
 * connections are counted by the socket probes (db_server); those of unix
 * socket connections only here. */
static void on_pg_rows(struct identity *id, const struct pgwire_delta *d, void *ctx)
{
	struct sensor *s = ctx;
	uint64_t unix_bytes = id->client_local ? d->bytes : 0;

	usage_add_app_users(s->usage, id, d->segs, d->n_segs);
	tick_samples_add_app_users(s->samples_tick, id, d->segs, d->n_segs, &s->cfg->app_user);
	if (!d->rows && !d->copy_rows && !unix_bytes && d->rows_known)
		return;
	usage_add_rows(s->usage, id, d->rows, d->copy_rows, d->rows_known ? 0 : d->unknown_why,
		       unix_bytes);
	tick_samples_add_rows(s->samples_tick, id, d->rows_known ? d->rows : 0, d->rows_known,
			      unix_bytes);
}

/* A PostgreSQL server listens on port: a database port from now on. */
static void on_pg_port(uint16_t port, uint32_t pid, void *ctx)
{
	struct sensor *s = ctx;

	if (probes_is_db_port(&s->probes, port)) {
		log_info("PostgreSQL server %u listens on port %u (a database port already)", pid,
			 port);
		return;
	}
	if (probes_add_db_port(&s->probes, port)) {
		log_warn("PostgreSQL server %u listens on port %u, which cannot be made a database "
			 "port: add it to databases.ports", pid, port);
		/* its backends' answers from that port: walked all the same */
		s->pg_port_failed = true;
		probes_pg_ports_known(&s->probes, false);
	} else {
		log_info("PostgreSQL server %u listens on port %u: a database port from now on",
			 pid, port);
	}
}

/* The ports of every PostgreSQL server known (or not any more): the walk of
 * backends' answers runs for sends from database ports and unix sockets
 * only (or for every send). */
static void on_pg_ports_known(bool known, void *ctx)
{
	struct sensor *s = ctx;

	known = known && !s->pg_port_failed;
	if (probes_pg_ports_known(&s->probes, known))
		return; /* no send_chain: the walk is its own program */
	log_info(known ? "PostgreSQL: every server's ports known: the walk runs for sends from "
			 "database ports and unix sockets" :
			 "PostgreSQL: a server's ports are not known: the walk runs for every send");
}

static void drain(struct sensor *s)
{
	int n;

	ring_buffer__consume(s->rb); /* identities first: exits before bytes */
	pg_awareness_tick(s->pga);
	tick_samples_begin(s->samples_tick, detection_ns(s));
	n = counters_drain(s->counters, on_counter, s);
	if (n < 0)
		s->drain_errors++;
	if (counters_last_flows(s->counters) > s->peak_flows)
		s->peak_flows = counters_last_flows(s->counters);
	if (pg_awareness_drain(s->pga, s->ids, on_pg_rows, s) < 0)
		s->drain_errors++;
	tick_samples_deliver(s->samples_tick, s->det, s->rec);
	sensor_contain_tick(s);
	s->gen++;
	identities_purge(s->ids, s->gen);
}

static void flush_usage(struct sensor *s, uint64_t now, bool final)
{
	int n = final ? usage_finish(s->usage, s->interval_start_ns, now, s->out) :
			usage_flush(s->usage, s->interval_start_ns, now, s->out);

	if (n > 0)
		s->events_written += (uint64_t)n;
	s->interval_start_ns = now;
}

/* The deadline after prev, one period on: the cadence stays the period's
 * even though ticks come a little after each deadline (now + period would
 * drift by up to a tick each time: 61 s usage intervals with 1 s ticks). */
static uint64_t next_deadline(uint64_t prev, uint64_t now, double period_s)
{
	uint64_t p = (uint64_t)(period_s * 1e9), next = prev + p;

	return next > now ? next : now + p;
}

static void tick(struct sensor *s)
{
	double t0 = mono_s(), drained;
	uint64_t now;

	drain(s);
	drained = mono_s();
	s->ticks++;
	output_check(s->out); /* a removed file or directory: reopened, or counted */
	now = sensor_realtime_ns();
	syslog_service(s->syslog, sensor_monotonic_ns());
	if (s->watchdog_ns && sensor_monotonic_ns() >= s->next_watchdog_ns) {
		sd_notify_send("WATCHDOG=1");
		s->next_watchdog_ns = sensor_monotonic_ns() + s->watchdog_ns;
	}
	if (now >= s->next_usage_ns) {
		flush_usage(s, now, false);
		s->next_usage_ns = next_deadline(s->next_usage_ns, now, s->usage_interval_s);
	}
	if (s->det && s->cfg->state_file && now >= s->next_state_save_ns) {
		detector_state_save(s->det, s->cfg->state_file);
		s->next_state_save_ns = now + 300ull * 1000000000ull;
	}
	if (now >= s->next_heartbeat_ns) {
		json_t *ev = sensor_lifecycle_event(s, "heartbeat");

		sensor_add_stats(s, ev);
		sensor_emit(s, ev);
		s->peak_flows = 0;
		s->next_heartbeat_ns = next_deadline(s->next_heartbeat_ns, now, s->heartbeat_s);
	}
	sensor_metrics_tick(s->metrics, drained - t0, mono_s() - t0);
	control_tick(s->control);
}

static int setup_fds(struct sensor *s)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	long tick_ns = (long)(s->cfg->tick_s * 1e9);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* Blocked since main() began (see there): a signal sent while the
	 * probes were loading is pending and read here. */
	s->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sig_fd < 0 || s->timer_fd < 0 || s->epoll_fd < 0)
		return -errno;
	its.it_interval.tv_sec = tick_ns / 1000000000L;
	its.it_interval.tv_nsec = tick_ns % 1000000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(s->timer_fd, 0, &its, NULL))
		return -errno;
	ev.data.u32 = 0;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->sig_fd, &ev))
		return -errno;
	ev.data.u32 = 1;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd, &ev))
		return -errno;
	ev.data.u32 = 2;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(s->rb), &ev))
		return -errno;
	ev.data.u32 = 3;
	if (s->metrics &&
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, sensor_metrics_fd(s->metrics), &ev))
		return -errno;
	ev.data.u32 = 4;
	if (s->control && epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, control_fd(s->control), &ev))
		return -errno;
	return 0;
}

/* Main loop. Returns the reason for stopping. */
static const char *loop(struct sensor *s, double duration_s)
{
	/* from the start, as the heartbeats are (not after the first drain) */
	uint64_t deadline = duration_s > 0 ? s->start_ns + (uint64_t)(duration_s * 1e9) : 0;

	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(s->epoll_fd, evs, 4, 1000);

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			return "error";
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0) {
				struct signalfd_siginfo si;

				if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					output_reopen(s->out);
					sensor_reload(s);
					continue;
				}
				log_info("stopping on signal %u", si.ssi_signo);
				return si.ssi_signo == SIGINT ? "sigint" : "sigterm";
			} else if (evs[i].data.u32 == 1) {
				uint64_t expirations;

				if (read(s->timer_fd, &expirations, sizeof(expirations)) > 0)
					tick(s);
			} else if (evs[i].data.u32 == 3) {
				sensor_metrics_service(s->metrics);
			} else if (evs[i].data.u32 == 4) {
				control_service(s->control);
			} else {
				ring_buffer__consume(s->rb);
			}
		}
		if (deadline && sensor_realtime_ns() >= deadline)
			return "duration";
	}
}

/* Detection and recording, both optional; set up before any probe loads so
 * that a bad detection section stops the start. */
static int setup_detection(struct sensor *s)
{
	const struct vigie_config *cfg = s->cfg;
	char err[512] = "";

	if (detect_config_parse(cfg->detection, &s->dcfg, err, sizeof(err))) {
		log_error("%s", err);
		return -EINVAL;
	}
	s->dcfg_ok = true;
	if (s->dcfg.enabled) {
		s->det = detector_new(&s->dcfg, sensor_emit_detection, s);
		if (!s->det)
			return -ENOMEM;
		if (cfg->state_file && detector_state_recover(s->det, cfg->state_file) < 0)
			log_warn("starting detection without the state in '%s'", cfg->state_file);
	}
	if (cfg->record) {
		s->rec = trace_writer_open(cfg->record, event_host(), cfg->tick_s);
		if (!s->rec)
			return -EIO;
	}
	return 0;
}

static void sensor_cleanup(struct sensor *s)
{
	control_free(s->control);
	sensor_contain_free(s);
	if (s->rec && trace_writer_close(s->rec))
		log_error("the recorded trace '%s' may be incomplete", s->cfg->record);
	detector_free(s->det);
	json_decref(s->detection_json);
	if (s->dcfg_ok)
		detect_config_free(&s->dcfg);
	sensor_metrics_free(s->metrics);
	tick_samples_free(s->samples_tick);
	pg_awareness_free(s->pga);
	ring_buffer__free(s->rb);
	counters_free(s->counters);
	probes_stop(&s->probes);
	usage_free(s->usage);
	identities_free(s->ids);
	output_set_tee(s->out, NULL, NULL);
	syslog_close(s->syslog, 2000);
	output_close(s->out);
	pidlock_release(&s->out_lock);
	pidlock_release(&s->state_lock);
	pidlock_release(&s->spool_lock);
	free(s->spool_path);
	if (s->sig_fd >= 0)
		close(s->sig_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
}

/* Every event to syslog too: its action as MSGID, alerts at their
 * severity (critical 2, high 3, medium 4, low 5), the rest informational. */
static void tee_syslog(const char *line, size_t len, json_t *ev, void *ctx)
{
	json_t *e = json_object_get(ev, "event");
	const char *action = json_string_value(json_object_get(e, "action"));
	const char *sev = json_string_value(json_object_get(json_object_get(ev, "vigie"),
							   "severity"));
	int level = 6;

	if (sev)
		level = !strcmp(sev, "critical") ? 2 : !strcmp(sev, "high") ? 3 :
			!strcmp(sev, "medium") ? 4 : 5;
	syslog_send(ctx, line, len, action, level, sensor_realtime_ns());
}

/* Where events wait on disk for the syslog collector: sensor.syslog_spool,
 * else "syslog.spool" beside the state file, else nowhere (memory only).
 * malloc'ed, NULL: no spool. */
static char *syslog_spool_path(const struct vigie_config *cfg)
{
	const char *slash;
	char *p = NULL;

	if (!cfg->syslog || cfg->syslog_spool_bytes == 0)
		return NULL;
	if (cfg->syslog_spool)
		return strdup(cfg->syslog_spool);
	if (!cfg->state_file)
		return NULL;
	slash = strrchr(cfg->state_file, '/');
	if (asprintf(&p, "%.*ssyslog.spool", slash ? (int)(slash - cfg->state_file + 1) : 0,
		     cfg->state_file) < 0)
		return NULL;
	return p;
}

/* One daemon per output file, state file and syslog spool (base/pidlock.h).
 * A character device (-o /dev/null) is no file two daemons corrupt, and
 * /dev gets no NAME.lock beside it (a read-only /dev refused the start). */
static int lock_files(struct sensor *s)
{
	const char *paths[3] = { s->cfg->output, s->cfg->state_file, s->spool_path };
	struct pidlock *locks[3] = { &s->out_lock, &s->state_lock, &s->spool_lock };
	static const char *const what[3] = { "output", "state file", "sensor.syslog_spool" };
	struct stat st;
	pid_t holder;

	for (int i = 0; i < 3; i++) {
		int err;

		if (!paths[i] || !strcmp(paths[i], "-") ||
		    (stat(paths[i], &st) == 0 && S_ISCHR(st.st_mode)))
			continue;
		err = pidlock_take(locks[i], paths[i], &holder);
		if (err == -EBUSY) {
			log_error("another vigie (pid %d) is already writing '%s': stop it, or give "
				  "this one another %s", (int)holder, paths[i], what[i]);
			return err;
		}
		if (err) {
			log_error("cannot lock '%s.lock': %s", paths[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

int sensor_run(const struct vigie_config *cfg, double duration_s,
	       const struct sensor_reloader *rl)
{
	struct sensor s = { .cfg = cfg, .sig_fd = -1, .timer_fd = -1, .epoll_fd = -1,
			    .out_lock = { .fd = -1 }, .state_lock = { .fd = -1 },
			    .spool_lock = { .fd = -1 }, .rl = rl,
			    .heartbeat_s = cfg->heartbeat_s, .usage_interval_s = cfg->usage_interval_s,
			    .detection_json = json_incref(cfg->detection) };
	const char *reason;
	char host[256];
	int err;

	if (cfg->host_name)
		event_set_host(cfg->host_name);
	else if (gethostname(host, sizeof(host)) == 0)
		event_set_host(host);
	event_host_id_from_file("/etc/machine-id");
	{
		uint64_t seed;

		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = sensor_realtime_ns() ^ ((uint64_t)getpid() << 32);
		event_seed_ids(seed);
	}
	s.spool_path = syslog_spool_path(cfg);
	err = lock_files(&s);
	if (err)
		goto cleanup;
	s.out = output_open(cfg->output);
	if (!s.out) {
		err = -EIO;
		goto cleanup;
	}
	output_set_rotation(s.out, cfg->output_max_bytes, cfg->output_keep);
	if (cfg->output_group && output_set_group(s.out, cfg->output_gid, cfg->output_group)) {
		err = -EPERM;
		goto cleanup;
	}
	if (cfg->syslog) {
		s.syslog = syslog_open(cfg->syslog, cfg->syslog_facility,
				       (size_t)cfg->syslog_queue_bytes, event_host(), s.spool_path,
				       cfg->syslog_spool_bytes);
		if (!s.syslog) {
			err = -EINVAL;
			goto cleanup;
		}
		output_set_tee(s.out, tee_syslog, s.syslog);
	}
	err = setup_detection(&s);
	if (!err)
		err = sensor_contain_setup(&s);
	if (err)
		goto cleanup;
	if (cfg->metrics_listen) {
		s.metrics = sensor_metrics_new(cfg, s.out);
		if (!s.metrics) {
			err = -EADDRNOTAVAIL;
			goto cleanup;
		}
	}
	err = control_start(&s);
	if (err)
		goto cleanup;
	s.ids = identities_new();
	s.samples_tick = tick_samples_new();
	if (!s.ids || !s.samples_tick) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = probes_start(&s.probes, cfg);
	if (err)
		goto cleanup;
	s.pga = pg_awareness_new(cfg->postgres, cfg->postgres_tls_hook,
				 probes_send_chain_fd(&s.probes), on_pg_port, on_pg_ports_known, &s);
	sensor_contain_attach(&s);
	s.usage = usage_new(cfg, s.probes.data_dir_paths, cfg->n_data_dirs);
	s.counters = counters_new(s.probes.skel);
	if (!s.usage || !s.counters) {
		err = -ENOMEM;
		goto cleanup;
	}
	s.rb = ring_buffer__new(bpf_map__fd(s.probes.skel->maps.events), on_proc_event, &s, NULL);
	if (!s.rb) {
		err = -errno;
		log_error("cannot create the ring buffer reader: %s", strerror(-err));
		goto cleanup;
	}
	sensor_set_metrics_src(&s);
	err = setup_fds(&s);
	if (err) {
		log_error("cannot set up timers and signals: %s", strerror(-err));
		goto cleanup;
	}
	/* loaded and attached: keep only what the running sensor uses */
	privs_drop(sensor_contain_caps(&s));
	s.start_ns = sensor_realtime_ns();
	s.interval_start_ns = s.start_ns;
	s.next_usage_ns = s.start_ns + (uint64_t)(cfg->usage_interval_s * 1e9);
	s.next_heartbeat_ns = s.start_ns + (uint64_t)(cfg->heartbeat_s * 1e9);
	sensor_emit_start(&s);
	/* systemd (Type=notify): ready once attached and drained once */
	drain(&s);
	sd_notify_send("READY=1\nSTATUS=watching");
	s.watchdog_ns = sd_watchdog_interval_ns();
	s.next_watchdog_ns = sensor_monotonic_ns() + s.watchdog_ns;
	reason = loop(&s, duration_s);
	sd_notify_send("STOPPING=1");
	/* Final drain: everything counted until now is reported. */
	drain(&s);
	flush_usage(&s, sensor_realtime_ns(), true);
	sensor_contain_stop(&s); /* quarantines end with the sensor: said */
	{
		json_t *ev = sensor_lifecycle_event(&s, "sensor-stop");

		event_set(ev, "vigie.stop_reason", json_string(reason));
		/* ECS: the sensor's stop succeeded unless it stopped on an error */
		event_set(ev, "event.outcome",
			  json_string(strcmp(reason, "error") ? "success" : "failure"));
		sensor_add_stats(&s, ev);
		sensor_emit(&s, ev);
	}
	if (s.det && cfg->state_file)
		detector_state_save(s.det, cfg->state_file);
	err = strcmp(reason, "error") == 0 ? -EIO : 0;
cleanup:
	sensor_cleanup(&s);
	return err ? 1 : 0;
}
