// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_timeline_sort.c - the radix sorts of the timeline engine against
 * qsort(), on keys that exercise their shortcuts
 *
 * The frame sort must keep records of one PFN in arrival order, because
 * the first record of a frame is the one that counts.  The record sort
 * must group equal digests whatever their spread: uniform 64-bit keys,
 * small keys (the tests' digests), one digest in most records, and keys
 * that differ only in their lowest byte.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "timeline/timeline.h"

#define COUNT 200003

/* xorshift64: a fixed sequence of test keys. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static int compare_frames(const void *x, const void *y)
{
	const struct tl_frame *a = x, *b = y;

	if (a->pfn != b->pfn)
		return a->pfn < b->pfn ? -1 : 1;
	return (a->record > b->record) - (a->record < b->record);
}

static int compare_records(const void *x, const void *y)
{
	const struct tl_record *a = x, *b = y;

	if (a->digest != b->digest)
		return a->digest < b->digest ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

/* Frames of PFNs below limit, most of them repeated, in arrival order. */
static void check_frames(uint64_t limit)
{
	struct tl_frame *frames = calloc(COUNT, sizeof(*frames));
	struct tl_frame *expected = calloc(COUNT, sizeof(*expected));
	struct tl_frame *scratch = calloc(COUNT, sizeof(*scratch));
	uint64_t state = 0x9e3779b97f4a7c15ull;

	assert_non_null(frames);
	assert_non_null(expected);
	assert_non_null(scratch);
	for (uint32_t i = 0; i < COUNT; i++) {
		frames[i].pfn = next_random(&state) % limit;
		frames[i].record = i;
	}
	memcpy(expected, frames, COUNT * sizeof(*frames));
	qsort(expected, COUNT, sizeof(*expected), compare_frames);

	tl_sort_frames(frames, scratch, COUNT);
	assert_memory_equal(frames, expected, COUNT * sizeof(*frames));
	free(frames);
	free(expected);
	free(scratch);
}

static void frames_sorted_stable(void **state)
{
	(void)state;
	check_frames(1000);		/* one digit */
	check_frames(6u << 20);		/* three digits: 24 GiB of RAM */
	check_frames(UINT64_MAX);	/* every digit */
}

/*
 * Sort records made by key(i) and compare the digests with qsort's.  With
 * with_top_counts, give the sort the count of each top byte, as the
 * engine does.
 */
static void check_records(uint64_t (*key)(uint64_t *state, uint32_t i), bool with_top_counts)
{
	size_t top_counts[TL_TOP_BUCKETS] = { 0 };
	struct tl_record *records = calloc(COUNT, sizeof(*records));
	struct tl_record *expected = calloc(COUNT, sizeof(*expected));
	struct tl_record *scratch = calloc(COUNT, sizeof(*scratch));
	uint64_t state = 0x2545f4914f6cdd1dull;

	assert_non_null(records);
	assert_non_null(expected);
	assert_non_null(scratch);
	for (uint32_t i = 0; i < COUNT; i++) {
		records[i].digest = key(&state, i);
		records[i].index = i;
		top_counts[records[i].digest >> 56]++;
	}
	memcpy(expected, records, COUNT * sizeof(*records));
	qsort(expected, COUNT, sizeof(*expected), compare_records);

	tl_sort_records(records, scratch, COUNT, with_top_counts ? top_counts : NULL);
	/* Equal digests may come in any order: compare digests, then the set of indices. */
	for (uint32_t i = 0; i < COUNT; i++)
		assert_int_equal(records[i].digest, expected[i].digest);
	qsort(records, COUNT, sizeof(*records), compare_records);
	assert_memory_equal(records, expected, COUNT * sizeof(*records));
	free(records);
	free(expected);
	free(scratch);
}

static uint64_t uniform_key(uint64_t *state, uint32_t i)
{
	(void)i;
	return next_random(state);
}

static uint64_t small_key(uint64_t *state, uint32_t i)
{
	(void)i;
	return next_random(state) % 5000;
}

/* Nine records in ten hold one digest, as zero-filled pages can. */
static uint64_t mostly_one_key(uint64_t *state, uint32_t i)
{
	uint64_t r = next_random(state);

	return i % 10 ? 0x5a5a5a5a5a5a5a5aull : r;
}

static uint64_t low_byte_key(uint64_t *state, uint32_t i)
{
	(void)i;
	return 0xabcdef0123456700ull | (next_random(state) & 0xff);
}

static void records_grouped_by_digest(void **state)
{
	(void)state;
	for (int with_top_counts = 0; with_top_counts < 2; with_top_counts++) {
		check_records(uniform_key, with_top_counts);
		check_records(small_key, with_top_counts);
		check_records(mostly_one_key, with_top_counts);
		check_records(low_byte_key, with_top_counts);
	}
}

static void mappings_by_address_then_arrival(void **state)
{
	struct tl_mapping mappings[] = {
		{ .vpn = 7, .order = 0 }, { .vpn = 3, .order = 1 }, { .vpn = 7, .order = 2 },
		{ .vpn = 1, .order = 3 }, { .vpn = 3, .order = 4 },
	};
	static const uint32_t expected[] = { 3, 1, 4, 0, 2 };

	(void)state;
	tl_sort_mappings(mappings, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(mappings[i].order, expected[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_sorted_stable),
		cmocka_unit_test(records_grouped_by_digest),
		cmocka_unit_test(mappings_by_address_then_arrival),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
