// SPDX-License-Identifier: GPL-2.0
/*
 * vigie top (docs/top.md): a live terminal view of what the running sensor
 * sees, read from its control socket (sensor/control.h) once a second; or
 * one plain snapshot (--once), or its JSON (--json). --standalone loads the
 * probes in a child process when no daemon runs (top_standalone.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/config.h"
#include "base/log.h"
#include "view/top.h"
#include "view/top_int.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define ANSWER_TIMEOUT_MS 5000
#define START_TIMEOUT_MS 30000

static const char *const kinds[] = { "all", "user", "db_user", "process", "peer", "app_user" };
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

struct top_opts {
	bool once, json, standalone;
	const char *socket, *config;
	const char *sort;
	int kind;          /* index in kinds */
	int limit;         /* 0: the terminal's rows (live), CONTROL_DEFAULT_ROWS else */
	double delay_s;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vigie top [--once|--json] [--standalone] [--socket PATH] [OPTION]...\n"
		"Live view of the principals the running sensor watches, read from its control\n"
		"socket (root only); q quits, h shows the keys.\n"
		"  --once               print one plain snapshot and exit\n"
		"  --json               print one snapshot as JSON and exit\n"
		"  --standalone         no daemon: load the probes in this process\n"
		"  --socket PATH        the control socket (default " CONFIG_CONTROL_SOCKET ")\n"
		"  -c, --config FILE    take sensor.control_socket from FILE (and, with\n"
		"                       --standalone, the sensor's settings)\n"
		"      --sort ratio|volume  order of the rows (default ratio)\n"
		"      --kind KIND      all, user, db_user, process, peer or app_user\n"
		"  -n, --limit N        rows asked for (1-1000; default: the screen's, 100)\n"
		"  -d, --delay SECONDS  refresh period (default 1); with --standalone and\n"
		"                       --once or --json, how long to watch first\n"
		"  -h, --help           this help\n"
		"Exit status: 0 ok, 1 no daemon or connection refused, 2 bad option.\n");
}

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

static const char *error_of(json_t *doc)
{
	return json_string_value(json_object_get(doc, "error"));
}

/* ---- --once, --json ---------------------------------------------------------- */

static int print_once(struct top_conn *c, const struct top_opts *o)
{
	char msg[512];
	json_t *doc = top_ask(c, o->sort, kinds[o->kind], o->limit ? o->limit : 100,
			      ANSWER_TIMEOUT_MS, msg, sizeof(msg));
	struct top_buf b = { 0 };
	char *text = NULL;
	int ret = EXIT_FAIL;

	if (!doc) {
		log_error("%s", msg);
		goto cleanup;
	}
	if (error_of(doc)) {
		log_error("the daemon refused: %s", error_of(doc));
		goto cleanup;
	}
	if (o->json) {
		text = json_dumps(doc, JSON_COMPACT);
		if (text) {
			top_buf_str(&b, text);
			top_buf_str(&b, "\n");
		}
	} else {
		top_plain(&b, doc, utf8_locale());
	}
	if (b.oom || !b.s || top_write_all(1, b.s, b.len)) {
		if (b.oom || errno != EPIPE) /* a reader that stopped (| head) is not an error to say */
			log_error("cannot write the snapshot: %s",
				  b.oom ? "out of memory" : strerror(errno));
		goto cleanup;
	}
	ret = EXIT_OK;
cleanup:
	free(text);
	top_buf_free(&b);
	json_decref(doc);
	return ret;
}

/* ---- the live view ------------------------------------------------------------------ */

struct live {
	const struct top_opts *o;
	const char *path;
	struct top_standalone *sa;
	struct top_conn conn;
	json_t *snap;
	const char *sort;
	int kind, width, height, sig_fd;
	bool paused, help, dirty, ask_now, quit;
	char status[512];
	long long next_ms, sent_ms;
	char fatal[512];    /* a reason to stop, said after the terminal is back */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_status(struct live *l, const char *msg)
{
	snprintf(l->status, sizeof(l->status), "%s", msg ? msg : "");
	l->dirty = true;
}

static void ask(struct live *l)
{
	char msg[512];
	int limit = l->o->limit ? l->o->limit : top_rows_room(l->height);

	if (limit < 1)
		limit = 1;
	if (limit > 1000)
		limit = 1000;
	l->next_ms = now_ms() + (long long)(l->o->delay_s * 1000);
	l->ask_now = false;
	if (l->conn.fd < 0) {
		enum top_conn_err e = top_connect(&l->conn, l->path, msg, sizeof(msg));

		if (e != TCE_OK) {
			set_status(l, e == TCE_NO_DAEMON ? "no daemon answers: retrying every second" : msg);
			return;
		}
	}
	if (top_send_request(&l->conn, l->sort, kinds[l->kind], limit)) {
		json_t *doc = NULL;

		/* refused at once: its line may be here already */
		if (top_read_answer(&l->conn, &doc) == 1 && error_of(doc))
			snprintf(l->fatal, sizeof(l->fatal), "the daemon refused: %s", error_of(doc));
		json_decref(doc);
		top_disconnect(&l->conn);
		set_status(l, "connection lost: retrying");
		return;
	}
	l->sent_ms = now_ms();
}

static void on_answer(struct live *l)
{
	json_t *doc = NULL;
	int rc = top_read_answer(&l->conn, &doc);

	if (rc == 0)
		return;
	if (rc < 0) {
		top_disconnect(&l->conn);
		set_status(l, "connection lost (the daemon stopped?): retrying");
		return;
	}
	if (error_of(doc)) {
		snprintf(l->fatal, sizeof(l->fatal), "the daemon refused: %s", error_of(doc));
		json_decref(doc);
		return;
	}
	json_decref(l->snap);
	l->snap = doc;
	l->status[0] = '\0';
	l->dirty = true;
	if (l->ask_now)
		ask(l);
}

/* Ctrl-Z or SIGTSTP: the terminal back to the shell, stopped until fg. */
static void suspend(struct live *l)
{
	top_term_leave();
	kill(getpid(), SIGSTOP);
	/* continued (SIGCONT): the view again */
	if (top_term_enter(0, 1))
		snprintf(l->fatal, sizeof(l->fatal), "the terminal is gone");
	top_term_size(1, &l->width, &l->height);
	l->dirty = true;
}

static void on_key(struct live *l, enum top_key k)
{
	if (l->help && k != TK_QUIT) {
		l->help = false;
		l->dirty = true;
		return;
	}
	switch (k) {
	case TK_QUIT:
		l->quit = true;
		return;
	case TK_PAUSE:
		l->paused = !l->paused;
		break;
	case TK_SORT_RATIO:
		l->sort = "ratio";
		l->ask_now = true;
		break;
	case TK_SORT_VOLUME:
		l->sort = "volume";
		l->ask_now = true;
		break;
	case TK_SORT_NEXT:
		l->sort = !strcmp(l->sort, "ratio") ? "volume" : "ratio";
		l->ask_now = true;
		break;
	case TK_KIND:
		l->kind = (l->kind + 1) % N_KINDS;
		l->ask_now = true;
		break;
	case TK_HELP:
		l->help = true;
		break;
	case TK_SUSPEND:
		suspend(l);
		break;
	default:
		break;
	}
	l->dirty = true;
}

static int draw(struct live *l)
{
	struct top_buf b = { 0 };
	struct top_screen sc = {
		.width = l->width, .height = l->height, .utf8 = utf8_locale(),
		.colour = !(getenv("NO_COLOR") && *getenv("NO_COLOR")), .paused = l->paused,
		.help = l->help, .sort = l->sort, .kind = kinds[l->kind],
		.status = l->status[0] ? l->status : NULL,
	};
	int ret;

	top_frame(&b, l->snap, &sc);
	ret = b.oom ? -1 : top_write_all(1, b.s, b.len);
	top_buf_free(&b);
	l->dirty = false;
	return ret;
}

static int live_loop(struct live *l)
{
	char in[64];
	enum top_key keys[64];

	top_term_size(1, &l->width, &l->height);
	ask(l);
	while (!l->quit && !l->fatal[0]) {
		struct pollfd p[3] = { { .fd = 0, .events = POLLIN },
				       { .fd = l->sig_fd, .events = POLLIN },
				       { .fd = l->conn.fd, .events = POLLIN } };
		long long now = now_ms(), wait = l->next_ms - now;
		int status;

		if (l->sa && l->sa->pid > 0 && waitpid(l->sa->pid, &status, WNOHANG) == l->sa->pid) {
			l->sa->pid = 0;
			snprintf(l->fatal, sizeof(l->fatal), "the standalone sensor stopped");
			break;
		}
		if (l->conn.pending && now - l->sent_ms > ANSWER_TIMEOUT_MS) {
			top_disconnect(&l->conn);
			set_status(l, "the daemon does not answer: retrying");
		}
		/* every period unless paused; at once after a key that changes
		 * what is shown, paused or not */
		if (!l->conn.pending && ((!l->paused && now >= l->next_ms) || l->ask_now))
			ask(l);
		if (l->dirty && draw(l))
			return -1;
		if ((l->paused && !l->ask_now) || l->conn.pending)
			wait = 1000;
		if (wait < 0)
			wait = 0;
		if (wait > 1000)
			wait = 1000;
		if (poll(p, l->conn.fd >= 0 ? 3 : 2, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(l->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTSTP) {
					suspend(l);
					continue;
				}
				if (si.ssi_signo != SIGWINCH)
					break; /* SIGINT, SIGTERM, SIGHUP: the terminal back, exit */
				top_term_size(1, &l->width, &l->height);
				l->ask_now = true; /* room for more or fewer rows */
				l->dirty = true;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, in, sizeof(in));

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break; /* the terminal is gone */
			for (int i = 0, k = top_keys(in, n > 0 ? (size_t)n : 0, keys, 64);
			     i < k && !l->quit; i++)
				on_key(l, keys[i]);
		}
		if (l->conn.fd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			on_answer(l);
	}
	return 0;
}

static int live(const struct top_opts *o, const char *path, struct top_standalone *sa)
{
	struct live l = { .o = o, .path = path, .sa = sa, .conn = { .fd = -1 }, .sort = o->sort,
			  .kind = o->kind, .sig_fd = -1 };
	sigset_t mask;
	int ret = EXIT_FAIL;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l.sig_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (top_term_enter(0, 1)) {
		log_error("the live view needs a terminal (use --once or --json)");
		close(l.sig_fd);
		return EXIT_USAGE;
	}
	if (live_loop(&l) == 0)
		ret = l.fatal[0] ? EXIT_FAIL : EXIT_OK;
	top_term_leave();
	if (l.fatal[0])
		log_error("%s", l.fatal);
	else if (ret)
		log_error("cannot write to the terminal: %s", strerror(errno));
	top_disconnect(&l.conn);
	json_decref(l.snap);
	close(l.sig_fd);
	return ret;
}

/* ---- the command ------------------------------------------------------------------------ */

enum { OPT_ONCE = 256, OPT_JSON, OPT_STANDALONE, OPT_SOCKET, OPT_SORT, OPT_KIND };

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "standalone", no_argument, NULL, OPT_STANDALONE },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "config", required_argument, NULL, 'c' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "limit", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	char *end;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:n:d:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ONCE: o->once = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_STANDALONE: o->standalone = true; break;
		case OPT_SOCKET:
			/* a unix socket's path holds 107 bytes (108 with its NUL) */
			if (!*optarg || strlen(optarg) > 107) {
				log_error("invalid value '%.120s%s' for --socket: expected a socket's path "
					  "of 1 to 107 bytes", optarg, strlen(optarg) > 120 ? "..." : "");
				return EXIT_USAGE;
			}
			o->socket = optarg;
			break;
		case 'c': o->config = optarg; break;
		case 'h': usage(stdout); return 0;
		case OPT_SORT:
			if (strcmp(optarg, "ratio") && strcmp(optarg, "volume")) {
				log_error("invalid value '%s' for --sort: expected ratio or volume", optarg);
				return EXIT_USAGE;
			}
			o->sort = optarg;
			break;
		case OPT_KIND:
			o->kind = -1;
			for (int k = 0; k < N_KINDS; k++)
				if (!strcmp(optarg, kinds[k]))
					o->kind = k;
			if (o->kind < 0) {
				log_error("invalid value '%s' for --kind: expected all, user, db_user, "
					  "process, peer or app_user", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			errno = 0;
			o->limit = (int)strtol(optarg, &end, 10);
			if (errno || *end || o->limit < 1 || o->limit > 1000) {
				log_error("invalid value '%s' for --limit: expected 1 to 1000", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (config_parse_seconds(optarg, &o->delay_s) || o->delay_s < 0.1 ||
			    o->delay_s > 3600) {
				log_error("invalid value '%s' for --delay: expected seconds from 0.1 to "
					  "3600", optarg);
				return EXIT_USAGE;
			}
			break;
		case ':':
			log_error("option %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("unknown option '%s' (see vigie top --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see vigie top --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->once && o->json) {
		log_error("--once and --json: choose one");
		return EXIT_USAGE;
	}
	if (o->socket && o->standalone) {
		log_error("--socket and --standalone: a standalone sensor has a socket of its own");
		return EXIT_USAGE;
	}
	return -1;
}

/* sensor.control_socket of the configuration file, malloc'ed (NULL: the
 * file sets none, or cannot be read: *bad). */
static char *config_socket(const char *path, bool *bad)
{
	struct vigie_config cfg;
	char *sock = NULL;

	*bad = false;
	if (config_init(&cfg) || config_load_file(&cfg, path)) {
		*bad = true;
	} else if (cfg.control_socket) {
		sock = strdup(cfg.control_socket);
		*bad = !sock;
	}
	config_free(&cfg);
	return sock;
}

int top_main(int argc, char **argv)
{
	struct top_opts o = { .sort = "ratio", .delay_s = 1 };
	struct top_standalone sa = { 0 };
	struct top_conn conn = { .fd = -1 };
	char msg[512], *cfg_sock = NULL;
	const char *path = CONFIG_CONTROL_SOCKET;
	int ret;

	setlocale(LC_CTYPE, "");
	signal(SIGPIPE, SIG_IGN);
	ret = parse_args(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (!o.once && !o.json && (!isatty(0) || !isatty(1))) {
		log_error("the live view needs a terminal: use --once or --json");
		return EXIT_USAGE;
	}
	if (!o.once && !o.json && (!getenv("TERM") || !strcmp(getenv("TERM"), "dumb"))) {
		log_error("the live view needs a terminal that understands ANSI escapes (TERM is "
			  "%s): use --once or --json", getenv("TERM") ? "dumb" : "unset");
		return EXIT_USAGE;
	}
	if (o.config && !o.standalone) {
		bool bad;

		cfg_sock = config_socket(o.config, &bad);
		if (bad)
			return EXIT_USAGE;
		if (!cfg_sock) {
			log_error("%s: sensor.control_socket is null: that sensor has no control "
				  "socket", o.config);
			return EXIT_FAIL;
		}
		path = cfg_sock;
	}
	if (o.socket)
		path = o.socket;
	if (o.standalone) {
		if (!o.once && !o.json)
			fprintf(stderr, "vigie top: loading the probes...\n");
		if (top_standalone_start(&sa, o.config, START_TIMEOUT_MS, msg, sizeof(msg))) {
			log_error("%s", msg);
			ret = EXIT_FAIL;
			goto cleanup;
		}
		path = sa.sock;
		if (o.once || o.json)
			poll(NULL, 0, (int)(o.delay_s * 1000)); /* something to show */
	}
	if (o.once || o.json) {
		enum top_conn_err e = top_connect(&conn, path, msg, sizeof(msg));

		if (e != TCE_OK) {
			log_error("%s", msg);
			ret = EXIT_FAIL;
			goto cleanup;
		}
		ret = print_once(&conn, &o);
		goto cleanup;
	}
	/* the live view: a daemon must answer first (or the standalone one) */
	{
		enum top_conn_err e = top_connect(&conn, path, msg, sizeof(msg));

		if (e != TCE_OK) {
			log_error("%s", msg);
			ret = EXIT_FAIL;
			goto cleanup;
		}
		top_disconnect(&conn);
	}
	ret = live(&o, path, o.standalone ? &sa : NULL);
cleanup:
	top_disconnect(&conn);
	top_standalone_stop(&sa);
	free(cfg_sock);
	return ret;
}
