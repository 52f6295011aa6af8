#!/bin/sh
# Installs what Vigie needs to build, run and test, from Debian 12's
# packages. Idempotent: installs only what is missing. Run as root.
set -eu

PACKAGES="make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev libjansson-dev \
bpftool pkg-config iproute2 postgresql postgresql-client postgresql-contrib \
libclang-rt-dev openssl procps jq time man-db libpq-dev curl python3-psycopg2 rsyslog \
prometheus lintian tmux chromium"
# Benchmarks only (make bench): bpftrace.
[ "${VIGIE_SETUP_BENCH:-0}" = 1 ] && PACKAGES="$PACKAGES bpftrace"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	# The Debian postgresql package starts a cluster on 5432; tests use
	# their own throw-away clusters and do not need it.
fi
