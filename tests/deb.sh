#!/bin/bash
# The Debian package (make deb): lintian clean (overrides explained in
# packaging/deb/lintian-overrides), installed with dpkg, every file in place
# with its mode, the configuration a conffile, the installed sensor runs
# with the installed configuration and reloads it on SIGHUP, the unit passes systemd-analyze verify,
# reinstalling keeps an edited configuration, purging leaves nothing.
# The machine is left as found (purged on exit, even on failure).
# Ends with "deb: N passed, M failed".
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
T=$(mktemp -d)
passed=0; failed=0
check() { if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }
cleanup() { dpkg --purge vigie >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

if dpkg-query -W -f='${Status}' vigie 2>/dev/null | grep -q installed; then
	echo "deb: a vigie package is installed already; not touching it"
	echo "deb: 0 passed, 1 failed"
	exit 1
fi
deb=$(make --no-print-directory -s deb OUTPUT="$B" 2>"$T/mk.err" | tail -1)
test -f "$deb"; check "make deb builds $(basename "${deb:-none}")" $?
if command -v lintian >/dev/null 2>&1; then
	lintian --tag-display-limit 0 "$deb" >"$T/lintian" 2>&1
	! grep -E '^[EW]: ' "$T/lintian"; check "lintian: no error, no warning" $?
fi
dpkg-deb -f "$deb" Depends | grep -q "libbpf1"; check "Depends names libbpf1" $?
dpkg -i "$deb" >"$T/dpkg" 2>&1; check "dpkg -i" $?
for f in /usr/sbin/vigie /lib/systemd/system/vigie.service /usr/share/man/man8/vigie.8.gz \
	/etc/vigie/vigie.json /etc/logrotate.d/vigie /usr/share/doc/vigie/copyright \
	/usr/share/doc/vigie/README.md.gz /usr/share/doc/vigie/containment.md.gz /usr/share/doc/vigie/top.md.gz /usr/share/doc/vigie/report.md.gz; do
	test -f "$f"; check "installed $f" $?
done
test "$(stat -c %a /etc/vigie/vigie.json)" = 600; check "configuration is mode 0600" $?
test "$(stat -c %a /var/lib/vigie)" = 700; check "state directory /var/lib/vigie is 0700" $?
test "$(stat -c %a /var/log/vigie)" = 750; check "log directory /var/log/vigie is 0750" $?
dpkg-query --control-show vigie conffiles 2>/dev/null | grep -q '^/etc/vigie/vigie.json'
check "the configuration is a conffile" $?
grep -q '^ExecStart=/usr/sbin/vigie run -c /etc/vigie/vigie.json .*--state /var/lib/vigie/state.json' \
	/lib/systemd/system/vigie.service
check "the unit runs the installed binary, configuration and state" $?
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify /lib/systemd/system/vigie.service >"$T/verify" 2>&1
	! grep -qi "unknown\|invalid\|error" "$T/verify"; check "systemd-analyze verify finds nothing wrong" $?
fi
/usr/sbin/vigie run -c /etc/vigie/vigie.json --duration 2 -o "$T/events.json" --state "$T/state.json" \
	2>"$T/run.err"
check "the installed sensor runs with the installed configuration" $?
grep -q '"sensor-start"' "$T/events.json" && grep -q '"sensor-stop"' "$T/events.json"
check "it wrote sensor-start and sensor-stop" $?
# systemctl reload: SIGHUP reads the installed configuration again
/usr/sbin/vigie run -c /etc/vigie/vigie.json -o "$T/reload.json" --state "$T/state2.json" \
	2>"$T/reload.err" &
pid=$!
for _ in $(seq 50); do grep -q '"sensor-start"' "$T/reload.json" 2>/dev/null && break; sleep 0.2; done
kill -HUP $pid
for _ in $(seq 50); do grep -q '"sensor-reload"' "$T/reload.json" 2>/dev/null && break; sleep 0.2; done
kill -TERM $pid; wait $pid
check "the installed sensor stops cleanly after a reload" $?
test "$(grep -c '"action":"sensor-reload".*"outcome":"success".*"restart_needed":\[\]' "$T/reload.json")" = 1
check "one sensor-reload, success, nothing to restart (the same file)" $?
# the unit lets the sensor reach a syslog collector and serve metrics
grep -q '^RestrictAddressFamilies=.*AF_INET .*AF_INET6' /lib/systemd/system/vigie.service &&
	! grep -q '^PrivateNetwork=yes' /lib/systemd/system/vigie.service
check "the unit allows TCP/UDP (sensor.syslog, sensor.metrics_listen) on the host's network" $?
# the hardened unit started, reloaded and stopped by systemd, where it runs
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
	systemctl daemon-reload
	systemctl start vigie; check "systemctl start vigie (Type=notify: ready once attached)" $?
	systemctl is-active -q vigie; check "the service is active" $?
	grep -q '"sensor-start"' /var/log/vigie/events.json; check "it wrote sensor-start" $?
	systemctl reload vigie; sleep 1
	grep -q '"sensor-reload"' /var/log/vigie/events.json; check "systemctl reload: sensor-reload" $?
	systemctl stop vigie; check "systemctl stop vigie" $?
	grep -q '"sensor-stop"' /var/log/vigie/events.json; check "it wrote sensor-stop" $?
	test -f /var/lib/vigie/state.json; check "the learned state saved in /var/lib/vigie" $?
else
	echo "skip the unit under systemd: systemd is not PID 1 here (verified above, not started)"
fi
# an operator's edit survives a reinstall (an upgrade over itself)
sed -i 's/"heartbeat": 60/"heartbeat": 30/' /etc/vigie/vigie.json
dpkg -i "$deb" >"$T/dpkg2" 2>&1; check "dpkg -i again (upgrade over itself)" $?
grep -q '"heartbeat": 30' /etc/vigie/vigie.json; check "the edited configuration is kept" $?
dpkg --purge vigie >"$T/purge" 2>&1; check "dpkg --purge" $?
left=0
for f in /usr/sbin/vigie /etc/vigie /var/lib/vigie /var/log/vigie /lib/systemd/system/vigie.service \
	/etc/logrotate.d/vigie; do
	[ -e "$f" ] && { echo "     left: $f"; left=1; }
done
check "nothing left after purge" $left
echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
