#!/bin/bash
# Replay benchmark: throughput (samples per second, one core) and peak
# memory of "vigie replay" on the 30-day trace of 2,300 advisors made by
# tools/tracegen (60 s ticks), from a plain file (page cache) and from gzip.
# Usage: tools/bench-replay.sh [BUILD_DIR] [DAYS] [ADVISORS]
# Not a test: prints figures (record them in the README).
set -eu
B=$(cd "${1:-build}" && pwd)
DAYS=${2:-30}
ADVISORS=${3:-2300}
cd "$(dirname "$0")/.."
REPLAY=("$B/vigie" replay)
[ -x /usr/bin/time ] || { echo "bench-replay: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "generating $DAYS days of $ADVISORS advisors (tools/tracegen, 60 s ticks)..."
"$B/tools/tracegen" -o "$T/trace.jsonl" --days "$DAYS" --advisors "$ADVISORS" --seed 1
gzip -1 -c "$T/trace.jsonl" >"$T/trace.jsonl.gz"
samples=$(jq -r .samples "$T/trace.jsonl.truth.json" 2>/dev/null ||
	grep -o '"samples": [0-9]*' "$T/trace.jsonl.truth.json" | grep -o '[0-9]*$')
echo "trace: $samples samples, $(du -m "$T/trace.jsonl" | cut -f1) MB plain, $(du -m "$T/trace.jsonl.gz" | cut -f1) MB gzip"
cat "$T/trace.jsonl" >/dev/null # page cache

run() { # LABEL FILE
	local best=0 rss=0
	for i in 1 2 3; do
		/usr/bin/time -v "${REPLAY[@]}" -q -c examples/vigie.json "$2" >/dev/null 2>"$T/time" || true
		local user sys kb
		user=$(awk -F': ' '/User time/ {print $2}' "$T/time")
		sys=$(awk -F': ' '/System time/ {print $2}' "$T/time")
		kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/time")
		local rate
		rate=$(awk -v n="$samples" -v u="$user" -v s="$sys" 'BEGIN { printf "%d", n / (u + s) }')
		[ "$rate" -gt "$best" ] && best=$rate
		[ "$kb" -gt "$rss" ] && rss=$kb
	done
	printf '%-6s %12s samples/s (best of 3, CPU time of one core), peak RSS %d MB\n' \
		"$1" "$best" $((rss / 1024))
}
grep -h "replay:" "$T/time" 2>/dev/null || true
run plain "$T/trace.jsonl"
run gzip "$T/trace.jsonl.gz"
"${REPLAY[@]}" -q -c examples/vigie.json "$T/trace.jsonl" 2>&1 >/dev/null | tail -n1
