#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Throw-away PostgreSQL cluster for tests (Debian's postgresql package).
#
#   eval "$(tests/lib/pgcluster.sh start)"       # prints export lines
#   trap 'tests/lib/pgcluster.sh stop "$PGCLUSTER_DIR"' EXIT
#   psql -c 'select 1'                            # PGHOST/PGPORT/PGUSER set
#   tests/lib/pgcluster.sh stop "$PGCLUSTER_DIR"  # stops, removes everything
#
# start: initdb into a new temporary directory (as the "postgres" user when
# run as root, since initdb refuses root), listen on 127.0.0.1 on a free
# port and on a unix socket in that directory, with TLS on as Debian's
# pg_createcluster turns it on (the snakeoil certificate, made with
# make-ssl-cert if missing; else a self-signed one); libpq clients then
# use TLS over TCP unless they set sslmode. The
# printed variables: PGCLUSTER_DIR PGDATA PGHOST (the socket directory)
# PGHOSTADDR_TCP (127.0.0.1) PGPORT PGUSER PGDATABASE PGCLUSTER_SSL (0/1)
# PGCLUSTER_BIN. Progress and errors go to stderr; exit 1 on failure (with
# everything already removed). PGCLUSTER_LISTEN: its listen_addresses
# (default 127.0.0.1; empty: the unix socket only).
# stop DIR: immediate shutdown and rm -rf DIR (only a directory this script
# created: it must hold a .pgcluster marker). Safe to call twice.
set -u

die() { echo "pgcluster: $*" >&2; exit 1; }

find_bin() {
	for d in ${PGCLUSTER_BIN:-} /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	return 1
}

# Run a command as the cluster owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$OWNER" -- "$@"
	else
		"$@"
	fi
}

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

do_stop() {
	dir=${1:-${PGCLUSTER_DIR:-}}
	[ -n "$dir" ] || die "stop: no directory given"
	[ -d "$dir" ] || return 0
	[ -f "$dir/.pgcluster" ] || die "stop: $dir was not made by pgcluster.sh"
	bin=$(cat "$dir/.pgcluster")
	if [ -f "$dir/data/postmaster.pid" ]; then
		OWNER=$(stat -c %U "$dir/data")
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || {
			pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null)
			[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
			sleep 0.2
		}
	fi
	rm -rf "$dir"
}

do_start() {
	bin=$(find_bin) || die "no PostgreSQL server binaries (apt-get install postgresql)"
	if [ "$(id -u)" -eq 0 ]; then
		OWNER=postgres
		id "$OWNER" >/dev/null 2>&1 || die "user postgres missing (apt-get install postgresql)"
	else
		OWNER=$(id -un)
	fi
	dir=$(mktemp -d /tmp/vigie-pg.XXXXXX) || die "mktemp failed"
	echo "$bin" >"$dir/.pgcluster"
	trap 'do_stop "$dir" 2>/dev/null; exit 1' INT TERM
	mkdir "$dir/sock"
	chmod 755 "$dir"
	[ "$OWNER" = "$(id -un)" ] || chown "$OWNER" "$dir" "$dir/sock"

	if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		do_stop "$dir"
		die "initdb failed"
	fi

	# TLS as a stock Debian server has it: the ssl-cert package's snakeoil
	# certificate (made here if missing, as its set-up normally does), the
	# settings pg_createcluster writes, the server's user in group
	# ssl-cert; else a self-signed certificate of the cluster's own
	ssl=0 cert= key=
	snake_crt=/etc/ssl/certs/ssl-cert-snakeoil.pem snake_key=/etc/ssl/private/ssl-cert-snakeoil.key
	if [ ! -e "$snake_crt" ] && command -v make-ssl-cert >/dev/null 2>&1; then
		make-ssl-cert generate-default-snakeoil >/dev/null 2>&1
	fi
	if [ -e "$snake_crt" ] && as_owner test -r "$snake_key"; then
		cert=$snake_crt key=$snake_key ssl=1
	elif command -v openssl >/dev/null 2>&1 &&
		openssl req -new -x509 -days 2 -nodes -subj /CN=localhost \
			-newkey rsa:2048 -keyout "$dir/data/server.key" \
			-out "$dir/data/server.crt" >/dev/null 2>&1; then
		chown "$OWNER" "$dir/data/server.key" "$dir/data/server.crt"
		chmod 600 "$dir/data/server.key"
		cert=server.crt key=server.key ssl=1
	fi
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '${PGCLUSTER_LISTEN-127.0.0.1}'
unix_socket_directories = '$dir/sock'
max_connections = 100
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
logging_collector = off
EOF
	if [ "$ssl" -eq 1 ]; then
		printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$cert" "$key" \
			>>"$dir/data/postgresql.conf"
	fi

	tries=0
	while :; do
		tries=$((tries + 1))
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
		port_free "$port" || continue
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-p $port" start >/dev/null 2>&1; then
			break
		fi
		if [ "$tries" -ge 5 ]; then
			tail -20 "$dir/server.log" >&2
			do_stop "$dir"
			die "server did not start"
		fi
	done
	cat <<EOF
export PGCLUSTER_DIR='$dir'
export PGCLUSTER_BIN='$bin'
export PGDATA='$dir/data'
export PGHOST='$dir/sock'
export PGHOSTADDR_TCP='127.0.0.1'
export PGPORT='$port'
export PGUSER='postgres'
export PGDATABASE='postgres'
export PGCLUSTER_SSL='$ssl'
EOF
}

case "${1:-}" in
start) do_start ;;
stop) do_stop "${2:-}" ;;
*) die "usage: $0 start | stop DIR" ;;
esac
