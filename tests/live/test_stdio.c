// SPDX-License-Identifier: GPL-2.0
/*
 * Live: what vigie run is handed besides its options. A standard output
 * closed at start (vigie >&-) gave its number to the state's lock file,
 * which took every event; -o a named pipe no process reads blocked the
 * start for good, its stop signals held. Now: refused with a message, or
 * a bounded wait that SIGTERM ends, and the events reach a reader that
 * comes later.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "lib/live.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* -o a named pipe no process reads: open() blocked, with the stop
 * signals held, so only SIGKILL ended the daemon. It now waits for a
 * reader (10 s at most) and a SIGTERM ends the wait; a reader that comes
 * gets the events. */
static void check_output_fifo(void)
{
	char *fifo = live_path("events.fifo"), *err_path = live_path("fifo.err"), *err, line[4096];
	char *argv[] = { (char *)live_vigie_bin(), "run", "-o", fifo, "--duration", "1", NULL };
	struct spawn_opts o = { .stderr_path = err_path };
	struct child c;
	long long t0;
	int st, lines = 0;
	FILE *r;

	live_section("-o a named pipe");
	if (mkfifo(fifo, 0600)) {
		ASSERT_TRUE(false, "-o a named pipe: set-up");
		return;
	}
	ASSERT_TRUE(child_spawn(&c, &o, argv) == 0, "no reader: started");
	usleep(500000);
	t0 = now_ms();
	kill(c.pid, SIGTERM);
	st = child_wait(&c, 5000);
	ASSERT_TRUE(now_ms() - t0 < 3000, "no reader: SIGTERM ends the wait within 3 s");
	ASSERT_EQ_INT(st, 1, "no reader: exit status");
	err = live_read_file(err_path, NULL);
	ASSERT_CONTAINS(err, "is a named pipe that no process reads",
			"no reader: message");
	free(err);
	/* a reader that comes after the start gets every event */
	ASSERT_TRUE(child_spawn(&c, &o, argv) == 0, "a reader later: started");
	usleep(500000);
	r = fopen(fifo, "r");
	while (r && fgets(line, sizeof(line), r))
		lines += strchr(line, '\n') != NULL;
	if (r)
		fclose(r);
	st = child_wait(&c, 20000);
	ASSERT_EQ_INT(st, 0, "a reader later: exit status");
	ASSERT_TRUE(lines >= 2, "a reader later: the events through the pipe (sensor-start, "
		    "sensor-stop)");
	/* the reader goes away (a log shipper restarted): SIGPIPE killed the
	 * sensor without a word; now the loss is counted and said, and the
	 * next reader gets the events */
	{
		char *argv5[] = { (char *)live_vigie_bin(), "run", "-o", fifo, "--duration", "5",
				  "--tick", "0.2", "--heartbeat", "0.2", NULL };
		char *text;
		int fd;
		void (*was)(int) = signal(SIGPIPE, SIG_DFL); /* as a shell or systemd gives it */

		ASSERT_TRUE(child_spawn(&c, &o, argv5) == 0, "reader gone: started");
		signal(SIGPIPE, was);
		r = fopen(fifo, "r");
		if (r) {
			(void)!fgets(line, sizeof(line), r); /* sensor-start, then away */
			fclose(r);
		}
		usleep(2000000); /* heartbeats meanwhile, into no reader */
		/* not blocking when the writer died (the previous build) */
		fd = open(fifo, O_RDONLY | O_NONBLOCK);
		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		r = fd >= 0 ? fdopen(fd, "r") : NULL;
		lines = 0;
		text = NULL;
		while (r && fgets(line, sizeof(line), r))
			if (strstr(line, "\"sensor-stop\""))
				lines++;
		if (r)
			fclose(r);
		st = child_wait(&c, 20000);
		ASSERT_EQ_INT(st, 0, "reader gone: the sensor goes on (exit status)");
		ASSERT_EQ_INT(lines, 1, "reader gone: the next reader gets sensor-stop");
		text = live_read_file(err_path, NULL);
		ASSERT_CONTAINS(text, "Broken pipe", "reader gone: said");
		free(text);
	}
	unlink(fifo);
	/* a socket's name gives the same error as a pipe with no reader
	 * (ENXIO): no wait, and said for what it is */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int sfd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fifo);
		ASSERT_TRUE(sfd >= 0 && bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
			    "-o a socket: set-up");
		t0 = now_ms();
		ASSERT_TRUE(child_spawn(&c, &o, argv) == 0, "-o a socket: started");
		st = child_wait(&c, 20000);
		ASSERT_TRUE(now_ms() - t0 < 3000, "-o a socket: no wait");
		ASSERT_EQ_INT(st, 1, "-o a socket: exit status");
		err = live_read_file(err_path, NULL);
		ASSERT_CONTAINS(err, "it is a socket, not a file", "-o a socket: message");
		free(err);
		if (sfd >= 0)
			close(sfd);
		unlink(fifo);
	}
	free(fifo);
	free(err_path);
}

/* A command started with its standard output closed (vigie >&-): the
 * next file it opened took descriptor 1, the state's lock file, and every
 * event went into it and was lost with it (exit 0). */
static int exec_stdout_closed(const char *err_path, char **argv)
{
	struct spawn_opts o = { 0 };
	struct child c;
	int saved1, saved2, fd, st;

	/* stderr set here, not by child_spawn: opened in the child, the file
	 * would take the closed descriptor 1 itself */
	fflush(stdout);
	fflush(stderr);
	fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	saved1 = dup(1);
	saved2 = dup(2);
	dup2(fd, 2);
	close(fd);
	close(1);
	st = child_spawn(&c, &o, argv);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	return st ? -1 : child_wait(&c, 20000);
}

static void check_stdout_closed(void)
{
	char *state = live_path("closed-state.json"), *out = live_path("closed-out.json");
	char *err_path = live_path("closed.err"), *err;
	char *run[] = { (char *)live_vigie_bin(), "run", "--duration", "2", "--heartbeat", "1",
			"--state", state, NULL };
	char *run_o[] = { (char *)live_vigie_bin(), "run", "--duration", "2", "--heartbeat", "1",
			  "--state", state, "-o", out, NULL };
	struct events e = { 0 };
	int st;

	live_section("standard output closed at start");
	st = exec_stdout_closed(err_path, run);
	err = live_read_file(err_path, NULL);
	ASSERT_EQ_INT(st, 1, "events to a closed standard output: exit status");
	ASSERT_CONTAINS(err, "standard output is closed: the events would be lost",
			"events to a closed standard output: message");
	ASSERT_TRUE(access(state, F_OK) != 0, "events to a closed standard output: no state saved");
	free(err);
	st = exec_stdout_closed(err_path, run_o);
	ASSERT_EQ_INT(st, 0, "-o FILE, standard output closed: exit status");
	ASSERT_TRUE(events_load(&e, out) == 0 && e.bad_lines == 0 && events_count(&e, "heartbeat") >= 1,
		    "-o FILE, standard output closed: the events in FILE");
	events_free(&e);
	free(state);
	free(out);
	free(err_path);
}

/* -o /dev/stdout, as a unit file or a container's command line says it: a
 * link to descriptor 1, which the daemon refused as a link ("give the real
 * path", which has none); now standard output, as -o - is. */
static void check_dev_stdout(void)
{
	char *state = live_path("devstdout-state.json"), *out = live_path("devstdout.json");
	char *err = live_path("devstdout.err"), *msg;
	struct events e = { 0 };
	int st;

	live_section("-o /dev/stdout");
	/* in braces: live_sh sends the group's output to /dev/null */
	st = live_sh("{ '%s' run --duration 2 --heartbeat 1 --state '%s' -o /dev/stdout >'%s' "
		     "2>'%s'; }", live_vigie_bin(), state, out, err);
	msg = live_read_file(err, NULL);
	ASSERT_EQ_INT(st, 0, "-o /dev/stdout: exit status");
	CHECK(msg && !strstr(msg, "error"), "-o /dev/stdout: no error (%s)", msg ? msg : "");
	ASSERT_TRUE(events_load(&e, out) == 0 && e.bad_lines == 0 &&
			    events_count(&e, "sensor-start") == 1 && events_count(&e, "heartbeat") >= 1 &&
			    events_count(&e, "sensor-stop") == 1,
		    "-o /dev/stdout: the events on standard output");
	events_free(&e);
	free(msg);
	free(state);
	free(out);
	free(err);
}

int main(void)
{
	live_init("stdio");
	check_stdout_closed();
	check_dev_stdout();
	check_output_fifo();
	return live_finish();
}
