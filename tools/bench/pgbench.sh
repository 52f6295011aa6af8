# SPDX-License-Identifier: GPL-2.0
# tools/bench.sh, section 2: pgbench -S with no sensor, Vigie and
# bpftrace, and where the BPF time goes. Sourced by tools/bench.sh (its
# variables and helpers), not run on its own. See docs/benchmarks.md.


# ---- 2. pgbench ---------------------------------------------------------------------
pg_setup() {
	local i
	mkdir -p "$TMP/pg" && chown postgres: "$TMP/pg" || die "cannot prepare $TMP/pg"
	for ((i = 0; i < 50; i++)); do
		PGPORT=$((55000 + ($$ + i) % 1000))
		ss -Htln "sport = :$PGPORT" | grep -q . || break
	done
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --no-sync \
		>"$TMP/pg/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$TMP/pg/initdb.log")"
	PG_STARTED=1
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$TMP/pg/server.log" -w -t 60 \
		-o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$TMP/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
		start >/dev/null 2>&1 || die "PostgreSQL did not start: $(tail -n 5 "$TMP/pg/server.log")"
	pgbench -i -q -s "$PG_SCALE" -h 127.0.0.1 -p "$PGPORT" -U postgres postgres >"$TMP/pg/init.log" 2>&1 ||
		die "pgbench -i failed: $(tail -n 5 "$TMP/pg/init.log")"
	# Vigie counts the benchmark's port as a database port: the server's
	# sends are db_server, pgbench's reads db_client (the full path).
	printf '{"databases": {"ports": [5432, 3306, 1521, 50000, 1433, 27017, %d]}}\n' "$PGPORT" >"$TMP/pg-vigie.json"
}

# CPU accounting: a cgroup holding the cluster and pgbench (v1 cpuacct or v2).
cg_setup() {
	local pm p
	if [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		CG=/sys/fs/cgroup/cpuacct/vigiebench$$
		CG_KIND=v1
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CG=/sys/fs/cgroup/vigiebench$$
		CG_KIND=v2
	else
		return 1
	fi
	mkdir "$CG" 2>/dev/null || { CG=; return 1; }
	pm=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
	for p in $pm $(ps -o pid= --ppid "$pm"); do
		echo "$p" >"$CG/cgroup.procs" 2>/dev/null
	done
	return 0
}

cg_usage_ns() {
	if [ "$CG_KIND" = v1 ]; then cat "$CG/cpuacct.usage"
	else awk '$1 == "usage_usec" {printf "%d\n", $2 * 1000}' "$CG/cpu.stat"; fi
}

proc_cpu_ns() { # pid: utime+stime so far
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
	awk -v hz="$(getconf CLK_TCK)" '{printf "%d\n", ($14 + $15) * 1e9 / hz}' "/proc/$1/stat"
}

pg_run() { # seconds [sensor-pid] -> "tps cpu_ns_per_txn"
	local c0 c1 s0 s1 tps n
	c0=$([ -n "$CG" ] && cg_usage_ns || echo 0)
	s0=$(proc_cpu_ns "${2:-}")
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CG" \
		pgbench -n -S -c "$PG_CLIENTS" -j 2 -T "$1" -h 127.0.0.1 -p "$PGPORT" -U postgres postgres \
		>"$TMP/pg/run.log" 2>&1 || die "pgbench failed: $(tail -n 5 "$TMP/pg/run.log")"
	s1=$(proc_cpu_ns "${2:-}")
	c1=$([ -n "$CG" ] && cg_usage_ns || echo 0)
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$TMP/pg/run.log")
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/pg/run.log")
	awk -v t="$tps" -v n="$n" -v c="$((c1 - c0 + s1 - s0))" -v s="$((s1 - s0))" -v cg="$CG" \
		'BEGIN {printf "%s %.0f %.0f\n", t, (cg != "" && n > 0) ? c / n : 0, (n > 0) ? s / n : 0}'
}

pg_condition() { # round condition file: one pgbench run under the condition, its line in file
	local r=$1 c=$2 spid= res
	case $c in
	vigie-sock) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie.json" ;;
	vigie-syscalls) start_vigie syscalls "$TMP/s2.json" -c "$TMP/pg-vigie.json" ;;
	bpftrace) start_bpftrace ;;
	esac
	case $c in
	vigie-*) spid=$VPID ;;
	bpftrace) spid=$BTPID ;;
	esac
	res=$(pg_run "$PG_SECONDS" "$spid")
	case $c in
	vigie-*) stop_vigie ;;
	bpftrace) bg_stop "$BTPID" ;;
	esac
	log "  round $((r + 1)) $c: $res (tps, CPU ns per transaction, of which the sensor process)"
	echo "$r $c $res" >>"$3"
}

if [[ " $SECTIONS " == *" 2 "* ]] && [ "$HAVE_PG" = 1 ]; then
	log "section 2: pgbench -S, $PG_ROUNDS rounds x ${PG_SECONDS}s per condition"
	pg_setup
	cg_setup || log "no cgroup CPU accounting here: CPU per transaction not measured"
	# Goal 2 compares vigie-sock with bpftrace: they run next to each
	# other, and every other round in the reverse order (A B B A over two
	# rounds), since the machine drifts (no-sensor CPU per transaction
	# went from 80 to 94 us over 30 back-to-back 5 s runs, nothing
	# changed: tools/bench-pgnoise.sh 30 5).
	CONDS=(none vigie-sock)
	[ "$HAVE_BPFTRACE" = 1 ] && CONDS+=(bpftrace)
	CONDS+=(vigie-syscalls)
	pg_run 3 >/dev/null # warm-up
	: >"$TMP/pg.txt"
	: >"$TMP/pg-pairs.txt"
	n=${#CONDS[@]}
	for ((r = 0; r < PG_ROUNDS; r++)); do
		for ((j = 0; j < n; j++)); do
			# each round the reverse of the last
			pg_condition "$r" "${CONDS[$((r % 2 ? n - 1 - j : j))]}" "$TMP/pg.txt"
		done
	done
	# Then rounds of the two alone, in the same alternation. If Vigie is
	# below in 80% of rounds, the sign test establishes it (p <= 0.05) in
	# 38% of runs of 10 rounds (9 of 10 needed) and in 80% of runs of 20
	# (15 of 20).
	if [ "$HAVE_BPFTRACE" = 1 ] && [ -n "$CG" ]; then
		for ((r = PG_ROUNDS; r < PG_ROUNDS + PG_PAIR_ROUNDS; r++)); do
			if ((r % 2)); then pair=(bpftrace vigie-sock); else pair=(vigie-sock bpftrace); fi
			for c in "${pair[@]}"; do
				pg_condition "$r" "$c" "$TMP/pg-pairs.txt"
			done
		done
	fi
	out ""
	out "== 2. pgbench -S (select-only), local PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1, scale $PG_SCALE, $PG_CLIENTS clients, $PG_ROUNDS interleaved rounds x ${PG_SECONDS}s"
	out "   tps ratio = median over rounds of (condition tps / no-sensor tps of the same round);"
	out "   cpu/txn = CPU time of the cluster + pgbench (cgroup) + the sensor process, per transaction (us), ratio likewise;"
	out "   sensor/txn = the sensor process's own CPU (user space, /proc/PID/stat, 10 ms ticks), per transaction (us)"
	out "$(printf '%-15s %11s %9s %8s %9s %9s %10s   %s' condition median_tps tps_ratio tps_loss cpu/txn cpu_ratio sensor/txn all_runs_tps)"
	for c in "${CONDS[@]}"; do
		out "$(awk -v c="$c" "$AWK_LIB"'
			{ v[$1, $2] = $3; u[$1, $2] = $4; sp[$1, $2] = $5; rounds[$1] = 1 }
			END {
				n = 0; k = 0; all = ""
				for (r = 0; (r in rounds); r++) if ((r, c) in v) {
					x[++n] = v[r, c]; y[n] = u[r, c] / 1000; w[n] = sp[r, c] / 1000; all = all sprintf("%.0f ", v[r, c])
					if ((r, "none") in v && v[r, "none"] > 0) q[++k] = v[r, c] / v[r, "none"]
					if ((r, "none") in u && u[r, "none"] > 0) z[k] = u[r, c] / u[r, "none"]
				}
				m = med(x, n); rq = med(q, k); cu = med(y, n); cz = med(z, k); su = med(w, n)
				printf "%-15s %11.0f %9.3f %7.1f%% %9.1f %9.3f %10.2f   %s", c, m, rq, (1 - rq) * 100, cu, cz, su, all
			}' "$TMP/pg.txt")"
	done
	out "   goal: less than 3% loss with Vigie, clearly less than bpftrace"
	# Goal 2's total CPU, paired within each round (the conditions of a
	# round run back to back, so the machine's drift weighs on both alike):
	# "clearly below" when a one-sided sign test says chance alone would
	# put Vigie below in that many rounds or more with p <= 0.05 (5 of 5,
	# 9 of 10, ...).
	if [ "$HAVE_BPFTRACE" = 1 ] && [ -n "$CG" ]; then
		out "$(awk "$AWK_LIB"'
			{ u[$1, $2] = $4; rounds[$1] = 1 }
			END {
				k = 0; below = 0
				for (r = 0; (r in rounds); r++) {
					if (!((r, "vigie-sock") in u) || !((r, "bpftrace") in u) || u[r, "bpftrace"] <= 0) continue
					q[++k] = u[r, "vigie-sock"] / u[r, "bpftrace"]
					if (q[k] < 1) below++
				}
				if (!k) { print "   goal 2, total CPU against bpftrace: no paired round"; exit }
				# P(at least "below" of k rounds below | no difference)
				p = 0; c = 1
				for (i = 0; i <= k; i++) {
					if (i >= below) p += c
					c = c * (k - i) / (i + 1)
				}
				p /= 2 ^ k
				printf "   goal 2, total CPU per transaction, vigie-sock / bpftrace in the same round: median %.3f (rounds %s), below in %d of %d rounds (one-sided sign test p = %.3f): %s", \
					med(q, k), span(q, k, "%.3f"), below, k, p, \
					p <= 0.05 ? "clearly below, met" : "NOT established"
			}' "$TMP/pg.txt" "$TMP/pg-pairs.txt")"
		out "   ($PG_ROUNDS rounds of every condition, then $PG_PAIR_ROUNDS of vigie-sock and bpftrace alone, the two next to each other, first in turn)"
	fi
	# Where the time goes: runs with kernel.bpf_stats_enabled, conditions
	# interleaved and rotated over PG_STATS_ROUNDS rounds, medians printed.
	# vigie-sock-nopg is vigie-sock with PostgreSQL's walk off: the counting
	# alone, for goal 1 under this load, and the walk's cost by difference.
	none_cpu=$(awk '$2 == "none" {print $4}' "$TMP/pg.txt" | median)
	jq '.databases.postgres = "off"' "$TMP/pg-vigie.json" >"$TMP/pg-vigie-nopg.json"
	SCONDS=(empty vigie-sock vigie-sock-nopg vigie-syscalls)
	[ "$HAVE_BPFTRACE" = 1 ] && SCONDS+=(bpftrace)
	: >"$TMP/pgst.txt"
	n=${#SCONDS[@]}
	for ((r = 0; r < PG_STATS_ROUNDS; r++)); do
		for ((j = 0; j < n; j++)); do
			c=${SCONDS[$(((j + r) % n))]}
			case $c in
			empty) start_floor sock; spid=$FPID ;; # empty programs on the sock hooks, alone
			vigie-sock) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie.json"; spid=$VPID ;;
			vigie-sock-nopg) start_vigie sock "$TMP/s2.json" -c "$TMP/pg-vigie-nopg.json"; spid=$VPID ;;
			vigie-syscalls) start_vigie syscalls "$TMP/s2.json" -c "$TMP/pg-vigie.json"; spid=$VPID ;;
			bpftrace) start_bpftrace; spid=$BTPID ;;
			esac
			ids=$(prog_ids "$spid")
			sysctl -qw kernel.bpf_stats_enabled=1
			stats_snapshot "$ids" >"$TMP/st0.json"
			pg_run "$PG_SECONDS" >/dev/null
			stats_snapshot "$ids" >"$TMP/st1.json"
			sysctl -qw kernel.bpf_stats_enabled=0
			txn=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/pg/run.log")
			case $c in empty) bg_stop "$FPID" ;; vigie-*) stop_vigie ;; bpftrace) bg_stop "$BTPID" ;; esac
			stats_delta "$TMP/st0.json" "$TMP/st1.json" |
				awk -v r="$r" -v c="$c" -v n="$txn" '
					c == "empty" && $1 !~ /^floor_(send|recv)_btf$/ { next }
					{ print r, c, $1, $2, $3, n }' >>"$TMP/pgst.txt"
			if [ "$c" = vigie-sock ]; then
				# the sends the walk took (the sensor's whole life: pgbench ran only in the window)
				w=$(jq -r 'select(.event.action == "sensor-stop") | .vigie.stats.postgres.sends_walked // 0' "$TMP/s2.json" | tail -n 1)
				echo "$r $c =walked ${w:-0} 0 $txn" >>"$TMP/pgst.txt"
			fi
			log "  bpf_stats round $((r + 1)) $c: $(awk -v r="$r" -v c="$c" '$1 == r && $2 == c && $4 >= 1000 && $3 !~ /^=/ {printf "%s %.0f ns x %.2f/txn; ", $3, $5 / $4, $4 / $6}' "$TMP/pgst.txt")"
		done
	done
	out "   BPF program time per transaction (bpf_stats on, ${PG_STATS_ROUNDS} interleaved rounds x ${PG_SECONDS}s, medians; programs run >= 1000 times),"
	out "   and its share of the no-sensor CPU per transaction ($(awk -v c="$none_cpu" 'BEGIN {printf "%.1f", c / 1000}') us): the loss to expect when the host is CPU-bound:"
	awk -v base="$none_cpu" -v conds="${SCONDS[*]}" -v rounds="$PG_STATS_ROUNDS" "$AWK_LIB"'
		# per round, condition, program: runs, ns; per round and condition: transactions
		{ runs[$1, $2, $3] = $4; ns[$1, $2, $3] = $5; txn[$1, $2] = $6; prog[$2, $3] = 1 }
		END {
			nc = split(conds, C, " ")
			for (i = 1; i <= nc; i++) {
				c = C[i]; k = 0; line = ""
				for (r = 0; r < rounds; r++) {
					if (!((r, c) in txn) || txn[r, c] <= 0) continue
					t = 0
					for (pk in prog) {
						split(pk, q, SUBSEP)
						if (q[1] != c || q[2] ~ /^=/ || runs[r, c, q[2]] < 1000) continue
						t += ns[r, c, q[2]]
					}
					tot[++k] = t / txn[r, c] / 1000
				}
				u = med(tot, k)
				for (pk in prog) {
					split(pk, q, SUBSEP)
					if (q[1] != c || q[2] ~ /^=/) continue
					m = 0
					for (r = 0; r < rounds; r++)
						if (runs[r, c, q[2]] >= 1000 && txn[r, c] > 0) {
							pr[++m] = runs[r, c, q[2]] / txn[r, c]; pn[m] = ns[r, c, q[2]] / runs[r, c, q[2]]
						}
					if (m) line = line sprintf(" %s %.1f/txn x %.0f ns;", q[2], med(pr, m), med(pn, m))
				}
				if (c == "empty") fl = u
				printf "   %-16s %5.2f us/txn = %4.1f%%:%s", c, u, (base > 0 ? u * 1000 / base * 100 : 0), line
				if (c ~ /^vigie-sock/ && fl != "") printf " above the empty programs: %.2f us/txn = %.1f%%", u - fl, (base > 0 ? (u - fl) * 1000 / base * 100 : 0)
				printf "\n"
			}
			# goal 1 under this load: the counting alone against the floor, round by round
			split("send recv", D, " ")
			for (d = 1; d <= 2; d++) {
				k = 0
				for (r = 0; r < rounds; r++) {
					a = runs[r, "vigie-sock-nopg", "sock_" D[d] "_btf"]; b = runs[r, "empty", "floor_" D[d] "_btf"]
					if (a < 1000 || b < 1000) continue
					v[++k] = ns[r, "vigie-sock-nopg", "sock_" D[d] "_btf"] / a
					f[k] = ns[r, "empty", "floor_" D[d] "_btf"] / b
					x[k] = v[k] / f[k]
				}
				if (!k) continue
				mv = med(v, k); mf = med(f, k); mx = med(x, k)
				printf "   goal 1 under pgbench, sock_%s_btf counting (walk off): %.0f ns (rounds %s), floor %.0f ns, %.2fx (rounds %s): 150 ns %s, 2x %s\n", \
					D[d], mv, span(v, k, "%.0f"), mf, mx, span(x, k, "%.2f"), mv <= 150 ? "met" : "NOT met", mx <= 2 ? "met" : "NOT met"
			}
			# the walk by difference: sends with it minus without, per walked send
			k = 0
			for (r = 0; r < rounds; r++) {
				w = runs[r, "vigie-sock", "=walked"]; a = txn[r, "vigie-sock"]; b = txn[r, "vigie-sock-nopg"]
				if (w <= 0 || a <= 0 || b <= 0 || runs[r, "vigie-sock", "sock_send_btf"] < 1000) continue
				wk[++k] = (ns[r, "vigie-sock", "sock_send_btf"] / a - ns[r, "vigie-sock-nopg", "sock_send_btf"] / b) / (w / a)
				wp[k] = w / a
			}
			if (k)
				printf "   PostgreSQL walk in sock mode (pg_sock_send_db, or pg_sock_send, as sock_send_btf'"'"'s tail call): %.2f walked sends/txn, %.0f ns per walked send (rounds %s): sock_send_btf per txn with the walk minus without, per walked send\n", \
					med(wp, k), med(wk, k), span(wk, k, "%.0f")
		}' "$TMP/pgst.txt" | while IFS= read -r l; do out "$l"; done
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 && PG_STARTED=0
fi
