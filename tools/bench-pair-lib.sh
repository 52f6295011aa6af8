# SPDX-License-Identifier: GPL-2.0
# Helpers shared by tools/bench-pair.sh and tools/bench-pair-pgbench.sh
# (sourced, not run). The caller sets ME (its name, for messages), T (its
# temporary directory, holding v.json, the sensors' configuration) and
# the array PIDS (what its clean-up stops).

wait_for() { # file pattern tenths
	local i
	for ((i = 0; i < $3; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# The BPF program ids a process holds, comma-separated.
prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null; done | sort -un | paste -sd, -
}

# Run time and count of those programs (bpf_stats), as JSON.
snapshot() {
	bpftool prog show -j | jq -c --argjson ids "[$1]" \
		'[.[] | select(.id as $i | $ids | index($i)) | {id, name, ns: (.run_time_ns // 0), cnt: (.run_cnt // 0)}]'
}

# Between two snapshots: "name runs ns a|b" per program, a for the ids of
# build A (comma-separated), b for the others.
snapshot_delta() { # before.json after.json ids_of_a
	jq -r -n --slurpfile a "$1" --slurpfile b "$2" --arg ia "$3" \
		'($a[0] | map({key: (.id|tostring), value: .}) | from_entries) as $x | ($ia | split(",")) as $A |
		 $b[0][] | . as $p | ($x[$p.id|tostring] // {ns: 0, cnt: 0}) as $q |
		 "\($p.name) \($p.cnt - $q.cnt) \($p.ns - $q.ns) \(if ($A | index($p.id|tostring)) then "a" else "b" end)"'
}

start_vigie() { # tag build; sets VP
	rm -f "$T/o$1.json"
	"$2/vigie" run --probes sock -c "$T/v.json" -o "$T/o$1.json" 2>"$T/v$1.err" &
	VP=$!
	PIDS+=("$VP")
	wait_for "$T/o$1.json" sensor-start 300 ||
		{ echo "$ME: $2/vigie did not start: $(tail -n 3 "$T/v$1.err")" >&2; exit 1; }
}

# Both builds attached for round r, the first in turn (A on even rounds):
# the first attached runs first on the tracepoint and pays more of the
# misses. Sets pa, pb (their pids) and first (A or B).
start_pair() { # round build_a build_b
	if (($1 % 2)); then
		start_vigie b "$3"; pb=$VP; sleep 0.3; start_vigie a "$2"; pa=$VP; first=B
	else
		start_vigie a "$2"; pa=$VP; sleep 0.3; start_vigie b "$3"; pb=$VP; first=A
	fi
}
