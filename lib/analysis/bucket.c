// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bucket.c - growable slot arrays and the radix sort of the analysis
 *
 * Each bucket lives in an anonymous mapping of its own and grows with
 * mremap(), which moves page-table entries instead of copying, so growing
 * never keeps two copies of a bucket.  Pages reserved but not yet written
 * are not resident, so a bucket costs at most one partial page beyond its
 * slots.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "analysis/analysis.h"

/* The least size that is a whole number of slots (24 bytes) and of pages. */
#define BUCKET_GRAIN (3u * 4096)
#define BUCKET_STEP_MAX_BYTES (BUCKET_GRAIN * 8192u)

int bucket_grow(struct bucket *bucket)
{
	size_t old_bytes = bucket->capacity * sizeof(struct slot);
	size_t step = old_bytes < BUCKET_STEP_MAX_BYTES ? old_bytes : BUCKET_STEP_MAX_BYTES;
	size_t new_bytes = old_bytes ? old_bytes + step : BUCKET_GRAIN * 2;
	void *p;

	if (bucket->slots)
		p = mremap(bucket->slots, old_bytes, new_bytes, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	bucket->slots = p;
	bucket->capacity = new_bytes / sizeof(struct slot);
	return 0;
}

/* Copy the stage with non-temporal stores, which skip reading the lines first. */
static void stream_stage(struct slot *dst, const struct slot *stage)
{
#if defined(__SSE2__)
	__m128i *d = (__m128i *)dst;
	const __m128i *s = (const __m128i *)stage;

	for (size_t i = 0; i < sizeof(struct slot) * BUCKET_STAGE_SLOTS / 16; i++)
		_mm_stream_si128(d + i, _mm_loadu_si128(s + i));
#else
	memcpy(dst, stage, sizeof(struct slot) * BUCKET_STAGE_SLOTS);
#endif
}

int bucket_write_stage(struct bucket *bucket)
{
	/* The capacity is a multiple of 512 slots, so a stage never straddles its end. */
	if (bucket->count == bucket->capacity) {
		int rc = bucket_grow(bucket);

		if (rc < 0) {
			bucket->staged--;
			return rc;
		}
	}
	stream_stage(bucket->slots + bucket->count, bucket->stage);
	bucket->count += BUCKET_STAGE_SLOTS;
	bucket->staged = 0;
	return 0;
}

int bucket_flush(struct bucket *bucket)
{
	if (!bucket->staged)
		goto fence;
	if (bucket->count + bucket->staged > bucket->capacity) {
		int rc = bucket_grow(bucket);

		if (rc < 0)
			return rc;
	}
	memcpy(bucket->slots + bucket->count, bucket->stage, bucket->staged * sizeof(struct slot));
	bucket->count += bucket->staged;
	bucket->staged = 0;
fence:
#if defined(__SSE2__)
	/* Order the non-temporal stores before the array is read. */
	_mm_sfence();
#endif
	return 0;
}

void bucket_free(struct bucket *bucket)
{
	if (bucket->slots)
		munmap(bucket->slots, bucket->capacity * sizeof(struct slot));
	bucket->slots = NULL;
	bucket->count = bucket->capacity = 0;
	bucket->staged = 0;
}

static void insertion_sort(struct slot *s, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		struct slot t = s[i];
		size_t j = i;

		while (j > 0 && s[j - 1].sort > t.sort) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = t;
	}
}

#define INSERTION_MAX 16

static unsigned floor_log2(size_t n)
{
	return 63 - __builtin_clzll(n);
}

/*
 * Most significant digit first: only the bits in which the keys differ are
 * looked at, with a digit of about log2(count) bits, so random keys end in
 * sub-buckets of one or two slots after one pass and equal keys (a large
 * zero-filled group) stop the recursion at once.
 */
void radix_sort_to(struct slot *src, struct slot *dst, size_t count, uint32_t *counts)
{
	uint64_t diff = 0, first;
	unsigned bits, high, shift;
	uint32_t mask, sum = 0;
	size_t i, start;

	if (count <= INSERTION_MAX) {
		memcpy(dst, src, count * sizeof(*src));
		insertion_sort(dst, count);
		return;
	}
	first = src[0].sort;
	for (i = 1; i < count; i++)
		diff |= src[i].sort ^ first;
	if (!diff) {
		memcpy(dst, src, count * sizeof(*src));
		return;
	}

	high = 63 - __builtin_clzll(diff);
	bits = floor_log2(count);
	if (bits < 2)
		bits = 2;
	if (bits > RADIX_MAX_BITS)
		bits = RADIX_MAX_BITS;
	if (bits > high + 1)
		bits = high + 1;
	shift = high + 1 - bits;
	mask = (1u << bits) - 1;

	memset(counts, 0, ((size_t)mask + 1) * sizeof(*counts));
	for (i = 0; i < count; i++)
		counts[(src[i].sort >> shift) & mask]++;
	for (i = 0; i <= mask; i++) {
		uint32_t c = counts[i];

		counts[i] = sum;
		sum += c;
	}
	for (i = 0; i < count; i++)
		dst[counts[(src[i].sort >> shift) & mask]++] = src[i];

	/* Sort each sub-bucket, found again by its digit, with src as scratch. */
	for (start = 0; start < count; ) {
		uint64_t digit = (dst[start].sort >> shift) & mask;
		size_t end = start + 1;

		while (end < count && ((dst[end].sort >> shift) & mask) == digit)
			end++;
		if (end - start <= INSERTION_MAX) {
			insertion_sort(dst + start, end - start);
		} else if (shift > 0) {
			radix_sort_to(dst + start, src + start, end - start, counts);
			memcpy(dst + start, src + start, (end - start) * sizeof(*src));
		}
		start = end;
	}
}

/*
 * The same sort in place (American flag sort): each slot moves along a
 * cycle into its digit's sub-bucket.  counts needs 2 * RADIX_COUNTS
 * entries: the next free place and the end of each sub-bucket.
 */
void radix_sort_in_place(struct slot *s, size_t count, uint32_t *counts)
{
	uint32_t *next = counts, *end = counts + RADIX_COUNTS;
	uint64_t diff = 0, first;
	unsigned bits, high, shift;
	uint32_t mask, sum = 0;
	size_t i, start;

	if (count <= INSERTION_MAX) {
		insertion_sort(s, count);
		return;
	}
	first = s[0].sort;
	for (i = 1; i < count; i++)
		diff |= s[i].sort ^ first;
	if (!diff)
		return;

	high = 63 - __builtin_clzll(diff);
	bits = floor_log2(count);
	if (bits < 2)
		bits = 2;
	if (bits > RADIX_MAX_BITS)
		bits = RADIX_MAX_BITS;
	if (bits > high + 1)
		bits = high + 1;
	shift = high + 1 - bits;
	mask = (1u << bits) - 1;

	memset(next, 0, ((size_t)mask + 1) * sizeof(*next));
	for (i = 0; i < count; i++)
		next[(s[i].sort >> shift) & mask]++;
	for (i = 0; i <= mask; i++) {
		uint32_t c = next[i];

		next[i] = sum;
		sum += c;
		end[i] = sum;
	}
	for (uint32_t d = 0; d <= mask; d++) {
		while (next[d] < end[d]) {
			struct slot x = s[next[d]];
			uint32_t k = (x.sort >> shift) & mask;

			while (k != d) {
				struct slot t = s[next[k]];

				s[next[k]++] = x;
				x = t;
				k = (x.sort >> shift) & mask;
			}
			s[next[d]++] = x;
		}
	}

	for (start = 0; start < count; ) {
		uint64_t digit = (s[start].sort >> shift) & mask;
		size_t stop = start + 1;

		while (stop < count && ((s[stop].sort >> shift) & mask) == digit)
			stop++;
		if (stop - start <= INSERTION_MAX)
			insertion_sort(s + start, stop - start);
		else if (shift > 0)
			radix_sort_in_place(s + start, stop - start, counts);
		start = stop;
	}
}

uint64_t key_unmix(uint64_t mixed)
{
	uint64_t inverse = KEY_MIX;

	/* Newton's iteration doubles the correct low bits of the inverse each step. */
	for (int i = 0; i < 6; i++)
		inverse *= 2 - KEY_MIX * inverse;
	return mixed * inverse;
}
