// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sort.c - the radix sorts of the timeline engine
 *
 * PFNs are small numbers (a PFN is at most physical memory / 4 KiB, about
 * 2^23 for 32 GiB), so an LSD radix sort of 11-bit digits needs two or
 * three passes.  Digests are uniform 64-bit keys: an MSD radix sort splits
 * them by their top byte into buckets that fit the caches, and sorts each
 * bucket by its next byte, so only the first level walks all the memory.
 */
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define FRAME_DIGIT_BITS 11
#define FRAME_BUCKETS (1u << FRAME_DIGIT_BITS)
#define RECORD_DIGIT_BITS 8
#define RECORD_BUCKETS (1u << RECORD_DIGIT_BITS)
#define INSERTION_SORT_MAX 24	/* below this, buckets are sorted by insertion */

/* ---------------------------------------------------------------- frames */

/* One stable counting pass on the digit of frames at shift; false if all share it. */
static bool frame_pass(const struct tl_frame *from, struct tl_frame *to, size_t count,
		       unsigned shift)
{
	size_t starts[FRAME_BUCKETS];
	size_t position = 0;

	memset(starts, 0, sizeof(starts));
	for (size_t i = 0; i < count; i++)
		starts[(from[i].pfn >> shift) & (FRAME_BUCKETS - 1)]++;
	for (unsigned b = 0; b < FRAME_BUCKETS; b++) {
		size_t n = starts[b];

		if (n == count)
			return false;	/* one bucket: the order stays as it is */
		starts[b] = position;
		position += n;
	}
	for (size_t i = 0; i < count; i++)
		to[starts[(from[i].pfn >> shift) & (FRAME_BUCKETS - 1)]++] = from[i];
	return true;
}

void tl_sort_frames(struct tl_frame *frames, struct tl_frame *scratch, size_t count)
{
	struct tl_frame *from = frames, *to = scratch;
	uint64_t highest = 0;

	for (size_t i = 0; i < count; i++)
		highest |= frames[i].pfn;

	for (unsigned shift = 0; shift < 64 && (highest >> shift); shift += FRAME_DIGIT_BITS) {
		if (frame_pass(from, to, count, shift)) {
			struct tl_frame *sorted = to;

			to = from;
			from = sorted;
		}
	}
	if (from != frames)
		memcpy(frames, from, count * sizeof(*frames));
}

/* --------------------------------------------------------------- records */

static void insertion_sort_records(struct tl_record *records, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		struct tl_record r = records[i];
		size_t j = i;

		while (j > 0 && records[j - 1].digest > r.digest) {
			records[j] = records[j - 1];
			j--;
		}
		records[j] = r;
	}
}

static void sort_records_from(struct tl_record *records, struct tl_record *scratch,
			      size_t count, int shift);

/*
 * Scatter records by their digit at shift, counted in counts, into scratch,
 * sort each bucket by the lower digits, and bring the buckets back.
 */
static void scatter_records(struct tl_record *records, struct tl_record *scratch, size_t count,
			    int shift, const size_t *counts)
{
	size_t starts[RECORD_BUCKETS], position = 0;
	unsigned b;

	for (b = 0; b < RECORD_BUCKETS; b++) {
		starts[b] = position;
		position += counts[b];
	}
	for (size_t i = 0; i < count; i++)
		scratch[starts[(records[i].digest >> shift) & (RECORD_BUCKETS - 1)]++] = records[i];

	/* Sort each bucket where it landed, then copy it back while it is in the cache. */
	position = 0;
	for (b = 0; b < RECORD_BUCKETS; b++) {
		size_t n = counts[b];

		if (n > 1 && shift > 0)
			sort_records_from(scratch + position, records + position, n,
					  shift - RECORD_DIGIT_BITS);
		memcpy(records + position, scratch + position, n * sizeof(*records));
		position += n;
	}
}

/*
 * Sort records by the bits of their digest from shift + 7 down.  Digits
 * that every record shares are skipped, so a large group of one digest
 * (the zero-filled page) costs one counting pass per byte, not a scatter.
 */
static void sort_records_from(struct tl_record *records, struct tl_record *scratch,
			      size_t count, int shift)
{
	size_t counts[RECORD_BUCKETS];

	for (; shift >= 0; shift -= RECORD_DIGIT_BITS) {
		if (count <= INSERTION_SORT_MAX) {
			insertion_sort_records(records, count);
			return;
		}
		memset(counts, 0, sizeof(counts));
		for (size_t i = 0; i < count; i++)
			counts[(records[i].digest >> shift) & (RECORD_BUCKETS - 1)]++;
		if (counts[(records[0].digest >> shift) & (RECORD_BUCKETS - 1)] != count) {
			scatter_records(records, scratch, count, shift, counts);
			return;
		}
	}
	/* Every digest is equal. */
}

void tl_sort_records(struct tl_record *records, struct tl_record *scratch, size_t count,
		     const size_t *top_counts)
{
	uint64_t differ = 0;
	int shift = 64 - RECORD_DIGIT_BITS;

	if (count < 2)
		return;
	if (top_counts && top_counts[records[0].digest >> shift] != count) {
		scatter_records(records, scratch, count, shift, top_counts);
		return;
	}

	/* Start at the highest bit in which two digests differ. */
	for (size_t i = 1; i < count; i++)
		differ |= records[i].digest ^ records[0].digest;
	if (!differ)
		return;
	while (shift > 0 && !(differ >> shift))
		shift -= RECORD_DIGIT_BITS;
	sort_records_from(records, scratch, count, shift);
}

/* -------------------------------------------------------------- mappings */

static int compare_mappings(const void *x, const void *y)
{
	const struct tl_mapping *a = x, *b = y;

	if (a->vpn != b->vpn)
		return a->vpn < b->vpn ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

void tl_sort_mappings(struct tl_mapping *mappings, size_t count)
{
	qsort(mappings, count, sizeof(*mappings), compare_mappings);
}
