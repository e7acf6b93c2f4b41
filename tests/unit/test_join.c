// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_join.c - the sink that joins the sets of several producers
 *
 * Three parts go through one join into a recording sink:
 *   A, a task scan: tasks 0 and 1, regions 0 (task 0), 1 and 2 (task 1),
 *      a page of task 1 in region 2; start 1000 ns, 100 ns long, KSM
 *      pages_sharing 5;
 *   B, a page-cache scan: files 0 and 1, a page of file 1, a physical
 *      record (no task, no file); start 1150 ns, 50 ns long, partial,
 *      pages_sharing 7;
 *   C, both: task 0, region 0 (task 0), file 0, a page of task 0 in
 *      region 0 and one of file 0; start 1210 ns, 40 ns long, no KSM.
 * By hand, the recorder sees one begin and one end; C's task 0 becomes 2,
 * its region 0 becomes 3 and its file 0 becomes 2; B's file 1 stays 1;
 * the set lasts 1250 - 1000 = 250 ns, is partial and ends with
 * pages_sharing 7.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define EVENT_MAX 32

enum event_kind { EV_BEGIN, EV_TASK, EV_REGION, EV_FILE, EV_PAGE, EV_TASK_END, EV_END };

struct event {
	enum event_kind kind;
	uint32_t task, region;		/* indexes as the target saw them */
	struct mp_set_info info;
	struct mp_set_end end;
};

struct recorder {
	struct event events[EVENT_MAX];
	size_t count;
	int fail_begin;			/* begin_set returns this when negative */
	struct mp_error error;
};

static struct event *record(struct recorder *r, enum event_kind kind)
{
	struct event *e;

	assert_true(r->count < EVENT_MAX);
	e = &r->events[r->count++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static int on_begin(void *ctx, const struct mp_set_info *info)
{
	struct recorder *r = ctx;

	if (r->fail_begin < 0) {
		snprintf(r->error.message, sizeof(r->error.message), "recorder: disk full");
		return r->fail_begin;
	}
	record(r, EV_BEGIN)->info = *info;
	return 0;
}

static int on_task(void *ctx, const struct mp_task *task)
{
	record(ctx, EV_TASK)->task = (uint32_t)task->pid;
	return 0;
}

static int on_region(void *ctx, const struct mp_region *region)
{
	record(ctx, EV_REGION)->task = region->task;
	return 0;
}

static int on_file(void *ctx, const struct mp_file *file)
{
	(void)file;
	record(ctx, EV_FILE);
	return 0;
}

static int on_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct event *e = record(ctx, EV_PAGE);

		e->task = pages[i].task;
		e->region = pages[i].region;
	}
	return 0;
}

static int on_task_end(void *ctx, const struct mp_task_end *end)
{
	record(ctx, EV_TASK_END)->task = end->task;
	return 0;
}

static int on_end(void *ctx, const struct mp_set_end *end)
{
	record(ctx, EV_END)->end = *end;
	return 0;
}

static const struct mp_sink_ops recorder_ops = {
	.begin_set = on_begin,
	.task = on_task,
	.region = on_region,
	.file = on_file,
	.pages = on_pages,
	.task_end = on_task_end,
	.end_set = on_end,
};

static struct mp_sink recorder_sink(struct recorder *r)
{
	struct mp_sink sink = { .ops = &recorder_ops, .ctx = r, .error = &r->error };

	return sink;
}

/* ------------------------------------------------------------ the parts */

static struct mp_set_info part_info(uint32_t flags, int64_t start_ns)
{
	struct mp_set_info info = {
		.page_size = MP_PAGE_SIZE, .source = MP_SOURCE_PROCFS, .hash = MP_HASH_XXH3,
		.digest_size = 8, .flags = flags, .monotonic_ns = start_ns,
	};

	return info;
}

static struct mp_page page_of(uint32_t task, uint32_t region)
{
	struct mp_page page = { .task = task, .region = region };

	return page;
}

static void feed_end(const struct mp_sink *sink, uint32_t flags, uint64_t duration_ns,
		     uint64_t pages_sharing)
{
	struct mp_set_end end = { .flags = flags, .duration_ns = duration_ns };

	end.ksm.valid = pages_sharing > 0;
	end.ksm.pages_sharing = pages_sharing;
	assert_int_equal(sink->ops->end_set(sink->ctx, &end), 0);
}

static void feed_part_a(const struct mp_sink *sink)
{
	const struct mp_sink_ops *ops = sink->ops;
	struct mp_set_info info = part_info(MP_SET_PFN_VALID | MP_SET_FROZEN, 1000);
	struct mp_region region = { .kind = MP_REGION_ANON };
	struct mp_task task = { 0 };
	struct mp_task_end task_end = { 0 };
	struct mp_page page = page_of(1, 2);

	assert_int_equal(ops->begin_set(sink->ctx, &info), 0);
	for (int32_t pid = 100; pid <= 101; pid++) {
		task.pid = pid;
		assert_int_equal(ops->task(sink->ctx, &task), 0);
	}
	for (uint32_t owner = 0; owner < 3; owner++) {
		region.task = owner == 0 ? 0 : 1;
		assert_int_equal(ops->region(sink->ctx, &region), 0);
	}
	assert_int_equal(ops->pages(sink->ctx, &page, 1), 0);
	for (uint32_t t = 0; t < 2; t++) {
		task_end.task = t;
		assert_int_equal(ops->task_end(sink->ctx, &task_end), 0);
	}
	feed_end(sink, 0, 100, 5);
}

static void feed_part_b(const struct mp_sink *sink)
{
	const struct mp_sink_ops *ops = sink->ops;
	struct mp_set_info info = part_info(MP_SET_PFN_VALID | MP_SET_PAGE_CACHE, 1150);
	struct mp_file file = { .path = "/x", .path_size = 2 };
	struct mp_page pages[2] = { page_of(MP_NONE, 1), page_of(MP_NONE, MP_NONE) };

	info.source = MP_SOURCE_PAGECACHE;
	assert_int_equal(ops->begin_set(sink->ctx, &info), 0);
	assert_int_equal(ops->file(sink->ctx, &file), 0);
	assert_int_equal(ops->file(sink->ctx, &file), 0);
	assert_int_equal(ops->pages(sink->ctx, pages, 2), 0);
	feed_end(sink, MP_SET_END_PARTIAL, 50, 7);
}

static void feed_part_c(const struct mp_sink *sink)
{
	const struct mp_sink_ops *ops = sink->ops;
	struct mp_set_info info = part_info(MP_SET_PFN_VALID, 1210);
	struct mp_region region = { .kind = MP_REGION_ANON, .task = 0 };
	struct mp_task task = { .pid = 102 };
	struct mp_task_end task_end = { .task = 0 };
	struct mp_file file = { .path = "/y", .path_size = 2 };
	struct mp_page pages[2] = { page_of(0, 0), page_of(MP_NONE, 0) };

	assert_int_equal(ops->begin_set(sink->ctx, &info), 0);
	assert_int_equal(ops->task(sink->ctx, &task), 0);
	assert_int_equal(ops->region(sink->ctx, &region), 0);
	assert_int_equal(ops->file(sink->ctx, &file), 0);
	assert_int_equal(ops->pages(sink->ctx, pages, 2), 0);
	assert_int_equal(ops->task_end(sink->ctx, &task_end), 0);
	feed_end(sink, 0, 40, 0);
}

/* The n-th event of a kind, counting from 0. */
static const struct event *nth(const struct recorder *r, enum event_kind kind, size_t n)
{
	for (size_t i = 0; i < r->count; i++) {
		if (r->events[i].kind == kind && n-- == 0)
			return &r->events[i];
	}
	fail_msg("event %d number %zu not recorded", kind, n);
	return NULL;
}

static size_t count_of(const struct recorder *r, enum event_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < r->count; i++)
		n += r->events[i].kind == kind;
	return n;
}

/* ------------------------------------------------------------ the tests */

static void join_three_parts(struct recorder *r, struct mp_join **join)
{
	struct mp_sink target = recorder_sink(r);
	struct mp_error error = { 0 };
	struct mp_sink sink;

	mp_assert_ok(mp_join_open(join, &target, MP_SET_PAGE_CACHE), &error);
	sink = mp_join_sink(*join);
	feed_part_a(&sink);
	feed_part_b(&sink);
	feed_part_c(&sink);
	assert_int_equal(count_of(r, EV_END), 0);
	mp_assert_ok(mp_join_finish(*join, &error), &error);
}

static void join_sends_one_set(void **state)
{
	struct recorder r = { 0 };
	struct mp_join *join;
	const struct event *begin;

	(void)state;
	join_three_parts(&r, &join);
	assert_int_equal(count_of(&r, EV_BEGIN), 1);
	assert_int_equal(count_of(&r, EV_END), 1);
	assert_int_equal(r.events[0].kind, EV_BEGIN);
	assert_int_equal(r.events[r.count - 1].kind, EV_END);
	assert_int_equal(count_of(&r, EV_TASK), 3);
	assert_int_equal(count_of(&r, EV_REGION), 4);
	assert_int_equal(count_of(&r, EV_FILE), 3);
	assert_int_equal(count_of(&r, EV_PAGE), 5);
	assert_int_equal(count_of(&r, EV_TASK_END), 3);

	begin = nth(&r, EV_BEGIN, 0);
	assert_int_equal(begin->info.source, MP_SOURCE_PROCFS);
	assert_int_equal(begin->info.monotonic_ns, 1000);
	assert_int_equal(begin->info.flags,
			 MP_SET_PFN_VALID | MP_SET_FROZEN | MP_SET_PAGE_CACHE);
	mp_join_close(join);
}

static void join_offsets_indexes(void **state)
{
	struct recorder r = { 0 };
	struct mp_join *join;

	(void)state;
	join_three_parts(&r, &join);
	/* Part A passes unchanged. */
	assert_int_equal(nth(&r, EV_REGION, 1)->task, 1);
	assert_int_equal(nth(&r, EV_PAGE, 0)->task, 1);
	assert_int_equal(nth(&r, EV_PAGE, 0)->region, 2);
	/* Part B: no file came before it, and a physical record has no index. */
	assert_int_equal(nth(&r, EV_PAGE, 1)->task, MP_NONE);
	assert_int_equal(nth(&r, EV_PAGE, 1)->region, 1);
	assert_int_equal(nth(&r, EV_PAGE, 2)->task, MP_NONE);
	assert_int_equal(nth(&r, EV_PAGE, 2)->region, MP_NONE);
	/* Part C: after 2 tasks, 3 regions and 2 files. */
	assert_int_equal(nth(&r, EV_REGION, 3)->task, 2);
	assert_int_equal(nth(&r, EV_PAGE, 3)->task, 2);
	assert_int_equal(nth(&r, EV_PAGE, 3)->region, 3);
	assert_int_equal(nth(&r, EV_PAGE, 4)->task, MP_NONE);
	assert_int_equal(nth(&r, EV_PAGE, 4)->region, 2);
	assert_int_equal(nth(&r, EV_TASK_END, 2)->task, 2);
	mp_join_close(join);
}

static void join_merges_ends(void **state)
{
	struct recorder r = { 0 };
	struct mp_join *join;
	const struct event *end;

	(void)state;
	join_three_parts(&r, &join);
	end = nth(&r, EV_END, 0);
	assert_int_equal(end->end.duration_ns, 250);
	assert_int_equal(end->end.flags, MP_SET_END_PARTIAL);
	assert_true(end->end.ksm.valid);
	assert_int_equal(end->end.ksm.pages_sharing, 7);
	mp_join_close(join);
}

/* After mp_join_finish() the next set starts with indexes from 0. */
static void join_takes_next_set(void **state)
{
	struct recorder r = { 0 };
	struct mp_error error = { 0 };
	struct mp_join *join;
	struct mp_sink sink;

	(void)state;
	join_three_parts(&r, &join);
	sink = mp_join_sink(join);
	feed_part_c(&sink);
	mp_assert_ok(mp_join_finish(join, &error), &error);
	assert_int_equal(count_of(&r, EV_BEGIN), 2);
	assert_int_equal(count_of(&r, EV_END), 2);
	assert_int_equal(nth(&r, EV_BEGIN, 1)->info.monotonic_ns, 1210);
	assert_int_equal(nth(&r, EV_PAGE, 5)->task, 0);
	assert_int_equal(nth(&r, EV_PAGE, 5)->region, 0);
	assert_int_equal(nth(&r, EV_PAGE, 6)->region, 0);
	assert_int_equal(nth(&r, EV_END, 1)->end.duration_ns, 40);
	mp_join_close(join);
}

/* Begin part A, then offer a second part with info, and return the join's begin_set result. */
static int second_part(uint32_t open_flags, struct mp_set_info info, struct mp_join **join)
{
	static struct recorder r;
	struct mp_sink target, sink;
	struct mp_error error = { 0 };

	memset(&r, 0, sizeof(r));
	target = recorder_sink(&r);
	mp_assert_ok(mp_join_open(join, &target, open_flags), &error);
	sink = mp_join_sink(*join);
	feed_part_a(&sink);
	return sink.ops->begin_set(sink.ctx, &info);
}

static void join_rejects_other_hash(void **state)
{
	struct mp_set_info info = part_info(MP_SET_PFN_VALID, 2000);
	struct mp_join *join;

	(void)state;
	info.hash = MP_HASH_XXH128;
	info.digest_size = 16;
	assert_int_equal(second_part(0, info, &join), -EINVAL);
	assert_non_null(strstr(mp_join_sink(join).error->message, "page hash xxh128"));
	mp_join_close(join);
}

static void join_rejects_pfn_mismatch(void **state)
{
	struct mp_join *join;

	(void)state;
	assert_int_equal(second_part(0, part_info(0, 2000), &join), -EINVAL);
	mp_join_close(join);
	assert_int_equal(second_part(0, part_info(MP_SET_PFN_VALID | MP_SET_KEYED_HASH, 2000),
				     &join), -EINVAL);
	mp_join_close(join);
}

static void join_rejects_undeclared_cache(void **state)
{
	struct mp_set_info info = part_info(MP_SET_PFN_VALID | MP_SET_PAGE_CACHE, 2000);
	struct mp_join *join;

	(void)state;
	assert_int_equal(second_part(0, info, &join), -EINVAL);
	assert_non_null(strstr(mp_join_sink(join).error->message, "MP_SET_PAGE_CACHE"));
	mp_join_close(join);
	assert_int_equal(second_part(MP_SET_PAGE_CACHE, info, &join), 0);
	mp_join_close(join);
}

static void finish_needs_ended_part(void **state)
{
	struct recorder r = { 0 };
	struct mp_sink target = recorder_sink(&r), sink;
	struct mp_set_info info = part_info(0, 1000);
	struct mp_error error = { 0 };
	struct mp_join *join;

	(void)state;
	mp_assert_ok(mp_join_open(&join, &target, 0), &error);
	assert_int_equal(mp_join_finish(join, &error), -EINVAL);
	assert_non_null(strstr(error.message, "no part began"));
	sink = mp_join_sink(join);
	assert_int_equal(sink.ops->begin_set(sink.ctx, &info), 0);
	assert_int_equal(mp_join_finish(join, &error), -EINVAL);
	assert_non_null(strstr(error.message, "has not ended"));
	assert_int_equal(count_of(&r, EV_END), 0);
	mp_join_close(join);
}

static void target_error_passes(void **state)
{
	struct recorder r = { .fail_begin = -ENOSPC };
	struct mp_sink target = recorder_sink(&r), sink;
	struct mp_set_info info = part_info(0, 1000);
	struct mp_error error = { 0 };
	struct mp_join *join;

	(void)state;
	mp_assert_ok(mp_join_open(&join, &target, 0), &error);
	sink = mp_join_sink(join);
	assert_int_equal(sink.ops->begin_set(sink.ctx, &info), -ENOSPC);
	assert_string_equal(sink.error->message, "recorder: disk full");
	mp_join_close(join);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_sends_one_set),
		cmocka_unit_test(join_offsets_indexes),
		cmocka_unit_test(join_merges_ends),
		cmocka_unit_test(join_takes_next_set),
		cmocka_unit_test(join_rejects_other_hash),
		cmocka_unit_test(join_rejects_pfn_mismatch),
		cmocka_unit_test(join_rejects_undeclared_cache),
		cmocka_unit_test(finish_needs_ended_part),
		cmocka_unit_test(target_error_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
