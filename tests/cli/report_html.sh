#!/bin/bash
# memprint report: usage errors; a report of a series, a one-set snapshot
# and a hashbench result: the page references nothing outside itself,
# each figure draws the expected series, the plotted numbers equal those
# of memprint timeline --json, the figure files, and a screenshot in
# headless Chromium with networking switched off.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
CHECK=$PWD/tests/report/check-report.py
SHOT=$PWD/tests/report/chromium-shot
TMP=$(mktemp -d /tmp/memprint-report.XXXXXX)
n=0
pids=()

# shellcheck source=workloads.bash
. tests/cli/workloads.bash
trap cleanup EXIT

if [ ! -x "$MEMPRINT" ] || [ ! -x "$WORKLOAD" ]; then
	echo "1..0 # SKIP memprint or mp-workload not built"
	exit 0
fi

# ---------------------------------------------------------------- usage
"$MEMPRINT" report --help >"$TMP/help" 2>&1
check "report --help exits 0" [ $? -eq 0 ]
check "report --help names --png" grep -q -- "--png" "$TMP/help"
expect_status "report without a file is a usage error" 1 "no input file" report -o "$TMP/r.html"
expect_status "report without -o is a usage error" 1 "no output file" report "$TMP/x.mps"
expect_status "invalid --top is a usage error" 1 "--top" report --top 0 -o "$TMP/r.html" x
expect_status "a --png directory with a newline is a usage error" 1 \
	"invalid --png or --svg directory" report --png "$TMP/a
b" -o "$TMP/r.html" x
expect_status "a missing file is a runtime failure" 2 "missing.mps" \
	report "$TMP/missing.mps" -o "$TMP/r.html"
printf 'not a snapshot file\n' >"$TMP/junk.mps"
expect_status "an input that is not a regular file is a runtime failure" 2 \
	"/dev/null: not a regular file: .*save a pipe's data to a file first" \
	report -o "$TMP/r.html" /dev/null
expect_status "a file that is not a snapshot is a runtime failure" 2 "junk.mps" \
	report "$TMP/junk.mps" -o "$TMP/r.html"
printf '{"source": "x"}\n' >"$TMP/junk.json"
expect_status "JSON that is not a hashbench result is a runtime failure" 2 \
	"not a memprint hashbench" report "$TMP/junk.json" -o "$TMP/r.html"

if ! command -v gnuplot >/dev/null; then
	skip "reports" "gnuplot is not installed (Debian's gnuplot-nox)"
	echo "1..$n"
	exit 0
fi

# ---------------------------------------------------------------- inputs
# Sets 0-1: 40 pages of content 7; 2-3: 24 more of it; 4-5: 64 unique pages.
start_workload
check "the workload runs" [ ${#pids[@]} -eq 1 ]
watch() {
	"$MEMPRINT" watch --pid "${pids[0]}" --interval 50ms --count "$1" --append \
		-o "$TMP/s.mps" >/dev/null 2>&1
}
step() {
	echo "$1" >&3
	read -r -u 4 reply
	[ "$reply" = ok ]
}
watch 2 && step "fill 40 24 7" && watch 2 && step "unique 0 64 9000" && watch 2
check "a six-set series was taken" [ $? -eq 0 ]
"$MEMPRINT" snapshot --pid "${pids[0]}" -o "$TMP/one.mps" >/dev/null 2>&1
check "a one-set snapshot was taken" [ $? -eq 0 ]

# A hashbench result written by hand, with the keys of docs/hashbench.md.
cat >"$TMP/hb.json" <<'JSON'
{
  "source": "hand-made", "pages": 100, "contents": 60, "duplicate_pages": 40,
  "read": {"seconds": 0.001, "gb_per_s": 9.500, "pages_per_s": 1, "vs_read": 1.0},
  "hashes": [
    {"hash": "xxh3", "digest_bits": 64, "gb_per_s": 7.250, "vs_read": 0.7632,
     "digests": 60, "false_positive_groups": 0, "false_positive_pages": 0},
    {"hash": "crc32", "digest_bits": 32, "gb_per_s": 3.125, "vs_read": 0.3289,
     "digests": 59, "false_positive_groups": 1, "false_positive_pages": 1}
  ],
  "fastest_exact": "xxh3", "recommended": "xxh3", "tie_percent": 3,
  "fastest_32bit_exact": null, "birthday_collisions_32bit": 3.9e-07
}
JSON

# ---------------------------------------------------------------- the page
"$MEMPRINT" report "$TMP/s.mps" "$TMP/one.mps" "$TMP/hb.json" -o "$TMP/r.html" \
	--png "$TMP/png" --svg "$TMP/svg" 2>"$TMP/err"
check "report exits 0" [ $? -eq 0 ]
check "report prints nothing on stderr" [ ! -s "$TMP/err" ]
check "the page references nothing outside itself" python3 "$CHECK" refs "$TMP/r.html"
check "the figures of a series draw their series" python3 "$CHECK" figures "$TMP/r.html" \
	fig-1-frames=6 fig-1-ksm=3 fig-1-churn=3 fig-1-kinds=4 fig-1-tasks=4
# Content 7 is an opportunity in sets 0-3: one content run, censored as it
# began at the first set, so no content run is complete and its two series
# are unknown, left out with a note.  Pages 40-63 hold content 7 in sets
# 2-3 only: 24 complete merge runs, drawn.
check "the lifetimes draw only the merge lifetime" python3 "$CHECK" figures "$TMP/r.html" \
	fig-1-lifetimes=2
check "the lifetimes say there is no complete content run" \
	grep -q "No complete run of a content lifetime" "$TMP/r.html"
check "the summary numbers sets from 0, as watch does" \
	grep -q "set 5, the last of 6 sets (numbered from 0)" "$TMP/r.html"
check "the summary of a one-set file names its set 0" \
	grep -q "set 0, the last of 1 set (numbered from 0)" "$TMP/r.html"
check "a one-set snapshot has its breakdowns" python3 "$CHECK" figures "$TMP/r.html" \
	fig-2-kinds=4 fig-2-tasks=4
check "a one-set snapshot has no time series" bash -c "! grep -q 'fig-2-frames' $TMP/r.html"
check "the hash study draws one bar series" python3 "$CHECK" figures "$TMP/r.html" \
	fig-3-hash-throughput=1
check "every chart names the command of its data" \
	[ "$(grep -c '<figcaption>.*Data: <code>memprint ' "$TMP/r.html")" -eq \
	  "$(grep -c '<figure ' "$TMP/r.html")" ]

"$MEMPRINT" timeline "$TMP/s.mps" --json --lifetimes --churn --ksm >"$TMP/tl.json" 2>/dev/null
check "the plotted numbers equal memprint timeline --json" \
	python3 "$CHECK" golden "$TMP/r.html" "$TMP/tl.json"
check "the lifetime axis ends at the last threshold of timeline" \
	python3 "$CHECK" axis "$TMP/r.html" fig-1-lifetimes "$TMP/tl.json"
"$MEMPRINT" analyze "$TMP/one.mps" --json >"$TMP/one.json" 2>/dev/null
check "the summary table's numbers equal memprint analyze --json" \
	python3 "$CHECK" analyze "$TMP/r.html" 2 "$TMP/one.json"
# Worked out by hand from the workload's steps: 24 more copies of content 7,
# then the 40 copies made unique.
check "24 pages of content 7 added 24 duplicate frames" \
	python3 "$CHECK" delta "$TMP/r.html" duplicate_frames 2 0 24
check "making the 64 pages unique removed 39 duplicate frames" \
	python3 "$CHECK" delta "$TMP/r.html" duplicate_frames 4 0 -39
check "the hash study gives hashbench's verdict" \
	grep -q "Recommended: <strong>xxh3</strong>" "$TMP/r.html"
check "the hash study keeps the bars' numbers" \
	grep -q '"hash":"crc32","gb_per_s":3.125' "$TMP/r.html"

# Corrupt one plotted number: the golden check must see it.
sed 's/\("points":\[{[^}]*"private_frames":\)[0-9]*/\112345/' "$TMP/r.html" >"$TMP/bad.html"
check "the golden check catches a wrong number" \
	bash -c "! python3 '$CHECK' golden '$TMP/bad.html' '$TMP/tl.json' 2>/dev/null"

check "--png wrote every figure" [ "$(ls "$TMP/png" | grep -c '\.png$')" -eq \
				  "$(grep -c '<figure ' "$TMP/r.html")" ]
check "the PNG files are PNG" \
	bash -c "head -c 8 '$TMP/png/1-frames.png' | od -An -c | grep -q 'P   N   G'"
check "--svg wrote every figure" [ "$(ls "$TMP/svg" | grep -c '\.svg$')" -eq \
				  "$(grep -c '<figure ' "$TMP/r.html")" ]

# The page and the figures name commands and paths, as a snapshot does: 0600.
check "the report is written mode 0600" [ "$(stat -c %a "$TMP/r.html")" = 600 ]
check "the --png and --svg files are mode 0600" \
	[ -z "$(find "$TMP/png" "$TMP/svg" -type f ! -perm 0600)" ]
install -m 0644 /dev/null "$TMP/old.html"
"$MEMPRINT" report "$TMP/one.mps" -o "$TMP/old.html" 2>/dev/null
check "a report over a 0644 file leaves it 0600" [ "$(stat -c %a "$TMP/old.html")" = 600 ]

# ---------------------------------------------------------------- without PFNs
# A snapshot and a 3-set series that nobody takes of a process of nobody's:
# no PFNs, so shared, private and KSM frames are unknown (analyze --json
# gives null), and an unchanged workload has no complete run.
nobody_run() {
	exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
if [ "$(id -u)" -ne 0 ]; then
	skip "reports without PFNs" "needs root to run processes as nobody"
else
	chmod 0711 "$TMP"
	mkdir -m 0777 "$TMP/nb"
	mkfifo "$TMP/nb.in" "$TMP/nb.out"
	exec 7<>"$TMP/nb.in" 8<>"$TMP/nb.out"
	(nobody_run "$WORKLOAD" 64 <&7 >&8 2>/dev/null) &
	nb_pid=$!
	pids+=("$nb_pid")
	read -r -t 10 -u 8 reply _
	echo "fill 0 40 7" >&7
	read -r -t 10 -u 8 reply
	(nobody_run "$MEMPRINT" snapshot --pid "$nb_pid" -o "$TMP/nb/one.mps") >/dev/null 2>&1 &&
	(nobody_run "$MEMPRINT" watch --pid "$nb_pid" --interval 50ms --count 3 \
		-o "$TMP/nb/s.mps") >/dev/null 2>&1
	check "nobody took a snapshot and a series" [ $? -eq 0 -a "${reply:-}" = ok ]
	"$MEMPRINT" report "$TMP/nb/one.mps" "$TMP/nb/s.mps" -o "$TMP/nb.html" 2>/dev/null
	check "report of sets without PFNs exits 0" [ $? -eq 0 ]
	"$MEMPRINT" analyze "$TMP/nb/one.mps" --json >"$TMP/nb.json" 2>/dev/null
	check "without PFNs the data block has analyze's nulls" \
		python3 "$CHECK" analyze "$TMP/nb.html" 1 "$TMP/nb.json"
	check "without PFNs the summary says unknown, not 0" python3 "$CHECK" unknown \
		"$TMP/nb.html" shared_frames saved_by_sharing private_frames ksm_saved
	check "without PFNs the breakdowns draw frames and frames with duplicates" \
		python3 "$CHECK" figures "$TMP/nb.html" fig-1-kinds=2 fig-1-tasks=2
	check "without PFNs the series leave out shared, private and KSM saved" \
		python3 "$CHECK" figures "$TMP/nb.html" fig-2-frames=4 fig-2-ksm=1
	check "the series' data block has null for them" python3 "$CHECK" null-points \
		"$TMP/nb.html" 2 private_frames shared_frames ksm_saved ksm_remaining
	check "an unchanged series has no lifetimes figure" \
		bash -c "! grep -q 'fig-2-lifetimes' '$TMP/nb.html'"
	check "and says why" grep -q "No complete run of a content lifetime" "$TMP/nb.html"
fi

# ---------------------------------------------------------------- page cache
# Files a (8 random pages), b (4), c (a copy of b); mp-pc-holder maps a and
# holds anonymous copies of b's pages 0-3 and 0 again.  By hand (as in
# watch_pagecache.sh): 3 files, 8 + 4 + 4 = 16 cached frames, 4 duplicate
# (c repeats b), 5 anonymous task frames equal to a cached page, 4
# contents held 3+ times by tasks and cache (b0 by 4, b1-b3 by 3), in 13
# frames.
if [ "$(id -u)" -ne 0 ] || [ ! -x "$PWD/$BUILD/tests/helpers/mp-pc-holder" ]; then
	skip "report of a page-cache series" "needs root and mp-pc-holder"
else
	pc=$(mktemp -d /var/tmp/mp-report-pc-XXXXXX)
	mkdir "$pc/files"
	head -c 32768 /dev/urandom >"$pc/files/a"
	head -c 16384 /dev/urandom >"$pc/files/b"
	cp "$pc/files/b" "$pc/files/c"
	cat "$pc/files/a" "$pc/files/b" "$pc/files/c" >/dev/null
	mkfifo "$pc/holder.in" "$pc/holder.out"
	"$PWD/$BUILD/tests/helpers/mp-pc-holder" "$pc/files/a" "$pc/files/b" \
		<>"$pc/holder.in" >"$pc/holder.out" &
	pids+=($!)
	read -r -t 30 reply <"$pc/holder.out"
	"$MEMPRINT" watch --pid "${pids[-1]}" --page-cache "$pc/files" --interval 100ms \
		--count 3 -o "$pc/series.mps" >/dev/null 2>&1
	check "a page-cache series was taken" [ $? -eq 0 -a "${reply:-}" = ready ]
	"$MEMPRINT" report "$pc/series.mps" -o "$TMP/pc.html" 2>/dev/null
	check "report of a page-cache series exits 0" [ $? -eq 0 ]
	check "the page-cache figure draws its three series" \
		python3 "$CHECK" figures "$TMP/pc.html" fig-1-page-cache=3
	check "the last set's page cache: 3 files, 16 cached, 4 duplicate, 5 equal, 4 in 13" \
		python3 "$CHECK" cache "$TMP/pc.html" files=3 frames=16 duplicate_frames=4 \
		cache_duplicate_frames=5 contents_three_plus_mixed=4 frames_three_plus_mixed=13
	"$MEMPRINT" timeline "$pc/series.mps" --json --lifetimes --churn --ksm \
		>"$TMP/pc.json" 2>/dev/null
	check "the plotted page-cache numbers equal memprint timeline --json" \
		python3 "$CHECK" golden "$TMP/pc.html" "$TMP/pc.json"
	check "a series without the page cache has no page-cache figure" \
		bash -c "! grep -q -e 'fig-1-page-cache' -e 'Page cache in the last' '$TMP/r.html'"
	rm -rf "$pc"
fi

# ---------------------------------------------------------------- long series
# 1100 sets of a 64-page workload: two sets a point, 550 points a line.
"$MEMPRINT" watch --pid "${pids[0]}" --interval 10ms --count 1100 -o "$TMP/long.mps" \
	>/dev/null 2>&1
check "a 1100-set series was taken" [ $? -eq 0 ]
"$MEMPRINT" report "$TMP/long.mps" -o "$TMP/long.html" 2>/dev/null
check "report of 1100 sets exits 0" [ $? -eq 0 ]
"$MEMPRINT" timeline "$TMP/long.mps" --json >"$TMP/long.json" 2>/dev/null
check "1100 sets are drawn as means of two" \
	python3 "$CHECK" aggregate "$TMP/long.html" "$TMP/long.json"
check "the page of 1100 sets stays under 1 MiB" \
	[ "$(stat -c %s "$TMP/long.html")" -lt 1048576 ]

# ---------------------------------------------------------------- Chromium
if [ ! -x /usr/bin/chromium ]; then
	skip "screenshot in headless Chromium" "chromium is not installed"
else
	"$SHOT" "$TMP/r.html" "$TMP/shot.png" 1100,2400
	check "headless Chromium renders the page" [ $? -eq 0 ] && [ -s "$TMP/shot.png" ]
	check "the screenshot is not blank" python3 "$CHECK" colours "$TMP/shot.png" 16
	check "the DOM has every figure" \
		[ "$(grep -c '<figure id="fig-' "$TMP/shot.png.dom")" -eq \
		  "$(grep -c '<figure ' "$TMP/r.html")" ]
fi

echo exit >&3
echo "1..$n"
