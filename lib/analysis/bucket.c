// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bucket.c - slot arrays in chunks of one arena, and the radix sort of the
 * analysis
 *
 * Buckets grow by one chunk (a page, 168 slots) at a time.  Chunks come from
 * blocks of 64 MiB that ask for transparent huge pages.
 * A sorted bucket's chunks go to a free list, and the buckets of the next
 * stage grow from it, so the records of the second stage reuse the pages
 * of the first.  Blocks are unmapped only when the analysis is reset.
 * Pages not yet handed out are not resident, so a bucket costs at most one
 * partial chunk beyond its slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "analysis/analysis.h"

_Static_assert(CHUNK_SLOTS * sizeof(struct slot) <= CHUNK_BYTES, "a chunk must hold its slots");
_Static_assert(CHUNK_SLOTS % BUCKET_STAGE_SLOTS == 0, "a stage must not straddle chunks");

static int arena_add_block(struct arena *arena)
{
	void *p;

	if (arena->block_count == arena->block_capacity) {
		size_t n = arena->block_capacity ? 2 * arena->block_capacity : 16;
		char **blocks = realloc(arena->blocks, n * sizeof(*blocks));

		if (!blocks)
			return -ENOMEM;
		arena->blocks = blocks;
		arena->block_capacity = n;
	}
	p = mmap(NULL, ARENA_BLOCK_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	/* Chunks are handed out in order, so huge pages cost at most one partial 2 MiB. */
	madvise(p, ARENA_BLOCK_BYTES, MADV_HUGEPAGE);
	arena->blocks[arena->block_count++] = p;
	return 0;
}

static struct slot *arena_chunk(struct arena *arena)
{
	void *chunk = arena->free;

	if (chunk) {
		memcpy(&arena->free, chunk, sizeof(void *));
		return chunk;
	}
	if (!arena->block_count || arena->block_used + CHUNK_BYTES > ARENA_BLOCK_BYTES) {
		/* The next block: one that a rewind left mapped, or a new one. */
		if (arena->block_count && arena->block_current + 1 < arena->block_count) {
			arena->block_current++;
		} else {
			if (arena_add_block(arena) < 0)
				return NULL;
			arena->block_current = arena->block_count - 1;
		}
		arena->block_used = 0;
	}
	chunk = arena->blocks[arena->block_current] + arena->block_used;
	arena->block_used += CHUNK_BYTES;
	return chunk;
}

static void arena_put_chunk(struct arena *arena, struct slot *chunk)
{
	memcpy(chunk, &arena->free, sizeof(void *));
	arena->free = chunk;
}

/*
 * Zeroing fresh huge pages for every set cost a tenth of the time of
 * memprint analyze on a series, so a report keeps the blocks for the next
 * set.  Chunks that a sort gathered elsewhere were dropped with
 * MADV_DONTNEED and fault in again when used.
 */
void arena_rewind(struct arena *arena)
{
	arena->free = NULL;
	arena->block_current = 0;
	arena->block_used = 0;
}

void arena_release(struct arena *arena)
{
	for (size_t i = 0; i < arena->block_count; i++)
		munmap(arena->blocks[i], ARENA_BLOCK_BYTES);
	free(arena->blocks);
	memset(arena, 0, sizeof(*arena));
}

/* Add a chunk when the last one is full. */
static int bucket_reserve(struct bucket *bucket)
{
	struct slot *chunk;

	if (bucket->count < bucket->chunk_count * CHUNK_SLOTS)
		return 0;
	if (bucket->chunk_count == bucket->chunk_capacity) {
		size_t n = bucket->chunk_capacity ? 2 * bucket->chunk_capacity : 8;
		struct slot **chunks = realloc(bucket->chunks, n * sizeof(*chunks));

		if (!chunks)
			return -ENOMEM;
		bucket->chunks = chunks;
		bucket->chunk_capacity = n;
	}
	chunk = arena_chunk(bucket->arena);
	if (!chunk)
		return -ENOMEM;
	bucket->chunks[bucket->chunk_count++] = chunk;
	return 0;
}

static struct slot *bucket_tail(const struct bucket *bucket)
{
	return bucket->chunks[bucket->count / CHUNK_SLOTS] + bucket->count % CHUNK_SLOTS;
}

static size_t chunk_slots(const struct bucket *bucket, size_t i)
{
	size_t n = bucket->count - i * CHUNK_SLOTS;

	return n < CHUNK_SLOTS ? n : CHUNK_SLOTS;
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
	int rc = bucket_reserve(bucket);

	if (rc < 0) {
		bucket->staged--;
		return rc;
	}
	stream_stage(bucket_tail(bucket), bucket->stage);
	bucket->count += BUCKET_STAGE_SLOTS;
	bucket->staged = 0;
	return 0;
}

int bucket_flush(struct bucket *bucket)
{
	if (!bucket->staged)
		goto fence;
	/* The count is a multiple of the stage, so the staged slots fit in one chunk. */
	if (bucket_reserve(bucket) < 0)
		return -ENOMEM;
	memcpy(bucket_tail(bucket), bucket->stage, bucket->staged * sizeof(struct slot));
	bucket->count += bucket->staged;
	bucket->staged = 0;
fence:
#if defined(__SSE2__)
	/* Order the non-temporal stores before the chunks are read. */
	_mm_sfence();
#endif
	return 0;
}

void bucket_free(struct bucket *bucket)
{
	for (size_t i = 0; i < bucket->chunk_count; i++)
		arena_put_chunk(bucket->arena, bucket->chunks[i]);
	free(bucket->chunks);
	bucket->chunks = NULL;
	bucket->chunk_count = bucket->chunk_capacity = 0;
	bucket->count = 0;
	bucket->staged = 0;
}

int bucket_gather(struct bucket *bucket, struct slot **slots, size_t *bytes)
{
	size_t size = (bucket->count * sizeof(struct slot) + 4095) & ~(size_t)4095;
	struct slot *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	for (size_t i = 0; i < bucket->chunk_count; i++) {
		memcpy(p + i * CHUNK_SLOTS, bucket->chunks[i],
		       chunk_slots(bucket, i) * sizeof(struct slot));
		madvise(bucket->chunks[i], CHUNK_BYTES, MADV_DONTNEED);
	}
	bucket_free(bucket);
	*slots = p;
	*bytes = size;
	return 0;
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

static void sort_two(struct slot *s)
{
	if (s[0].sort > s[1].sort) {
		struct slot t = s[0];

		s[0] = s[1];
		s[1] = t;
	}
}

static unsigned floor_log2(size_t n)
{
	return 63 - __builtin_clzll(n);
}

/* Choose a digit of about log2(count) bits that ends at bit high; return its shift. */
static unsigned choose_digit(size_t count, unsigned high, uint32_t *mask)
{
	unsigned bits = floor_log2(count);

	if (bits < 2)
		bits = 2;
	if (bits > RADIX_MAX_BITS)
		bits = RADIX_MAX_BITS;
	if (bits > high + 1)
		bits = high + 1;
	*mask = (1u << bits) - 1;
	return high + 1 - bits;
}

/*
 * Sort most significant digit first, on the bits below high only.  The
 * digit has about log2(count) bits, so random keys end in sub-buckets of
 * one or two slots after one pass over the chunks.  The rare larger
 * sub-buckets (a frame of many mappings, a common content) are sorted in
 * place.
 */
void radix_sort_bucket(struct bucket *bucket, struct slot *dst, unsigned high,
		       uint32_t *counts)
{
	size_t count = bucket->count, start;
	uint32_t mask, sum = 0;
	unsigned shift;

	if (count <= INSERTION_MAX) {
		if (count)
			memcpy(dst, bucket->chunks[0], count * sizeof(*dst));
		bucket_free(bucket);
		insertion_sort(dst, count);
		return;
	}
	shift = choose_digit(count, high, &mask);

	memset(counts, 0, ((size_t)mask + 1) * sizeof(*counts));
	for (size_t c = 0; c < bucket->chunk_count; c++) {
		const struct slot *s = bucket->chunks[c];
		size_t n = chunk_slots(bucket, c);

		for (size_t i = 0; i < n; i++)
			counts[(s[i].sort >> shift) & mask]++;
	}
	for (size_t i = 0; i <= mask; i++) {
		uint32_t c = counts[i];

		counts[i] = sum;
		sum += c;
	}
	for (size_t c = 0; c < bucket->chunk_count; c++) {
		const struct slot *s = bucket->chunks[c];
		size_t n = chunk_slots(bucket, c);

		for (size_t i = 0; i < n; i++)
			dst[counts[(s[i].sort >> shift) & mask]++] = s[i];
	}
	bucket_free(bucket);

	/* counts[d] is now the end of sub-bucket d: most hold one slot or two. */
	start = 0;
	for (size_t d = 0; d <= mask; d++) {
		size_t end = counts[d];

		if (end - start == 2)
			sort_two(dst + start);
		else if (end - start > 2 && end - start <= INSERTION_MAX)
			insertion_sort(dst + start, end - start);
		else if (end - start > INSERTION_MAX && shift > 0)
			radix_sort_in_place(dst + start, end - start, counts + RADIX_COUNTS);
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
	unsigned high, shift;
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
	shift = choose_digit(count, high, &mask);

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
