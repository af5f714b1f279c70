#!/usr/bin/env bash
# Usage: scripts/check-tree.sh
#
# Fails (exit 1, offenders on stderr) when git tracks a build product: an
# executable binary (ELF, Mach-O, PE, or any file with the executable bit that
# is not a #! script) or any file over 1 MB outside a testdata/ directory.
# Runs from the repository root; CI runs it on every clone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
limit=$((1024 * 1024))
bad=0
while IFS= read -r -d '' entry; do
	mode="${entry%% *}"
	path="${entry#*$'\t'}"
	[ -f "$path" ] || continue # deleted in the work tree: nothing to read
	magic="$(head -c 4 "$path" | od -An -tx1 | tr -d ' \n')"
	case "$magic" in
	7f454c46) why="ELF executable" ;;
	feedface | feedfacf | cefaedfe | cffaedfe | cafebabe) why="Mach-O executable" ;;
	4d5a*) why="PE (Windows) executable" ;;
	*)
		why=""
		if [ "$mode" = 100755 ] && [ "${magic:0:4}" != 2321 ]; then
			why="executable bit set but not a #! script"
		fi
		;;
	esac
	size="$(wc -c <"$path")"
	if [ -z "$why" ] && [ "$size" -gt "$limit" ] && [[ "/$path" != */testdata/* ]]; then
		why="$((size / 1024)) KiB, over 1 MB outside testdata/"
	fi
	if [ -n "$why" ]; then
		printf 'tracked build product or large file: %s (%s)\n' "$path" "$why" >&2
		bad=1
	fi
done < <(git ls-files -s -z | sed -z 's/^\([0-9]*\) [0-9a-f]* [0-9]*\t/\1 \t/')
if [ "$bad" -ne 0 ]; then
	echo "remove them from git (git rm --cached FILE) and ignore build output in .gitignore" >&2
	exit 1
fi
