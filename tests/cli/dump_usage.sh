#!/bin/bash
# memprint dump: help, usage errors (exit 1), a missing file (exit 2), and
# reading a snapshot from a pipe.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
TMP=$(mktemp -d /tmp/memprint-dump-usage.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if [ ! -x "$MEMPRINT" ]; then
	echo "1..0 # SKIP memprint not built"
	exit 0
fi

run() {
	"$MEMPRINT" dump "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
}

run --help
check "--help exits 0" [ "$status" -eq 0 ]
check "--help prints usage on stdout" grep -q '^ memprint dump \[options\] FILE' "$TMP/out"
check "--help prints nothing on stderr" [ ! -s "$TMP/err" ]
check "dump is in the command list" sh -c "'$MEMPRINT' --help | grep -q '^  dump '"

run
check "no file: exit 1" [ "$status" -eq 1 ]
check "no file: message" [ "$(head -n 1 "$TMP/err")" = "memprint: missing snapshot FILE" ]

run --bogus tests/golden/task-xxh3.mps
check "unknown option: exit 1" [ "$status" -eq 1 ]
check "unknown option: named" grep -q -- "--bogus" "$TMP/err"

run tests/golden/task-xxh3.mps tests/golden/pagecache-md5.mps
check "two files: exit 1" [ "$status" -eq 1 ]

run "$TMP/missing.mps"
check "missing file: exit 2" [ "$status" -eq 2 ]
check "missing file: message" [ "$(cat "$TMP/err")" = \
	"memprint: cannot open snapshot file: $TMP/missing.mps: No such file or directory" ]

cat tests/golden/series-crc32.mps | "$MEMPRINT" dump /dev/stdin >"$TMP/out" 2>"$TMP/err"
check "reads from a pipe" cmp -s "$TMP/out" tests/golden/series-crc32.txt

"$MEMPRINT" dump -J tests/golden/task-xxh3.mps >"$TMP/out"
check "-J is --json" cmp -s "$TMP/out" tests/golden/task-xxh3.json

echo "1..$n"
