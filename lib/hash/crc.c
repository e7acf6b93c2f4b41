// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * crc.c - crc32, crc32ex and crc32c through ISA-L
 *
 * crc32 is the IEEE 802.3 CRC-32 of zlib, gzip and PNG (reflected,
 * polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).  ISA-L's
 * crc32_gzip_refl() applies both inversions itself, as zlib's crc32() does,
 * so crc32_gzip_refl(0, buf, len) == crc32(0, buf, len).
 *
 * crc32c is the Castagnoli CRC-32 of iSCSI (RFC 3720) and ext4.  ISA-L's
 * crc32_iscsi() leaves both inversions to the caller: the standard value is
 * ~crc32_iscsi(buf, len, 0xFFFFFFFF).
 *
 * Digests are the CRC as a 4-byte big-endian value, the way it is printed
 * in hex.
 */
#include <isa-l/crc.h>

#include "hash.h"

#define QUARTER (MP_PAGE_SIZE / 4)

static uint32_t crc32_ieee_std(const uint8_t *data, size_t size)
{
	return crc32_gzip_refl(0, (unsigned char *)data, size);
}

static void crc32_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	(void)hash;
	mp_store_be32(digest, crc32_ieee_std(page, MP_PAGE_SIZE));
}

/* crc32ex: the crc32 of each 1 KiB quarter of the page, in page order, 16 bytes. */
static void crc32ex_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	(void)hash;
	for (int i = 0; i < 4; i++)
		mp_store_be32(digest + 4 * i, crc32_ieee_std(page + i * QUARTER, QUARTER));
}

static void crc32c_page(struct mp_hash *hash, const uint8_t *page, uint8_t *digest)
{
	(void)hash;
	mp_store_be32(digest, ~crc32_iscsi((unsigned char *)page, MP_PAGE_SIZE, 0xFFFFFFFFu));
}

const struct mp_hash_algo mp_hash_algo_crc32 = {
	.id = MP_HASH_CRC32,
	.name = "crc32",
	.digest_size = 4,
	.page = crc32_page,
};

const struct mp_hash_algo mp_hash_algo_crc32ex = {
	.id = MP_HASH_CRC32EX,
	.name = "crc32ex",
	.digest_size = 16,
	.page = crc32ex_page,
};

const struct mp_hash_algo mp_hash_algo_crc32c = {
	.id = MP_HASH_CRC32C,
	.name = "crc32c",
	.digest_size = 4,
	.page = crc32c_page,
};
