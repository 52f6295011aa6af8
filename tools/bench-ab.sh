#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Side by side: the BPF time per pgbench -S transaction of several vigie
# builds (sock mode), started alternately on one throw-away cluster, so that
# the machine's drift weighs on each alike. A benchmark: it prints, it
# decides nothing. Root; bpftool, jq, PostgreSQL 15 and pgbench.
#   tools/bench-ab.sh ROUNDS SECONDS NAME=PATH/TO/vigie [NAME=PATH...]
# e.g. tools/bench-ab.sh 4 4 old=/tmp/old/build/vigie new=build/vigie
# One line per round and build: us of BPF per transaction, then each
# program's runs per transaction and ns per run.
set -u
[ $# -ge 3 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-ab: needs root" >&2; exit 1; }
R=$1 S=$2; shift 2
T=$(mktemp -d /tmp/bench-ab.XXXX); chown postgres: $T
trap 'sysctl -qw kernel.bpf_stats_enabled=0; runuser -u postgres -- $PGBIN/pg_ctl -D $T/data -m immediate -w stop >/dev/null 2>&1; rm -rf $T' EXIT
PGBIN=/usr/lib/postgresql/15/bin PORT=55433
runuser -u postgres -- $PGBIN/initdb -D $T/data -A trust -U postgres --no-sync >/dev/null 2>&1
runuser -u postgres -- $PGBIN/pg_ctl -D $T/data -l $T/log -w -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$T -c fsync=off -c synchronous_commit=off" start >/dev/null
pgbench -i -q -s 5 -h 127.0.0.1 -p $PORT -U postgres postgres >/dev/null 2>&1
printf '{"databases": {"ports": [5432, %d]}}\n' $PORT > $T/v.json
pgbench -n -S -c 8 -j 2 -T 3 -h 127.0.0.1 -p $PORT -U postgres postgres >/dev/null 2>&1
for ((r=0;r<R;r++)); do
 for nv in "$@"; do
  n=${nv%%=*} v=${nv#*=}
  rm -f $T/o.json
  $v run --probes sock -c $T/v.json -o $T/o.json 2>$T/v.err & vp=$!
  for i in $(seq 100); do grep -q sensor-start $T/o.json 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  ids=$(for f in /proc/$vp/fdinfo/*; do sed -n 's/^prog_id:[[:space:]]*//p' $f 2>/dev/null; done | sort -un | paste -sd, -)
  sysctl -qw kernel.bpf_stats_enabled=1
  bpftool prog show -j | jq -c --argjson ids "[$ids]" '[.[] | select(.id as $i | $ids | index($i)) | {id,name,ns:(.run_time_ns//0),cnt:(.run_cnt//0)}]' > $T/a.json
  pgbench -n -S -c 8 -j 2 -T $S -h 127.0.0.1 -p $PORT -U postgres postgres > $T/pgb.log 2>&1
  bpftool prog show -j | jq -c --argjson ids "[$ids]" '[.[] | select(.id as $i | $ids | index($i)) | {id,name,ns:(.run_time_ns//0),cnt:(.run_cnt//0)}]' > $T/b.json
  sysctl -qw kernel.bpf_stats_enabled=0
  kill -INT $vp; wait $vp
  txn=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' $T/pgb.log)
  jq -r -n --slurpfile a $T/a.json --slurpfile b $T/b.json '($a[0]|map({key:(.id|tostring),value:.})|from_entries) as $x | $b[0][] | . as $p | ($x[$p.id|tostring]//{ns:0,cnt:0}) as $q | "\($p.name) \($p.cnt-$q.cnt) \($p.ns-$q.ns)"' |
   awk -v n=$n -v r=$r -v t=$txn '$2>=1000 {tot+=$3; d=d sprintf(" %s %.2f/txn %.0fns;", $1, $2/t, $3/$2)} END {printf "%d %-6s %.3f us/txn:%s\n", r, n, tot/t/1000, d}'
 done
done
