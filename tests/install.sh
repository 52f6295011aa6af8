#!/bin/bash
# make install into a scratch DESTDIR: every file in place, the unit
# hardened and pointing at the installed binary, the man page renders, the
# installed example configuration is valid. Ends with "install: N passed, M failed".
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
passed=0; failed=0
check() { if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }

make --no-print-directory -s install OUTPUT="$B" DESTDIR="$D" PREFIX=/usr >"$D/log" 2>&1
check "make install DESTDIR=... PREFIX=/usr" $?
for f in usr/sbin/vigie usr/share/man/man8/vigie.8 lib/systemd/system/vigie.service \
	etc/vigie/vigie.json etc/logrotate.d/vigie usr/share/doc/vigie/README.md usr/share/doc/vigie/containment.md usr/share/doc/vigie/top.md usr/share/doc/vigie/report.md; do
	test -f "$D/$f"; check "installed $f" $?
done
test "$(stat -c %a "$D/etc/vigie/vigie.json")" = 600; check "configuration is mode 0600" $?
grep -q '^ExecStart=/usr/sbin/vigie run -c /etc/vigie/vigie.json' "$D/lib/systemd/system/vigie.service"
check "unit runs the installed binary with the installed configuration" $?
for key in Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
	PrivateTmp=yes UMask=0077 RestartPreventExitStatus=2; do
	grep -q "^$key" "$D/lib/systemd/system/vigie.service"; check "unit has $key" $?
done
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/sbin/vigie|$D/usr/sbin/vigie|" "$D/lib/systemd/system/vigie.service" >"$D/vigie.service"
	systemd-analyze verify "$D/vigie.service" >"$D/verify" 2>&1
	! grep -qi "unknown\|invalid\|error" "$D/verify"; check "systemd-analyze verify finds nothing wrong" $?
fi
MANWIDTH=80 man -l "$D/usr/share/man/man8/vigie.8" 2>/dev/null | grep -q "vigie replay"
check "man page renders" $?
"$D/usr/sbin/vigie" --check-config -c "$D/etc/vigie/vigie.json" >/dev/null 2>&1
check "installed configuration is valid" $?
echo 'keep me' >"$D/etc/vigie/vigie.json"
make --no-print-directory -s install OUTPUT="$B" DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
test "$(cat "$D/etc/vigie/vigie.json")" = "keep me"; check "reinstall keeps an edited configuration" $?
make --no-print-directory -s uninstall OUTPUT="$B" DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
test ! -e "$D/usr/sbin/vigie"; check "make uninstall removes the binary" $?
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
