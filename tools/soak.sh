#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Soak run (a benchmark target, never a test): the daemon with its built-in
# defaults for SOAK_MINUTES (default 30) under mixed load, and what it
# holds over time. Load, all the time:
#   - egress: trafficgen sends 1 MB to a peer in a network namespace,
#     every second (a new process each time);
#   - database rows: psql runs a 1,000-row SELECT on a throw-away
#     PostgreSQL cluster every second (a new connection each time);
#   - short-lived processes: 50 `true` a second;
#   - SIGHUP to the daemon every 10 s (output reopened, configuration read
#     again).
# Every 30 s it prints the daemon's open files, RSS and CPU time; at the end
# the exactness check: the egress bytes and the rows Vigie reported equal
# what the load did, and whether fds or RSS grew.
# Usage: tools/soak.sh [BUILD_DIR] (SOAK_MINUTES=N to change the length)
set -u
B=${1:-build}
MIN=${SOAK_MINUTES:-30}
cd "$(dirname "$0")/.."
VIGIE="$B/vigie"
TG="$B/tools/trafficgen"
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root" >&2; exit 1; }
[ -x "$VIGIE" ] && [ -x "$TG" ] || { echo "soak: build first (make)" >&2; exit 1; }

T=$(mktemp -d /tmp/vigie-soak-XXXXXX)
NS=vgsoak VH=vgsoak-h VN=vgsoak-n HOST_IP=10.213.250.1 PEER_IP=10.213.250.2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	[ -n "${PGCLUSTER_DIR:-}" ] && tests/lib/pgcluster.sh stop "$PGCLUSTER_DIR"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns del "$NS" 2>/dev/null
ip link del "$VH" 2>/dev/null
ip netns add "$NS" && ip link add "$VH" type veth peer name "$VN" && ip link set "$VN" netns "$NS" &&
	ip addr add "$HOST_IP/30" dev "$VH" && ip link set "$VH" up &&
	ip netns exec "$NS" ip addr add "$PEER_IP/30" dev "$VN" &&
	ip netns exec "$NS" ip link set "$VN" up && ip netns exec "$NS" ip link set lo up ||
	{ echo "soak: cannot make the network namespace" >&2; exit 1; }
eval "$(tests/lib/pgcluster.sh start)" || exit 1
PGSSLMODE=disable psql -X -q -c "create table t as select i, md5(i::text) h from generate_series(1, 1000) i;
	create role soak login; grant select on t to soak" || exit 1

# the sink in the namespace takes any number of connections
ip netns exec "$NS" "$TG" sink 7000 0.0.0.0 1000000 >"$T/sink.out" 2>&1 &
pids+=($!)
"$VIGIE" run -o "$T/events.json" --state "$T/state.json" 2>"$T/vigie.err" &
V=$!
pids+=($V)
for _ in $(seq 100); do grep -q sensor-start "$T/events.json" 2>/dev/null && break; sleep 0.1; done

end=$(( $(date +%s) + MIN * 60 ))
( while [ "$(date +%s)" -lt "$end" ]; do
	"$TG" send "$PEER_IP" 7000 1000000 | sed -n 's/^sent //p' >>"$T/sent"; sleep 1
  done ) &
pids+=($!)
( while [ "$(date +%s)" -lt "$end" ]; do
	PGSSLMODE=disable psql -X -q -U soak -At -o /dev/null -c "select * from t" && echo 1000 >>"$T/rows"
	sleep 1
  done ) &
pids+=($!)
( while [ "$(date +%s)" -lt "$end" ]; do for _ in $(seq 50); do /bin/true; done; sleep 1; done ) &
pids+=($!)
( while [ "$(date +%s)" -lt "$end" ]; do sleep 10; kill -HUP "$V"; done ) &
pids+=($!)

hz=$(getconf CLK_TCK)
printf '%8s %6s %10s %10s\n' minute fds rss_kb cpu_s
sample() {
	local fds rss cpu
	fds=$(ls "/proc/$V/fd" 2>/dev/null | wc -l)
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$V/status" 2>/dev/null)
	cpu=$(awk -v hz="$hz" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$V/stat" 2>/dev/null)
	echo "$fds $rss $cpu"
}
read -r fd0 rss0 _ <<<"$(sample)"
start=$(date +%s)
fd1= rss1=
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 30
	read -r fds rss cpu <<<"$(sample)"
	printf '%8.1f %6s %10s %10s\n' "$(echo "($(date +%s) - $start) / 60" | bc -l)" "$fds" "$rss" "$cpu"
	[ -z "$fd1" ] && { fd1=$fds; rss1=$rss; }
done
sleep 3
read -r fdn rssn cpun <<<"$(sample)"
kill -TERM "$V"; wait "$V"
sent=$(awk '{ s += $1 } END { print s + 0 }' "$T/sent" 2>/dev/null)
rows=$(awk '{ s += $1 } END { print s + 0 }' "$T/rows" 2>/dev/null)
seen=$(grep '"action":"usage"' "$T/events.json" | grep -c . )
# summaries and flows alike carry vigie.bytes; egress to the peer only
vbytes=$(python3 - "$T/events.json" "$PEER_IP" <<'EOF'
import json, sys
b = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event", {}).get("action") != "usage":
        continue
    v = e.get("vigie", {})
    if v.get("class") == "egress" and sys.argv[2] in e.get("related", {}).get("ip", []):
        b += v.get("bytes", 0)
print(b)
EOF
)
vrows=$(python3 - "$T/events.json" <<'EOF'
import json, sys
r = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    v = e.get("vigie", {})
    if e.get("event", {}).get("action") == "usage" and v.get("db_user") == "soak":
        r += v.get("rows") or 0
print(r)
EOF
)
echo "soak: $MIN min, $seen usage events"
echo "  open files: $fd0 at start, ${fd1:-?} after 30 s, $fdn at the end"
echo "  RSS: $rss0 kB at start, ${rss1:-?} kB after 30 s, $rssn kB at the end; CPU $cpun s"
echo "  egress to the peer: sent $sent, vigie $vbytes ($( [ "$sent" = "$vbytes" ] && echo exact || echo DIFFERS))"
echo "  rows of role soak: selected $rows, vigie $vrows ($( [ "$rows" = "$vrows" ] && echo exact || echo DIFFERS))"
grep -c '"action":"sensor-reload"' "$T/events.json" | sed 's/^/  reloads: /'
