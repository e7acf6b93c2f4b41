# Helpers for the shell tests of scan, snapshot and analyze; sourced, not
# run (tests/run-tests runs only *.sh).  The sourcing script sets MEMPRINT,
# WORKLOAD and TMP, and n=0 and pids=() before the first call.

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# Run memprint with ARGS; expect exit status STATUS and stderr matching PATTERN.
expect_status() {
	local name=$1 status=$2 pattern=$3; shift 3
	"$MEMPRINT" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" -eq "$status" ] && grep -qE -- "$pattern" "$TMP/err"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, stderr: $(head -c 200 "$TMP/err"))"
	fi
}

# Start a workload of 64 pages whose pages 0-39 all hold content 7.
# Its pid goes to pids[]; commands go to fd 3+2i, replies come on fd 4+2i.
start_workload() {
	local i=${#pids[@]}
	local in=$TMP/in$i out=$TMP/out$i reply

	mkfifo "$in" "$out"
	"$WORKLOAD" 64 <"$in" >"$out" &
	pids+=($!)
	eval "exec $((3 + 2 * i))>\"$in\" $((4 + 2 * i))<\"$out\""
	read -r -u $((4 + 2 * i)) reply _ || return 1
	[ "$reply" = ready ] || return 1
	echo "fill 0 40 7" >&$((3 + 2 * i))
	read -r -u $((4 + 2 * i)) reply || return 1
	[ "$reply" = ok ]
}

# End the workloads and remove TMP.
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TMP"
}

# Print the value of a Python expression over the JSON document in FILE (as j).
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
