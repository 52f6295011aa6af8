#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cost of PostgreSQL row counting (not a test). Starts a throw-away cluster
# and measures, interleaved and repeated, without and with row counting
# attached (build/tests/live_pgwire --hold):
#   - a 1,000,000-row SELECT * of a 5-column table (psql to /dev/null);
#   - a 1,000,000-row zero-column SELECT (the walker's worst case);
#   - pgbench -S (select-only, 4 clients);
#   - the 1,000,000-row SELECT * over TLS (TCP, sslmode=require), backend CPU
#     without and with counting (the be_tls_write uprobes);
#   - pgbench -S over TLS (sslmode=require), without and with counting:
#     transactions per second and CPU per transaction (the whole machine's
#     busy time from /proc/stat over the transactions: cluster, pgbench and
#     the holder), and the cost of one hit of the be_tls_write uprobe (the
#     backend CPU added to the TLS SELECT over the hits it took);
#   - the 1,000,000-row SELECT * again, counted, after SET application_name
#     (a tagged request of a portal, docs/application-users.md);
# and the send program's own run time (bpf_enable_stats, held by the
# attaching process only: other BPF users are not disturbed) per row
# (it includes the runs on every other process's socket sends meanwhile,
# each stopped by one hash lookup). Prints ratios.
# Usage: tools/bench-pgwire.sh [BUILD_DIR] [ROUNDS] [sock|syscall]
set -u
B=${1:-build}
ROUNDS=${2:-5}
PROBE=${3:-auto}
cd "$(dirname "$0")/.."
HOLD="$B/tests/live_pgwire"
[ "$(id -u)" -eq 0 ] || { echo "bench-pgwire: needs root" >&2; exit 1; }
[ -x "$HOLD" ] || { echo "bench-pgwire: build $HOLD first (make $HOLD)" >&2; exit 1; }

eval "$(tests/lib/pgcluster.sh start)" || exit 1
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	tests/lib/pgcluster.sh stop "$PGCLUSTER_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export PGSSLMODE=disable

psql -X -q -c "create table t5 (id int primary key, name text, email text, nir text, balance numeric)" &&
psql -X -q -c "insert into t5 select i, 'advisor ' || i, 'user' || i || '@example.org',
	lpad((1000000000000 + i)::text, 15, '0'), i * 1.5 from generate_series(1, 1000000) i" &&
psql -X -q -c "vacuum analyze t5" &&
psql -X -q -c "create table t20k (id int, body text); alter table t20k alter body set storage external" &&
psql -X -q -c "insert into t20k select i, repeat(md5(i::text), 625) from generate_series(1, 10000) i" &&
pgbench -q -i -s 10 >/dev/null 2>&1 || { echo "bench-pgwire: setup failed" >&2; exit 1; }

# only our cluster: other PostgreSQL servers on this host are left alone
PM=$(head -1 "$PGDATA/postmaster.pid")
attach() {
	"$HOLD" --hold 3600 "$PROBE" "$PM" >"$PGCLUSTER_DIR/hold.out" 2>"$PGCLUSTER_DIR/hold.err" &
	holder=$!
	for _ in $(seq 100); do
		grep -q holding "$PGCLUSTER_DIR/hold.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench-pgwire: row counting did not attach:" >&2
	cat "$PGCLUSTER_DIR/hold.err" >&2
	exit 1
}
detach() {
	kill -INT "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

# seconds of one run of $1 (SQL), psql output to /dev/null
timed_select() {
	local t0 t1
	t0=$(date +%s%N)
	psql -X -q -o /dev/null -c "$1" || echo "bench-pgwire: query failed" >&2
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 ))
}
# on-CPU microseconds of the backend for one run of $1 (from its
# /proc/PID/schedstat): the walker runs in the backend's own send calls,
# and CPU time is far less disturbed by other load than wall time
backend_cpu() {
	local d=$PGCLUSTER_DIR p pid t0 t1
	rm -f "$d/pid" "$d/ready" "$d/done" "$d/in"
	mkfifo "$d/in"
	psql -X -q -At <"$d/in" >/dev/null 2>&1 &
	p=$!
	exec 3>"$d/in"
	printf '\\o %s\nselect pg_backend_pid();\n\\o /dev/null\n\\! touch %s\n' "$d/pid" "$d/ready" >&3
	while [ ! -e "$d/ready" ]; do sleep 0.01; done
	pid=$(cat "$d/pid")
	t0=$(cut -d' ' -f1 "/proc/$pid/schedstat")
	printf '%s;\n\\! touch %s\n' "$1" "$d/done" >&3
	while [ ! -e "$d/done" ]; do sleep 0.01; done
	t1=$(cut -d' ' -f1 "/proc/$pid/schedstat")
	exec 3>&-
	wait "$p"
	rm -f "$d/in"
	echo $(( (t1 - t0) / 1000 ))
}
# busy CPU time of the machine, in USER_HZ ticks (10 ms)
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
# pgbench -S for $1 s: "TPS CPU_US_PER_TRANSACTION"
tps() {
	local a b out n t
	a=$(busy)
	out=$(pgbench -n -S -M simple -c 4 -j 2 -T "$1" 2>/dev/null)
	b=$(busy)
	t=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
	n=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
	awk -v t="$t" -v n="$n" -v c=$((b - a)) 'BEGIN { if (n > 0) printf "%s %.2f\n", t, c * 10000 / n }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# median of column 2
median2() { awk '{ print $2 }' | median; }

Q1="select * from t5"
Q2="select from generate_series(1, 1000000)"
Q3="select * from t20k" # 10,000 rows of 20 KB
QT="set application_name = 'portail/adv0001';
select * from t5"
: >"$PGCLUSTER_DIR/q1.off"; : >"$PGCLUSTER_DIR/q1.on"
: >"$PGCLUSTER_DIR/q2.off"; : >"$PGCLUSTER_DIR/q2.on"
: >"$PGCLUSTER_DIR/pgb.off"; : >"$PGCLUSTER_DIR/pgb.on"
: >"$PGCLUSTER_DIR/c1.off"; : >"$PGCLUSTER_DIR/c1.on"
: >"$PGCLUSTER_DIR/c2.off"; : >"$PGCLUSTER_DIR/c2.on"
: >"$PGCLUSTER_DIR/c3.off"; : >"$PGCLUSTER_DIR/c3.on"
: >"$PGCLUSTER_DIR/ct.on"
: >"$PGCLUSTER_DIR/cs.off"; : >"$PGCLUSTER_DIR/cs.on"
: >"$PGCLUSTER_DIR/pts.off"; : >"$PGCLUSTER_DIR/pts.on"
timed_select "$Q1" >/dev/null # warm the cache
# the TLS runs go over TCP (libpq never uses TLS on a unix socket): checked
[ "$(PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require psql -X -At -c "select ssl from pg_stat_ssl where pid = pg_backend_pid()")" = t ] ||
	{ echo "bench-pgwire: the TLS runs are not TLS (ssl = on in the cluster?)" >&2; exit 1; }

measure_off() {
	timed_select "$Q1" >>"$PGCLUSTER_DIR/q1.off"
	timed_select "$Q2" >>"$PGCLUSTER_DIR/q2.off"
	backend_cpu "$Q1" >>"$PGCLUSTER_DIR/c1.off"
	backend_cpu "$Q2" >>"$PGCLUSTER_DIR/c2.off"
	backend_cpu "$Q3" >>"$PGCLUSTER_DIR/c3.off"
	PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require backend_cpu "$Q1" >>"$PGCLUSTER_DIR/cs.off"
	tps 5 >>"$PGCLUSTER_DIR/pgb.off"
	PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require tps 5 >>"$PGCLUSTER_DIR/pts.off"
}
measure_on() {
	attach
	timed_select "$Q1" >>"$PGCLUSTER_DIR/q1.on"
	timed_select "$Q2" >>"$PGCLUSTER_DIR/q2.on"
	backend_cpu "$Q1" >>"$PGCLUSTER_DIR/c1.on"
	backend_cpu "$Q2" >>"$PGCLUSTER_DIR/c2.on"
	backend_cpu "$Q3" >>"$PGCLUSTER_DIR/c3.on"
	backend_cpu "$QT" >>"$PGCLUSTER_DIR/ct.on"
	PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require backend_cpu "$Q1" >>"$PGCLUSTER_DIR/cs.on"
	tps 5 >>"$PGCLUSTER_DIR/pgb.on"
	PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require tps 5 >>"$PGCLUSTER_DIR/pts.on"
	detach
}
# off then on in odd rounds, on then off in even ones: whatever the order
# does (caches, the machine's drift) weighs on both sides
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		measure_off
		measure_on
	else
		measure_on
		measure_off
	fi
	echo "round $r/$ROUNDS done" >&2
done

# the program's own cost, from the kernel's statistics
prog_cost() {
	PGWIRE_PROG_STATS=1 attach
	timed_select "$1" >/dev/null
	detach
	sed -n 's/^prog run_time_ns \([0-9]*\) run_cnt \([0-9]*\)/\1 \2/p' "$PGCLUSTER_DIR/hold.out"
}
cost1=$(prog_cost "$Q1")
counted=$(grep '^rows' "$PGCLUSTER_DIR/hold.out")
cost2=$(prog_cost "$Q2")
costt=$(prog_cost "$QT")
cost3=$(prog_cost "$Q3")
# hits of the TLS hook during one TLS SELECT, and its program's own time
PGWIRE_PROG_STATS=1 attach
PGHOST=$PGHOSTADDR_TCP PGSSLMODE=require timed_select "$Q1" >/dev/null
detach
tlshits=$(sed -n 's/^tls_writes \([0-9]*\)/\1/p' "$PGCLUSTER_DIR/hold.out")
tlsprog=$(sed -n 's/^tls_prog run_time_ns \([0-9]*\) run_cnt \([0-9]*\)/\1 \2/p' "$PGCLUSTER_DIR/hold.out")

q1off=$(median <"$PGCLUSTER_DIR/q1.off"); q1on=$(median <"$PGCLUSTER_DIR/q1.on")
q2off=$(median <"$PGCLUSTER_DIR/q2.off"); q2on=$(median <"$PGCLUSTER_DIR/q2.on")
poff=$(median <"$PGCLUSTER_DIR/pgb.off"); pon=$(median <"$PGCLUSTER_DIR/pgb.on")
tsoff=$(median <"$PGCLUSTER_DIR/pts.off"); tson=$(median <"$PGCLUSTER_DIR/pts.on")
pcoff=$(median2 <"$PGCLUSTER_DIR/pgb.off"); pcon=$(median2 <"$PGCLUSTER_DIR/pgb.on")
tcoff=$(median2 <"$PGCLUSTER_DIR/pts.off"); tcon=$(median2 <"$PGCLUSTER_DIR/pts.on")
c1off=$(median <"$PGCLUSTER_DIR/c1.off"); c1on=$(median <"$PGCLUSTER_DIR/c1.on")
c2off=$(median <"$PGCLUSTER_DIR/c2.off"); c2on=$(median <"$PGCLUSTER_DIR/c2.on")
c3off=$(median <"$PGCLUSTER_DIR/c3.off"); c3on=$(median <"$PGCLUSTER_DIR/c3.on")
cton=$(median <"$PGCLUSTER_DIR/ct.on")
csoff=$(median <"$PGCLUSTER_DIR/cs.off"); cson=$(median <"$PGCLUSTER_DIR/cs.on")

echo "PostgreSQL row counting cost, median of $ROUNDS interleaved rounds ($(nproc) CPUs, probe $PROBE)"
awk -v off="$q1off" -v on="$q1on" 'BEGIN { printf "  SELECT * 1,000,000 rows x 5 cols: off %.3f s, on %.3f s, ratio %.3f\n", off / 1e6, on / 1e6, on / off }'
awk -v off="$q2off" -v on="$q2on" 'BEGIN { printf "  SELECT 1,000,000 zero-column rows:  off %.3f s, on %.3f s, ratio %.3f\n", off / 1e6, on / 1e6, on / off }'
awk -v off="$c1off" -v on="$c1on" 'BEGIN { printf "  backend CPU, 1,000,000 x 5 cols:   off %.3f s, on %.3f s, ratio %.3f (+%.0f ns per row)\n", off / 1e6, on / 1e6, on / off, (on - off) * 1000 / 1000000 }'
awk -v off="$c2off" -v on="$c2on" 'BEGIN { printf "  backend CPU, 1,000,000 zero-col:   off %.3f s, on %.3f s, ratio %.3f (+%.0f ns per row)\n", off / 1e6, on / 1e6, on / off, (on - off) * 1000 / 1000000 }'
awk -v off="$c3off" -v on="$c3on" 'BEGIN { printf "  backend CPU, 10,000 rows of 20 KB:  off %.3f s, on %.3f s, ratio %.3f (+%.0f ns per row)\n", off / 1e6, on / 1e6, on / off, (on - off) * 1000 / 10000 }'
awk -v off="$csoff" -v on="$cson" 'BEGIN { printf "  backend CPU, 1,000,000 x 5 cols, TLS: off %.3f s, on %.3f s, ratio %.3f (+%.0f ns per row)\n", off / 1e6, on / 1e6, on / off, (on - off) * 1000 / 1000000 }'
awk -v off="$c1on" -v on="$cton" 'BEGIN { printf "  backend CPU, 1,000,000 x 5 cols, counted: untagged %.3f s, tagged %.3f s, ratio %.3f\n", off / 1e6, on / 1e6, on / off }'
awk -v off="$poff" -v on="$pon" 'BEGIN { printf "  pgbench -S -c 4 (tps):            off %.0f, on %.0f, ratio %.3f\n", off, on, on / off }'
awk -v off="$tsoff" -v on="$tson" 'BEGIN { printf "  pgbench -S -c 4 over TLS (tps):   off %.0f, on %.0f, ratio %.3f\n", off, on, on / off }'
awk -v off="$pcoff" -v on="$pcon" 'BEGIN { printf "  pgbench -S CPU per transaction:   off %.2f us, on %.2f us, ratio %.3f (plain; TLS hook loaded)\n", off, on, on / off }'
awk -v off="$tcoff" -v on="$tcon" 'BEGIN { printf "  pgbench -S CPU per tx over TLS:   off %.2f us, on %.2f us, ratio %.3f\n", off, on, on / off }'
awk -v off="$csoff" -v on="$cson" -v n="$tlshits" 'BEGIN { if (n > 0) printf "  TLS hook: %d hits in the 1,000,000-row TLS SELECT, %.1f us of backend CPU per hit\n", n, (on - off) / n }'
echo "$tlsprog" | awk '$2 > 0 { printf "  TLS hook program alone: %d runs, %.0f ns per run (the rest of a hit is the uprobe trap)\n", $2, $1 / $2 }'
# the program's own time against the backend's CPU per row without it:
# steadier than the ratio of two CPU times on a shared machine
share() { # COST OFF_US ROWS LABEL
	echo "$1" | awk -v off="$2" -v n="$3" -v l="$4" '$2 > 0 && off > 0 {
		printf "  send program time per row, %s: %.1f ns = %.2f%% of the backend CPU per row without it (%.0f ns)\n", l, $1 / n, $1 / 1000 / off * 100, off * 1000 / n }'
}
share "$cost1" "$c1off" 1000000 "1,000,000 x 5 cols"
share "$cost2" "$c2off" 1000000 "1,000,000 zero-column rows"
share "$cost3" "$c3off" 10000 "10,000 rows of 20 KB"
echo "$cost1" | awk '$2 > 0 { printf "  send program during the 1,000,000-row SELECT: %d runs, %.1f ms, %.1f ns per row\n", $2, $1 / 1e6, $1 / 1000000 }'
echo "$cost2" | awk '$2 > 0 { printf "  send program during 1,000,000 zero-column rows: %d runs, %.1f ms, %.1f ns per row\n", $2, $1 / 1e6, $1 / 1000000 }'
echo "$cost3" | awk '$2 > 0 { printf "  send program during 10,000 rows of 20 KB: %d runs, %.1f ms, %.0f ns per row\n", $2, $1 / 1e6, $1 / 10000 }'
echo "$costt" | awk '$2 > 0 { printf "  send program during the tagged 1,000,000-row SELECT: %d runs, %.1f ms, %.1f ns per row\n", $2, $1 / 1e6, $1 / 1000000 }'
echo "  counted while attached to the 1,000,000-row SELECT: $counted"
