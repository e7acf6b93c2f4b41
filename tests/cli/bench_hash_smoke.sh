#!/bin/bash
# Run bench_hash once at a tiny size to prove that it works; the numbers
# themselves are not checked, since tests never assert speed.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bench="$top/${BUILD:-build}/bench/bench_hash"
algorithms="pattern superfast crc32 crc32ex crc32c md5 sha1 sha256 xxh64 xxh3 xxh128"

echo "1..5"
if [ ! -x "$bench" ]; then
	for n in 1 2 3 4 5; do
		echo "ok $n # SKIP $bench not built (make bench)"
	done
	exit 0
fi

output=$("$bench" --size 1 --repeat 1 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
	echo "ok 1 - bench_hash runs at 1 MiB"
else
	echo "not ok 1 - bench_hash runs at 1 MiB (exit $status)"
	printf '%s\n' "$output" | sed 's/^/# /'
fi

missing=""
for algorithm in $algorithms; do
	# name, digest width, then GB/s, Mpages/s, ratio and single-call GB/s as numbers
	grep -Eq "^$algorithm +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$" <<<"$output" ||
		missing="$missing $algorithm"
done
if [ -z "$missing" ]; then
	echo "ok 2 - a row for every algorithm"
else
	echo "not ok 2 - a row for every algorithm (missing:$missing)"
fi

if grep -Eq '^read \(4 streams\) +- +[0-9.]+ +[0-9.]+ +1\.00 ' <<<"$output"; then
	echo "ok 3 - memory read baseline row"
else
	echo "not ok 3 - memory read baseline row"
fi

"$bench" --size 0 >/dev/null 2>&1
status=$?
if [ "$status" -eq 1 ]; then
	echo "ok 4 - invalid --size exits 1"
else
	echo "not ok 4 - invalid --size exits 1 (exit $status)"
fi

output=$("$bench" --size 1 --repeat 1 --hash sha512 2>&1)
status=$?
if [ "$status" -eq 1 ] && grep -q "unknown --hash 'sha512'" <<<"$output"; then
	echo "ok 5 - unknown --hash exits 1"
else
	echo "not ok 5 - unknown --hash exits 1 (exit $status)"
fi
