// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pattern.c - the sampling digest: 16 bytes of the page, not a hash
 *
 * Definition: the 16-byte digest is the 12 bytes at offsets 2^0, 2^1, ...,
 * 2^11 (1, 2, 4, ..., 2048) of the page, in that order, followed by the
 * last 4 bytes of the page (offsets 4092-4095) as they are.  The last word
 * covers the end of the page, which the samples, all at offsets up to
 * 2048, leave unseen.
 *
 * Pages that differ only in the other 4080 bytes collide, so this is fast
 * but gives many false positives.  It is kept for comparison.
 */
#include <string.h>

#include "hash.h"

static void pattern_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	(void)hash;
	for (int bit = 0; bit < 12; bit++)
		digest[bit] = page[1u << bit];
	memcpy(digest + 12, page + MP_PAGE_SIZE - 4, 4);
}

const struct mp_hash_algo mp_hash_algo_pattern = {
	.id = MP_HASH_PATTERN,
	.name = "pattern",
	.digest_size = 16,
	.page = pattern_page,
};
