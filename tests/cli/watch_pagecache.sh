#!/bin/bash
# memprint watch --page-cache and memprint timeline of its series, on files
# this script writes under /var/tmp and a process that repeats them.
#
# a holds 8 random pages, b 4 others, c is a copy of b, and cold is never
# cached.  mp-pc-holder maps a and touches it, so its mappings of a are
# the cached frames, and holds anonymous copies of b's pages 0, 1, 2, 3
# and 0 again.  By hand, every set of the watch has: 3 files with cached
# pages, 8 + 4 + 4 = 16 cached frames, 4 duplicate frames (c repeats b),
# 25 % of the cache; 5 anonymous task frames equal to a cached page; b0
# held by 4 frames (b0 c0 and two copies) and b1, b2, b3 by 3 each (b, c
# and a copy): 4 contents held 3+ times by cache and task, in 13 frames.
# util-linux fincore, an independent tool, checks that the watch neither
# fills nor drops the cache.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
memprint=${MEMPRINT:-$top/${BUILD:-build}/memprint}
holder=$top/${BUILD:-build}/tests/helpers/mp-pc-holder
count=13

echo "1..$count"
skip_all() {
	for i in $(seq 1 $count); do
		echo "ok $i # SKIP $1"
	done
	exit 0
}
[ -x "$memprint" ] && [ -x "$holder" ] || skip_all "memprint or mp-pc-holder not built"
[ "$(id -u)" -eq 0 ] || skip_all "needs root: cached frames are told apart by PFN"

work=$(mktemp -d /var/tmp/mp-watch-pc-XXXXXX)
holder_pid=
cleanup() {
	[ -z "$holder_pid" ] || { kill "$holder_pid"; wait "$holder_pid"; } 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
dir=$work/files		# the scanned tree; the series goes beside it, not into it
mkdir "$dir"
head -c 32768 /dev/urandom >"$dir/a"
head -c 16384 /dev/urandom >"$dir/b"
cp "$dir/b" "$dir/c"
head -c 16384 /dev/urandom >"$dir/cold"
sync
# Drop the clean pages of cold (GNU dd: iflag=nocache with count=0 drops the whole file).
dd if="$dir/cold" iflag=nocache count=0 status=none
cat "$dir/a" "$dir/b" "$dir/c" >/dev/null

n=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /'
	fi
}

residency() {
	fincore --bytes --noheadings --output RES,FILE "$dir/a" "$dir/b" "$dir/c" "$dir/cold"
}

before=$(residency)
if ! grep -q "^ *0 $dir/cold\$" <<<"$before" || ! grep -q "^ *16384 $dir/c\$" <<<"$before"; then
	skip_all "could not set up the cache (fincore: $(tr '\n' ' ' <<<"$before"))"
fi

mkfifo "$work/holder.in" "$work/holder.out"
"$holder" "$dir/a" "$dir/b" <>"$work/holder.in" >"$work/holder.out" &
holder_pid=$!
read -r -t 30 reply <"$work/holder.out"
[ "${reply:-}" = ready ] || skip_all "mp-pc-holder did not start"

"$memprint" watch --pid "$holder_pid" --page-cache "$dir" --interval 200ms --count 3 --csv \
	-o "$work/series.mps" >"$work/watch.csv" 2>"$work/watch.err"
status=$?
check "$status" "watch --pid P --page-cache DIR exits 0" "$(cat "$work/watch.err")"

# The page-cache columns of the watch's lines: frames, duplicates, task frames equal to cache.
lines=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{ print $col["tasks"], $col["page_cache_frames"], $col["page_cache_duplicate_frames"],
		$col["page_cache_cache_duplicate_frames"] }' "$work/watch.csv" | uniq -c)
check "$([ "$(echo $lines)" = "3 1 16 4 5" ]; echo $?)" \
	"each watch line shows 16 cached, 4 duplicate, 5 equal to cache" "got: $lines"

# The page_cache object of each set in timeline --json, as one line per set.
per_set() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
for s in d["sets"]:
    c = s["page_cache"]
    print(c["files"], c["frames"], c["duplicate_frames"], c["duplicate_percent"],
          c["cache_duplicate_frames"], c["contents_three_plus_mixed"],
          c["frames_three_plus_mixed"])'
}

output=$("$memprint" timeline --json "$work/series.mps" 2>&1 | per_set 2>&1)
expected="3 16 4 25.0 5 4 13
3 16 4 25.0 5 4 13
3 16 4 25.0 5 4 13"
check "$([ "$output" = "$expected" ]; echo $?)" "timeline --json: page-cache numbers of 3 sets by hand" \
	"got: $output"

three_plus=$("$memprint" timeline --json "$work/series.mps" 2>&1 | python3 -c 'import json, sys
print(all(s["page_cache"]["contents_three_plus"] >= 4 for s in json.load(sys.stdin)["sets"]))' 2>&1)
check "$([ "$three_plus" = True ]; echo $?)" "contents held 3+ times include the 4 mixed ones" \
	"got: $three_plus"

header=$("$memprint" timeline --csv "$work/series.mps" 2>&1 | head -1)
check "$(grep -q ',page_cache_frames,' <<<"$header" &&
	grep -q ',page_cache_cache_duplicate_frames,' <<<"$header"; echo $?)" \
	"timeline --csv has the page-cache columns" "got: $header"

table=$("$memprint" timeline "$work/series.mps" 2>&1)
check "$(grep -q 'CACHE-MIXED' <<<"$table"; echo $?)" "timeline table has the page-cache columns" \
	"$table"

# HELD-3+ is a size like its neighbours: the frames of contents held 3+ times, in bytes.
held=$("$memprint" timeline --bytes "$work/series.mps" 2>/dev/null | awk 'NR > 1 { print $NF }')
expected=$("$memprint" timeline --json "$work/series.mps" 2>&1 | python3 -c 'import json, sys
for s in json.load(sys.stdin)["sets"]:
    print(s["page_cache"]["frames_three_plus"] * 4096)' 2>&1)
check "$([ -n "$held" ] && [ "$held" = "$expected" ]; echo $?)" \
	"timeline table shows HELD-3+ as the size of its frames" "got: $held, expected: $expected"

output=$("$memprint" analyze --json "$work/series.mps" 2>&1 | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(len(d["sets"]), [c["cache_duplicate_frames"] for c in d["page_cache"]])' 2>&1)
check "$([ "$output" = "3 [5, 5, 5]" ]; echo $?)" "analyze of the series shows the task against the cache" \
	"got: $output"

after=$(residency)
check "$([ "$before" = "$after" ]; echo $?)" "fincore residency unchanged by the watch" \
	"before: $before
after: $after"

# The page cache alone: no task, so no task frame repeats the cache.
"$memprint" watch --page-cache "$dir" --interval 100ms --count 2 --csv -o "$work/cache.mps" \
	>/dev/null 2>"$work/cache.err"
status=$?
output=$("$memprint" timeline --json "$work/cache.mps" 2>&1 | per_set 2>&1)
expected="3 16 4 25.0 0 0 0
3 16 4 25.0 0 0 0"
check "$([ "$status" = 0 ] && [ "$output" = "$expected" ]; echo $?)" \
	"watch of the page cache alone: 2 sets of the cache" "exit $status: $output"

# Without --page-cache neither the watch nor the timeline has page-cache columns.
"$memprint" watch --pid "$holder_pid" --interval 100ms --count 2 --csv -o "$work/tasks.mps" \
	>"$work/tasks.csv" 2>/dev/null
check "$(! grep -q page_cache "$work/tasks.csv"; echo $?)" "watch without --page-cache: no cache columns"
output=$("$memprint" timeline --json "$work/tasks.mps" 2>&1; "$memprint" timeline --csv "$work/tasks.mps" 2>&1)
check "$(! grep -q page_cache <<<"$output"; echo $?)" "timeline of task sets: no page-cache keys" \
	"$(head -c 300 <<<"$output")"

# A directory with no file: the page cache of the set has no frames, so the
# share of duplicates among them is unknown (null), not 0.
mkdir "$work/empty"
"$memprint" watch --page-cache "$work/empty" --interval 100ms --count 1 -o "$work/empty.mps" \
	>/dev/null 2>&1
output=$("$memprint" timeline --json "$work/empty.mps" 2>&1 | python3 -c 'import json, sys
c = json.load(sys.stdin)["sets"][0]["page_cache"]
print(c["frames"], c["duplicate_percent"])' 2>&1)
check "$([ "$output" = "0 None" ]; echo $?)" "timeline: duplicate_percent of no cached frame is null" \
	"got: $output"
