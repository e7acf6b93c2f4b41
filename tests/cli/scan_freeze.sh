#!/bin/bash
# memprint scan --freeze: the target is stopped during the scan and running
# afterwards, also when memprint is killed by SIGTERM or SIGINT mid-scan.
# Prints TAP.  Skips without root, which the full scan path (PFNs,
# kpageflags) needs.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
TMP=$(mktemp -d /tmp/memprint-freeze.XXXXXX)
n=0
target=""

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
cleanup() {
	# SIGCONT first: a target left stopped by a failed check would not
	# act on SIGTERM, and wait would hang.
	if [ -n "$target" ]; then
		kill -CONT "$target" 2>/dev/null
		kill "$target" 2>/dev/null
	fi
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

state_of() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

# Wait up to 20 s for pid $1 to reach state $2; returns 1 on timeout.
wait_state() {
	for _ in $(seq 2000); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.01
	done
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root to scan with --freeze"
	exit 0
fi

# A target with 3 GiB of touched memory, so that a scan takes long enough
# for the test to see it stopped (about half a second at 6 GB/s).
python3 -c '
import sys, time
data = bytearray(3 << 30)
for i in range(0, len(data), 4096):
    data[i] = i >> 12 & 0xff
print("ready", flush=True)
time.sleep(600)
' >"$TMP/ready" &
target=$!
for _ in $(seq 600); do
	grep -q ready "$TMP/ready" 2>/dev/null && break
	sleep 0.1
done
check "target is ready" grep -q ready "$TMP/ready"

"$MEMPRINT" scan --freeze --pid "$target" --json >"$TMP/out" 2>"$TMP/err"
check "scan --freeze exits 0" [ $? -eq 0 ]
check "target runs after the scan" [ "$(state_of "$target")" != T ]

for signal in TERM INT; do
	"$MEMPRINT" scan --freeze --pid "$target" --json >"$TMP/out" 2>"$TMP/err" &
	scanner=$!
	if wait_state "$target" T; then
		kill -s "$signal" "$scanner"
		wait "$scanner"
		status=$?
		check "SIG$signal ends the scan by the signal" \
			[ "$status" -eq $((128 + $(kill -l "$signal"))) ]
		sleep 0.2
		check "target runs after SIG$signal mid-scan" [ "$(state_of "$target")" != T ]
	else
		wait "$scanner"
		not_ok "target was never seen stopped during the scan (SIG$signal)"
	fi
done

echo "1..$n"
