/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hash.h - private interface between the page-hash front end (hash.c) and
 * the files that implement one family of algorithms each
 *
 * A struct mp_hash_algo describes one algorithm; hash.c keeps them in a
 * table indexed by enum mp_hash_id and does the work every algorithm
 * shares: the exact zero-filled check, the cached digest of the zero page,
 * the batch loop and the key checks.  A hasher is not thread-safe because it
 * contains the mutable state of its library (an OpenSSL context), so each
 * thread opens its own.
 */
#ifndef MEMPRINT_HASH_H
#define MEMPRINT_HASH_H

#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

/* xxh3 and xxh128 secret size: XXH3_SECRET_DEFAULT_SIZE of xxHash 0.8. */
#define MP_XXH3_SECRET_SIZE 192

struct mp_hash;

/*
 * Hash one page.  hash.c calls it for a zero-filled page only once, in
 * mp_hash_open(), and copies that digest afterwards.
 */
typedef void mp_hash_page_fn(struct mp_hash *hash, const uint8_t *page, uint8_t *digest);

/*
 * Hash count pages with the contract of mp_hash_pages(), zero detection
 * included (mp_hash_zero_filled() and hash->zero_digest are there for it).
 */
typedef void mp_hash_batch_fn(struct mp_hash *hash, const uint8_t *pages, size_t count,
			      uint8_t *digests, size_t stride, bool *zero_filled);

/*
 * Set up the state of a hasher, keyed when key is not NULL (key_size > 0
 * then).  Returns 0 or a negative errno value with error filled.
 */
typedef int mp_hash_setup_fn(struct mp_hash *hash, const void *key, size_t key_size,
			     struct mp_error *error);

struct mp_hash_algo {
	enum mp_hash_id id;
	const char *name;		/* as the command line takes it */
	size_t digest_size;		/* bytes */
	bool keyable;
	mp_hash_page_fn *page;
	mp_hash_batch_fn *batch;	/* NULL: hash.c loops over page */
	mp_hash_setup_fn *setup;	/* NULL: no state, no key */
	void (*cleanup)(struct mp_hash *hash);	/* NULL: nothing to free */
};

struct mp_hash {
	const struct mp_hash_algo *algo;
	bool keyed;
	bool avx;				/* the CPU has vzeroupper */
	uint8_t zero_digest[MP_DIGEST_MAX];	/* digest of the zero-filled page */
	union {
		uint64_t xxh64_seed;
		unsigned char xxh3_secret[MP_XXH3_SECRET_SIZE];	/* used if keyed */
		struct {
			EVP_MD *md;
			EVP_MD_CTX *md_ctx;
			EVP_MAC_CTX *mac_ctx;	/* HMAC, NULL if unkeyed */
		} evp;
	} state;
};

extern const struct mp_hash_algo mp_hash_algo_pattern;
extern const struct mp_hash_algo mp_hash_algo_superfast;
extern const struct mp_hash_algo mp_hash_algo_crc32;
extern const struct mp_hash_algo mp_hash_algo_crc32ex;
extern const struct mp_hash_algo mp_hash_algo_crc32c;
extern const struct mp_hash_algo mp_hash_algo_md5;
extern const struct mp_hash_algo mp_hash_algo_sha1;
extern const struct mp_hash_algo mp_hash_algo_sha256;
extern const struct mp_hash_algo mp_hash_algo_xxh64;
extern const struct mp_hash_algo mp_hash_algo_xxh3;
extern const struct mp_hash_algo mp_hash_algo_xxh128;

static inline uint64_t mp_load_word(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Whether all MP_PAGE_SIZE bytes of page are 0; stops at the first 64 bytes
 * that are not.  Plain 64-bit loads, so no SSE code runs between two hashes
 * (see clear_upper_vectors() in hash.c).
 */
static inline bool mp_hash_zero_filled(const uint8_t *page)
{
	for (const uint8_t *p = page; p < page + MP_PAGE_SIZE; p += 64) {
		uint64_t any = mp_load_word(p) | mp_load_word(p + 8) | mp_load_word(p + 16) |
			       mp_load_word(p + 24) | mp_load_word(p + 32) | mp_load_word(p + 40) |
			       mp_load_word(p + 48) | mp_load_word(p + 56);

		if (any)
			return false;
	}
	return true;
}

static inline void mp_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* MEMPRINT_HASH_H */
