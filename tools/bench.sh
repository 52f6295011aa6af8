#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.sh BUILD_DIR: Vigie's performance benchmark (`make bench`).
# Everything is measured side by side in one run, as root, on this host:
#   1. kernel per-program statistics (kernel.bpf_stats_enabled) of each
#      attached sensor program under a send/receive-heavy load, next to an
#      empty program on the same hook (the floor), for --probes sock and
#      --probes syscalls (and bpftrace for reference);
#   2. pgbench -S throughput against a throw-away local PostgreSQL with no
#      sensor, Vigie (sock and syscalls modes) and a bpftrace script counting
#      the same bytes, interleaved and repeated;
#   3. added nanoseconds per 1-byte send() and read() in a tight loop, per
#      probe mode;
#   4. user-space CPU and peak memory of the vigie process at 100,000 sends
#      per second spread over 10,000 (process, peer) keys, default settings.
# (Sections run in the order 1, 3, 2, 4: the cheap, precise ones first.)
# A benchmark, not a test: it prints figures and exits 0 unless something
# broke. Whatever it creates (network namespace, veth pair, PostgreSQL
# cluster, background processes, temporary files) is removed on exit, even
# on failure or Ctrl-C. See docs/benchmarks.md.
#
# Knobs (environment): BENCH_SECTIONS (default "1 2 3 4"),
# BENCH_S1_MODES ("sock syscalls bpftrace"), BENCH_STATS_COUNT (1000000), BENCH_LOOP_COUNT (100000), BENCH_LOOP_REPS (7),
# BENCH_LOOP_ROUNDS (4), BENCH_PG_SECONDS (5), BENCH_PG_ROUNDS (10), BENCH_PG_PAIR_ROUNDS (10),
# BENCH_PG_STATS_ROUNDS (3),
# BENCH_PG_SCALE (5), BENCH_PG_CLIENTS (8), BENCH_SPREAD_SECONDS (20),
# BENCH_SPREAD_RATE (100000), BENCH_SPREAD_KEYS (10000), BENCH_SPREAD_PROCS (4).
set -u -o pipefail

BUILD=${1:-build}
SECTIONS=${BENCH_SECTIONS:-1 2 3 4}
STATS_COUNT=${BENCH_STATS_COUNT:-1000000}
LOOP_COUNT=${BENCH_LOOP_COUNT:-100000}
LOOP_REPS=${BENCH_LOOP_REPS:-7}
LOOP_ROUNDS=${BENCH_LOOP_ROUNDS:-4}
PG_SECONDS=${BENCH_PG_SECONDS:-5}
PG_ROUNDS=${BENCH_PG_ROUNDS:-10}
PG_PAIR_ROUNDS=${BENCH_PG_PAIR_ROUNDS:-10}
PG_STATS_ROUNDS=${BENCH_PG_STATS_ROUNDS:-3}
PGW_ROUNDS=${BENCH_PGW_ROUNDS:-3}
PG_SCALE=${BENCH_PG_SCALE:-5}
PG_CLIENTS=${BENCH_PG_CLIENTS:-8}
SPREAD_SECONDS=${BENCH_SPREAD_SECONDS:-20}
SPREAD_RATE=${BENCH_SPREAD_RATE:-100000}
SPREAD_KEYS=${BENCH_SPREAD_KEYS:-10000}
SPREAD_PROCS=${BENCH_SPREAD_PROCS:-4}

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "bench: no build directory '$1'" >&2; exit 1; }
VIGIE=$BUILD/vigie
LOAD=$BUILD/tools/benchload
FLOOR=$BUILD/tools/bench-floor
PGSERVER=$BUILD/tools/bench-pgserver
BT_SCRIPT=$HERE/bench-bpftrace.bt

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (loads BPF programs, creates a network namespace)"
for f in "$VIGIE" "$LOAD" "$FLOOR" "$PGSERVER"; do [ -x "$f" ] || die "missing $f (run make first)"; done
for c in bpftool jq ip runuser; do command -v "$c" >/dev/null || die "missing command: $c"; done
HAVE_BPFTRACE=1
command -v bpftrace >/dev/null && [ -r "$BT_SCRIPT" ] || { HAVE_BPFTRACE=0; log "bpftrace not found: its columns are skipped"; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
HAVE_PG=1
{ [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && command -v pgbench >/dev/null && id postgres >/dev/null 2>&1; } ||
	{ HAVE_PG=0; log "PostgreSQL server, pgbench or user postgres missing: section 2 is skipped"; }

# ---- set-up and clean-up ------------------------------------------------------
TMP=$(mktemp -d /tmp/vigie-bench.XXXXXX) || die "mktemp"
chmod 755 "$TMP"
NS=vigiebench$$
VH=vbh$$
VN=vbn$$
NET=10.213.$((100 + $$ % 150))
HOST_IP=$NET.1
PEER_IP=$NET.2
HOLE_IP=$NET.99            # static neighbour, no such host: datagrams die in the netns
PEER_PORT=5432             # a database port: the client's reads are db_client
STATS_ORIG=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
PGDATA_DIR=$TMP/pg/data
PGW_DIR=/run/vigiebench$$    # section 1b: the stand-in server as .../bin/postgres (a root-only path)
PGW_PORT=$((56000 + $$ % 1000))
PG_STARTED=0
CG=                        # CPU accounting group of the PostgreSQL cluster and pgbench
BG_PIDS=()                 # every background process we start

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${BG_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "$PG_STARTED" = 1 ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ -n "$CG" ]; then
		for p in 1 2 3 4 5; do rmdir "$CG" 2>/dev/null && break; sleep 0.2; done
	fi
	rm -rf "$PGW_DIR"
	ip netns del "$NS" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$STATS_ORIG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

bg_start() { # command...; sets BGPID
	"$@" &
	BGPID=$!
	BG_PIDS+=("$BGPID")
}

bg_stop() { # pid [signal]
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

wait_for() { # file pattern seconds pid
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

setup_netns() {
	ip netns add "$NS" || die "cannot create network namespace $NS"
	ip link add "$VH" type veth peer name "$VN" || die "cannot create veth pair"
	ip link set "$VN" netns "$NS" &&
		ip addr add "$HOST_IP/24" dev "$VH" && ip link set "$VH" up &&
		ip -n "$NS" addr add "$PEER_IP/24" dev "$VN" && ip -n "$NS" link set "$VN" up &&
		ip -n "$NS" link set lo up &&
		ip neigh replace "$HOLE_IP" lladdr 02:00:00:00:00:99 dev "$VH" nud permanent ||
		die "cannot configure the veth pair"
	bg_start ip netns exec "$NS" "$LOAD" server "$PEER_PORT" >"$TMP/server.out" 2>&1
	SERVER_PID=$BGPID
	wait_for "$TMP/server.out" listening 5 "$SERVER_PID" || die "netns peer did not start: $(cat "$TMP/server.out")"
}

# Vigie in the background; VPID is its pid. start_vigie MODE OUT [ARGS...]
start_vigie() {
	local mode=$1 out=$2
	shift 2
	rm -f "$out" # vigie appends: an old sensor-start must not count
	bg_start "$VIGIE" run --probes "$mode" -o "$out" "$@" 2>>"$TMP/vigie.err"
	VPID=$BGPID
	wait_for "$out" sensor-start 20 "$VPID" || die "vigie --probes $mode did not start: $(tail -n 5 "$TMP/vigie.err")"
}

stop_vigie() { bg_stop "$VPID" INT; }

start_bpftrace() {
	rm -f "$TMP/bt.out"
	bg_start bpftrace "$BT_SCRIPT" >"$TMP/bt.out" 2>"$TMP/bt.err"
	BTPID=$BGPID
	wait_for "$TMP/bt.out" ready 30 "$BTPID" || die "bpftrace did not start: $(tail -n 5 "$TMP/bt.err")"
}

start_floor() { # MODE
	bg_start "$FLOOR" "$1" 900 >"$TMP/floor.out" 2>&1
	FPID=$BGPID
	wait_for "$TMP/floor.out" ready 10 "$FPID" || die "bench-floor $1 did not start: $(cat "$TMP/floor.out")"
}

# BPF program ids a process holds (programs and links show prog_id: in fdinfo).
prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null
	done | sort -un | paste -sd, -
}

stats_snapshot() { # "id,id,..." > json
	bpftool prog show -j | jq -c --argjson ids "[$1]" \
		'[.[] | select(.id as $i | $ids | index($i)) |
		  {id, name, ns: (.run_time_ns // 0), cnt: (.run_cnt // 0)}]'
}

# Lines "name events run_ns" for what ran between two snapshots.
stats_delta() {
	jq -r -n --slurpfile a "$1" --slurpfile b "$2" \
		'($a[0] | map({key: (.id|tostring), value: .}) | from_entries) as $x |
		 $b[0][] | . as $p | ($x[$p.id|tostring] // {ns: 0, cnt: 0}) as $q |
		 "\($p.name) \($p.cnt - $q.cnt) \($p.ns - $q.ns)"'
}

field() { # key line
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "nan"}'; }

# awk functions the sections' summaries share: awk "$AWK_LIB"'...'.
# med: the median of a[1..n] (sorts a); span: "lo-hi" of a[1..n] in fmt.
AWK_LIB='
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n ? a[int((n + 1) / 2)] : 0
	}
	function span(a, n, fmt,   i, lo, hi) {
		lo = hi = a[1]
		for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
		return sprintf(fmt "-" fmt, lo, hi)
	}
'


SUMMARY=$TMP/summary.txt
: >"$SUMMARY"
out() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

setup_netns
log "network namespace $NS, peer $PEER_IP:$PEER_PORT, black hole $HOLE_IP"
out "Vigie benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) CPUs, $("$VIGIE" --version 2>/dev/null)"

# The sections, in the order 1, 1b, 3, 2, 4 (the cheap, precise ones first).
. "$HERE/bench/kernel.sh"
. "$HERE/bench/loops.sh"
. "$HERE/bench/pgbench.sh"
. "$HERE/bench/userspace.sh"

out ""
log "done"
exit 0
