// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hashbench.c - time page hashes and count their false positives
 *
 * Each algorithm hashes the whole buffer once to warm up (its digests are
 * kept for the false-positive count), then repeat more times, timed with
 * CLOCK_MONOTONIC; the fastest pass is reported, because on a shared
 * machine the other passes only add other work's noise.  False positives
 * are counted by sorting the pages by (digest, content id) and walking the
 * digest groups; the content ids come from byte comparison (contents.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hashbench/hashbench.h"

struct mp_hashbench {
	const uint8_t *pages;
	size_t count;
	struct mp_contents contents;
};

/* A page in the false-positive sort: its digest's first 8 bytes inline for speed. */
struct sort_entry {
	uint64_t prefix;
	uint32_t index;
	uint32_t content;
};

struct sort_order {
	const uint8_t *digests;
	size_t size;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int mp_hashbench_open(struct mp_hashbench **result, const void *pages, size_t count,
		      struct mp_error *error)
{
	struct mp_hashbench *bench;
	int rc;

	*result = NULL;
	if (count == 0)
		return mp_fail(error, -EINVAL, "cannot measure hashes: no pages to hash");
	bench = calloc(1, sizeof(*bench));
	if (!bench)
		return mp_fail(error, -ENOMEM, "cannot measure hashes: out of memory");
	bench->pages = pages;
	bench->count = count;

	rc = mp_contents_classify(&bench->contents, pages, count, MP_HASHBENCH_REFERENCE, error);
	if (rc < 0) {
		free(bench);
		return rc;
	}
	*result = bench;
	return 0;
}

void mp_hashbench_get_summary(const struct mp_hashbench *bench,
			      struct mp_hashbench_summary *summary)
{
	*summary = bench->contents.summary;
}

static void set_speed(struct mp_hashbench_result *result, const struct mp_hashbench *bench,
		      double best)
{
	result->best_seconds = best;
	/* A pass below the clock's resolution still gets a finite speed. */
	if (best < 1e-9)
		best = 1e-9;
	result->bytes_per_second = (double)bench->count * MP_PAGE_SIZE / best;
	result->pages_per_second = (double)bench->count / best;
}

/*
 * XOR every 64-bit word, in four independent chains so that loads overlap,
 * and prefetch 2 KiB ahead as the fastest hashes do: without the prefetch
 * one core read a 1 GiB buffer at 7.5 GB/s, with it at 10.4 GB/s (Xeon with
 * AVX-512, Linux 6.18), slower than the hashes it is the baseline of.
 */
#define READ_PREFETCH 2048

static uint64_t read_buffer(const uint8_t *bytes, size_t size)
{
	uint64_t a = 0, b = 0, c = 0, d = 0;

	for (size_t i = 0; i + 64 <= size; i += 64) {
		uint64_t w[8];

		__builtin_prefetch(bytes + i + READ_PREFETCH);
		memcpy(w, bytes + i, sizeof(w));
		a ^= w[0] ^ w[4];
		b ^= w[1] ^ w[5];
		c ^= w[2] ^ w[6];
		d ^= w[3] ^ w[7];
	}
	return a ^ b ^ c ^ d;
}

int mp_hashbench_read_baseline(struct mp_hashbench *bench, unsigned repeat,
			       struct mp_hashbench_result *result, struct mp_error *error)
{
	size_t size = bench->count * MP_PAGE_SIZE;
	volatile uint64_t sink;
	double best = 0;

	if (repeat == 0)
		return mp_fail(error, -EINVAL, "cannot measure hashes: repeat count 0");
	memset(result, 0, sizeof(*result));
	result->hash = MP_HASH_NONE;
	result->passes = repeat;

	sink = read_buffer(bench->pages, size);
	for (unsigned pass = 0; pass < repeat; pass++) {
		double start = now_seconds(), seconds;

		sink = read_buffer(bench->pages, size);
		seconds = now_seconds() - start;
		if (pass == 0 || seconds < best)
			best = seconds;
	}
	(void)sink;
	set_speed(result, bench, best);
	return 0;
}

/* Hash the buffer once to warm up and keep the digests, then repeat timed passes. */
static double time_hash(struct mp_hashbench *bench, struct mp_hash *hash, unsigned repeat,
			uint8_t *digests, size_t size)
{
	double best = 0;

	mp_hash_pages(hash, bench->pages, bench->count, digests, size, NULL);
	for (unsigned pass = 0; pass < repeat; pass++) {
		double start = now_seconds(), seconds;

		mp_hash_pages(hash, bench->pages, bench->count, digests, size, NULL);
		seconds = now_seconds() - start;
		if (pass == 0 || seconds < best)
			best = seconds;
	}
	return best;
}

static int compare_entries(const void *a, const void *b, void *arg)
{
	const struct sort_entry *x = a, *y = b;
	const struct sort_order *order = arg;
	int rc;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	if (order->size > 8) {
		rc = memcmp(order->digests + (size_t)x->index * order->size + 8,
			    order->digests + (size_t)y->index * order->size + 8, order->size - 8);
		if (rc)
			return rc;
	}
	if (x->content != y->content)
		return x->content < y->content ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static bool same_digest(const struct sort_entry *x, const struct sort_entry *y,
			const struct sort_order *order)
{
	if (x->prefix != y->prefix)
		return false;
	return order->size <= 8 ||
	       !memcmp(order->digests + (size_t)x->index * order->size + 8,
		       order->digests + (size_t)y->index * order->size + 8, order->size - 8);
}

/* The number of runs of equal ids in a sorted group, and the longest run. */
static void count_runs(const struct sort_entry *group, size_t n, const uint32_t *ids,
		       uint64_t *runs, uint64_t *longest)
{
	uint64_t length = 1;

	*runs = 1;
	*longest = 1;
	for (size_t i = 1; i < n; i++) {
		uint32_t prev = ids ? ids[group[i - 1].index] : group[i - 1].content;
		uint32_t cur = ids ? ids[group[i].index] : group[i].content;

		if (cur == prev) {
			length++;
		} else {
			(*runs)++;
			length = 1;
		}
		if (length > *longest)
			*longest = length;
	}
}

/* Add one digest group's false positives to result (definitions in docs/hashbench.md). */
static void count_group(const struct mp_hashbench *bench, const struct sort_entry *group,
			size_t n, struct mp_hashbench_result *result)
{
	uint64_t runs, longest;

	result->digests++;

	count_runs(group, n, NULL, &runs, &longest);
	result->duplicate_overcount += runs - 1;
	if (runs > 1) {
		result->false_positive_groups++;
		result->false_positive_pages += n - longest;
		for (size_t i = 0; i < n; i++) {
			if (group[i].content == bench->contents.zero_content) {
				result->false_positive_zero += n - longest;
				break;
			}
		}
	}

	count_runs(group, n, bench->contents.reference, &runs, &longest);
	if (runs > 1) {
		result->sha256_groups++;
		result->sha256_pages += n - longest;
	}
}

static int count_false_positives(const struct mp_hashbench *bench, const uint8_t *digests,
				 size_t size, struct mp_hashbench_result *result,
				 struct mp_error *error)
{
	struct sort_order order = { digests, size };
	struct sort_entry *entries;
	size_t start = 0;

	entries = malloc(bench->count * sizeof(*entries));
	if (!entries)
		return mp_fail(error, -ENOMEM, "cannot count false positives: %zu pages: "
			       "out of memory", bench->count);
	for (size_t i = 0; i < bench->count; i++) {
		uint64_t prefix = 0;

		memcpy(&prefix, digests + i * size, size < 8 ? size : 8);
		entries[i] = (struct sort_entry){ prefix, (uint32_t)i,
						  bench->contents.content[i] };
	}
	qsort_r(entries, bench->count, sizeof(*entries), compare_entries, &order);

	while (start < bench->count) {
		size_t end = start + 1;

		while (end < bench->count && same_digest(&entries[start], &entries[end], &order))
			end++;
		count_group(bench, entries + start, end - start, result);
		start = end;
	}
	free(entries);
	return 0;
}

int mp_hashbench_measure(struct mp_hashbench *bench, enum mp_hash_id id, unsigned repeat,
			 struct mp_hashbench_result *result, struct mp_error *error)
{
	size_t size = mp_hash_digest_size(id);
	struct mp_hash *hash;
	uint8_t *digests;
	int rc;

	if (repeat == 0)
		return mp_fail(error, -EINVAL, "cannot measure hashes: repeat count 0");
	rc = mp_hash_open(&hash, id, NULL, 0, error);
	if (rc < 0)
		return rc;
	digests = malloc(bench->count * size);
	if (!digests) {
		mp_hash_close(hash);
		return mp_fail(error, -ENOMEM, "cannot measure %s: %zu pages: out of memory",
			       mp_hash_name(id), bench->count);
	}

	memset(result, 0, sizeof(*result));
	result->hash = id;
	result->passes = repeat;
	set_speed(result, bench, time_hash(bench, hash, repeat, digests, size));
	mp_hash_close(hash);

	rc = count_false_positives(bench, digests, size, result, error);
	free(digests);
	return rc;
}

void mp_hashbench_close(struct mp_hashbench *bench)
{
	if (!bench)
		return;
	mp_contents_free(&bench->contents);
	free(bench);
}
