#!/bin/bash
# Run bench_analysis once at a tiny size to prove that it works; the
# numbers themselves are not checked, since tests never assert speed.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bench="$top/${BUILD:-build}/bench/bench_analysis"

echo "1..3"
if [ ! -x "$bench" ]; then
	for n in 1 2 3; do
		echo "ok $n # SKIP $bench not built (make bench)"
	done
	exit 0
fi

output=$("$bench" --records 60000 --repeat 1 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
	echo "ok 1 - bench_analysis runs at 60000 records"
else
	echo "not ok 1 - bench_analysis runs at 60000 records (exit $status)"
	printf '%s\n' "$output" | sed 's/^/# /'
fi

# 60000 records, every sixth a second mapping: 50000 frames.
if grep -q '^bench_analysis: 60000 records, 50000 frames' <<<"$output"; then
	echo "ok 2 - bench_analysis counts 50000 frames"
else
	echo "not ok 2 - bench_analysis counts 50000 frames"
fi

rows=$(grep -cE '^(generate|hash table|analysis|analysis, parts) +[0-9.]+ M records/s' <<<"$output")
if [ "$rows" -eq 4 ] && grep -q '^memory: VmHWM grew' <<<"$output"; then
	echo "ok 3 - bench_analysis prints every row"
else
	echo "not ok 3 - bench_analysis prints every row"
	printf '%s\n' "$output" | sed 's/^/# /'
fi
