#!/bin/bash
# run-series-bench.sh - time memprint timeline and memprint report on a
# long series of large processes
#
# Starts two mp-workload processes of PAGES pages each and takes a SETS-set
# zstd-compressed series of both with memprint watch, every 2 seconds,
# while 10 % of each process's pages get new contents every second.  Then
# it times 'memprint timeline --json --lifetimes --churn --ksm' and
# 'memprint report' on the series (best of REPEAT runs: wall and CPU time,
# peak resident size) and prints the report's size.  Needs root (PFNs).
#
# Usage: sudo bench/run-series-bench.sh [PAGES [SETS [REPEAT]]]
#        (default: 524288 pages = 2 GiB each, 200 sets, 2 runs)
# Environment: BUILD (default build); SERIES=FILE reads the series from
# FILE if it exists, or else writes it there and keeps it for later runs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
memprint=$top/$BUILD/memprint
workload=$top/$BUILD/tests/helpers/mp-workload
pages=${1:-524288}
sets=${2:-200}
repeat=${3:-2}
work=$(mktemp -d /tmp/memprint-series-bench.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

[ -x "$memprint" ] && [ -x "$workload" ] || {
	echo "run-series-bench: build first: make all tests" >&2
	exit 1
}

# One workload process on a pair of pipes: commands in, replies out.
inputs=()
outputs=()
start_workload() {
	local name=$1 in out ready

	mkfifo "$work/$name.in" "$work/$name.out"
	"$workload" "$pages" <"$work/$name.in" >"$work/$name.out" &
	pids+=($!)
	exec {in}>"$work/$name.in" {out}<"$work/$name.out"
	read -r -u "$out" ready _
	[ "$ready" = ready ] || { echo "run-series-bench: $name did not start" >&2; exit 1; }
	inputs+=("$in")
	outputs+=("$out")
}

# Rewrite 10 % of each process's pages once per second while the watch runs.
churn() {
	local seed=1 i reply

	while kill -0 "$watch_pid" 2>/dev/null; do
		for i in "${!inputs[@]}"; do
			echo "rewrite 10 $seed" >&"${inputs[$i]}"
			read -r -u "${outputs[$i]}" reply
		done
		seed=$((seed + 1))
		sleep 1
	done
}

series=${SERIES:-$work/series.mps}
if [ ! -e "$series" ]; then
	start_workload first
	start_workload second
	"$memprint" watch --pid "${pids[0]}" --pid "${pids[1]}" --interval 2s \
		--count "$sets" --compress -o "$series" >/dev/null 2>"$work/watch.err" &
	watch_pid=$!
	churn
	wait "$watch_pid"
	echo "series: $sets sets of 2 processes x $pages pages"
fi
echo "series file: $(du -h "$series" | cut -f1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# Best of $repeat runs of one command: wall seconds, CPU seconds, peak KB.
time_command() {
	local label=$1 best= line
	shift

	for _ in $(seq "$repeat"); do
		line=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -1)
		if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" \
			'BEGIN { exit !(a < b) }'; then
			best=$line
		fi
	done
	read -r wall user system peak <<<"$best"
	printf '%-20s %8.2f s wall %8.2f s CPU %8d MB peak\n' "$label" "$wall" \
	       "$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')" $((peak / 1024))
}

time_command "memprint timeline" "$memprint" timeline --json --lifetimes --churn --ksm "$series"
time_command "memprint report" "$memprint" report "$series" -o "$work/report.html"
echo "report: $(stat -c %s "$work/report.html") bytes"
