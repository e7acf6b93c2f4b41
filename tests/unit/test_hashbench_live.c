// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_hashbench_live.c - the content hook of the procfs scan, which
 * memprint hashbench reads live memory through
 *
 * A forked child holds the crafted pages of tests/helpers/mp-craft.h at a
 * known address, plus pages it never touched; the scan must hand the hook
 * exactly the crafted pages' bytes, with the records they belong to, and
 * never a page that was not present.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "testlib.h"
#include "helpers/mp-craft.h"

#define UNTOUCHED_PAGES 8

static uint8_t expected[CRAFT_PAGES * CRAFT_PAGE];

struct hook_result {
	uint64_t base;			/* virtual page number of the crafted pages */
	size_t seen[CRAFT_PAGES];	/* times each crafted page was handed over */
	size_t untouched_seen;		/* pages of the untouched area handed over */
	size_t wrong_content;
	size_t wrong_digest;
	size_t records;
	struct mp_hash *xxh3;
};

static int check_pages(void *ctx, const struct mp_page *pages, const void *data, size_t count)
{
	struct hook_result *r = ctx;

	for (size_t i = 0; i < count; i++) {
		const uint8_t *content = (const uint8_t *)data + i * MP_PAGE_SIZE;
		uint64_t at = pages[i].index - r->base;
		uint8_t digest[MP_DIGEST_MAX];

		r->records++;
		mp_hash_page(r->xxh3, content, digest);
		if (memcmp(digest, pages[i].digest, mp_hash_digest_size(MP_HASH_XXH3)))
			r->wrong_digest++;
		if (pages[i].index >= r->base + CRAFT_PAGES &&
		    pages[i].index < r->base + CRAFT_PAGES + UNTOUCHED_PAGES)
			r->untouched_seen++;
		if (pages[i].index < r->base || at >= CRAFT_PAGES)
			continue;
		r->seen[at]++;
		if (memcmp(content, expected + at * CRAFT_PAGE, CRAFT_PAGE))
			r->wrong_content++;
	}
	return 0;
}

/* Fork a child holding the crafted pages, then CRAFT_PAGES untouched ones. */
static pid_t start_child(uint64_t *base)
{
	size_t size = (CRAFT_PAGES + UNTOUCHED_PAGES) * CRAFT_PAGE;
	uint8_t *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	int ready[2];
	pid_t pid;
	char c;

	assert_true(area != MAP_FAILED);
	assert_int_equal(pipe(ready), 0);
	*base = (uintptr_t)area >> 12;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Written in the child, so the pages are its own, not shared with us. */
		craft_pages(area);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	munmap(area, size);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void stop_child(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void test_hook_gets_present_pages(void **state)
{
	static const struct mp_sink_ops no_records;
	struct hook_result result = { 0 };
	struct mp_scan_options options = {
		.hash = MP_HASH_XXH3,
		.page_data = check_pages,
		.page_data_ctx = &result,
	};
	struct mp_error error = { 0 };
	struct mp_sink sink = { &no_records, NULL, &error };
	pid_t pid;
	int rc;

	(void)state;
	craft_pages(expected);
	mp_assert_ok(mp_hash_open(&result.xxh3, MP_HASH_XXH3, NULL, 0, &error), &error);
	pid = start_child(&result.base);
	rc = mp_procfs_scan(&pid, 1, &options, &sink, &error);
	stop_child(pid);
	mp_hash_close(result.xxh3);
	if (rc == -EACCES || rc == -EPERM)
		mp_test_skip("cannot read /proc/%d/mem: %s", (int)pid, error.message);
	mp_assert_ok(rc, &error);

	for (unsigned i = 0; i < CRAFT_PAGES; i++)
		assert_int_equal(result.seen[i], 1);
	assert_int_equal(result.wrong_content, 0);
	assert_int_equal(result.untouched_seen, 0);
	assert_int_equal(result.wrong_digest, 0);
	assert_true(result.records > CRAFT_PAGES);
}

static int stop_early(void *ctx, const struct mp_page *pages, const void *data, size_t count)
{
	size_t *calls = ctx;

	(void)pages;
	(void)data;
	(void)count;
	(*calls)++;
	return -ENOBUFS;
}

static void test_hook_error_stops_scan(void **state)
{
	static const struct mp_sink_ops no_records;
	size_t calls = 0;
	struct mp_scan_options options = {
		.hash = MP_HASH_XXH3,
		.page_data = stop_early,
		.page_data_ctx = &calls,
	};
	struct mp_error error = { 0 };
	struct mp_sink sink = { &no_records, NULL, &error };
	uint64_t base;
	pid_t pid;
	int rc;

	(void)state;
	pid = start_child(&base);
	rc = mp_procfs_scan(&pid, 1, &options, &sink, &error);
	stop_child(pid);
	if (rc == -EACCES || rc == -EPERM)
		mp_test_skip("cannot read /proc/%d/mem: %s", (int)pid, error.message);
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_gets_present_pages),
		cmocka_unit_test(test_hook_error_stops_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
