// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_watch_series.c - a series of snapshot sets of real processes, with
 * per-set counts, churn and lifetimes checked against hand-worked values
 *
 * Two mp-workload processes of 16 pages each change their pages on a known
 * schedule.  The test sends each step through a pipe and waits for the
 * reply before it takes the set, so each set shows exactly that step: no
 * timing slack is needed.  Only the workloads' arenas are kept.
 * The sets go through the snapshot writer into one file, which is then read
 * back through the per-set analysis and the timeline engine.
 */
#include "test_watch.h"

#define WORKLOADS 2
#define ARENA_PAGES 16
#define SETS 6

static struct workload workloads[WORKLOADS];

/* ------------------------------------------------------------ the series */

/*
 * The steps before each set; content 7 is shared, 1000 and up are unique.
 *	set 0: every page unique
 *	set 1: pages 0-3 of both workloads get content 7    -> 8 frames of 7
 *	set 2: workload 2's pages 0-1 become unique          -> 6 frames of 7
 *	set 3: nothing                                       -> 6 frames of 7
 *	set 4: workload 1's pages 0-3 become unique          -> 2 frames of 7
 *	set 5: workload 2's pages 2-3 become unique          -> none
 */
static void run_step(int set)
{
	switch (set) {
	case 1:
		workload_command(&workloads[0], "fill 0 4 7");
		workload_command(&workloads[1], "fill 0 4 7");
		break;
	case 2:
		workload_command(&workloads[1], "unique 0 2 3000");
		break;
	case 4:
		workload_command(&workloads[0], "unique 0 4 4000");
		break;
	case 5:
		workload_command(&workloads[1], "unique 2 2 5000");
		break;
	}
}

static void write_series(const char *path)
{
	struct mp_writer_options writer_options = { .sync = true };
	struct mp_scan_options scan_options = { .hash = MP_HASH_XXH3 };
	struct arena_filter filter = { .workloads = workloads, .workload_count = WORKLOADS };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink = { &arena_filter_ops, &filter, NULL };
	pid_t pids[WORKLOADS];

	for (int i = 0; i < WORKLOADS; i++)
		pids[i] = workloads[i].pid;
	mp_assert_ok(mp_writer_open(&writer, path, &writer_options, &error), &error);
	filter.next = mp_writer_sink(writer);

	for (int set = 0; set < SETS; set++) {
		run_step(set);
		mp_assert_ok(mp_procfs_scan(pids, WORKLOADS, &scan_options, &sink, &error), &error);
	}
	mp_assert_ok(mp_writer_close(writer, &error), &error);
}

struct series {
	struct mp_timeline_set rows[SETS];
	struct mp_totals totals[SETS];
	size_t count;
	struct mp_analysis *analysis;
	struct mp_timeline_summary *summary;
};

static int collect(void *ctx, const struct mp_timeline_set *set)
{
	struct series *series = ctx;
	struct mp_report *report;
	struct mp_error error = { 0 };
	int rc;

	if (series->count == SETS)
		return -E2BIG;
	rc = mp_analysis_report(series->analysis, &report, &error);
	if (rc < 0)
		return rc;
	series->rows[series->count] = *set;
	series->totals[series->count++] = report->totals;
	mp_report_free(report);
	return 0;
}

static void read_series(const char *path, struct series *series)
{
	struct mp_timeline_options options = { .set_done = collect, .set_done_ctx = series };
	struct mp_error error = { 0 };
	struct mp_timeline *timeline;
	struct mp_reader *reader;
	struct mp_tee *tee;
	struct mp_sink sinks[2], sink;
	int rc;

	mp_assert_ok(mp_analysis_open(&series->analysis, NULL, &error), &error);
	mp_assert_ok(mp_timeline_open(&timeline, &options, &error), &error);
	sinks[0] = mp_analysis_sink(series->analysis);
	sinks[1] = mp_timeline_sink(timeline);
	assert_int_equal(mp_tee_open(&tee, sinks, 2), 0);
	sink = mp_tee_sink(tee);

	mp_assert_ok(mp_reader_open(&reader, path, &error), &error);
	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0)
		;
	mp_assert_ok(rc, &error);
	mp_assert_ok(mp_timeline_finish(timeline, &series->summary, &error), &error);

	mp_reader_close(reader);
	mp_tee_close(tee);
	mp_timeline_close(timeline);
	mp_analysis_close(series->analysis);
}

static struct series series;

static int setup_series(void **state)
{
	char path[] = "/tmp/memprint-test-series-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	for (int i = 0; i < WORKLOADS; i++)
		start_workload(&workloads[i], ARENA_PAGES);
	write_series(path);
	read_series(path, &series);
	unlink(path);
	return 0;
}

static int teardown_series(void **state)
{
	(void)state;
	for (int i = 0; i < WORKLOADS; i++)
		stop_workload(&workloads[i]);
	mp_timeline_summary_free(series.summary);
	return 0;
}

static void series_per_set_counts(void **state)
{
	static const uint64_t duplicate_frames[SETS] = { 0, 7, 5, 5, 1, 0 };
	static const uint64_t opportunities[SETS] = { 0, 1, 1, 1, 1, 0 };
	static const uint64_t opportunity_mappings[SETS] = { 0, 8, 6, 6, 2, 0 };

	(void)state;
	assert_int_equal(series.count, SETS);
	for (int set = 0; set < SETS; set++) {
		const struct mp_timeline_set *row = &series.rows[set];

		assert_int_equal(row->tasks, WORKLOADS);
		assert_int_equal(row->mappings, WORKLOADS * ARENA_PAGES);
		assert_int_equal(row->frames, WORKLOADS * ARENA_PAGES);
		assert_int_equal(row->opportunities, opportunities[set]);
		assert_int_equal(row->duplicate_frames, duplicate_frames[set]);
		assert_int_equal(row->opportunity_mappings, opportunity_mappings[set]);
		/* The per-set analysis, a separate implementation, agrees. */
		assert_int_equal(series.totals[set].frames, WORKLOADS * ARENA_PAGES);
		assert_int_equal(series.totals[set].duplicate_frames, duplicate_frames[set]);
	}
}

/* Stable for 4 sets: 24 pages never change; workload 2's pages 2-3 join at set 4, 0-1 at 5. */
static void series_churn_and_stable(void **state)
{
	static const uint64_t churn[SETS] = { 0, 8, 2, 0, 4, 2 };
	static const uint64_t stable[SETS] = { 0, 0, 0, 24, 26, 26 };

	(void)state;
	for (int set = 0; set < SETS; set++) {
		assert_int_equal(series.rows[set].churn, churn[set]);
		assert_int_equal(series.rows[set].common_mappings, set ? 32 : 0);
		assert_int_equal(series.rows[set].stable_mappings, stable[set]);
	}
	assert_int_equal(series.summary->churn, 16);
	assert_int_equal(series.summary->task_count, WORKLOADS);
	for (size_t i = 0; i < series.summary->task_count; i++) {
		assert_int_equal(series.summary->tasks[i].churn, 8);
		assert_int_equal(series.summary->tasks[i].common_mappings, 80);
		assert_int_equal(series.summary->tasks[i].max_churn, 4);
	}
}

/*
 * Content 7 is an opportunity in sets 1-4: one complete run of 4 sets,
 * savable 7 + 5 + 5 + 1.  Merges: workload 2's pages 0-1 for set 1,
 * workload 1's pages 0-3 for sets 1-3, workload 2's pages 2-3 for sets 1-4.
 */
static void series_lifetimes(void **state)
{
	const struct mp_lifetimes *content = &series.summary->content;
	const struct mp_lifetimes *merge = &series.summary->merge;

	(void)state;
	assert_int_equal(content->runs, 1);
	assert_int_equal(content->pages, 18);
	assert_int_equal(content->runs_by_sets[4], 1);
	assert_int_equal(content->censored_runs, 0);

	assert_int_equal(merge->runs, 8);
	assert_int_equal(merge->pages, 2 * 1 + 4 * 3 + 2 * 4);
	assert_int_equal(merge->runs_by_sets[1], 2);
	assert_int_equal(merge->runs_by_sets[3], 4);
	assert_int_equal(merge->runs_by_sets[4], 2);
	assert_int_equal(merge->censored_runs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(series_per_set_counts),
		cmocka_unit_test(series_churn_and_stable),
		cmocka_unit_test(series_lifetimes),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_series, teardown_series);
}
