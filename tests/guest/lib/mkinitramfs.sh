#!/bin/bash
# mkinitramfs.sh - build the guest's initramfs for one kernel
#
# Usage: mkinitramfs.sh KERNEL_VERSION OUTPUT.cpio.gz MODULE.ko PROGRAM...
#
# The image contains busybox-static, the programs with the shared libraries
# ldd lists for them, memprint.ko, the kernel's zram and ext4 modules (and
# what they depend on, decompressed, in load order in /modules/order), and
# the in-guest suite (MEMPRINT_GUEST_SUITE names another script).  /init
# runs it and powers the guest off.
set -eu

version=$1 output=$2 module=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,mnt,modules,memprint}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "${MEMPRINT_GUEST_SUITE:-$here/suite.sh}" "$root/memprint/suite.sh"
chmod 0755 "$root/init"
cp "$module" "$root/memprint/memprint.ko"

copy_with_libraries() {
	local program=$1 lib
	cp "$program" "$root/memprint/"
	for lib in $(ldd "$program" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for program in "$@"; do
	copy_with_libraries "$program"
done
# The dynamic loader is where binaries look for it, /lib64 on x86-64.
mkdir -p "$root/lib64"
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

# Kernel modules: modprobe prints what to load, in order; the guest's
# busybox insmod gets plain .ko files.
: >"$root/modules/order"
for name in zram ext4; do
	modprobe -S "$version" --show-depends "$name" 2>/dev/null |
	awk '$1 == "insmod" {print $2}' | while read -r path; do
		base=$(basename "$path")
		base=${base%.xz}
		base=${base%.zst}
		grep -qx "$base" "$root/modules/order" && continue
		case $path in
		*.xz) xz -dc "$path" >"$root/modules/$base" ;;
		*.zst) zstd -qdc "$path" >"$root/modules/$base" ;;
		*) cp "$path" "$root/modules/$base" ;;
		esac
		echo "$base" >>"$root/modules/order"
	done
done

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$output"
