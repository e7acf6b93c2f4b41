// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * superfast.c - Paul Hsieh's SuperFastHash over one page
 *
 * Definition, as in Paul Hsieh's reference code, specialised to a length of
 * 4096, a multiple of 4, so the tail step for 1-3 left-over bytes never
 * runs.  All arithmetic is on uint32_t, modulo 2^32:
 *
 *	hash = length (4096)
 *	for each 4-byte group, a = its first, b = its second 16-bit
 *	little-endian half:
 *		hash += a
 *		tmp   = (b << 11) ^ hash
 *		hash  = (hash << 16) ^ tmp
 *		hash += hash >> 11
 *	final avalanche:
 *		hash ^= hash << 3;  hash += hash >> 5
 *		hash ^= hash << 4;  hash += hash >> 17
 *		hash ^= hash << 25; hash += hash >> 6
 *
 * The digest is the 32-bit result as 4 big-endian bytes.
 */
#include "hash.h"

static inline uint32_t load_le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t superfast_hash(const uint8_t *data, uint32_t size)
{
	uint32_t hash = size, tmp;

	for (uint32_t i = 0; i + 4 <= size; i += 4) {
		hash += load_le16(data + i);
		tmp = (load_le16(data + i + 2) << 11) ^ hash;
		hash = (hash << 16) ^ tmp;
		hash += hash >> 11;
	}

	hash ^= hash << 3;
	hash += hash >> 5;
	hash ^= hash << 4;
	hash += hash >> 17;
	hash ^= hash << 25;
	hash += hash >> 6;
	return hash;
}

static void superfast_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	(void)hash;
	mp_store_be32(digest, superfast_hash(page, MP_PAGE_SIZE));
}

const struct mp_hash_algo mp_hash_algo_superfast = {
	.id = MP_HASH_SUPERFAST,
	.name = "superfast",
	.digest_size = 4,
	.page = superfast_page,
};
