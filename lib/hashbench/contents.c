// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * contents.c - partition pages into distinct contents by byte comparison
 *
 * Sorting the pages by a strong digest first puts equal pages next to each
 * other, so each page is compared with memcmp only against the first page
 * of its digest run: O(n) comparisons of 4 KiB.  Only a run whose pages
 * differ (a collision of the key hash, which for sha256 nobody has found)
 * is sorted by content.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashbench/hashbench.h"

struct digest_order {
	const uint8_t *digests;
	size_t size;
};

static int compare_digests(const void *a, const void *b, void *arg)
{
	const struct digest_order *order = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int rc = memcmp(order->digests + (size_t)i * order->size,
			order->digests + (size_t)j * order->size, order->size);

	if (rc)
		return rc;
	return (i > j) - (i < j);
}

static int compare_pages(const void *a, const void *b, void *arg)
{
	const uint8_t *pages = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int rc = memcmp(pages + (size_t)i * MP_PAGE_SIZE, pages + (size_t)j * MP_PAGE_SIZE,
			MP_PAGE_SIZE);

	if (rc)
		return rc;
	return (i > j) - (i < j);
}

static bool same_page(const uint8_t *pages, uint32_t i, uint32_t j)
{
	return !memcmp(pages + (size_t)i * MP_PAGE_SIZE, pages + (size_t)j * MP_PAGE_SIZE,
		       MP_PAGE_SIZE);
}

/*
 * Give the pages order[0..n) of one key-digest run their content ids,
 * starting at *next_id.  Returns the number of distinct contents.
 */
static uint32_t number_run(struct mp_contents *contents, const uint8_t *pages,
			   uint32_t *order, size_t n, uint32_t *next_id)
{
	uint32_t distinct = 1;
	size_t i;

	for (i = 1; i < n && same_page(pages, order[0], order[i]); i++)
		;
	if (i < n)
		qsort_r(order, n, sizeof(*order), compare_pages, (void *)pages);

	contents->content[order[0]] = (*next_id)++;
	for (i = 1; i < n; i++) {
		if (!same_page(pages, order[i - 1], order[i])) {
			(*next_id)++;
			distinct++;
		}
		contents->content[order[i]] = *next_id - 1;
	}
	return distinct;
}

/* Number the runs of equal key digests in order, and the contents within each. */
static void number_pages(struct mp_contents *contents, const uint8_t *pages,
			 const struct digest_order *order_arg, uint32_t *order, size_t count)
{
	uint32_t next_content = 0, next_reference = 0;
	size_t start = 0;

	while (start < count) {
		const uint8_t *first = order_arg->digests + (size_t)order[start] * order_arg->size;
		size_t end = start + 1;
		uint32_t distinct;

		while (end < count &&
		       !memcmp(first, order_arg->digests + (size_t)order[end] * order_arg->size,
			       order_arg->size))
			end++;

		for (size_t i = start; i < end; i++)
			contents->reference[order[i]] = next_reference;
		next_reference++;

		distinct = number_run(contents, pages, order + start, end - start, &next_content);
		if (distinct > 1)
			contents->summary.reference_collisions++;
		start = end;
	}
	contents->summary.contents = next_content;
}

/* Hash every page with key into *digests; *zero gets the exact zero-filled flags. */
static int hash_all(const uint8_t *pages, size_t count, enum mp_hash_id key, uint8_t **digests,
		    bool **zero, struct mp_error *error)
{
	size_t size = mp_hash_digest_size(key);
	struct mp_hash *hash;
	int rc;

	rc = mp_hash_open(&hash, key, NULL, 0, error);
	if (rc < 0)
		return rc;
	*digests = malloc(count * size);
	*zero = malloc(count * sizeof(**zero));
	if (!*digests || !*zero) {
		mp_hash_close(hash);
		return mp_fail(error, -ENOMEM, "cannot compare pages: %zu pages: out of memory",
			       count);
	}
	mp_hash_pages(hash, pages, count, *digests, size, *zero);
	mp_hash_close(hash);
	return 0;
}

static void find_zero_content(struct mp_contents *contents, const bool *zero, size_t count)
{
	contents->zero_content = MP_NONE;
	for (size_t i = 0; i < count; i++) {
		if (!zero[i])
			continue;
		contents->summary.zero_filled_pages++;
		contents->zero_content = contents->content[i];
	}
}

int mp_contents_classify(struct mp_contents *contents, const uint8_t *pages, size_t count,
			 enum mp_hash_id key, struct mp_error *error)
{
	struct digest_order order_arg = { NULL, mp_hash_digest_size(key) };
	uint8_t *digests = NULL;
	uint32_t *order = NULL;
	bool *zero = NULL;
	int rc;

	memset(contents, 0, sizeof(*contents));
	if (count > UINT32_MAX - 1)
		return mp_fail(error, -E2BIG, "cannot compare pages: %zu pages: at most %u",
			       count, UINT32_MAX - 1);

	rc = hash_all(pages, count, key, &digests, &zero, error);
	if (rc < 0)
		goto out;
	order = malloc(count * sizeof(*order));
	contents->content = malloc(count * sizeof(*contents->content));
	contents->reference = malloc(count * sizeof(*contents->reference));
	if (!order || !contents->content || !contents->reference) {
		rc = mp_fail(error, -ENOMEM, "cannot compare pages: %zu pages: out of memory",
			     count);
		goto out;
	}

	for (size_t i = 0; i < count; i++)
		order[i] = (uint32_t)i;
	order_arg.digests = digests;
	qsort_r(order, count, sizeof(*order), compare_digests, &order_arg);
	number_pages(contents, pages, &order_arg, order, count);

	contents->summary.pages = count;
	contents->summary.duplicate_pages = count - contents->summary.contents;
	find_zero_content(contents, zero, count);
out:
	if (rc < 0)
		mp_contents_free(contents);
	free(order);
	free(digests);
	free(zero);
	return rc;
}

void mp_contents_free(struct mp_contents *contents)
{
	free(contents->content);
	free(contents->reference);
	contents->content = NULL;
	contents->reference = NULL;
}
