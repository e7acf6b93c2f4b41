// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * xxhash.c - xxh64, xxh3 (64 bit) and xxh128 through libxxhash
 *
 * XXH3 and XXH128 go through the *_dispatch entry points of
 * xxh_x86dispatch.h, which libxxhash.so (Debian 0.8.1) exports.  They pick
 * the AVX-512, AVX2 or SSE2 code path at run time.  The plain XXH3_64bits()
 * of the same library is built for baseline x86-64 (SSE2) only.  On pages
 * in the L2 cache of a Xeon with AVX-512 that is 45 GB/s against 17 GB/s
 * (docs/hashes.md).
 *
 * Digests are the canonical (big-endian) form that xxhsum prints.
 */
#define XXH_STATIC_LINKING_ONLY		/* XXH3_generateSecret() */
#define XXH_DISPATCH_DISABLE_REPLACE	/* call the _dispatch names explicitly */
#include <errno.h>

#include <xxhash.h>
#include <xxh_x86dispatch.h>

#include "hash.h"

/*
 * Keyed xxh64 uses a 64-bit seed: XXH64 of the key with seed 0, so that a
 * key of any length counts in full.
 */
static int xxh64_setup(struct mp_hash *hash, const void *key, size_t key_size,
		       struct mp_error *error)
{
	(void)error;
	hash->state.xxh64_seed = key ? XXH64(key, key_size, 0) : 0;
	return 0;
}

static void xxh64_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	XXH64_hash_t value = XXH64(page, MP_PAGE_SIZE, hash->state.xxh64_seed);

	XXH64_canonicalFromHash((XXH64_canonical_t *)digest, value);
}

/*
 * Keyed xxh3 and xxh128 hash with a secret that XXH3_generateSecret()
 * derives from the key.
 * NOTE: xxHash lists XXH3_generateSecret() as experimental, so its output
 * may change in a later libxxhash.  Keyed xxh3 and xxh128 digests are only
 * comparable between snapshots taken with the same libxxhash version.
 */
static int xxh3_setup(struct mp_hash *hash, const void *key, size_t key_size,
		      struct mp_error *error)
{
	if (!key)
		return 0;
	if (XXH3_generateSecret(hash->state.xxh3_secret, MP_XXH3_SECRET_SIZE, key,
				key_size) != XXH_OK)
		return mp_fail(error, -EINVAL, "hash key for %s: XXH3_generateSecret failed",
			       hash->algo->name);
	return 0;
}

static void xxh3_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	XXH64_hash_t value;

	if (hash->keyed)
		value = XXH3_64bits_withSecret_dispatch(page, MP_PAGE_SIZE,
							hash->state.xxh3_secret,
							MP_XXH3_SECRET_SIZE);
	else
		value = XXH3_64bits_dispatch(page, MP_PAGE_SIZE);
	XXH64_canonicalFromHash((XXH64_canonical_t *)digest, value);
}

static void xxh128_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	XXH128_hash_t value;

	if (hash->keyed)
		value = XXH3_128bits_withSecret_dispatch(page, MP_PAGE_SIZE,
							 hash->state.xxh3_secret,
							 MP_XXH3_SECRET_SIZE);
	else
		value = XXH3_128bits_dispatch(page, MP_PAGE_SIZE);
	XXH128_canonicalFromHash((XXH128_canonical_t *)digest, value);
}

const struct mp_hash_algo mp_hash_algo_xxh64 = {
	.id = MP_HASH_XXH64,
	.name = "xxh64",
	.digest_size = 8,
	.keyable = true,
	.page = xxh64_page,
	.setup = xxh64_setup,
};

const struct mp_hash_algo mp_hash_algo_xxh3 = {
	.id = MP_HASH_XXH3,
	.name = "xxh3",
	.digest_size = 8,
	.keyable = true,
	.page = xxh3_page,
	.setup = xxh3_setup,
};

const struct mp_hash_algo mp_hash_algo_xxh128 = {
	.id = MP_HASH_XXH128,
	.name = "xxh128",
	.digest_size = 16,
	.keyable = true,
	.page = xxh128_page,
	.setup = xxh3_setup,
};
