#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Vigie in two minutes (make demo, as root):
#  1. live: a throw-away PostgreSQL with a table of job seekers; 20 advisor
#     accounts do a few lookups each, one account extracts the whole table;
#     the sensor counts rows per database account and raises the alert;
#  2. offline: a generated day of 300 advisors with the same bulk extraction
#     mixed in, replayed through the same detection;
#  3. the report of that replay, BUILD/demo-report.html (vigie report).
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (the sensor loads eBPF programs)" >&2; exit 1; }
command -v jq >/dev/null || { echo "demo: jq is needed (scripts/setup.sh installs it)" >&2; exit 1; }

T=$(mktemp -d /tmp/vigie-demo.XXXXXX)
chmod 755 "$T"
VIGIE_PID=""
cleanup() {
	[ -n "$VIGIE_PID" ] && kill "$VIGIE_PID" 2>/dev/null && wait "$VIGIE_PID" 2>/dev/null || true
	[ -n "${PGCLUSTER_DIR:-}" ] && "$ROOT/tests/lib/pgcluster.sh" stop "$PGCLUSTER_DIR" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting a throw-away PostgreSQL cluster"
eval "$("$ROOT/tests/lib/pgcluster.sh" start)"
echo "PostgreSQL on 127.0.0.1:$PGPORT (data in $PGDATA)"
# Plain connections: the rows of encrypted (TLS) ones cannot be counted,
# Vigie reports them as unknown (bytes are still counted).
export PGSSLMODE=disable
psql -q -v ON_ERROR_STOP=1 -h "$PGHOSTADDR_TCP" <<'SQL'
CREATE TABLE job_seekers (id int PRIMARY KEY, nir text, name text, city text, allowance numeric);
INSERT INTO job_seekers
  SELECT i, lpad((1000000000000 + i * 7919 % 999999999999)::text, 13, '0'),
         'Person ' || i, 'City ' || (i % 500), (i % 1500) + 400
  FROM generate_series(1, 200000) i;
DO $$ BEGIN
  FOR i IN 1..21 LOOP
    EXECUTE format('CREATE ROLE adv%s LOGIN PASSWORD %L', lpad(i::text, 4, '0'), 'demo');
    EXECUTE format('GRANT SELECT ON job_seekers TO adv%s', lpad(i::text, 4, '0'));
  END LOOP;
END $$;
SQL
echo "table job_seekers: 200,000 records; roles adv0001 .. adv0021"

say "Starting Vigie (database port $PGPORT added to the configuration)"
jq --argjson port "$PGPORT" '.databases.ports += [$port] | .sensor.usage_interval = 10' \
	examples/vigie.json >"$T/vigie.json"
"$B/vigie" run -c "$T/vigie.json" --tick 1 -o "$T/events.json" --record "$T/trace.jsonl" 2>"$T/vigie.err" &
VIGIE_PID=$!
for _ in $(seq 100); do grep -q sensor-start "$T/events.json" 2>/dev/null && break; sleep 0.1; done
jq -c 'select(.event.action == "sensor-start") | {probe_mode: .vigie.probe_mode, postgres: .vigie.postgres, classes: .vigie.classes}' "$T/events.json"

say "20 advisors look up a few job seekers each (normal use)"
for i in $(seq 1 20); do
	u=adv$(printf %04d "$i")
	PGPASSWORD=demo psql -q -h "$PGHOSTADDR_TCP" -U "$u" -d postgres -At \
		-c "SELECT * FROM job_seekers WHERE id BETWEEN $((i * 100)) AND $((i * 100 + 4))" >/dev/null
done
echo "done: 5 records each"

say "adv0021 extracts every record (the 2024 breach, in small)"
PGPASSWORD=demo psql -q -h "$PGHOSTADDR_TCP" -U adv0021 -d postgres -At \
	-c "SELECT * FROM job_seekers" >"$T/stolen.csv"
echo "adv0021 pulled $(wc -l <"$T/stolen.csv") records ($(du -h "$T/stolen.csv" | cut -f1))"

say "Waiting for the alert"
for _ in $(seq 150); do
	grep -q '"exfiltration-volume"' "$T/events.json" 2>/dev/null && break
	sleep 0.2
done
kill -TERM "$VIGIE_PID"; wait "$VIGIE_PID" || true; VIGIE_PID=""
jq -c 'select(.event.action == "exfiltration-volume") | {
	"@timestamp", severity: .event.severity, principal: .vigie.principal,
	metric: .vigie.metric, window: .vigie.window, observed: .vigie.observed,
	normal: .vigie.normal, ratio: .vigie.ratio}' "$T/events.json" | head -5
echo
echo "Rows per database account in the usage events:"
jq -r 'select(.event.action == "usage" and .vigie.db_user != null and .vigie.rows != null) |
	"\(.vigie.db_user) \(.vigie.rows)"' "$T/events.json" |
	awk '{ r[$1] += $2 } END { for (u in r) printf "  %-8s %8d rows\n", u, r[u] }' | sort

say "Offline: one generated day of 300 advisors with a bulk extraction, replayed"
"$B/tools/tracegen" -o "$T/day.jsonl.gz" --days 1 --advisors 300 --scenario bulk:0 --seed 7 2>/dev/null
"$B/vigie" replay -q -c examples/vigie.json "$T/day.jsonl.gz" >"$T/replay.json" || true
jq -c 'select(.event.action == "exfiltration-volume") | {
	"@timestamp", severity: .event.severity, principal: .vigie.principal.id,
	metric: .vigie.metric, window: .vigie.window, ratio: .vigie.ratio}' "$T/replay.json" | head -3
echo "ground truth: $(jq -c '.' "$T/day.jsonl.gz.truth.json" 2>/dev/null | head -c 300)"

say "The same replay as a report: one HTML file (vigie report)"
"$B/vigie" report -q -c examples/vigie.json -o "$B/demo-report.html" "$T/day.jsonl.gz"
chmod 644 "$B/demo-report.html" # generated data: readable by the browser of any user
echo "Report: $B/demo-report.html (open it in a browser: no script, nothing fetched)"
say "Demo done"
