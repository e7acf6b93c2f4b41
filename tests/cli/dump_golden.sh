#!/bin/bash
# memprint dump on the golden snapshot files of tests/golden: the text and
# JSON output must equal the reviewed dumps checked in beside them, so a
# change that stops old files from reading the same fails here.  The files
# are also written again by tools/mp-golden: uncompressed ones must come
# out byte for byte the same (zstd output may differ between zstd
# versions, so those are compared through their dumps).  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
GOLDEN_TOOL=$PWD/$BUILD/tools/mp-golden
TMP=$(mktemp -d /tmp/memprint-dump-golden.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$GOLDEN_TOOL" ]; then
	echo "1..0 # SKIP memprint or mp-golden not built"
	exit 0
fi

# Dump FILE as text (or JSON with -J) into OUT; the exit status must be 0.
dump_to() {
	local out=$1; shift
	"$MEMPRINT" dump "$@" >"$out" 2>"$TMP/stderr" && [ ! -s "$TMP/stderr" ]
}

same() { cmp -s "$1" "$2" || { diff -u "$1" "$2" | head -20 | sed 's/^/# /'; false; }; }

# Dump FILE (options first) and compare the output with EXPECTED.
dump_equals() {
	local expected=$1 out=$TMP/out.$RANDOM; shift
	dump_to "$out" "$@" && same "$expected" "$out"
}

files=(task-xxh3 task-sha256-zstd pagecache-md5 series-crc32)
echo "1..$((${#files[@]} * 5))"

"$GOLDEN_TOOL" "$TMP" || echo "# mp-golden failed"
for name in "${files[@]}"; do
	golden=tests/golden/$name
	check "$name: text dump equals golden" dump_equals "$golden.txt" "$golden.mps"
	check "$name: JSON dump equals golden" dump_equals "$golden.json" -J "$golden.mps"
	if command -v python3 >/dev/null; then
		check "$name: JSON parses" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
			"$golden.json"
	else
		ok "$name: JSON parses # SKIP no python3"
	fi

	case $name in
	*zstd*)
		check "$name: written again, dumps the same" \
			dump_equals "$golden.txt" "$TMP/$name.mps" ;;
	*)
		check "$name: written again byte for byte" same "$golden.mps" "$TMP/$name.mps" ;;
	esac
	check "$name: mode 0600 when written" [ "$(stat -c %a "$TMP/$name.mps")" = 600 ]
done
