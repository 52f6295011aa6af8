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
# BENCH_LOOP_ROUNDS (4), BENCH_PG_SECONDS (5), BENCH_PG_ROUNDS (5), BENCH_PG_STATS_ROUNDS (3),
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
PG_ROUNDS=${BENCH_PG_ROUNDS:-5}
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

SUMMARY=$TMP/summary.txt
: >"$SUMMARY"
out() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

setup_netns
log "network namespace $NS, peer $PEER_IP:$PEER_PORT, black hole $HOLE_IP"
out "Vigie benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(uname -r), $(nproc) CPUs, $("$VIGIE" --version 2>/dev/null)"

# ---- 1. kernel per-program statistics ------------------------------------------
section1_mode() { # sensor-mode floor-mode label
	local smode=$1 fmode=$2 label=$3 ids fids
	start_floor "$fmode"
	if [ "$smode" = bpftrace ]; then
		start_bpftrace
		ids=$(prog_ids "$BTPID")
	else
		start_vigie "$smode" "$TMP/s1-$smode.json"
		ids=$(prog_ids "$VPID")
	fi
	fids=$(prog_ids "$FPID")
	[ -n "$ids" ] && [ -n "$fids" ] || die "cannot find the BPF programs of $label"
	sysctl -qw kernel.bpf_stats_enabled=1
	stats_snapshot "$ids,$fids" >"$TMP/st0.json"
	"$LOAD" send "$PEER_IP" "$PEER_PORT" "$STATS_COUNT" 1 >/dev/null || die "send load failed"
	"$LOAD" read "$PEER_IP" "$PEER_PORT" "$STATS_COUNT" 1 >/dev/null || die "read load failed"
	stats_snapshot "$ids,$fids" >"$TMP/st1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	if [ "$smode" = bpftrace ]; then bg_stop "$BTPID"; else stop_vigie; fi
	bg_stop "$FPID"
	stats_delta "$TMP/st0.json" "$TMP/st1.json" >"$TMP/delta.txt"
	# Pair each program with the floor program on its hook.
	awk -v label="$label" -v min=1000 '
		{ name[NR] = $1; cnt[$1] = $2; ns[$1] = $3 }
		function floor_of(n) {
			if (n == "sock_send_btf") return "floor_send_btf"
			if (n == "sock_recv_btf") return "floor_recv_btf"
			if (n == "sock_send_tp") return "floor_send_tp"
			if (n == "sock_recv_tp") return "floor_recv_tp"
			if (n ~ /^sys_(enter|exit)_/ || n ~ /^process_/) return "floor_" n
			if (n ~ /^sys_ret_/) return "floor_sys_exit_" substr(n, 9)
			# PostgreSQL awareness (bpf/pgwire.bpf.c) on the same hooks
			if (n == "pg_sock_send") return "floor_send_btf"
			if (n ~ /^pg_sys_(enter|exit)_/) return "floor_" substr(n, 4)
			# bpftrace names its programs after the probe (15 characters kept)
			if (n ~ /^sock_send_leng/) return "floor_send_tp"
			if (n ~ /^sock_recv_leng/) return "floor_recv_tp"
			return ""
		}
		END {
			skipped = 0
			for (i = 1; i <= NR; i++) {
				n = name[i]
				if (n ~ /^floor_/) continue
				if (cnt[n] < min) { skipped++; continue }
				f = floor_of(n)
				pe = ns[n] / cnt[n]
				if (f in cnt && cnt[f] > 0) {
					fe = ns[f] / cnt[f]
					printf "%-9s %-22s %10d %9.1f %9.1f %7.2f %9.1f\n", label, n, cnt[n], pe, fe, pe / fe, pe - fe
				} else
					printf "%-9s %-22s %10d %9.1f %9s %7s %9s\n", label, n, cnt[n], pe, "-", "-", "-"
			}
			if (skipped) printf "%-9s (%d other programs ran fewer than %d times during the load)\n", label, skipped, min
			# syscalls mode, per syscall: all its programs against the
			# empty programs of the same hooks, and against an empty
			# enter+exit pair (what a stash-at-enter design needs)
			for (i = 1; i <= NR; i++) {
				n = name[i]
				if (n !~ /^sys_(ret|exit)_/ || cnt[n] < min) continue
				x = n; sub(/^sys_(ret|exit)_/, "", x)
				fx = "floor_sys_exit_" x; fn = "floor_sys_enter_" x
				if (!(fx in cnt) || !(fn in cnt) || cnt[fx] == 0 || cnt[fn] == 0) continue
				pe = ns[n] / cnt[n]; own = ns[fx] / cnt[fx]; pair = own + ns[fn] / cnt[fn]
				if (n ~ /^sys_exit_/) {
					e = "sys_enter_" x
					if (!(e in cnt) || cnt[e] == 0) continue
					pe += ns[e] / cnt[e]; own = pair; how = "enter+exit"
				} else how = "exit only"
				printf "   syscalls %s (%s): %.0f ns per call; empty programs of its hooks %.0f ns: %.2fx; empty enter+exit pair %.0f ns: %.2fx\n", x, how, pe, own, pe / own, pair, pe / pair
			}
		}' "$TMP/delta.txt" | tee -a "$SUMMARY"
}

if [[ " $SECTIONS " == *" 1 "* ]]; then
	log "section 1: kernel per-program statistics"
	out ""
	out "== 1. Kernel per-program statistics (kernel.bpf_stats_enabled), side by side with an empty program on the same hook"
	out "   load: $STATS_COUNT 1-byte send() then $STATS_COUNT 1-byte read() over TCP to $PEER_IP:$PEER_PORT in a netns"
	out "   (sends count as egress, reads as db_client: the full counting path); events = program runs"
	out "$(printf '%-9s %-22s %10s %9s %9s %7s %9s' mode program events ns/event floor_ns ratio added_ns)"
	for m in ${BENCH_S1_MODES:-sock syscalls bpftrace}; do
		case $m in
		sock) section1_mode sock sock sock ;;
		syscalls) section1_mode syscalls syscalls syscalls ;;
		bpftrace) [ "$HAVE_BPFTRACE" = 1 ] && section1_mode bpftrace sock-tp bpftrace ;;
		esac
	done
	out "   goal (sock mode): at most 150 ns per event and within 2x of the floor: $(awk '
		$1 == "sock" && $2 ~ /^sock_(send|recv)_(btf|tp)$/ {
			ok = $4 <= 150 && $6 <= 2; all = all sprintf("%s%s %.0f ns %.2fx %s", all ? ", " : "", $2, $4, $6, ok ? "met" : "NOT met")
		} END { print all ? all : "sock mode not measured" }' "$SUMMARY")"
fi

# ---- 1b. PostgreSQL's walk per send, on a stand-in server ----------------------
# tools/bench-pgserver.c as $PGW_DIR/bin/postgres (Vigie takes .../bin/postgres
# in a root-only path for PostgreSQL): its forked "backend" sends answers
# shaped like a simple query's to a client in the netns, one send() each.
# sock_send_btf runs on each, with the walk (its tail call) or with
# databases.postgres off (the counting only), next to the empty program.
pgwalk_run() { # cond rows count -> "ns_per_send floor_ns_per_send sends rows_counted"
	local cond=$1 rows=$2 count=$3 ids fids cfg=$TMP/pgw-$1.json
	start_floor sock
	start_vigie sock "$TMP/s1b.json" -c "$cfg"
	sleep 1.5 # the server found and its port known before the backend forks
	ids=$(prog_ids "$VPID")
	fids=$(prog_ids "$FPID")
	sysctl -qw kernel.bpf_stats_enabled=1
	stats_snapshot "$ids,$fids" >"$TMP/st0.json"
	ip netns exec "$NS" "$PGSERVER" fetch "$HOST_IP" "$PGW_PORT" "$rows" "$count" >"$TMP/pgw-fetch.out" ||
		die "bench-pgserver fetch failed: $(cat "$TMP/pgw-fetch.out")"
	stats_snapshot "$ids,$fids" >"$TMP/st1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	stop_vigie
	bg_stop "$FPID"
	stats_delta "$TMP/st0.json" "$TMP/st1.json" | awk -v rc="$(jq -s '[.[] | select(.event.action == "usage" and .process.name == "postgres") | .vigie.rows // 0] | add // 0' "$TMP/s1b.json")" '
		{ cnt[$1] = $2; ns[$1] = $3 }
		END { printf "%.1f %.1f %d %d\n", ns["sock_send_btf"] / cnt["sock_send_btf"], ns["floor_send_btf"] / cnt["floor_send_btf"], cnt["sock_send_btf"], rc }'
}

section1_pgwalk() {
	local rows count r cond res
	mkdir -p "$PGW_DIR/bin" && chmod 755 "$PGW_DIR" "$PGW_DIR/bin" &&
		cp "$PGSERVER" "$PGW_DIR/bin/postgres" || die "cannot install the stand-in server in $PGW_DIR"
	bg_start "$PGW_DIR/bin/postgres" serve "$PGW_PORT" >"$TMP/pgw.out" 2>&1
	PGW_PID=$BGPID
	wait_for "$TMP/pgw.out" listening 5 "$PGW_PID" || die "stand-in server did not start: $(cat "$TMP/pgw.out")"
	printf '{"databases": {"ports": [5432, %d]}}\n' "$PGW_PORT" >"$TMP/pgw-walk.json"
	printf '{"databases": {"ports": [5432, %d], "postgres": "off"}}\n' "$PGW_PORT" >"$TMP/pgw-count.json"
	: >"$TMP/pgw.txt"
	for rows in 1 32; do
		count=$((rows == 1 ? 200000 : 50000))
		for ((r = 0; r < PGW_ROUNDS; r++)); do
			for cond in count walk; do
				res=$(pgwalk_run "$cond" "$rows" "$count")
				log "  1b rows $rows round $((r + 1)) $cond: $res (ns per send, floor, sends, rows counted)"
				echo "$rows $r $cond $count $(awk '{print $3}' "$TMP/pgw-fetch.out" | sed 's/answer_bytes=//') $res" >>"$TMP/pgw.txt"
			done
		done
	done
	bg_stop "$PGW_PID"
	out ""
	out "== 1b. PostgreSQL's walk per send: a stand-in server (tools/bench-pgserver.c, run as $PGW_DIR/bin/postgres) whose backend"
	out "   sends answers shaped like a simple query's (RowDescription, ROWS DataRows, CommandComplete, ReadyForQuery), one send() each,"
	out "   to a client in the netns; sock_send_btf per send with databases.postgres off (counting) and on (walk: its tail call),"
	out "   each next to the empty program; $PGW_ROUNDS alternating rounds, medians"
	out "$(printf '%-5s %7s %9s %11s %11s %9s %12s' rows bytes floor_ns counting_ns with_walk_ns walk_ns rows_counted)"
	awk '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n ? a[int((n + 1) / 2)] : 0
		}
		# rows round cond count answer_bytes ns floor sends rows_counted
		{ k = $1 SUBSEP $2; ns[k, $3] = $6; fl[k, $3] = $7; rc[k, $3] = $9; cnt[$1] = $4; ab[$1] = $5; rs[$1] = 1; rd[$1, $2] = 1 }
		END {
			for (rows = 1; rows <= 32; rows++) {
				if (!(rows in rs)) continue
				n = 0; bad = ""
				for (r = 0; (rows, r) in rd; r++) {
					k = rows SUBSEP r
					f[++n] = fl[k, "walk"]; c[n] = ns[k, "count"]; w[n] = ns[k, "walk"]
					# above each run'"'"'s own floor: the walk alone
					d[n] = (ns[k, "walk"] - fl[k, "walk"]) - (ns[k, "count"] - fl[k, "count"])
					if (rc[k, "walk"] != rows * cnt[rows]) bad = bad sprintf(" round %d: %d", r + 1, rc[k, "walk"])
				}
				walk[rows] = med(d, n)
				printf "%-5d %7d %9.1f %11.1f %12.1f %9.1f %12s\n", rows, ab[rows], med(f, n), med(c, n), med(w, n), walk[rows], \
					bad == "" ? sprintf("exact (%d)", rows * cnt[rows]) : "NOT exact:" bad
			}
			if ((1 in walk) && (32 in walk)) {
				b = (walk[32] - walk[1]) / 31
				a = walk[1] - 4 * b
				printf "   per message walked: (walk_ns(32 rows) - walk_ns(1 row)) / 31 = %.1f ns; the rest of a send'"'"'s walk (tail call, the backend'"'"'s\n", b
				printf "   entry, the saved registers, the window read, the loop, the commit): walk_ns(1 row) - 4 messages x %.1f = %.0f ns\n", b, a
				printf "   goal (the PostgreSQL send path at most 100 ns per send plus the walk): %.0f ns: %s\n", a, a <= 100 ? "met" : "NOT met"
			}
		}' "$TMP/pgw.txt" | while IFS= read -r l; do out "$l"; done
}

if [[ " $SECTIONS " == *" 1 "* ]] && [[ " ${BENCH_S1_MODES:-sock syscalls bpftrace} " == *" sock "* ]]; then
	log "section 1b: PostgreSQL's walk per send on a stand-in server"
	section1_pgwalk
fi

# ---- 3. added nanoseconds per 1-byte send/read ----------------------------------
if [[ " $SECTIONS " == *" 3 "* ]]; then
	log "section 3: tight loops (send/read), $LOOP_ROUNDS interleaved rounds"
	MODES=(none sock syscalls)
	[ "$HAVE_BPFTRACE" = 1 ] && MODES+=(bpftrace)
	: >"$TMP/loops.txt"
	for ((r = 0; r < LOOP_ROUNDS; r++)); do
		for m in "${MODES[@]}"; do
			log "  round $((r + 1)) $m"
			case $m in
			none) ;;
			bpftrace) start_bpftrace ;;
			*) start_vigie "$m" "$TMP/s3.json" ;;
			esac
			sleep 0.5
			s=$("$LOAD" send "$PEER_IP" "$PEER_PORT" "$LOOP_COUNT" "$LOOP_REPS") || die "send loop failed"
			d=$("$LOAD" read "$PEER_IP" "$PEER_PORT" "$LOOP_COUNT" "$LOOP_REPS") || die "read loop failed"
			echo "$r $m send $(field min_ns "$s") $(field median_ns "$s")" >>"$TMP/loops.txt"
			echo "$r $m read $(field min_ns "$d") $(field median_ns "$d")" >>"$TMP/loops.txt"
			case $m in
			none) ;;
			bpftrace) bg_stop "$BTPID" ;;
			*) stop_vigie ;;
			esac
		done
	done
	out ""
	out "== 3. Added time per 1-byte operation in a tight loop (CPU time of the looping thread, TCP to a netns peer, sender corked)"
	out "   each run: best of $LOOP_REPS loops of $LOOP_COUNT operations; $LOOP_ROUNDS interleaved rounds (none, modes...);"
	out "   ns/op = median over rounds; added = median over rounds of (mode - none of the same round)"
	out "$(printf '%-9s %12s %10s %12s %10s' mode send_ns/op added read_ns/op added)"
	for m in "${MODES[@]}"; do
		out "$(awk -v m="$m" '
			function med(a, n,   i, j, t) {
				for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
				return n ? a[int((n + 1) / 2)] : 0
			}
			{ v[$1, $2, $3] = $4; rounds[$1] = 1 }
			END {
				for (op = 1; op <= 2; op++) {
					o = op == 1 ? "send" : "read"; n = 0; k = 0
					for (r in rounds) if ((r, m, o) in v) {
						x[++n] = v[r, m, o]
						if ((r, "none", o) in v) d[++k] = v[r, m, o] - v[r, "none", o]
					}
					mv[op] = med(x, n); md[op] = med(d, k)
					delete x; delete d
				}
				printf "%-9s %12.1f %+10.1f %12.1f %+10.1f", m, mv[1], md[1], mv[2], md[2]
			}' "$TMP/loops.txt")"
	done
	out "   all runs (round:mode/op=best/median ns): $(awk '{printf "%s:%s/%s=%.0f/%.0f ", $1, $2, $3, $4, $5}' "$TMP/loops.txt")"
fi

# ---- 2. pgbench ---------------------------------------------------------------------
pg_setup() {
	local i
	mkdir -p "$TMP/pg" && chown postgres: "$TMP/pg" || die "cannot prepare $TMP/pg"
	for ((i = 0; i < 50; i++)); do
		PGPORT=$((55000 + ($$ + i) % 1000))
		ss -Htln "sport = :$PGPORT" | grep -q . || break
	done
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --no-sync \
		>"$TMP/pg/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$TMP/pg/initdb.log")"
	PG_STARTED=1
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$TMP/pg/server.log" -w -t 60 \
		-o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$TMP/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
		start >/dev/null 2>&1 || die "PostgreSQL did not start: $(tail -n 5 "$TMP/pg/server.log")"
	pgbench -i -q -s "$PG_SCALE" -h 127.0.0.1 -p "$PGPORT" -U postgres postgres >"$TMP/pg/init.log" 2>&1 ||
		die "pgbench -i failed: $(tail -n 5 "$TMP/pg/init.log")"
	# Vigie counts the benchmark's port as a database port: the server's
	# sends are db_server, pgbench's reads db_client (the full path).
	printf '{"databases": {"ports": [5432, 3306, 1521, 50000, 1433, 27017, %d]}}\n' "$PGPORT" >"$TMP/pg-vigie.json"
}

# CPU accounting: a cgroup holding the cluster and pgbench (v1 cpuacct or v2).
cg_setup() {
	local pm p
	if [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		CG=/sys/fs/cgroup/cpuacct/vigiebench$$
		CG_KIND=v1
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CG=/sys/fs/cgroup/vigiebench$$
		CG_KIND=v2
	else
		return 1
	fi
	mkdir "$CG" 2>/dev/null || { CG=; return 1; }
	pm=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
	for p in $pm $(ps -o pid= --ppid "$pm"); do
		echo "$p" >"$CG/cgroup.procs" 2>/dev/null
	done
	return 0
}

cg_usage_ns() {
	if [ "$CG_KIND" = v1 ]; then cat "$CG/cpuacct.usage"
	else awk '$1 == "usage_usec" {printf "%d\n", $2 * 1000}' "$CG/cpu.stat"; fi
}

proc_cpu_ns() { # pid: utime+stime so far
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
	awk -v hz="$(getconf CLK_TCK)" '{printf "%d\n", ($14 + $15) * 1e9 / hz}' "/proc/$1/stat"
}

pg_run() { # seconds [sensor-pid] -> "tps cpu_ns_per_txn"
	local c0 c1 s0 s1 tps n
	c0=$([ -n "$CG" ] && cg_usage_ns || echo 0)
	s0=$(proc_cpu_ns "${2:-}")
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CG" \
		pgbench -n -S -c "$PG_CLIENTS" -j 2 -T "$1" -h 127.0.0.1 -p "$PGPORT" -U postgres postgres \
		>"$TMP/pg/run.log" 2>&1 || die "pgbench failed: $(tail -n 5 "$TMP/pg/run.log")"
	s1=$(proc_cpu_ns "${2:-}")
	c1=$([ -n "$CG" ] && cg_usage_ns || echo 0)
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$TMP/pg/run.log")
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/pg/run.log")
	awk -v t="$tps" -v n="$n" -v c="$((c1 - c0 + s1 - s0))" -v s="$((s1 - s0))" -v cg="$CG" \
		'BEGIN {printf "%s %.0f %.0f\n", t, (cg != "" && n > 0) ? c / n : 0, (n > 0) ? s / n : 0}'
}

if [[ " $SECTIONS " == *" 2 "* ]] && [ "$HAVE_PG" = 1 ]; then
	log "section 2: pgbench -S, $PG_ROUNDS rounds x ${PG_SECONDS}s per condition"
	pg_setup
	cg_setup || log "no cgroup CPU accounting here: CPU per transaction not measured"
	CONDS=(none vigie-sock vigie-syscalls)
	[ "$HAVE_BPFTRACE" = 1 ] && CONDS+=(bpftrace)
	pg_run 3 >/dev/null # warm-up
	: >"$TMP/pg.txt"
	n=${#CONDS[@]}
	for ((r = 0; r < PG_ROUNDS; r++)); do
		for ((j = 0; j < n; j++)); do
			c=${CONDS[$(((j + r) % n))]} # rotate the order each round
			case $c in
			vigie-sock) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie.json" ;;
			vigie-syscalls) start_vigie syscalls "$TMP/s2.json" -c "$TMP/pg-vigie.json" ;;
			bpftrace) start_bpftrace ;;
			esac
			case $c in
			vigie-*) spid=$VPID ;;
			bpftrace) spid=$BTPID ;;
			*) spid= ;;
			esac
			res=$(pg_run "$PG_SECONDS" "$spid")
			case $c in
			vigie-*) stop_vigie ;;
			bpftrace) bg_stop "$BTPID" ;;
			esac
			log "  round $((r + 1)) $c: $res (tps, CPU ns per transaction, of which the sensor process)"
			echo "$r $c $res" >>"$TMP/pg.txt"
		done
	done
	out ""
	out "== 2. pgbench -S (select-only), local PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1, scale $PG_SCALE, $PG_CLIENTS clients, $PG_ROUNDS interleaved rounds x ${PG_SECONDS}s"
	out "   tps ratio = median over rounds of (condition tps / no-sensor tps of the same round);"
	out "   cpu/txn = CPU time of the cluster + pgbench (cgroup) + the sensor process, per transaction (us), ratio likewise;"
	out "   sensor/txn = the sensor process's own CPU (user space, /proc/PID/stat, 10 ms ticks), per transaction (us)"
	out "$(printf '%-15s %11s %9s %8s %9s %9s %10s   %s' condition median_tps tps_ratio tps_loss cpu/txn cpu_ratio sensor/txn all_runs_tps)"
	for c in "${CONDS[@]}"; do
		out "$(awk -v c="$c" '
			function med(a, n,   i, j, t) {
				for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
				return n ? a[int((n + 1) / 2)] : 0
			}
			{ v[$1, $2] = $3; u[$1, $2] = $4; sp[$1, $2] = $5; rounds[$1] = 1 }
			END {
				n = 0; k = 0; all = ""
				for (r = 0; (r in rounds); r++) if ((r, c) in v) {
					x[++n] = v[r, c]; y[n] = u[r, c] / 1000; w[n] = sp[r, c] / 1000; all = all sprintf("%.0f ", v[r, c])
					if ((r, "none") in v && v[r, "none"] > 0) q[++k] = v[r, c] / v[r, "none"]
					if ((r, "none") in u && u[r, "none"] > 0) z[k] = u[r, c] / u[r, "none"]
				}
				m = med(x, n); rq = med(q, k); cu = med(y, n); cz = med(z, k); su = med(w, n)
				printf "%-15s %11.0f %9.3f %7.1f%% %9.1f %9.3f %10.2f   %s", c, m, rq, (1 - rq) * 100, cu, cz, su, all
			}' "$TMP/pg.txt")"
	done
	out "   goal: less than 3% loss with Vigie, clearly less than bpftrace"
	# Where the time goes: runs with kernel.bpf_stats_enabled, conditions
	# interleaved and rotated over PG_STATS_ROUNDS rounds, medians printed.
	# vigie-sock-nopg is vigie-sock with PostgreSQL's walk off: the counting
	# alone, for goal 1 under this load, and the walk's cost by difference.
	none_cpu=$(awk '$2 == "none" {print $4}' "$TMP/pg.txt" | median)
	jq '.databases.postgres = "off"' "$TMP/pg-vigie.json" >"$TMP/pg-vigie-nopg.json"
	SCONDS=(empty vigie-sock vigie-sock-nopg vigie-syscalls)
	[ "$HAVE_BPFTRACE" = 1 ] && SCONDS+=(bpftrace)
	: >"$TMP/pgst.txt"
	n=${#SCONDS[@]}
	for ((r = 0; r < PG_STATS_ROUNDS; r++)); do
		for ((j = 0; j < n; j++)); do
			c=${SCONDS[$(((j + r) % n))]}
			case $c in
			empty) start_floor sock; spid=$FPID ;; # empty programs on the sock hooks, alone
			vigie-sock) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie.json"; spid=$VPID ;;
			vigie-sock-nopg) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie-nopg.json"; spid=$VPID ;;
			vigie-syscalls) start_vigie syscalls "$TMP/s2.json" -c "$TMP/pg-vigie.json"; spid=$VPID ;;
			bpftrace) start_bpftrace; spid=$BTPID ;;
			esac
			ids=$(prog_ids "$spid")
			sysctl -qw kernel.bpf_stats_enabled=1
			stats_snapshot "$ids" >"$TMP/st0.json"
			pg_run "$PG_SECONDS" >/dev/null
			stats_snapshot "$ids" >"$TMP/st1.json"
			sysctl -qw kernel.bpf_stats_enabled=0
			txn=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/pg/run.log")
			case $c in empty) bg_stop "$FPID" ;; vigie-*) stop_vigie ;; bpftrace) bg_stop "$BTPID" ;; esac
			stats_delta "$TMP/st0.json" "$TMP/st1.json" |
				awk -v r="$r" -v c="$c" -v n="$txn" '
					c == "empty" && $1 !~ /^floor_(send|recv)_btf$/ { next }
					{ print r, c, $1, $2, $3, n }' >>"$TMP/pgst.txt"
			if [ "$c" = vigie-sock ]; then
				# the sends the walk took (the sensor's whole life: pgbench ran only in the window)
				w=$(jq -r 'select(.event.action == "sensor-stop") | .vigie.stats.postgres.sends_walked // 0' "$TMP/s2.json" | tail -n 1)
				echo "$r $c =walked ${w:-0} 0 $txn" >>"$TMP/pgst.txt"
			fi
			log "  bpf_stats round $((r + 1)) $c: $(awk -v r="$r" -v c="$c" '$1 == r && $2 == c && $4 >= 1000 && $3 !~ /^=/ {printf "%s %.0f ns x %.2f/txn; ", $3, $5 / $4, $4 / $6}' "$TMP/pgst.txt")"
		done
	done
	out "   BPF program time per transaction (bpf_stats on, ${PG_STATS_ROUNDS} interleaved rounds x ${PG_SECONDS}s, medians; programs run >= 1000 times),"
	out "   and its share of the no-sensor CPU per transaction ($(awk -v c="$none_cpu" 'BEGIN {printf "%.1f", c / 1000}') us): the loss to expect when the host is CPU-bound:"
	awk -v base="$none_cpu" -v conds="${SCONDS[*]}" -v rounds="$PG_STATS_ROUNDS" '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n ? a[int((n + 1) / 2)] : 0
		}
		function range(a, n,   i, lo, hi) {
			lo = hi = a[1]
			for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
			return sprintf("%.0f-%.0f", lo, hi)
		}
		function rng2(a, n,   i, lo, hi) {
			lo = hi = a[1]
			for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
			return sprintf("%.2f-%.2f", lo, hi)
		}
		# per round, condition, program: runs, ns; per round and condition: transactions
		{ runs[$1, $2, $3] = $4; ns[$1, $2, $3] = $5; txn[$1, $2] = $6; prog[$2, $3] = 1 }
		END {
			nc = split(conds, C, " ")
			for (i = 1; i <= nc; i++) {
				c = C[i]; k = 0; line = ""
				for (r = 0; r < rounds; r++) {
					if (!((r, c) in txn) || txn[r, c] <= 0) continue
					t = 0
					for (pk in prog) {
						split(pk, q, SUBSEP)
						if (q[1] != c || q[2] ~ /^=/ || runs[r, c, q[2]] < 1000) continue
						t += ns[r, c, q[2]]
					}
					tot[++k] = t / txn[r, c] / 1000
				}
				u = med(tot, k)
				for (pk in prog) {
					split(pk, q, SUBSEP)
					if (q[1] != c || q[2] ~ /^=/) continue
					m = 0
					for (r = 0; r < rounds; r++)
						if (runs[r, c, q[2]] >= 1000 && txn[r, c] > 0) {
							pr[++m] = runs[r, c, q[2]] / txn[r, c]; pn[m] = ns[r, c, q[2]] / runs[r, c, q[2]]
						}
					if (m) line = line sprintf(" %s %.1f/txn x %.0f ns;", q[2], med(pr, m), med(pn, m))
				}
				if (c == "empty") fl = u
				printf "   %-16s %5.2f us/txn = %4.1f%%:%s", c, u, (base > 0 ? u * 1000 / base * 100 : 0), line
				if (c ~ /^vigie-sock/ && fl != "") printf " above the empty programs: %.2f us/txn = %.1f%%", u - fl, (base > 0 ? (u - fl) * 1000 / base * 100 : 0)
				printf "\n"
			}
			# goal 1 under this load: the counting alone against the floor, round by round
			split("send recv", D, " ")
			for (d = 1; d <= 2; d++) {
				k = 0
				for (r = 0; r < rounds; r++) {
					a = runs[r, "vigie-sock-nopg", "sock_" D[d] "_btf"]; b = runs[r, "empty", "floor_" D[d] "_btf"]
					if (a < 1000 || b < 1000) continue
					v[++k] = ns[r, "vigie-sock-nopg", "sock_" D[d] "_btf"] / a
					f[k] = ns[r, "empty", "floor_" D[d] "_btf"] / b
					x[k] = v[k] / f[k]
				}
				if (!k) continue
				mv = med(v, k); mf = med(f, k); mx = med(x, k)
				printf "   goal 1 under pgbench, sock_%s_btf counting (walk off): %.0f ns (rounds %s), floor %.0f ns, %.2fx (rounds %s): 150 ns %s, 2x %s\n", \
					D[d], mv, range(v, k), mf, mx, rng2(x, k), mv <= 150 ? "met" : "NOT met", mx <= 2 ? "met" : "NOT met"
			}
			# the walk by difference: sends with it minus without, per walked send
			k = 0
			for (r = 0; r < rounds; r++) {
				w = runs[r, "vigie-sock", "=walked"]; a = txn[r, "vigie-sock"]; b = txn[r, "vigie-sock-nopg"]
				if (w <= 0 || a <= 0 || b <= 0 || runs[r, "vigie-sock", "sock_send_btf"] < 1000) continue
				wk[++k] = (ns[r, "vigie-sock", "sock_send_btf"] / a - ns[r, "vigie-sock-nopg", "sock_send_btf"] / b) / (w / a)
				wp[k] = w / a
			}
			if (k)
				printf "   PostgreSQL walk in sock mode (pg_sock_send as sock_send_btf'"'"'s tail call): %.2f walked sends/txn, %.0f ns per walked send (rounds %s): sock_send_btf per txn with the walk minus without, per walked send\n", \
					med(wp, k), med(wk, k), range(wk, k)
		}' "$TMP/pgst.txt" | while IFS= read -r l; do out "$l"; done
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 && PG_STARTED=0
fi

# ---- 4. user-space CPU and memory at 100k sends/s over 10k keys -----------------
if [[ " $SECTIONS " == *" 4 "* ]]; then
	log "section 4: $SPREAD_RATE sends/s over $SPREAD_KEYS keys for ${SPREAD_SECONDS}s"
	socks=$((SPREAD_KEYS / SPREAD_PROCS))
	# vigie with default settings, in a subshell that reports its total
	# CPU (bash 'times': children's user and system time) once it exits.
	(
		"$VIGIE" run -o "$TMP/s4.json" 2>>"$TMP/vigie.err" &
		echo $! >"$TMP/s4.pid"
		wait $!
		times >"$TMP/s4.times"
	) &
	S4SUB=$!
	BG_PIDS+=("$S4SUB")
	wait_for "$TMP/s4.json" sensor-start 20 "$S4SUB" || die "vigie did not start for section 4"
	VPID=$(cat "$TMP/s4.pid")
	BG_PIDS+=("$VPID")
	sleep 1
	hz=$(getconf CLK_TCK)
	cpu0=$(awk '{print $14 + $15}' "/proc/$VPID/stat")
	t0=$(date +%s.%N)
	res=$("$LOAD" spread "$HOLE_IP" 20000 "$socks" "$SPREAD_PROCS" "$socks" "$SPREAD_RATE" "$SPREAD_SECONDS") ||
		die "spread load failed"
	sleep 1 # one more tick: the last sends are drained
	t1=$(date +%s.%N)
	cpu1=$(awk '{print $14 + $15}' "/proc/$VPID/stat")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$VPID/status")
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$VPID/status")
	kill -INT "$VPID"
	wait "$S4SUB"
	# children's times: second line of 'times', "XmY.YYYs XmY.YYYs"
	total_cpu=$(sed -n 2p "$TMP/s4.times" | awk '{
		n = split($1 " " $2, a, " "); s = 0
		for (i = 1; i <= n; i++) { split(a[i], b, "m"); sub("s", "", b[2]); s += b[1] * 60 + b[2] }
		print s }')
	sent=$(field sent "$res")
	errs=$(field errors "$res")
	# What vigie reported for the load: bytes to the black hole from benchload.
	# (usage is summarised per process by default: the load's events are
	# those of benchload's egress; a flow event names the black hole)
	sel='select(.event.action == "usage" and .vigie.class == "egress" and
		(.process.name == "benchload" or .destination.ip == $ip))'
	counted=$(jq -s --arg ip "$HOLE_IP" "[.[] | $sel | .vigie.bytes] | add // 0" "$TMP/s4.json")
	nev=$(jq -s --arg ip "$HOLE_IP" "[.[] | $sel] | length" "$TMP/s4.json")
	stopstats=$(jq -c 'select(.event.action == "sensor-stop") | .vigie.stats | {map_entries_peak, map_fill, flow_fallbacks, failed_inserts, drain_errors}' "$TMP/s4.json" 2>/dev/null)
	out ""
	out "== 4. vigie user space at $SPREAD_RATE sends/s over $SPREAD_KEYS (process, peer) keys, default settings, ${SPREAD_SECONDS}s"
	out "   load: $SPREAD_PROCS processes x $socks connected UDP sockets, one remote port each, 64-byte datagrams to $HOLE_IP"
	out "$(awk -v r="$res" 'BEGIN {print "   load reached: " r}')"
	out "$(awk -v c0="$cpu0" -v c1="$cpu1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v hwm="$hwm" -v rss="$rss" -v tot="$total_cpu" \
		'BEGIN {printf "   vigie CPU during load: %.2f%% of one CPU (%.2f s user+system over %.1f s); whole run incl. start and final flush: %.2f s\n   vigie memory: peak RSS (VmHWM) %.1f MiB, RSS at end of load %.1f MiB", (c1 - c0) / hz / (t1 - t0) * 100, (c1 - c0) / hz, t1 - t0, tot, hwm / 1024, rss / 1024}')"
	out "   accounting check: vigie counted $counted bytes in $nev usage events; the load sent $(( (sent - errs) * 64 )) bytes ($sent sends - $errs errors, x 64)"
	out "   sensor-stop stats: $stopstats"
	evsize=$(jq -c 'select(.event.action == "usage")' "$TMP/s4.json" | awk '{ n++; t += length($0) + 1 } END { if (n) printf "%.0f bytes on average over %d usage events", t / n, n }')
	out "   event size (what a SIEM ingests): $evsize"
fi

out ""
log "done"
exit 0
