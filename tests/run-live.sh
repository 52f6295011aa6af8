#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs every live test binary BUILD_DIR/tests/live_* (as root: they load BPF
# programs and create network namespaces): the two longest side by side in
# the background (PAIR below) while a few others run (BESIDE), then the rest
# one at a time; prints each result and ends with
# "N passed, M failed" (", K skipped" when any) counting test binaries.
# A binary exiting 77 skipped (not root, no BTF). With CI=true a skip counts
# as a failure: CI runs as root on a BTF kernel, a skip there hides a problem.
# Before it, "live: N passed, M failed" sums the checks of all binaries.
# Exit status: 0 when none failed, 1 otherwise.
# LIVE_VERBOSE=1 shows every check; otherwise only failures and summaries
# (and, for a binary that failed, its notes: the lines starting "  ..").
set -u

build=${1:-build}
passed=0
failed=0
skipped=0
failed_names=
# checks summed over the binaries (for tests/run-all.sh's "name: N passed" lines)
cpassed=0
cfailed=0
cskipped=0

if [ ! -d "$build/tests" ]; then
	echo "run-live: no $build/tests (build first: make live-test)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# the failed checks of every failed binary, printed again at the end: a CI
# log cut in its middle still shows them
failures=$(mktemp "${TMPDIR:-/tmp}/vigie-run-live-failures.XXXXXX")
trap 'rm -f "$failures"' EXIT

# report NAME RC SECS LOG: prints the result of one binary, adds it up
report() {
	name=$1 rc=$2 secs=$3 log=$4
	if [ "${LIVE_VERBOSE:-0}" = 1 ]; then
		cat "$log"
	elif [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		# a failure: its notes ("..") too, what it measured along the way
		grep -E '^(==|  FAIL|  SKIP|  \.\.|[a-z]+: FAIL:)' "$log"
	else
		grep -E '^(==|  FAIL|  SKIP|[a-z]+: FAIL:)' "$log"
	fi
	summary=$(tail -n 1 "$log")
	p=$(echo "$summary" | grep -oE '^[0-9]+ passed' | grep -oE '[0-9]+' || true)
	f=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || true)
	s=$(echo "$summary" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || true)
	p=${p:-0}; f=${f:-0}; s=${s:-0}
	if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "$f" -eq 0 ]; then
		f=1 # died without counting its failure
	fi
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		grep -E '^  FAIL' "$log" | head -n 15 | sed "s/^  FAIL/  $name:/" >>"$failures"
	fi
	if [ $rc -eq 77 ]; then
		s=$((s + 1))
		[ "${CI:-}" = true ] && f=$((f + 1))
	fi
	cpassed=$((cpassed + p)); cfailed=$((cfailed + f)); cskipped=$((cskipped + s))
	case $rc in
	0)
		passed=$((passed + 1))
		echo "PASS $name (${secs}s): $summary"
		;;
	77)
		if [ "${CI:-}" = true ]; then
			failed=$((failed + 1))
			failed_names="$failed_names $name"
			echo "FAIL $name: skipped, which CI counts as a failure: $summary"
		else
			skipped=$((skipped + 1))
			echo "SKIP $name: $summary"
		fi
		;;
	124)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL $name: still running after ${limit}s, stopped (LIVE_TIMEOUT)"
		;;
	*)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL $name (exit $rc, ${secs}s): $summary"
		;;
	esac
	rm -f "$log"
}

# The two longest tests wait most of their time (a sensor's first minute,
# paced extractions: about 30 s of CPU each in 130 s) and watch only their
# own names, roles, addresses and clusters (a random port each): they run
# side by side in the background. Beside them, one at a time, run the tests
# of BESIDE: they too mostly wait (a collector stopped for 20 s, reloads,
# timeouts: 0.3-4 s of CPU in 3-46 s alone), check only what their own
# sensor wrote and act on no other traffic. Then the others run alone, one
# at a time. Among them:
# - live_contain: its enforcing sensor blocks any peer it alerts on (the
#   pair's scp peer too, which hung the pair's test until 8cc1fa1);
# - live_outfaults: its full disk counts every event its sensor writes;
# - live_files: it turns fs.protected_symlinks off for the host;
# - live_tls: its TLS writes pay the uprobes the pair's sensors put on
#   the same PostgreSQL binary (90 s beside them, 42 s alone);
# - live_metrics: a real Prometheus starts and scrapes (40 s beside them,
#   12 s alone);
# - live_reload: once in about 13 runs beside them (one CI of 4), the
#   process it names was missing from the state its sensor saved; never
#   alone, nor under CPU load alone. Not understood yet: on a miss it now
#   logs whether its sensor counted that process's bytes, under which
#   name, and what it lost. Alone it takes about as long as beside them
#   (12-15 s), so the suite loses nothing.
PAIR="live_detect_defaults live_portal"
# A test still running after LIVE_TIMEOUT seconds (300: the longest takes
# about 130) is sent SIGTERM, which its cleanup handles (SIGKILL 30 s
# later), and fails (exit 124): a hung test fails the suite instead of
# hanging it. (--foreground:
# the test stays in the terminal's process group, where Ctrl-C reaches it;
# timeout's own group would leave it running after the suite is stopped.)
limit=${LIVE_TIMEOUT:-300}
BESIDE="live_syslog live_stdio live_sdnotify live_ecs live_privs live_top live_netguard"
found=0
pids=
for name in $PAIR; do
	t=$build/tests/$name
	[ -x "$t" ] || continue
	found=1
	log=$(mktemp "${TMPDIR:-/tmp}/vigie-run-live.XXXXXX")
	(
		start=$(date +%s)
		timeout --foreground -k 30 "$limit" "$t" >"$log" 2>&1
		echo "$? $(( $(date +%s) - start ))" >"$log.rc"
	) &
	pids="$pids $!"
	eval "log_$name=\$log"
done

# run_one PATH: runs one test in the foreground and reports it
run_one() {
	[ -x "$1" ] || return 0
	found=1
	log=$(mktemp "${TMPDIR:-/tmp}/vigie-run-live.XXXXXX")
	start=$(date +%s)
	timeout --foreground -k 30 "$limit" "$1" >"$log" 2>&1
	rc=$?
	report "$(basename "$1")" "$rc" "$(( $(date +%s) - start ))" "$log"
}

for name in $BESIDE; do
	run_one "$build/tests/$name"
done

for pid in $pids; do
	wait "$pid"
done
for name in $PAIR; do
	eval "log=\${log_$name:-}"
	[ -n "$log" ] || continue
	read -r rc secs <"$log.rc" || { rc=1; secs=0; }
	rm -f "$log.rc"
	report "$name" "$rc" "$secs" "$log"
done

for t in "$build"/tests/live_*; do
	name=$(basename "$t")
	case " $PAIR $BESIDE " in *" $name "*) continue ;; esac
	run_one "$t"
done

if [ $found = 0 ]; then
	echo "run-live: no live test binaries in $build/tests" >&2
	failed=$((failed + 1))
fi
if [ -n "$failed_names" ]; then
	echo "failed:$failed_names"
	cat "$failures"
fi
if [ $cskipped -gt 0 ]; then
	echo "live: $cpassed passed, $cfailed failed, $cskipped skipped"
else
	echo "live: $cpassed passed, $cfailed failed"
fi
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
