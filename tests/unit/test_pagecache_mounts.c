// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pagecache_mounts.c - which mounts a page-cache scan walks
 *
 * The mountinfo below is captured from a Debian 12 guest, with a bind mount,
 * an escaped space and a /dev/shm mounted twice added by hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "testlib.h"
#include "source/pagecache.h"

static const char mountinfo[] =
	"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	"23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
	"24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334076k,mode=755\n"
	"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683664k\n"
	"26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
	"30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683664k\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	"50 27 254:0 /srv /mnt/bind rw,relatime - ext4 /dev/vda rw\n"
	"51 27 0:40 / /mnt/my\\040disk rw,relatime shared:5 - btrfs /dev/vdb rw\n"
	"52 27 0:41 / /mnt/net rw,relatime - nfs4 server:/export rw\n"
	"53 27 7:0 / /mnt/image ro,relatime - squashfs /dev/loop0 ro\n";

static void mounts_parse_fields(void **state)
{
	struct mp_pc_mounts mounts = { 0 };
	const struct mp_pc_mount *m;

	(void)state;
	assert_int_equal(mp_pc_mounts_parse(mountinfo, &mounts), 0);
	assert_int_equal(mounts.count, 13);

	m = &mounts.mounts[5];
	assert_string_equal(m->point, "/");
	assert_string_equal(m->root, "/");
	assert_string_equal(m->fstype, "ext4");
	assert_int_equal(major(m->dev), 254);
	assert_int_equal(minor(m->dev), 0);

	m = &mounts.mounts[10];
	assert_string_equal(m->point, "/mnt/my disk");
	assert_string_equal(m->fstype, "btrfs");	/* after the optional "shared:5" field */
	mp_pc_mounts_free(&mounts);
}

static void mounts_parse_malformed(void **state)
{
	struct mp_pc_mounts mounts = { 0 };

	(void)state;
	assert_int_equal(mp_pc_mounts_parse("22 27 0:21 / /proc\n", &mounts), -EINVAL);
	mp_pc_mounts_free(&mounts);
	assert_int_equal(mp_pc_mounts_parse("22 27 zero / /proc rw - proc proc rw\n", &mounts),
			 -EINVAL);
	mp_pc_mounts_free(&mounts);
}

static void fstype_allowed_table(void **state)
{
	(void)state;
	assert_true(mp_pc_fstype_allowed("ext4", makedev(254, 0)));
	assert_true(mp_pc_fstype_allowed("xfs", makedev(8, 1)));
	assert_true(mp_pc_fstype_allowed("squashfs", makedev(7, 0)));
	assert_true(mp_pc_fstype_allowed("tmpfs", makedev(0, 23)));
	assert_true(mp_pc_fstype_allowed("btrfs", makedev(0, 40)));
	assert_false(mp_pc_fstype_allowed("proc", makedev(0, 21)));
	assert_false(mp_pc_fstype_allowed("sysfs", makedev(0, 22)));
	assert_false(mp_pc_fstype_allowed("devtmpfs", makedev(0, 6)));
	assert_false(mp_pc_fstype_allowed("devpts", makedev(0, 24)));
	assert_false(mp_pc_fstype_allowed("cgroup2", makedev(0, 38)));
	assert_false(mp_pc_fstype_allowed("nfs4", makedev(0, 41)));
	assert_false(mp_pc_fstype_allowed("fuse.sshfs", makedev(0, 50)));
}

static void mounts_select_local(void **state)
{
	struct mp_pc_mounts mounts = { 0 };
	const char **points;
	size_t count;

	(void)state;
	assert_int_equal(mp_pc_mounts_parse(mountinfo, &mounts), 0);
	assert_int_equal(mp_pc_mounts_select(&mounts, &points, &count), 0);

	/*
	 * Kept: / (ext4), the upper /dev/shm (the lower one is hidden), the
	 * btrfs and the squashfs.  Left out: proc, sysfs, devtmpfs, devpts,
	 * the tmpfs below /sys, cgroup2, nfs4, and /mnt/bind, whose device
	 * the walk of / already covers.
	 */
	assert_int_equal(count, 4);
	assert_string_equal(points[0], "/");
	assert_string_equal(points[1], "/dev/shm");
	assert_string_equal(points[2], "/mnt/my disk");
	assert_string_equal(points[3], "/mnt/image");
	assert_null(points[4]);
	free(points);
	mp_pc_mounts_free(&mounts);
}

static void mounts_find_last_wins(void **state)
{
	struct mp_pc_mounts mounts = { 0 };
	const struct mp_pc_mount *m;

	(void)state;
	assert_int_equal(mp_pc_mounts_parse(mountinfo, &mounts), 0);
	m = mp_pc_mounts_find(&mounts, makedev(254, 0));
	assert_non_null(m);
	assert_string_equal(m->point, "/mnt/bind");
	assert_null(mp_pc_mounts_find(&mounts, makedev(9, 9)));
	mp_pc_mounts_free(&mounts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mounts_parse_fields),
		cmocka_unit_test(mounts_parse_malformed),
		cmocka_unit_test(fstype_allowed_table),
		cmocka_unit_test(mounts_select_local),
		cmocka_unit_test(mounts_find_last_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
