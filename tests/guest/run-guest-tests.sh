#!/bin/bash
# run-guest-tests.sh - boot Debian's own kernels in QEMU with memprint.ko
#
# For each kernel that has both an image in /boot and its headers in
# /lib/modules/VERSION/build, this builds the module against those headers
# and an initramfs with busybox-static, the guest checks and the module.
# It boots the kernel under TCG with the serial console on stdio.  The
# suite inside prints TAP on the console.  This script passes each result
# on, prefixed with the kernel version, and fails a kernel on a failed
# check, a missing result, or a warning, BUG or oops in the console output.
#
# Environment: BUILD (build directory, default build), MEMPRINT_GUEST_KERNELS
# (versions to boot, default all that qualify), MEMPRINT_GUEST_TIMEOUT
# (seconds per boot, default 300), MEMPRINT_GUEST_APPEND (more kernel
# parameters, e.g. memprint_only=digests to run only the matching checks).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=$top/$BUILD/guest
timeout_s=${MEMPRINT_GUEST_TIMEOUT:-300}
number=0

skip_all() {
	echo "1..1"
	echo "ok 1 - guest tests # SKIP $*"
	exit 0
}

tap() {
	number=$((number + 1))
	echo "$1 $number - $2"
}

find_kernels() {
	local image version
	for image in /boot/vmlinuz-*; do
		[ -r "$image" ] || continue
		version=${image#/boot/vmlinuz-}
		[ -f "/lib/modules/$version/build/Makefile" ] || continue
		echo "$version"
	done
}

# A sanitizer build (make check-sanitize) is left out.  The guest boots a
# busybox initramfs in 768 MiB, where the ASan runtime would have to map its
# shadow memory, and the make below, run without SANFLAGS, would rebuild
# changed sources unsanitized into the sanitizer's build directory.
if nm "$BUILD/libmemprint.a" 2>/dev/null | grep -qE ' U __(asan|ubsan)_'; then
	skip_all "$BUILD is built with a sanitizer; the guest checks run in make check"
fi
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 is not installed (qemu-system-x86)"
[ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic executable' ||
	skip_all "/bin/busybox is not busybox-static"
command -v cpio >/dev/null || skip_all "cpio is not installed"
kernels=${MEMPRINT_GUEST_KERNELS:-$(find_kernels)}
[ -n "$kernels" ] || skip_all "no kernel in /boot with headers in /lib/modules/*/build"

mkdir -p "$out"
make -s BUILD="$BUILD" lib all >"$out/build.log" 2>&1 || {
	tap "not ok" "build memprint"; sed 's/^/# /' "$out/build.log"; exit 1; }
if ! cc -D_GNU_SOURCE -Iinclude -Ilib -std=gnu11 -O2 -g -Wall -Wextra -o "$out/mpguest" \
	tests/guest/progs/*.c "$BUILD/libmemprint.a" \
	$(pkg-config --libs libxxhash libisal libcrypto libzstd smartcols) -lm >"$out/cc.log" 2>&1; then
	tap "not ok" "build the guest checks"
	sed 's/^/# /' "$out/cc.log"
	exit 1
fi

# Pass the guest's TAP lines on, numbered here, and judge the boot as a whole.
judge_console() {
	local version=$1 log=$2 plan results
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -d. -f3)
	results=0
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			results=$((results + 1))
			status=${line%% [0-9]*}
			tap "$status" "$version: $(sed -E 's/^(not )?ok [0-9]+ - //' <<<"$line")"
			;;
		"#"*) echo "$line" ;;
		esac
	done < <(tr -d '\r' <"$log" | grep -E '^(not )?ok [0-9]+ - |^#')
	if [ -z "$plan" ] || [ "$results" -ne "$plan" ]; then
		tap "not ok" "$version: all ${plan:-?} results arrived (got $results)"
		tail -n 20 "$log" | sed 's/^/#   /'
	fi
	if tr -d '\r' <"$log" | grep -E 'WARNING:|BUG:|Oops|Kernel panic|general protection' >"$log.bad"; then
		tap "not ok" "$version: console shows no kernel warning or oops"
		sed 's/^/#   /' "$log.bad"
	else
		tap "ok" "$version: console shows no kernel warning or oops"
	fi
}

for version in $kernels; do
	if ! make -s -C kmod KVERSIONS="$version" >"$out/kmod-$version.log" 2>&1; then
		tap "not ok" "$version: build memprint.ko"
		sed 's/^/# /' "$out/kmod-$version.log"
		continue
	fi
	initrd=$out/initramfs-$version.cpio.gz
	if ! bash tests/guest/lib/mkinitramfs.sh "$version" "$initrd" \
		"kmod/build-$version/memprint.ko" "$out/mpguest" "$BUILD/memprint" >"$out/initramfs-$version.log" 2>&1; then
		tap "not ok" "$version: build the initramfs"
		sed 's/^/# /' "$out/initramfs-$version.log"
		continue
	fi
	log=$out/console-$version.log
	# One host thread for both vCPUs (thread=single): with multi-threaded
	# TCG on a loaded host, a 6.12 guest once took a spurious int3 in
	# urandom_read_iter while its kernel patched a static branch there, and
	# panicked.  Single-threaded TCG runs the vCPUs in turn, so no vCPU
	# executes code while another one patches it.
	timeout "$timeout_s" qemu-system-x86_64 -accel tcg,thread=single -m 768 -smp 2 \
		-nographic -no-reboot \
		-kernel "/boot/vmlinuz-$version" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=5 ${MEMPRINT_GUEST_APPEND:-}" \
		</dev/null >"$log" 2>&1
	judge_console "$version" "$log"
done

# The plan comes last: how many results there are depends on the boots.
echo "1..$number"
