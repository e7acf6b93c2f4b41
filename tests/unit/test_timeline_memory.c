// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_timeline_memory.c - the timeline engine's memory stays within its
 * stated bound, whatever the length of the series
 *
 * Two tasks of 65536 pages each (512 MiB of memory described), pages in
 * pairs of equal content, 10 % of the pages rewritten with new contents in
 * each set.  The peak resident size of this process (VmHWM) may grow by at
 * most the bound of docs/timeline.md, computed here from the array sizes,
 * and may not grow at all between set 10 and set 40.
 */
#include <errno.h>
#include <stdlib.h>

#include "test_timeline.h"

#define TASKS 2
#define PAGES_PER_TASK 65536
#define PAGES (TASKS * PAGES_PER_TASK)
#define CHUNK 1024
#define FIRST_SETS 10
#define ALL_SETS 40
#define SLACK (1024 * 1024)	/* malloc bookkeeping, stack, stdio buffers */

/* Peak resident set size of this process in bytes, from /proc/self/status. */
static uint64_t peak_rss(void)
{
	char line[256];
	uint64_t kib = 0;
	FILE *status = fopen("/proc/self/status", "r");

	assert_non_null(status);
	while (fgets(line, sizeof(line), status)) {
		if (sscanf(line, "VmHWM: %lu kB", &kib) == 1)
			break;
	}
	fclose(status);
	assert_true(kib > 0);
	return kib * 1024;
}

/* Entries of a timeline array that contains n: it doubles from 16. */
static uint64_t capacity(uint64_t n)
{
	uint64_t entries = 16;

	while (entries < n)
		entries *= 2;
	return entries;
}

/*
 * Every page of the test has a frame of its own, so each set has PAGES
 * records and PAGES frames; records and the sort scratch take 16 bytes
 * each, frames 16, the open runs (two arrays of at most half as many as
 * records) 24, a bit per record, and 32 bytes per mapping of two
 * consecutive sets of each task.  A realloc keeps the old and the new
 * array at once, so the peak is at most 1.5 times the steady state.
 */
static uint64_t state_bound(void)
{
	uint64_t steady = 2 * 16 * capacity(PAGES) + 16 * capacity(PAGES) +
			  8 * capacity((PAGES + 63) / 64) + 2 * 24 * capacity(PAGES / 2 + 1) +
			  TASKS * 2 * 32 * capacity(PAGES_PER_TASK);

	return steady + steady / 2;
}

static bool page_is_new(int set, uint64_t page)
{
	return (page + (uint64_t)set * 7) % 10 == 0;
}

/* Content of a page: pairs share one; 10 % of the pages, a different 10 % in each set, are new. */
static uint64_t page_content(int set, uint64_t page)
{
	if (page_is_new(set, page))
		return 1000000000ull + (uint64_t)set * PAGES + page;
	return 1 + page / 2;
}

static uint64_t expected_churn(void)
{
	uint64_t churn = 0;

	for (int set = 1; set < ALL_SETS; set++) {
		for (uint64_t page = 0; page < PAGES; page++)
			churn += page_is_new(set, page) || page_is_new(set - 1, page);
	}
	return churn;
}

static void push_set(const struct mp_sink *sink, int set, struct mp_page *chunk)
{
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .digest_size = 8,
				    .flags = MP_SET_PFN_VALID,
				    .monotonic_ns = set * TEST_NS_PER_SEC };
	struct mp_set_end end = { 0 };

	assert_int_equal(sink->ops->begin_set(sink->ctx, &info), 0);
	for (int t = 0; t < TASKS; t++) {
		struct mp_task task = { .pid = 1000 + t };

		assert_int_equal(sink->ops->task(sink->ctx, &task), 0);
	}
	for (uint64_t first = 0; first < PAGES; first += CHUNK) {
		for (uint64_t i = 0; i < CHUNK; i++) {
			uint64_t page = first + i;
			struct test_page spec = { page / PAGES_PER_TASK, page % PAGES_PER_TASK,
						  page + 1, page_content(set, page) };

			test_fill_page(&chunk[i], &spec, true);
		}
		assert_int_equal(sink->ops->pages(sink->ctx, chunk, CHUNK), 0);
	}
	assert_int_equal(sink->ops->end_set(sink->ctx, &end), 0);
}

static void memory_bounded_over_series(void **state)
{
	struct mp_page *chunk = calloc(CHUNK, sizeof(*chunk));
	struct mp_timeline_summary *summary;
	struct mp_timeline *timeline;
	struct mp_error error = { 0 };
	struct mp_sink sink;
	uint64_t before, after_first, after_all;

	(void)state;
	assert_non_null(chunk);
	before = peak_rss();
	mp_assert_ok(mp_timeline_open(&timeline, NULL, &error), &error);
	sink = mp_timeline_sink(timeline);

	for (int set = 0; set < FIRST_SETS; set++)
		push_set(&sink, set, chunk);
	after_first = peak_rss();
	for (int set = FIRST_SETS; set < ALL_SETS; set++)
		push_set(&sink, set, chunk);
	after_all = peak_rss();
	mp_assert_ok(mp_timeline_finish(timeline, &summary, &error), &error);

	print_message("# state %lu bytes, peak growth %lu bytes, bound %lu bytes\n",
		      (unsigned long)summary->state_bytes_max,
		      (unsigned long)(after_all - before), (unsigned long)state_bound());
	assert_true(summary->state_bytes_max <= state_bound());
	assert_true(after_all - before <= state_bound() + SLACK);
	/* 30 more sets: no growth beyond page-granular noise. */
	assert_true(after_all - after_first <= 256 * 1024);
	/* The series did churn: pages rewritten in a set, and back in the next. */
	assert_int_equal(summary->churn, expected_churn());

	mp_timeline_summary_free(summary);
	mp_timeline_close(timeline);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_bounded_over_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
