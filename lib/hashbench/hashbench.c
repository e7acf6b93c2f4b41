// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hashbench.c - count the false positives of page hashes
 *
 * False positives are counted by sorting the pages by (digest, content id)
 * and walking the digest groups; the content ids come from byte comparison
 * (contents.c).  The timing is in timing.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashbench/hashbench.h"

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

int mp_hashbench_count(struct mp_hashbench *bench, enum mp_hash_id id,
		       struct mp_hashbench_result *result, struct mp_error *error)
{
	size_t size = mp_hash_digest_size(id);
	struct mp_hash *hash;
	uint8_t *digests;
	int rc;

	rc = mp_hash_open(&hash, id, NULL, 0, error);
	if (rc < 0)
		return rc;
	digests = malloc(bench->count * size);
	if (!digests) {
		mp_hash_close(hash);
		return mp_fail(error, -ENOMEM, "cannot count false positives of %s: %zu pages: "
			       "out of memory", mp_hash_name(id), bench->count);
	}
	mp_hash_pages(hash, bench->pages, bench->count, digests, size, NULL);
	mp_hash_close(hash);

	result->hash = id;
	result->digests = 0;
	result->false_positive_groups = 0;
	result->false_positive_pages = 0;
	result->false_positive_zero = 0;
	result->duplicate_overcount = 0;
	result->sha256_groups = 0;
	result->sha256_pages = 0;
	rc = count_false_positives(bench, digests, size, result, error);
	free(digests);
	return rc;
}

int mp_hashbench_measure(struct mp_hashbench *bench, enum mp_hash_id id, unsigned repeat,
			 struct mp_hashbench_result *result, struct mp_error *error)
{
	struct mp_hashbench_result read;
	int rc;

	rc = mp_hashbench_time(bench, &id, 1, repeat, &read, result, error);
	if (rc < 0)
		return rc;
	return mp_hashbench_count(bench, id, result, error);
}

void mp_hashbench_close(struct mp_hashbench *bench)
{
	if (!bench)
		return;
	mp_contents_free(&bench->contents);
	free(bench);
}
