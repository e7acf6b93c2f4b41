// SPDX-License-Identifier: GPL-2.0
/*
 * hash.c - page digests, the same definitions as libmemprint's lib/hash/
 *
 * Every digest is stored in the canonical big-endian form the standard
 * tools print (crc32, xxh64 and friends as a big-endian number).  xxh3 and
 * xxh128 have no kernel implementation, so the module does not offer them.
 */
#include <crypto/hash.h>
#include <linux/crc32.h>
#include <linux/crc32c.h>
#include <linux/err.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/xxhash.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#include "memprint_kmod.h"

#define PAGE_BYTES 4096

static const char *const crypto_names[] = {
	[MEMPRINT_HASH_MD5] = "md5",
	[MEMPRINT_HASH_SHA1] = "sha1",
	[MEMPRINT_HASH_SHA256] = "sha256",
};

static const unsigned int digest_sizes[] = {
	[MEMPRINT_HASH_PATTERN] = 16,
	[MEMPRINT_HASH_SUPERFAST] = 4,
	[MEMPRINT_HASH_CRC32] = 4,
	[MEMPRINT_HASH_CRC32EX] = 16,
	[MEMPRINT_HASH_CRC32C] = 4,
	[MEMPRINT_HASH_MD5] = 16,
	[MEMPRINT_HASH_SHA1] = 20,
	[MEMPRINT_HASH_SHA256] = 32,
	[MEMPRINT_HASH_XXH64] = 8,
};

int mpk_hasher_init(struct mpk_hasher *hasher, u32 id)
{
	memset(hasher, 0, sizeof(*hasher));
	if (id == 0 || id >= ARRAY_SIZE(digest_sizes))
		return -EOPNOTSUPP;

	hasher->id = id;
	hasher->size = digest_sizes[id];
	if (id >= MEMPRINT_HASH_MD5 && id <= MEMPRINT_HASH_SHA256) {
		struct crypto_shash *tfm;

		tfm = crypto_alloc_shash(crypto_names[id], 0, 0);
		if (IS_ERR(tfm))
			return PTR_ERR(tfm);
		hasher->tfm = tfm;
	}
	return 0;
}

void mpk_hasher_free(struct mpk_hasher *hasher)
{
	if (hasher->tfm)
		crypto_free_shash(hasher->tfm);
	hasher->tfm = NULL;
	hasher->id = 0;
}

/*
 * Paul Hsieh's SuperFastHash over len bytes (a multiple of 4 here), its
 * 16-bit reads little-endian, as on the x86 it was written for.
 */
static u32 superfast_hash(const u8 *data, size_t len)
{
	u32 hash = len, tmp;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		hash += get_unaligned_le16(data + i);
		tmp = (get_unaligned_le16(data + i + 2) << 11) ^ hash;
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

/* The IEEE CRC-32 of zlib and cksum -a crc32b: init and final xor ~0. */
static u32 crc32_ieee(const void *data, size_t len)
{
	return crc32_le(~0u, data, len) ^ ~0u;
}

/*
 * pattern: the bytes at offsets 2^0 .. 2^11 (1, 2, 4, ..., 2048), then the
 * last 4 bytes of the page as they are.
 */
static void pattern_digest(const u8 *data, u8 *digest)
{
	int i;

	for (i = 0; i < 12; i++)
		digest[i] = data[1u << i];
	memcpy(digest + 12, data + PAGE_BYTES - 4, 4);
}

static void crypto_digest(const struct mpk_hasher *hasher, const void *data,
			  u8 *digest)
{
	if (crypto_shash_tfm_digest(hasher->tfm, data, PAGE_BYTES, digest))
		memset(digest, 0, hasher->size);
}

bool mpk_hash_page(const struct mpk_hasher *hasher, const void *data,
		   u8 *digest)
{
	int i;

	switch (hasher->id) {
	case MEMPRINT_HASH_PATTERN:
		pattern_digest(data, digest);
		break;
	case MEMPRINT_HASH_SUPERFAST:
		put_unaligned_be32(superfast_hash(data, PAGE_BYTES), digest);
		break;
	case MEMPRINT_HASH_CRC32:
		put_unaligned_be32(crc32_ieee(data, PAGE_BYTES), digest);
		break;
	case MEMPRINT_HASH_CRC32EX:
		for (i = 0; i < 4; i++)
			put_unaligned_be32(crc32_ieee(data + i * 1024, 1024),
					   digest + i * 4);
		break;
	case MEMPRINT_HASH_CRC32C:
		put_unaligned_be32(__crc32c_le(~0u, data, PAGE_BYTES) ^ ~0u,
				   digest);
		break;
	case MEMPRINT_HASH_XXH64:
		put_unaligned_be64(xxh64(data, PAGE_BYTES, 0), digest);
		break;
	default:
		crypto_digest(hasher, data, digest);
		break;
	}
	return !memchr_inv(data, 0, PAGE_BYTES);
}
