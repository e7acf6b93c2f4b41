#!/bin/sh
# suite.sh - the checks inside the guest, printed as TAP on the console
#
# Each check is one mpguest subcommand (exit 0 pass, 1 fail, 77 skip); its
# "# " lines are passed on as diagnostics.  The host side counts the
# results against the plan and reads the console for kernel warnings.
PATH=/bin:/sbin:/memprint
number=0

# memprint_only=WORD on the kernel command line runs only the checks whose
# names contain WORD (and the module load): for debugging one check.
only=$(sed -n 's/.*memprint_only=\([^ ]*\).*/\1/p' /proc/cmdline)

run() {
	name=$1
	shift
	number=$((number + 1))
	if [ -n "$only" ] && [ "$number" -gt 1 ] && [ "${name#*"$only"}" = "$name" ]; then
		echo "ok $number - $name # SKIP not selected by memprint_only"
		return
	fi
	"$@" >/tmp/check.out 2>&1
	status=$?
	case $status in
	0) echo "ok $number - $name" ;;
	77) echo "ok $number - $name # SKIP $(grep -m1 '^# ' /tmp/check.out | cut -c3-)" ;;
	*) echo "not ok $number - $name" ;;
	esac
	sed -e 's/^# //' -e 's/^/#   /' /tmp/check.out
}

# No check may leave a warning, a BUG or an oops in the kernel log.
kernel_log_clean() {
	if dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace' >/tmp/dmesg.bad; then
		cat /tmp/dmesg.bad
		return 1
	fi
}

# A module snapshot file that memprint analyze reads as it reads a procfs one.
cli_snapshot() {
	sleep 600 &
	target=$!
	memprint snapshot --source kmod --hash xxh64 --pid $target -o /tmp/kmod.mps &&
	memprint snapshot --source procfs --hash xxh64 --pid $target -o /tmp/procfs.mps &&
	memprint analyze --json /tmp/kmod.mps >/tmp/kmod.json &&
	memprint analyze --json /tmp/procfs.mps >/tmp/procfs.json
	status=$?
	kill $target
	[ $status -eq 0 ] || return 1
	kmod=$(grep -m1 '"mappings"' /tmp/kmod.json)
	procfs=$(grep -m1 '"mappings"' /tmp/procfs.json)
	echo "# module: $kmod procfs: $procfs"
	[ -n "$kmod" ] && [ "$kmod" = "$procfs" ]
}

# Physical and page-cache sets through the module, read back by analyze.
cli_physical() {
	memprint snapshot --source kmod --physical --page-cache=/mnt/tmpfs -o /tmp/phys.mps &&
	memprint analyze --json /tmp/phys.mps >/tmp/phys.json || return 1
	sets=$(grep -c '"frames"' /tmp/phys.json)
	echo "# analyze read $sets frame counts from the page-cache and physical sets"
	memprint dump /tmp/phys.mps | grep -m2 -i 'source' | sed 's/^/# /'
	[ "$sets" -ge 2 ]
}

# A module snapshot of a task and the page cache is one set, and analyze of
# it has the page-cache part (task pages against cached pages).
cli_joined() {
	dd if=/dev/urandom of=/mnt/tmpfs/joined bs=4096 count=4 2>/dev/null
	sleep 600 &
	target=$!
	memprint snapshot --source kmod --pid $target --page-cache=/mnt/tmpfs -o /tmp/joined.mps &&
	memprint analyze --json /tmp/joined.mps >/tmp/joined.json
	status=$?
	kill $target
	[ $status -eq 0 ] || return 1
	sets=$(memprint dump /tmp/joined.mps | grep -c '^set ')
	echo "# sets in the file: $sets"
	[ "$sets" -eq 1 ] && grep -q '"cache_duplicate_frames"' /tmp/joined.json
}

load_modules() {
	while read -r module; do
		insmod "/modules/$module" 2>/dev/null
	done </modules/order
}

setup_swap() {
	echo 32M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}

# An ext2 file system on a second zram device: page cache backed by a block device.
setup_disk() {
	cat /sys/class/zram-control/hot_add >/dev/null 2>&1 || return 1
	echo 16M >/sys/block/zram1/disksize && mke2fs -q -b 4096 /dev/zram1 >/dev/null 2>&1 &&
	mkdir -p /mnt/disk && mount -t ext4 /dev/zram1 /mnt/disk || return 1
	dd if=/dev/urandom of=/mnt/disk/data bs=4096 count=64 2>/dev/null
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# Read pages 0-3 and 40-43 only, with readahead off, so part stays on disk.
	blockdev --setra 0 /dev/zram1
	dd if=/mnt/disk/data of=/dev/null bs=4096 count=4 2>/dev/null
	dd if=/mnt/disk/data of=/dev/null bs=4096 skip=40 count=4 2>/dev/null
}

echo "1..26"
load_modules
echo always >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
# Hugetlb pages for the task comparison; a parent and two children map one.
echo 4 >/proc/sys/vm/nr_hugepages
run "module loads" insmod /memprint/memprint.ko
run "second open is refused with EBUSY" mpguest busy
run "request without CAP_SYS_ADMIN is refused" mpguest nocap
run "task snapshot equals procfs snapshot" mpguest compare
run "memprint snapshot --source kmod and analyze" cli_snapshot
run "text response has a line per record" mpguest text
for hash in crc32 crc32c xxh64 md5 sha1 sha256 superfast crc32ex pattern; do
	run "$hash digests equal user space" mpguest hash $hash
done
run "physical totals agree with iomem and meminfo" mpguest physical
dd if=/dev/urandom of=/tmp/cached bs=4096 count=24 2>/dev/null
mkdir -p /mnt/tmpfs && mount -t tmpfs tmpfs /mnt/tmpfs
run "page cache of a tmpfs file agrees with mincore" mpguest pagecache /tmp/cached
if setup_disk; then
	run "page cache of an ext2 file agrees with mincore" mpguest pagecache /mnt/disk/data
else
	number=$((number + 1))
	echo "ok $number - page cache of an ext2 file agrees with mincore # SKIP no zram or ext4 in this guest"
fi
run "page cache of a mount and a directory" mpguest pagecache-mount /mnt/tmpfs
run "memprint snapshot --physical and analyze" cli_physical
run "module snapshot of a task and the page cache is one set" cli_joined
setup_swap
run "scan leaves swapped pages on swap" mpguest swap
run "KSM pages and KSM saved" mpguest ksm
run "200 snapshot cycles under fork and exit" mpguest stress 200
run "module unloads" rmmod memprint
run "kernel log has no warning or oops" kernel_log_clean
