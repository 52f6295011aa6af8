#!/bin/bash
# The whole suite: unit tests under ASan/UBSan, golden and scenario tests
# of detection and replay, live tests loading the real probes (root).
# Ends with one line "N passed, M failed" summing every suite.
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

run() {
	"$@" 2>&1 | tee -a "$summary"
	return "${PIPESTATUS[0]}"
}

rc=0
echo "== unit tests (ASan, UBSan)"
run tests/run-unit.sh $(ls "$B"/tests/test_* 2>/dev/null | grep -v '\.d$') || rc=1
for script in tests/golden-replay.sh tests/golden-report.sh tests/detect-scenarios.sh tests/install.sh tests/deb.sh tests/demo-smoke.sh; do
	if [ -x "$script" ]; then
		echo "== $script"
		run "$script" "$B" || rc=1
	fi
done
if ls "$B"/fuzz/fuzz_* >/dev/null 2>&1; then
	echo "== fuzz corpora and past crashes replayed (tests/fuzz)"
	run tests/fuzz/run.sh regress "$B/fuzz" || rc=1
fi
echo "== live tests (real probes, real traffic)"
run tests/run-live.sh "$B" || rc=1
if [ -x "$B/asan/vigie" ]; then
	# The same daemon built with ASan/UBSan: any report or leak makes its
	# exit status non-zero, which these tests assert. (Usage summaries and
	# the metrics endpoint run under ASan in their unit tests, test_summary
	# and test_metrics: their live tests are not repeated here, for the
	# suite's 15 minutes. live_top is: the control socket's server and the
	# view it serves, 4 s; live_report: vigie report reading a trace and
	# writing its page, with tracegen from the plain build; live_stdio: a
	# closed standard output and a named pipe, 3 s.)
	echo "== live tests again, the daemon under AddressSanitizer/UBSan"
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run env VIGIE_BUILD="$B/asan" tests/run-suite.sh live-asan \
		"$B/tests/live_identity" "$B/tests/live_overflow" "$B/tests/live_dbfile" \
		"$B/tests/live_cli" "$B/tests/live_postgres" "$B/tests/live_privs" "$B/tests/live_reload" \
		"$B/tests/live_contain" "$B/tests/live_top" "$B/tests/live_report" \
		"$B/tests/live_stdio" || rc=1
fi

passed=0; failed=0; skipped=0
while read -r line; do
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || true)
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done < <(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$summary")
echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "a suite failed without counting a failure" >&2
fi
exit $rc
