#!/bin/bash
# Run bench_snapshot once at a tiny size to prove that it works; the
# numbers themselves are not checked, since tests never assert speed.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bench="$top/${BUILD:-build}/bench/bench_snapshot"

echo "1..4"
if [ ! -x "$bench" ]; then
	for n in 1 2 3 4; do
		echo "ok $n # SKIP $bench not built (make bench)"
	done
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	for n in 1 2 3 4; do
		echo "ok $n # SKIP needs root to read /proc/PID/pagemap PFNs and kpageflags"
	done
	exit 0
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
output=$("$bench" --size 8M --repeat 1 --dir "$dir" 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
	echo "ok 1 - bench_snapshot runs at 8 MiB"
else
	echo "not ok 1 - bench_snapshot runs at 8 MiB (exit $status)"
	printf '%s\n' "$output" | sed 's/^/# /'
fi

missing=""
for row in "copy (/proc/PID/mem)" "full dump + hash" "scan, null sink" "scan, snapshot writer"; do
	# case, then seconds, GB/s, Mpages/s and ratio as numbers
	grep -Fq "$row" <<<"$output" &&
		grep -F "$row" <<<"$output" | grep -Eq ' [0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' ||
		missing="$missing '$row'"
done
if [ -z "$missing" ]; then
	echo "ok 2 - a row for every case"
else
	echo "not ok 2 - a row for every case (missing:$missing)"
fi

if grep -Eq '^scanner peak memory growth: [0-9]+ KiB for [0-9]+ pages' <<<"$output" &&
   [ -z "$(ls -A "$dir")" ]; then
	echo "ok 3 - peak memory line, no files left behind"
else
	echo "not ok 3 - peak memory line, no files left behind"
fi

"$bench" --size 0 >/dev/null 2>&1
status=$?
if [ "$status" -eq 1 ]; then
	echo "ok 4 - invalid --size exits 1"
else
	echo "not ok 4 - invalid --size exits 1 (exit $status)"
fi
