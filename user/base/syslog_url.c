// SPDX-License-Identifier: GPL-2.0
/* Where sensor.syslog sends: the URL and the facility (syslog_url.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "base/syslog_url.h"

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7",
};

int syslog_facility_code(const char *name)
{
	for (int i = 0; name && i < (int)(sizeof(facilities) / sizeof(facilities[0])); i++)
		if (!strcmp(name, facilities[i]))
			return i;
	return -1;
}

int syslog_url_parse(const char *url, enum syslog_transport *t, struct sockaddr_storage *ss, socklen_t *len,
		 char *err, size_t errlen)
{
	const char *rest, *colon;
	char host[64];
	long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (!strncmp(url, "unix://", 7)) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		rest = url + 7;
		if (rest[0] != '/' || strlen(rest) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "\"unix://\" must be followed by an absolute path "
				 "(unix:///dev/log)");
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, rest);
		*len = (socklen_t)sizeof(*un);
		*t = T_UNIX;
		return 0;
	}
	if (!strncmp(url, "tcp://", 6))
		*t = T_TCP;
	else if (!strncmp(url, "udp://", 6))
		*t = T_UDP;
	else {
		snprintf(err, errlen, "must be \"tcp://HOST:PORT\", \"udp://HOST:PORT\" or "
			 "\"unix:///PATH\"");
		return -1;
	}
	rest = url + 6;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');

		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(host))
			goto bad_host;
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon || (size_t)(colon - rest) >= sizeof(host))
			goto bad_host;
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port < 1 || port > 65535) {
		snprintf(err, errlen, "the port must be 1-65535");
		return -1;
	}
	{
		struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			*len = sizeof(*in4);
		} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*in6);
		} else {
			goto bad_host;
		}
	}
	return 0;
bad_host:
	snprintf(err, errlen, "the host must be an IPv4 address or a bracketed IPv6 one "
		 "(tcp://127.0.0.1:514, udp://[::1]:514)");
	return -1;
}

int syslog_url_check(const char *url, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	enum syslog_transport t;
	socklen_t len;

	return url ? syslog_url_parse(url, &t, &ss, &len, err, errlen) : -1;
}

