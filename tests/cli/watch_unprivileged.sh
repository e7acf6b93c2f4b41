#!/bin/bash
# memprint watch and timeline of a series taken by a user without
# CAP_SYS_ADMIN, who sees no PFNs: the numbers that need PFNs are unknown
# ("-" in tables, empty in CSV, null in JSON, as memprint analyze prints
# them), the hidden-PFN warning comes once per watch, and the numbers that
# do not need PFNs are still there.  As root, setpriv runs mp-workload and
# the watch as nobody.  Prints TAP.
#
# By hand: sets 0-1 see the workload's 256 unique pages, sets 2-3 the same
# after 64 of them got one content, which adds 63 duplicate frames.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
n=0
workload_pid=
TMP=

cleanup() {
	[ -n "$workload_pid" ] && kill "$workload_pid" 2>/dev/null
	wait 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$WORKLOAD" ]; then
	echo "1..0 # SKIP memprint or mp-workload not built"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v python3 >/dev/null
then
	echo "1..0 # SKIP needs root, setpriv and python3 to watch as nobody"
	exit 0
fi

# The user nobody writes the series into a directory that it owns.
TMP=$(mktemp -d /tmp/memprint-nopfn.XXXXXX)
chmod 755 "$TMP"
mkdir "$TMP/nobody"
chown 65534:65534 "$TMP/nobody"
series=$TMP/nobody/s.mps

mkfifo "$TMP/in" "$TMP/out"
"${NOBODY[@]}" "$WORKLOAD" 256 <"$TMP/in" >"$TMP/out" &
workload_pid=$!
exec 3>"$TMP/in" 4<"$TMP/out"
read -r -u 4 ready _
if [ "${ready:-}" != ready ]; then
	echo "1..0 # SKIP mp-workload did not start as nobody"
	exit 0
fi
step() {
	echo "$1" >&3
	read -r -u 4 reply
	[ "$reply" = ok ]
}

# ---------------------------------------------------------------- watch
"${NOBODY[@]}" "$MEMPRINT" watch --pid "$workload_pid" --interval 50ms --count 2 \
	-o "$series" >"$TMP/watch.table" 2>"$TMP/watch.err"
status=$?
step "fill 0 64 7" &&
	"${NOBODY[@]}" "$MEMPRINT" watch --pid "$workload_pid" --interval 50ms --count 2 \
		--append --csv -o "$series" >"$TMP/watch.csv" 2>"$TMP/watch-csv.err"
check "watch as nobody takes 2 + 2 sets" [ "$status" -eq 0 -a $? -eq 0 ]

if ! grep -q "PFNs are hidden" "$TMP/watch.err"; then
	echo "1..0 # SKIP the kernel shows PFNs to nobody here"
	exit 0
fi
check "hidden PFNs are reported once in a watch of 2 sets" \
	[ "$(grep -c "PFNs are hidden" "$TMP/watch.err")" -eq 1 ]

# SET TIME TASKS FRAMES SHARED DUPLICATE NONZERO KSM-SAVED KSM-REMAIN DURATION
unknown=$(awk 'NR > 1 { print $5, $8, $9 }' "$TMP/watch.table" | sort -u)
check "watch table shows SHARED, KSM-SAVED and KSM-REMAIN as -" [ "$unknown" = "- - -" ]
known=$(awk 'NR > 1 && $4 !~ /^[0-9.]+[KMGT]$/ { print }' "$TMP/watch.table")
check "watch table shows FRAMES as a size" [ -z "$known" ]

csv_fields=$(python3 - "$TMP/watch.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2, rows
for row in rows:
    for key in ("shared_frames", "ksm_saved", "ksm_remaining"):
        assert row[key] == "", (key, row[key])
    for key in ("frames", "duplicate_frames", "duplicate_frames_nonzero"):
        assert row[key].isdigit(), (key, row[key])
print("ok")
EOF
) 2>&1
check "watch CSV leaves shared_frames, ksm_saved, ksm_remaining empty" [ "$csv_fields" = ok ]

# As root, the same process has PFNs: the same columns hold numbers.
"$MEMPRINT" watch --pid "$workload_pid" --interval 50ms --count 1 --csv -o "$TMP/root.mps" \
	>"$TMP/root.csv" 2>/dev/null
root_shared=$(awk -F, 'NR == 2 { print $6 }' "$TMP/root.csv")
check "watch CSV as root has a number for shared_frames" [ -n "$root_shared" ]

# Files that nobody may not open for writing: the kernel will not tell
# nobody their residency, so every page-cache number is unknown.
mkdir "$TMP/cache"
head -c 16384 /dev/urandom >"$TMP/cache/a"
cp "$TMP/cache/a" "$TMP/cache/b"
cat "$TMP/cache/a" "$TMP/cache/b" >/dev/null
"${NOBODY[@]}" "$MEMPRINT" watch --pid "$workload_pid" --page-cache "$TMP/cache" \
	--interval 50ms --count 1 -o "$TMP/nobody/cache.mps" >"$TMP/cache.table" 2>/dev/null
check "watch --page-cache as nobody exits 0" [ $? -eq 0 ]
# ... DURATION CACHED CACHE-DUP CACHE-MIXED
unknown=$(awk 'NR > 1 { print $(NF - 2), $(NF - 1), $NF }' "$TMP/cache.table")
check "watch shows the cache columns of unknown residency as -" [ "$unknown" = "- - -" ]
cache_json=$("$MEMPRINT" timeline --json "$TMP/nobody/cache.mps" 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin)["sets"][0]["page_cache"]
print(c["files"], c["files_unknown"], c["frames"], c["duplicate_frames"], c["duplicate_percent"])')
check "timeline gives null page-cache numbers for unknown residency" \
	[ "$cache_json" = "0 2 None None None" ]

echo exit >&3
exec 3>&- 4<&-
wait "$workload_pid"
workload_pid=

# ---------------------------------------------------------------- timeline
"$MEMPRINT" timeline --json "$series" >"$TMP/timeline.json" 2>"$TMP/timeline.err"
check "timeline --json of the series exits 0" [ $? -eq 0 ]
check "timeline says once that the sets have no PFNs" \
	[ "$(grep -c "PFNs" "$TMP/timeline.err")" -eq 1 ]
"$MEMPRINT" analyze --json "$series" >"$TMP/analyze.json" 2>/dev/null
check "analyze --json of the series exits 0" [ $? -eq 0 ]

json=$(python3 - "$TMP/timeline.json" "$TMP/analyze.json" <<'EOF'
import json, sys
timeline = json.load(open(sys.argv[1]))
analyze = json.load(open(sys.argv[2]))["sets"]
unknown = ["zero_page_mappings", "shared_frames", "saved_by_sharing", "private_frames",
           "ksm_frames", "ksm_saved", "ksm_remaining", "ksm_lag_share"]
assert len(timeline["sets"]) == 4, len(timeline["sets"])
assert len(analyze) == 4, len(analyze)
for t, a in zip(timeline["sets"], analyze):
    assert a["pfn_valid"] is False
    for key in unknown:
        assert t[key] is None, (key, t[key])
    # Every key that both print has the same value, null or not.
    for key in set(t) & set(a):
        if key not in ("opportunities", "time"):
            assert t[key] == a[key], (key, t[key], a[key])
    assert isinstance(t["frames"], int) and isinstance(t["tracked_mappings"], int)
nonzero = [s["duplicate_frames_nonzero"] for s in timeline["sets"]]
assert nonzero[2] - nonzero[0] == 63, nonzero
assert nonzero[3] - nonzero[1] == 63, nonzero
ksm = timeline["ksm"]
assert ksm["max_remaining"] is None, ksm
assert ksm["mean_lag_share"] is None, ksm
print("ok")
EOF
) 2>&1
check "timeline JSON gives null where analyze does, and the same numbers" [ "$json" = ok ]

"$MEMPRINT" timeline --csv "$series" >"$TMP/timeline.csv" 2>/dev/null
csv_fields=$(python3 - "$TMP/timeline.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 4
for row in rows:
    for key in ("zero_page_mappings", "shared_frames", "saved_by_sharing", "private_frames",
                "ksm_frames", "ksm_saved", "ksm_remaining", "ksm_lag_share"):
        assert row[key] == "", (key, row[key])
    for key in ("mappings", "frames", "duplicate_frames", "ksm_potential", "tracked_mappings"):
        assert row[key].isdigit(), (key, row[key])
print("ok")
EOF
) 2>&1
check "timeline CSV leaves the numbers that need PFNs empty" [ "$csv_fields" = ok ]

"$MEMPRINT" timeline "$series" >"$TMP/timeline.table" 2>/dev/null
# SET TIME FRAMES SHARED DUPLICATE NONZERO DUP% CHURN STABLE KSM-SAVED KSM-LAG
unknown=$(awk 'NR > 1 { print $4, $10, $11 }' "$TMP/timeline.table" | sort -u)
check "timeline table shows SHARED, KSM-SAVED and KSM-LAG as -" [ "$unknown" = "- - -" ]

"$MEMPRINT" timeline --ksm "$series" >"$TMP/ksm.table" 2>/dev/null
# SET TIME POTENTIAL SAVED REMAINING LAG% PAGES-SHARING FULL-SCANS
unknown=$(awk '$1 ~ /^[0-9]+$/ { print $4, $5, $6 }' "$TMP/ksm.table" | sort -u)
check "timeline --ksm shows SAVED, REMAINING and LAG% as -" [ "$unknown" = "- - -" ]
check "timeline --ksm says the lag is unknown" grep -q "KSM lag: unknown" "$TMP/ksm.table"

echo "1..$n"
