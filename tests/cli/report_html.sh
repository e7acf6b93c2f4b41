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
expect_status "a missing file is a runtime failure" 2 "missing.mps" \
	report "$TMP/missing.mps" -o "$TMP/r.html"
printf 'not a snapshot file\n' >"$TMP/junk.mps"
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
  "fastest_exact": "xxh3"
}
JSON

# ---------------------------------------------------------------- the page
"$MEMPRINT" report "$TMP/s.mps" "$TMP/one.mps" "$TMP/hb.json" -o "$TMP/r.html" \
	--png "$TMP/png" --svg "$TMP/svg" 2>"$TMP/err"
check "report exits 0" [ $? -eq 0 ]
check "report prints nothing on stderr" [ ! -s "$TMP/err" ]
check "the page references nothing outside itself" python3 "$CHECK" refs "$TMP/r.html"
check "the figures of a series draw their series" python3 "$CHECK" figures "$TMP/r.html" \
	fig-1-frames=6 fig-1-ksm=3 fig-1-churn=3 fig-1-lifetimes=4 fig-1-kinds=4 fig-1-tasks=4
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
"$MEMPRINT" analyze "$TMP/one.mps" --json >"$TMP/one.json" 2>/dev/null
check "the summary table's numbers equal memprint analyze --json" \
	python3 "$CHECK" analyze "$TMP/r.html" 2 "$TMP/one.json"
# Worked out by hand from the workload's steps: 24 more copies of content 7,
# then the 40 copies made unique.
check "24 pages of content 7 added 24 duplicate frames" \
	python3 "$CHECK" delta "$TMP/r.html" duplicate_frames 2 0 24
check "making the 64 pages unique removed 39 duplicate frames" \
	python3 "$CHECK" delta "$TMP/r.html" duplicate_frames 4 0 -39
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
