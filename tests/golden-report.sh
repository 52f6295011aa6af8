#!/bin/bash
# Golden tests of vigie report (docs/report.md).
#  - for each tests/golden/report/NAME/ with args (the arguments after
#    "vigie report -q -o OUT", paths relative to that directory),
#    expected.txt and optionally exit_code (default 0): run it twice, the
#    two files must be byte-identical (determinism), pass the checks of
#    tests/golden/report/structure.py (no script, no URL, balanced
#    elements, unique ids, links that resolve, escaped text), print
#    the same structure as expected.txt (what is shown: summary, tables,
#    charts' bars and alerts, heat maps), and end with the same summary
#    line and exit code as vigie replay on the same arguments;
#  - bad input: missing -o or trace, a missing trace, a bad configuration,
#    a damaged state, an output directory that does not exist: the exit
#    codes of vigie replay, a message, never a half-written report;
#  - a generated trace (tracegen, two days of 200 advisors) gives the same
#    bytes from another directory, hour charts, and a bounded size;
#  - a storm of alerts (60 accounts, 28,800 alerts) gives a bounded page.
# Usage: tests/golden-report.sh [BUILD_DIR] [--update]
set -u
B=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "golden-report: no build dir '${1:-build}'"; echo "golden-report: 0 passed, 1 failed"; exit 1; }
update=${2:-}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STRUCT="$ROOT/tests/golden/report/structure.py"
VIGIE="$B/vigie"

if ! "$VIGIE" report --help >/dev/null 2>&1; then
	echo "golden-report: $VIGIE report is not available"
	echo "golden-report: 0 passed, 1 failed"
	exit 1
fi
command -v python3 >/dev/null || { echo "golden-report: python3 is needed"; echo "golden-report: 0 passed, 1 failed"; exit 1; }

passed=0; failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | head -n 30; failed=$((failed + 1)); }

# ---- golden cases ----
for dir in tests/golden/report/*/; do
	name=$(basename "$dir")
	want_rc=0
	[ -f "$dir/exit_code" ] && want_rc=$(cat "$dir/exit_code")
	read -r -a args <"$dir/args"
	good=1
	for run in 1 2; do
		(cd "$dir" && "$VIGIE" report -q -o "$tmp/$name.$run.html" "${args[@]}") \
			>"$tmp/out" 2>"$tmp/err"
		rc=$?
		if [ "$rc" != "$want_rc" ]; then
			fail "$name: exit code $rc, want $want_rc" "$tmp/err"; good=0
		fi
	done
	[ $good = 1 ] || continue
	# the same detection as vigie replay: the same summary, the same exit code
	(cd "$dir" && "$VIGIE" replay -q "${args[@]}") >/dev/null 2>"$tmp/replay.err"
	rrc=$?
	if [ "$rrc" != "$want_rc" ] || ! diff <(sed -n 's/^replay: \([0-9]\)/\1/p' "$tmp/replay.err") \
		<(sed -n 's/^report: \([0-9]\)/\1/p' "$tmp/err") >"$tmp/diff"; then
		fail "$name: not the summary of vigie replay (exit $rrc)" "$tmp/diff"; continue
	fi
	if ! cmp -s "$tmp/$name.1.html" "$tmp/$name.2.html"; then
		fail "$name: two runs differ"; continue
	fi
	if ! python3 "$STRUCT" "$tmp/$name.1.html" >"$tmp/$name.txt" 2>"$tmp/err"; then
		fail "$name: structure" "$tmp/err"; continue
	fi
	[ "$update" = --update ] && cp "$tmp/$name.txt" "$dir/expected.txt"
	if ! diff -u "$dir/expected.txt" "$tmp/$name.txt" >"$tmp/diff" 2>&1; then
		fail "$name: structure differs from expected.txt" "$tmp/diff"; continue
	fi
	ok "$name ($(wc -c <"$tmp/$name.1.html") bytes, same twice, replay's summary)"
done

# ---- hostile names: what the golden case shows, checked on the bytes ----
H="$tmp/hostile.1.html"
if [ -f "$H" ]; then
	bad=""
	grep -q '<img' "$H" && bad="$bad <img"
	grep -qE '<[^>]*[[:space:]]on[a-z]+=' "$H" && bad="$bad handler"
	[ "$(grep -o '<svg' "$H" | wc -l)" = "$(grep -o '</svg>' "$H" | wc -l)" ] || bad="$bad svg-balance"
	grep -q '&lt;/svg&gt;&lt;svg onload=alert(1)&gt;' "$H" || bad="$bad peer-not-escaped"
	grep -q 'db&quot;&lt;host&gt;&amp;&#39;&#x2407;&lt;/title&gt;' "$H" || bad="$bad host-not-escaped"
	grep -q $'\xef\xbf\xbd\xef\xbf\xbd@' "$H" || bad="$bad invalid-utf8-not-replaced"
	grep -q $'\xe2\x80\xae' "$H" && bad="$bad bidi-override-kept"
	grep -q '&#x241B;\[31m' "$H" || bad="$bad escape-not-shown"
	grep -q $'AAAA\xe2\x80\xa6' "$H" || bad="$bad long-name-not-cut"
	[ -z "$bad" ] && ok "hostile names escaped, replaced, cut" || fail "hostile names:$bad"
fi

# ---- bad input ----
T=tests/golden/replay/bulk
expect() { # NAME WANT_RC GREP_ERR [ARGS...]
	local name=$1 want=$2 pat=$3
	shift 3
	"$VIGIE" report "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, want $want" "$tmp/err"; return 1
	fi
	if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err" "$tmp/out"; then
		fail "$name: no message '$pat'" "$tmp/err"; return 1
	fi
	return 0
}
# after an expect that passed: what must hold then (a shell condition),
# counted either way
then_check() { # NAME CONDITION
	if eval "$2"; then ok "$1"; else fail "$1: not so ($2)" "$tmp/err"; fi
}
expect "no -o" 2 "no output file given" "$T/trace.jsonl" &&
	then_check "no -o: exit 2, says so" '[ ! -e "$T/trace.jsonl.html" ]'
expect "no trace" 2 "no trace given" -o "$tmp/x.html" &&
	then_check "no trace: exit 2, no file" '[ ! -e "$tmp/x.html" ]'
expect "unknown option" 2 "usage:" --bogus -o "$tmp/x.html" "$T/trace.jsonl" && ok "unknown option: exit 2, usage"
expect "help" 0 "usage: vigie report" --help && ok "--help: exit 0"
expect "missing trace" 3 "$tmp/absent.jsonl" -q -o "$tmp/m.html" "$tmp/absent.jsonl" &&
	then_check "missing trace: exit 3, a report saying so" \
		'grep -q "could not be read" "$tmp/m.html" && python3 "$STRUCT" "$tmp/m.html" >/dev/null'
printf '{"detection":{"ratio":10,"bogus":1}}\n' >"$tmp/bad.json"
echo old >"$tmp/keep.html"
expect "bad config" 2 "unknown field 'bogus'" -q -c "$tmp/bad.json" -o "$tmp/keep.html" "$T/trace.jsonl" &&
	then_check "bad config: exit 2, names the field, the old file untouched" \
		'[ "$(cat "$tmp/keep.html")" = old ]'
printf '{"detection": ' >"$tmp/trunc.json"
expect "config not JSON" 2 "trunc.json" -q -c "$tmp/trunc.json" -o "$tmp/k2.html" "$T/trace.jsonl" &&
	then_check "configuration not JSON: exit 2, no file" '[ ! -e "$tmp/k2.html" ]'
printf '{"format":"vigie-detect-state","version":1,"principals":[{"kind":"x"}]}' >"$tmp/state.json"
expect "bad state" 2 "state" -q --state "$tmp/state.json" -o "$tmp/s.html" "$T/trace.jsonl" &&
	then_check "damaged state: exit 2, no file" '[ ! -e "$tmp/s.html" ]'
expect "output dir" 1 "cannot create the report" -q -o "$tmp/no/such/dir/r.html" "$T/trace.jsonl" &&
	ok "output directory missing: exit 1, says so"
expect "state round trip" 0 "" -q -c "$T/config.json" --state "$tmp/st.json" -o "$tmp/s1.html" "$T/trace.jsonl" &&
	then_check "--state saved" '[ -s "$tmp/st.json" ]' &&
	expect "state again" 0 "" -q -c "$T/config.json" --state "$tmp/st.json" -o "$tmp/s2.html" "$T/trace.jsonl" &&
	then_check "--state loaded again, no temporary file left" '! ls "$tmp"/s?.html.tmp.* >/dev/null 2>&1'

# ---- -o that is not a regular file: written to, never replaced ----
# (vigie report -o /dev/null replaced /dev/null with a regular file)
mkfifo "$tmp/pipe"
cat "$tmp/pipe" >"$tmp/from-pipe.html" &
reader=$!
expect "-o a pipe" 0 "written ([1-9][0-9]* bytes)" -q -c "$T/config.json" -o "$tmp/pipe" "$T/trace.jsonl"
rc=$?
# a build that replaces the pipe leaves the reader waiting: 5 s at most
for _ in $(seq 50); do kill -0 $reader 2>/dev/null || break; sleep 0.1; done
kill $reader 2>/dev/null
wait $reader 2>/dev/null
if [ $rc = 0 ] && [ -p "$tmp/pipe" ] && python3 "$STRUCT" "$tmp/from-pipe.html" >/dev/null &&
	grep -q "written ($(wc -c <"$tmp/from-pipe.html") bytes)" "$tmp/err"; then
	ok "-o a named pipe: the page through it, its size said, the pipe left a pipe"
elif [ $rc = 0 ]; then
	fail "-o a named pipe: replaced, or the page not through it" "$tmp/err"
fi
mkdir "$tmp/adir"
if expect "-o a directory" 2 "Is a directory" -q -o "$tmp/adir" "$T/trace.jsonl"; then
	if [ -d "$tmp/adir" ] && [ -z "$(ls -A "$tmp/adir")" ]; then
		ok "-o a directory: exit 2 before the replay, left as it was"
	else
		fail "-o a directory: not left as it was"
	fi
fi
# a symbolic link is refused, dangling or not (root would write where a
# link planted in a shared directory says)
ln -s "$tmp/real.html" "$tmp/link.html"
if expect "-o a dangling link" 2 "symbolic link: refused" -q -o "$tmp/link.html" "$T/trace.jsonl"; then
	if [ -L "$tmp/link.html" ] && [ ! -e "$tmp/real.html" ]; then
		ok "-o a link to nothing: exit 2, nothing written"
	else
		fail "-o a link to nothing: something written"
	fi
fi
echo old >"$tmp/real.html"
if expect "-o a link" 2 "symbolic link: refused" -q -o "$tmp/link.html" "$T/trace.jsonl"; then
	if [ -L "$tmp/link.html" ] && [ "$(cat "$tmp/real.html")" = old ]; then
		ok "-o a link to a file: exit 2, the link and the file left as they were"
	else
		fail "-o a link to a file: the link or its file changed"
	fi
fi
expect "-o -" 0 "" -q -o - "$T/trace.jsonl" &&
	then_check "-o -: the page on standard output" 'python3 "$STRUCT" "$tmp/out" >/dev/null'

# ---- -o or --state naming a trace or each other: refused, nothing replaced ----
# (vigie report -o T T replaced the recorded trace with the page; --state X
# -o X saved the state, then the page over it)
cp "$T/trace.jsonl" "$tmp/own.jsonl"
if expect "-o the trace" 2 "is the trace" -q -o "$tmp/own.jsonl" "$tmp/own.jsonl"; then
	if cmp -s "$T/trace.jsonl" "$tmp/own.jsonl"; then
		ok "-o the trace itself: exit 2, the trace kept its bytes"
	else
		fail "-o the trace itself: the trace changed"
	fi
fi
if expect "--state the trace" 2 "is the trace" -q --state "$tmp/own.jsonl" -o "$tmp/o1.html" \
	"$tmp/own.jsonl"; then
	if cmp -s "$T/trace.jsonl" "$tmp/own.jsonl" && [ ! -e "$tmp/o1.html" ]; then
		ok "--state the trace: exit 2, the trace kept its bytes, no page"
	else
		fail "--state the trace: the trace changed, or a page written"
	fi
fi
expect "-o the state" 2 "are the same file" -q --state "$tmp/both" -o "$tmp/both" "$T/trace.jsonl" &&
	then_check "-o and --state one file: exit 2, nothing written" '[ ! -e "$tmp/both" ]'

# ---- a generated trace: another directory, same bytes; hour charts; size ----
if [ -x "$B/tools/tracegen" ] && "$B/tools/tracegen" -o "$tmp/gen.jsonl.gz" --days 2 --advisors 200 \
	--seed 7 --scenario bulk:1 >/dev/null 2>&1; then
	mkdir -p "$tmp/elsewhere"
	"$VIGIE" report -q -c "$ROOT/examples/vigie.json" -o "$tmp/g1.html" "$tmp/gen.jsonl.gz" 2>"$tmp/err"
	rc1=$?
	(cd "$tmp/elsewhere" && "$VIGIE" report -q -c "$ROOT/examples/vigie.json" -o "$tmp/g2.html" \
		"$tmp/gen.jsonl.gz") 2>>"$tmp/err"
	rc2=$?
	size=$(wc -c <"$tmp/g1.html")
	who=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scenarios"][0]["principals"][0]["id"])' \
		"$tmp/gen.jsonl.gz.truth.json")
	if [ $rc1 = 0 ] && [ $rc2 = 0 ] && cmp -s "$tmp/g1.html" "$tmp/g2.html" &&
		python3 "$STRUCT" "$tmp/g1.html" >"$tmp/g.txt" &&
		grep -q "chart chart-db_user-$who-db_rows: [1-9][0-9]* bars, [1-9][0-9]* alerts" "$tmp/g.txt" &&
		grep -q 'db_rows per 1 h window' "$tmp/g.txt" && [ "$size" -lt 300000 ]; then
		ok "generated 2 days x 200 advisors: same bytes from elsewhere, $who charted per hour, $size bytes"
	else
		fail "generated trace (rc $rc1/$rc2, $size bytes)" "$tmp/err"
	fi
else
	fail "tracegen could not generate a trace"
fi

# ---- a storm: 60 accounts alerted 240 times each: the page stays bounded ----
python3 - "$tmp/storm.jsonl" <<'PY'
import sys, time
# a 1-minute burst every 3 hours for 30 days, per account: an episode and
# an alert per burst (a profile's normal never learns)
out = open(sys.argv[1], "w")
out.write('{"type":"header","format":"vigie-trace","version":1,"host":"db-storm","tick_s":60}\n')
for k in range(30 * 8):
    for a in range(60):
        g = time.gmtime(1709510400 + k * 10800 + a * 60)
        out.write('{"type":"sample","ts":"%04d-%02d-%02dT%02d:%02d:00Z","pid":%d,"user":"postgres",'
                  '"exe":"/usr/lib/postgresql/16/bin/postgres","db_user":"adv%03d","peer":"10.20.0.%d",'
                  '"db_rows":60000,"db_bytes":42000000}\n'
                  % (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, 1000 + a, a, a))
PY
printf '{"detection":{"principals":["db_user"],"profiles":[{"name":"adv","match":{"db_users":["adv*"]},"per_day":{"db_rows":100000,"db_bytes":70000000}}]}}\n' >"$tmp/storm.json"
"$VIGIE" report -q -c "$tmp/storm.json" -o "$tmp/storm.html" "$tmp/storm.jsonl" 2>"$tmp/err"
rc=$?
size=$(wc -c <"$tmp/storm.html" 2>/dev/null || echo 0)
if [ $rc = 0 ] && [ "$size" -lt 4000000 ] && python3 "$STRUCT" "$tmp/storm.html" >"$tmp/storm.txt" &&
	grep -q '28,800 (0 suppressed by the rate limits)' "$tmp/storm.txt" &&
	grep -q 'the 25 most severe are charted' "$tmp/storm.txt" &&
	grep -q 'timeline timeline-svg: 25 rows, 1500 alerts, 1500 episodes' "$tmp/storm.txt" &&
	grep -q 'chart chart-db_user-adv000-db_rows: 240 bars, 60 alerts, 60 episodes' "$tmp/storm.txt" &&
	grep -q '240 alerts on db_rows: the first 60 are marked' "$tmp/storm.txt" &&
	[ "$(grep -c '^    | 2024-' "$tmp/storm.txt")" = 500 ] && grep -q '28300 more alerts are not listed' "$tmp/storm.txt" &&
	[ "$(grep -c '^    chart ' "$tmp/storm.txt")" = 50 ]; then
	ok "storm of 28,800 alerts: $size bytes, 25 principals charted, marks and tables capped"
else
	fail "storm (exit $rc, $size bytes)" "$tmp/err"
fi

echo "golden-report: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
