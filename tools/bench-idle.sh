#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The idle sensor's own CPU at a fast tick, several builds started
# alternately: what a drain costs when nothing happens. A benchmark: it
# prints, it decides nothing. Root.
#   tools/bench-idle.sh ROUNDS SECONDS NAME=PATH/TO/vigie [NAME=PATH...]
# e.g. tools/bench-idle.sh 2 20 old=/tmp/old/build/vigie new=build/vigie
# One line per round and build: CPU seconds (utime + stime) over SECONDS
# at 10 drains a second, and the CPU per drain.
set -u
[ $# -ge 3 ] || { sed -n '3,10p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-idle: needs root" >&2; exit 1; }
R=$1 S=$2; shift 2
T=$(mktemp -d /tmp/bench-idle.XXXX)
trap 'rm -rf $T' EXIT
hz=$(getconf CLK_TCK)
for ((r = 0; r < R; r++)); do
	for nv in "$@"; do
		n=${nv%%=*} v=${nv#*=}
		rm -f $T/o.json
		$v run --probes sock --tick 0.1 -o $T/o.json 2>/dev/null & vp=$!
		sleep 3
		a=$(awk '{print $14 + $15}' /proc/$vp/stat)
		sleep "$S"
		b=$(awk '{print $14 + $15}' /proc/$vp/stat)
		kill -INT $vp; wait $vp
		awk -v r=$r -v n=$n -v t=$((b - a)) -v hz=$hz -v s=$S \
			'BEGIN { printf "%d %-8s %.2f s of CPU in %d s, %.3f ms a drain\n", r, n, t / hz, s, 1000 * t / hz / (s * 10) }'
	done
done
