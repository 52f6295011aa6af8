// SPDX-License-Identifier: GPL-2.0
/* vigie: command line. Sub-commands: run (default), replay. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/config.h"
#include "detect/detect.h"
#include "base/event.h"
#include "base/log.h"
#include "replay.h"
#include "sensor/sensor.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vigie [run] [OPTION]...\n"
		"       vigie replay [-c CONFIG] [--state FILE] [-o FILE] TRACE...\n"
		"\n"
		"Vigie counts, per process and per user, database reads and network egress\n"
		"with eBPF, and writes newline-delimited JSON events (Elastic Common Schema).\n"
		"\n"
		"Options of run:\n"
		"  -c, --config FILE          JSON configuration (built-in defaults otherwise)\n"
		"  -o, --output FILE          write events to FILE (default: stdout)\n"
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
	const char *config_path = NULL, *output = NULL, *probes = NULL;
	const char *record = NULL, *state = NULL;
	double duration = 0, tick = 0, usage_s = 0, heartbeat = 0;
	int usage_detail = -1;
	struct vigie_config cfg;
	bool check_only = false;
	int verbose = 0, opt, ret;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:o:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'o': output = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vigie %s\n", VIGIE_VERSION); return 0;
		case OPT_CHECK: check_only = true; break;
		case OPT_RECORD: record = optarg; break;
		case OPT_STATE: state = optarg; break;
		case OPT_DURATION:
			if (config_parse_seconds(optarg, &duration))
				return bad_option("--duration", optarg, "expected seconds in (0, 604800]");
			break;
		case OPT_PROBES:
			probes = optarg;
			break;
		case OPT_TICK:
			if (config_parse_seconds(optarg, &tick))
				return bad_option("--tick", optarg, "expected seconds");
			break;
		case OPT_USAGE_DETAIL:
			if (!strcmp(optarg, "summary"))
				usage_detail = USAGE_SUMMARY;
			else if (!strcmp(optarg, "flow"))
				usage_detail = USAGE_FLOW;
			else
				return bad_option("--usage-detail", optarg, "expected summary or flow");
			break;
		case OPT_USAGE:
			if (config_parse_seconds(optarg, &usage_s))
				return bad_option("--usage-interval", optarg, "expected seconds");
			break;
		case OPT_HEARTBEAT:
			if (config_parse_seconds(optarg, &heartbeat))
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
	if (config_init(&cfg)) {
		log_error("out of memory");
		return 1;
	}
	ret = EXIT_USAGE;
	if (config_path && config_load_file(&cfg, config_path))
		goto cleanup;
	if (probes && config_parse_probe_mode(probes, &cfg.probes)) {
		bad_option("--probes", probes, "expected auto, sock or syscalls");
		goto cleanup;
	}
	if (output) {
		free(cfg.output);
		cfg.output = strdup(output);
	}
	if (record) {
		free(cfg.record);
		cfg.record = strdup(record);
	}
	if (state) {
		free(cfg.state_file);
		cfg.state_file = strdup(state);
	}
	if (tick > 0)
		cfg.tick_s = tick;
	if (usage_s > 0)
		cfg.usage_interval_s = usage_s;
	if (usage_detail >= 0)
		cfg.usage_detail = (enum usage_detail)usage_detail;
	if (heartbeat > 0)
		cfg.heartbeat_s = heartbeat;
	{
		char err[256];

		if (config_validate(&cfg, err, sizeof(err))) {
			log_error("%s%s%s", config_path ? config_path : "", config_path ? ": " : "", err);
			goto cleanup;
		}
	}
	{
		struct detect_config dcfg;
		char err[512] = "";

		if (detect_config_parse(cfg.detection, &dcfg, err, sizeof(err))) {
			log_error("%s%s%s", config_path ? config_path : "", config_path ? ": " : "", err);
			goto cleanup;
		}
		detect_config_free(&dcfg);
	}
	if (check_only) {
		printf("configuration OK\n");
		ret = 0;
		goto cleanup;
	}
	if (geteuid() != 0)
		log_warn("not running as root: loading BPF programs will likely fail");
	ret = sensor_run(&cfg, duration);
cleanup:
	config_free(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	sigset_t mask;

	/* First thing: SIGINT/SIGTERM/SIGHUP are read from a signalfd once the
	 * sensor runs (sensor.c); until then they stay pending instead of
	 * killing it (a logrotate SIGHUP while the probes load). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "replay"))
		return replay_main(argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] != '-') {
		log_error("unknown command '%s' (see vigie --help)", argv[1]);
		return EXIT_USAGE;
	}
	return cmd_run(argc, argv);
}
