#!/bin/bash
# Fuzz the snapshot reader for a short, bounded time (FUZZ_SECONDS, 30 by
# default) so that every test run, CI included, exercises it.  Prints TAP;
# skips without clang's libFuzzer runtime.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
log=$(mktemp /tmp/memprint-fuzz.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "1..1"
if ! command -v clang >/dev/null 2>&1 && ! command -v clang-14 >/dev/null 2>&1; then
	echo "ok 1 - reader survives fuzzing # SKIP clang is not installed"
	exit 0
fi

if BUILD=$BUILD tests/fuzz/run-fuzz >"$log" 2>&1; then
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	echo "ok 1 - reader survives fuzzing (${runs:-?} inputs in ${FUZZ_SECONDS} s)"
else
	tail -n 30 "$log" | sed 's/^/# /'
	echo "not ok 1 - reader survives fuzzing: see the crash input under $BUILD/fuzz/artifacts"
fi
