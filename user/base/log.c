// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "base/log.h"

static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

static const char *const level_names[] = { "error", "warning", "info", "debug" };

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	fprintf(stderr, "vigie: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are often expected (probing what loads); keep
	 * them at debug so that -v shows them and normal runs stay quiet. */
	if (current_level < LOG_DEBUG)
		return 0;
	(void)level;
	fprintf(stderr, "vigie: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void log_route_libbpf(void) { libbpf_set_print(libbpf_print); }
