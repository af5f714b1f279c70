#!/usr/bin/env bash
# Usage: scripts/test-dbs.sh ADMIN_URL
#
# Prints, one per line and sorted, the databases tests create on the server
# ADMIN_URL points at (as printed by scripts/pg.sh) — internal/pgtest's
# rgtest_<pid>_…, rgempty_<pid>_… and rgtemplate_<pid>_…, and
# internal/devserver's riskgraph_<name>_… — leaving out pgtest databases whose
# test process is still running here (a concurrent run on a shared server).
# CI runs it before and after `make test`: anything new is a database a test
# failed to drop.
set -euo pipefail

[ $# -eq 1 ] || {
	echo "usage: scripts/test-dbs.sh ADMIN_URL" >&2
	exit 2
}
psql="$(command -v psql || true)"
if [ -z "$psql" ]; then
	psql="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/psql' 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[ -n "$psql" ] || {
	echo "test-dbs.sh: psql not found (apt-get install postgresql-client)" >&2
	exit 1
}
"$psql" "$1" -XAtq -v ON_ERROR_STOP=1 -c \
	"SELECT datname FROM pg_database WHERE datname ~ '^(rgtest|rgempty|rgtemplate|riskgraph)_' ORDER BY 1" |
	while IFS= read -r name; do
		if [[ "$name" =~ ^rg[a-z]+_([0-9]+)_ ]] && [ -d "/proc/${BASH_REMATCH[1]}" ]; then
			continue
		fi
		printf '%s\n' "$name"
	done
