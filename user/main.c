// SPDX-License-Identifier: GPL-2.0
/* vigie: command line. Sub-commands: run (default), replay, top, report. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/config.h"
#include "contain/contain.h"
#include "detect/detect.h"
#include "base/event.h"
#include "base/log.h"
#include "base/safefile.h"
#include "base/stdfds.h"
#include "base/stopsig.h"
#include "replay/replay.h"
#include "sensor/sensor.h"
#include "view/report.h"
#include "view/top.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vigie [run] [OPTION]...\n"
		"       vigie replay [-c CONFIG] [--state FILE] [-o FILE] TRACE...\n"
		"       vigie top [--once|--json] [--standalone] [--socket PATH]\n"
		"       vigie report [-c CONFIG] [--state FILE] -o FILE.html TRACE...\n"
		"\n"
		"Vigie counts, per process and per user, database reads and network egress\n"
		"with eBPF, and writes newline-delimited JSON events (Elastic Common Schema).\n"
		"\n"
		"Options of run:\n"
		"  -c, --config FILE          JSON configuration (built-in defaults otherwise)\n"
		"  -o, --output FILE          write events to FILE (default, - or /dev/stdout: stdout)\n"
		"      --duration SECONDS     stop cleanly after SECONDS\n"
		"      --probes MODE          auto, sock or syscalls (default: auto)\n"
		"      --tick SECONDS         drain period (default: 1)\n"
		"      --usage-interval SECONDS  usage event period (default: 60)\n"
		"      --usage-detail summary|flow  usage events per principal (default) or per flow\n"
		"      --heartbeat SECONDS    heartbeat period (default: 60)\n"
		"      --record FILE          record the per-tick samples detection consumes\n"
		"                             (a vigie trace; gzip when FILE ends in .gz)\n"
		"      --state FILE           detection state (learned baselines), kept across restarts\n"
		"      --check-config         validate the configuration and exit\n"
		"  -v, --verbose              more messages on stderr (-vv: debug, libbpf)\n"
		"  -h, --help                 this help\n"
		"  -V, --version              version\n"
		"\n"
		"Exit status: 0 stopped cleanly, 1 runtime failure, 2 bad option or configuration.\n");
}

enum { OPT_DURATION = 256, OPT_PROBES, OPT_TICK, OPT_USAGE, OPT_USAGE_DETAIL, OPT_HEARTBEAT, OPT_CHECK,
       OPT_RECORD, OPT_STATE };

static int bad_option(const char *opt, const char *value, const char *expect)
{
	log_error("invalid value '%s' for %s: %s", value, opt, expect);
	return EXIT_USAGE;
}

/* "FILE: message" */
static void prefix_file(char *err, size_t errlen, const char *file)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", err);
	snprintf(err, errlen, "%s: %s", file, tmp);
}

/* The options of run that make its configuration: read at the start and
 * again at each reload (SIGHUP), so that the command line still wins. */
struct run_opts {
	const char *config_path, *output, *probes, *record, *state;
	double duration, tick, usage_s, heartbeat;
	int usage_detail;
};

static int set_string(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

/* The file (or the built-in defaults), the command line over it, checked,
 * the detection section parsed once. 0, -1 with err, -ENOMEM. */
static int build_config(const struct run_opts *o, struct vigie_config *cfg, char *err,
			size_t errlen)
{
	const char *file = o->config_path;
	struct detect_config dcfg;
	struct contain_config ccfg;

	if (config_init(cfg)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (file && config_load_file_msg(cfg, file, err, errlen))
		return -1;
	if (o->probes && config_parse_probe_mode(o->probes, &cfg->probes)) {
		snprintf(err, errlen, "invalid value '%s' for --probes: expected auto, sock or "
			 "syscalls", o->probes);
		return -1;
	}
	if ((o->output && set_string(&cfg->output, o->output)) ||
	    (o->record && set_string(&cfg->record, o->record)) ||
	    (o->state && set_string(&cfg->state_file, o->state))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (o->tick > 0)
		cfg->tick_s = o->tick;
	if (o->usage_s > 0)
		cfg->usage_interval_s = o->usage_s;
	if (o->usage_detail >= 0)
		cfg->usage_detail = (enum usage_detail)o->usage_detail;
	if (o->heartbeat > 0)
		cfg->heartbeat_s = o->heartbeat;
	if (config_validate(cfg, err, errlen) ||
	    (file && config_check_files(cfg, file, err, errlen))) {
		if (file)
			prefix_file(err, errlen, file);
		return -1;
	}
	if (detect_config_parse(cfg->detection, &dcfg, err, errlen)) {
		if (file)
			prefix_file(err, errlen, file);
		return -1;
	}
	if (contain_config_parse(cfg->containment, dcfg.enabled, &ccfg, err, errlen)) {
		detect_config_free(&dcfg);
		if (file)
			prefix_file(err, errlen, file);
		return -1;
	}
	contain_config_free(&ccfg);
	detect_config_free(&dcfg);
	return 0;
}

static int reload_config(struct vigie_config *cfg, char *err, size_t errlen, void *ctx)
{
	return build_config(ctx, cfg, err, errlen);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "probes", required_argument, NULL, OPT_PROBES },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "usage-interval", required_argument, NULL, OPT_USAGE },
		{ "usage-detail", required_argument, NULL, OPT_USAGE_DETAIL },
		{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct run_opts o = { .usage_detail = -1 };
	struct sensor_reloader rl = { .load = reload_config, .ctx = &o };
	struct vigie_config cfg;
	bool check_only = false;
	int verbose = 0, opt, ret;
	char err[512] = "";

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:o:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o.config_path = optarg; break;
		case 'o': o.output = stdout_alias(optarg); break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vigie %s\n", VIGIE_VERSION); return 0;
		case OPT_CHECK: check_only = true; break;
		case OPT_RECORD: o.record = stdout_alias(optarg); break;
		case OPT_STATE: o.state = optarg; break;
		case OPT_DURATION:
			if (config_parse_seconds(optarg, &o.duration))
				return bad_option("--duration", optarg, "expected seconds in (0, 604800]");
			break;
		case OPT_PROBES:
			o.probes = optarg;
			break;
		case OPT_TICK:
			if (config_parse_seconds(optarg, &o.tick))
				return bad_option("--tick", optarg, "expected seconds");
			break;
		case OPT_USAGE_DETAIL:
			if (!strcmp(optarg, "summary"))
				o.usage_detail = USAGE_SUMMARY;
			else if (!strcmp(optarg, "flow"))
				o.usage_detail = USAGE_FLOW;
			else
				return bad_option("--usage-detail", optarg, "expected summary or flow");
			break;
		case OPT_USAGE:
			if (config_parse_seconds(optarg, &o.usage_s))
				return bad_option("--usage-interval", optarg, "expected seconds");
			break;
		case OPT_HEARTBEAT:
			if (config_parse_seconds(optarg, &o.heartbeat))
				return bad_option("--heartbeat", optarg, "expected seconds");
			break;
		case ':':
			log_error("option %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("unknown option '%s' (see vigie --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see vigie --help)", argv[optind]);
		return EXIT_USAGE;
	}
	log_set_level(verbose >= 2 ? LOG_DEBUG : verbose == 1 ? LOG_INFO : LOG_WARN);
	log_route_libbpf();
	ret = build_config(&o, &cfg, err, sizeof(err));
	if (ret) {
		log_error("%s", err);
		ret = ret == -ENOMEM ? 1 : EXIT_USAGE;
		goto cleanup;
	}
	if (check_only) {
		printf("configuration OK\n");
		ret = 0;
		goto cleanup;
	}
	if (geteuid() != 0)
		log_warn("not running as root: loading BPF programs will likely fail");
	rl.config_path = o.config_path;
	ret = sensor_run(&cfg, o.duration, &rl);
cleanup:
	config_free(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	bool run = argc < 2 || !strcmp(argv[1], "run") || argv[1][0] == '-';

	stdfds_open();
	/* First thing for the daemon: SIGINT/SIGTERM/SIGHUP are read from a
	 * signalfd once the sensor runs (sensor.c); until then they stay
	 * pending instead of killing it (a logrotate SIGHUP while the probes
	 * load). replay and report keep the default actions (Ctrl-C stops a
	 * long replay); top reads its own. */
	if (run) {
		stop_signals_hold(NULL);
		/* a pipe's reader gone (vigie | shipper restarted): the write
		 * fails with EPIPE, counted and said, instead of killing the
		 * sensor without a word */
		signal(SIGPIPE, SIG_IGN);
	}
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "replay"))
		return replay_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "top"))
		return top_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] != '-') {
		log_error("unknown command '%s' (see vigie --help)", argv[1]);
		return EXIT_USAGE;
	}
	return cmd_run(argc, argv);
}
