#!/usr/bin/env bash
# Find or start a PostgreSQL server and print a libpq URL of a *server admin*
# connection (user postgres, database postgres) on stdout -- one line, nothing
# else. Every diagnostic goes to stderr.
#
#   scripts/pg.sh          find or start, print the admin URL
#   scripts/pg.sh stop     stop the project-private cluster if it is running
#   scripts/pg.sh status   report the project-private cluster's state (stderr)
#
# Order of preference:
#   1. $DATABASE_URL, printed unchanged;
#   2. a PostgreSQL accepting connections as user postgres on 127.0.0.1:5432;
#   3. a project-private cluster under <repo>/.data/pg (or $PG_DATA_DIR),
#      created and started with the installed PostgreSQL server binaries
#      (installed with apt-get when missing and running as root).
#
# Environment:
#   DATABASE_URL      if set, printed as is (nothing is probed or started)
#   PG_SKIP_DEFAULT=1 skip the 127.0.0.1:5432 probe, go straight to the
#                     private cluster (used to test that branch)
#   PG_PRIVATE_PORT   port of the private cluster (default 54329)
#   PG_DATA_DIR       data directory of the private cluster (default
#                     <repo>/.data/pg), so that a tool can run a cluster of its
#                     own (make chaos restarts one). Its parent directory holds
#                     the cluster's log, socket directory and lock, and as root
#                     is handed to the postgres user: give it a directory of
#                     its own, e.g. <repo>/.data/chaos/pg.
#   PG_BINDIR         directory holding initdb/pg_ctl/postgres (default:
#                     pg_config --bindir, else the highest
#                     /usr/lib/postgresql/*/bin, else $PATH)
#
# As root, initdb and postgres refuse to run: they run as the `postgres` user
# (runuser), which then owns .data/ and needs search (x) permission on every
# directory above it.
set -euo pipefail

# Keep the real stdout on fd 3 for the URL; everything else goes to stderr.
# Children that may outlive us (postgres, apt's service starts) must not
# inherit fd 3 (or the lock on fd 9): see detach().
exec 3>&1 1>&2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PGDATA_DIR="${PG_DATA_DIR:-$ROOT/.data/pg}"
# Commands run as the owner cd to /, so a relative directory would move.
case "$PGDATA_DIR" in
/*) ;;
*) PGDATA_DIR="$PWD/$PGDATA_DIR" ;;
esac
DATA="$(dirname "$PGDATA_DIR")"
SOCK_DIR="$DATA/run"
LOG_FILE="$DATA/pg.log"
LOCK_FILE="$DATA/pg.lock"
PORT="${PG_PRIVATE_PORT:-54329}"
DEFAULT_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
WAIT_SECONDS=15

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command with fds 3 (our stdout) and 9 (the lock) closed, so that a
# daemon it leaves behind neither keeps a `$(scripts/pg.sh)` waiting nor
# holds the lock.
detach() { "$@" 3>&- 9>&-; }

# Run a command as the cluster owner: the postgres user when we are root,
# ourselves otherwise. cd / so that postgres never sits in an unreadable cwd.
as_owner() {
	if is_root; then
		if command -v runuser >/dev/null 2>&1; then
			(cd / && detach runuser -u postgres -- "$@")
		else
			local cmd
			cmd="$(printf '%q ' "$@")"
			(cd / && detach su -s /bin/sh postgres -c "$cmd")
		fi
	else
		detach "$@"
	fi
}

private_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$1"; }

emit() {
	printf '%s\n' "$1" >&3
	exit 0
}

# ---------------------------------------------------------------- probing

# Does something accept TCP connections on host:port?
reachable() {
	local host="$1" port="$2"
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -h "$host" -p "$port" -U postgres -d postgres -t 3 -q
	else
		(exec 9<>"/dev/tcp/$host/$port") 2>/dev/null
	fi
}

# Can we log in as postgres without a password prompt? Only checkable with
# psql; without it, reachability has to do.
can_login() {
	local url="$1"
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql -X -w -q -At -d "$url" -c 'select 1' >/dev/null 2>&1
	else
		return 0
	fi
}

# ---------------------------------------------------------------- binaries

has_server_bins() {
	[ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]
}

# Prints the directory holding the server binaries, or fails.
find_bindir() {
	local d want=""
	if [ -n "${PG_BINDIR:-}" ]; then
		has_server_bins "$PG_BINDIR" || return 1
		printf '%s\n' "$PG_BINDIR"
		return 0
	fi
	# An existing cluster wants the major version that created it.
	if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
		want="$(cat "$PGDATA_DIR/PG_VERSION")"
		if has_server_bins "/usr/lib/postgresql/$want/bin"; then
			printf '%s\n' "/usr/lib/postgresql/$want/bin"
			return 0
		fi
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir 2>/dev/null || true)"
		if [ -n "$d" ] && has_server_bins "$d"; then
			printf '%s\n' "$d"
			return 0
		fi
	fi
	d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)"
	if [ -n "$d" ] && has_server_bins "$d"; then
		printf '%s\n' "$d"
		return 0
	fi
	d="$(find /usr -maxdepth 2 -path '/usr/pgsql-*/bin' -type d 2>/dev/null | sort -V | tail -n 1 || true)"
	if [ -n "$d" ] && has_server_bins "$d"; then
		printf '%s\n' "$d"
		return 0
	fi
	if command -v initdb >/dev/null 2>&1; then
		d="$(dirname "$(command -v initdb)")"
		if has_server_bins "$d"; then
			printf '%s\n' "$d"
			return 0
		fi
	fi
	return 1
}

install_server() {
	if ! is_root; then
		log "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found."
		log "Install them, e.g.:"
		log "  Debian/Ubuntu: sudo apt-get install -y postgresql"
		log "  Fedora/RHEL:   sudo dnf install -y postgresql-server"
		log "  macOS:         brew install postgresql@16"
		log "or point PG_BINDIR at them, or set DATABASE_URL to an existing server."
		exit 1
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "PostgreSQL server binaries not found and apt-get is unavailable: install PostgreSQL, or set PG_BINDIR or DATABASE_URL"
	log "installing PostgreSQL server with apt-get (this takes a minute) ..."
	export DEBIAN_FRONTEND=noninteractive
	if ! detach apt-get install -y --no-install-recommends postgresql </dev/null; then
		log "apt-get install failed; running apt-get update and retrying"
		detach apt-get update </dev/null
		detach apt-get install -y --no-install-recommends postgresql </dev/null
	fi
}

pg_major() { "$1/pg_ctl" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/'; }

# ---------------------------------------------------------------- cluster

ensure_pg_user() {
	is_root || return 0
	id -u postgres >/dev/null 2>&1 && return 0
	log "creating system user postgres"
	useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
		--shell /bin/bash postgres
}

# As root, the postgres user owns .data and must be able to reach it.
prepare_ownership() {
	is_root || return 0
	find "$DATA" ! -user postgres -exec chown postgres: {} +
	if as_owner test -x "$DATA" -a -w "$DATA"; then
		return 0
	fi
	local d="$DATA" dirs=()
	while [ "$d" != "/" ]; do
		d="$(dirname "$d")"
		dirs=("$d" "${dirs[@]}")
	done
	for d in "${dirs[@]}"; do
		if ! as_owner test -x "$d"; then
			log "granting search permission on $d (chmod o+x) so that user postgres can reach $DATA"
			chmod o+x "$d"
		fi
	done
	as_owner test -x "$DATA" -a -w "$DATA" ||
		die "user postgres still cannot write $DATA; move the repository or set DATABASE_URL"
}

pick_locale() {
	if command -v locale >/dev/null 2>&1 && locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		printf 'C.UTF-8\n'
	else
		printf 'C\n'
	fi
}

init_cluster() {
	local bindir="$1"
	if [ -d "$PGDATA_DIR" ] && [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		log "removing half-initialized $PGDATA_DIR"
		rm -rf "$PGDATA_DIR"
	fi
	log "initializing a private cluster in $PGDATA_DIR"
	as_owner touch "$LOG_FILE"
	if ! as_owner "$bindir/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 \
		--locale="$(pick_locale)" >>"$LOG_FILE" 2>&1; then
		tail -n 20 "$LOG_FILE" >&2 || true
		rm -rf "$PGDATA_DIR"
		die "initdb failed (log: $LOG_FILE)"
	fi
	printf "\n# Added by scripts/pg.sh: port, addresses, sockets, tuning.\ninclude_if_exists = 'riskgraph.conf'\n" |
		as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# Rewritten before every start, so PG_PRIVATE_PORT changes take effect.
write_conf() {
	local sockets="$SOCK_DIR"
	# A Unix socket path is limited to 107 bytes: go TCP-only if too deep.
	if [ $((${#SOCK_DIR} + 15)) -gt 107 ]; then
		log "socket path too long, disabling Unix sockets (TCP only)"
		sockets=""
	fi
	as_owner mkdir -p "$SOCK_DIR"
	as_owner tee "$PGDATA_DIR/riskgraph.conf" >/dev/null <<EOF
# Written by scripts/pg.sh before every start; do not edit.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = $(conf_quote "$sockets")
max_connections = 200
EOF
}

running_port() {
	# postmaster.pid line 4 is the port the running server listens on.
	sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true
}

is_running() {
	local bindir="$1"
	[ -f "$PGDATA_DIR/postmaster.pid" ] || return 1
	as_owner "$bindir/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

wait_ready() {
	local bindir="$1" port="$2" i
	for ((i = 0; i < WAIT_SECONDS * 4; i++)); do
		if [ -x "$bindir/pg_isready" ]; then
			"$bindir/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 1 -q 3>&- 9>&- && return 0
		else
			reachable 127.0.0.1 "$port" && return 0
		fi
		sleep 0.25
	done
	return 1
}

lock_data() {
	mkdir -p "$DATA"
	if command -v flock >/dev/null 2>&1; then
		exec 9>>"$LOCK_FILE"
		flock -w 120 9 || die "timed out waiting for the lock $LOCK_FILE"
	fi
}

start_private() {
	[[ "$PORT" =~ ^[0-9]+$ ]] || die "PG_PRIVATE_PORT must be a number, got '$PORT'"
	if [ -n "${PG_BINDIR:-}" ] && ! has_server_bins "$PG_BINDIR"; then
		die "PG_BINDIR=$PG_BINDIR lacks initdb/pg_ctl/postgres"
	fi
	local bindir
	if ! bindir="$(find_bindir)"; then
		install_server
		bindir="$(find_bindir)" || die "PostgreSQL server binaries still not found after installing"
	fi
	log "using PostgreSQL server binaries in $bindir"

	lock_data
	ensure_pg_user
	prepare_ownership

	if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
		local have want
		have="$(cat "$PGDATA_DIR/PG_VERSION")"
		want="$(pg_major "$bindir")"
		[ "$have" = "$want" ] ||
			die "$PGDATA_DIR was created by PostgreSQL $have but the binaries in $bindir are $want; remove $PGDATA_DIR or set PG_BINDIR"
	else
		init_cluster "$bindir"
	fi

	if is_running "$bindir"; then
		local port
		port="$(running_port)"
		port="${port:-$PORT}"
		[ "$port" = "$PORT" ] ||
			log "note: the private cluster is running on port $port, not PG_PRIVATE_PORT=$PORT (scripts/pg.sh stop to restart it)"
		wait_ready "$bindir" "$port" || die "private cluster on port $port is not accepting connections (log: $LOG_FILE)"
		emit "$(private_url "$port")"
	fi

	write_conf
	log "starting private cluster on 127.0.0.1:$PORT (log: $LOG_FILE)"
	if ! as_owner "$bindir/pg_ctl" start -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t "$WAIT_SECONDS" </dev/null; then
		tail -n 20 "$LOG_FILE" >&2 || true
		die "could not start the private cluster (port $PORT taken? set PG_PRIVATE_PORT; log: $LOG_FILE)"
	fi
	wait_ready "$bindir" "$PORT" || die "private cluster did not accept connections within ${WAIT_SECONDS}s (log: $LOG_FILE)"
	emit "$(private_url "$PORT")"
}

stop_private() {
	if [ ! -f "$PGDATA_DIR/postmaster.pid" ]; then
		log "private cluster is not running"
		return 0
	fi
	local bindir pid i
	if bindir="$(find_bindir)"; then
		if ! is_running "$bindir"; then
			log "private cluster is not running"
			return 0
		fi
		log "stopping private cluster in $PGDATA_DIR"
		as_owner "$bindir/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 </dev/null
		return 0
	fi
	# No pg_ctl any more: SIGINT is PostgreSQL's "fast shutdown".
	pid="$(head -n 1 "$PGDATA_DIR/postmaster.pid")"
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		log "stopping private cluster (pid $pid)"
		kill -INT "$pid"
		for ((i = 0; i < 240; i++)); do
			kill -0 "$pid" 2>/dev/null || return 0
			sleep 0.25
		done
		die "postgres (pid $pid) did not stop within 60s"
	fi
	log "private cluster is not running"
}

status_private() {
	local bindir
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		log "no private cluster in $PGDATA_DIR"
	elif bindir="$(find_bindir)" && is_running "$bindir"; then
		log "private cluster running on 127.0.0.1:$(running_port) ($PGDATA_DIR)"
	else
		log "private cluster in $PGDATA_DIR is stopped"
	fi
}

# ---------------------------------------------------------------- main

case "${1:-start}" in
start) ;;
stop)
	stop_private
	exit 0
	;;
status)
	status_private
	exit 0
	;;
-h | --help | help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 0
	;;
*) die "unknown command '$1' (usage: scripts/pg.sh [start|stop|status])" ;;
esac

if [ -n "${DATABASE_URL:-}" ]; then
	emit "$DATABASE_URL"
fi

if [ "${PG_SKIP_DEFAULT:-}" != "1" ]; then
	if reachable 127.0.0.1 5432; then
		if can_login "$DEFAULT_URL"; then
			emit "$DEFAULT_URL"
		fi
		log "a server listens on 127.0.0.1:5432 but refuses user postgres without a password; using a private cluster"
	fi
fi

start_private
