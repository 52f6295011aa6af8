#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Containment's latency (not a test): runs the live containment test
# (build/tests/live_contain) ROUNDS times and prints, for each round and
# then as min / median / max:
#   - db: seconds from the alert's timestamp (the tick that saw the volume)
#     to the extracting client's error, and the rows it received after it;
#   - egress: seconds from the alert's timestamp to the last bytes the peer
#     received.
# Usage: tools/bench-contain.sh [BUILD_DIR] [ROUNDS]
set -u
B=${1:-build}
ROUNDS=${2:-3}
cd "$(dirname "$0")/.."
T="$B/tests/live_contain"
[ "$(id -u)" -eq 0 ] || { echo "bench-contain: needs root" >&2; exit 1; }
[ -x "$T" ] || { echo "bench-contain: build $T first (make $T)" >&2; exit 1; }
db=() rows=() eg=()
for r in $(seq 1 "$ROUNDS"); do
	out=$("$T" 2>&1)
	d=$(sed -n 's/.*thief: alert .* ended \([0-9.-]*\) s after it .*: \([0-9]*\) after the alert.*/\1 \2/p' <<<"$out")
	e=$(sed -n 's/.*egress: alert .* the peer.s last bytes \([0-9.-]*\) s after it.*/\1/p' <<<"$out")
	res=$(grep -E '^[0-9]+ passed' <<<"$out")
	[ -n "$d" ] && [ -n "$e" ] || { echo "round $r: no figures ($res)"; continue; }
	db+=("${d% *}"); rows+=("${d#* }"); eg+=("$e")
	printf 'round %d: db session ended %s s after its alert (%s rows after it), egress stopped %s s after its alert; %s\n' \
		"$r" "${d% *}" "${d#* }" "$e" "$res"
done
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) printf "min %s median %s max %s", v[1], v[int((NR+1)/2)], v[NR]}'; }
[ ${#db[@]} -gt 0 ] || exit 1
echo "db session, alert to end (s):   $(stats "${db[@]}")"
echo "db rows after the alert:        $(stats "${rows[@]}")"
echo "egress, alert to last bytes (s): $(stats "${eg[@]}")"
echo "budget: 1 s"
