// SPDX-License-Identifier: GPL-2.0
/* Configuration: defaults, overrides, and a clear error for every bad input. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/stat.h>
#include "check.h"
#include "base/config.h"
#include "base/safefile.h"
#include "detect/detect.h"

static int load(struct vigie_config *cfg, const char *text, char *err, size_t len)
{
	config_free(cfg);
	config_init(cfg);
	err[0] = '\0';
	return config_load_string(cfg, text, err, len);
}

/* The error must mention every fragment given. */
static void expect_error(const char *text, const char *frag1, const char *frag2)
{
	struct vigie_config cfg;
	char err[512];

	config_init(&cfg);
	CHECK(load(&cfg, text, err, sizeof(err)) == -1);
	if (!strstr(err, frag1) || (frag2 && !strstr(err, frag2))) {
		check_failed++;
		fprintf(stderr, "%s:%d: error '%s' lacks '%s'/'%s' (config: %s)\n", __FILE__, __LINE__,
			err, frag1, frag2 ? frag2 : "", text);
	}
	config_free(&cfg);
}

static void test_defaults(void)
{
	struct vigie_config cfg;

	CHECK_EQ_INT(config_init(&cfg), 0);
	CHECK(cfg.tick_s == 1);
	CHECK(cfg.usage_interval_s == 60);
	CHECK(cfg.exclude_loopback);
	CHECK_EQ_INT(cfg.n_db_ports, 6);
	CHECK_EQ_INT(cfg.db_ports[0], 5432);
	CHECK_EQ_INT(cfg.db_ports[1], 3306);
	CHECK_EQ_INT(cfg.db_ports[2], 1521);
	CHECK_EQ_INT(cfg.db_ports[3], 50000);
	CHECK_EQ_INT(cfg.db_ports[4], 1433);
	CHECK_EQ_INT(cfg.db_ports[5], 27017);
	CHECK_EQ_INT(cfg.n_data_dirs, 0);
	CHECK_EQ_INT(cfg.probes, PROBES_AUTO);
	CHECK_EQ_INT(cfg.postgres, PG_AUTO);
	CHECK(cfg.detection == NULL);
	CHECK_EQ_INT(cfg.flow_cache_slots, 256);
	config_free(&cfg);
}

static void test_overrides(void)
{
	struct vigie_config cfg;
	char err[512];
	const char *text =
		"{\n"
		"  \"sensor\": {\"tick\": 0.5, \"usage_interval\": \"2m\", \"probes\": \"syscalls\",\n"
		"             \"output\": \"/var/log/vigie.json\"},\n"
		"  \"network\": {\"exclude_loopback\": false,\n"
		"              \"internal_networks\": [\"10.0.0.0/8\", \"fd00::/8\", \"192.168.1.7\"]},\n"
		"  \"databases\": {\"ports\": [6543], \"endpoints\": [\"10.1.2.3:6000\", \"[2001:db8::5]:7000\", \"10.9.9.9\"],\n"
		"                \"data_directories\": [\"/var/lib/postgresql\"], \"postgres\": \"off\"},\n"
		"  \"limits\": {\"flow_entries\": 4, \"flow_cache_slots\": 0},\n"
		"  \"detection\": {\"anything\": 1}\n"
		"}\n";

	config_init(&cfg);
	CHECK_EQ_INT(load(&cfg, text, err, sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	CHECK(cfg.tick_s == 0.5);
	CHECK(cfg.usage_interval_s == 120);
	CHECK_EQ_INT(cfg.probes, PROBES_SYSCALLS);
	CHECK_EQ_STR(cfg.output, "/var/log/vigie.json");
	CHECK(!cfg.exclude_loopback);
	CHECK_EQ_INT(cfg.n_internal_nets, 3);
	CHECK_EQ_INT(cfg.internal_nets[0].prefix, 8 + 96);
	CHECK_EQ_INT(cfg.internal_nets[0].addr[10], 0xff);
	CHECK_EQ_INT(cfg.internal_nets[0].addr[12], 10);
	CHECK_EQ_INT(cfg.internal_nets[1].prefix, 8);
	CHECK_EQ_INT(cfg.internal_nets[1].addr[0], 0xfd);
	CHECK_EQ_INT(cfg.internal_nets[2].prefix, 128);
	CHECK_EQ_INT(cfg.n_db_ports, 1);
	CHECK_EQ_INT(cfg.db_ports[0], 6543);
	CHECK_EQ_INT(cfg.n_db_endpoints, 3);
	CHECK_EQ_INT(cfg.db_endpoints[0].family, AF_INET);
	CHECK_EQ_INT(cfg.db_endpoints[0].port, 6000);
	CHECK_EQ_INT(cfg.db_endpoints[1].family, AF_INET6);
	CHECK_EQ_INT(cfg.db_endpoints[1].port, 7000);
	CHECK_EQ_INT(cfg.db_endpoints[2].port, 0);
	CHECK_EQ_INT(cfg.n_data_dirs, 1);
	CHECK_EQ_STR(cfg.data_dirs[0], "/var/lib/postgresql");
	CHECK_EQ_INT(cfg.postgres, PG_OFF);
	CHECK_EQ_INT(cfg.flow_entries, 4);
	CHECK_EQ_INT(cfg.flow_cache_slots, 0);
	CHECK(json_is_object(cfg.detection));
	config_free(&cfg);
}

static void test_errors(void)
{
	expect_error("{", "invalid JSON", "(config):1:");
	expect_error("[]", "must be a JSON object", NULL);
	expect_error("{\"sensor\": {\"output_max_bytes\": 1000}}", "sensor.output_max_bytes", ">= 65536");
	expect_error("{\"sensor\": {\"output_keep\": 0}}", "sensor.output_keep", NULL);
	expect_error("{\"sensor\": {\"control_socket\": \"run/vigie.sock\"}}",
		     "sensor.control_socket", "absolute path");
	expect_error("{\"sensor\": {\"control_socket\": 5}}", "sensor.control_socket", NULL);
	expect_error("{\"sensor\": {\"syslog_spool\": \"spool\"}}", "sensor.syslog_spool", "absolute path");
	expect_error("{\"sensor\": {\"syslog_spool_bytes\": 10}}", "sensor.syslog_spool_bytes", NULL);
	expect_error("{\"databases\": {\"postgres_tls\": true}}", "databases.postgres_tls",
		     "must be \"hook\" or \"off\"");
	expect_error("{\"sensr\": {}}", "sensr", "unknown setting");
	expect_error("{\n\"sensor\": {\n\"tik\": 1}}", "sensor.tik", ":3:");
	expect_error("{\"sensor\": {\"tick\": -1}}", "sensor.tick", "seconds");
	expect_error("{\"sensor\": {\"tick\": \"soon\"}}", "sensor.tick", NULL);
	expect_error("{\"sensor\": {\"probes\": \"kprobe\"}}", "sensor.probes", "syscalls");
	expect_error("{\"sensor\": {\"output\": 3}}", "sensor.output", "string");
	expect_error("{\"sensor\": {\"output\": \"a\\u0000b\"}}", "invalid JSON", ":1:");
	expect_error("{\"network\": {\"exclude_loopback\": \"yes\"}}", "network.exclude_loopback", "true or false");
	expect_error("{\"network\": {\"internal_networks\": [\"10.0.0.0/33\"]}}", "internal_networks[0]", "CIDR");
	expect_error("{\"network\": {\"internal_networks\": [\"10.0.0.0/8\", \"nonsense\"]}}", "internal_networks[1]", NULL);
	expect_error("{\"network\": {\"internal_networks\": \"10.0.0.0/8\"}}", "network.internal_networks", "array");
	expect_error("{\"databases\": {\"data_directories\": [\"/srv/pg\", \"/\"]}}",
		     "databases.data_directories[1]", "root of the file system");
	expect_error("{\"databases\": {\"data_directories\": [\"//./..\"]}}",
		     "databases.data_directories[0]", "root of the file system");
	expect_error("{\"databases\": {\"data_directories\": [\"pg/data\"]}}",
		     "databases.data_directories[0]", "absolute path");
	{
		struct vigie_config c;
		char e[512];

		config_init(&c);
		CHECK_EQ_INT(load(&c, "{\"databases\": {\"data_directories\": [\"/.pg\", \"/a/.\", "
				  "\"/...\"]}}", e, sizeof(e)), 0);
		CHECK_EQ_INT(c.n_data_dirs, 3);
		config_free(&c);
	}
	expect_error("{\"databases\": {\"ports\": [0]}}", "databases.ports[0]", "[1, 65535]");
	expect_error("{\"databases\": {\"ports\": [70000]}}", "databases.ports[0]", NULL);
	expect_error("{\"databases\": {\"ports\": [5432.5]}}", "databases.ports[0]", NULL);
	expect_error("{\"databases\": {\"endpoints\": [\"1.2.3.4:99999\"]}}", "databases.endpoints[0]", NULL);
	expect_error("{\"databases\": {\"data_directories\": [\"relative/dir\"]}}", "data_directories[0]", "absolute");
	expect_error("{\"databases\": {\"postgres\": true}}", "databases.postgres", NULL);
	expect_error("{\"limits\": {\"flow_entries\": 0}}", "limits.flow_entries", NULL);
	expect_error("{\"limits\": {\"flow_cache_slots\": 3}}", "limits.flow_cache_slots",
		     "power of two, not 3");
	expect_error("{\"limits\": {\"flow_cache_slots\": 512}}", "limits.flow_cache_slots", NULL);
	expect_error("{\"limits\": {\"flow_cache_slots\": -1}}", "limits.flow_cache_slots", NULL);
	expect_error("{\"detection\": []}", "detection", "object");
	expect_error("{\"sensor\": {}, \"sensor\": {}}", "invalid JSON", "duplicate");
	/* the line is the bad item's, and a key mentioned in a comment is
	 * not taken for the key */
	expect_error("{\"$comment\": \"internal_networks\",\n\"network\": {\n"
		     "\"internal_networks\": [\n\"10.0.0.0/8\",\n\"bad\"]}}",
		     "(config):5: network.internal_networks[1]", NULL);
	expect_error("{\"databases\": {\"ports\": [\n5432,\n\n99999]}}",
		     "(config):4: databases.ports[1]", NULL);
	expect_error("{\"databases\": {\n\"endpoints\": [\"1.2.3.4:5\",\n\"1.2.3.4:0\"]}}",
		     "(config):3: databases.endpoints[1]", NULL);
}

static void test_parsers(void)
{
	double s;
	struct config_net n;
	struct config_endpoint e;
	enum probe_mode m;

	CHECK_EQ_INT(config_parse_seconds("10", &s), 0);
	CHECK(s == 10);
	CHECK_EQ_INT(config_parse_seconds("1.5m", &s), 0);
	CHECK(s == 90);
	CHECK_EQ_INT(config_parse_seconds("1h", &s), 0);
	CHECK(s == 3600);
	CHECK_EQ_INT(config_parse_seconds("", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("0", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("-3", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("nan", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("inf", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("1e400", &s), -1);
	CHECK_EQ_INT(config_parse_seconds("5x", &s), -1);
	CHECK_EQ_INT(config_parse_cidr("::ffff:10.0.0.0/104", &n), 0);
	CHECK_EQ_INT(config_parse_cidr("10.0.0.1/", &n), -1);
	CHECK_EQ_INT(config_parse_cidr("/8", &n), -1);
	CHECK_EQ_INT(config_parse_cidr("2001:db8::/129", &n), -1);
	CHECK_EQ_INT(config_parse_endpoint("[::1]:5432", &e), 0);
	CHECK_EQ_INT(e.port, 5432);
	CHECK_EQ_INT(config_parse_endpoint("::1", &e), 0);
	CHECK_EQ_INT(e.port, 0);
	CHECK_EQ_INT(config_parse_endpoint("[::1", &e), -1);
	CHECK_EQ_INT(config_parse_endpoint("1.2.3.4:", &e), -1);
	CHECK_EQ_INT(config_parse_endpoint("host.example:5432", &e), -1);
	CHECK_EQ_INT(config_parse_probe_mode("sock", &m), 0);
	CHECK_EQ_INT(m, PROBES_SOCK);
	CHECK_EQ_INT(config_parse_probe_mode("SOCK", &m), -1);
	CHECK_EQ_INT(config_parse_probe_mode(NULL, &m), -1);
}

/* The installed configuration (packaging/vigie.json) shows every setting
 * with its built-in default: loading it changes nothing. */
static void test_installed_is_default(void)
{
	struct vigie_config def, inst;
	struct detect_config dd, di;
	char err[512] = "";
	FILE *f = fopen("packaging/vigie.json", "r");
	char text[65536];
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	CHECK(n > 1000);
	config_init(&def);
	config_init(&inst);
	CHECK_EQ_INT(config_load_string(&inst, text, err, sizeof(err)), 0);
	CHECK(inst.tick_s == def.tick_s && inst.usage_interval_s == def.usage_interval_s &&
	      inst.heartbeat_s == def.heartbeat_s && inst.probes == def.probes);
	CHECK(inst.usage_detail == def.usage_detail && inst.usage_coarse_records == def.usage_coarse_records &&
	      inst.usage_coarse_bytes == def.usage_coarse_bytes &&
	      inst.usage_coarse_interval_s == def.usage_coarse_interval_s &&
	      inst.usage_top_flows == def.usage_top_flows);
	CHECK(inst.metrics_listen == NULL && inst.output == NULL && inst.state_file == NULL);
	CHECK_EQ_STR(inst.control_socket, def.control_socket);
	CHECK_EQ_STR(def.control_socket, "/run/vigie/control.sock");
	CHECK(inst.output_group == NULL && inst.syslog == NULL &&
	      inst.syslog_facility == def.syslog_facility &&
	      inst.syslog_queue_bytes == def.syslog_queue_bytes &&
	      inst.syslog_spool == NULL && inst.syslog_spool_bytes == def.syslog_spool_bytes &&
	      inst.output_max_bytes == 0 && inst.output_keep == def.output_keep);
	CHECK(inst.exclude_loopback == def.exclude_loopback && inst.n_internal_nets == 0);
	CHECK_EQ_INT(inst.n_db_ports, def.n_db_ports);
	CHECK(memcmp(inst.db_ports, def.db_ports, sizeof(def.db_ports)) == 0);
	CHECK_EQ_INT(inst.n_db_endpoints, 0);
	CHECK_EQ_INT(inst.n_data_dirs, 0);
	CHECK_EQ_INT(inst.n_server_exes, def.n_server_exes);
	for (int i = 0; i < def.n_server_exes && i < inst.n_server_exes; i++)
		CHECK_EQ_STR(inst.server_exes[i], def.server_exes[i]);
	CHECK(inst.postgres_tls_hook && def.postgres_tls_hook);
	CHECK(inst.postgres == def.postgres && inst.flow_entries == def.flow_entries &&
	      inst.total_entries == def.total_entries);
	CHECK_EQ_INT(detect_config_parse(NULL, &dd, err, sizeof(err)), 0);
	CHECK_EQ_INT(detect_config_parse(inst.detection, &di, err, sizeof(err)), 0);
	CHECK_MSG(memcmp(&dd, &di, offsetof(struct detect_config, profiles)) == 0,
		  "detection settings of packaging/vigie.json differ from the built-in ones");
	CHECK_EQ_INT(di.n_profiles, dd.n_profiles);
	detect_config_free(&dd);
	detect_config_free(&di);
	config_free(&def);
	config_free(&inst);
}

/* sensor.output_group: a group name resolved at parse time; a file output
 * needed. */
static void test_output_group(void)
{
	struct vigie_config c;
	char err[512] = "";

	config_init(&c);
	CHECK_EQ_INT(config_load_string(&c, "{\"sensor\": {\"output\": \"/tmp/x.json\", "
				       "\"output_group\": \"root\"}}", err, sizeof(err)), 0);
	CHECK_EQ_STR(c.output_group, "root");
	CHECK_EQ_INT((int)c.output_gid, 0);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
	free(c.output);
	c.output = NULL;
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.output_group: the output is standard output") != NULL,
		  "%s", err);
	config_free(&c);
	config_init(&c);
	CHECK_EQ_INT(config_load_string(&c, "{\"sensor\": {\"output_group\": null}}", err,
				       sizeof(err)), 0);
	CHECK(c.output_group == NULL);
	config_free(&c);
	expect_error("{\"sensor\": {\"output_group\": \"no-such-group-vigie\"}}",
		     "sensor.output_group", "no group named 'no-such-group-vigie'");
	expect_error("{\"sensor\": {\"output_group\": 4}}", "sensor.output_group", "string");
}

/* Loading a file: regular, through a pipe (-c <(...), /dev/stdin), and
 * every way it can be unreadable, each with its own message. */
static int load_file(const char *path, char *err, size_t len, struct vigie_config *cfg)
{
	config_init(cfg);
	err[0] = '\0';
	return config_load_file_msg(cfg, path, err, len);
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fwrite(text, 1, n, f) == n);
	if (f)
		fclose(f);
}

static void test_files(void)
{
	char dir[] = "/tmp/vigie-test-config.XXXXXX", path[256], err[512];
	const char *good = "{\"sensor\": {\"tick\": 3}}";
	struct vigie_config c;
	int fds[2] = { -1, -1 };
	char *big = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/good.json", dir);
	write_file(path, good, strlen(good));
	CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), 0);
	CHECK(c.tick_s == 3);
	config_free(&c);

	/* a pipe: no size to ask for, read to its end */
	CHECK_EQ_INT(pipe(fds), 0);
	CHECK((size_t)write(fds[1], good, strlen(good)) == strlen(good));
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), 0);
	CHECK(c.tick_s == 3);
	config_free(&c);
	close(fds[0]);

	CHECK_EQ_INT(load_file(dir, err, sizeof(err), &c), -1);
	CHECK_MSG(strstr(err, "Is a directory") && strstr(err, dir), "%s", err);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), -1);
	CHECK_MSG(strstr(err, "No such file or directory") && strstr(err, "missing.json"), "%s",
		  err);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/nul.json", dir);
	write_file(path, "{\"sensor\": {}}\0{}", 17);
	CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), -1);
	CHECK_MSG(strstr(err, "holds a NUL byte") != NULL, "%s", err);
	config_free(&c);

	/* 4 MiB is the most; one byte more is refused, whatever it holds */
	big = malloc(4u * 1024 * 1024 + 1);
	CHECK(big != NULL);
	if (big) {
		memset(big, ' ', 4u * 1024 * 1024 + 1);
		big[0] = '{';
		big[4u * 1024 * 1024 - 1] = '}';
		snprintf(path, sizeof(path), "%s/4mib.json", dir);
		write_file(path, big, 4u * 1024 * 1024);
		CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), 0);
		config_free(&c);
		write_file(path, big, 4u * 1024 * 1024 + 1);
		CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), -1);
		CHECK_MSG(strstr(err, "larger than 4 MiB") != NULL, "%s", err);
		config_free(&c);
		unlink(path);
	}
	free(big);

	/* an endless stream stops at the limit */
	CHECK_EQ_INT(load_file("/dev/zero", err, sizeof(err), &c), -1);
	CHECK_MSG(strstr(err, "larger than 4 MiB") != NULL, "%s", err);
	config_free(&c);

	/* a named pipe: its writer may come later; with none, the daemon
	 * (its stop signals held) waited in open() for good. A held SIGTERM
	 * ends the wait at once here. */
	snprintf(path, sizeof(path), "%s/config.fifo", dir);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	{
		pid_t w = fork();
		sigset_t term, old;
		int status = 0;

		if (w == 0) {
			int fd;

			usleep(200000);
			fd = open(path, O_WRONLY);
			_exit(fd >= 0 && write(fd, good, strlen(good)) == (ssize_t)strlen(good) ? 0 : 1);
		}
		CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), 0);
		CHECK_MSG(c.tick_s == 3, "the late writer's configuration: tick %g", c.tick_s);
		config_free(&c);
		CHECK(w > 0 && waitpid(w, &status, 0) == w && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0);
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &old);
		raise(SIGTERM);
		alarm(30); /* a build that waits for good dies here instead of hanging */
		CHECK_EQ_INT(load_file(path, err, sizeof(err), &c), -1);
		alarm(0);
		CHECK_MSG(strstr(err, "stopped while waiting for it") != NULL, "%s", err);
		config_free(&c);
		CHECK_EQ_INT(sigwaitinfo(&term, NULL), SIGTERM);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	unlink(path);

	/* the state file: replaced by each save, so a regular file or none,
	 * in a directory that exists; never a directory or a device */
	config_init(&c);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	c.state_file = strdup(path);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
	free(c.state_file);
	c.state_file = strdup(dir);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.state_file (--state)") && strstr(err, "is a directory"),
		  "%s", err);
	free(c.state_file);
	c.state_file = strdup("/dev/null");
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "'/dev/null' is a character device") != NULL, "%s", err);
	free(c.state_file);
	snprintf(path, sizeof(path), "%s/no-such-dir/state.json", dir);
	c.state_file = strdup(path);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "no-such-dir': No such file or directory") != NULL, "%s", err);
	config_free(&c);

	/* one file for each thing written: the output, the trace, the state
	 * and the spool in one file would corrupt each other */
	config_init(&c);
	snprintf(path, sizeof(path), "%s/events.json", dir);
	c.output = strdup(path);
	snprintf(path, sizeof(path), "%s/./events.json", dir);
	c.record = strdup(path);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.output (-o) and sensor.record (--record) name the same "
			     "file") != NULL, "%s", err);
	free(c.record);
	snprintf(path, sizeof(path), "%s/trace.jsonl", dir);
	c.record = strdup(path);
	snprintf(path, sizeof(path), "%s/events.json", dir);
	c.state_file = strdup(path);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.output (-o) and sensor.state_file (--state)") != NULL, "%s",
		  err);
	free(c.state_file);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	c.state_file = strdup(path);
	c.syslog_spool = strdup(c.record);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "sensor.record (--record) and sensor.syslog_spool") != NULL, "%s",
		  err);
	free(c.syslog_spool);
	snprintf(path, sizeof(path), "%s/syslog.spool", dir);
	c.syslog_spool = strdup(path);
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0); /* four files */
	free(c.output);
	free(c.record);
	c.output = strdup("/dev/null"); /* a device is no file to corrupt */
	c.record = strdup("/dev/null");
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
	/* events on standard output: its file counts (vigie --state s >> s) */
	free(c.output);
	c.output = NULL;
	{
		int saved = dup(STDOUT_FILENO), fd = open(c.state_file, O_WRONLY | O_CREAT, 0600);

		CHECK(saved >= 0 && fd >= 0);
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
		CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		close(fd);
		CHECK_MSG(strstr(err, "standard output (sensor.output) and sensor.state_file (--state) "
				     "name the same file") != NULL, "%s", err);
		unlink(c.state_file);
		/* standard output restored: two files again */
		CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
	}
	/* --record - is standard output too: the events and the trace on it */
	free(c.record);
	c.record = strdup("-");
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "standard output (sensor.output) and sensor.record (--record)") != NULL,
		  "%s", err);
	snprintf(path, sizeof(path), "%s/events2.json", dir);
	c.output = strdup(path); /* the events elsewhere: the trace alone there */
	CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
	/* none of them is the configuration file read (-c c.json --state
	 * c.json replaced the configuration with the state) */
	CHECK_EQ_INT(config_check_files(&c, c.state_file, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "the configuration file (-c) and sensor.state_file (--state)") != NULL,
		  "%s", err);
	CHECK_EQ_INT(config_check_files(&c, c.output, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "the configuration file (-c) and sensor.output (-o)") != NULL, "%s",
		  err);
	snprintf(path, sizeof(path), "%s/vigie.json", dir);
	CHECK_EQ_INT(config_check_files(&c, path, err, sizeof(err)), 0);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/good.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nul.json", dir);
	unlink(path);
	rmdir(dir);
}

/* files_clash (base/safefile.c), which config_check_files and replay's
 * check use: only a file written clashes; the earliest pair is named. */
static void test_files_clash(void)
{
	char dir[] = "/tmp/vigie-clash-XXXXXX", x[64], y[64], xlink[64];
	int a = -1, b = -1;

	if (!mkdtemp(dir)) {
		CHECK(false);
		return;
	}
	snprintf(x, sizeof(x), "%s/x", dir);
	snprintf(y, sizeof(y), "%s/y", dir);
	snprintf(xlink, sizeof(xlink), "%s/x2", dir);
	close(open(x, O_WRONLY | O_CREAT, 0600));
	CHECK_EQ_INT(link(x, xlink), 0);
	{
		/* read twice (a trace given twice, a trace that is the configuration) */
		const struct named_file f[] = { { x, -1, false }, { xlink, -1, false } };

		CHECK(!files_clash(f, 2, &a, &b));
	}
	{
		/* a second name of a file read, written: clash; nothing given: skipped */
		const struct named_file f[] = { { x, -1, false }, { NULL, -1, true }, { y, -1, true },
						{ xlink, -1, true } };

		CHECK(files_clash(f, 4, &a, &b));
		CHECK_EQ_INT(a, 0);
		CHECK_EQ_INT(b, 3);
	}
	{
		/* the pair whose later file comes first is named, then the earlier */
		const struct named_file f[] = { { x, -1, true }, { y, -1, true }, { y, -1, true },
						{ x, -1, true } };

		CHECK(files_clash(f, 4, &a, &b));
		CHECK_EQ_INT(a, 1);
		CHECK_EQ_INT(b, 2);
	}
	{
		/* "-" twice for one descriptor meets, whatever the descriptor is */
		const struct named_file f[] = { { "-", STDOUT_FILENO, true }, { y, -1, true },
						{ "-", STDOUT_FILENO, true } };

		CHECK(files_clash(f, 3, &a, &b));
		CHECK_EQ_INT(a, 0);
		CHECK_EQ_INT(b, 2);
	}
	CHECK(!files_clash(NULL, 0, &a, &b));
	unlink(xlink);
	unlink(x);
	rmdir(dir);
}

int main(void)
{
	test_files();
	test_files_clash();
	test_output_group();
	test_installed_is_default();
	test_defaults();
	test_overrides();
	test_errors();
	test_parsers();
	return check_summary();
}
