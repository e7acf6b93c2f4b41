// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_hashbench.c - false-positive counts of the hash measurement engine
 *
 * The pages come from tests/helpers/mp-craft.h, whose comment derives the
 * expected counts of each algorithm from the way the pages are built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "helpers/mp-craft.h"
#include "hashbench/hashbench.h"

static uint8_t pages[CRAFT_PAGES * CRAFT_PAGE] __attribute__((aligned(4096)));

struct expected {
	const char *hash;
	uint64_t digests, groups, pages, zero, overcount;
};

static const struct expected expected[] = {
	{ "pattern", 11, 2, 2, 1, 2 },
	{ "superfast", 13, 0, 0, 0, 0 },
	{ "crc32", 12, 1, 1, 0, 1 },
	{ "crc32ex", 13, 0, 0, 0, 0 },
	{ "crc32c", 13, 0, 0, 0, 0 },
	{ "md5", 13, 0, 0, 0, 0 },
	{ "sha1", 13, 0, 0, 0, 0 },
	{ "sha256", 13, 0, 0, 0, 0 },
	{ "xxh64", 13, 0, 0, 0, 0 },
	{ "xxh3", 13, 0, 0, 0, 0 },
	{ "xxh128", 13, 0, 0, 0, 0 },
};

static int setup(void **state)
{
	(void)state;
	craft_pages(pages);
	return 0;
}

static const uint8_t *page(unsigned i)
{
	return pages + (size_t)i * CRAFT_PAGE;
}

/* The construction itself, checked with the tests' own CRC-32. */
static void test_crafted_crc_pair(void **state)
{
	(void)state;
	assert_int_equal(craft_crc32(page(10), CRAFT_PAGE), craft_crc32(page(11), CRAFT_PAGE));
	assert_memory_not_equal(page(10), page(11), CRAFT_PAGE);
	assert_int_not_equal(craft_crc32(page(10), 1024), craft_crc32(page(11), 1024));
	assert_int_not_equal(craft_crc32(page(10) + 1024, 1024),
			     craft_crc32(page(11) + 1024, 1024));
	assert_int_not_equal(page(10)[CRAFT_CRC_BYTE], page(11)[CRAFT_CRC_BYTE]);
}

static void test_summary_counts(void **state)
{
	struct mp_hashbench_summary summary;
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	mp_assert_ok(mp_hashbench_open(&bench, pages, CRAFT_PAGES, &error), &error);
	mp_hashbench_get_summary(bench, &summary);
	assert_int_equal(summary.pages, CRAFT_PAGES);
	assert_int_equal(summary.zero_filled_pages, CRAFT_ZERO_PAGES);
	assert_int_equal(summary.contents, CRAFT_CONTENTS);
	assert_int_equal(summary.duplicate_pages, CRAFT_PAGES - CRAFT_CONTENTS);
	assert_int_equal(summary.reference_collisions, 0);
	mp_hashbench_close(bench);
}

static void check_hash_counts(struct mp_hashbench *bench, const struct expected *e)
{
	struct mp_hashbench_result result;
	struct mp_error error = { 0 };
	enum mp_hash_id id = mp_hash_lookup(e->hash);

	assert_int_not_equal(id, MP_HASH_NONE);
	mp_assert_ok(mp_hashbench_measure(bench, id, 2, &result, &error), &error);
	print_message("# %s\n", e->hash);
	assert_int_equal(result.hash, id);
	assert_int_equal(result.passes, 2);
	assert_int_equal(result.digests, e->digests);
	assert_int_equal(result.false_positive_groups, e->groups);
	assert_int_equal(result.false_positive_pages, e->pages);
	assert_int_equal(result.false_positive_zero, e->zero);
	assert_int_equal(result.duplicate_overcount, e->overcount);
	/* sha256 distinguishes these contents, so the old method agrees. */
	assert_int_equal(result.sha256_groups, e->groups);
	assert_int_equal(result.sha256_pages, e->pages);
	assert_true(result.bytes_per_second > 0);
	assert_true(result.pages_per_second * MP_PAGE_SIZE <= result.bytes_per_second * 1.000001);
	assert_true(result.pages_per_second * MP_PAGE_SIZE >= result.bytes_per_second * 0.999999);
}

static void test_false_positives_by_hash(void **state)
{
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	mp_assert_ok(mp_hashbench_open(&bench, pages, CRAFT_PAGES, &error), &error);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		check_hash_counts(bench, &expected[i]);
	mp_hashbench_close(bench);
}

/*
 * One pattern digest group of five pages with three contents {X, X, Y, Y,
 * Z}: the largest content has 2 pages, so 3 false-positive pages, and the
 * digest counts 4 duplicates where byte comparison finds 2: overcount 2.
 */
static void test_group_with_three_contents(void **state)
{
	static uint8_t group[5 * CRAFT_PAGE];
	struct mp_hashbench_result result;
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	memcpy(group, page(5), CRAFT_PAGE);
	memcpy(group + CRAFT_PAGE, page(5), CRAFT_PAGE);
	memcpy(group + 2 * CRAFT_PAGE, page(5), CRAFT_PAGE);
	group[2 * CRAFT_PAGE + 3] ^= 1;
	memcpy(group + 3 * CRAFT_PAGE, group + 2 * CRAFT_PAGE, CRAFT_PAGE);
	memcpy(group + 4 * CRAFT_PAGE, page(5), CRAFT_PAGE);
	group[4 * CRAFT_PAGE + 100] ^= 1;

	mp_assert_ok(mp_hashbench_open(&bench, group, 5, &error), &error);
	mp_assert_ok(mp_hashbench_measure(bench, MP_HASH_PATTERN, 1, &result, &error), &error);
	assert_int_equal(result.digests, 1);
	assert_int_equal(result.false_positive_groups, 1);
	assert_int_equal(result.false_positive_pages, 3);
	assert_int_equal(result.false_positive_zero, 0);
	assert_int_equal(result.duplicate_overcount, 2);
	assert_int_equal(result.sha256_groups, 1);
	assert_int_equal(result.sha256_pages, 3);

	mp_assert_ok(mp_hashbench_measure(bench, MP_HASH_XXH3, 1, &result, &error), &error);
	assert_int_equal(result.digests, 3);
	assert_int_equal(result.false_positive_pages, 0);
	mp_hashbench_close(bench);
}

/* With a weak key the digest runs hold several contents, which memcmp splits. */
static void test_classify_weak_key(void **state)
{
	struct mp_contents contents;
	struct mp_error error = { 0 };
	uint32_t *c;

	(void)state;
	mp_assert_ok(mp_contents_classify(&contents, pages, CRAFT_PAGES, MP_HASH_PATTERN, &error),
		     &error);
	c = contents.content;
	assert_int_equal(contents.summary.contents, CRAFT_CONTENTS);
	assert_int_equal(contents.summary.reference_collisions, 2);
	assert_int_equal(contents.summary.zero_filled_pages, CRAFT_ZERO_PAGES);
	assert_int_equal(c[0], c[1]);
	assert_int_equal(c[0], c[2]);
	assert_int_equal(c[0], contents.zero_content);
	assert_int_not_equal(c[0], c[9]);
	assert_int_equal(contents.reference[0], contents.reference[9]);
	assert_int_equal(c[3], c[4]);
	assert_int_not_equal(c[7], c[8]);
	assert_int_equal(contents.reference[7], contents.reference[8]);
	assert_int_not_equal(c[10], c[11]);
	assert_int_not_equal(contents.reference[10], contents.reference[11]);
	mp_contents_free(&contents);
}

static void test_read_baseline(void **state)
{
	struct mp_hashbench_result result;
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	mp_assert_ok(mp_hashbench_open(&bench, pages, CRAFT_PAGES, &error), &error);
	mp_assert_ok(mp_hashbench_read_baseline(bench, 3, &result, &error), &error);
	assert_int_equal(result.hash, MP_HASH_NONE);
	assert_int_equal(result.passes, 3);
	assert_true(result.bytes_per_second > 0);
	assert_int_equal(result.false_positive_pages, 0);
	assert_int_equal(result.digests, 0);
	mp_hashbench_close(bench);
}

/* Rounds time every algorithm and the baseline; the count fills only the counts. */
static void test_time_then_count(void **state)
{
	static const enum mp_hash_id ids[] = { MP_HASH_CRC32, MP_HASH_XXH3 };
	struct mp_hashbench_result read, results[2];
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	mp_assert_ok(mp_hashbench_open(&bench, pages, CRAFT_PAGES, &error), &error);
	mp_assert_ok(mp_hashbench_time(bench, ids, 2, 3, &read, results, &error), &error);
	assert_int_equal(read.hash, MP_HASH_NONE);
	assert_int_equal(read.passes, 3);
	assert_true(read.bytes_per_second > 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(results[i].hash, ids[i]);
		assert_int_equal(results[i].passes, 3);
		assert_true(results[i].bytes_per_second > 0);
		assert_int_equal(results[i].digests, 0);
	}

	mp_assert_ok(mp_hashbench_count(bench, MP_HASH_CRC32, &results[0], &error), &error);
	assert_int_equal(results[0].digests, 12);
	assert_int_equal(results[0].false_positive_groups, 1);
	assert_int_equal(results[0].false_positive_pages, 1);
	assert_int_equal(results[0].passes, 3);
	assert_true(results[0].bytes_per_second > 0);
	mp_hashbench_close(bench);
}

static void test_invalid_arguments(void **state)
{
	struct mp_hashbench_result result;
	struct mp_hashbench *bench;
	struct mp_error error = { 0 };

	(void)state;
	assert_int_equal(mp_hashbench_open(&bench, pages, 0, &error), -EINVAL);
	assert_null(bench);
	assert_string_equal(error.message, "cannot measure hashes: no pages to hash");

	mp_assert_ok(mp_hashbench_open(&bench, pages, 1, &error), &error);
	assert_int_equal(mp_hashbench_measure(bench, MP_HASH_XXH3, 0, &result, &error), -EINVAL);
	assert_int_equal(mp_hashbench_read_baseline(bench, 0, &result, &error), -EINVAL);
	assert_int_equal(mp_hashbench_measure(bench, MP_HASH_COUNT, 1, &result, &error), -EINVAL);
	assert_int_equal(mp_hashbench_count(bench, MP_HASH_NONE, &result, &error), -EINVAL);
	mp_hashbench_close(bench);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crafted_crc_pair),
		cmocka_unit_test(test_summary_counts),
		cmocka_unit_test(test_false_positives_by_hash),
		cmocka_unit_test(test_group_with_three_contents),
		cmocka_unit_test(test_classify_weak_key),
		cmocka_unit_test(test_read_baseline),
		cmocka_unit_test(test_time_then_count),
		cmocka_unit_test(test_invalid_arguments),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
