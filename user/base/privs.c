// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/log.h"
#include "base/privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
	"cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
	"cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
	"cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
	"cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

uint64_t privs_keep_mask(void)
{
	return (1ull << CAP_BPF) | (1ull << CAP_PERFMON) | (1ull << CAP_SYS_PTRACE) |
	       (1ull << CAP_DAC_READ_SEARCH);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = 40;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = 40;
		fclose(f);
	}
	return n;
}

static int get_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

int privs_drop(uint64_t extra)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t keep = privs_keep_mask() | extra, eff, prm, inh;
	int last = last_cap(), err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		log_warn("cannot set no_new_privs: %s", strerror(-err));
		return err;
	}
	err = get_caps(&eff, &prm, &inh);
	if (err) {
		log_warn("cannot read the capabilities: %s", strerror(-err));
		return err;
	}
	keep &= prm; /* never more than we have */
	/* the bounding set first: it needs CAP_SETPCAP, dropped below (without
	 * it, as under a unit whose bounding set already excludes it, the rest
	 * is still dropped) */
	for (int c = 0; c <= last && (prm & (1ull << CAP_SETPCAP)); c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
			log_warn("cannot drop %s from the bounding set: %s",
				 c < (int)(sizeof(cap_names) / sizeof(cap_names[0])) ? cap_names[c] : "?",
				 strerror(errno));
			break;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d)) {
		err = -errno;
		log_warn("cannot drop capabilities: %s", strerror(-err));
		return err;
	}
	return 0;
}

json_t *privs_names(uint64_t mask)
{
	json_t *a = json_array();
	char buf[16];

	for (int c = 0; c < 64; c++) {
		if (!(mask & (1ull << c)))
			continue;
		if (c < (int)(sizeof(cap_names) / sizeof(cap_names[0]))) {
			json_array_append_new(a, json_string(cap_names[c]));
		} else {
			snprintf(buf, sizeof(buf), "cap_%d", c);
			json_array_append_new(a, json_string(buf));
		}
	}
	return a;
}

json_t *privs_json(void)
{
	uint64_t eff = 0, prm = 0, inh = 0;
	json_t *o = json_object();
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	get_caps(&eff, &prm, &inh);
	json_object_set_new(o, "capabilities", privs_names(eff));
	json_object_set_new(o, "no_new_privs", json_boolean(nnp == 1));
	return o;
}
