// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_procfs.c - the procfs backend on real processes: records against
 * the kernel's own view, PAGEMAP_SCAN against plain pagemap reads, THP,
 * skipped areas, and that a scan changes nothing in its targets
 */
#include <stdio.h>

#include "test_procfs_common.h"

#define REGION_SIZE (64u << 20)

/* Rss of /proc/PID/smaps_rollup, in pages. */
static uint64_t rollup_rss_pages(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Rss: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib / 4;
}

/* 1 when the process has a [vsyscall] area (one page), else 0. */
static uint64_t has_vsyscall(pid_t pid)
{
	char path[64], line[512];
	uint64_t found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vsyscall]"))
			found = 1;
	fclose(f);
	return found;
}

/* The map count of pfn, read from /proc/kpagecount on its own. */
static uint64_t kernel_count(uint64_t pfn)
{
	uint64_t count = UINT64_MAX;
	int fd = open("/proc/kpagecount", O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &count, 8, (off_t)(pfn * 8)) != 8)
			count = UINT64_MAX;
		close(fd);
	}
	return count;
}

static size_t count_zero_page_records(const struct collector *c)
{
	size_t count = 0;

	for (size_t i = 0; i < c->page_count; i++) {
		if (c->pages[i].kpageflags & 1ull << MP_KPF_ZERO_PAGE)
			count++;
	}
	return count;
}

static void test_records_match_kernel(void **state)
{
	size_t pages = REGION_SIZE / MP_PAGE_SIZE;
	uint64_t *entries = calloc(pages, 8);
	uint8_t page[MP_PAGE_SIZE], digest[MP_DIGEST_MAX];
	struct mp_hash *hash;
	struct mp_error error;
	struct collector *c;
	struct target t;
	size_t seen = 0;
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE));
	mp_test_wait_in_read(t.pid);
	c = scan_into(&t.pid, 1, false, false, NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_true(read_pagemap(t.pid, t.region, entries, pages));

	/*
	 * A quiet process, asleep in read(): every resident page has a
	 * record.  Rss leaves out mappings of the kernel zero page
	 * (vm_normal_page() skips it), which have records too.  An ASan
	 * build's shadow memory contains many.
	 */
	assert_int_equal(c->page_count - count_zero_page_records(c), rollup_rss_pages(t.pid));
	assert_int_equal(c->end_count, 1);
	assert_int_equal(c->ends[0].status, MP_TASK_COMPLETE);
	assert_int_equal(c->ends[0].pages, c->page_count);
	assert_true(c->info.flags & MP_SET_PFN_VALID);
	assert_int_equal(c->info.source, MP_SOURCE_PROCFS);
	assert_int_equal(c->task_count, 1);
	assert_int_equal(c->tasks[0].pid, t.pid);
	assert_int_equal(c->tasks[0].ppid, getpid());
	assert_int_equal(c->tasks[0].uid, getuid());
	assert_int_equal(c->ends[0].skipped[MP_SKIP_VSYSCALL], has_vsyscall(t.pid));

	mp_assert_ok(mp_hash_open(&hash, MP_HASH_XXH3, NULL, 0, &error), &error);
	for (size_t i = 0; i < c->page_count; i++) {
		const struct mp_page *p = &c->pages[i];
		size_t slot = p->index - t.region / MP_PAGE_SIZE;

		if (p->index < t.region / MP_PAGE_SIZE || slot >= pages)
			continue;
		seen++;
		assert_int_equal(p->pfn, entries[slot] & ((1ull << 55) - 1));
		assert_int_equal(p->pagemap, entries[slot] & MP_PM_FLAGS_MASK);
		assert_true(p->flags & MP_PAGE_PFN_VALID);
		assert_true(p->kpageflags & (1ull << MP_KPF_ANON));
		assert_int_equal(p->mapcount, kernel_count(p->pfn));
		assert_int_equal(p->mapcount, 1);
		if (slot % 4 == 0) {
			memset(page, 0, sizeof(page));
			assert_true(p->flags & MP_PAGE_ZERO_FILLED);
		} else {
			fill_page(page, slot);
			assert_false(p->flags & MP_PAGE_ZERO_FILLED);
		}
		mp_hash_page(hash, page, digest);
		assert_memory_equal(p->digest, digest, mp_hash_digest_size(MP_HASH_XXH3));
	}
	assert_int_equal(seen, pages);
	mp_hash_close(hash);
	collector_free(c);
	target_stop(&t);
	free(entries);
}

/*
 * The kpageflags bits that say what a page is, compared between scans.
 * The LRU bits change with every read (FOLL_TOUCH marks a page accessed)
 * and while reclaim or migration has a page isolated.  Map counts and the
 * exclusive bit are left out too: other processes map and unmap the same
 * library pages between two scans, and a target still shares pages of
 * this test process's heap copy-on-write.
 */
#define KPF_IDENTITY (1ull << 11 | 1ull << MP_KPF_ANON | 1ull << MP_KPF_SWAPBACKED |	\
		      1ull << MP_KPF_COMPOUND_HEAD | 1ull << MP_KPF_COMPOUND_TAIL |	\
		      1ull << MP_KPF_HUGE | 1ull << MP_KPF_KSM | 1ull << MP_KPF_THP |	\
		      1ull << MP_KPF_ZERO_PAGE)

static bool same_page(const struct mp_page *a, const struct mp_page *b)
{
	return a->index == b->index && a->pfn == b->pfn &&
	       (a->pagemap & ~MP_PM_EXCLUSIVE) == (b->pagemap & ~MP_PM_EXCLUSIVE) &&
	       (a->kpageflags & KPF_IDENTITY) == (b->kpageflags & KPF_IDENTITY) &&
	       a->flags == b->flags && a->region == b->region &&
	       memcmp(a->digest, b->digest, 8) == 0;
}

static bool same_records(const struct collector *a, const struct collector *b)
{
	if (a->page_count != b->page_count || a->region_count != b->region_count ||
	    a->end_count != b->end_count)
		return false;
	for (size_t i = 0; i < a->page_count; i++) {
		if (!same_page(&a->pages[i], &b->pages[i]))
			return false;
	}
	return memcmp(a->ends, b->ends, a->end_count * sizeof(a->ends[0])) == 0;
}

/*
 * Scan pids once with PAGEMAP_SCAN and once with plain pagemap reads.  The
 * kernel may migrate a page of a target between the two scans (compaction
 * on a busy machine), so a pair that differs is taken again, up to three
 * times.  The caller asserts on the last pair.
 */
static void scan_both_ways(pid_t *pids, size_t count, struct collector **with_ioctl,
			   struct collector **plain)
{
	int rc;

	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt) {
			collector_free(*with_ioctl);
			collector_free(*plain);
		}
		*with_ioctl = scan_into(pids, count, false, false, NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		*plain = scan_into(pids, count, true, false, NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		if (same_records(*with_ioctl, *plain))
			return;
	}
}

static void assert_same_records(const struct collector *a, const struct collector *b)
{
	assert_int_equal(a->page_count, b->page_count);
	assert_int_equal(a->region_count, b->region_count);
	for (size_t i = 0; i < a->page_count; i++) {
		/* Digests are compared over the width in use; the rest is not written. */
		assert_int_equal(a->pages[i].index, b->pages[i].index);
		assert_int_equal(a->pages[i].pfn, b->pages[i].pfn);
		assert_int_equal(a->pages[i].pagemap & ~MP_PM_EXCLUSIVE,
				 b->pages[i].pagemap & ~MP_PM_EXCLUSIVE);
		assert_int_equal(a->pages[i].kpageflags & KPF_IDENTITY,
				 b->pages[i].kpageflags & KPF_IDENTITY);
		assert_int_equal(a->pages[i].flags, b->pages[i].flags);
		assert_int_equal(a->pages[i].region, b->pages[i].region);
		assert_memory_equal(a->pages[i].digest, b->pages[i].digest, 8);
	}
	assert_int_equal(a->end_count, b->end_count);
	for (size_t i = 0; i < a->end_count; i++)
		assert_memory_equal(&a->ends[i], &b->ends[i], sizeof(a->ends[i]));
}

static void test_pagemap_scan_equals_plain(void **state)
{
	struct collector *with_ioctl, *plain;
	struct target t[2];
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t[0], FILL_SPARSE, REGION_SIZE));
	assert_true(target_start(&t[1], FILL_PATTERN, REGION_SIZE / 4));
	pids[0] = t[0].pid;
	pids[1] = t[1].pid;

	scan_both_ways(pids, 2, &with_ioctl, &plain);
	assert_same_records(with_ioctl, plain);
	/* Every third page of the sparse region was touched. */
	assert_int_equal(count_in(plain, 0, t[0].region, REGION_SIZE, 0),
			 (REGION_SIZE / MP_PAGE_SIZE + 2) / 3);

	collector_free(with_ioctl);
	collector_free(plain);
	target_stop(&t[0]);
	target_stop(&t[1]);
}

/*
 * Start a process that fills a region and then forks, so that it and its
 * child share every page of the region copy-on-write.  pids gets both.
 */
static uint64_t start_forked_pair(pid_t pids[2])
{
	uint64_t address = 0;
	int ready[2];
	pid_t child;

	if (pipe(ready) < 0)
		return 0;
	pids[0] = fork();
	if (pids[0] == 0) {
		uint8_t *p = map_region(FILL_PATTERN, REGION_SIZE);

		fill_region(p, REGION_SIZE, FILL_PATTERN);
		address = (uint64_t)(uintptr_t)p;
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		(void)!write(ready[1], &child, sizeof(child));
		(void)!write(ready[1], &address, sizeof(address));
		pause();
		_exit(0);
	}
	if (read(ready[0], &pids[1], sizeof(pids[1])) != sizeof(pids[1]) ||
	    read(ready[0], &address, sizeof(address)) != sizeof(address))
		address = 0;
	close(ready[0]);
	close(ready[1]);
	return address;
}

/*
 * A scan of a copy-on-write-shared region must leave each pagemap entry of
 * both processes as it was: the same PFN, and the exclusive bit still clear.
 */
static void test_scan_changes_nothing(void **state)
{
	size_t pages = REGION_SIZE / MP_PAGE_SIZE;
	uint64_t *before[2], *after[2], region;
	struct collector *c;
	pid_t pids[2];
	int rc;

	(void)state;
	mp_test_require_root();
	region = start_forked_pair(pids);
	assert_true(region != 0);
	for (int i = 0; i < 2; i++) {
		before[i] = calloc(pages, 8);
		after[i] = calloc(pages, 8);
		assert_true(read_pagemap(pids[i], region, before[i], pages));
	}
	for (size_t i = 0; i < pages; i++) {
		assert_true(before[0][i] & MP_PM_PRESENT);
		assert_int_equal(before[0][i], before[1][i]);
		assert_false(before[0][i] & MP_PM_EXCLUSIVE);
	}

	for (int pass = 0; pass < 2; pass++) {
		c = scan_into(pids, 2, pass, false, NULL, NULL, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(count_in(c, 0, region, REGION_SIZE, MP_PAGE_PFN_VALID), pages);
		assert_int_equal(count_in(c, 1, region, REGION_SIZE, MP_PAGE_PFN_VALID), pages);
		for (size_t i = 0; i < c->page_count; i++)
			if (c->pages[i].index == region / MP_PAGE_SIZE)
				assert_int_equal(c->pages[i].mapcount, 2);
		collector_free(c);
	}
	for (int i = 0; i < 2; i++) {
		assert_true(read_pagemap(pids[i], region, after[i], pages));
		for (size_t j = 0; j < pages; j++)
			assert_int_equal(after[i][j], before[i][j]);
		free(before[i]);
		free(after[i]);
	}
	kill(pids[1], SIGKILL);
	kill(pids[0], SIGKILL);
	waitpid(pids[0], NULL, 0);
}

static void test_thp_subpages(void **state)
{
	struct collector *c;
	struct target t;
	size_t huge, records;
	uint64_t head_flags = 0;
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_THP, HUGE_SIZE));
	c = scan_into(&t.pid, 1, false, false, NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	huge = count_in(c, 0, t.region, HUGE_SIZE, MP_PAGE_HUGE);
	records = count_in(c, 0, t.region, HUGE_SIZE, 0);
	for (size_t i = 0; i < c->page_count; i++)
		if (c->pages[i].index == t.region / MP_PAGE_SIZE)
			head_flags = c->pages[i].kpageflags;
	collector_free(c);
	target_stop(&t);
	if (huge == 0)
		mp_test_skip("no transparent huge page formed (THP disabled or memory fragmented)");
	assert_int_equal(records, 512);
	assert_int_equal(huge, 512);
	assert_true(head_flags & (1ull << MP_KPF_THP));
}

/*
 * A region made PROT_NONE after it was filled keeps its pages but is not
 * read; an untouched PROT_NONE page must stay absent, because reading it
 * through /proc/PID/mem would map the zero page.
 */
static void test_prot_none_skipped(void **state)
{
	size_t pages = REGION_SIZE / 16 / MP_PAGE_SIZE;
	struct collector *c;
	struct target t;
	uint64_t *entries = calloc(pages, 8);
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_SPARSE, REGION_SIZE / 16));
	target_command(&t, 'p');
	c = scan_into(&t.pid, 1, false, false, NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(count_in(c, 0, t.region, REGION_SIZE / 16, 0), 0);
	assert_int_equal(c->ends[0].skipped[MP_SKIP_PROT_NONE], (pages + 2) / 3);

	assert_true(read_pagemap(t.pid, t.region, entries, pages));
	for (size_t i = 0; i < pages; i++)
		assert_int_equal(!!(entries[i] & MP_PM_PRESENT), i % 3 == 0);
	collector_free(c);
	target_stop(&t);
	free(entries);
}

/* Guard pages carry pagemap bit 62 "swapped" too: they count as PROT_NONE, not swap. */
static void test_guard_pages(void **state)
{
	struct collector *with_ioctl, *plain;
	struct target t;
	size_t pages = REGION_SIZE / 16 / MP_PAGE_SIZE;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE / 16));
	if (target_command(&t, 'g') != 'g') {
		target_stop(&t);
		mp_test_skip("MADV_GUARD_INSTALL is not supported (Linux 6.13+)");
	}
	scan_both_ways(&t.pid, 1, &with_ioctl, &plain);
	assert_same_records(with_ioctl, plain);
	assert_int_equal(count_in(plain, 0, t.region, REGION_SIZE / 16, 0), pages - 4);
	assert_int_equal(plain->ends[0].skipped[MP_SKIP_PROT_NONE], 4);
	assert_int_equal(plain->ends[0].skipped[MP_SKIP_SWAPPED], 0);
	collector_free(with_ioctl);
	collector_free(plain);
	target_stop(&t);
}

static void test_mergeable_flags(void **state)
{
	struct collector *c;
	struct target t[2];
	size_t pages = REGION_SIZE / 16 / MP_PAGE_SIZE;
	pid_t pids[2];
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t[0], FILL_PATTERN, REGION_SIZE / 16));
	assert_true(target_start(&t[1], FILL_PATTERN, REGION_SIZE / 16));
	if (target_command(&t[0], 'm') != 'm' || target_command(&t[1], 'M') != 'M') {
		target_stop(&t[0]);
		target_stop(&t[1]);
		mp_test_skip("this kernel has no KSM or no PR_SET_MEMORY_MERGE (Linux 6.4+)");
	}
	pids[0] = t[0].pid;
	pids[1] = t[1].pid;
	c = scan_into(pids, 2, false, false, NULL, NULL, &rc);
	assert_int_equal(rc, 0);

	/* MADV_MERGEABLE: the area's pages only, and the region has VmFlags mg. */
	assert_int_equal(count_in(c, 0, t[0].region, REGION_SIZE / 16, MP_PAGE_MERGEABLE), pages);
	assert_int_equal(count_in(c, 0, 0, UINT64_MAX, MP_PAGE_MERGEABLE), pages);
	for (size_t i = 0; i < c->region_count; i++)
		if (c->regions[i].task == 0)
			assert_int_equal(!!(c->regions[i].vm_flags & MP_VM_MERGEABLE),
					 c->regions[i].start == t[0].region);
	assert_false(c->tasks[0].flags & MP_TASK_KSM_MERGE_ANY);

	/* Merge-any: every page of the task. */
	assert_true(c->tasks[1].flags & MP_TASK_KSM_MERGE_ANY);
	assert_int_equal(count_in(c, 1, 0, UINT64_MAX, MP_PAGE_MERGEABLE), c->ends[1].pages);
	collector_free(c);
	target_stop(&t[0]);
	target_stop(&t[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_match_kernel),
		cmocka_unit_test(test_pagemap_scan_equals_plain),
		cmocka_unit_test(test_scan_changes_nothing),
		cmocka_unit_test(test_thp_subpages),
		cmocka_unit_test(test_prot_none_skipped),
		cmocka_unit_test(test_guard_pages),
		cmocka_unit_test(test_mergeable_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
