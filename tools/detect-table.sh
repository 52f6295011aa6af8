#!/bin/bash
# Detection outcomes, one table: for both populations of tools/tracegen
# (default: advisors; portal: agents of a partner office), 2,300 accounts,
#  - the normal month: 30 days, monthly closing on the 28th (3x), supervisors
#    at 5x, a new account joining on day 16;
#  - each scenario alone, on day 7 of a 14-day trace (supervisors at 5x);
# each trace replayed with the built-in defaults (no -c) and with
# examples/vigie.json, scored with tools/score, printed as a Markdown table:
# first-alert latency, false alerts (about people, services, servers or
# others), and the alerts not counted as false (service's first night,
# allow-listed, database or portal servers while a scenario ran). Traces
# are piped, never stored.
# Usage: tools/detect-table.sh [BUILD_DIR [KEEP_DIR]]  (KEEP_DIR: keep the
# truths, alerts and scores). Needs jq. JOBS=N traces at a time (nproc).
set -u
B=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "detect-table: no build dir '${1:-build}'" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2
CONFIG=$PWD/examples/vigie.json
GEN=$B/tools/tracegen VIGIE=$B/vigie SCORE=$B/tools/score
for need in "$GEN" "$VIGIE" "$SCORE"; do
	[ -x "$need" ] || { echo "detect-table: missing $need (make OUTPUT=... all)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "detect-table: jq is needed" >&2; exit 2; }
if [ -n "${2:-}" ]; then
	mkdir -p "$2" && W=$(cd "$2" && pwd) || exit 2
else
	W=$(mktemp -d)
	trap 'rm -rf "$W"' EXIT
fi
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
POPS="default portal"
SCENARIOS="bulk slow night many egress drift ramp scp newrole"
MONTH_OPTS=(--days 30 --advisors 2300 --seed 1 --closing-day 28 --supervisor-factor 5 --joiner 16)
SC_OPTS=(--days 14 --advisors 2300 --seed 1 --supervisor-factor 5)
SC_DAY=7
t0=$(date +%s)

# one trace, replayed twice at once (defaults, example config)
job() { # NAME TRACEGEN-ARGS...
	local n=$1; shift
	rm -f "$W/$n.fifo"; mkfifo "$W/$n.fifo"
	"$VIGIE" replay -q -c "$CONFIG" "$W/$n.fifo" >"$W/$n.config.ndjson" 2>"$W/$n.config.err" &
	local cfg=$!
	"$GEN" -o - --truth "$W/$n.truth.json" "$@" 2>"$W/$n.gen.err" | tee "$W/$n.fifo" |
		"$VIGIE" replay -q - >"$W/$n.defaults.ndjson" 2>"$W/$n.defaults.err"
	echo "${PIPESTATUS[0]} ${PIPESTATUS[2]}" >"$W/$n.rc"
	wait "$cfg"; echo $? >>"$W/$n.rc"
	rm -f "$W/$n.fifo"
}

running=0
spawn() {
	job "$@" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
}
for p in $POPS; do
	spawn "$p-month" --population "$p" "${MONTH_OPTS[@]}"
done
for p in $POPS; do
	for s in $SCENARIOS; do
		spawn "$p-$s" --population "$p" "${SC_OPTS[@]}" --scenario "$s:$SC_DAY"
	done
done
wait

fail=0
for f in "$W"/*.rc; do
	read -r g d c <<<"$(tr '\n' ' ' <"$f")"
	if [ "$g" != 0 ] || [ "$d" != 0 ] || [ "$c" != 0 ]; then
		n=$(basename "$f" .rc)
		echo "detect-table: $n: tracegen exit $g, replay (defaults) exit $d, replay (config) exit $c" >&2
		cat "$W/$n".*.err >&2; fail=1
	fi
done
[ "$fail" = 0 ] || exit 1

# table cells from a score
latency() { # SCORE.json SCENARIO
	jq -r --arg s "$2" '
		def human: if . < 120 then "\(.) s" elif . < 7200 then "\(. / 60 | floor) min"
			else "\(. / 360 | floor / 10) h" end;
		.scenarios[] | select(.name == $s) |
		if .expect_alert | not then "none expected (\(.alerts) on its accounts)"
		elif .latency_s == null then "**missed**"
		else (.latency_s | human) + " (\(.principal.kind) \(.principal.id | .[0:24]), \(.reference))"
			+ (if has("before_20x") then (if .before_20x then ", before 20x" else ", **after 20x**" end)
			   else "" end)
		end' "$1"
}
falses() { # SCORE.json: how many, and about whom
	jq -r '.false_alerts | .by_role as $r | if .alerts == 0 then "0" else
		"**\(.alerts)** (" + ([["person", "people"], ["service", "services"], ["server", "servers"],
			["other", "others"]] | map(select($r[.[0]] // 0 > 0) | "\(.[1]) \($r[.[0]])") |
			join(", ")) + ")" end' "$1"
}
excused() { # SCORE.json
	jq -r '[(if .service_first_night.alerts > 0 then "first night \(.service_first_night.alerts)" else empty end),
		(if .allow_listed.alerts > 0 then "allow-listed \(.allow_listed.alerts)" else empty end),
		(if .aggregates_during_scenarios.alerts > 0 then "servers \(.aggregates_during_scenarios.alerts)"
		 else empty end)] | if length == 0 then "-" else join(", ") end' "$1"
}

for p in $POPS; do
	for s in month $SCENARIOS; do
		for c in defaults config; do
			# the defaults allow-list nobody: the truth's allow-list excuses nothing
			opt=(); [ "$c" = defaults ] && opt=(--no-allow-list)
			"$SCORE" --json "${opt[@]}" --truth "$W/$p-$s.truth.json" "$W/$p-$s.$c.ndjson" \
				>"$W/$p-$s.$c.score.json" || exit 1
		done
	done
done

echo "| population | trace | defaults: first alert | defaults: false alerts | defaults: not counted | example config: first alert | example config: false alerts | example config: not counted |"
echo "|---|---|---|---|---|---|---|---|"
for p in $POPS; do
	for s in month $SCENARIOS; do
		n=$p-$s
		row="| $p | $s"
		[ "$s" = month ] && row="| $p | normal month (30 d)"
		for c in defaults config; do
			if [ "$s" = month ]; then l="-"; else l=$(latency "$W/$n.$c.score.json" "$s"); fi
			row="$row | $l | $(falses "$W/$n.$c.score.json") | $(excused "$W/$n.$c.score.json")"
		done
		echo "$row |"
	done
done
echo
echo "Scenario traces: 14 days of 2,300 accounts (+ supervisors at 5x), the scenario on day $SC_DAY" \
	"(a Monday); normal months: 30 days, closing on the 28th, a joiner on day 16."
echo "Latency: first alert naming one of the scenario's principals, from its start."
echo "Not counted: services' first night, allow-listed principals, database/portal servers while a scenario ran."
echo
echo "detect-table: $(($(date +%s) - t0)) s with $JOBS jobs at a time ($(nproc) cores)"
