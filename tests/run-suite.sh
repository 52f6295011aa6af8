#!/bin/bash
# Runs test programs, each ending with "N passed, M failed[, K skipped]",
# sums their counts and prints one final line of the same form.
# Usage: run-suite.sh NAME CMD... (each CMD is one word: a program path)
# A program's exit status decides too: non-zero with no failure counted
# counts one failure. Exit 77 is a skip; under CI=true a skip is a failure.
# Exit 124: stopped at SUITE_TIMEOUT (below).
set -u
name=$1; shift
# a program still running after SUITE_TIMEOUT seconds is stopped (SIGTERM;
# SIGKILL 30 s later, time for a live test's cleanup to stop its clusters
# and remove its namespaces) and fails: a hung test fails the suite instead
# of hanging it
limit=${SUITE_TIMEOUT:-300}
passed=0; failed=0; skipped=0
for prog in "$@"; do
	log=$(mktemp)
	start=$(date +%s%N)
	timeout --foreground -k 30 "$limit" "$prog" >"$log" 2>&1
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	line=$(grep -E '^[A-Za-z]*:? ?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || true)
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
	s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || true)
	p=${p:-0}; f=${f:-0}; s=${s:-0}
	if [ "$rc" -eq 77 ]; then
		s=$((s + 1))
		if [ "${CI:-}" = true ]; then f=$((f + 1)); fi
		status="SKIP"
	elif [ "$rc" -eq 124 ]; then
		f=$((f + 1))
		status="FAIL"
		echo "still running after ${limit} s, stopped (SUITE_TIMEOUT)" >>"$log"
	elif [ "$rc" -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		status="FAIL"
	else
		[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && p=1
		status="ok"
	fi
	printf '%-5s %-40s %4s passed %3s failed %3s skipped  %6ss\n' "$status" "$(basename "$prog")" "$p" "$f" "$s" "$secs"
	if [ "$status" != ok ]; then sed 's/^/    | /' "$log" | tail -n 60; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	rm -f "$log"
done
if [ "$skipped" -gt 0 ]; then
	echo "$name: $passed passed, $failed failed, $skipped skipped"
else
	echo "$name: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
