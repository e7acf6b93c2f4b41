// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_timeline.c - the timeline engine on hand-made series
 *
 * Each expected number below was worked out by hand from the series drawn
 * in the comment above the test; sets are one second apart.
 */
#include <errno.h>
#include <stdlib.h>

#include "test_timeline.h"

#define MAX_SETS 16

struct collected {
	struct mp_timeline_set rows[MAX_SETS];
	size_t count;
};

static int collect_set(void *ctx, const struct mp_timeline_set *set)
{
	struct collected *collected = ctx;

	if (collected->count < MAX_SETS)
		collected->rows[collected->count++] = *set;
	return 0;
}

struct fixture {
	struct mp_timeline *timeline;
	struct mp_sink sink;
	struct collected collected;
	struct mp_timeline_summary *summary;
	struct mp_error error;
};

static void open_fixture(struct fixture *f, uint32_t stable_sets)
{
	struct mp_timeline_options options = {
		.stable_sets = stable_sets,
		.set_done = collect_set,
		.set_done_ctx = &f->collected,
	};

	memset(f, 0, sizeof(*f));
	mp_assert_ok(mp_timeline_open(&f->timeline, &options, &f->error), &f->error);
	f->sink = mp_timeline_sink(f->timeline);
}

static void push(struct fixture *f, int set, const int32_t *pids, size_t task_count,
		 const struct test_page *pages, size_t page_count)
{
	int rc = test_push_set(&f->sink, set * TEST_NS_PER_SEC, pids, task_count, pages,
			       page_count, true);

	if (rc < 0)
		fail_msg("set %d: %s", set, f->sink.error->message);
}

static void finish_fixture(struct fixture *f)
{
	mp_assert_ok(mp_timeline_finish(f->timeline, &f->summary, &f->error), &f->error);
}

static void close_fixture(struct fixture *f)
{
	mp_timeline_summary_free(f->summary);
	mp_timeline_close(f->timeline);
}

/*
 * One task, four virtual pages, each on its own frame (pfn = vpn), six sets:
 *
 *	set	v1 v2 v3 v4	opportunities
 *	0	A  A  B  C	A
 *	1	A  A  C  C	A C
 *	2	A  D  C  C	C
 *	3	A  A  C  E	A
 *	4	A  A  B  E	A
 *	5	A  A  B  B	A B
 */
enum { A = 1, B, C, D, E };

static const uint64_t churn_series[6][4] = {
	{ A, A, B, C }, { A, A, C, C }, { A, D, C, C },
	{ A, A, C, E }, { A, A, B, E }, { A, A, B, B },
};

static void push_churn_series(struct fixture *f)
{
	static const int32_t pid = 100;

	for (int set = 0; set < 6; set++) {
		struct test_page pages[4];

		for (int v = 0; v < 4; v++)
			pages[v] = (struct test_page){ 0, v + 1, v + 1, churn_series[set][v] };
		push(f, set, &pid, 1, pages, 4);
	}
}

static void series_per_set_counts(void **state)
{
	static const uint64_t opportunities[6] = { 1, 2, 1, 1, 1, 2 };
	static const uint64_t opportunity_mappings[6] = { 2, 4, 2, 2, 2, 4 };
	static const uint64_t churn[6] = { 0, 1, 1, 2, 1, 1 };
	struct fixture f;

	(void)state;
	open_fixture(&f, 3);
	push_churn_series(&f);
	assert_int_equal(f.collected.count, 6);

	for (int set = 0; set < 6; set++) {
		const struct mp_timeline_set *row = &f.collected.rows[set];

		assert_int_equal(row->index, set);
		assert_int_equal(row->monotonic_ns, set * TEST_NS_PER_SEC);
		assert_int_equal(row->tasks, 1);
		assert_int_equal(row->mappings, 4);
		assert_int_equal(row->frames, 4);
		assert_int_equal(row->opportunities, opportunities[set]);
		assert_int_equal(row->duplicate_frames, opportunities[set]);
		assert_int_equal(row->duplicate_frames_nonzero, opportunities[set]);
		assert_int_equal(row->opportunity_mappings, opportunity_mappings[set]);
		assert_int_equal(row->churn, churn[set]);
		assert_int_equal(row->common_mappings, set ? 4 : 0);
		assert_int_equal(row->new_mappings, set ? 0 : 4);
		assert_int_equal(row->gone_mappings, 0);
	}
	close_fixture(&f);
}

/*
 * Stable with N = 3: the first set of each mapping's current digest is
 * v1: 0; v2: 0, 2, 3; v3: 0, 1, 4; v4: 0, 3, 5.  A mapping is stable in set
 * s when that first set is at most s - 2.
 */
static void series_stable_pages(void **state)
{
	static const uint64_t stable[6] = { 0, 0, 2, 2, 1, 2 };
	struct fixture f;

	(void)state;
	open_fixture(&f, 3);
	push_churn_series(&f);
	for (int set = 0; set < 6; set++)
		assert_int_equal(f.collected.rows[set].stable_mappings, stable[set]);
	close_fixture(&f);
}

/*
 * Content runs: A in sets 0-1 (censored: first set) and 3-5 (censored: last
 * set, ends at the extrapolated t(6) = 6 s, so it lives 3 s), C in sets 1-2
 * (complete, t(3) - t(1) = 2 s, savable 1 + 1), B in set 5 (censored).
 */
static void series_content_lifetimes(void **state)
{
	struct fixture f;
	const struct mp_lifetimes *content;

	(void)state;
	open_fixture(&f, 3);
	push_churn_series(&f);
	finish_fixture(&f);
	content = &f.summary->content;

	assert_int_equal(f.summary->set_count, 6);
	assert_int_equal(f.summary->end_ns, 6 * TEST_NS_PER_SEC);
	assert_int_equal(content->runs, 1);
	assert_int_equal(content->pages, 2);
	assert_int_equal(content->runs_by_sets[2], 1);
	/* 2 s is not longer than 2 s. */
	assert_int_equal(content->longer_runs[0], 0);

	assert_int_equal(content->censored_runs, 3);
	assert_int_equal(content->censored_pages, 2 + 3 + 1);
	assert_int_equal(content->censored_runs_by_sets[1], 1);
	assert_int_equal(content->censored_runs_by_sets[2], 1);
	assert_int_equal(content->censored_runs_by_sets[3], 1);
	assert_int_equal(content->censored_longer_runs[0], 1);
	assert_int_equal(content->censored_longer_pages[0], 3);
	assert_int_equal(content->censored_longer_runs[1], 0);
	close_fixture(&f);
}

/*
 * Merge runs: v1 in sets 0-1 and 3-5, v2 in 0-1 (broken by the write of D)
 * and 3-5, v3 in 1-2 and 5, v4 in 1-2 (broken by the write of E) and 5.
 * Complete: v3 1-2 and v4 1-2.  The two runs of sets 3-5 live 3 s.
 */
static void series_merge_lifetimes(void **state)
{
	struct fixture f;
	const struct mp_lifetimes *merge;

	(void)state;
	open_fixture(&f, 3);
	push_churn_series(&f);
	finish_fixture(&f);
	merge = &f.summary->merge;

	assert_int_equal(merge->runs, 2);
	assert_int_equal(merge->pages, 4);
	assert_int_equal(merge->runs_by_sets[2], 2);
	assert_int_equal(merge->longer_runs[0], 0);

	assert_int_equal(merge->censored_runs, 6);
	assert_int_equal(merge->censored_pages, 2 + 3 + 2 + 3 + 1 + 1);
	assert_int_equal(merge->censored_runs_by_sets[1], 2);
	assert_int_equal(merge->censored_runs_by_sets[2], 2);
	assert_int_equal(merge->censored_runs_by_sets[3], 2);
	assert_int_equal(merge->censored_longer_runs[0], 2);
	assert_int_equal(merge->censored_longer_pages[0], 6);
	close_fixture(&f);
}

static void series_task_churn(void **state)
{
	struct fixture f;

	(void)state;
	open_fixture(&f, 3);
	push_churn_series(&f);
	finish_fixture(&f);

	assert_int_equal(f.summary->churn, 6);
	assert_int_equal(f.summary->common_mappings, 20);
	assert_int_equal(f.summary->task_count, 1);
	assert_int_equal(f.summary->tasks[0].pid, 100);
	assert_string_equal(f.summary->tasks[0].comm, "task100");
	assert_int_equal(f.summary->tasks[0].first_set, 0);
	assert_int_equal(f.summary->tasks[0].last_set, 5);
	assert_int_equal(f.summary->tasks[0].churn, 6);
	assert_int_equal(f.summary->tasks[0].common_mappings, 20);
	assert_int_equal(f.summary->tasks[0].max_churn, 2);
	close_fixture(&f);
}

/*
 * Two tasks; task 20 shares frame 1 with task 10 (fork) and exits after
 * set 0.  Content X = 1, Y = 2, zero-filled = 0.
 *
 *	set 0: 10: v1 f1 X, v2 f2 Y, v3 zero page, v4 f5 0
 *	       20: v1 f1 X, v2 f3 Y, v3 f6 0
 *	       frames 1 2 3 5 6; groups Y{2,3} 0{5,6}
 *	set 1: 10: v1 f1 X, v2 f2 Y, v3 zero page, v4 f5 0, v5 f7 Y
 *	       frames 1 2 5 7; groups Y{2,7}
 */
static void series_tasks_come_and_go(void **state)
{
	static const int32_t both[] = { 10, 20 };
	static const int32_t first[] = { 10 };
	static const struct test_page set0[] = {
		{ 0, 1, 1, 1 }, { 0, 2, 2, 2 }, { 0, 3, TEST_ZERO_PAGE, 0 }, { 0, 4, 5, 0 },
		{ 1, 1, 1, 1 }, { 1, 2, 3, 2 }, { 1, 3, 6, 0 },
	};
	static const struct test_page set1[] = {
		{ 0, 1, 1, 1 }, { 0, 2, 2, 2 }, { 0, 3, TEST_ZERO_PAGE, 0 }, { 0, 4, 5, 0 },
		{ 0, 5, 7, 2 },
	};
	const struct mp_timeline_set *row;
	struct fixture f;

	(void)state;
	open_fixture(&f, 2);
	push(&f, 0, both, 2, set0, MP_ARRAY_SIZE(set0));
	push(&f, 1, first, 1, set1, MP_ARRAY_SIZE(set1));
	finish_fixture(&f);

	row = &f.collected.rows[0];
	assert_int_equal(row->mappings, 6);
	assert_int_equal(row->zero_page_mappings, 1);
	assert_int_equal(row->frames, 5);
	assert_int_equal(row->opportunities, 2);
	assert_int_equal(row->duplicate_frames, 2);
	assert_int_equal(row->duplicate_frames_nonzero, 1);
	assert_int_equal(row->opportunity_mappings, 4);
	assert_int_equal(row->new_mappings, 7);

	row = &f.collected.rows[1];
	assert_int_equal(row->tasks, 1);
	assert_int_equal(row->mappings, 4);
	assert_int_equal(row->frames, 4);
	assert_int_equal(row->opportunities, 1);
	assert_int_equal(row->duplicate_frames_nonzero, 1);
	assert_int_equal(row->common_mappings, 4);
	assert_int_equal(row->churn, 0);
	assert_int_equal(row->new_mappings, 1);
	assert_int_equal(row->gone_mappings, 3);
	/* Unchanged for two sets: task 10's v1 to v4, the zero page mapping too. */
	assert_int_equal(row->stable_mappings, 4);

	/* Content runs: 0 in set 0, Y in sets 0-1; all censored. */
	assert_int_equal(f.summary->content.runs, 0);
	assert_int_equal(f.summary->content.censored_runs, 2);
	assert_int_equal(f.summary->content.censored_pages, 1 + 2);
	/* Merge runs: 10v4, 20v2, 20v3 in set 0, 10v2 in sets 0-1, 10v5 in set 1. */
	assert_int_equal(f.summary->merge.runs, 0);
	assert_int_equal(f.summary->merge.censored_runs, 5);
	assert_int_equal(f.summary->merge.censored_pages, 6);
	assert_int_equal(f.summary->merge.censored_runs_by_sets[1], 4);
	assert_int_equal(f.summary->merge.censored_runs_by_sets[2], 1);

	assert_int_equal(f.summary->task_count, 2);
	assert_int_equal(f.summary->tasks[1].pid, 20);
	assert_int_equal(f.summary->tasks[1].last_set, 0);
	assert_int_equal(f.summary->tasks[0].common_mappings, 4);
	close_fixture(&f);
}

/*
 * Twelve sets; v1 always holds K, v2 holds K in sets 1-9 and a content of
 * its own in the others.  K is an opportunity in sets 1-9: one complete
 * content run of 9 s, and two complete merge runs of 9 s, longer than 2, 4
 * and 8 s but not 16 s.  v2 changes in sets 1, 10 and 11.
 */
static void series_long_runs(void **state)
{
	static const int32_t pid = 7;
	const uint64_t K = 50;
	struct fixture f;

	(void)state;
	open_fixture(&f, 0);
	for (int set = 0; set < 12; set++) {
		struct test_page pages[2] = {
			{ 0, 1, 1, K },
			{ 0, 2, 2, set >= 1 && set <= 9 ? K : 100 + set },
		};

		push(&f, set, &pid, 1, pages, 2);
	}
	finish_fixture(&f);

	assert_int_equal(f.summary->churn, 3);
	assert_int_equal(f.summary->content.runs, 1);
	assert_int_equal(f.summary->content.pages, 9);
	assert_int_equal(f.summary->content.runs_by_sets[9], 1);
	assert_int_equal(f.summary->merge.runs, 2);
	assert_int_equal(f.summary->merge.pages, 18);
	assert_int_equal(f.summary->merge.runs_by_sets[9], 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f.summary->merge.longer_runs[i], 2);
		assert_int_equal(f.summary->merge.longer_pages[i], 18);
		assert_int_equal(f.summary->content.longer_runs[i], 1);
	}
	assert_int_equal(f.summary->merge.longer_runs[3], 0);
	assert_int_equal(f.summary->content.longer_runs[3], 0);
	assert_int_equal(f.summary->content.censored_runs, 0);
	assert_int_equal(f.summary->merge.censored_runs, 0);
	/* Default N = 4: v1 is stable from set 3 on. */
	assert_int_equal(f.collected.rows[2].stable_mappings, 0);
	assert_int_equal(f.collected.rows[3].stable_mappings, 1);
	close_fixture(&f);
}

/* Without PFNs every page record is a frame of its own, so a fork-shared page counts twice. */
static void series_without_pfns(void **state)
{
	static const int32_t pids[] = { 1, 2 };
	static const struct test_page pages[] = {
		{ 0, 1, 1, 9 }, { 1, 1, 1, 9 }, { 1, 2, 2, 8 },
	};
	struct fixture f;
	int rc;

	(void)state;
	open_fixture(&f, 0);
	rc = test_push_set(&f.sink, 0, pids, 2, pages, MP_ARRAY_SIZE(pages), false);
	assert_int_equal(rc, 0);
	assert_int_equal(f.collected.rows[0].frames, 3);
	assert_int_equal(f.collected.rows[0].opportunities, 1);
	assert_int_equal(f.collected.rows[0].duplicate_frames, 1);
	close_fixture(&f);
}

/*
 * A page that moved while it was read is left out, as the analysis leaves
 * it out: its PFN and its content may belong to two frames.  Here its
 * content would otherwise make content 9 an opportunity of two frames.
 */
static void series_skips_moved_pages(void **state)
{
	static const struct test_page specs[] = { { 0, 1, 1, 9 }, { 0, 2, 2, 9 } };
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .digest_size = 8,
				    .flags = MP_SET_PFN_VALID };
	struct mp_set_end end = { 0 };
	struct mp_task task = { .pid = 1 };
	struct mp_page pages[2];
	struct fixture f;

	(void)state;
	open_fixture(&f, 0);
	test_fill_page(&pages[0], &specs[0], true);
	test_fill_page(&pages[1], &specs[1], true);
	pages[1].flags |= MP_PAGE_MOVED;
	assert_int_equal(f.sink.ops->begin_set(f.sink.ctx, &info), 0);
	assert_int_equal(f.sink.ops->task(f.sink.ctx, &task), 0);
	assert_int_equal(f.sink.ops->pages(f.sink.ctx, pages, 2), 0);
	assert_int_equal(f.sink.ops->end_set(f.sink.ctx, &end), 0);

	assert_int_equal(f.collected.rows[0].mappings, 1);
	assert_int_equal(f.collected.rows[0].frames, 1);
	assert_int_equal(f.collected.rows[0].opportunities, 0);
	assert_int_equal(f.collected.rows[0].new_mappings, 1);
	close_fixture(&f);
}

static void series_rejects_cut_set(void **state)
{
	struct mp_set_info info = { .digest_size = 8 };
	struct fixture f;

	(void)state;
	open_fixture(&f, 0);
	assert_int_equal(f.sink.ops->begin_set(f.sink.ctx, &info), 0);
	assert_int_equal(f.sink.ops->begin_set(f.sink.ctx, &info), -EBADMSG);
	assert_non_null(strstr(f.sink.error->message, "has no end"));
	assert_int_equal(mp_timeline_finish(f.timeline, &f.summary, &f.error), -EBADMSG);
	close_fixture(&f);
}

static void series_page_of_unknown_task(void **state)
{
	static const struct test_page pages[] = { { 3, 1, 1, 1 } };
	static const int32_t pid = 5;
	struct fixture f;

	(void)state;
	open_fixture(&f, 0);
	assert_int_equal(test_push_set(&f.sink, 0, &pid, 1, pages, 1, true), -EBADMSG);
	close_fixture(&f);
}

static void series_empty(void **state)
{
	struct fixture f;

	(void)state;
	open_fixture(&f, 0);
	finish_fixture(&f);
	assert_int_equal(f.summary->set_count, 0);
	assert_int_equal(f.summary->content.runs, 0);
	assert_int_equal(f.summary->task_count, 0);
	close_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(series_per_set_counts),
		cmocka_unit_test(series_stable_pages),
		cmocka_unit_test(series_content_lifetimes),
		cmocka_unit_test(series_merge_lifetimes),
		cmocka_unit_test(series_task_churn),
		cmocka_unit_test(series_tasks_come_and_go),
		cmocka_unit_test(series_long_runs),
		cmocka_unit_test(series_without_pfns),
		cmocka_unit_test(series_skips_moved_pages),
		cmocka_unit_test(series_rejects_cut_set),
		cmocka_unit_test(series_page_of_unknown_task),
		cmocka_unit_test(series_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
