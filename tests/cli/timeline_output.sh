#!/bin/bash
# memprint timeline: usage errors, and the table, CSV and JSON forms of
# each section on a series that memprint watch took of mp-workload.
# The exact numbers are checked in tests/integration/test_watch_series.c;
# here the keys, the shapes and the exit codes.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
TMP=$(mktemp -d /tmp/memprint-timeline.XXXXXX)
n=0
workload_pid=

cleanup() {
	[ -n "$workload_pid" ] && kill "$workload_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$WORKLOAD" ]; then
	echo "1..0 # SKIP memprint or mp-workload not built"
	exit 0
fi

# ---------------------------------------------------------------- usage
"$MEMPRINT" timeline --help >"$TMP/help" 2>&1
check "timeline --help exits 0" [ $? -eq 0 ]
# As in memprint scan --help and util-linux: options indented by two spaces.
check "timeline --help indents options as scan does" grep -q '^  -l, --lifetimes ' "$TMP/help"
check "timeline --help says 'display this help'" grep -q '^  -h, --help  *display this help$' \
	"$TMP/help"
check "timeline --help names the man page, not a source file" \
	[ "$(grep -c 'memprint-timeline(1)' "$TMP/help")" -eq 1 -a "$(grep -c 'docs/' "$TMP/help")" -eq 0 ]
"$MEMPRINT" watch --help >"$TMP/help" 2>&1
check "watch --help indents options as scan does" grep -q '^  -i, --interval ' "$TMP/help"
"$MEMPRINT" timeline >/dev/null 2>&1
check "timeline without a file is a usage error" [ $? -eq 1 ]
"$MEMPRINT" timeline --stable-sets 0 x.mps >/dev/null 2>"$TMP/err"
check "invalid --stable-sets is a usage error" [ $? -eq 1 ]
check "invalid --stable-sets names the option" grep -q -- "--stable-sets" "$TMP/err"
"$MEMPRINT" timeline "$TMP/missing.mps" >/dev/null 2>&1
check "a missing file is a runtime failure" [ $? -eq 2 ]
printf 'not a snapshot file\n' >"$TMP/junk.mps"
"$MEMPRINT" timeline "$TMP/junk.mps" >/dev/null 2>&1
check "a file that is not a series is a runtime failure" [ $? -eq 2 ]

# ---------------------------------------------------------------- a series
# Sets 0-1: unique pages; 2-3: 64 pages share one content; 4: back to unique.
mkfifo "$TMP/in" "$TMP/out"
"$WORKLOAD" 256 <"$TMP/in" >"$TMP/out" &
workload_pid=$!
exec 3>"$TMP/in" 4<"$TMP/out"
read -r -u 4 _
watch() {
	"$MEMPRINT" watch --pid "$workload_pid" --interval 50ms --count "$1" --append \
		-o "$TMP/s.mps" >/dev/null 2>&1
}
step() {
	echo "$1" >&3
	read -r -u 4 reply
	[ "$reply" = ok ]
}
watch 2 && step "fill 0 64 7" && watch 2 && step "unique 0 64 9000" && watch 1
check "a five-set series was taken" [ $? -eq 0 ]
"$MEMPRINT" watch --pid "$workload_pid" --interval 50ms --count 2 -o "$TMP/two.mps" \
	>/dev/null 2>&1
check "a two-set series was taken" [ $? -eq 0 ]
echo exit >&3
exec 3>&- 4<&-
wait "$workload_pid"
workload_pid=

# ---------------------------------------------------------------- tables
"$MEMPRINT" timeline "$TMP/s.mps" >"$TMP/table" 2>&1
check "timeline table exits 0" [ $? -eq 0 ]
check "timeline table has a row per set" [ "$(grep -cE '^ *[0-9]+ ' "$TMP/table")" -eq 5 ]
"$MEMPRINT" timeline --lifetimes --churn --ksm "$TMP/s.mps" >"$TMP/sections" 2>&1
check "every section prints" [ $? -eq 0 ]
for heading in "Content lifetime" "Merge lifetime" "Churn:" "KSM lag"; do
	check "section '$heading' is there" grep -q "$heading" "$TMP/sections"
done
"$MEMPRINT" timeline --churn --stable-sets 1 "$TMP/s.mps" >"$TMP/churn" 2>&1
check "churn heading says 'unchanged for 1 set'" grep -q "unchanged for 1 set\$" "$TMP/churn"

# DUP% is duplicate_frames as a percentage of frames, to one decimal.
header_line=$(head -1 "$TMP/table")
check "table names the share of duplicates DUP%, not SAVABLE" \
	[ "$(grep -c ' DUP% ' <<<"$header_line")" -eq 1 -a "$(grep -c SAVABLE <<<"$header_line")" -eq 0 ]
"$MEMPRINT" timeline --csv "$TMP/s.mps" >"$TMP/dup.csv" 2>/dev/null
expected=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{ printf "%.1f%%\n", 100 * $col["duplicate_frames"] / $col["frames"] }' "$TMP/dup.csv")
dup_column=$(tr -s ' ' '\n' <<<"$header_line" | grep -n -x 'DUP%' | cut -d: -f1)
shown=$(awk -v c="${dup_column:-0}" 'NR > 1 { print $c }' "$TMP/table")
check "DUP% is duplicate_frames / frames of each set" [ -n "$shown" -a "$shown" = "$expected" ]

# A file cut inside its second set: one complete set.
size=$(stat -c %s "$TMP/two.mps")
head -c $((size - 40)) "$TMP/two.mps" >"$TMP/cut.mps"
"$MEMPRINT" timeline "$TMP/cut.mps" >/dev/null 2>"$TMP/cut.err"
check "a cut file reports 'the 1 complete set'" grep -q "the 1 complete set before it" "$TMP/cut.err"

# ---------------------------------------------------------------- CSV
"$MEMPRINT" timeline --csv "$TMP/s.mps" >"$TMP/sets.csv"
header=$(head -1 "$TMP/sets.csv")
for key in mappings zero_page_mappings frames shared_frames saved_by_sharing \
	duplicate_frames duplicate_frames_nonzero zero_filled_frames private_frames \
	ksm_frames ksm_saved ksm_remaining ksm_potential churn stable_mappings; do
	check "CSV has key $key" grep -qE "(^|,)$key(,|$)" <<<"$header"
done
# The shared content adds 63 duplicate frames in sets 2-3 over set 0.
column=$(tr , '\n' <<<"$header" | grep -nx duplicate_frames_nonzero | cut -d: -f1)
dup() { sed -n "$(($1 + 2))p" "$TMP/sets.csv" | cut -d, -f"$column"; }
check "set 2 has 63 more duplicate frames than set 0" [ $(($(dup 2) - $(dup 0))) -eq 63 ]
check "set 3 has 63 more duplicate frames than set 0" [ $(($(dup 3) - $(dup 0))) -eq 63 ]
"$MEMPRINT" timeline --csv --lifetimes "$TMP/s.mps" >"$TMP/lifetimes.csv"
check "lifetimes CSV has its header" \
	grep -qx "lifetime,longer_than_s,runs,runs_share,pages,pages_share,censored_runs,censored_pages" \
	"$TMP/lifetimes.csv"
"$MEMPRINT" timeline --csv --churn --ksm "$TMP/s.mps" >"$TMP/two.csv"
check "two CSV sections are separated by a blank line" [ "$(grep -c '^$' "$TMP/two.csv")" -eq 2 ]

# ---------------------------------------------------------------- JSON
"$MEMPRINT" timeline --json "$TMP/s.mps" >"$TMP/s.json"
check "timeline --json exits 0" [ $? -eq 0 ]
if command -v python3 >/dev/null; then
	python3 - "$TMP/s.json" >"$TMP/json.out" 2>&1 <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["set_count"] == 5, doc["set_count"]
assert len(doc["sets"]) == 5
for key in ("mappings", "frames", "duplicate_frames", "ksm_remaining", "churn"):
    assert all(isinstance(s[key], int) for s in doc["sets"]), key
assert set(doc["sets"][0]["opportunities"]) == {"anonymous", "named", "mixed", "internal", "external"}
assert doc["sets"][0]["ksm_lag_share"] is None or isinstance(doc["sets"][0]["ksm_lag_share"], float)
merge = doc["lifetimes"]["merge"]
assert len(merge["runs_by_sets"]) == 6
# The 64 shared pages form merges in sets 2-3: complete runs of 2 sets.
assert merge["runs_by_sets"][2] >= 64, merge["runs_by_sets"]
assert doc["churn"]["tasks"][0]["comm"] == "mp-workload"
print("ok")
EOF
	check "JSON is valid and holds every section" grep -qx ok "$TMP/json.out"
else
	skip "JSON is valid and holds every section" "python3 not installed"
fi

# A pipe cannot be read twice: the per-set analysis runs on the same thread.
"$MEMPRINT" timeline --json "$TMP/s.mps" >"$TMP/file.json"
"$MEMPRINT" timeline --json <(cat "$TMP/s.mps") >"$TMP/pipe.json" 2>"$TMP/pipe.err"
check "timeline reads a series from a pipe" [ $? -eq 0 ]
check "a pipe gives the same numbers as the file" \
	cmp -s <(sed 's/"file":"[^"]*",//' "$TMP/file.json") \
	       <(sed 's/"file":"[^"]*",//' "$TMP/pipe.json")

echo "1..$n"
