#!/bin/bash
# memprint snapshot and memprint analyze: usage errors, bad files, and the
# rules for sets: each set of one file on its own, the n-th sets of several
# files together.  Two workloads hold 40 pages of content 7 each.  Prints
# TAP.  Checks that need PFNs (root) skip without them.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
TMP=$(mktemp -d /tmp/memprint-analyze.XXXXXX)
n=0
pids=()
. tests/cli/workloads.bash
trap cleanup EXIT

# --- usage -------------------------------------------------------------

"$MEMPRINT" analyze --help >"$TMP/out" 2>"$TMP/err"
check "analyze --help exits 0" [ $? -eq 0 ]
check "analyze --help prints usage on stdout" grep -q '^ memprint analyze \[options\] FILE' "$TMP/out"
"$MEMPRINT" snapshot --help >"$TMP/out" 2>"$TMP/err"
check "snapshot --help exits 0" [ $? -eq 0 ]
check "snapshot --help prints usage on stdout" grep -q '^ memprint snapshot \[options\] TARGETS' "$TMP/out"

expect_status "analyze without files exits 1" 1 'no snapshot file' analyze
expect_status "analyze --by bogus exits 1" 1 "invalid --by value 'bogus'" analyze --by bogus x
expect_status "analyze --top 0 exits 1" 1 "invalid --top value '0'" analyze --top 0 x
expect_status "analyze --csv --json exits 1" 1 '--json and --csv exclude each other' analyze --csv --json x
expect_status "analyze --use-zero-pages bogus exits 1" 1 "invalid --use-zero-pages" \
	analyze --use-zero-pages maybe x
expect_status "analyze --max-page-sharing 1 exits 1" 1 "invalid --max-page-sharing" \
	analyze --max-page-sharing 1 x
expect_status "analyze of a missing file exits 2" 2 "$TMP/missing" analyze "$TMP/missing"
head -c 10000 /dev/urandom >"$TMP/garbage"
expect_status "analyze of a garbage file exits 2" 2 "$TMP/garbage" analyze "$TMP/garbage"
: >"$TMP/empty"
expect_status "analyze of an empty file exits 2" 2 "$TMP/empty" analyze "$TMP/empty"

expect_status "snapshot without -o exits 1" 1 'no output file' snapshot --pid $$
expect_status "snapshot --source bogus exits 1" 1 "invalid --source value 'bogus'" \
	snapshot --pid $$ -o "$TMP/x" --source bogus
expect_status "snapshot without targets exits 1" 1 'no targets' snapshot -o "$TMP/x"
expect_status "snapshot --freeze with kmod exits 1" 1 'procfs only' \
	snapshot --pid $$ -o "$TMP/x" --source kmod --freeze
check "snapshot usage errors write no file" [ ! -e "$TMP/x" ]

# --- files of two workloads ----------------------------------------------

if ! [ -x "$WORKLOAD" ]; then
	skip "snapshot files" "mp-workload is not built"
	echo "1..$n"
	exit 0
fi
start_workload && start_workload
check "workloads started" [ "${#pids[@]}" -eq 2 ]
w1=${pids[0]} w2=${pids[1]}

"$MEMPRINT" snapshot --pid "$w1" -o "$TMP/one" 2>"$TMP/err"
check "snapshot exits 0" [ $? -eq 0 ]
check "snapshot writes nothing on stderr" [ ! -s "$TMP/err" ]
check "snapshot file has mode 0600" [ "$(stat -c %a "$TMP/one")" = 600 ]
"$MEMPRINT" snapshot --pid "$w2" -o "$TMP/two" --compress 2>"$TMP/err"
check "snapshot --compress exits 0" [ $? -eq 0 ]

"$MEMPRINT" analyze "$TMP/one" --json >"$TMP/one.json" 2>"$TMP/err"
check "analyze of one file exits 0" [ $? -eq 0 ]
"$MEMPRINT" analyze "$TMP/one" "$TMP/two" --json >"$TMP/both.json" 2>"$TMP/err"
check "analyze of two files exits 0" [ $? -eq 0 ]
check "two files form one set" [ "$(json "$TMP/both.json" "j['sets']")" = 2 ]
check "two files give both tasks" [ "$(json "$TMP/both.json" "len(j['tasks'])")" = 2 ]

if [ "$(id -u)" -ne 0 ]; then
	skip "content within one task" "needs root to read PFNs"
else
	top="[c for c in j['contents'] if not c['zero_filled']][0]"
	check "one file: 40 frames of content 7" [ "$(json "$TMP/one.json" "$top['frames']")" = 40 ]
	check "one file: content within one task" \
		[ "$(json "$TMP/one.json" "$top['external']")" = False ]
	check "two files: 80 frames of content 7" [ "$(json "$TMP/both.json" "$top['frames']")" = 80 ]
	check "two files: content across tasks" \
		[ "$(json "$TMP/both.json" "$top['external']")" = True ]
fi

# A series: a second set appended to the first file.
"$MEMPRINT" snapshot --pid "$w1" -o "$TMP/one" --append 2>"$TMP/err"
check "snapshot --append exits 0" [ $? -eq 0 ]
"$MEMPRINT" analyze "$TMP/one" --json >"$TMP/series.json" 2>"$TMP/err"
check "analyze of a series exits 0" [ $? -eq 0 ]
check "a series gives one report per set" \
	[ "$(json "$TMP/series.json" "len(j['sets'])")" = 2 ]
"$MEMPRINT" analyze "$TMP/one" --csv >"$TMP/series.csv" 2>"$TMP/err"
check "a series gives one CSV row per set" [ "$(cut -d, -f1 "$TMP/series.csv" | tr '\n' ' ')" = "set 0 1 " ]
"$MEMPRINT" analyze "$TMP/one" >"$TMP/series.table" 2>"$TMP/err"
check "a series table names each set" grep -q '^Set 1 (2 of 2):' "$TMP/series.table"

# A keyed hash changes the digests but not the groups.
head -c 32 /dev/urandom >"$TMP/key"
"$MEMPRINT" snapshot --pid "$w1" -o "$TMP/keyed" --hash-key "$TMP/key" 2>"$TMP/err"
check "snapshot --hash-key exits 0" [ $? -eq 0 ]
"$MEMPRINT" analyze "$TMP/keyed" --json >"$TMP/keyed.json" 2>"$TMP/err"
if [ "$(id -u)" -eq 0 ]; then
	top="[c for c in j['contents'] if not c['zero_filled']][0]"
	check "keyed: 40 frames of content 7" [ "$(json "$TMP/keyed.json" "$top['frames']")" = 40 ]
	check "keyed: another digest" \
		[ "$(json "$TMP/keyed.json" "$top['digest_key']")" != "$(json "$TMP/one.json" "$top['digest_key']")" ]
fi
expect_status "snapshot --hash-key of a missing file exits 2" 2 "$TMP/nokey" \
	snapshot --pid "$w1" -o "$TMP/k2" --hash-key "$TMP/nokey"

# Analyzing files of different hashes together is a runtime failure.
"$MEMPRINT" snapshot --pid "$w2" -o "$TMP/sha" --hash sha256 2>"$TMP/err"
expect_status "analyze of mixed hashes exits 2" 2 'hashes differ' analyze "$TMP/two" "$TMP/sha"

# A file cut short (a killed writer): the complete sets before the cut are
# reported, with a warning.
size=$(stat -c %s "$TMP/one")
head -c $((size - 100)) "$TMP/one" >"$TMP/cut"
"$MEMPRINT" analyze "$TMP/cut" --csv >"$TMP/cut.csv" 2>"$TMP/err"
rc=$?
check "analyze of a cut file exits 0" [ "$rc" -eq 0 ]
check "cut file: the first set is reported" [ "$(wc -l <"$TMP/cut.csv")" -eq 2 ]
check "cut file: a warning names the file" grep -q "$TMP/cut" "$TMP/err"
check "cut file: the warning counts the sets" grep -q 'reporting the 1 complete sets' "$TMP/err"

# Corrupt data in the last set is a failure, unlike a cut tail, but the
# complete sets before it are still reported.
cp "$TMP/one" "$TMP/corrupt"
printf '\377' | dd of="$TMP/corrupt" bs=1 seek=$((size - 200)) conv=notrunc 2>/dev/null
"$MEMPRINT" analyze "$TMP/corrupt" --csv >"$TMP/corrupt.csv" 2>"$TMP/err"
rc=$?
check "analyze of a corrupt file exits 2" [ "$rc" -eq 2 ]
check "corrupt file: the first set is reported" [ "$(wc -l <"$TMP/corrupt.csv")" -eq 2 ]
check "corrupt file: the error names file and offset" grep -q "$TMP/corrupt: offset [0-9]*:" "$TMP/err"

echo "1..$n"
