#!/bin/bash
# memprint watch --cgroup follows processes that start and end: two
# mp-workload processes join and leave a cgroup of their own during one
# watch, which resolves its targets anew at each set and ends by itself
# when the cgroup is empty.  Needs root and a writable cgroup v2 mount.
# Waits poll for output lines; each gives up after 60 s so that a broken
# build cannot hang the run.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
WORKLOAD=$PWD/$BUILD/tests/helpers/mp-workload
TMP=$(mktemp -d /tmp/memprint-follow.XXXXXX)
n=0
pids=()
watch_pid=
group=

cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$group" ] && rmdir "$group" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

wait_lines() {
	local file=$1 lines=$2 tries=0
	while [ "$(cat "$file" 2>/dev/null | wc -l)" -lt "$lines" ]; do
		tries=$((tries + 1))
		[ "$tries" -gt 600 ] && return 1
		sleep 0.1
	done
}

# Start a workload in the cgroup.  Its standard input is a FIFO it opens
# for reading and writing itself, so it waits for commands until killed.
start_in_group() {
	mkfifo "$TMP/in.$1"
	"$WORKLOAD" 64 <>"$TMP/in.$1" >/dev/null &
	pids[$1]=$!
	echo "${pids[$1]}" >"$group/cgroup.procs"
}

stop_workload() {
	kill "${pids[$1]}" 2>/dev/null
	wait "${pids[$1]}" 2>/dev/null
	return 0
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$WORKLOAD" ]; then
	echo "1..0 # SKIP memprint or mp-workload not built"
	exit 0
fi
mount_point=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ "$(id -u)" -ne 0 ] || [ -z "$mount_point" ]; then
	echo "1..0 # SKIP needs root and a cgroup v2 mount"
	exit 0
fi
group=$mount_point/memprint-follow-$$
if ! mkdir "$group" 2>/dev/null; then
	group=
	echo "1..0 # SKIP cannot create a cgroup under $mount_point"
	exit 0
fi

start_in_group 0
"$MEMPRINT" watch --cgroup "$group" --interval 100ms --csv -o "$TMP/follow.mps" \
	>"$TMP/follow.csv" 2>"$TMP/follow.err" &
watch_pid=$!
wait_lines "$TMP/follow.csv" 3 && start_in_group 1 &&
	wait_lines "$TMP/follow.csv" 8 && stop_workload 0 &&
	wait_lines "$TMP/follow.csv" 13 && stop_workload 1
check "both workloads joined and left during the watch" [ $? -eq 0 ]

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
check "watch ends by itself when the cgroup is empty (status $status)" [ "$status" -eq 0 ]
check "watch says every target has exited" grep -q "every target has exited" "$TMP/follow.err"

# The tasks column goes 1, then 2, then 1 again: the sets followed both.
sequence=$(awk -F, 'NR > 1 { print $4 }' "$TMP/follow.csv" | uniq | tr '\n' ' ')
check "sets saw 1, then 2, then 1 tasks (saw: $sequence)" [ "$sequence" = "1 2 1 " ]
"$MEMPRINT" timeline --csv --churn "$TMP/follow.mps" >"$TMP/churn.csv" 2>/dev/null
tasks=$(awk '/^pid,/ { table = 1; next } table && NF { count++ } END { print count + 0 }' \
	"$TMP/churn.csv")
check "timeline lists both tasks" [ "$tasks" -eq 2 ]

echo "1..$n"
