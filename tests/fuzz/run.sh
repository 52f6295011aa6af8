#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/fuzz/run.sh fuzz FUZZ_DIR SECONDS: each harness FUZZ_DIR/fuzz_NAME for
#   SECONDS, from its seeds (tests/fuzz/corpus/NAME) into a working corpus
#   (FUZZ_DIR/corpus/NAME); a crash lands in tests/fuzz/crashes/NAME/ (keep
#   it there once fixed: it is replayed from then on).
# tests/fuzz/run.sh regress FUZZ_DIR: every seed and every past crash run
#   once through its harness. Ends with "fuzz-regress: N passed, M failed"
#   (N: inputs replayed) and exits 1 on any failure.
set -u
mode=${1:-regress}
dir=${2:-build/fuzz}
secs=${3:-120}
cd "$(dirname "$0")/../.."
passed=0
failed=0
for bin in "$dir"/fuzz_*; do
	case "$bin" in *.d) continue ;; esac
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	seeds=tests/fuzz/corpus/$name
	crashes=tests/fuzz/crashes/$name
	mkdir -p "$seeds" "$crashes"
	if [ "$mode" = fuzz ]; then
		work=$dir/corpus/$name
		mkdir -p "$work"
		echo "== $name: ${secs}s"
		"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$crashes/" "$work" "$seeds" 2>&1 |
			grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|Test unit written)' |
			sed 's/^/   /'
		continue
	fi
	inputs=$(find "$seeds" "$crashes" -type f | wc -l)
	log=$(mktemp)
	if "$bin" -runs=0 -timeout=10 "$seeds" "$crashes" >"$log" 2>&1; then
		passed=$((passed + inputs))
		echo "ok   $name: $inputs inputs"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		grep -E 'ERROR|SUMMARY|invariant|Test unit' "$log" | head -5 | sed 's/^/     /'
	fi
	rm -f "$log"
done
[ "$mode" = fuzz ] && exit 0
echo "fuzz-regress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
