#!/bin/bash
# bench_watch runs at a tiny size and prints every row: proves the
# benchmark works, measures nothing.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BENCH=$PWD/$BUILD/bench/bench_watch
n=0

if [ ! -x "$BENCH" ]; then
	echo "1..0 # SKIP bench_watch not built"
	exit 0
fi
output=$("$BENCH" --pages 64 --sets 3 --repeat 1 2>&1)
status=$?
n=$((n + 1))
if [ "$status" -eq 0 ]; then echo "ok $n - bench_watch exits 0"; else echo "not ok $n - bench_watch exits 0"; fi
for row in "copy out" "set, static" "set, 10 % changing" "read series" "+ analysis" "+ timeline" \
	   "memprint timeline"; do
	n=$((n + 1))
	if grep -q "^$row " <<<"$output"; then
		echo "ok $n - bench_watch prints '$row'"
	else
		echo "not ok $n - bench_watch prints '$row'"
	fi
done
echo "1..$n"
