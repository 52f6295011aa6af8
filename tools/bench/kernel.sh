# SPDX-License-Identifier: GPL-2.0
# tools/bench.sh, sections 1 and 1b: kernel per-program statistics, and
# PostgreSQL's walk per send on a stand-in server. Sourced by
# tools/bench.sh (its variables and helpers), not run on its own. See
# docs/benchmarks.md.


# ---- 1. kernel per-program statistics ------------------------------------------
section1_mode() { # sensor-mode floor-mode label
	local smode=$1 fmode=$2 label=$3 ids fids
	start_floor "$fmode"
	if [ "$smode" = bpftrace ]; then
		start_bpftrace
		ids=$(prog_ids "$BTPID")
	else
		start_vigie "$smode" "$TMP/s1-$smode.json"
		ids=$(prog_ids "$VPID")
	fi
	fids=$(prog_ids "$FPID")
	[ -n "$ids" ] && [ -n "$fids" ] || die "cannot find the BPF programs of $label"
	sysctl -qw kernel.bpf_stats_enabled=1
	stats_snapshot "$ids,$fids" >"$TMP/st0.json"
	"$LOAD" send "$PEER_IP" "$PEER_PORT" "$STATS_COUNT" 1 >/dev/null || die "send load failed"
	"$LOAD" read "$PEER_IP" "$PEER_PORT" "$STATS_COUNT" 1 >/dev/null || die "read load failed"
	stats_snapshot "$ids,$fids" >"$TMP/st1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	if [ "$smode" = bpftrace ]; then bg_stop "$BTPID"; else stop_vigie; fi
	bg_stop "$FPID"
	stats_delta "$TMP/st0.json" "$TMP/st1.json" >"$TMP/delta.txt"
	# Pair each program with the floor program on its hook.
	awk -v label="$label" -v min=1000 '
		{ name[NR] = $1; cnt[$1] = $2; ns[$1] = $3 }
		function floor_of(n) {
			if (n == "sock_send_btf") return "floor_send_btf"
			if (n == "sock_recv_btf") return "floor_recv_btf"
			if (n == "sock_send_tp") return "floor_send_tp"
			if (n == "sock_recv_tp") return "floor_recv_tp"
			if (n ~ /^sys_(enter|exit)_/ || n ~ /^process_/) return "floor_" n
			if (n ~ /^sys_ret_/) return "floor_sys_exit_" substr(n, 9)
			# PostgreSQL awareness (bpf/pgwire.bpf.c) on the same hooks
			if (n == "pg_sock_send") return "floor_send_btf"
			if (n ~ /^pg_sys_(enter|exit)_/) return "floor_" substr(n, 4)
			# bpftrace names its programs after the probe (15 characters kept)
			if (n ~ /^sock_send_leng/) return "floor_send_tp"
			if (n ~ /^sock_recv_leng/) return "floor_recv_tp"
			return ""
		}
		END {
			skipped = 0
			for (i = 1; i <= NR; i++) {
				n = name[i]
				if (n ~ /^floor_/) continue
				if (cnt[n] < min) { skipped++; continue }
				f = floor_of(n)
				pe = ns[n] / cnt[n]
				if (f in cnt && cnt[f] > 0) {
					fe = ns[f] / cnt[f]
					printf "%-9s %-22s %10d %9.1f %9.1f %7.2f %9.1f\n", label, n, cnt[n], pe, fe, pe / fe, pe - fe
				} else
					printf "%-9s %-22s %10d %9.1f %9s %7s %9s\n", label, n, cnt[n], pe, "-", "-", "-"
			}
			if (skipped) printf "%-9s (%d other programs ran fewer than %d times during the load)\n", label, skipped, min
			# syscalls mode, per syscall: all its programs against the
			# empty programs of the same hooks, and against an empty
			# enter+exit pair (what a stash-at-enter design needs)
			for (i = 1; i <= NR; i++) {
				n = name[i]
				if (n !~ /^sys_(ret|exit)_/ || cnt[n] < min) continue
				x = n; sub(/^sys_(ret|exit)_/, "", x)
				fx = "floor_sys_exit_" x; fn = "floor_sys_enter_" x
				if (!(fx in cnt) || !(fn in cnt) || cnt[fx] == 0 || cnt[fn] == 0) continue
				pe = ns[n] / cnt[n]; own = ns[fx] / cnt[fx]; pair = own + ns[fn] / cnt[fn]
				if (n ~ /^sys_exit_/) {
					e = "sys_enter_" x
					if (!(e in cnt) || cnt[e] == 0) continue
					pe += ns[e] / cnt[e]; own = pair; how = "enter+exit"
				} else how = "exit only"
				printf "   syscalls %s (%s): %.0f ns per call; empty programs of its hooks %.0f ns: %.2fx; empty enter+exit pair %.0f ns: %.2fx\n", x, how, pe, own, pe / own, pair, pe / pair
			}
		}' "$TMP/delta.txt" | tee -a "$SUMMARY"
}

if [[ " $SECTIONS " == *" 1 "* ]]; then
	log "section 1: kernel per-program statistics"
	out ""
	out "== 1. Kernel per-program statistics (kernel.bpf_stats_enabled), side by side with an empty program on the same hook"
	out "   load: $STATS_COUNT 1-byte send() then $STATS_COUNT 1-byte read() over TCP to $PEER_IP:$PEER_PORT in a netns"
	out "   (sends count as egress, reads as db_client: the full counting path); events = program runs"
	out "$(printf '%-9s %-22s %10s %9s %9s %7s %9s' mode program events ns/event floor_ns ratio added_ns)"
	for m in ${BENCH_S1_MODES:-sock syscalls bpftrace}; do
		case $m in
		sock) section1_mode sock sock sock ;;
		syscalls) section1_mode syscalls syscalls syscalls ;;
		bpftrace) [ "$HAVE_BPFTRACE" = 1 ] && section1_mode bpftrace sock-tp bpftrace ;;
		esac
	done
	out "   goal (sock mode): at most 150 ns per event and within 2x of the floor: $(awk '
		$1 == "sock" && $2 ~ /^sock_(send|recv)_(btf|tp)$/ {
			ok = $4 <= 150 && $6 <= 2; all = all sprintf("%s%s %.0f ns %.2fx %s", all ? ", " : "", $2, $4, $6, ok ? "met" : "NOT met")
		} END { print all ? all : "sock mode not measured" }' "$SUMMARY")"
fi

# ---- 1b. PostgreSQL's walk per send, on a stand-in server ----------------------
# tools/bench-pgserver.c as $PGW_DIR/bin/postgres (Vigie takes .../bin/postgres
# in a root-only path for PostgreSQL): its forked "backend" sends answers
# shaped like a simple query's to a client in the netns, one send() each.
# sock_send_btf runs on each, with the walk (its tail call) or with
# databases.postgres off (the counting only), next to the empty program.
pgwalk_run() { # cond rows count -> "ns_per_send floor_ns_per_send sends rows_counted"
	local cond=$1 rows=$2 count=$3 ids fids cfg=$TMP/pgw-$1.json
	start_floor sock
	start_vigie sock "$TMP/s1b.json" -c "$cfg"
	sleep 1.5 # the server found and its port known before the backend forks
	ids=$(prog_ids "$VPID")
	fids=$(prog_ids "$FPID")
	sysctl -qw kernel.bpf_stats_enabled=1
	stats_snapshot "$ids,$fids" >"$TMP/st0.json"
	ip netns exec "$NS" "$PGSERVER" fetch "$HOST_IP" "$PGW_PORT" "$rows" "$count" >"$TMP/pgw-fetch.out" ||
		die "bench-pgserver fetch failed: $(cat "$TMP/pgw-fetch.out")"
	stats_snapshot "$ids,$fids" >"$TMP/st1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	stop_vigie
	bg_stop "$FPID"
	stats_delta "$TMP/st0.json" "$TMP/st1.json" | awk -v rc="$(jq -s '[.[] | select(.event.action == "usage" and .process.name == "postgres") | .vigie.rows // 0] | add // 0' "$TMP/s1b.json")" '
		{ cnt[$1] = $2; ns[$1] = $3 }
		END { printf "%.1f %.1f %d %d\n", ns["sock_send_btf"] / cnt["sock_send_btf"], ns["floor_send_btf"] / cnt["floor_send_btf"], cnt["sock_send_btf"], rc }'
}

section1_pgwalk() {
	local rows count r cond res
	mkdir -p "$PGW_DIR/bin" && chmod 755 "$PGW_DIR" "$PGW_DIR/bin" &&
		cp "$PGSERVER" "$PGW_DIR/bin/postgres" || die "cannot install the stand-in server in $PGW_DIR"
	bg_start "$PGW_DIR/bin/postgres" serve "$PGW_PORT" >"$TMP/pgw.out" 2>&1
	PGW_PID=$BGPID
	wait_for "$TMP/pgw.out" listening 5 "$PGW_PID" || die "stand-in server did not start: $(cat "$TMP/pgw.out")"
	printf '{"databases": {"ports": [5432, %d]}}\n' "$PGW_PORT" >"$TMP/pgw-walk.json"
	printf '{"databases": {"ports": [5432, %d], "postgres": "off"}}\n' "$PGW_PORT" >"$TMP/pgw-count.json"
	: >"$TMP/pgw.txt"
	for rows in 1 8 32; do
		count=$((rows == 1 ? 200000 : rows == 8 ? 100000 : 50000))
		for ((r = 0; r < PGW_ROUNDS; r++)); do
			for cond in count walk; do
				res=$(pgwalk_run "$cond" "$rows" "$count")
				log "  1b rows $rows round $((r + 1)) $cond: $res (ns per send, floor, sends, rows counted)"
				echo "$rows $r $cond $count $(awk '{print $3}' "$TMP/pgw-fetch.out" | sed 's/answer_bytes=//') $res" >>"$TMP/pgw.txt"
			done
		done
	done
	bg_stop "$PGW_PID"
	out ""
	out "== 1b. PostgreSQL's walk per send: a stand-in server (tools/bench-pgserver.c, run as $PGW_DIR/bin/postgres) whose backend"
	out "   sends answers shaped like a simple query's (RowDescription, ROWS DataRows, CommandComplete, ReadyForQuery), one send() each,"
	out "   to a client in the netns; sock_send_btf per send with databases.postgres off (counting) and on (walk: its tail call),"
	out "   each next to the empty program; $PGW_ROUNDS alternating rounds, medians"
	out "$(printf '%-5s %7s %9s %11s %11s %9s %12s' rows bytes floor_ns counting_ns with_walk_ns walk_ns rows_counted)"
	awk "$AWK_LIB"'
		# rows round cond count answer_bytes ns floor sends rows_counted
		{ k = $1 SUBSEP $2; ns[k, $3] = $6; fl[k, $3] = $7; rc[k, $3] = $9; cnt[$1] = $4; ab[$1] = $5; rs[$1] = 1; rd[$1, $2] = 1 }
		END {
			for (rows = 1; rows <= 32; rows++) {
				if (!(rows in rs)) continue
				n = 0; bad = ""
				for (r = 0; (rows, r) in rd; r++) {
					k = rows SUBSEP r
					f[++n] = fl[k, "walk"]; c[n] = ns[k, "count"]; w[n] = ns[k, "walk"]
					# above each run'"'"'s own floor: the walk alone
					d[n] = (ns[k, "walk"] - fl[k, "walk"]) - (ns[k, "count"] - fl[k, "count"])
					if (rc[k, "walk"] != rows * cnt[rows]) bad = bad sprintf(" round %d: %d", r + 1, rc[k, "walk"])
				}
				walk[rows] = med(d, n)
				printf "%-5d %7d %9.1f %11.1f %12.1f %9.1f %12s\n", rows, ab[rows], med(f, n), med(c, n), med(w, n), walk[rows], \
					bad == "" ? sprintf("exact (%d)", rows * cnt[rows]) : "NOT exact:" bad
			}
			# 1 row (83 bytes) is walked from a copy on the stack (sends of at
			# most 128 bytes), 8 and 32 rows from the per-CPU window: the
			# slope comes from the two window sends, each path'"'"'s fixed part
			# from its own send
			if ((1 in walk) && (8 in walk) && (32 in walk)) {
				b = (walk[32] - walk[8]) / 24
				a = walk[8] - 12 * b
				a1 = walk[1] - 4 * b
				printf "   per message walked: (walk_ns(32 rows) - walk_ns(8 rows)) / 24 = %.1f ns; the rest of a send'"'"'s walk (tail call, the backend'"'"'s\n", b
				printf "   entry, the saved registers, the copy, the loop, the commit): from the window, walk_ns(8 rows) - 12 messages x %.1f = %.0f ns;\n", b, a
				printf "   from the stack (a send of at most 128 bytes), walk_ns(1 row) - 4 messages x %.1f = %.0f ns\n", b, a1
				printf "   goal (the PostgreSQL send path at most 100 ns per send plus the walk): %.0f and %.0f ns: %s\n", a, a1, a <= 100 && a1 <= 100 ? "met" : "NOT met"
			}
		}' "$TMP/pgw.txt" | while IFS= read -r l; do out "$l"; done
}

if [[ " $SECTIONS " == *" 1 "* ]] && [[ " ${BENCH_S1_MODES:-sock syscalls bpftrace} " == *" sock "* ]]; then
	log "section 1b: PostgreSQL's walk per send on a stand-in server"
	section1_pgwalk
fi
