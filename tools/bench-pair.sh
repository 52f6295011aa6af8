#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two vigie builds attached at once, on the same sends: the cost of
# sock_send_btf (with PostgreSQL's walk as its tail call) per send of a
# stand-in PostgreSQL backend (tools/bench-pgserver.c), for each build,
# in the same window. A benchmark: it prints, it decides nothing.
#   tools/bench-pair.sh ROUNDS ROWS SENDS BUILD_A BUILD_B
# e.g. tools/bench-pair.sh 40 1 200000 /tmp/old/build build
# Root; bpftool, jq, ip. BUILD_A also gives the stand-in server and the
# empty program (tools/bench-floor).
#
# Why: on this VM, sequential runs of one build differ by 50 ns or more
# (the host's load moves from second to second), which hides a 20 ns
# change. Attached together, both builds see the same sends at the same
# moment; what remains is the order (the program attached first runs first
# on the tracepoint and pays most of the cache misses), so rounds alternate
# it and the estimate is the mean of the two orders' differences, with its
# standard error. An A/A run (the same build twice) gives the method's own
# bias.
set -u
[ $# -eq 5 ] || { sed -n '3,10p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-pair: needs root" >&2; exit 1; }
R=$1 ROWS=$2 COUNT=$3 A=$4 B=$5
for f in "$A/vigie" "$B/vigie" "$A/tools/bench-pgserver" "$A/tools/bench-floor"; do
	[ -x "$f" ] || { echo "bench-pair: missing $f (make in that tree first)" >&2; exit 1; }
done
for c in bpftool jq ip; do command -v "$c" >/dev/null || { echo "bench-pair: missing $c" >&2; exit 1; }; done
NS=vigiepair$$ VH=vph$$ VN=vpn$$ NET=10.214.$((100 + $$ % 150)) PORT=$((57000 + $$ % 1000))
T=$(mktemp -d /tmp/bench-pair.XXXXXX) || exit 1
chmod 755 "$T"
D=/run/vigiepair$$ # a root-only path: vigie takes .../bin/postgres there for PostgreSQL
PIDS=()
cleanup() {
	local p
	trap - EXIT
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled=0
	rm -rf "$D" "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ME=bench-pair
. "$(dirname "$0")/bench-pair-lib.sh"
rows_of() { jq -s '[.[] | select(.event.action == "usage" and .process.name == "postgres") | .vigie.rows // 0] | add // 0' "$1"; }

ip netns add "$NS" && ip link add "$VH" type veth peer name "$VN" && ip link set "$VN" netns "$NS" &&
	ip addr add "$NET.1/24" dev "$VH" && ip link set "$VH" up &&
	ip -n "$NS" addr add "$NET.2/24" dev "$VN" && ip -n "$NS" link set "$VN" up &&
	ip -n "$NS" link set lo up || { echo "bench-pair: cannot set up the network namespace" >&2; exit 1; }
mkdir -p "$D/bin" && chmod 755 "$D" "$D/bin" && cp "$A/tools/bench-pgserver" "$D/bin/postgres" || exit 1
"$D/bin/postgres" serve "$PORT" >"$T/srv.out" 2>&1 &
PIDS+=($!)
"$A/tools/bench-floor" sock 3600 >"$T/floor.out" 2>&1 &
FP=$!
PIDS+=("$FP")
wait_for "$T/srv.out" listening 50 && wait_for "$T/floor.out" ready 100 ||
	{ echo "bench-pair: the stand-in server or the empty program did not start" >&2; exit 1; }
fids=$(prog_ids "$FP")
printf '{"databases": {"ports": [5432, %d]}}\n' "$PORT" >"$T/v.json"
echo "bench-pair: $R rounds of $COUNT answers of $ROWS row(s); A=$A B=$B"
echo "round first A_ns B_ns B-A floor_ns A_rows B_rows (ns per sock_send_btf run, tail call included)"
: >"$T/pairs.txt"
for ((r = 0; r < R; r++)); do
	start_pair "$r" "$A" "$B"
	sleep 1.5 # the server found and its port known (the client is not
	# run as .../bin/postgres: its exec would be a server starting, and
	# the walk would widen to every send until its ports are known)
	ia=$(prog_ids "$pa") ib=$(prog_ids "$pb")
	sysctl -qw kernel.bpf_stats_enabled=1
	snapshot "$ia,$ib,$fids" >"$T/s0.json"
	ip netns exec "$NS" "$A/tools/bench-pgserver" fetch "$NET.1" "$PORT" "$ROWS" "$COUNT" >"$T/f.out" ||
		{ echo "bench-pair: fetch failed: $(cat "$T/f.out")" >&2; exit 1; }
	snapshot "$ia,$ib,$fids" >"$T/s1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	kill -INT "$pa" "$pb"
	wait "$pa" "$pb"
	PIDS=("${PIDS[@]:0:2}")
	snapshot_delta "$T/s0.json" "$T/s1.json" "$ia" |
		awk -v r="$r" -v first="$first" -v ra="$(rows_of "$T/oa.json")" -v rb="$(rows_of "$T/ob.json")" '
			$1 == "sock_send_btf" && $2 > 0 { v[$4] = $3 / $2 }
			$1 == "floor_send_btf" && $2 > 0 { f = $3 / $2 }
			END { printf "%d %s %.1f %.1f %.1f %.1f %d %d\n", r, first, v["a"], v["b"], v["b"] - v["a"], f, ra, rb }' |
		tee -a "$T/pairs.txt"
done
awk -v rows="$ROWS" -v count="$COUNT" '
	{ d = $5; s[$2] += d; ss[$2] += d * d; n[$2]++; a += $3; b += $4; k++
	  if ($7 != rows * count || $8 != rows * count) bad++ }
	END {
		if (!n["A"] || !n["B"]) { print "bench-pair: need at least 2 rounds"; exit }
		for (o in n) { m[o] = s[o] / n[o]; v[o] = (n[o] > 1) ? (ss[o] - n[o] * m[o] * m[o]) / (n[o] - 1) : 0 }
		est = (m["A"] + m["B"]) / 2; se = sqrt(v["A"] / n["A"] + v["B"] / n["B"]) / 2
		printf "B - A, order-balanced: %+.1f ns per send (standard error %.1f; A first: %+.1f over %d rounds, B first: %+.1f over %d)\n", \
			est, se, m["A"], n["A"], m["B"], n["B"]
		printf "mean per send: A %.1f ns, B %.1f ns; rows %s\n", a / k, b / k, bad ? "NOT exact in " bad " round(s)" : "exact in every round (" rows * count " each)"
	}' "$T/pairs.txt"
