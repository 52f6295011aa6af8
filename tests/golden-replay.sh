#!/bin/bash
# Golden replay tests: for each tests/golden/replay/NAME/ with trace.jsonl
# (or trace.jsonl.gz), config.json, expected.jsonl and optionally exit_code
# (default 0), run "vigie replay -c config.json TRACE" and compare stdout
# byte for byte with expected.jsonl, twice (replay is deterministic).
# Usage: tests/golden-replay.sh [BUILD_DIR] [--update]
set -u
B=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "golden-replay: no build dir '${1:-build}'"; echo "golden-replay: 0 passed, 1 failed"; exit 1; }
update=${2:-}
cd "$(dirname "$0")/.."

if ! "$B/vigie" replay --help >/dev/null 2>&1; then
	echo "golden-replay: $B/vigie replay is not available"
	echo "golden-replay: 0 passed, 1 failed"
	exit 1
fi
replay=("$B/vigie" replay)

passed=0; failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in tests/golden/replay/*/; do
	name=$(basename "$dir")
	trace=trace.jsonl
	[ -f "$dir/$trace" ] || trace=trace.jsonl.gz
	want_rc=0
	[ -f "$dir/exit_code" ] && want_rc=$(cat "$dir/exit_code")
	ok=1
	for run in 1 2; do
		(cd "$dir" && "${replay[@]}" -q -c config.json "$trace") >"$tmp/out$run" 2>"$tmp/err$run"
		rc=$?
		if [ "$rc" != "$want_rc" ]; then
			echo "FAIL $name: exit code $rc, want $want_rc"; sed 's/^/    | /' "$tmp/err$run"; ok=0
		fi
	done
	if [ "$update" = --update ]; then
		cp "$tmp/out1" "$dir/expected.jsonl"
	fi
	if ! cmp -s "$tmp/out1" "$tmp/out2"; then
		echo "FAIL $name: two runs differ"; ok=0
	fi
	if ! diff -u "$dir/expected.jsonl" "$tmp/out1" >"$tmp/diff" 2>&1; then
		echo "FAIL $name: output differs from expected.jsonl"; head -n 40 "$tmp/diff" | cut -c1-400 | sed 's/^/    | /'; ok=0
	fi
	if [ $ok = 1 ]; then
		echo "ok   $name ($(wc -l <"$tmp/out1") events)"
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "golden-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
