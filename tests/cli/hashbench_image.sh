#!/bin/bash
# memprint hashbench on memory images built by tests/helpers/mp-craft-image:
# false-positive counts known by construction (see tests/helpers/mp-craft.h),
# the same counts from the raw and the ELF image, exact errors for damaged
# ELF files, and the exit status of usage errors.
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

echo "1..19"
dir=$(mktemp -d /tmp/memprint-hashbench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
if ! "$CRAFT" "$dir"; then
	echo "Bail out! $CRAFT failed"
	exit 1
fi

# Counts only (columns 1-2 and 7-13), not the timings, which differ per run.
counts() {
	"$MEMPRINT" hashbench --image "$1" --repeat 1 --csv "${@:2}" | cut -d, -f1,2,7-13
}

expected="hash,digest_bits,digests,false_positive_groups,false_positive_pages,false_positive_zero,duplicate_overcount,sha256_false_positive_groups,sha256_false_positive_pages
read,,,,,,,,
pattern,128,11,2,2,1,2,2,2
superfast,32,13,0,0,0,0,0,0
crc32,32,12,1,1,0,1,1,1
crc32ex,128,13,0,0,0,0,0,0
crc32c,32,13,0,0,0,0,0,0
md5,128,13,0,0,0,0,0,0
sha1,160,13,0,0,0,0,0,0
sha256,256,13,0,0,0,0,0,0
xxh64,64,13,0,0,0,0,0,0
xxh3,64,13,0,0,0,0,0,0
xxh128,128,13,0,0,0,0,0,0"

raw=$(counts "$dir/pages.raw")
check "raw image counts by construction" "$expected" "$raw"
elf=$(counts "$dir/pages.elf")
check "elf image counts equal raw" "$raw" "$elf"

skip_json() { ok "$1 # SKIP python3 is needed to parse JSON"; }

json=$("$MEMPRINT" hashbench --image "$dir/pages.elf" --repeat 1 --json --hash xxh3,pattern)
if ! command -v python3 >/dev/null; then
	skip_json "json summary of elf image"
	skip_json "max-memory stops reading"
	skip_json "max-memory warning"
else
summary=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["pages"], d["zero_filled_pages"], d["contents"], d["duplicate_pages"],
      d["truncated"], [h["hash"] for h in d["hashes"]], d["fastest_exact"])' <<<"$json")
check "json summary of elf image" "16 3 13 3 False ['xxh3', 'pattern'] xxh3" "$summary"

# 40 KiB holds the first 10 pages: 3 zero-filled, then pages 3-9 (7 contents).
err=$("$MEMPRINT" hashbench --image "$dir/pages.raw" --max-memory 40K --json 2>&1 >"$dir/out")
status=$?
capped=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["pages"], d["contents"], d["truncated"])' <"$dir/out")
check "max-memory stops reading" "0 10 7 True" "$status $capped"
check "max-memory warning" "memprint: read the first 10 of 16 pages: --max-memory is 40.0 KiB; the rest was not measured" "$err"
fi

# The verdict weighs digest width.  On the crafted image crc32 collides
# once and crc32c not at all, and both have 32-bit digests, so neither is
# recommended however fast it ran.  13 distinct contents give a 32-bit
# digest 13^2 / 2^33 = 1.96742e-08 expected collisions.
verdict() { # the verdict's JSON members for --hash $1
	"$MEMPRINT" hashbench --image "$dir/pages.raw" --repeat 1 --json --hash "$1" |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["recommended"], d["fastest_32bit_exact"] is not None, d["birthday_collisions_32bit"])'
}
if ! command -v python3 >/dev/null; then
	for name in "32-bit hashes are never recommended" "a 64-bit hash beats faster 32-bit ones" \
		    "a CRC is never recommended" "the verdict follows the tie rule"; do
		skip_json "$name"
	done
else
	check "32-bit hashes are never recommended" "None True 1.96742e-08" "$(verdict crc32c)"
	check "a 64-bit hash beats faster 32-bit ones" "xxh3" \
		"$(verdict crc32,crc32c,xxh3 | cut -d' ' -f1)"
	# crc32ex has a 128-bit digest and no false positive here, but a CRC is
	# linear: it is never recommended.
	check "a CRC is never recommended" "xxh3" \
		"$(verdict crc32ex,xxh3 | cut -d' ' -f1)"
	# The rule again, in Python, on the run's own numbers: the fastest exact
	# hash of 64 bits or more that is not a CRC; within 3 % of it, xxh3 (the
	# default) or else the widest.
	rule=$("$MEMPRINT" hashbench --image "$dir/pages.raw" --repeat 1 --json |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
linear = {"pattern", "crc32", "crc32c", "crc32ex"}
ok = [h for h in d["hashes"] if h["digest_bits"] >= 64 and not h["false_positive_pages"]
      and not h["false_positive_groups"] and h["hash"] not in linear]
top = max(h["gb_per_s"] for h in ok)
ties = [h for h in ok if h["gb_per_s"] >= top * 0.97]
default = [h for h in ties if h["hash"] == "xxh3"]
best = default[0] if default else max(ties, key=lambda h: (h["digest_bits"], h["gb_per_s"]))
print(best["hash"] == d["recommended"] or (best["hash"], d["recommended"]))')
	check "the verdict follows the tie rule" "True" "$rule"
fi

table=$("$MEMPRINT" hashbench --image "$dir/pages.raw" --repeat 1 --hash crc32c)
check "the table gives no 32-bit recommendation" \
	"No hash of at least 64 bits, not a CRC, without false positives was measured." \
	"$(grep '^No hash' <<<"$table")"
check "the table gives the birthday bound" "is expected to collide n^2/2^33 = 1.97e-08 times" \
	"$(grep -o 'is expected to collide.*times' <<<"$table")"
# docs/hashbench.md shows the header of a default run (--repeat 5).
timing=$("$MEMPRINT" hashbench --image "$dir/pages.raw" --hash xxh3 | grep '^Timing:')
check "the docs show the timing line" "1" "$(grep -cxF -- "$timing" docs/hashbench.md)"

run_error() { # expected status and stderr of a failing run
	local out
	out=$("$MEMPRINT" hashbench "$@" 2>&1 >/dev/null)
	echo "$? $out"
}

check "truncated elf header" \
	"2 memprint: invalid ELF image: $dir/short.elf: offset 40: file ends inside the ELF header (40 of 64 bytes)" \
	"$(run_error --image "$dir/short.elf")"
check "bad elf magic" \
	"2 memprint: invalid ELF image: $dir/magic.elf: offset 0: bad magic 7f 45 4c 47, expected 7f 45 4c 46" \
	"$(run_error --image "$dir/magic.elf" --image-format elf)"
check "segment beyond end of file" \
	"2 memprint: invalid ELF image: $dir/cut.elf: offset 176: PT_LOAD segment 2 (file offset 28924, 36864 bytes) ends beyond the end of the file (41212 bytes)" \
	"$(run_error --image "$dir/cut.elf")"
check "missing image file" \
	"2 memprint: cannot open image: $dir/none.raw: No such file or directory" \
	"$(run_error --image "$dir/none.raw")"

help=$("$MEMPRINT" hashbench --help)
status=$?
check "help on stdout exits 0" "0 Usage:" "$status $(head -1 <<<"$help")"

usage=""
for args in "--image $dir/pages.raw --hash md4" "--image $dir/pages.raw --repeat 0" "" \
	    "--image $dir/pages.raw --max-memory 1X" "--image $dir/pages.raw --bogus"; do
	# shellcheck disable=SC2086
	"$MEMPRINT" hashbench $args >/dev/null 2>&1
	usage="$usage $?"
done
check "usage errors exit 1" " 1 1 1 1 1" "$usage"
check "unknown hash message" \
	"memprint: invalid --hash: unknown algorithm 'md4'" \
	"$("$MEMPRINT" hashbench --image "$dir/pages.raw" --hash md4 2>&1 | head -1)"
