// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_layouts_scan.c - end-to-end counts where the scan meets the kernel's
 * own structures: a transparent huge page, targets that unmap a region or
 * exit while they are scanned, and the resident pages of a whole process
 * against the kernel's Rss
 *
 * As in test_layouts.c, every expected count is worked out by hand from
 * the layout in the comment above its check.  Every test needs root.
 */
#include <stdio.h>

#include "layouts.h"

#define HUGE_PAGE_SIZE (2u << 20)
#define HUGE_PAGES (HUGE_PAGE_SIZE / PAGE)	/* 512 */
#define BIG_PAGES 16384u			/* 64 MiB */

/* Page contents; 0 is the zero-filled page. */
enum {
	T_UNIQUE = 1001,		/* THP: unique pages, T_UNIQUE + page number */
	T_REPEAT = 2001,		/* THP: T_REPEAT + page number % 64 */
	E1 = 3001, E2, E3,		/* the small target of the event tests */
	E_BIG = 10001,			/* the big target: E_BIG + page number */
};

/* ----------------------------------------------------------------- THP */

/*
 * Content of page i of the huge page.  Pages at multiples of 8 are
 * zero-filled (64 pages), the others below 64 are unique (56 pages).  From
 * 64 on, page i holds T_REPEAT + i % 64, so each of the 56 contents
 * (i % 64 in 1..63, not a multiple of 8) repeats in the 7 blocks of 64
 * pages from 64 to 511.
 */
static uint64_t thp_content(size_t i)
{
	if (i % 8 == 0)
		return 0;
	if (i < 64)
		return T_UNIQUE + i;
	return T_REPEAT + i % 64;
}

static void thp_actor(int command_fd, int reply_fd, void *arg)
{
	uint8_t *p = mmap(NULL, 2 * HUGE_PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p == MAP_FAILED)
		_exit(2);
	p = (uint8_t *)(((uintptr_t)p + HUGE_PAGE_SIZE - 1) & ~(uintptr_t)(HUGE_PAGE_SIZE - 1));
	if (madvise(p, HUGE_PAGE_SIZE, MADV_HUGEPAGE) < 0)
		_exit(2);
	for (size_t i = 0; i < HUGE_PAGES; i++)
		fill_content(p + i * PAGE, thp_content(i));
	actor_reply(reply_fd, (uintptr_t)p);
	actor_wait_quit(command_fd);
}

/* Read one 64-bit entry of a /proc table at index. */
static bool read_entry(const char *path, uint64_t index, uint64_t *entry)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, entry, 8, (off_t)(index * 8)) == 8;
	close(fd);
	return ok;
}

/* Whether every page of pid's huge-page-sized region at address is in one THP. */
static bool region_is_thp(pid_t pid, uint64_t address)
{
	char pagemap[64];
	uint64_t entry, flags;

	snprintf(pagemap, sizeof(pagemap), "/proc/%d/pagemap", (int)pid);
	for (size_t i = 0; i < HUGE_PAGES; i++) {
		if (!read_entry(pagemap, address / PAGE + i, &entry) || !(entry & MP_PM_PRESENT))
			return false;
		if (!read_entry("/proc/kpageflags", entry & ((1ull << 55) - 1), &flags) ||
		    !(flags & (1ull << MP_KPF_THP)))
			return false;
	}
	return true;
}

static void test_transparent_huge_page(void **state)
{
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	struct actor a;
	uint64_t region;
	size_t huge = 0;

	(void)state;
	mp_test_require_root();
	actor_start(&a, thp_actor, NULL);
	region = actor_receive(&a);
	if (!region_is_thp(a.pid, region)) {
		actor_stop(&a);
		mp_test_skip("no transparent huge page formed in a MADV_HUGEPAGE region");
	}
	filter_add_range(&s.filter, a.pid, region, HUGE_PAGES);
	scan_layout(&s, &a.pid, 1);
	actor_stop(&a);
	t = &s.report->totals;

	/* One record per 4 KiB subpage, each flagged as part of a huge page. */
	assert_int_equal(s.filter.kept_count, HUGE_PAGES);
	for (size_t i = 0; i < s.filter.kept_count; i++)
		huge += (s.filter.kept[i].flags & MP_PAGE_HUGE) != 0;
	assert_int_equal(huge, HUGE_PAGES);
	/* 512 subpages, 512 distinct PFNs, mapped once each. */
	assert_int_equal(t->mappings, HUGE_PAGES);
	assert_int_equal(t->zero_page_mappings, 0);
	assert_int_equal(t->frames, HUGE_PAGES);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], HUGE_PAGES);
	assert_int_equal(t->shared_frames, 0);
	assert_int_equal(t->saved_by_sharing, 0);
	/* zero{64 pages}: 63; 56 contents in 7 pages each: 56 * 6 = 336. */
	assert_int_equal(t->zero_filled_frames, 64);
	assert_int_equal(t->duplicate_frames, 63 + 336);
	assert_int_equal(t->duplicate_frames_nonzero, 336);
	assert_int_equal(t->opportunities.anonymous, 63 + 336);
	assert_int_equal(t->opportunities.internal, 63 + 336);
	/* The 56 unique pages below 64. */
	assert_int_equal(t->private_frames, 56);
	/* Every page but the unique ones: 512 - 56. */
	assert_int_equal(t->frames_with_duplicates, HUGE_PAGES - 56);
	scan_result_free(&s);
}

/* ------------------------------------------- targets changing mid-scan */

/*
 * The big target: 64 MiB of pages that are all different, so that the
 * scan is still in them when the test changes the target.  'u' unmaps
 * them and replies 1.
 */
static void big_actor(int command_fd, int reply_fd, void *arg)
{
	uint8_t *p = map_anonymous(BIG_PAGES, MAP_PRIVATE);

	(void)arg;
	if (p == MAP_FAILED)
		_exit(2);
	for (size_t i = 0; i < BIG_PAGES; i++)
		fill_content(p + i * PAGE, E_BIG + i);
	actor_reply(reply_fd, (uintptr_t)p);
	for (char c; (c = actor_next_command(command_fd)) != 'q';) {
		if (c == 'u')
			actor_reply(reply_fd, munmap(p, BIG_PAGES * PAGE) == 0);
	}
}

/*
 * The small target: 6 pages, E1 E1 E2 zero-filled, zero page (read), E3.
 * Its numbers, whatever happens to the big one, whose contents differ:
 * mappings 5, zero-page mappings 1, frames 5, groups E1{0,1} E2{2}
 * zero{3} E3{5}: duplicate frames 1, private frames 3 (pages 2, 3, 5),
 * frames with duplicates 2 (pages 0, 1).
 */
static void small_actor(int command_fd, int reply_fd, void *arg)
{
	uint8_t *p = map_anonymous(6, MAP_PRIVATE);

	(void)arg;
	if (p == MAP_FAILED)
		_exit(2);
	fill_content(p, E1);
	fill_content(p + PAGE, E1);
	fill_content(p + 2 * PAGE, E2);
	fill_content(p + 3 * PAGE, 0);
	touch_pages(p + 4 * PAGE, 1);
	fill_content(p + 5 * PAGE, E3);
	actor_reply(reply_fd, (uintptr_t)p);
	actor_wait_quit(command_fd);
}

static void check_small_target(const struct mp_task_totals *small)
{
	assert_int_equal(small->status, MP_TASK_COMPLETE);
	assert_int_equal(small->totals.mappings, 5);
	assert_int_equal(small->totals.zero_page_mappings, 1);
	assert_int_equal(small->totals.frames, 5);
	assert_int_equal(small->totals.shared_frames, 0);
	assert_int_equal(small->totals.duplicate_frames, 1);
	assert_int_equal(small->totals.duplicate_frames_nonzero, 1);
	assert_int_equal(small->totals.zero_filled_frames, 1);
	assert_int_equal(small->totals.private_frames, 3);
	assert_int_equal(small->totals.frames_with_duplicates, 2);
}

struct event {
	struct actor *big;
	char command;			/* 'u' to unmap, 0 to kill */
	bool done;
};

/* Change the big target once the sink has seen its first pages. */
static void change_big_target(struct range_filter *f, const struct mp_page *pages, size_t count)
{
	struct event *e = f->arg;

	(void)count;
	if (e->done || f->task_pids[pages[0].task] != e->big->pid)
		return;
	e->done = true;
	if (e->command)
		assert_int_equal(actor_command(e->big, e->command), 1);
	else
		actor_kill(e->big);
}

/* Scan the big target, changed by command mid-scan, then the small one. */
static void scan_with_event(struct scan_result *s, char command, pid_t pids[2])
{
	struct actor big, small;
	struct event e = { .big = &big, .command = command };

	actor_start(&big, big_actor, NULL);
	actor_start(&small, small_actor, NULL);
	filter_add_range(&s->filter, big.pid, actor_receive(&big), BIG_PAGES);
	filter_add_range(&s->filter, small.pid, actor_receive(&small), 6);
	s->filter.on_kept = change_big_target;
	s->filter.arg = &e;
	pids[0] = big.pid;
	pids[1] = small.pid;
	scan_layout(s, pids, 2);
	assert_true(e.done);
	actor_stop(&big);
	actor_stop(&small);
}

/* The big target's part: some pages, not all, each a frame of its own. */
static void check_big_target(const struct mp_task_totals *big)
{
	assert_true(big->totals.mappings > 0);
	assert_true(big->totals.mappings < BIG_PAGES);
	assert_int_equal(big->totals.frames, big->totals.mappings);
	assert_int_equal(big->totals.duplicate_frames, 0);
	assert_int_equal(big->totals.frames_with_duplicates, 0);
}

static void test_target_unmaps_region(void **state)
{
	const struct mp_task_totals *big;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	scan_with_event(&s, 'u', pids);
	t = &s.report->totals;

	/* Memory that is gone is no longer the task's: the task is complete. */
	big = task_totals(s.report, pids[0]);
	assert_int_equal(big->status, MP_TASK_COMPLETE);
	check_big_target(big);
	check_small_target(task_totals(s.report, pids[1]));
	assert_int_equal(s.report->partial_tasks, 0);
	/* The set: the big target's pages beside the small target's 5. */
	assert_int_equal(t->mappings, big->totals.mappings + 5);
	assert_int_equal(t->frames, big->totals.frames + 5);
	assert_int_equal(t->duplicate_frames, 1);
	/* Each of the big target's frames, and pages 2, 3 and 5 of the small one. */
	assert_int_equal(t->private_frames, big->totals.frames + 3);
	scan_result_free(&s);
}

static void test_target_exits_during_scan(void **state)
{
	const struct mp_task_totals *big;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	scan_with_event(&s, 0, pids);
	t = &s.report->totals;

	/* The set is kept, with the end of the big target marked. */
	big = task_totals(s.report, pids[0]);
	assert_int_equal(big->status, MP_TASK_EXITED);
	assert_int_equal(s.report->partial_tasks, 1);
	assert_true(s.filter.set_end.flags & MP_SET_END_PARTIAL);
	assert_true(s.warning_count >= 1);
	assert_non_null(strstr(s.warnings[s.warning_count - 1], "exited during the scan"));
	check_big_target(big);
	check_small_target(task_totals(s.report, pids[1]));
	assert_int_equal(t->mappings, big->totals.mappings + 5);
	assert_int_equal(t->duplicate_frames, 1);
	scan_result_free(&s);
}

/* ---------------------------------------------------------------- Rss */

/* Rss of pid in pages, from /proc/PID/smaps_rollup. */
static uint64_t rollup_rss_pages(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Rss: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib / 4;
}

static void quiet_actor(int command_fd, int reply_fd, void *arg)
{
	(void)arg;
	actor_reply(reply_fd, 1);
	actor_wait_quit(command_fd);
}

/*
 * Rss counts the present pages that vm_normal_page() finds in each area
 * (fs/proc/task_mmu.c): not the kernel zero page, and not the frames of
 * VM_PFNMAP or VM_IO areas such as [vvar].  The scan counts exactly these
 * as mappings, as long as no area without read permission has present
 * pages (the scan skips those) and no page moved.  The actor is measured
 * only once it sleeps in read(), because on its way there it still faults
 * in code.  In an ASan build that made Rss grow by 16 pages of libasan.so
 * (64 KiB by fault-around) between the two readings.
 */
static void test_mappings_equal_rss(void **state)
{
	uint64_t before, after, mappings, task_mappings, moved;
	uint64_t skipped_prot_none, skipped_swapped, skipped_unreadable;
	const struct mp_task_totals *task;
	struct scan_result s = { 0 };
	uint32_t status;
	struct actor a;
	pid_t pid;

	(void)state;
	mp_test_require_root();
	actor_start(&a, quiet_actor, NULL);
	actor_receive(&a);
	pid = a.pid;
	mp_test_wait_in_read(pid);
	before = rollup_rss_pages(pid);
	scan_layout(&s, &pid, 1);
	after = rollup_rss_pages(pid);
	actor_stop(&a);

	/* Copied out so that a failed check leaks no report. */
	task = task_totals(s.report, pid);
	status = task->status;
	task_mappings = task->totals.mappings;
	mappings = s.report->totals.mappings;
	moved = s.report->moved_pages;
	skipped_prot_none = s.report->skipped[MP_SKIP_PROT_NONE];
	skipped_swapped = s.report->skipped[MP_SKIP_SWAPPED];
	skipped_unreadable = s.report->skipped[MP_SKIP_UNREADABLE];
	scan_result_free(&s);

	/* A quiet process: nothing changed while it was scanned. */
	assert_int_equal(before, after);
	assert_int_equal(skipped_prot_none, 0);
	assert_int_equal(skipped_swapped, 0);
	assert_int_equal(skipped_unreadable, 0);
	assert_int_equal(moved, 0);
	assert_int_equal(status, MP_TASK_COMPLETE);
	assert_int_equal(task_mappings, before);
	assert_int_equal(mappings, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transparent_huge_page),
		cmocka_unit_test(test_target_unmaps_region),
		cmocka_unit_test(test_target_exits_during_scan),
		cmocka_unit_test(test_mappings_equal_rss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
