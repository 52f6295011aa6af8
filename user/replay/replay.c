// SPDX-License-Identifier: GPL-2.0
/* vigie replay: detection on recorded traces (see replay.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/config.h"
#include "contain/contain.h"
#include "detect/detect.h"
#include "base/event.h"
#include "base/log.h"
#include "base/pidlock.h"
#include "base/safefile.h"
#include "base/stopsig.h"
#include "output/output.h"
#include "replay/replay.h"
#include "trace/trace.h"

#define PROGRESS_EVERY (1u << 20)

/* One run of the engine (replay_run). */
struct engine {
	const struct replay_opts *o;
	const struct replay_hooks *h;
	struct replay_result *res;
	struct contain_config cc;    /* its mode forced to dry-run: a replay never acts */
	struct containment *contain; /* NULL: containment off in the config */
	bool progress;
	bool output_failed;
	bool have_ts, host_set;
};

/* vigie replay's own: where the events go. */
struct replay {
	struct replay_args a;
	struct output *out;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigie replay [-c CONFIG] [--state FILE] [-o OUTPUT] [-q] TRACE...\n"
		"  -c, --config FILE   sensor config (its \"detection\" section is used; with\n"
		"                      \"containment\" on, what it would do: dry-run)\n"
		"      --state FILE    load learned baselines from FILE if it exists,\n"
		"                      save them back at the end\n"
		"  -o, --output FILE   append events to FILE (default, - or /dev/stdout: stdout)\n"
		"  -q, --quiet         no progress, no per-line warnings\n"
		"TRACE is a vigie trace (plain or gzip, \"-\" for stdin); several are\n"
		"read in order as one stream.\n"
		"exit: 0 ok, 1 output/state write error, 2 bad option/config/state,\n"
		"      3 bad trace, 4 done but bad lines were skipped\n");
}

static void write_event(json_t *ev, void *ctx)
{
	struct engine *e = ctx;

	if (e->h->event && e->h->event(e->h->ctx, ev))
		e->output_failed = true;
	json_decref(ev);
}

/* An event of detection, then what containment would do about it, at the
 * alert's own time (the trace's). */
static void emit(json_t *ev, void *ctx)
{
	struct engine *e = ctx;
	uint64_t t = 0;

	json_incref(ev);
	write_event(ev, e);
	if (e->contain && !parse_rfc3339(json_string_value(json_object_get(ev, "@timestamp")), &t))
		containment_on_alert(e->contain, ev, t, t);
	json_decref(ev);
}


int replay_parse_args(struct replay_args *a, int argc, char **argv, const char *cmd,
		      bool need_output, void (*say_usage)(FILE *))
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0; /* full reset: a command may run more than once */
	while ((c = getopt_long(argc, argv, "+c:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config_path = optarg; break;
		case 's': a->state_path = optarg; break;
		case 'o': a->output_path = stdout_alias(optarg); break;
		case 'q': a->quiet = true; break;
		case 'h': say_usage(stdout); return 0;
		default: say_usage(stderr); return -1;
		}
	}
	if (need_output && (!a->output_path || !a->output_path[0])) {
		fprintf(stderr, "vigie %s: no output file given (-o FILE.html)\n", cmd);
		say_usage(stderr);
		return -1;
	}
	if (optind >= argc) {
		fprintf(stderr, "vigie %s: no trace given\n", cmd);
		say_usage(stderr);
		return -1;
	}
	return 1;
}

static void progress(struct engine *e, const char *name)
{
	char ts[48];

	fprintf(stderr, "\r%s: %s: %llu samples, at %s ", e->o->name, name,
		(unsigned long long)e->res->samples,
		format_rfc3339(e->res->last_ts, ts, sizeof(ts)));
	fflush(stderr);
}

/* One trace into the detector. REPLAY_OK or REPLAY_BAD_TRACE. */
static int replay_file(struct engine *e, struct detector *d, const char *path)
{
	struct replay_result *res = e->res;
	char err[600];
	struct trace_reader *tr = trace_reader_open(path, err, sizeof(err));
	struct trace_sample s;
	int rc;

	if (!tr) {
		log_error("%s", err);
		snprintf(res->error, sizeof(res->error), "%s", err);
		return REPLAY_BAD_TRACE;
	}
	trace_reader_set_quiet(tr, e->o->quiet);
	if (e->have_ts)
		trace_reader_set_min_ts(tr, res->last_ts);
	if (!e->host_set) {
		event_set_host(trace_reader_header(tr)->host);
		/* reproducible event.id: seeded from the trace's host */
		event_seed_ids(event_seed_of(trace_reader_header(tr)->host));
		e->host_set = true;
	}
	if (e->h->trace)
		e->h->trace(e->h->ctx, path, trace_reader_header(tr));
	while ((rc = trace_reader_next(tr, &s)) == 1) {
		if (e->h->sample)
			e->h->sample(e->h->ctx, d, &s);
		detector_feed(d, &s);
		containment_tick(e->contain, s.ts_ns, s.ts_ns);
		res->samples++;
		if (!e->have_ts)
			res->first_ts = s.ts_ns;
		res->last_ts = s.ts_ns;
		e->have_ts = true;
		if (e->progress && (res->samples & (PROGRESS_EVERY - 1)) == 0)
			progress(e, path);
	}
	if (e->progress)
		fputc('\n', stderr);
	if (rc < 0) {
		log_error("%s", trace_reader_error(tr));
		snprintf(res->error, sizeof(res->error), "%s", trace_reader_error(tr));
	}
	res->skipped += trace_reader_skipped(tr);
	res->ignored += trace_reader_ignored(tr);
	trace_reader_close(tr);
	return rc < 0 ? REPLAY_BAD_TRACE : REPLAY_OK;
}

static int load_detection(struct engine *e, struct detect_config *dc)
{
	const char *config_path = e->o->config_path;
	struct vigie_config cfg;
	char err[512];
	int rc = 0;

	if (config_init(&cfg)) {
		log_error("out of memory");
		return -1;
	}
	if (config_path && config_load_file(&cfg, config_path))
		rc = -1;
	if (!rc && detect_config_parse(cfg.detection, dc, err, sizeof(err))) {
		log_error("%s: %s", config_path ? config_path : "defaults", err);
		rc = -1;
	} else if (!rc && contain_config_parse(cfg.containment, dc->enabled, &e->cc, err,
						sizeof(err))) {
		log_error("%s: %s", config_path ? config_path : "defaults", err);
		detect_config_free(dc);
		rc = -1;
	}
	if (!rc && e->cc.mode == CONTAIN_ENFORCE)
		e->cc.mode = CONTAIN_DRY_RUN; /* a replay says, it never acts */
	config_free(&cfg);
	return rc;
}

static void summary(const struct engine *e)
{
	const struct replay_result *r = e->res;
	const struct detect_summary *s = &r->sum;

	fprintf(stderr,
		"%s: %llu samples, %llu principals, %llu alerts (%llu suppressed), "
		"%llu episodes, %llu skipped lines, %llu ignored lines\n", e->o->name,
		(unsigned long long)r->samples, (unsigned long long)s->principals,
		(unsigned long long)s->alerts, (unsigned long long)s->suppressed,
		(unsigned long long)s->episodes, (unsigned long long)r->skipped,
		(unsigned long long)r->ignored);
}

/* A trace given twice, or under two names: its second reading would go
 * back in time and every line of it be skipped as out of order. true
 * (logged) when so; t's entries are marked written, so that files_clash
 * compares them with each other. */
static bool trace_given_twice(struct named_file *t, int n)
{
	int a, b;

	for (int i = 0; i < n; i++)
		t[i].written = true;
	if (!files_clash(t, n, &a, &b))
		return false;
	if (!strcmp(t[a].path, t[b].path))
		log_error("the trace '%s' is given twice: it would be read again, going back in "
			  "time; give it once", t[a].path);
	else
		log_error("the traces '%s' and '%s' are one file: it would be read again, going "
			  "back in time; give it once", t[a].path, t[b].path);
	return true;
}

/* The output, the state and the traces must be files of their own, and
 * neither the output nor the state may be the configuration: an output
 * that is a trace appended events to it (vigie replay) or replaced it with
 * the page (vigie report), a state that is a trace, the output or the
 * configuration is saved over it. A trace is given once. 0, or -1
 * (logged). */
static int check_files(const struct replay_opts *o)
{
	enum { OUT, STATE, CONF, TRACE };
	int n = TRACE + o->n_traces, a, b;
	struct named_file *f = calloc((size_t)n, sizeof(*f));
	char out_name[300], trace_name[300];
	const char *trace;

	if (!f) {
		log_error("out of memory");
		return -1;
	}
	f[OUT] = (struct named_file){ o->output_path ? o->output_path : "-", STDOUT_FILENO, true };
	f[STATE] = (struct named_file){ o->state_path, -1, true };
	f[CONF] = (struct named_file){ o->config_path, -1, false };
	for (int i = 0; i < o->n_traces; i++)
		f[TRACE + i] = (struct named_file){ o->traces[i], STDIN_FILENO, false };
	if (!files_clash(f, n, &a, &b)) {
		bool twice = trace_given_twice(f + TRACE, o->n_traces);

		free(f);
		return twice ? -1 : 0;
	}
	if (strcmp(f[OUT].path, "-"))
		snprintf(out_name, sizeof(out_name), "the output '%s'", f[OUT].path);
	else
		snprintf(out_name, sizeof(out_name), "standard output");
	if (b == STATE) {
		log_error("%s and the state (--state) '%s' are the same file: each needs its own",
			  out_name, o->state_path);
	} else if (b == CONF) {
		log_error("%s is the configuration file '%s': it would be written over; give "
			  "another file", a == OUT ? out_name : "the state (--state)", o->config_path);
	} else {
		/* a trace, and the output or the state: two read files never clash */
		trace = f[b].path;
		if (strcmp(trace, "-"))
			snprintf(trace_name, sizeof(trace_name), "the trace '%s'", trace);
		else
			snprintf(trace_name, sizeof(trace_name), "the trace on standard input");
		if (a == OUT)
			log_error("%s is %s: writing it would destroy the trace; give another file",
				  out_name, trace_name);
		else
			log_error("the state (--state) '%s' is %s: saving it would replace the trace; "
				  "give another file", o->state_path, trace_name);
	}
	free(f);
	return -1;
}

int replay_run(const struct replay_opts *o, const struct replay_hooks *h,
	       struct replay_result *res)
{
	static const struct replay_hooks none;
	struct replay_result local;
	struct engine e = { .o = o, .h = h ? h : &none, .res = res ? res : &local };
	struct detect_config dc;
	struct detector *d = NULL;
	struct pidlock lock = { .fd = -1 };
	sigset_t unheld;
	bool held = false;
	int code = REPLAY_OK;

	memset(e.res, 0, sizeof(*e.res));
	if (check_files(o))
		return REPLAY_USAGE;
	e.progress = !o->quiet && isatty(STDERR_FILENO);
	if (load_detection(&e, &dc)) {
		contain_config_free(&e.cc);
		return REPLAY_USAGE;
	}
	if (o->state_path) {
		pid_t holder;
		int err = pidlock_take(&lock, o->state_path, &holder);

		if (err) {
			if (err == -EBUSY)
				log_error("a vigie (pid %d) is using the state '%s': stop it, or replay "
					  "with a copy", (int)holder, o->state_path);
			else
				log_error("cannot lock '%s.lock': %s", o->state_path, strerror(-err));
			code = REPLAY_USAGE;
			goto out;
		}
	}
	d = detector_new(&dc, emit, &e);
	if (!d || (o->state_path && detector_state_load(d, o->state_path) < 0)) {
		code = REPLAY_USAGE;
		goto out;
	}
	if (e.cc.mode != CONTAIN_OFF &&
	    !(e.contain = containment_new(&e.cc, &dc, NULL, NULL, write_event, &e))) {
		code = REPLAY_USAGE;
		goto out;
	}
	if (e.h->start && e.h->start(e.h->ctx, d, &dc)) {
		code = REPLAY_RUNTIME;
		goto out;
	}
	e.res->started = true;
	for (int i = 0; i < o->n_traces && code == REPLAY_OK; i++)
		code = replay_file(&e, d, o->traces[i]);
	if (e.h->finish)
		e.h->finish(e.h->ctx, d);
	detector_finish(d, e.res->last_ts);
	if (o->state_path) {
		/* a stop signal from the save on waits for the lock's release:
		 * no temporary file or lock left beside the state */
		held = stop_signals_hold(&unheld);
		if (detector_state_save(d, o->state_path))
			e.output_failed = true;
	}
	detector_summary(d, &e.res->sum);
	summary(&e);
	if (e.contain) {
		struct contain_stats cs;

		containment_stats(e.contain, &cs);
		fprintf(stderr, "%s: containment (dry-run): %llu alerts acted on, %llu actions, "
			"%llu skipped by the rate, %llu never\n", o->name,
			(unsigned long long)cs.alerts_acted, (unsigned long long)cs.actions,
			(unsigned long long)cs.skipped_rate, (unsigned long long)cs.skipped_never);
	}
	if (code == REPLAY_OK && e.res->skipped)
		code = REPLAY_SKIPPED;
	if (e.output_failed)
		code = REPLAY_RUNTIME;
out:
	containment_free(e.contain);
	contain_config_free(&e.cc);
	detector_free(d);
	detect_config_free(&dc);
	pidlock_release(&lock);
	if (held)
		stop_signals_release(&unheld);
	return code;
}

static int replay_start(void *ctx, struct detector *d, const struct detect_config *dc)
{
	struct replay *r = ctx;

	r->out = output_open(r->a.output_path);
	return r->out ? 0 : -1;
}

static int replay_event(void *ctx, json_t *ev)
{
	struct replay *r = ctx;

	return output_write(r->out, ev) ? -1 : 0;
}

int replay_main(int argc, char **argv)
{
	struct replay r = { 0 };
	struct replay_opts o = { .name = "replay" };
	struct replay_hooks h = { .ctx = &r, .start = replay_start, .event = replay_event };
	int rc = replay_parse_args(&r.a, argc, argv, "replay", false, usage), code;

	if (rc <= 0)
		return rc == 0 ? REPLAY_OK : REPLAY_USAGE;
	o.config_path = r.a.config_path;
	o.state_path = r.a.state_path;
	o.output_path = r.a.output_path;
	o.quiet = r.a.quiet;
	o.traces = argv + optind;
	o.n_traces = argc - optind;
	code = replay_run(&o, &h, NULL);
	output_close(r.out);
	return code;
}
