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
#include "output/output.h"
#include "replay.h"
#include "trace/trace.h"

#define PROGRESS_EVERY (1u << 20)

struct replay {
	const char *config_path, *state_path, *output_path;
	struct contain_config cc;    /* its mode forced to dry-run: a replay never acts */
	struct containment *contain; /* NULL: containment off in the config */
	bool quiet, progress;
	struct output *out;
	bool output_failed;
	uint64_t samples, skipped, ignored, last_ts;
	bool have_ts, host_set;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigie replay [-c CONFIG] [--state FILE] [-o OUTPUT] [-q] TRACE...\n"
		"  -c, --config FILE   sensor config (its \"detection\" section is used; with\n"
		"                      \"containment\" on, what it would do: dry-run)\n"
		"      --state FILE    load learned baselines from FILE if it exists,\n"
		"                      save them back at the end\n"
		"  -o, --output FILE   append events to FILE (default: stdout)\n"
		"  -q, --quiet         no progress, no per-line warnings\n"
		"TRACE is a vigie trace (plain or gzip, \"-\" for stdin); several are\n"
		"read in order as one stream.\n"
		"exit: 0 ok, 1 output/state write error, 2 bad option/config/state,\n"
		"      3 bad trace, 4 done but bad lines were skipped\n");
}

static void write_event(json_t *ev, void *ctx)
{
	struct replay *r = ctx;

	if (output_write(r->out, ev))
		r->output_failed = true;
	json_decref(ev);
}

/* An event of detection, then what containment would do about it, at the
 * alert's own time (the trace's). */
static void emit(json_t *ev, void *ctx)
{
	struct replay *r = ctx;
	uint64_t t = 0;

	json_incref(ev);
	write_event(ev, r);
	if (r->contain && !parse_rfc3339(json_string_value(json_object_get(ev, "@timestamp")), &t))
		containment_on_alert(r->contain, ev, t, t);
	json_decref(ev);
}


static int parse_args(struct replay *r, int argc, char **argv)
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

	optind = 0; /* full reset: replay_main may run more than once */
	while ((c = getopt_long(argc, argv, "+c:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': r->config_path = optarg; break;
		case 's': r->state_path = optarg; break;
		case 'o': r->output_path = optarg; break;
		case 'q': r->quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigie replay: no trace given\n");
		usage(stderr);
		return -1;
	}
	return 1;
}

static void progress(struct replay *r, const char *name)
{
	char ts[48];

	fprintf(stderr, "\rreplay: %s: %llu samples, at %s ", name,
		(unsigned long long)r->samples, format_rfc3339(r->last_ts, ts, sizeof(ts)));
	fflush(stderr);
}

/* One trace into the detector. REPLAY_OK or REPLAY_BAD_TRACE. */
static int replay_file(struct replay *r, struct detector *d, const char *path)
{
	char err[600];
	struct trace_reader *tr = trace_reader_open(path, err, sizeof(err));
	struct trace_sample s;
	int rc;

	if (!tr) {
		log_error("%s", err);
		return REPLAY_BAD_TRACE;
	}
	trace_reader_set_quiet(tr, r->quiet);
	if (r->have_ts)
		trace_reader_set_min_ts(tr, r->last_ts);
	if (!r->host_set) {
		event_set_host(trace_reader_header(tr)->host);
		/* reproducible event.id: seeded from the trace's host */
		event_seed_ids(event_seed_of(trace_reader_header(tr)->host));
		r->host_set = true;
	}
	while ((rc = trace_reader_next(tr, &s)) == 1) {
		detector_feed(d, &s);
		containment_tick(r->contain, s.ts_ns, s.ts_ns);
		r->samples++;
		r->last_ts = s.ts_ns;
		r->have_ts = true;
		if (r->progress && (r->samples & (PROGRESS_EVERY - 1)) == 0)
			progress(r, path);
	}
	if (r->progress)
		fputc('\n', stderr);
	if (rc < 0)
		log_error("%s", trace_reader_error(tr));
	r->skipped += trace_reader_skipped(tr);
	r->ignored += trace_reader_ignored(tr);
	trace_reader_close(tr);
	return rc < 0 ? REPLAY_BAD_TRACE : REPLAY_OK;
}

static int load_detection(struct replay *r, struct detect_config *dc)
{
	struct vigie_config cfg;
	char err[512];
	int rc = 0;

	if (config_init(&cfg)) {
		log_error("out of memory");
		return -1;
	}
	if (r->config_path && config_load_file(&cfg, r->config_path))
		rc = -1;
	if (!rc && detect_config_parse(cfg.detection, dc, err, sizeof(err))) {
		log_error("%s: %s", r->config_path ? r->config_path : "defaults", err);
		rc = -1;
	} else if (!rc && contain_config_parse(cfg.containment, dc->enabled, &r->cc, err,
						sizeof(err))) {
		log_error("%s: %s", r->config_path ? r->config_path : "defaults", err);
		detect_config_free(dc);
		rc = -1;
	}
	if (!rc && r->cc.mode == CONTAIN_ENFORCE)
		r->cc.mode = CONTAIN_DRY_RUN; /* a replay says, it never acts */
	config_free(&cfg);
	return rc;
}

static void summary(const struct replay *r, const struct detector *d)
{
	struct detect_summary s;

	detector_summary(d, &s);
	fprintf(stderr,
		"replay: %llu samples, %llu principals, %llu alerts (%llu suppressed), "
		"%llu episodes, %llu skipped lines, %llu ignored lines\n",
		(unsigned long long)r->samples, (unsigned long long)s.principals,
		(unsigned long long)s.alerts, (unsigned long long)s.suppressed,
		(unsigned long long)s.episodes, (unsigned long long)r->skipped,
		(unsigned long long)r->ignored);
}

int replay_main(int argc, char **argv)
{
	struct replay r = { 0 };
	struct detect_config dc;
	struct detector *d = NULL;
	struct pidlock lock = { .fd = -1 };
	int rc = parse_args(&r, argc, argv), code = REPLAY_OK;

	if (rc <= 0)
		return rc == 0 ? REPLAY_OK : REPLAY_USAGE;
	r.progress = !r.quiet && isatty(STDERR_FILENO);
	if (load_detection(&r, &dc))
		return REPLAY_USAGE;
	if (r.state_path) {
		pid_t holder;
		int err = pidlock_take(&lock, r.state_path, &holder);

		if (err) {
			if (err == -EBUSY)
				log_error("a vigie (pid %d) is using the state '%s': stop it, or replay "
					  "with a copy", (int)holder, r.state_path);
			else
				log_error("cannot lock '%s.lock': %s", r.state_path, strerror(-err));
			detect_config_free(&dc);
			return REPLAY_USAGE;
		}
	}
	d = detector_new(&dc, emit, &r);
	if (!d || (r.state_path && detector_state_load(d, r.state_path) < 0))
		goto usage_error;
	if (r.cc.mode != CONTAIN_OFF &&
	    !(r.contain = containment_new(&r.cc, &dc, NULL, NULL, write_event, &r)))
		goto usage_error;
	r.out = output_open(r.output_path);
	if (!r.out) {
		detector_free(d);
		detect_config_free(&dc);
		pidlock_release(&lock);
		return REPLAY_RUNTIME;
	}
	for (int i = optind; i < argc && code == REPLAY_OK; i++)
		code = replay_file(&r, d, argv[i]);
	detector_finish(d, r.last_ts);
	if (r.state_path && detector_state_save(d, r.state_path))
		r.output_failed = true;
	summary(&r, d);
	if (r.contain) {
		struct contain_stats cs;

		containment_stats(r.contain, &cs);
		fprintf(stderr, "replay: containment (dry-run): %llu alerts acted on, %llu actions, "
			"%llu skipped by the rate, %llu never\n", (unsigned long long)cs.alerts_acted,
			(unsigned long long)cs.actions, (unsigned long long)cs.skipped_rate,
			(unsigned long long)cs.skipped_never);
	}
	if (code == REPLAY_OK && r.skipped)
		code = REPLAY_SKIPPED;
	if (r.output_failed)
		code = REPLAY_RUNTIME;
	output_close(r.out);
	containment_free(r.contain);
	contain_config_free(&r.cc);
	detector_free(d);
	detect_config_free(&dc);
	pidlock_release(&lock);
	return code;
usage_error:
	containment_free(r.contain);
	contain_config_free(&r.cc);
	detector_free(d);
	detect_config_free(&dc);
	pidlock_release(&lock);
	return REPLAY_USAGE;
}
