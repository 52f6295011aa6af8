#!/bin/bash
# Golden replay tests: for each tests/golden/replay/NAME/ with trace.jsonl
# (or trace.jsonl.gz), config.json, expected.jsonl and optionally exit_code
# (default 0), run "vigie replay -c config.json TRACE" and compare stdout
# byte for byte with expected.jsonl, twice (replay is deterministic).
# Then a standard output closed at start, and endless input: /dev/zero ends at once, SIGINT and SIGTERM stop
# vigie replay and vigie report reading an endless stream, and stop them in
# the rename of their state or page only once it is done (BUILD_DIR/tests/slowrename.so).
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

# ---- standard output closed at start (vigie replay T >&-): the events were
# written into whatever file took descriptor 1, or lost without a word ----
T=tests/golden/replay/bulk/trace.jsonl
"${replay[@]}" -q "$T" >&- 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && grep -q "standard output is closed" "$tmp/err"; then
	echo "ok   replay, standard output closed: exit 1, says so"; passed=$((passed + 1))
else
	echo "FAIL replay, standard output closed: exit $rc, want 1 and a message"; failed=$((failed + 1))
fi
"$B/vigie" report -q -o - "$T" >&- 2>"$tmp/err"
rc=$?
if [ $rc = 2 ] && grep -q "standard output: it is closed" "$tmp/err"; then
	echo "ok   report -o -, standard output closed: exit 2, says so"; passed=$((passed + 1))
else
	echo "FAIL report -o -, standard output closed: exit $rc, want 2 and a message"; failed=$((failed + 1))
fi

# ---- -o /dev/stdout (a link to descriptor 1, refused as a link until
# stdout_alias): standard output, the same bytes as without -o or with -o - ----
"${replay[@]}" -q "$T" >"$tmp/std1" 2>/dev/null
"${replay[@]}" -q -o /dev/stdout "$T" >"$tmp/std2" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ -s "$tmp/std1" ] && cmp -s "$tmp/std1" "$tmp/std2"; then
	echo "ok   replay -o /dev/stdout: exit 0, the events on standard output"; passed=$((passed + 1))
else
	echo "FAIL replay -o /dev/stdout: exit $rc, $(wc -c <"$tmp/std2") bytes, want 0 and $(wc -c <"$tmp/std1")"; sed 's/^/    | /' "$tmp/err"; failed=$((failed + 1))
fi
"$B/vigie" report -q -o - "$T" >"$tmp/page1" 2>/dev/null
"$B/vigie" report -q -o /dev/stdout "$T" >"$tmp/page2" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q '</html>' "$tmp/page2" && [ "$(wc -c <"$tmp/page1")" = "$(wc -c <"$tmp/page2")" ]; then
	echo "ok   report -o /dev/stdout: exit 0, the page on standard output"; passed=$((passed + 1))
else
	echo "FAIL report -o /dev/stdout: exit $rc, $(wc -c <"$tmp/page2") bytes, want 0 and $(wc -c <"$tmp/page1")"; sed 's/^/    | /' "$tmp/err"; failed=$((failed + 1))
fi

# ---- endless input: a clear end, and the signals that stop a command ----
# An endless stream without a newline (/dev/zero) is no trace: exit 3 as
# soon as its first line is longer than a header may be (it read forever).
timeout -s KILL 20 "${replay[@]}" -q /dev/zero >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 3 ] && grep -q "header line longer than" "$tmp/err"; then
	echo "ok   /dev/zero: exit 3, header line too long"; passed=$((passed + 1))
else
	echo "FAIL /dev/zero: exit $rc, want 3 and a message"; sed 's/^/    | /' "$tmp/err" | head -5
	failed=$((failed + 1))
fi
# Ctrl-C and SIGTERM stop a replay or a report reading an endless trace
# (both were blocked for every command, as the daemon blocks them until
# its signalfd reads them: only SIGKILL stopped a replay).
for cmd in replay report; do
	for sig in INT TERM; do
		args=(-q); [ $cmd = report ] && args+=(-o "$tmp/r.html")
		mkfifo "$tmp/endless"
		# (a background job of a script ignores SIGINT unless given it back)
		env --default-signal=INT "$B/vigie" $cmd "${args[@]}" "$tmp/endless" >/dev/null 2>&1 &
		pid=$!
		{ echo '{"type":"header","format":"vigie-trace","version":1}'; yes ''; } >"$tmp/endless" 2>/dev/null &
		feeder=$!
		# once env has given SIGINT back and run vigie (5 s at most)
		for _ in $(seq 50); do
			[ "$(readlink /proc/$pid/exe)" = "$(readlink -f "$B/vigie")" ] && break
			sleep 0.1
		done
		sleep 0.2
		kill -$sig $pid 2>/dev/null
		for _ in $(seq 30); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
		if kill -0 $pid 2>/dev/null; then
			echo "FAIL $cmd: SIG$sig did not stop it in 3 s"; failed=$((failed + 1))
			kill -9 $pid 2>/dev/null
		else
			wait $pid
			rc=$?
			want=$((128 + $(kill -l $sig)))
			if [ $rc = $want ]; then
				echo "ok   $cmd: SIG$sig stops it (exit $rc)"; passed=$((passed + 1))
			else
				echo "FAIL $cmd: SIG$sig: exit $rc, want $want"; failed=$((failed + 1))
			fi
		fi
		kill $feeder 2>/dev/null
		wait $feeder 2>/dev/null
		rm -f "$tmp/endless" "$tmp/r.html"
	done
done

# ---- a stop signal while a temporary file exists beside its target: the
# command holds it until the file is renamed (replay: and the state's lock
# released), then ends by it: the page or the state whole, nothing left
# beside it. The shim (tests/preload/slowrename.c) makes that rename wait
# 1.5 s, after a mark the signal waits for. ----
shim="$B/tests/slowrename.so"
T=tests/golden/replay/bulk
if [ ! -f "$shim" ]; then
	echo "FAIL signal while renaming: $shim not built (make $shim)"; failed=$((failed + 1))
else
	for cmd in replay report; do
		for sig in TERM INT; do
			w="$tmp/w"
			rm -rf "$w"; mkdir "$w"
			if [ $cmd = replay ]; then
				target=$w/state.json; args=(-q -c "$T/config.json" --state "$target")
			else
				target=$w/page.html; args=(-q -c "$T/config.json" -o "$target")
			fi
			env --default-signal=INT LD_PRELOAD="$shim" VIGIE_TEST_RENAME_MARK="$w/mark" \
				VIGIE_TEST_RENAME_DELAY_MS=1500 "$B/vigie" $cmd "${args[@]}" "$T/trace.jsonl" \
				>"$w/out" 2>"$w/err" &
			pid=$!
			for _ in $(seq 200); do [ -e "$w/mark" ] && break; sleep 0.05; done
			if [ ! -e "$w/mark" ]; then
				echo "FAIL $cmd, SIG$sig while renaming: no rename of a temporary file in 10 s"
				failed=$((failed + 1)); kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
				continue
			fi
			kill -$sig $pid
			wait $pid
			rc=$?
			want=$((128 + $(kill -l $sig)))
			left=$(cd "$w" && ls -A | grep -E '\.tmp\.|\.lock$' | tr '\n' ' ')
			if [ $cmd = replay ]; then
				jq -e '.principals | length > 0' "$target" >/dev/null 2>&1; whole=$?
			else
				tail -c 100 "$target" 2>/dev/null | grep -q '</html>'; whole=$?
			fi
			if [ $rc = $want ] && [ -z "$left" ] && [ $whole = 0 ]; then
				echo "ok   $cmd, SIG$sig while renaming: exit $rc, $(basename "$target") whole, nothing left beside it"
				passed=$((passed + 1))
			else
				echo "FAIL $cmd, SIG$sig while renaming: exit $rc (want $want), left: '${left}', $(basename "$target") whole: $([ $whole = 0 ] && echo yes || echo no)"
				sed 's/^/    | /' "$w/err" | head -5
				failed=$((failed + 1))
			fi
		done
	done
fi

echo "golden-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
