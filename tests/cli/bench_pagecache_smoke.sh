#!/bin/bash
# Run bench_pagecache once on a tiny tree to prove that it works; the
# numbers themselves are not checked, since tests never assert speed.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bench="$top/${BUILD:-build}/bench/bench_pagecache"

echo "1..3"
if [ ! -x "$bench" ]; then
	for n in 1 2 3; do
		echo "ok $n # SKIP $bench not built (make bench)"
	done
	exit 0
fi

dir=$(mktemp -d /var/tmp/mp-pc-smoke-XXXXXX)
output=$("$bench" --files 200 --mib 2 --repeat 1 --dir "$dir" 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
	echo "ok 1 - bench_pagecache runs on 200 files"
else
	echo "not ok 1 - bench_pagecache runs on 200 files (exit $status)"
	printf '%s\n' "$output" | sed 's/^/# /'
fi

# case name, then files/s, GB/s and ratio as numbers
if grep -Eq '^memprint page-cache scan \(xxh3\) +[0-9]+ +[0-9.]+ +[0-9.]+$' <<<"$output" &&
   grep -Eq '^fincore \(residency only\) +[0-9]+ +[0-9.]+ +1\.00$' <<<"$output"; then
	echo "ok 2 - rows for the scan and the fincore baseline"
else
	echo "not ok 2 - rows for the scan and the fincore baseline"
	printf '%s\n' "$output" | sed 's/^/# /'
fi

if [ -z "$(ls -A "$dir")" ]; then
	echo "ok 3 - the tree is removed afterwards"
else
	echo "not ok 3 - the tree is removed afterwards"
fi
rm -rf "$dir"
