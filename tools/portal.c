// SPDX-License-Identifier: GPL-2.0
/*
 * portal: a small web portal in front of PostgreSQL, for tests and demos.
 * Agents ask for records over HTTP; the portal reads them through a pool
 * of long-lived connections as one service account, as partner portals
 * do, and answers one JSON object per line.
 *
 *   portal --listen ADDR:PORT --conninfo "host=... user=portail ..."
 *          [--pool N] [--tag PREFIX] [--table NAME]
 *
 *   GET /records?user=adv0001&n=150&offset=0
 *
 * Each pooled connection is owned by one worker thread, which serves
 * requests in turn (so one connection serves many agents). With --tag,
 * each request first sends "SET application_name = 'PREFIX/USER'" as a
 * statement of its own, as docs/application-users.md recommends; without
 * it, the portal names nobody. Prints "listening PORT" once ready; stops
 * on SIGTERM or SIGINT. Exit 0, 1 on a runtime error, 2 on bad options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_POOL 32
#define MAX_ROWS 100000
#define USER_MAX 48

struct portal {
	int lfd;
	const char *conninfo, *tag, *table;
	int pool;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(int fd, int code, const char *text)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n%s\n",
			 code, code == 200 ? "OK" : code == 400 ? "Bad Request" : "Server Error", text);

	send_all(fd, head, (size_t)n);
}

/* Value of key in a query string ("a=1&b=2"), copied to out. */
static bool query_param(const char *q, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);

		if ((size_t)(end - q) > kl && !strncmp(q, key, kl) && q[kl] == '=') {
			size_t n = (size_t)(end - q) - kl - 1;

			if (n >= size)
				return false;
			memcpy(out, q + kl + 1, n);
			out[n] = '\0';
			return true;
		}
		q = amp ? amp + 1 : NULL;
	}
	return false;
}

static bool valid_user(const char *u)
{
	if (!*u)
		return false;
	for (; *u; u++)
		if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		      (*u >= '0' && *u <= '9') || *u == '.' || *u == '_' || *u == '-'))
			return false;
	return true;
}

/* One request on fd with the worker's connection. */
static void serve(struct portal *pt, PGconn *db, int fd)
{
	char req[2048], user[USER_MAX], num[16], off[16] = "0", sql[256], params[2][24];
	const char *values[2] = { params[0], params[1] };
	size_t have = 0;
	char *q, *sp;
	long n, o;
	PGresult *r;

	while (have < sizeof(req) - 1) {
		ssize_t got = recv(fd, req + have, sizeof(req) - 1 - have, 0);

		if (got <= 0)
			return;
		have += (size_t)got;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	if (strncmp(req, "GET /records?", 13)) {
		reply(fd, 400, "GET /records?user=NAME&n=COUNT[&offset=K]");
		return;
	}
	q = req + 13;
	sp = strchr(q, ' ');
	if (sp)
		*sp = '\0';
	if (!query_param(q, "user", user, sizeof(user)) || !valid_user(user) ||
	    !query_param(q, "n", num, sizeof(num))) {
		reply(fd, 400, "user (letters, digits, . _ -) and n are needed");
		return;
	}
	query_param(q, "offset", off, sizeof(off));
	n = strtol(num, NULL, 10);
	o = strtol(off, NULL, 10);
	if (n < 1 || n > MAX_ROWS || o < 0) {
		reply(fd, 400, "n must be in [1, 100000], offset >= 0");
		return;
	}
	if (pt->tag) {
		char name[128], *lit;

		snprintf(name, sizeof(name), "%s/%s", pt->tag, user);
		lit = PQescapeLiteral(db, name, strlen(name));
		snprintf(sql, sizeof(sql), "SET application_name = %s", lit ? lit : "''");
		PQfreemem(lit);
		r = PQexec(db, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			reply(fd, 500, PQerrorMessage(db));
			return;
		}
		PQclear(r);
	}
	snprintf(sql, sizeof(sql),
		 "SELECT row_to_json(r)::text FROM %s r ORDER BY 1 LIMIT $1 OFFSET $2", pt->table);
	snprintf(params[0], sizeof(params[0]), "%ld", n);
	snprintf(params[1], sizeof(params[1]), "%ld", o);
	r = PQexecParams(db, sql, 2, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		reply(fd, 500, PQerrorMessage(db));
	} else {
		static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: application/x-ndjson\r\n"
					   "Connection: close\r\n\r\n";
		int rows = PQntuples(r);
		size_t len = sizeof(head) - 1, cap = len + 1;
		char *body;

		for (int i = 0; i < rows; i++)
			cap += (size_t)PQgetlength(r, i, 0) + 1;
		/* one buffer, one send: small writes would wait on delayed ACKs */
		body = malloc(cap);
		if (!body) {
			reply(fd, 500, "out of memory");
		} else {
			memcpy(body, head, len);
			for (int i = 0; i < rows; i++) {
				size_t vl = (size_t)PQgetlength(r, i, 0);

				memcpy(body + len, PQgetvalue(r, i, 0), vl);
				len += vl;
				body[len++] = '\n';
			}
			send_all(fd, body, len);
			free(body);
		}
	}
	PQclear(r);
}

static void *worker(void *arg)
{
	struct portal *pt = arg;
	PGconn *db = PQconnectdb(pt->conninfo);

	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "portal: cannot connect: %s", PQerrorMessage(db));
		PQfinish(db);
		exit(1);
	}
	while (!stopping) {
		int fd = accept(pt->lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		serve(pt, db, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
		if (PQstatus(db) != CONNECTION_OK)
			PQreset(db);
	}
	PQfinish(db);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: portal --listen ADDR:PORT --conninfo CONNINFO [--pool N] [--tag PREFIX]\n"
		   "              [--table NAME]\n"
		   "  serves GET /records?user=NAME&n=COUNT[&offset=K] through a pool of N (4)\n"
		   "  PostgreSQL connections; --tag: SET application_name = 'PREFIX/NAME' per\n"
		   "  request. Port 0: any free port. Prints \"listening PORT\" when ready.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "conninfo", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },   { "tag", required_argument, NULL, 't' },
		{ "table", required_argument, NULL, 'T' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct portal pt = { .lfd = -1, .pool = 4, .table = "job_seekers" };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	const char *listen_at = NULL;
	pthread_t th[MAX_POOL];
	struct sigaction sa = { .sa_handler = on_signal };
	char host[64], *colon;
	int c, one = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_at = optarg; break;
		case 'c': pt.conninfo = optarg; break;
		case 'p': pt.pool = atoi(optarg); break;
		case 't': pt.tag = optarg; break;
		case 'T': pt.table = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!listen_at || !pt.conninfo || pt.pool < 1 || pt.pool > MAX_POOL || optind != argc) {
		usage(stderr);
		return 2;
	}
	for (const char *p = pt.table; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_')) {
			fprintf(stderr, "portal: --table: lower-case letters and _ only\n");
			return 2;
		}
	snprintf(host, sizeof(host), "%s", listen_at);
	colon = strrchr(host, ':');
	if (!colon || inet_pton(AF_INET, (*colon = '\0', host), &a.sin_addr) != 1) {
		fprintf(stderr, "portal: --listen: want IPv4:PORT, got '%s'\n", listen_at);
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(colon + 1));
	pt.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (pt.lfd < 0 || setsockopt(pt.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(pt.lfd, (struct sockaddr *)&a, sizeof(a)) || listen(pt.lfd, 128) ||
	    getsockname(pt.lfd, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "portal: cannot listen on %s: %s\n", listen_at, strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < pt.pool; i++)
		if (pthread_create(&th[i], NULL, worker, &pt)) {
			fprintf(stderr, "portal: cannot start a worker\n");
			return 1;
		}
	printf("listening %u\n", ntohs(a.sin_port));
	fflush(stdout);
	while (!stopping)
		pause();
	/* workers blocked in accept: closing the socket ends them */
	shutdown(pt.lfd, SHUT_RDWR);
	close(pt.lfd);
	for (int i = 0; i < pt.pool; i++)
		pthread_join(th[i], NULL);
	return 0;
}
