#!/bin/bash
# memprint watch: usage errors, a counted series, and every way a watch ends
# (count, SIGINT, targets gone, SIGKILL) leaving a file whose complete sets
# all analyse.  Prints TAP.
#
# Waits poll for output lines, never for a time: each wait gives up after
# 60 s only so that a broken build cannot hang the run.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
TMP=$(mktemp -d /tmp/memprint-watch.XXXXXX)
n=0
workload_pid=
watch_pid=

cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
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

# Start mp-workload with PAGES pages, its commands on fd 3, replies on fd 4.
start_workload() {
	rm -f "$TMP/in" "$TMP/out"
	mkfifo "$TMP/in" "$TMP/out"
	"$WORKLOAD" "$1" <"$TMP/in" >"$TMP/out" &
	workload_pid=$!
	exec 3>"$TMP/in" 4<"$TMP/out"
	read -r -u 4 ready _
	[ "$ready" = ready ]
}

stop_workload() {
	echo exit >&3
	exec 3>&- 4<&-
	wait "$workload_pid" 2>/dev/null
	workload_pid=
}

# Wait until FILE has at least N lines; fails after 60 s.
wait_lines() {
	local file=$1 lines=$2 tries=0
	while [ "$(cat "$file" 2>/dev/null | wc -l)" -lt "$lines" ]; do
		tries=$((tries + 1))
		[ "$tries" -gt 600 ] && return 1
		sleep 0.1
	done
}

# Data rows of a timeline CSV (header left out).
timeline_sets() {
	"$MEMPRINT" timeline "$1" --csv 2>"$TMP/timeline.err" | tail -n +2 | wc -l
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$WORKLOAD" ]; then
	echo "1..0 # SKIP memprint or mp-workload not built"
	exit 0
fi

# ---------------------------------------------------------------- usage
"$MEMPRINT" watch --help >"$TMP/help" 2>&1
check "watch --help exits 0" [ $? -eq 0 ]
"$MEMPRINT" watch -o "$TMP/x.mps" >/dev/null 2>&1
check "watch without a target is a usage error" [ $? -eq 1 ]
"$MEMPRINT" watch --pid 1 --interval 2parsecs -o "$TMP/x.mps" >/dev/null 2>"$TMP/err"
check "invalid --interval is a usage error" [ $? -eq 1 ]
check "invalid --interval names the option" grep -q -- "--interval" "$TMP/err"
"$MEMPRINT" watch --pid 1 >/dev/null 2>&1
check "watch without -o is a usage error" [ $? -eq 1 ]

# ---------------------------------------------------------------- count
start_workload 256
"$MEMPRINT" watch --pid "$workload_pid" --interval 100ms --count 3 --csv \
	-o "$TMP/count.mps" >"$TMP/count.csv" 2>"$TMP/count.err"
check "watch --count 3 exits 0" [ $? -eq 0 ]
check "watch prints a header and one CSV line per set" [ "$(wc -l <"$TMP/count.csv")" -eq 4 ]
check "watch CSV has the documented columns" \
	grep -qx "set,time,timestamp,tasks,frames,shared_frames,duplicate_frames,duplicate_frames_nonzero,ksm_saved,ksm_remaining,duration_ms" "$TMP/count.csv"
check "series file is created with mode 0600" [ "$(stat -c %a "$TMP/count.mps")" = 600 ]
check "timeline reads the 3 sets" [ "$(timeline_sets "$TMP/count.mps")" -eq 3 ]
# Each set saw the workload: at least its 256 arena pages as frames.
frames_ok=$(awk -F, 'NR > 1 && $5 < 256 { bad = 1 } END { print bad ? "no" : "yes" }' "$TMP/count.csv")
check "each set has the workload's pages" [ "$frames_ok" = yes ]

"$MEMPRINT" watch --pid "$workload_pid" --interval 100ms --count 2 --append --csv \
	-o "$TMP/count.mps" >/dev/null 2>&1
check "watch --append adds sets to the series" [ "$(timeline_sets "$TMP/count.mps")" -eq 5 ]

# ---------------------------------------------------------------- SIGINT
"$MEMPRINT" watch --pid "$workload_pid" --interval 100ms --csv -o "$TMP/int.mps" \
	>"$TMP/int.csv" 2>"$TMP/int.err" &
watch_pid=$!
if wait_lines "$TMP/int.csv" 3; then
	kill -INT "$watch_pid"
	wait "$watch_pid"
	status=$?
	watch_pid=
	check "watch stops on SIGINT with status 0" [ "$status" -eq 0 ]
	check "watch says it was stopped" grep -q "stopped by" "$TMP/int.err"
	printed=$(($(wc -l <"$TMP/int.csv") - 1))
	check "every set printed before SIGINT is in the file" \
		[ "$(timeline_sets "$TMP/int.mps")" -eq "$printed" ]
	check "a file ended by SIGINT has no cut tail" [ ! -s "$TMP/timeline.err" ]
else
	not_ok "watch printed sets before SIGINT"
fi

# One set, then SIGINT during the 60 s wait for the next: "after 1 set".
"$MEMPRINT" watch --pid "$workload_pid" --interval 60s --csv -o "$TMP/one.mps" \
	>"$TMP/one.csv" 2>"$TMP/one.err" &
watch_pid=$!
if wait_lines "$TMP/one.csv" 2; then
	kill -INT "$watch_pid"
	wait "$watch_pid"
	watch_pid=
	check "watch stopped after one set says '1 set'" grep -q "after 1 set\$" "$TMP/one.err"
else
	not_ok "watch printed a set before SIGINT"
fi

# ---------------------------------------------------------------- targets gone
"$MEMPRINT" watch --pid "$workload_pid" --interval 100ms --csv -o "$TMP/gone.mps" \
	>"$TMP/gone.csv" 2>"$TMP/gone.err" &
watch_pid=$!
if wait_lines "$TMP/gone.csv" 3; then
	stop_workload
	# Bounded: a watch that does not end by itself is killed and fails the test.
	if timeout 60 tail --pid="$watch_pid" -f /dev/null; then
		wait "$watch_pid"
		status=$?
	else
		kill "$watch_pid" 2>/dev/null
		wait "$watch_pid" 2>/dev/null
		status=124
	fi
	watch_pid=
	check "watch ends by itself when its target exits" [ "$status" -eq 0 ]
	check "watch says every target has exited" grep -q "every target has exited" "$TMP/gone.err"
	check "the file of an ended watch analyses" [ "$(timeline_sets "$TMP/gone.mps")" -ge 2 ]
else
	not_ok "watch printed sets before its target exited"
	stop_workload
fi

# ---------------------------------------------------------------- SIGKILL
# A large workload and a short interval: sets overrun, so a kill most likely
# lands inside a set.  Either way every printed set must be in the file.
start_workload 65536
"$MEMPRINT" watch --pid "$workload_pid" --interval 10ms --csv -o "$TMP/kill.mps" \
	>"$TMP/kill.csv" 2>/dev/null &
watch_pid=$!
if wait_lines "$TMP/kill.csv" 4; then
	kill -KILL "$watch_pid"
	wait "$watch_pid" 2>/dev/null
	watch_pid=
	printed=$(($(wc -l <"$TMP/kill.csv") - 1))
	"$MEMPRINT" timeline "$TMP/kill.mps" --csv >"$TMP/kill-timeline.csv" 2>"$TMP/kill.err"
	check "timeline of a killed watch exits 0" [ $? -eq 0 ]
	sets=$(($(wc -l <"$TMP/kill-timeline.csv") - 1))
	check "every set printed before SIGKILL analyses" [ "$sets" -ge "$printed" ]
	if "$MEMPRINT" analyze --help >/dev/null 2>&1; then
		"$MEMPRINT" analyze "$TMP/kill.mps" >/dev/null 2>&1
		check "analyze reads a killed watch's file" [ $? -eq 0 ]
	else
		skip "analyze reads a killed watch's file" "memprint analyze not built"
	fi
else
	not_ok "watch printed sets before SIGKILL"
fi
stop_workload

# A cut tail made on purpose: the last set loses its end.
size=$(stat -c %s "$TMP/count.mps")
head -c $((size - 40)) "$TMP/count.mps" >"$TMP/cut.mps"
"$MEMPRINT" timeline "$TMP/cut.mps" --csv >"$TMP/cut.csv" 2>"$TMP/cut.err"
check "timeline of a cut file exits 0" [ $? -eq 0 ]
check "timeline reports the complete sets of a cut file" \
	[ "$(($(wc -l <"$TMP/cut.csv") - 1))" -eq 4 ]
check "timeline warns about the cut tail" grep -q "complete sets" "$TMP/cut.err"
if "$MEMPRINT" analyze --help >/dev/null 2>&1; then
	"$MEMPRINT" analyze "$TMP/cut.mps" >/dev/null 2>&1
	check "analyze reads a cut file" [ $? -eq 0 ]
else
	skip "analyze reads a cut file" "memprint analyze not built"
fi

# Corrupt data in the last set: the sets before it are still reported, but
# the exit status is 2, unlike a cut tail.
cp "$TMP/count.mps" "$TMP/corrupt.mps"
printf '\377\377\377\377' | dd of="$TMP/corrupt.mps" bs=1 seek=$((size - 60)) conv=notrunc 2>/dev/null
"$MEMPRINT" timeline "$TMP/corrupt.mps" --csv >"$TMP/corrupt.csv" 2>"$TMP/corrupt.err"
check "timeline of a corrupt file exits 2" [ $? -eq 2 ]
check "timeline reports the sets before the corrupt one" \
	[ "$(($(wc -l <"$TMP/corrupt.csv") - 1))" -eq 4 ]
check "timeline names the offset of the damage" grep -q "corrupt.mps: offset [0-9]*:" "$TMP/corrupt.err"

echo "1..$n"
