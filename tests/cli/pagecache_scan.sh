#!/bin/bash
# memprint scan, snapshot and analyze with --page-cache, on files this
# script writes under /var/tmp.
#
# a and b hold the same 4 random pages; c holds 2 random pages, then a's
# page 0 twice.  By hand: 12 cached frames; contents a0 (a0 b0 c2 c3),
# a1, a2, a3 (a and b each): 3 + 3 = 6 duplicate frames, 50 %; pairs
# (a, b) 4 pages and (a, c) 2 pages; one content held 4 times.
# util-linux fincore, an independent tool, checks that the scan neither
# fills nor drops the cache: cold stays uncached.
#
# mp-pc-holder maps c and holds anonymous copies of a's pages 0, 1, 2, 3
# and 0 again.  A snapshot of it with the cache is one set, and by hand:
# 5 anonymous frames equal a cached page; a0 is held by 6 frames (a0 b0
# c2 c3 and two copies), a1, a2 and a3 by 3 each (a, b and a copy): 4
# contents held 3+ times by cache and task, in 15 frames.
set -u
top=${MEMPRINT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
memprint=${MEMPRINT:-$top/${BUILD:-build}/memprint}
holder=$top/${BUILD:-build}/tests/helpers/mp-pc-holder

echo "1..13"
if [ ! -x "$memprint" ]; then
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "ok $n # SKIP $memprint not built"
	done
	exit 0
fi

work=$(mktemp -d /var/tmp/mp-pc-cli-XXXXXX)
holder_pid=
cleanup() {
	[ -z "$holder_pid" ] || { kill "$holder_pid"; wait "$holder_pid"; } 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
dir=$work/files		# the scanned tree; snapshots go beside it, not into it
mkdir "$dir"
head -c 16384 /dev/urandom >"$dir/a"
cp "$dir/a" "$dir/b"
{ head -c 8192 /dev/urandom; head -c 4096 "$dir/a"; head -c 4096 "$dir/a"; } >"$dir/c"
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

# The residency of every file, as fincore reports it, in bytes.
residency() {
	fincore --bytes --noheadings --output RES,FILE "$dir/a" "$dir/b" "$dir/c" "$dir/cold"
}

# Read a key of the JSON on stdin: json_get 'page_cache' 'duplicate_frames'.
json_get() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d))' "$@"
}

before=$(residency)
if ! grep -q "^ *0 $dir/cold\$" <<<"$before" || ! grep -q "^ *16384 $dir/a\$" <<<"$before"; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "ok $i # SKIP could not set up the cache (fincore: $(tr '\n' ' ' <<<"$before"))"
	done
	exit 0
fi

output=$("$memprint" scan --json --page-cache "$dir" 2>&1)
status=$?
check "$status" "scan --page-cache DIR exits 0" "$output"

numbers=$(json_get page_cache <<<"$output" 2>&1 | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["files"], d["frames"], d["duplicate_frames"], d["duplicate_percent"],
      d["contents_three_plus"], d["frames_three_plus"], d["file_pair_count"])' 2>&1)
check "$([ "$numbers" = "3 12 6 50.0 1 4 2" ]; echo $?)" \
	"page_cache numbers worked out by hand" "got: $numbers"

pairs=$(json_get page_cache file_pairs <<<"$output" 2>&1)
expected="[{\"first\": \"$dir/a\", \"second\": \"$dir/b\", \"pages\": 4}, {\"first\": \"$dir/a\", \"second\": \"$dir/c\", \"pages\": 2}]"
check "$([ "$pairs" = "$expected" ]; echo $?)" "file pairs a-b 4 and a-c 2" "got: $pairs"

general=$(json_get duplicate_frames <<<"$output" 2>&1)
check "$([ "$general" = 6 ]; echo $?)" "general report counts the same 6 duplicates" "got: $general"

after=$(residency)
check "$([ "$before" = "$after" ]; echo $?)" "fincore residency unchanged by the scan" \
	"before: $before
after: $after"

output=$("$memprint" scan --page-cache "$dir" --pid $$ 2>&1)
status=$?
check "$([ "$status" = 0 ] && grep -q '^Page cache:' <<<"$output" &&
	grep -q "^ *4 $dir/a *$dir/b\$" <<<"$output"; echo $?)" \
	"table with a task and the page cache" "$output"

"$memprint" snapshot --page-cache "$dir" -o "$work/cache.mps" 2>/dev/null
output=$("$memprint" analyze --json "$work/cache.mps" 2>&1)
numbers=$(json_get page_cache <<<"$output" 2>&1 | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["files"], d["frames"], d["duplicate_frames"])' 2>&1)
check "$([ "$numbers" = "3 12 6" ]; echo $?)" "snapshot then analyze keeps the page cache" \
	"got: $numbers"

# Start mp-pc-holder on c and a; it holds its pages until killed.
start_holder() {
	mkfifo "$work/holder.in" "$work/holder.out" || return 1
	"$holder" "$dir/c" "$dir/a" <>"$work/holder.in" >"$work/holder.out" &
	holder_pid=$!
	read -r -t 30 reply <"$work/holder.out" && [ "$reply" = ready ]
}

if [ ! -x "$holder" ]; then
	for i in 1 2; do
		n=$((n + 1))
		echo "ok $n # SKIP $holder not built"
	done
elif ! start_holder; then
	check 1 "mp-pc-holder starts"
	check 1 "mp-pc-holder starts"
else
	"$memprint" snapshot --pid "$holder_pid" --page-cache "$dir" -o "$work/both.mps" 2>/dev/null
	output=$("$memprint" analyze --json "$work/both.mps" 2>&1)
	sets=$(json_get sets <<<"$output" 2>&1)
	check "$([ "$sets" = 1 ]; echo $?)" "snapshot of a task and the cache is one set" \
		"got: $(head -c 200 <<<"$sets")"
	numbers=$(json_get page_cache <<<"$output" 2>&1 | python3 -c 'import json, sys
d = json.load(sys.stdin)
t = [x for x in d["tasks"] if x["pid"] == int(sys.argv[1])]
print(d["frames"], d["duplicate_frames"], d["cache_duplicate_frames"],
      d["contents_three_plus_mixed"], d["frames_three_plus_mixed"],
      t[0]["cache_duplicate_frames"] if t else None)' "$holder_pid" 2>&1)
	check "$([ "$numbers" = "12 6 5 4 15 5" ]; echo $?)" \
		"analyze of the file shows the task against the cache" "got: $numbers"
fi

output=$("$memprint" scan "$dir" 2>&1)
status=$?
check "$([ "$status" = 1 ] && grep -q "unexpected argument" <<<"$output"; echo $?)" \
	"a path without --page-cache is a usage error" "exit $status: $output"

output=$("$memprint" scan --page-cache /proc/self /sys/kernel 2>&1 >/dev/null)
status=$?
check "$([ "$status" = 0 ] && grep -q "not a local disk or tmpfs file system" <<<"$output"; echo $?)" \
	"pseudo file systems are skipped with a warning" "exit $status: $output"

output=$("$memprint" scan --page-cache /proc/self/status 2>&1 >/dev/null)
status=$?
check "$([ "$status" = 0 ] && grep -q "not a local disk or tmpfs file system, skipped: /proc/self/status" <<<"$output"; echo $?)" \
	"a file named on a pseudo file system is skipped with a warning" "exit $status: $output"

output=$("$memprint" scan --page-cache "$work/missing" 2>&1 >/dev/null)
status=$?
check "$([ "$status" = 2 ] && grep -q "cannot read --page-cache path '$work/missing'" <<<"$output"; echo $?)" \
	"a missing path is a runtime failure" "exit $status: $output"
