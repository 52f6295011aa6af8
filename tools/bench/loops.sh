# SPDX-License-Identifier: GPL-2.0
# tools/bench.sh, section 3: added time per 1-byte operation in a tight
# loop. Sourced by tools/bench.sh (its variables and helpers), not run on
# its own. See docs/benchmarks.md.


# ---- 3. added nanoseconds per 1-byte send/read ----------------------------------
if [[ " $SECTIONS " == *" 3 "* ]]; then
	log "section 3: tight loops (send/read), $LOOP_ROUNDS interleaved rounds"
	MODES=(none sock syscalls)
	[ "$HAVE_BPFTRACE" = 1 ] && MODES+=(bpftrace)
	: >"$TMP/loops.txt"
	for ((r = 0; r < LOOP_ROUNDS; r++)); do
		for m in "${MODES[@]}"; do
			log "  round $((r + 1)) $m"
			case $m in
			none) ;;
			bpftrace) start_bpftrace ;;
			*) start_vigie "$m" "$TMP/s3.json" ;;
			esac
			sleep 0.5
			s=$("$LOAD" send "$PEER_IP" "$PEER_PORT" "$LOOP_COUNT" "$LOOP_REPS") || die "send loop failed"
			d=$("$LOAD" read "$PEER_IP" "$PEER_PORT" "$LOOP_COUNT" "$LOOP_REPS") || die "read loop failed"
			echo "$r $m send $(field min_ns "$s") $(field median_ns "$s")" >>"$TMP/loops.txt"
			echo "$r $m read $(field min_ns "$d") $(field median_ns "$d")" >>"$TMP/loops.txt"
			case $m in
			none) ;;
			bpftrace) bg_stop "$BTPID" ;;
			*) stop_vigie ;;
			esac
		done
	done
	out ""
	out "== 3. Added time per 1-byte operation in a tight loop (CPU time of the looping thread, TCP to a netns peer, sender corked)"
	out "   each run: best of $LOOP_REPS loops of $LOOP_COUNT operations; $LOOP_ROUNDS interleaved rounds (none, modes...);"
	out "   ns/op = median over rounds; added = median over rounds of (mode - none of the same round)"
	out "$(printf '%-9s %12s %10s %12s %10s' mode send_ns/op added read_ns/op added)"
	for m in "${MODES[@]}"; do
		out "$(awk -v m="$m" "$AWK_LIB"'
			{ v[$1, $2, $3] = $4; rounds[$1] = 1 }
			END {
				for (op = 1; op <= 2; op++) {
					o = op == 1 ? "send" : "read"; n = 0; k = 0
					for (r in rounds) if ((r, m, o) in v) {
						x[++n] = v[r, m, o]
						if ((r, "none", o) in v) d[++k] = v[r, m, o] - v[r, "none", o]
					}
					mv[op] = med(x, n); md[op] = med(d, k)
					delete x; delete d
				}
				printf "%-9s %12.1f %+10.1f %12.1f %+10.1f", m, mv[1], md[1], mv[2], md[2]
			}' "$TMP/loops.txt")"
	done
	out "   all runs (round:mode/op=best/median ns): $(awk '{printf "%s:%s/%s=%.0f/%.0f ", $1, $2, $3, $4, $5}' "$TMP/loops.txt")"
fi
