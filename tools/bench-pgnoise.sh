#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How much pgbench's CPU per transaction moves on this machine with nothing
# changed: back-to-back identical pgbench -S runs, no sensor, on a
# throw-away cluster (tests/lib/pgcluster.sh), the cluster and pgbench in a
# cpuacct cgroup as section 2 of make bench has them. Prints, per run,
# transactions, tps, CPU us per transaction and CPU seconds per second: the
# scatter any whole-machine comparison (make bench's cpu_ratio) has to
# beat. A benchmark: it prints, it decides nothing. Root, cgroup v1 cpuacct.
#   tools/bench-pgnoise.sh [RUNS] [SECONDS]     (default 12 runs of 2 s)
set -u
RUNS=${1:-12} SECS=${2:-2}
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench-pgnoise: needs root" >&2; exit 1; }
[ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ] ||
	{ echo "bench-pgnoise: no cgroup v1 cpuacct here" >&2; exit 1; }
eval "$(tests/lib/pgcluster.sh start)" || exit 1
CG=/sys/fs/cgroup/cpuacct/vigiepgnoise$$
trap 'tests/lib/pgcluster.sh stop "$PGCLUSTER_DIR"; rmdir "$CG" 2>/dev/null' EXIT
trap 'exit 1' INT TERM
export PGSSLMODE=disable
pgbench -i -q -s 5 -h 127.0.0.1 >/dev/null 2>&1 || { echo "bench-pgnoise: pgbench -i failed" >&2; exit 1; }
mkdir "$CG" || exit 1
pm=$(head -n 1 "$PGDATA/postmaster.pid")
for p in $pm $(ps -o pid= --ppid "$pm"); do echo "$p" >"$CG/cgroup.procs"; done
printf '%4s %9s %9s %11s %11s\n' run txns tps cpu_us/txn cpu_s/s
for ((i = 1; i <= RUNS; i++)); do
	c0=$(cat "$CG/cpuacct.usage")
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CG" \
		pgbench -n -S -c 8 -j 2 -T "$SECS" -h 127.0.0.1 >"$PGCLUSTER_DIR/run.log" 2>&1 ||
		{ echo "bench-pgnoise: pgbench failed" >&2; exit 1; }
	c1=$(cat "$CG/cpuacct.usage")
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$PGCLUSTER_DIR/run.log")
	awk -v i="$i" -v c="$((c1 - c0))" -v n="$n" -v s="$SECS" \
		'BEGIN {printf "%4d %9d %9.0f %11.1f %11.2f\n", i, n, n / s, c / n / 1000, c / 1e9 / s}'
done
