#!/usr/bin/env bash
# Usage: scripts/test-dbs.sh ADMIN_URL [TAG]
#
# Prints, one per line and sorted, the databases tests create on the server
# ADMIN_URL points at (as printed by scripts/pg.sh): internal/pgtest's
# rgtest_<run>_…, rgempty_<run>_… and rgtemplate_<run>_…, and
# internal/devserver's riskgraph_<name>_…. With TAG, pgtest databases only of
# runs made with PGTEST_TAG=TAG; without it, all but those whose run's process
# is still alive here.
# CI runs it before and after the tests: anything new is a database a test
# failed to drop. The tag keeps other runs on a shared server out of it.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || {
	echo "usage: scripts/test-dbs.sh ADMIN_URL [TAG]" >&2
	exit 2
}
tag="${2:-}"
[[ "$tag" =~ ^[a-z0-9]{0,16}$ ]] || {
	echo "test-dbs.sh: TAG must be up to 16 lower-case letters or digits" >&2
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
pattern='^(rgtest|rgempty|rgtemplate|riskgraph)_'
if [ -n "$tag" ]; then
	pattern="^(rg(test|empty|template)_[0-9]+_${tag}_|riskgraph_)"
fi
"$psql" "$1" -XAtq -v ON_ERROR_STOP=1 -v pattern="$pattern" <<'SQL' |
SELECT datname FROM pg_database WHERE datname ~ :'pattern' ORDER BY 1;
SQL
	while IFS= read -r name; do
		if [ -z "$tag" ] && [[ "$name" =~ ^rg[a-z]+_([0-9]+)_ ]] && [ -d "/proc/${BASH_REMATCH[1]}" ]; then
			continue
		fi
		printf '%s\n' "$name"
	done
