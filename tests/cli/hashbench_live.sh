#!/bin/bash
# memprint hashbench on a live process: tests/helpers/mp-craft-image --hold
# keeps the crafted page set of tests/helpers/mp-craft.h in its memory, so
# the collisions built into it must show up among the process's pages.
# The process's other pages (libc, stack) are not known in advance, so the
# weak hashes are checked for at least the crafted collisions and the
# strong ones for none.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
CRAFT=$PWD/$BUILD/tests/helpers/mp-craft-image

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }
check() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

echo "1..8"
dir=$(mktemp -d /tmp/memprint-hashbench-live.XXXXXX)
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

mkfifo "$dir/ready"
"$CRAFT" --hold >"$dir/ready" &
holder=$!
read -r line <"$dir/ready"
if [ "${line%% *}" != ready ]; then
	echo "Bail out! $CRAFT --hold did not start"
	exit 1
fi

out=$("$MEMPRINT" hashbench --pid "$holder" --repeat 1 --csv 2>"$dir/err")
status=$?
if [ "$status" -ne 0 ] && grep -q "Permission denied\|Operation not permitted" "$dir/err"; then
	for i in 1 2 3 4 5; do ok "live process # SKIP cannot read /proc/$holder/mem"; done
else
	check "live run exits 0" "0" "$status"
	field() { # HASH COLUMN: a count from the CSV line of HASH
		awk -F, -v h="$1" -v c="$2" '$1 == h { print $c }' <<<"$out"
	}
	pattern=$(field pattern 8)
	crc=$(field crc32 8)
	check "pattern finds the crafted collisions" "yes" "$([ "${pattern:-0}" -ge 2 ] && echo yes || echo "no: $pattern")"
	check "crc32 finds the crafted pair" "yes" "$([ "${crc:-0}" -ge 1 ] && echo yes || echo "no: $crc")"
	strong=""
	for h in crc32ex md5 sha1 sha256 xxh64 xxh3 xxh128; do
		strong="$strong $(field "$h" 8)/$(field "$h" 9)"
	done
	check "strong hashes have none" " 0/0 0/0 0/0 0/0 0/0 0/0 0/0" "$strong"
	pages=$(field xxh3 7)
	check "live contents include crafted ones" "yes" "$([ "${pages:-0}" -ge 13 ] && echo yes || echo "no: $pages")"
fi

# A gone pid beside the holder: the holder is measured, the exit status is 2.
sh -c 'exit 0' &
gone=$!
wait "$gone"
"$MEMPRINT" hashbench --pid "$holder" --pid "$gone" --hash xxh3 --repeat 1 --csv \
	>"$dir/gone.csv" 2>"$dir/gone.err"
check "a gone pid beside a live one exits 2" "2" "$?"
check "the live pid is still measured" "yes" \
	"$(grep -q '^xxh3,' "$dir/gone.csv" && echo yes || echo no)"

err=$("$MEMPRINT" hashbench --pid "$holder" --image "$dir/x" 2>&1 >/dev/null)
check "targets and image together" "1 memprint: give targets or --image, not both" "$? $(head -1 <<<"$err")"
