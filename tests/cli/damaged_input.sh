#!/bin/bash
# memprint dump on damaged snapshot files: an empty file, wrong magic, a
# newer major version (a newer minor version still reads), bit flips in
# the file header and in records, files cut at and between block
# boundaries, and random bytes.  Each must fail with exit status 2 and the
# exact message "memprint: FILE: offset N: problem", after printing every
# complete set before the damage; none may crash.  Checksums in the
# expected messages come from an independent CRC-32C in Python.  Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MEMPRINT=${MEMPRINT:-$PWD/$BUILD/memprint}
GOLDEN_TOOL=$PWD/$BUILD/tools/mp-golden
TMP=$(mktemp -d /tmp/memprint-damaged.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if [ ! -x "$MEMPRINT" ] || [ ! -x "$GOLDEN_TOOL" ]; then
	echo "1..0 # SKIP memprint or mp-golden not built"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP python3 is needed to damage files and compute checksums"
	exit 0
fi

# Python helpers: block offsets, CRC-32C, header edits, bit flips.
tool() {
	python3 - "$@" <<'PY'
import struct, sys

def crc32c(data, crc=0xffffffff):
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc

def blocks(data):
    offset, out = 16, []
    while offset + 24 <= len(data):
        stored = struct.unpack_from('<I', data, offset + 8)[0]
        out.append((offset, stored))
        offset += 24 + stored
    return out

cmd, path = sys.argv[1], sys.argv[2]
data = bytearray(open(path, 'rb').read())
if cmd == 'blocks':            # "offset stored_size" per block
    for offset, stored in blocks(data):
        print(offset, stored)
elif cmd == 'block-crc':       # stored and recomputed checksum of the block at offset
    offset = int(sys.argv[3])
    stored = struct.unpack_from('<I', data, offset + 8)[0]
    computed = crc32c(data[offset + 24:offset + 24 + stored], crc32c(data[offset:offset + 20]))
    print('0x%08x 0x%08x' % (struct.unpack_from('<I', data, offset + 20)[0],
                             computed ^ 0xffffffff))
elif cmd == 'header-crc':      # stored and recomputed checksum of the file header
    print('0x%08x 0x%08x' % (struct.unpack_from('<I', data, 12)[0],
                             crc32c(data[:12]) ^ 0xffffffff))
elif cmd == 'version':         # set the version, with a valid header checksum
    struct.pack_into('<HH', data, 8, int(sys.argv[3]), int(sys.argv[4]))
    struct.pack_into('<I', data, 12, crc32c(data[:12]) ^ 0xffffffff)
    open(path, 'wb').write(data)
elif cmd == 'flip':            # flip bit b of the byte at offset
    data[int(sys.argv[3])] ^= 1 << int(sys.argv[4])
    open(path, 'wb').write(data)
PY
}

# Run dump on FILE (options before it); stdout to $TMP/out, stderr to $TMP/err.
dump() {
	"$MEMPRINT" dump "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
}

# The exit status is 2 and stderr is exactly MESSAGE.
fails_with() {
	local message=$1
	[ "$status" -eq 2 ] && [ "$(cat "$TMP/err")" = "$message" ] ||
		{ echo "# status $status, stderr: $(head -c 300 "$TMP/err")"; false; }
}

golden=tests/golden
series=$TMP/series.mps
cp "$golden/series-crc32.mps" "$series"
# The first set of the series, as dump prints it: the format line and 7 records.
head -n 8 "$golden/series-crc32.txt" >"$TMP/first-set.txt"
read -r set1 _ < <(tool blocks "$series" | sed -n 2p)
read -r set2 _ < <(tool blocks "$series" | sed -n 3p)
read -r _ set1_stored < <(tool blocks "$series" | sed -n 2p)

# ------------------------------------------------------------ the file header
: >"$TMP/empty.mps"
dump "$TMP/empty.mps"
check "empty file" fails_with "memprint: $TMP/empty.mps: offset 0: file is empty"
check "empty file prints nothing" [ ! -s "$TMP/out" ]

printf 'MEMPRINT snapshot, but not ours' >"$TMP/magic.mps"
dump "$TMP/magic.mps"
check "wrong magic" fails_with \
	"memprint: $TMP/magic.mps: offset 0: not a memprint snapshot file (wrong magic)"

head -c 10 "$series" >"$TMP/short.mps"
dump "$TMP/short.mps"
check "file shorter than its header" fails_with \
	"memprint: $TMP/short.mps: offset 0: not a memprint snapshot file (too short)"

cp "$series" "$TMP/major.mps"
tool version "$TMP/major.mps" 2 0
dump "$TMP/major.mps"
check "newer major version" fails_with "memprint: $TMP/major.mps: offset 8: format version 2.0 \
is newer than this reader (1.0): a newer memprint is needed"
check "newer major version prints nothing" [ ! -s "$TMP/out" ]

cp "$series" "$TMP/minor.mps"
tool version "$TMP/minor.mps" 1 7
dump "$TMP/minor.mps"
check "newer minor version reads" [ "$status" -eq 0 ]
check "newer minor version dumps every set" \
	diff <(tail -n +2 "$TMP/out") <(tail -n +2 "$golden/series-crc32.txt")
check "newer minor version shows it" [ "$(head -n 1 "$TMP/out")" = "format    1.7" ]

cp "$series" "$TMP/header-flip.mps"
tool flip "$TMP/header-flip.mps" 10 0
read -r stored computed < <(tool header-crc "$TMP/header-flip.mps")
dump "$TMP/header-flip.mps"
check "bit flip in the file header" fails_with "memprint: $TMP/header-flip.mps: offset 12: \
file header checksum mismatch (stored $stored, computed $computed)"

# ------------------------------------------------------------ records
cp "$series" "$TMP/record-flip.mps"
tool flip "$TMP/record-flip.mps" $((set1 + 24 + 40)) 3
read -r stored computed < <(tool block-crc "$TMP/record-flip.mps" "$set1")
dump "$TMP/record-flip.mps"
check "bit flip in a record" fails_with "memprint: $TMP/record-flip.mps: offset $set1: \
block checksum mismatch (stored $stored, computed $computed)"
check "bit flip: the set before it is printed" diff "$TMP/out" "$TMP/first-set.txt"

dump -J "$TMP/record-flip.mps"
check "bit flip, JSON: exit status 2" [ "$status" -eq 2 ]
check "bit flip, JSON: the output is valid JSON with one set" python3 -c '
import json, sys
sets = json.load(open(sys.argv[1]))["sets"]
sys.exit(0 if len(sets) == 1 and sets[0]["set"] == 0 else 1)' "$TMP/out"

cp "$series" "$TMP/magic-flip.mps"
tool flip "$TMP/magic-flip.mps" "$set2" 1
dump "$TMP/magic-flip.mps"
check "bit flip in a block magic" fails_with \
	"memprint: $TMP/magic-flip.mps: offset $set2: invalid block magic"
check "block magic: the two sets before it are printed" \
	diff "$TMP/out" <(head -n 15 "$golden/series-crc32.txt")

# --------------------------------------------------------- cut-short files
head -c "$set1" "$series" >"$TMP/cut-boundary.mps"
dump "$TMP/cut-boundary.mps"
check "cut at a set boundary reads the sets before it" [ "$status" -eq 0 ]
check "cut at a set boundary: one set" diff "$TMP/out" "$TMP/first-set.txt"

head -c 16 "$series" >"$TMP/header-only.mps"
dump "$TMP/header-only.mps"
check "file header only: no sets" [ "$status" -eq 0 -a "$(wc -l <"$TMP/out")" -eq 1 ]
check "file header only: no error" [ ! -s "$TMP/err" ]

head -c $((set1 + 10)) "$series" >"$TMP/cut-header.mps"
dump "$TMP/cut-header.mps"
check "cut inside a block header" fails_with "memprint: $TMP/cut-header.mps: offset $set1: \
file ends inside a block header (10 of 24 bytes)"
check "cut inside a block header: the set before it is printed" \
	diff "$TMP/out" "$TMP/first-set.txt"

head -c $((set1 + 24 + 30)) "$series" >"$TMP/cut-block.mps"
dump "$TMP/cut-block.mps"
check "cut inside a block" fails_with "memprint: $TMP/cut-block.mps: offset $set1: \
file ends inside the block ($set1_stored bytes stored, 30 left)"

large=$TMP/large.mps
"$GOLDEN_TOOL" --large "$large"
mapfile -t large_blocks < <(tool blocks "$large" | cut -d' ' -f1)
check "large set fills several blocks" [ "${#large_blocks[@]}" -ge 3 ]
head -c "${large_blocks[2]}" "$large" >"$TMP/cut-set.mps"
dump "$TMP/cut-set.mps"
check "cut at a block boundary inside a set" fails_with "memprint: $TMP/cut-set.mps: \
offset 16: set is incomplete: the file ends at offset ${large_blocks[2]} before its end record"
check "cut inside a set prints only the format line" [ "$(wc -l <"$TMP/out")" -eq 1 ]

# ----------------------------------------------------------- random bytes
python3 -c 'import random, sys; random.seed(7); sys.stdout.buffer.write(random.randbytes(5000))' \
	>"$TMP/random.mps"
dump "$TMP/random.mps"
check "random bytes" fails_with \
	"memprint: $TMP/random.mps: offset 0: not a memprint snapshot file (wrong magic)"

cp "$series" "$TMP/trailing.mps"
printf 'trailing garbage after the last set' >>"$TMP/trailing.mps"
read -r end _ < <(stat -c %s "$series")
dump "$TMP/trailing.mps"
check "garbage after the last set" fails_with \
	"memprint: $TMP/trailing.mps: offset $end: invalid block magic"
check "garbage after the last set: all sets printed" diff "$TMP/out" "$golden/series-crc32.txt"

# Every single-bit flip anywhere in a file is caught (exit status 2) and
# crashes nothing.
read -r crashes undetected < <(python3 - "$MEMPRINT" "$golden/task-xxh3.mps" "$TMP/flip.mps" <<'PY'
import subprocess, sys
memprint, source, target = sys.argv[1:]
original = open(source, 'rb').read()
crashes = undetected = 0
for offset in range(len(original)):
    data = bytearray(original)
    data[offset] ^= 1 << (offset % 8)
    open(target, 'wb').write(data)
    status = subprocess.run([memprint, 'dump', target], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    # Status 1 would be a usage error, and is what a sanitizer exits with.
    if status not in (0, 2):
        crashes += 1
        print('# offset %d: status %d' % (offset, status), file=sys.stderr)
    elif status == 0:
        undetected += 1
        print('# offset %d: undetected' % offset, file=sys.stderr)
print(crashes, undetected)
PY
)
check "bit flips at every offset: no crash" [ "${crashes:-1}" -eq 0 ]
check "bit flips at every offset: all detected" [ "${undetected:-1}" -eq 0 ]

echo "1..$n"
