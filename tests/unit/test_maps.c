// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_maps.c - the procfs parsers on a captured /proc tree
 *
 * tests/fixtures/procfs-basic contains a hand-checked smaps of pid 4242 with
 * one area of each kind the kernel names differently, plus stat, status,
 * ksm_stat, KSM counters and a cgroup v2 tree for the target resolver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "testlib.h"
#include "source/procfs.h"

static char sysroot[4096];

struct expected_area {
	uint64_t start, end;
	const char *path;		/* after unescaping */
	uint32_t kind;
	uint32_t prot;
	uint32_t vm_flags;		/* besides MP_VM_SMAPS */
	bool vsyscall;
};

#define R MP_PROT_READ
#define W MP_PROT_WRITE
#define X MP_PROT_EXEC
#define S MP_PROT_SHARED

static const struct expected_area expected[] = {
	{ 0x55d0c0a00000, 0x55d0c0a02000, "/usr/bin/target", MP_REGION_FILE, R, 0, false },
	{ 0x55d0c0c00000, 0x55d0c0c21000, "[heap]", MP_REGION_HEAP, R | W, 0, false },
	{ 0x7f0000000000, 0x7f0000200000, "", MP_REGION_ANON, R | W,
	  MP_VM_HUGEPAGE | MP_VM_MERGEABLE, false },
	{ 0x7f0000200000, 0x7f0000201000, "", MP_REGION_ANON, 0, 0, false },
	{ 0x7f0000201000, 0x7f0000203000, "[anon:my pool]", MP_REGION_ANON_NAMED, R | W, 0, false },
	{ 0x7f0000203000, 0x7f0000205000, "/dev/zero (deleted)", MP_REGION_SHMEM, R | W | S, 0,
	  false },
	{ 0x7f0000205000, 0x7f0000207000, "[anon_shmem:ring]", MP_REGION_SHMEM, R | W | S, 0,
	  false },
	{ 0x7f0000207000, 0x7f0000209000, "/SYSV0000002a (deleted)", MP_REGION_SHMEM, R | W | S,
	  0, false },
	{ 0x7f0000209000, 0x7f000020b000, "/memfd:my buf (deleted)", MP_REGION_SHMEM, R | W | S,
	  0, false },
	{ 0x7f000020b000, 0x7f000020d000, "/dev/zero", MP_REGION_ANON, R | W, 0, false },
	{ 0x7f000020d000, 0x7f000020f000, "/home/user/My Documents/data file.bin",
	  MP_REGION_FILE, R, 0, false },
	{ 0x7f000020f000, 0x7f0000211000, "/tmp/line\nbreak (deleted)", MP_REGION_DELETED, R, 0,
	  false },
	{ 0x7f0000211000, 0x7f0000212000, "/dev/mem", MP_REGION_FILE, R | W | S,
	  MP_VM_IO | MP_VM_PFNMAP | MP_VM_DONTDUMP, false },
	{ 0x7f0000400000, 0x7f0000800000, "/anon_hugepage (deleted)", MP_REGION_SHMEM,
	  R | W | S, MP_VM_HUGETLB, false },
	{ 0x7ffd00000000, 0x7ffd00004000, "[vvar]", MP_REGION_KERNEL, R,
	  MP_VM_PFNMAP | MP_VM_IO | MP_VM_DONTDUMP, false },
	{ 0x7ffd00004000, 0x7ffd00006000, "[vvar_vclock]", MP_REGION_KERNEL, R,
	  MP_VM_PFNMAP | MP_VM_IO | MP_VM_DONTDUMP, false },
	{ 0x7ffd00006000, 0x7ffd00008000, "[vdso]", MP_REGION_KERNEL, R | X, 0, false },
	{ 0x7ffe00000000, 0x7ffe00021000, "[stack]", MP_REGION_STACK, R | W, 0, false },
	{ 0xffffffffff600000, 0xffffffffff601000, "[vsyscall]", MP_REGION_KERNEL, X, 0, true },
};

static void check_area(const struct mp_maps_entry *e, const struct expected_area *x,
		       bool smaps)
{
	const struct mp_region *r = &e->region;

	assert_int_equal(r->start, x->start);
	assert_int_equal(r->end, x->end);
	assert_int_equal(r->path_size, strlen(x->path));
	assert_memory_equal(r->path, x->path, r->path_size);
	assert_int_equal(r->kind, x->kind);
	assert_int_equal(r->prot, x->prot);
	assert_int_equal(e->vsyscall, x->vsyscall);
	if (smaps)
		assert_int_equal(r->vm_flags, x->vm_flags | MP_VM_SMAPS);
	else
		assert_int_equal(r->vm_flags, 0);
}

static void read_all(bool smaps)
{
	struct mp_maps_reader reader;
	struct mp_maps_entry entry;
	size_t count = 0;
	int rc;

	assert_int_equal(mp_maps_open(&reader, sysroot, 4242, smaps), 0);
	while ((rc = mp_maps_next(&reader, &entry)) > 0) {
		assert_true(count < MP_ARRAY_SIZE(expected));
		check_area(&entry, &expected[count], smaps);
		count++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(count, MP_ARRAY_SIZE(expected));
	mp_maps_close(&reader);
}

static void test_maps_kinds(void **state)
{
	(void)state;
	read_all(false);
}

static void test_smaps_kinds_and_vmflags(void **state)
{
	(void)state;
	read_all(true);
}

static void test_smaps_fields(void **state)
{
	struct mp_maps_reader reader;
	struct mp_maps_entry entry;

	(void)state;
	assert_int_equal(mp_maps_open(&reader, sysroot, 4242, true), 0);
	assert_int_equal(mp_maps_next(&reader, &entry), 1);
	assert_int_equal(entry.region.dev, makedev(0xfd, 1));
	assert_int_equal(entry.region.inode, 1311233);
	assert_int_equal(entry.rss_bytes, 8 * 1024);
	assert_int_equal(mp_maps_next(&reader, &entry), 1);
	assert_int_equal(mp_maps_next(&reader, &entry), 1);
	assert_true(entry.has_ksm);
	assert_int_equal(entry.ksm_bytes, 1024 * 1024);
	assert_int_equal(entry.rss_bytes, 2048 * 1024);
	assert_int_equal(entry.anon_bytes, 2048 * 1024);
	mp_maps_close(&reader);
}

static void test_header_escapes(void **state)
{
	struct mp_maps_entry entry;
	char *path = NULL;
	size_t size = 0;

	(void)state;
	/* Only "\012" is an escape; other backslashes are the file's own. */
	assert_int_equal(mp_maps_parse_header("1000-2000 r--p 00000000 08:01 7 /a\\b\\012c\\01",
					      &entry, &path, &size), 0);
	assert_int_equal(size, 9);
	assert_memory_equal(path, "/a\\b\nc\\01", 9);

	/* Trailing spaces belong to the name. */
	assert_int_equal(mp_maps_parse_header("1000-2000 r--p 00000000 08:01 7     /x y  ",
					      &entry, &path, &size), 0);
	assert_int_equal(size, 6);
	assert_memory_equal(path, "/x y  ", 6);

	assert_int_equal(mp_maps_parse_header("1000-2000 r--p 0 08:01", &entry, &path, &size),
			 -EINVAL);
	assert_int_equal(mp_maps_parse_header("2000-1000 r--p 00000000 08:01 7", &entry, &path,
					      &size), -EINVAL);
	free(path);
}

static void test_vmflags_tokens(void **state)
{
	(void)state;
	assert_int_equal(mp_maps_parse_vmflags(" rd wr mr mw me ac sd "), MP_VM_SMAPS);
	assert_int_equal(mp_maps_parse_vmflags(" mg"), MP_VM_SMAPS | MP_VM_MERGEABLE);
	/* "mgx" is not "mg". */
	assert_int_equal(mp_maps_parse_vmflags(" mgx hg"), MP_VM_SMAPS | MP_VM_HUGEPAGE);
}

static void test_task_files(void **state)
{
	struct mp_proc_stat stat;
	struct mp_task task;

	(void)state;
	assert_int_equal(mp_proc_read_task(sysroot, 4242, &task, &stat), 0);
	assert_int_equal(task.pid, 4242);
	assert_int_equal(task.ppid, 1);
	assert_int_equal(task.uid, 1000);
	assert_string_equal(task.comm, "my (odd) name");
	assert_int_equal(stat.state, 'S');
	assert_int_equal(stat.starttime, 123456);
	assert_int_equal(task.flags, MP_TASK_KSM_MERGE_ANY);
	assert_true(task.ksm.valid);
	assert_int_equal(task.ksm.ksm_rmap_items, 1536);
	assert_int_equal(task.ksm.ksm_zero_pages, 7);
	assert_int_equal(task.ksm.ksm_merging_pages, 256);
	assert_int_equal(task.ksm.ksm_process_profit, 1048576);

	assert_int_equal(mp_proc_read_task(sysroot, 2, &task, &stat), 0);
	assert_int_equal(task.flags, MP_TASK_KERNEL_THREAD);
	assert_false(task.ksm.valid);
	assert_int_equal(mp_proc_read_task(sysroot, 99, &task, &stat), -ENOENT);
}

static void test_ksm_counters(void **state)
{
	struct mp_ksm_counters c;
	struct mp_error error;

	(void)state;
	mp_assert_ok(mp_ksm_read_counters(sysroot, &c, &error), &error);
	assert_true(c.valid);
	assert_int_equal(c.run, 1);
	assert_int_equal(c.pages_shared, 120);
	assert_int_equal(c.pages_sharing, 3400);
	assert_int_equal(c.pages_unshared, 55);
	assert_int_equal(c.pages_volatile, 9);
	assert_int_equal(c.full_scans, 17);
	assert_int_equal(c.max_page_sharing, 256);
	assert_int_equal(c.use_zero_pages, 1);
	assert_int_equal(c.ksm_zero_pages, 42);

	/* A kernel without KSM: not an error, just not valid. */
	mp_assert_ok(mp_ksm_read_counters("/nonexistent", &c, &error), &error);
	assert_false(c.valid);
}

static void resolve(const struct mp_targets *t, const pid_t *want, size_t want_count)
{
	struct mp_error error;
	pid_t *pids;
	size_t count;

	mp_assert_ok(mp_targets_resolve(t, sysroot, &pids, &count, &error), &error);
	assert_int_equal(count, want_count);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(pids[i], want[i]);
	free(pids);
}

static void test_targets(void **state)
{
	static const pid_t explicit[] = { 4243, 1, 4243 };
	struct mp_targets t = { 0 };
	struct mp_error error;
	pid_t missing = 77, *pids;
	size_t count;

	(void)state;
	/* --all: kernel thread 2 is left out. */
	t.all = true;
	resolve(&t, (const pid_t[]){ 1, 4242, 4243 }, 3);

	memset(&t, 0, sizeof(t));
	t.comm = "target";
	resolve(&t, (const pid_t[]){ 4243 }, 1);
	t.comm = "targe";
	resolve(&t, NULL, 0);

	/* --cgroup is recursive, relative to the cgroup2 mount, and skips kernel threads. */
	memset(&t, 0, sizeof(t));
	t.cgroup = "app";
	resolve(&t, (const pid_t[]){ 4242, 4243 }, 2);
	t.cgroup = "/app/worker";
	resolve(&t, (const pid_t[]){ 4243 }, 1);

	/* --pid: sorted and unique, and a union with the rest. */
	memset(&t, 0, sizeof(t));
	t.pids = explicit;
	t.pid_count = 3;
	t.comm = "my (odd) name";
	resolve(&t, (const pid_t[]){ 1, 4242, 4243 }, 3);

	memset(&t, 0, sizeof(t));
	t.pids = &missing;
	t.pid_count = 1;
	assert_int_equal(mp_targets_resolve(&t, sysroot, &pids, &count, &error), -ESRCH);
	assert_non_null(strstr(error.message, "77"));
}

int main(void)
{
	const char *top = getenv("MEMPRINT_TOP");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_kinds),
		cmocka_unit_test(test_smaps_kinds_and_vmflags),
		cmocka_unit_test(test_smaps_fields),
		cmocka_unit_test(test_header_escapes),
		cmocka_unit_test(test_vmflags_tokens),
		cmocka_unit_test(test_task_files),
		cmocka_unit_test(test_ksm_counters),
		cmocka_unit_test(test_targets),
	};

	snprintf(sysroot, sizeof(sysroot), "%s/tests/fixtures/procfs-basic", top ? top : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
