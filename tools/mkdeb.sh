#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/mkdeb.sh BUILD_DIR: build BUILD_DIR/vigie_VERSION_ARCH.deb with
# dpkg-deb from a staged tree (`make deb`): the binary, the unit, the man
# page, the installed configuration (a conffile, 0600), the logrotate rule,
# copyright and changelog; maintainer scripts create /var/lib/vigie and
# /var/log/vigie. Depends computed from the libraries the binary links.
set -eu -o pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
version=$(sed -n 's/^#define VIGIE_VERSION "\(.*\)"/\1/p' user/base/event.h)
arch=$(dpkg --print-architecture)
stage=$B/deb/vigie_${version}_$arch
out=$B/vigie_${version}_$arch.deb
rm -rf "$stage"
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/sbin" "$stage/lib/systemd/system" \
	"$stage/usr/share/man/man8" "$stage/etc/vigie" "$stage/etc/logrotate.d" \
	"$stage/usr/share/doc/vigie" "$stage/usr/share/lintian/overrides"
install -m 0755 "$B/vigie" "$stage/usr/sbin/vigie"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/vigie"
sed 's|@SBINDIR@|/usr/sbin|g; s|@SYSCONFDIR@|/etc|g' packaging/vigie.service \
	>"$stage/lib/systemd/system/vigie.service"
chmod 0644 "$stage/lib/systemd/system/vigie.service"
gzip -9n <packaging/vigie.8 >"$stage/usr/share/man/man8/vigie.8.gz"
install -m 0600 packaging/vigie.json "$stage/etc/vigie/vigie.json"
install -m 0644 packaging/vigie.logrotate "$stage/etc/logrotate.d/vigie"
install -m 0644 packaging/deb/copyright "$stage/usr/share/doc/vigie/copyright"
# the documents the man page names, compressed as Debian's policy asks
for doc in README.md docs/containment.md docs/top.md docs/report.md; do
	gzip -9n <"$doc" >"$stage/usr/share/doc/vigie/$(basename "$doc").gz"
done
install -m 0644 packaging/deb/lintian-overrides "$stage/usr/share/lintian/overrides/vigie"
{
	echo "vigie ($version) unstable; urgency=medium"
	echo
	echo "  * Package built from the Vigie tree (see README.md)."
	echo
	echo " -- Vigie developers <vigie@localhost>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$stage/usr/share/doc/vigie/changelog.gz"
# Depends: the package of each library the binary links, at least its version
deps=""
for lib in $(ldd "$B/vigie" | awk '$3 ~ /^\// {print $3}'); do
	real=$(realpath "$lib")
	pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) ||
		pkg=$(dpkg -S "/usr$real" 2>/dev/null | head -1 | cut -d: -f1) || true
	[ -n "$pkg" ] || pkg=$(dpkg -S "${real#/usr}" 2>/dev/null | head -1 | cut -d: -f1) || true
	[ -n "$pkg" ] || { echo "mkdeb: no package owns $real" >&2; exit 1; }
	ver=$(dpkg-query -W -f='${Version}' "$pkg")
	case " $deps " in *" $pkg "*) continue ;; esac
	deps="$deps $pkg (>= ${ver%-*}),"
done
deps=$(echo "$deps" | sed 's/^ //; s/,$//; s/, / /g; s/) /), /g')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: vigie
Version: $version
Architecture: $arch
Maintainer: Vigie developers <vigie@localhost>
Installed-Size: $size
Depends: $deps
Section: admin
Priority: optional
Homepage: https://localhost/vigie
Description: eBPF sensor of data exfiltration from database servers
 Vigie counts, per process and per user, database reads (rows and bytes a
 database server sends, data files read) and network egress with eBPF,
 learns each account's normal volume, and writes newline-delimited JSON
 events (Elastic Common Schema) that a SIEM ingests: usage summaries and
 alerts naming who extracts far more than usual.
CONTROL
printf "/etc/vigie/vigie.json\n/etc/logrotate.d/vigie\n" >"$stage/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "$out"
