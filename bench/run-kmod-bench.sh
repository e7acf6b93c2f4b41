#!/bin/bash
# run-kmod-bench.sh - run bench_kmod in QEMU guests of Debian's kernels
#
# The module cannot be loaded on the build host, so this boots each kernel
# that has its headers (as tests/guest/run-guest-tests.sh does) with an
# initramfs holding memprint.ko and bench_kmod, and prints the benchmark's
# table from the console.  Under TCG only the ratios are meaningful.
#
# Usage: bench/run-kmod-bench.sh [BENCH_ARGS...]   (default: --size 32M --repeat 3)
# Environment: BUILD, MEMPRINT_GUEST_KERNELS as for the guest tests.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=$top/$BUILD/guest
args=${*:---size 32M --repeat 3}

command -v qemu-system-x86_64 >/dev/null || { echo "run-kmod-bench: qemu-system-x86_64 is missing"; exit 0; }
mkdir -p "$out"
make -s BUILD="$BUILD" lib all "$BUILD/bench/bench_kmod"

suite=$out/bench-suite.sh
cat >"$suite" <<SUITE
#!/bin/sh
insmod /memprint/memprint.ko && /memprint/bench_kmod $args
SUITE

kernels=${MEMPRINT_GUEST_KERNELS:-$(for image in /boot/vmlinuz-*; do
	version=${image#/boot/vmlinuz-}
	[ -f "/lib/modules/$version/build/Makefile" ] && echo "$version"
done)}
for version in $kernels; do
	make -s -C kmod KVERSIONS="$version"
	initrd=$out/bench-$version.cpio.gz
	MEMPRINT_GUEST_SUITE=$suite bash tests/guest/lib/mkinitramfs.sh "$version" "$initrd" \
		"kmod/build-$version/memprint.ko" "$BUILD/bench/bench_kmod"
	echo "== $version (qemu-system-x86_64 -accel tcg -smp 1 -m 1024)"
	timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot \
		-kernel "/boot/vmlinuz-$version" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=3" </dev/null 2>&1 |
		tr -d '\r' | sed -n 's/.*\(bench_kmod: \)/\1/; /bench_kmod: /,/^# checksum/p'
done
