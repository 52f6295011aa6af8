# SPDX-License-Identifier: GPL-2.0
# tools/bench.sh, section 4: user space at 100,000 sends/s over 10,000
# keys. Sourced by tools/bench.sh (its variables and helpers), not run on
# its own. See docs/benchmarks.md.


# ---- 4. user-space CPU and memory at 100k sends/s over 10k keys -----------------
if [[ " $SECTIONS " == *" 4 "* ]]; then
	log "section 4: $SPREAD_RATE sends/s over $SPREAD_KEYS keys for ${SPREAD_SECONDS}s"
	socks=$((SPREAD_KEYS / SPREAD_PROCS))
	# vigie with default settings, in a subshell that reports its total
	# CPU (bash 'times': children's user and system time) once it exits.
	(
		"$VIGIE" run -o "$TMP/s4.json" 2>>"$TMP/vigie.err" &
		echo $! >"$TMP/s4.pid"
		wait $!
		times >"$TMP/s4.times"
	) &
	S4SUB=$!
	BG_PIDS+=("$S4SUB")
	wait_for "$TMP/s4.json" sensor-start 20 "$S4SUB" || die "vigie did not start for section 4"
	VPID=$(cat "$TMP/s4.pid")
	BG_PIDS+=("$VPID")
	sleep 1
	hz=$(getconf CLK_TCK)
	cpu0=$(awk '{print $14 + $15}' "/proc/$VPID/stat")
	t0=$(date +%s.%N)
	res=$("$LOAD" spread "$HOLE_IP" 20000 "$socks" "$SPREAD_PROCS" "$socks" "$SPREAD_RATE" "$SPREAD_SECONDS") ||
		die "spread load failed"
	sleep 1 # one more tick: the last sends are drained
	t1=$(date +%s.%N)
	cpu1=$(awk '{print $14 + $15}' "/proc/$VPID/stat")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$VPID/status")
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$VPID/status")
	kill -INT "$VPID"
	wait "$S4SUB"
	# children's times: second line of 'times', "XmY.YYYs XmY.YYYs"
	total_cpu=$(sed -n 2p "$TMP/s4.times" | awk '{
		n = split($1 " " $2, a, " "); s = 0
		for (i = 1; i <= n; i++) { split(a[i], b, "m"); sub("s", "", b[2]); s += b[1] * 60 + b[2] }
		print s }')
	sent=$(field sent "$res")
	errs=$(field errors "$res")
	# What vigie reported for the load: bytes to the black hole from benchload.
	# (usage is summarised per process by default: the load's events are
	# those of benchload's egress; a flow event names the black hole)
	sel='select(.event.action == "usage" and .vigie.class == "egress" and
		(.process.name == "benchload" or .destination.ip == $ip))'
	counted=$(jq -s --arg ip "$HOLE_IP" "[.[] | $sel | .vigie.bytes] | add // 0" "$TMP/s4.json")
	nev=$(jq -s --arg ip "$HOLE_IP" "[.[] | $sel] | length" "$TMP/s4.json")
	stopstats=$(jq -c 'select(.event.action == "sensor-stop") | .vigie.stats | {map_entries_peak, map_fill, flow_fallbacks, failed_inserts, drain_errors}' "$TMP/s4.json" 2>/dev/null)
	out ""
	out "== 4. vigie user space at $SPREAD_RATE sends/s over $SPREAD_KEYS (process, peer) keys, default settings, ${SPREAD_SECONDS}s"
	out "   load: $SPREAD_PROCS processes x $socks connected UDP sockets, one remote port each, 64-byte datagrams to $HOLE_IP"
	out "$(awk -v r="$res" 'BEGIN {print "   load reached: " r}')"
	out "$(awk -v c0="$cpu0" -v c1="$cpu1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v hwm="$hwm" -v rss="$rss" -v tot="$total_cpu" \
		'BEGIN {printf "   vigie CPU during load: %.2f%% of one CPU (%.2f s user+system over %.1f s); whole run incl. start and final flush: %.2f s\n   vigie memory: peak RSS (VmHWM) %.1f MiB, RSS at end of load %.1f MiB", (c1 - c0) / hz / (t1 - t0) * 100, (c1 - c0) / hz, t1 - t0, tot, hwm / 1024, rss / 1024}')"
	out "   accounting check: vigie counted $counted bytes in $nev usage events; the load sent $(( (sent - errs) * 64 )) bytes ($sent sends - $errs errors, x 64)"
	out "   sensor-stop stats: $stopstats"
	evsize=$(jq -c 'select(.event.action == "usage")' "$TMP/s4.json" | awk '{ n++; t += length($0) + 1 } END { if (n) printf "%.0f bytes on average over %d usage events", t / n, n }')
	out "   event size (what a SIEM ingests): $evsize"
fi
