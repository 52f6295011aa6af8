/* SPDX-License-Identifier: GPL-2.0 */
/* sensor.syslog's URL ("tcp://HOST:PORT", "udp://HOST:PORT",
 * "unix:///PATH"; HOST an IPv4 address or [IPv6]) and facility names:
 * parsed for the configuration and for the sink (output/syslog.c). */
#ifndef VIGIE_SYSLOG_URL_H
#define VIGIE_SYSLOG_URL_H

#include <stddef.h>
#include <sys/socket.h>

enum syslog_transport { T_TCP, T_UDP, T_UNIX };

/* 0, or -1 with the reason in err. */
int syslog_url_parse(const char *url, enum syslog_transport *t, struct sockaddr_storage *ss,
		     socklen_t *len, char *err, size_t errlen);
int syslog_url_check(const char *url, char *err, size_t errlen);
/* kern, user, daemon, auth, local0..local7...: the code, -1 unknown. */
int syslog_facility_code(const char *name);

#endif
