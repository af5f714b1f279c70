#!/usr/bin/env bash
# Usage: scripts/ensure-db.sh ADMIN_URL DBNAME
#
# Creates database DBNAME through the server admin connection ADMIN_URL
# (as printed by scripts/pg.sh) unless it exists, then prints on stdout the
# same URL pointing at DBNAME (path replaced, query string kept). Keyword/value
# connection strings ("host=... dbname=...") get their dbname replaced.
# Diagnostics go to stderr. Needs psql: installs Debian's postgresql-client
# when missing and running as root.
set -euo pipefail

log() { printf 'ensure-db.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ $# -eq 2 ] || die "usage: scripts/ensure-db.sh ADMIN_URL DBNAME"
ADMIN_URL="$1"
DB="$2"
[ -n "$ADMIN_URL" ] || die "empty ADMIN_URL"
[[ "$DB" =~ ^[A-Za-z_][A-Za-z0-9_-]{0,62}$ ]] ||
	die "invalid database name '$DB' (letters, digits, _ and -; at most 63 characters)"

find_psql() {
	local d
	if command -v psql >/dev/null 2>&1; then
		command -v psql
		return 0
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir 2>/dev/null || true)"
		if [ -n "$d" ] && [ -x "$d/psql" ]; then
			printf '%s\n' "$d/psql"
			return 0
		fi
	fi
	d="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/psql' 2>/dev/null | sort -V | tail -n 1 || true)"
	if [ -n "$d" ] && [ -x "$d" ]; then
		printf '%s\n' "$d"
		return 0
	fi
	return 1
}

if ! PSQL="$(find_psql)"; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "psql not found: installing postgresql-client with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		if ! apt-get install -y --no-install-recommends postgresql-client </dev/null >&2; then
			apt-get update </dev/null >&2
			apt-get install -y --no-install-recommends postgresql-client </dev/null >&2
		fi
		PSQL="$(find_psql)" || die "psql still not found after installing postgresql-client"
	else
		die "psql is required: install the PostgreSQL client (Debian/Ubuntu: sudo apt-get install -y postgresql-client; macOS: brew install libpq)"
	fi
fi

# psql interpolates :'db' / :"db" only in scripts read from stdin, not in -c.
admin_psql() {
	PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}" "$PSQL" -X -w -q -At \
		-v ON_ERROR_STOP=1 -v db="$DB" -d "$ADMIN_URL"
}

db_exists() {
	local out
	out="$(admin_psql <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
	)" || die "cannot query the server through the admin URL"
	[ "$out" = "1" ]
}

if ! db_exists; then
	log "creating database $DB"
	if ! admin_psql >&2 <<'SQL'; then
CREATE DATABASE :"db";
SQL
		# Lost a race with a concurrent creator? Then all is well.
		db_exists || die "could not create database $DB"
	fi
fi

# Print ADMIN_URL pointing at DB.
case "$ADMIN_URL" in
postgres://* | postgresql://*)
	scheme="${ADMIN_URL%%://*}"
	rest="${ADMIN_URL#*://}"
	query=""
	if [[ "$rest" == *\?* ]]; then
		query="?${rest#*\?}"
		rest="${rest%%\?*}"
	fi
	authority="${rest%%/*}"
	printf '%s://%s/%s%s\n' "$scheme" "$authority" "$DB" "$query"
	;;
*)
	# keyword/value form
	if [[ "$ADMIN_URL" =~ (^|[[:space:]])dbname[[:space:]]*=[[:space:]]*[^[:space:]]+ ]]; then
		printf '%s\n' "$ADMIN_URL" | sed -E "s/(^|[[:space:]])dbname[[:space:]]*=[[:space:]]*[^[:space:]]+/\\1dbname=$DB/"
	else
		printf '%s dbname=%s\n' "$ADMIN_URL" "$DB"
	fi
	;;
esac
