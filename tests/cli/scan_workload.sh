#!/bin/bash
# memprint scan: usage errors, and the report on two workloads whose arenas
# hold 40 pages of one content each (80 frames of one content in the set).
# Prints TAP.  Checks that need PFNs (root) skip without them.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
TMP=$(mktemp -d /tmp/memprint-scan.XXXXXX)
n=0
pids=()
. tests/cli/workloads.bash
trap cleanup EXIT

# --- usage -------------------------------------------------------------

"$MEMPRINT" scan --help >"$TMP/out" 2>"$TMP/err"
check "scan --help exits 0" [ $? -eq 0 ]
check "scan --help prints usage on stdout" grep -q '^ memprint scan \[options\] TARGETS' "$TMP/out"
check "scan --help names --pid" grep -q -- '--pid PID' "$TMP/out"

expect_status "scan without targets exits 1" 1 'no targets' scan
expect_status "scan --pid abc exits 1" 1 "invalid --pid value 'abc'" scan --pid abc
expect_status "scan --pid without value exits 1" 1 "'--pid' needs an argument" scan --pid
expect_status "scan --by bogus exits 1" 1 "invalid --by value 'bogus'" scan --pid $$ --by bogus
expect_status "scan --hash bogus exits 1" 1 "unknown --hash algorithm 'bogus'" scan --pid $$ --hash bogus
expect_status "scan --top 0 exits 1" 1 "invalid --top value '0'" scan --pid $$ --top 0
expect_status "scan unknown option exits 1" 1 "unknown option '--bogus'" scan --bogus
expect_status "scan --compress without -o exits 1" 1 'needs --output' scan --pid $$ --compress
expect_status "scan --json --csv exits 1" 1 '--json and --csv exclude each other' \
	scan --pid $$ --json --csv
expect_status "timeline --csv --json exits 1" 1 '--json and --csv exclude each other' \
	timeline --csv --json "$TMP/none.mps"
expect_status "hashbench --json --csv exits 1" 1 '--json and --csv exclude each other' \
	hashbench --pid $$ --json --csv

# A directory with a cgroup.procs file that is not on cgroup2 is no cgroup.
mkdir "$TMP/fake-cgroup"
echo $$ >"$TMP/fake-cgroup/cgroup.procs"
expect_status "scan --cgroup of a plain directory exits 2" 2 \
	'is not on a cgroup v2 file system' scan --cgroup "$TMP/fake-cgroup"
expect_status "scan --hash-key with crc32 exits 1" 1 'needs a keyed hash' \
	scan --pid $$ --hash crc32 --hash-key /dev/null

# A pid that no longer exists: a runtime failure.
sh -c 'exit 0' &
gone=$!
wait "$gone"
expect_status "scan of a gone pid exits 2" 2 'no such process' scan --pid "$gone"
expect_status "scan --sysroot of a missing directory exits 2" 2 "invalid --sysroot '/nonexistent'" \
	scan --sysroot /nonexistent --pid $$

# A gone pid beside a live one: the live one is still reported.
"$MEMPRINT" scan --pid "$gone" --pid $$ --csv --by task >"$TMP/out" 2>"$TMP/err"
check "scan of a gone and a live pid exits 2" [ $? -eq 2 ]
check "the gone pid is named and left out" grep -q "no such process: $gone; left out" "$TMP/err"
check "the live pid is still reported" grep -q ",$$," "$TMP/out"

# --- two workloads ------------------------------------------------------

if ! [ -x "$WORKLOAD" ]; then
	skip "workload scans" "mp-workload is not built"
	echo "1..$n"
	exit 0
fi
start_workload && start_workload
check "workloads started" [ "${#pids[@]}" -eq 2 ]
w1=${pids[0]} w2=${pids[1]}

"$MEMPRINT" scan --pid "$w1" --pid "$w2" --json >"$TMP/scan.json" 2>"$TMP/err"
check "scan --json exits 0" [ $? -eq 0 ]
check "scan --json is JSON with the set keys" \
	[ "$(json "$TMP/scan.json" "sorted(k for k in ['mappings', 'zero_page_mappings', 'frames',
	'shared_frames', 'saved_by_sharing', 'duplicate_frames', 'duplicate_frames_nonzero',
	'zero_filled_frames', 'private_frames', 'ksm_frames', 'ksm_saved', 'ksm_remaining',
	'ksm_potential', 'opportunities'] if k in j) == sorted(['mappings', 'zero_page_mappings',
	'frames', 'shared_frames', 'saved_by_sharing', 'duplicate_frames',
	'duplicate_frames_nonzero', 'zero_filled_frames', 'private_frames', 'ksm_frames',
	'ksm_saved', 'ksm_remaining', 'ksm_potential', 'opportunities'])")" = True ]
check "scan --json lists both tasks" \
	[ "$(json "$TMP/scan.json" "sorted(t['pid'] for t in j['tasks'])")" = "[$((w1 < w2 ? w1 : w2)), $((w1 < w2 ? w2 : w1))]" ]

if [ "$(id -u)" -ne 0 ]; then
	skip "content of 80 frames found" "needs root to read PFNs"
else
	# Content 7: 40 frames in each arena, each frame mapped once.
	top="[c for c in j['contents'] if not c['zero_filled']][0]"
	check "content of 80 frames found" [ "$(json "$TMP/scan.json" "$top['frames']")" = 80 ]
	check "content of 80 mappings" [ "$(json "$TMP/scan.json" "$top['mappings']")" = 80 ]
	check "content is anonymous" [ "$(json "$TMP/scan.json" "$top['group']")" = anonymous ]
	check "content is across tasks" [ "$(json "$TMP/scan.json" "$top['external']")" = True ]
	check "each task has 40 frames with duplicates or more" \
		[ "$(json "$TMP/scan.json" "min(t['frames_with_duplicates'] for t in j['tasks'])")" -ge 40 ]
	check "duplicates at least 79" [ "$(json "$TMP/scan.json" "j['duplicate_frames']")" -ge 79 ]
	check "pfn_valid is true" [ "$(json "$TMP/scan.json" "j['pfn_valid']")" = True ]
fi

"$MEMPRINT" scan --pid "$w1" --pid "$w2" >"$TMP/table" 2>"$TMP/err"
check "scan table exits 0" [ $? -eq 0 ]
check "scan table answers what is shared" grep -q '^Already shared:' "$TMP/table"
check "scan table answers what could be merged" grep -q '^Could be merged:' "$TMP/table"
check "scan table shows the KSM numbers" grep -q '^KSM:' "$TMP/table"
check "scan table lists top tasks" grep -q "^ *$w1 mp-workload" "$TMP/table"
check "scan table writes nothing on stderr" [ ! -s "$TMP/err" ]

"$MEMPRINT" scan --pid "$w1" --bytes >"$TMP/table" 2>"$TMP/err"
frames=$(sed -n 's/^Resident: *\([0-9]*\) in \([0-9]*\) frames.*/\1 \2/p' "$TMP/table")
check "scan --bytes prints exact bytes" [ -n "$frames" ] && \
	check "scan --bytes is 4096 per frame" [ "${frames% *}" -eq $((${frames#* } * 4096)) ]

"$MEMPRINT" scan --pid "$w1" --pid "$w2" --csv >"$TMP/csv" 2>"$TMP/err"
check "scan --csv exits 0" [ $? -eq 0 ]
check "scan --csv header starts with set,mappings" grep -q '^set,mappings,zero_page_mappings,frames,' "$TMP/csv"
check "scan --csv has one row" [ "$(wc -l <"$TMP/csv")" -eq 2 ]
check "scan --csv row has every column" \
	[ "$(head -1 "$TMP/csv" | tr ',' '\n' | wc -l)" -eq "$(tail -1 "$TMP/csv" | tr ',' '\n' | wc -l)" ]

"$MEMPRINT" scan --pid "$w1" --pid "$w2" --csv --by task >"$TMP/csv" 2>"$TMP/err"
check "scan --csv --by task has a row per task" [ "$(wc -l <"$TMP/csv")" -eq 3 ]

"$MEMPRINT" scan --pid "$w1" --by kind >"$TMP/table" 2>"$TMP/err"
check "scan --by kind lists the kinds" grep -q '^anonymous' "$TMP/table"

"$MEMPRINT" scan --pid "$w1" --pid "$w2" -o "$TMP/snap" --json >"$TMP/scan2.json" 2>"$TMP/err"
check "scan -o exits 0" [ $? -eq 0 ]
check "scan -o writes the file 0600" [ "$(stat -c %a "$TMP/snap")" = 600 ]
"$MEMPRINT" analyze "$TMP/snap" --json >"$TMP/analyze.json" 2>"$TMP/err"
check "analyze of scan -o exits 0" [ $? -eq 0 ]
check "analyze of scan -o gives the same frames" \
	[ "$(json "$TMP/analyze.json" "j['frames']")" = "$(json "$TMP/scan2.json" "j['frames']")" ]
check "analyze of scan -o gives the same duplicates" \
	[ "$(json "$TMP/analyze.json" "j['duplicate_frames']")" = "$(json "$TMP/scan2.json" "j['duplicate_frames']")" ]

echo "1..$n"
