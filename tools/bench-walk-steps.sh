#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What each step of a walked PostgreSQL send costs: builds of Vigie whose
# pg_sock_send returns earlier and earlier (PGWIRE_BENCH_STOP, see
# bpf/pgwire.bpf.c), each step measured against the next with
# tools/bench-pair.sh (both attached at once, order-balanced). A
# benchmark: it prints, it decides nothing. Run from the source tree, as
# root, after make.
#   tools/bench-walk-steps.sh [ROUNDS] [SENDS]     (20 and 200000)
# About 15 minutes with the defaults (five builds, then five pairs).
set -u
R=${1:-20} N=${2:-200000}
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "bench-walk-steps: needs root" >&2; exit 1; }
[ -x build/vigie ] || { echo "bench-walk-steps: run make first" >&2; exit 1; }
T=$(mktemp -d /tmp/bench-walk-steps.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
# The stand-in's port is a database port: its sends go to pg_sock_send_db,
# which has no task mark, so the second step is only the variant's own
# return (its cost moved to the hash entry, docs/benchmarks.md).
names=("" "at once" "after the backend mark (none on a database port)" "after the hash entry" "after the saved registers" "after the walk")
for s in 1 2 3 4 5; do
	echo "building the variant that returns ${names[$s]} (PGWIRE_BENCH_STOP=$s)"
	make -s -j2 OUTPUT="$T/b$s" VIGIE_BPF_DEFS="-DPGWIRE_BENCH_STOP=$s" \
		"$T/b$s/vigie" "$T/b$s/tools/bench-pgserver" "$T/b$s/tools/bench-floor" >"$T/make.log" 2>&1 ||
		{ echo "bench-walk-steps: build failed: $(tail -n 5 "$T/make.log")" >&2; exit 1; }
done
echo "each step: B - A per send of a one-row answer; the variants count no rows (their 'NOT exact' is expected), the full build does"
for s in 1 2 3 4 5; do
	b=$T/b$((s + 1)) next=${names[$((s + 1))]:-"in full (build/)"}
	[ "$s" = 5 ] && b=build
	echo "== from returning ${names[$s]} to returning $next"
	tools/bench-pair.sh "$R" 1 "$N" "$T/b$s" "$b" | tail -n 2
done
