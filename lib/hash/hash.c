// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hash.c - the table of page-hash algorithms and what they share: name
 * look-up, hasher life cycle, exact zero-filled detection, batch hashing
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static const struct mp_hash_algo *const algos[MP_HASH_COUNT] = {
	[MP_HASH_PATTERN] = &mp_hash_algo_pattern,
	[MP_HASH_SUPERFAST] = &mp_hash_algo_superfast,
	[MP_HASH_CRC32] = &mp_hash_algo_crc32,
	[MP_HASH_CRC32EX] = &mp_hash_algo_crc32ex,
	[MP_HASH_CRC32C] = &mp_hash_algo_crc32c,
	[MP_HASH_MD5] = &mp_hash_algo_md5,
	[MP_HASH_SHA1] = &mp_hash_algo_sha1,
	[MP_HASH_SHA256] = &mp_hash_algo_sha256,
	[MP_HASH_XXH64] = &mp_hash_algo_xxh64,
	[MP_HASH_XXH3] = &mp_hash_algo_xxh3,
	[MP_HASH_XXH128] = &mp_hash_algo_xxh128,
};

static const struct mp_hash_algo *find_algo(enum mp_hash_id id)
{
	if ((unsigned)id >= MP_HASH_COUNT)
		return NULL;
	return algos[id];
}

enum mp_hash_id mp_hash_lookup(const char *name)
{
	if (!name)
		return MP_HASH_NONE;
	for (size_t i = 0; i < MP_HASH_COUNT; i++) {
		if (algos[i] && strcmp(algos[i]->name, name) == 0)
			return algos[i]->id;
	}
	return MP_HASH_NONE;
}

const char *mp_hash_name(enum mp_hash_id id)
{
	const struct mp_hash_algo *algo = find_algo(id);

	return algo ? algo->name : NULL;
}

size_t mp_hash_digest_size(enum mp_hash_id id)
{
	const struct mp_hash_algo *algo = find_algo(id);

	return algo ? algo->digest_size : 0;
}

bool mp_hash_keyable(enum mp_hash_id id)
{
	const struct mp_hash_algo *algo = find_algo(id);

	return algo && algo->keyable;
}

/*
 * Clear the upper halves of the vector registers after a library call.
 * libxxhash 0.8.1's AVX-512 code and ISA-L 2.30's crc32 return with them
 * dirty.  Every legacy SSE instruction that runs after that, in memprint or
 * in its caller, then pays for a merge.  On a Xeon with AVX-512, SSE code
 * between pages slowed xxh3 from 44 to 17 GB/s (docs/hashes.md).
 */
static inline void clear_upper_vectors(const struct mp_hash *hash)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (hash->avx)
		__asm__ volatile("vzeroupper" ::: "memory");
#else
	(void)hash;
#endif
}

static int check_key(const struct mp_hash_algo *algo, const void *key, size_t key_size,
		     struct mp_error *error)
{
	if (!key)
		return 0;
	if (!algo->keyable)
		return mp_fail(error, -EINVAL,
			       "hash key given: %s cannot be keyed: use xxh3, xxh128, xxh64, "
			       "md5, sha1 or sha256", algo->name);
	if (key_size == 0)
		return mp_fail(error, -EINVAL,
			       "hash key for %s: the key is empty: give at least one byte",
			       algo->name);
	return 0;
}

int mp_hash_open(struct mp_hash **hash, enum mp_hash_id id, const void *key, size_t key_size,
		 struct mp_error *error)
{
	const struct mp_hash_algo *algo = find_algo(id);
	static const uint8_t zero_page[MP_PAGE_SIZE];
	struct mp_hash *h;
	int rc;

	*hash = NULL;
	if (!algo)
		return mp_fail(error, -EINVAL, "open hash: unknown algorithm id %d", (int)id);
	rc = check_key(algo, key, key_size, error);
	if (rc < 0)
		return rc;

	h = calloc(1, sizeof(*h));
	if (!h)
		return mp_fail_errno(error, -ENOMEM, "open hash: %s", algo->name);
	h->algo = algo;
	h->keyed = key != NULL;
#if defined(__x86_64__) && defined(__GNUC__)
	h->avx = __builtin_cpu_supports("avx");
#endif
	if (algo->setup) {
		rc = algo->setup(h, key, key_size, error);
		if (rc < 0) {
			free(h);
			return rc;
		}
	}

	/* Zero-filled pages are common; their digest is computed once, here. */
	algo->page(h, zero_page, h->zero_digest);
	clear_upper_vectors(h);
	*hash = h;
	return 0;
}

void mp_hash_close(struct mp_hash *hash)
{
	if (!hash)
		return;
	if (hash->algo->cleanup)
		hash->algo->cleanup(hash);
	free(hash);
}

enum mp_hash_id mp_hash_id(const struct mp_hash *hash)
{
	return hash->algo->id;
}

bool mp_hash_page(struct mp_hash *hash, const void *page, uint8_t *digest)
{
	if (mp_hash_zero_filled(page)) {
		memcpy(digest, hash->zero_digest, hash->algo->digest_size);
		return true;
	}
	hash->algo->page(hash, page, digest);
	clear_upper_vectors(hash);
	return false;
}

void mp_hash_pages(struct mp_hash *hash, const void *pages, size_t count, uint8_t *digests,
		   size_t stride, bool *zero_filled)
{
	const uint8_t *page = pages;
	bool zero;

	if (hash->algo->batch) {
		hash->algo->batch(hash, pages, count, digests, stride, zero_filled);
		return;
	}
	for (size_t i = 0; i < count; i++, page += MP_PAGE_SIZE, digests += stride) {
		zero = mp_hash_zero_filled(page);
		if (zero)
			memcpy(digests, hash->zero_digest, hash->algo->digest_size);
		else
			hash->algo->page(hash, page, digests);
		if (zero_filled)
			zero_filled[i] = zero;
	}
	/* Only scalar code ran between the pages, so one clear is enough. */
	clear_upper_vectors(hash);
}

uint64_t mp_digest_key(const uint8_t *digest, size_t size)
{
	uint8_t bytes[8] = { 0 };

	memcpy(bytes, digest, size < sizeof(bytes) ? size : sizeof(bytes));
	return mp_load_le64(bytes);
}
