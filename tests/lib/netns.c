// SPDX-License-Identifier: GPL-2.0
/* Network namespaces for live tests (see live.h): a namespace with a veth
 * pair to the host, tracked until destroyed and removed at clean-up
 * (live_remove_namespaces). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/live.h"
#include "lib/live_int.h"

static struct {
	char name[32];
	char host_if[16];
} tracked_ns[16];

static void ns_remove(const char *name, const char *host_if)
{
	char *del_ns[] = { "ip", "netns", "del", (char *)name, NULL };
	char *del_if[] = { "ip", "link", "del", (char *)host_if, NULL };

	live_run_quiet(del_ns);
	live_run_quiet(del_if);
}

void live_remove_namespaces(void)
{
	for (size_t i = 0; i < sizeof(tracked_ns) / sizeof(tracked_ns[0]); i++) {
		if (tracked_ns[i].name[0]) {
			ns_remove(tracked_ns[i].name, tracked_ns[i].host_if);
			tracked_ns[i].name[0] = '\0';
		}
	}
}

int netns_create(struct netns *ns, const char *tag, int n)
{
	static const char *const fmt_steps[] = {
		"ip netns add %1$s",
		"ip link add %2$s type veth peer name %3$s netns %1$s",
		"ip addr add %4$s/30 dev %2$s",
		"ip -6 addr add %6$s/64 dev %2$s nodad",
		"ip link set %2$s up",
		"ip -n %1$s addr add %5$s/30 dev %3$s",
		"ip -n %1$s -6 addr add %7$s/64 dev %3$s nodad",
		"ip -n %1$s link set %3$s up",
		"ip -n %1$s link set lo up",
	};
	size_t slot;

	memset(ns, 0, sizeof(*ns));
	snprintf(ns->name, sizeof(ns->name), "vgt-%.5s", tag);
	snprintf(ns->host_if, sizeof(ns->host_if), "vgt-%.5s-h", tag);
	snprintf(ns->ns_if, sizeof(ns->ns_if), "vgt-%.5s-n", tag);
	snprintf(ns->host_ip, sizeof(ns->host_ip), "10.213.%d.1", n);
	snprintf(ns->ns_ip, sizeof(ns->ns_ip), "10.213.%d.2", n);
	snprintf(ns->cidr, sizeof(ns->cidr), "10.213.%d.0/30", n);
	snprintf(ns->host_ip6, sizeof(ns->host_ip6), "fd00:213:%d::1", n);
	snprintf(ns->ns_ip6, sizeof(ns->ns_ip6), "fd00:213:%d::2", n);
	/* leftovers of a crashed run */
	ns_remove(ns->name, ns->host_if);
	for (slot = 0; slot < sizeof(tracked_ns) / sizeof(tracked_ns[0]); slot++)
		if (!tracked_ns[slot].name[0])
			break;
	if (slot < sizeof(tracked_ns) / sizeof(tracked_ns[0])) {
		snprintf(tracked_ns[slot].name, sizeof(tracked_ns[slot].name), "%s", ns->name);
		snprintf(tracked_ns[slot].host_if, sizeof(tracked_ns[slot].host_if), "%s",
			 ns->host_if);
	}
	for (size_t i = 0; i < sizeof(fmt_steps) / sizeof(fmt_steps[0]); i++) {
		char cmd[512];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(cmd, sizeof(cmd), fmt_steps[i], ns->name, ns->host_if, ns->ns_if,
			 ns->host_ip, ns->ns_ip, ns->host_ip6, ns->ns_ip6);
#pragma GCC diagnostic pop
		if (live_sh("%s", cmd)) {
			printf("  ..    network namespace set-up failed at: %s\n", cmd);
			netns_destroy(ns);
			return -1;
		}
	}
	/* wait for both ends to be up (carrier) */
	for (int i = 0; i < 300; i++) {
		if (live_sh("ip -n %s link show %s | grep -q LOWER_UP", ns->name, ns->ns_if) == 0 &&
		    live_sh("ip link show %s | grep -q LOWER_UP", ns->host_if) == 0) {
			ns->up = true;
			return 0;
		}
		usleep(10000);
	}
	printf("  ..    veth %s did not come up\n", ns->host_if);
	netns_destroy(ns);
	return -1;
}

void netns_destroy(struct netns *ns)
{
	if (!ns->name[0])
		return;
	ns_remove(ns->name, ns->host_if);
	for (size_t i = 0; i < sizeof(tracked_ns) / sizeof(tracked_ns[0]); i++)
		if (!strcmp(tracked_ns[i].name, ns->name))
			tracked_ns[i].name[0] = '\0';
	ns->up = false;
}

int netns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}
