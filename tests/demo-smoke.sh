#!/bin/bash
# make demo must keep working for a newcomer: it runs to the end, names the
# extracting account in an alert, counts 200,000 rows for it and 5 for each
# advisor, writes the report of its replay (a non-empty file charting the
# extracting account, its path printed), and finishes in under two minutes.
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0; failed=0
check() { if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }
start=$(date +%s)
timeout 120 tools/demo.sh "$B" >"$out" 2>&1
check "demo exits 0 within two minutes" $?
grep -q '"principal":{"kind":"db_user","id":"adv0021"' "$out"; check "alert names db_user adv0021" $?
grep -qE '^  adv0021 +200000 rows$' "$out"; check "200,000 rows counted for adv0021" $?
test "$(grep -cE '^  adv00(0[1-9]|1[0-9]|20) +5 rows$' "$out")" -eq 20; check "5 rows for each of the 20 advisors" $?
grep -q '"principal":"adv0211"' "$out"; check "replayed day: alert names adv0211" $?
report=$(sed -n 's/^Report: \(.*\) (open it in a browser.*$/\1/p' "$out" | tail -n 1)
[ -n "$report" ] && [ -s "$report" ]; check "report written and non-empty (${report:-no path printed})" $?
grep -q 'id="chart-db_user-adv0211-db_rows"' "$report" 2>/dev/null; check "report charts adv0211" $?
echo "demo took $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ] || sed 's/^/    | /' "$out" | tail -40
echo "demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
