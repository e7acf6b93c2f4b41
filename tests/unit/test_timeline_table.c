// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_timeline_table.c - the timeline engine's hash tables: growth and
 * deletion during a sweep
 *
 * Backward-shift deletion moves entries while a sweep runs; these tests
 * check that every entry is visited once and stays reachable.
 */
#include <stdlib.h>

#include "testlib.h"
#include "timeline/timeline.h"

#define ENTRIES 50000

struct sweep_count {
	size_t visited;
	size_t kept;
	uint8_t *seen_vpn;
};

/* Keep the mappings whose vpn is not a multiple of 3. */
static bool drop_thirds(void *ctx, struct tl_mapping *mapping)
{
	struct sweep_count *count = ctx;

	count->visited++;
	count->seen_vpn[mapping->vpn]++;
	if (mapping->vpn % 3 == 0)
		return false;
	count->kept++;
	return true;
}

static void mappings_survive_sweep(void **state)
{
	struct tl_table table;
	struct sweep_count count = { 0 };
	size_t expected_kept = 0;

	(void)state;
	count.seen_vpn = calloc(ENTRIES, 1);
	assert_non_null(count.seen_vpn);
	assert_int_equal(tl_mapping_table_init(&table), 0);

	for (uint64_t vpn = 0; vpn < ENTRIES; vpn++) {
		struct tl_mapping *mapping = tl_mapping_get(&table, (int32_t)(vpn % 7) + 1, vpn);

		assert_non_null(mapping);
		assert_int_equal(mapping->seen, 0);
		mapping->seen = 1;
		mapping->digest = vpn * 11;
		expected_kept += vpn % 3 != 0;
	}
	assert_int_equal(table.count, ENTRIES);
	assert_true((table.mask + 1) * 3 >= table.count * 4);

	tl_mapping_sweep(&table, drop_thirds, NULL, &count);
	assert_int_equal(count.visited, ENTRIES);
	assert_int_equal(count.kept, expected_kept);
	assert_int_equal(table.count, expected_kept);
	for (uint64_t vpn = 0; vpn < ENTRIES; vpn++)
		assert_int_equal(count.seen_vpn[vpn], 1);

	/* Every kept entry is found again with its data. */
	for (uint64_t vpn = 0; vpn < ENTRIES; vpn++) {
		struct tl_mapping *mapping;

		if (vpn % 3 == 0)
			continue;
		mapping = tl_mapping_get(&table, (int32_t)(vpn % 7) + 1, vpn);
		assert_int_equal(mapping->seen, 1);
		assert_int_equal(mapping->digest, vpn * 11);
	}
	assert_int_equal(table.count, expected_kept);
	tl_table_free(&table);
	free(count.seen_vpn);
}

static bool drop_odd_digests(void *ctx, struct tl_content *content)
{
	(void)ctx;
	return content->digest % 2 == 0;
}

static void contents_survive_sweep(void **state)
{
	struct tl_table table;

	(void)state;
	assert_int_equal(tl_content_table_init(&table), 0);
	/* 32-bit digests: only the low half of the key is set. */
	for (uint64_t digest = 1; digest <= ENTRIES; digest++) {
		struct tl_content *content = tl_content_get(&table, digest * 2654435761u % (1ull << 32));

		assert_non_null(content);
		content->seen = 1;
		content->frames = (uint32_t)digest;
	}
	tl_content_sweep(&table, drop_odd_digests, NULL);

	for (uint64_t digest = 1; digest <= ENTRIES; digest++) {
		uint64_t key = digest * 2654435761u % (1ull << 32);
		struct tl_content *content = tl_content_find(&table, key);

		if (key % 2) {
			assert_null(content);
		} else {
			assert_non_null(content);
			assert_int_equal(content->frames, digest);
		}
	}
	tl_table_free(&table);
}

static void frame_set_counts_once(void **state)
{
	struct tl_table set;

	(void)state;
	assert_int_equal(tl_frame_set_init(&set), 0);
	for (int round = 0; round < 2; round++) {
		for (uint64_t pfn = 0; pfn < ENTRIES; pfn++)
			assert_int_equal(tl_frame_set_add(&set, pfn), 1);
		for (uint64_t pfn = 0; pfn < ENTRIES; pfn += 5)
			assert_int_equal(tl_frame_set_add(&set, pfn), 0);
		assert_int_equal(set.count, ENTRIES);
		tl_frame_set_clear(&set);
		assert_int_equal(set.count, 0);
	}
	tl_table_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mappings_survive_sweep),
		cmocka_unit_test(contents_survive_sweep),
		cmocka_unit_test(frame_set_counts_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
