// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pagecache_analysis.c - page-cache analyses on hand-made records
 *
 * A procfs set with tasks T0 (pid 100) and T1 (pid 200) and a page-cache
 * set with files /x/a, /x/b and /x/c (residency unknown).  Digests: X, Y,
 * Z, W distinct, Q the zero-filled page.
 *
 *   cache  a:0 pfn 10 X   a:1 pfn 11 Y   a:2 pfn 12 Q
 *          b:0 pfn 20 X   b:1 pfn 21 Z   b:2 pfn 22 Z   b:3 pfn 23 Q
 *   T0     maps a:0 (pfn 10) through a file region, anon pfn 30 Y, anon pfn 33 Q
 *   T1     anon pfn 30 Y (shared with T0 by fork), anon pfn 31 Y, anon pfn 32 W
 *
 * By hand: cached frames 7, zero-filled 2; groups among them X{10,20}
 * Z{21,22} Q{12,23} give 3 duplicate frames, 2 without zero-filled; file
 * pairs (a, b) 2 (X and Q) and (b, b) 1 (Z).  Task frames 10, 30, 31, 32,
 * 33: 5.  Anonymous frames equal to a cached page: 30, 31 (Y) and 33 (Q):
 * 3, 2 without zero-filled; T0 has 2 of its 3 frames (30, 33), T1 2 of 3
 * (30, 31).  Contents with three or more frames: Y{11,30,31} and
 * Q{12,23,33}, both held by cache and tasks: 2 contents, 6 frames.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "testlib.h"

enum { X = 1, Y, Z, W, Q };

#define DEV makedev(8, 1)
#define ANON_FLAGS (1ull << MP_KPF_ANON)

struct feeder {
	struct mp_sink sink;
	bool pfn_valid;
};

static void make_page(struct mp_page *page, uint32_t task, uint32_t region, uint64_t index,
		      uint64_t pfn, int content, bool anon, bool pfn_valid)
{
	memset(page, 0, sizeof(*page));
	page->task = task;
	page->region = region;
	page->index = index;
	page->pfn = pfn_valid ? pfn : 0;
	page->kpageflags = pfn_valid && anon ? ANON_FLAGS : 0;
	page->flags = pfn_valid ? MP_PAGE_PFN_VALID : 0;
	if (content == Q)
		page->flags |= MP_PAGE_ZERO_FILLED;
	page->digest[0] = (uint8_t)content;
	page->digest[7] = 0xa5;
}

static void feed_tasks(const struct feeder *f)
{
	const struct mp_sink_ops *ops = f->sink.ops;
	struct mp_set_info info = { .source = MP_SOURCE_PROCFS, .hash = MP_HASH_XXH3,
				    .digest_size = 8,
				    .flags = f->pfn_valid ? MP_SET_PFN_VALID : 0 };
	struct mp_task t0 = { .pid = 100, .comm = "t0" }, t1 = { .pid = 200, .comm = "t1" };
	struct mp_region anon0 = { .task = 0, .kind = MP_REGION_ANON, .start = 0x1000000,
				   .end = 0x1100000 };
	struct mp_region file0 = { .task = 0, .kind = MP_REGION_FILE, .start = 0x10000,
				   .end = 0x20000, .offset = 0, .dev = DEV, .inode = 50,
				   .path = "/x/a", .path_size = 4 };
	struct mp_region anon1 = { .task = 1, .kind = MP_REGION_ANON, .start = 0x1000000,
				   .end = 0x1100000 };
	struct mp_page pages[6];
	bool v = f->pfn_valid;

	assert_int_equal(ops->begin_set(f->sink.ctx, &info), 0);
	assert_int_equal(ops->task(f->sink.ctx, &t0), 0);
	assert_int_equal(ops->task(f->sink.ctx, &t1), 0);
	assert_int_equal(ops->region(f->sink.ctx, &anon0), 0);	/* region 0 */
	assert_int_equal(ops->region(f->sink.ctx, &file0), 0);	/* region 1 */
	assert_int_equal(ops->region(f->sink.ctx, &anon1), 0);	/* region 2 */
	make_page(&pages[0], 0, 1, 0x10, 10, X, false, v);	/* T0 maps a:0 */
	make_page(&pages[1], 0, 0, 0x1000, 30, Y, true, v);
	make_page(&pages[2], 0, 0, 0x1001, 33, Q, true, v);
	make_page(&pages[3], 1, 2, 0x1000, 30, Y, true, v);	/* shared through fork */
	make_page(&pages[4], 1, 2, 0x1001, 31, Y, true, v);
	make_page(&pages[5], 1, 2, 0x1002, 32, W, true, v);
	assert_int_equal(ops->pages(f->sink.ctx, pages, 6), 0);
}

static void feed_cache(const struct feeder *f)
{
	const struct mp_sink_ops *ops = f->sink.ops;
	struct mp_set_info info = { .source = MP_SOURCE_PAGECACHE, .hash = MP_HASH_XXH3,
				    .digest_size = 8,
				    .flags = f->pfn_valid ? MP_SET_PFN_VALID : 0 };
	struct mp_file a = { .dev = DEV, .inode = 50, .size = 3 * 4096, .path = "/x/a",
			     .path_size = 4 };
	struct mp_file b = { .dev = DEV, .inode = 51, .size = 4 * 4096, .path = "/x/b",
			     .path_size = 4 };
	struct mp_file c = { .dev = DEV, .inode = 52, .size = 4096, .flags = MP_FILE_UNKNOWN,
			     .path = "/x/c", .path_size = 4 };
	struct mp_page pages[7];
	bool v = f->pfn_valid;

	assert_int_equal(ops->begin_set(f->sink.ctx, &info), 0);
	assert_int_equal(ops->file(f->sink.ctx, &b), 0);	/* file 0: b before a on purpose */
	assert_int_equal(ops->file(f->sink.ctx, &a), 0);	/* file 1 */
	assert_int_equal(ops->file(f->sink.ctx, &c), 0);	/* file 2 */
	make_page(&pages[0], MP_NONE, 1, 0, 10, X, false, v);
	make_page(&pages[1], MP_NONE, 1, 1, 11, Y, false, v);
	make_page(&pages[2], MP_NONE, 1, 2, 12, Q, false, v);
	make_page(&pages[3], MP_NONE, 0, 0, 20, X, false, v);
	make_page(&pages[4], MP_NONE, 0, 1, 21, Z, false, v);
	make_page(&pages[5], MP_NONE, 0, 2, 22, Z, false, v);
	make_page(&pages[6], MP_NONE, 0, 3, 23, Q, false, v);
	assert_int_equal(ops->pages(f->sink.ctx, pages, 7), 0);
}

static struct mp_pagecache_report *analyse(bool pfn_valid)
{
	struct mp_pagecache_analysis *analysis;
	struct mp_pagecache_report *report;
	struct mp_error error = { 0 };
	struct feeder f = { .pfn_valid = pfn_valid };

	mp_assert_ok(mp_pagecache_analysis_open(&analysis, NULL, &error), &error);
	f.sink = mp_pagecache_analysis_sink(analysis);
	feed_tasks(&f);
	feed_cache(&f);
	mp_assert_ok(mp_pagecache_analysis_report(analysis, &report, &error), &error);
	mp_pagecache_analysis_close(analysis);
	return report;
}

static void cache_redundancy_with_pfns(void **state)
{
	struct mp_pagecache_report *r = analyse(true);

	(void)state;
	assert_true(r->pfn_valid);
	assert_int_equal(r->files, 2);
	assert_int_equal(r->files_unknown, 1);
	assert_int_equal(r->frames, 7);
	assert_int_equal(r->zero_filled_frames, 2);
	assert_int_equal(r->duplicate_frames, 3);
	assert_int_equal(r->duplicate_frames_nonzero, 2);
	assert_int_equal(r->pair_count, 2);
	assert_int_equal(r->pairs_shown, 2);
	assert_string_equal(r->pairs[0].first, "/x/a");
	assert_string_equal(r->pairs[0].second, "/x/b");
	assert_int_equal(r->pairs[0].pages, 2);
	assert_string_equal(r->pairs[1].first, "/x/b");
	assert_string_equal(r->pairs[1].second, "/x/b");
	assert_int_equal(r->pairs[1].pages, 1);
	mp_pagecache_report_free(r);
}

static void tasks_against_cache_with_pfns(void **state)
{
	struct mp_pagecache_report *r = analyse(true);

	(void)state;
	assert_int_equal(r->task_frames, 5);
	assert_int_equal(r->cache_duplicate_frames, 3);
	assert_int_equal(r->cache_duplicate_frames_nonzero, 2);
	assert_int_equal(r->task_count, 2);
	assert_int_equal(r->tasks[0].pid, 100);
	assert_int_equal(r->tasks[0].frames, 3);
	assert_int_equal(r->tasks[0].cache_duplicate_frames, 2);
	assert_int_equal(r->tasks[0].cache_duplicate_frames_nonzero, 1);
	assert_int_equal(r->tasks[1].pid, 200);
	assert_int_equal(r->tasks[1].frames, 3);
	assert_int_equal(r->tasks[1].cache_duplicate_frames, 2);
	assert_int_equal(r->tasks[1].cache_duplicate_frames_nonzero, 2);
	assert_int_equal(r->contents_three_plus, 2);
	assert_int_equal(r->frames_three_plus, 6);
	assert_int_equal(r->contents_three_plus_mixed, 2);
	assert_int_equal(r->frames_three_plus_mixed, 6);
	mp_pagecache_report_free(r);
}

/*
 * Without PFNs the file mapping of a:0 still meets its cached page through
 * (device, inode, offset), but the anonymous page T0 and T1 share through
 * fork counts once per task: anonymous frames equal to a cached page are
 * then 30 (T0), 30 (T1), 31, 33: 4; Y is held by 4 frames.
 */
static void frames_without_pfns(void **state)
{
	struct mp_pagecache_report *r = analyse(false);

	(void)state;
	assert_false(r->pfn_valid);
	assert_int_equal(r->frames, 7);
	assert_int_equal(r->duplicate_frames, 3);
	assert_int_equal(r->task_frames, 6);
	assert_int_equal(r->cache_duplicate_frames, 4);
	assert_int_equal(r->cache_duplicate_frames_nonzero, 3);
	assert_int_equal(r->tasks[0].frames, 3);
	assert_int_equal(r->tasks[0].cache_duplicate_frames, 2);
	assert_int_equal(r->contents_three_plus, 2);
	assert_int_equal(r->frames_three_plus, 7);
	mp_pagecache_report_free(r);
}

static void report_json_keys(void **state)
{
	struct mp_pagecache_report *r = analyse(true);
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(out);
	assert_int_equal(mp_pagecache_report_write(out, r, true), 0);
	fclose(out);
	assert_non_null(strstr(text, "\"frames\": 7,"));
	assert_non_null(strstr(text, "\"duplicate_frames\": 3,"));
	assert_non_null(strstr(text, "\"duplicate_percent\": 42.86,"));
	assert_non_null(strstr(text, "{\"first\": \"/x/a\", \"second\": \"/x/b\", \"pages\": 2}"));
	assert_non_null(strstr(text, "\"cache_duplicate_frames\": 3,"));
	assert_non_null(strstr(text, "\"contents_three_plus_mixed\": 2,"));
	assert_non_null(strstr(text, "{\"pid\": 100, \"comm\": \"t0\", \"frames\": 3, "
				     "\"cache_duplicate_frames\": 2, "
				     "\"cache_duplicate_frames_nonzero\": 1}"));
	free(text);
	mp_pagecache_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_redundancy_with_pfns),
		cmocka_unit_test(tasks_against_cache_with_pfns),
		cmocka_unit_test(frames_without_pfns),
		cmocka_unit_test(report_json_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
