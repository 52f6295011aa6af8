#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two vigie builds attached at once under pgbench -S: the cost of each
# build's sock_send_btf (PostgreSQL's walk, its tail call, included) and
# sock_recv_btf per run, and its BPF time per transaction, in the same
# window, on a throw-away local cluster. A benchmark: it prints, it
# decides nothing.
#   tools/bench-pair-pgbench.sh ROUNDS SECONDS BUILD_A BUILD_B
# e.g. tools/bench-pair-pgbench.sh 10 5 /tmp/old/build build
# Root; bpftool, jq, PostgreSQL's server and pgbench, user postgres.
#
# Why: tools/bench-pair.sh measures one backend's sends on a hot loop;
# under pgbench (8 clients and 8 backends on 2 CPUs) what a program
# touches is mostly cold, and one build's runs in a row move by more than
# the changes looked for. Both builds see the same transactions; rounds
# alternate which attaches first (it runs first on the tracepoint and pays
# more of the misses), and each estimate is the mean of the two orders'
# differences, with its standard error.
set -u
[ $# -eq 4 ] || { sed -n '3,10p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-pair-pgbench: needs root" >&2; exit 1; }
R=$1 SECS=$2 A=$3 B=$4
for f in "$A/vigie" "$B/vigie"; do
	[ -x "$f" ] || { echo "bench-pair-pgbench: missing $f (make in that tree first)" >&2; exit 1; }
done
for c in bpftool jq pgbench; do
	command -v "$c" >/dev/null || { echo "bench-pair-pgbench: missing $c" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && id postgres >/dev/null 2>&1 ||
	{ echo "bench-pair-pgbench: needs PostgreSQL's server and user postgres" >&2; exit 1; }
T=$(mktemp -d /tmp/bench-pair-pgbench.XXXXXX) || exit 1
chmod 755 "$T"
PIDS=()
PG_UP=0
cleanup() {
	local p
	trap - EXIT
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ "$PG_UP" = 1 ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg/data" -m immediate -w stop >/dev/null 2>&1
	sysctl -qw kernel.bpf_stats_enabled=0
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ME=bench-pair-pgbench
. "$(dirname "$0")/bench-pair-lib.sh"

mkdir -p "$T/pg" && chown postgres: "$T/pg" || exit 1
for ((i = 0; i < 50; i++)); do
	PORT=$((56000 + ($$ + i) % 1000))
	ss -Htln "sport = :$PORT" | grep -q . || break
done
runuser -u postgres -- "$PGBIN/initdb" -D "$T/pg/data" -A trust -U postgres -E UTF8 --no-sync \
	>"$T/pg/initdb.log" 2>&1 ||
	{ echo "bench-pair-pgbench: initdb failed: $(tail -n 3 "$T/pg/initdb.log")" >&2; exit 1; }
PG_UP=1
# the options of make bench's section 2
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w -t 60 \
	-o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$T/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
	start >/dev/null 2>&1 ||
	{ echo "bench-pair-pgbench: the cluster did not start: $(tail -n 3 "$T/pg/server.log")" >&2; exit 1; }
pgbench -i -q -s 5 -h 127.0.0.1 -p "$PORT" -U postgres postgres >"$T/init.log" 2>&1 ||
	{ echo "bench-pair-pgbench: pgbench -i failed: $(tail -n 3 "$T/init.log")" >&2; exit 1; }
printf '{"databases": {"ports": [5432, 3306, 1521, 50000, 1433, 27017, %d]}}\n' "$PORT" >"$T/v.json"
echo "bench-pair-pgbench: $R rounds of pgbench -S -c 8 -j 2 for ${SECS}s; A=$A B=$B"
echo "round first txns | ns per run: send A B B-A | recv A B B-A | BPF us per txn: A B B-A"
: >"$T/pairs.txt"
for ((r = 0; r < R; r++)); do
	start_pair "$r" "$A" "$B"
	sleep 1.5 # the cluster found, its port known: the walk narrowed
	ia=$(prog_ids "$pa") ib=$(prog_ids "$pb")
	sysctl -qw kernel.bpf_stats_enabled=1
	snapshot "$ia,$ib" >"$T/s0.json"
	pgbench -n -S -c 8 -j 2 -T "$SECS" -h 127.0.0.1 -p "$PORT" -U postgres postgres >"$T/run.log" 2>&1 ||
		{ echo "bench-pair-pgbench: pgbench failed: $(tail -n 3 "$T/run.log")" >&2; exit 1; }
	snapshot "$ia,$ib" >"$T/s1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	kill -INT "$pa" "$pb"
	wait "$pa" "$pb"
	PIDS=()
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/run.log")
	[ -n "$txns" ] && [ "$txns" -gt 0 ] || { echo "bench-pair-pgbench: no transaction count" >&2; exit 1; }
	snapshot_delta "$T/s0.json" "$T/s1.json" "$ia" |
		awk -v r="$r" -v first="$first" -v txns="$txns" '
			$1 == "sock_send_btf" && $2 > 0 { s[$4] = $3 / $2 }
			$1 == "sock_recv_btf" && $2 > 0 { v[$4] = $3 / $2 }
			{ t[$4] += $3 }
			END { printf "%d %s %d | %.1f %.1f %+.1f | %.1f %.1f %+.1f | %.3f %.3f %+.3f\n", r, first, txns,
				s["a"], s["b"], s["b"] - s["a"], v["a"], v["b"], v["b"] - v["a"],
				t["a"] / txns / 1000, t["b"] / txns / 1000, (t["b"] - t["a"]) / txns / 1000 }' |
		tee -a "$T/pairs.txt"
done
awk '
	function add(i, o, d) { s[i, o] += d; ss[i, o] += d * d; n[i, o]++ }
	{ add(1, $2, $7); add(2, $2, $11); add(3, $2, $15); sa += $5; sb += $6; ra += $9; rb += $10; ba += $13; bb += $14; k++ }
	function est(i, what, unit, prec,   o, m, v) {
		for (o in ord) { m[o] = s[i, o] / n[i, o]; v[o] = n[i, o] > 1 ? (ss[i, o] - n[i, o] * m[o] * m[o]) / (n[i, o] - 1) : 0 }
		printf "B - A, order-balanced, %s: %+." prec "f %s (standard error %." prec "f; A first: %+." prec "f, B first: %+." prec "f)\n",
			what, (m["A"] + m["B"]) / 2, unit, sqrt(v["A"] / n[i, "A"] + v["B"] / n[i, "B"]) / 2, m["A"], m["B"]
	}
	END {
		if (!n[1, "A"] || !n[1, "B"]) { print "bench-pair-pgbench: need at least 2 rounds"; exit }
		ord["A"] = 1; ord["B"] = 1
		est(1, "sock_send_btf", "ns per run", 1)
		est(2, "sock_recv_btf", "ns per run", 1)
		est(3, "BPF time", "us per transaction", 3)
		printf "means: send A %.1f B %.1f ns, recv A %.1f B %.1f ns, BPF A %.3f B %.3f us per transaction\n",
			sa / k, sb / k, ra / k, rb / k, ba / k, bb / k
	}' "$T/pairs.txt"
