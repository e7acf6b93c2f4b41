// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pagecache_tasks.c - task pages against the page cache, on a real process
 *
 * mp-pc-holder maps file A (8 pages, cached) and touches every page, and
 * holds anonymous copies of pages 0, 1, 2, 3 and again 0 of file B (4
 * pages, cached).  A page-cache set of A and B and a procfs set of the
 * holder, analysed together, must give by hand:
 *   cached frames 12 (A 8 + B 4), no duplicate inside the cache;
 *   the holder's mappings of A are the cached frames, not copies;
 *   anonymous frames equal to a cached page: 5 (B0 twice, B1, B2, B3);
 *   contents held three or more times by cache and tasks: 1 (B0: the
 *   cached frame and two anonymous ones), in 3 frames.
 * With root the frames are PFNs; without it, (device, inode, offset).
 * The same numbers come out of one joined set written to a snapshot file
 * and read back, as memprint snapshot writes tasks and page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define PAGE 4096

struct holder {
	pid_t pid;
	int to_child;			/* closing it ends the holder */
};

struct fixture {
	char dir[64];
	char a[128], b[128];
	char snapshot[128];		/* written by the joined-set test */
	struct holder holder;
};

static void fill_page(uint8_t *page, uint64_t seed, uint64_t number)
{
	uint64_t x = (seed << 32) ^ (number + 1) ^ 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < PAGE; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(page + i, &x, 8);
	}
}

/* Write and fsync: the pages stay cached and clean. */
static void write_pages(const char *path, size_t count, uint64_t seed)
{
	uint8_t page[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	for (size_t i = 0; i < count; i++) {
		fill_page(page, seed, i);
		assert_int_equal(pwrite(fd, page, PAGE, (off_t)(i * PAGE)), PAGE);
	}
	memset(page, 0, sizeof(page));	/* leave no copy of the content on our stack */
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* The helper sits in BUILD/tests/helpers, beside BUILD/tests/integration. */
static void helper_path(char *path, size_t size)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(path, size, "%s/../helpers/mp-pc-holder", dirname(exe));
}

static void start_holder(struct fixture *fx)
{
	int in[2], out[2];
	char helper[4200], line[16] = { 0 };
	ssize_t n;

	helper_path(helper, sizeof(helper));
	if (access(helper, X_OK) < 0)
		mp_test_skip("helper not built: %s", helper);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fx->holder.pid = fork();
	assert_true(fx->holder.pid >= 0);
	if (fx->holder.pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		execl(helper, "mp-pc-holder", fx->a, fx->b, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fx->holder.to_child = in[1];
	n = read(out[0], line, sizeof(line) - 1);
	close(out[0]);
	assert_true(n > 0);
	assert_string_equal(line, "ready\n");
	/* Its resident pages stop changing only once it waits for a command. */
	mp_test_wait_in_read(fx->holder.pid);
}

static void stop_holder(struct fixture *fx)
{
	int status;

	if (fx->holder.pid <= 0)
		return;
	close(fx->holder.to_child);
	if (waitpid(fx->holder.pid, &status, 0) != fx->holder.pid)
		printf("# holder %d: waitpid: %s\n", fx->holder.pid, strerror(errno));
	fx->holder.pid = 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/var/tmp/mp-pc-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->a, sizeof(fx->a), "%s/a", fx->dir);
	snprintf(fx->b, sizeof(fx->b), "%s/b", fx->dir);
	snprintf(fx->snapshot, sizeof(fx->snapshot), "%s/set.mps", fx->dir);
	write_pages(fx->a, 8, 21);
	write_pages(fx->b, 4, 22);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	stop_holder(fx);
	unlink(fx->a);
	unlink(fx->b);
	unlink(fx->snapshot);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void print_warning(void *ctx, const char *message)
{
	(void)ctx;
	printf("# warning: %s\n", message);
}

/* Feed a procfs set of the holder and a page-cache set of A and B into sink. */
static void scan_both(struct fixture *fx, const struct mp_sink *sink)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3, .warn = print_warning };
	const char *paths[] = { fx->a, fx->b };
	struct mp_error error = { 0 };

	mp_assert_ok(mp_procfs_scan(&fx->holder.pid, 1, &options, sink, &error), &error);
	mp_assert_ok(mp_pagecache_scan(paths, 2, &options, sink, NULL, &error), &error);
}

/* Check the numbers worked out by hand in the header of this file. */
static void check_holder_report(const struct mp_pagecache_report *r)
{
	assert_int_equal(r->pfn_valid, geteuid() == 0);
	assert_int_equal(r->files, 2);
	assert_int_equal(r->files_unknown, 0);
	assert_int_equal(r->frames, 12);
	assert_int_equal(r->duplicate_frames, 0);
	assert_int_equal(r->pair_count, 0);
	assert_int_equal(r->cache_duplicate_frames, 5);
	assert_int_equal(r->cache_duplicate_frames_nonzero, 5);
	assert_int_equal(r->contents_three_plus_mixed, 1);
	assert_int_equal(r->frames_three_plus_mixed, 3);
	assert_int_equal(r->task_count, 1);
	assert_int_equal(r->tasks[0].cache_duplicate_frames, 5);
	assert_string_equal(r->tasks[0].comm, "mp-pc-holder");
}

static void holder_repeats_cache(void **state)
{
	struct fixture *fx = *state;
	struct mp_pagecache_analysis *analysis;
	struct mp_pagecache_report *r;
	struct mp_error error = { 0 };
	struct mp_sink sink;

	start_holder(fx);
	mp_assert_ok(mp_pagecache_analysis_open(&analysis, NULL, &error), &error);
	sink = mp_pagecache_analysis_sink(analysis);
	scan_both(fx, &sink);
	mp_assert_ok(mp_pagecache_analysis_report(analysis, &r, &error), &error);
	assert_int_equal(r->task_count, 1);
	assert_int_equal(r->tasks[0].pid, fx->holder.pid);
	stop_holder(fx);

	check_holder_report(r);
	mp_pagecache_report_free(r);
	mp_pagecache_analysis_close(analysis);
}

/* Write the holder and the cache as one joined set to the snapshot file. */
static void write_joined_set(struct fixture *fx)
{
	struct mp_writer *writer;
	struct mp_join *join;
	struct mp_error error = { 0 };
	struct mp_sink target, sink;

	mp_assert_ok(mp_writer_open(&writer, fx->snapshot, NULL, &error), &error);
	target = mp_writer_sink(writer);
	mp_assert_ok(mp_join_open(&join, &target, MP_SET_PAGE_CACHE), &error);
	sink = mp_join_sink(join);
	scan_both(fx, &sink);
	mp_assert_ok(mp_join_finish(join, &error), &error);
	mp_join_close(join);
	mp_assert_ok(mp_writer_close(writer, &error), &error);
}

static int keep_set_flags(void *ctx, const struct mp_set_info *info)
{
	*(uint32_t *)ctx = info->flags;
	return 0;
}

/* The file contains one set, with the page-cache flag, and the numbers of two sets fed apart. */
static void joined_file_repeats_cache(void **state)
{
	static const struct mp_sink_ops flag_ops = { .begin_set = keep_set_flags };
	struct fixture *fx = *state;
	struct mp_pagecache_analysis *analysis;
	struct mp_pagecache_report *r;
	struct mp_reader *reader;
	struct mp_error error = { 0 };
	struct mp_sink sinks[2], sink;
	struct mp_tee *tee;
	uint32_t flags = 0;

	start_holder(fx);
	write_joined_set(fx);
	mp_assert_ok(mp_pagecache_analysis_open(&analysis, NULL, &error), &error);
	sinks[0] = mp_pagecache_analysis_sink(analysis);
	sinks[1] = (struct mp_sink){ .ops = &flag_ops, .ctx = &flags };
	assert_int_equal(mp_tee_open(&tee, sinks, 2), 0);
	sink = mp_tee_sink(tee);
	mp_assert_ok(mp_reader_open(&reader, fx->snapshot, &error), &error);
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), 1);
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), 0);
	mp_reader_close(reader);
	mp_tee_close(tee);
	assert_true(flags & MP_SET_PAGE_CACHE);
	assert_int_equal((flags & MP_SET_PFN_VALID) != 0, geteuid() == 0);

	mp_assert_ok(mp_pagecache_analysis_report(analysis, &r, &error), &error);
	assert_int_equal(r->task_count, 1);
	assert_int_equal(r->tasks[0].pid, fx->holder.pid);
	stop_holder(fx);
	check_holder_report(r);
	mp_pagecache_report_free(r);
	mp_pagecache_analysis_close(analysis);
}

/* Mixed duplicate frames of the general analysis over the holder, with or without the cache. */
static uint64_t general_mixed(struct fixture *fx, bool with_cache)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3, .warn = print_warning };
	const char *paths[] = { fx->a, fx->b };
	struct mp_analysis *analysis;
	struct mp_error error = { 0 };
	struct mp_report *r;
	struct mp_sink sink;
	uint64_t mixed;

	mp_assert_ok(mp_analysis_open(&analysis, NULL, &error), &error);
	sink = mp_analysis_sink(analysis);
	mp_assert_ok(mp_procfs_scan(&fx->holder.pid, 1, &options, &sink, &error), &error);
	if (with_cache)
		mp_assert_ok(mp_pagecache_scan(paths, 2, &options, &sink, NULL, &error), &error);
	mp_assert_ok(mp_analysis_report(analysis, &r, &error), &error);
	mixed = r->totals.opportunities.mixed;
	mp_report_free(r);
	mp_analysis_close(analysis);
	return mixed;
}

/*
 * The general analysis sees the same groups.  The cache turns B0 {anon,
 * anon} into the mixed group {cache, anon, anon} with 2 duplicate frames,
 * and each of B1..B3 into {cache, anon} with 1: 5 more mixed duplicates
 * than the holder alone has (its libraries may hold mixed groups too).
 */
static void general_analysis_agrees(void **state)
{
	struct fixture *fx = *state;
	uint64_t alone, with_cache;

	mp_test_require_root();
	start_holder(fx);
	alone = general_mixed(fx, false);
	with_cache = general_mixed(fx, true);
	stop_holder(fx);
	assert_int_equal(with_cache - alone, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(holder_repeats_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(joined_file_repeats_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(general_analysis_agrees, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
