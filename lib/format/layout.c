// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * layout.c - checksums and fixed-layout parts of the snapshot format
 */
#include <isa-l/crc.h>

#include "format/format.h"

/*
 * ISA-L's crc32_iscsi() neither presets nor inverts: starting from ~0 and
 * inverting the result gives the standard CRC-32C (check value 0xe3069283
 * for "123456789").
 */
uint32_t mpf_block_crc(const uint8_t *header, const uint8_t *stored, size_t stored_size)
{
	uint32_t crc = 0xffffffffu;

	crc = crc32_iscsi((unsigned char *)header, MPF_BLOCK_HEADER_SIZE - 4, crc);
	if (stored_size)
		crc = crc32_iscsi((unsigned char *)stored, (int)stored_size, crc);
	return ~crc;
}

uint32_t mpf_file_header_crc(const uint8_t *header)
{
	return ~crc32_iscsi((unsigned char *)header, MPF_FILE_HEADER_SIZE - 4, 0xffffffffu);
}

void mpf_file_header_init(uint8_t *header)
{
	memcpy(header, MPF_MAGIC, MPF_MAGIC_SIZE);
	mpf_store_le16(header + 8, MPF_VERSION_MAJOR);
	mpf_store_le16(header + 10, MPF_VERSION_MINOR);
	mpf_store_le32(header + 12, mpf_file_header_crc(header));
}

void mpf_store_ksm(uint8_t *p, const struct mp_ksm_counters *ksm)
{
	const uint64_t values[] = {
		ksm->run, ksm->pages_shared, ksm->pages_sharing, ksm->pages_unshared,
		ksm->pages_volatile, ksm->full_scans, ksm->max_page_sharing,
		ksm->use_zero_pages, ksm->ksm_zero_pages,
	};

	mpf_store_le32(p, ksm->valid ? 1 : 0);
	mpf_store_le32(p + 4, 0);
	for (size_t i = 0; i < MP_ARRAY_SIZE(values); i++)
		mp_store_le64(p + 8 + 8 * i, values[i]);
}

void mpf_load_ksm(const uint8_t *p, struct mp_ksm_counters *ksm)
{
	uint64_t *fields[] = {
		&ksm->run, &ksm->pages_shared, &ksm->pages_sharing, &ksm->pages_unshared,
		&ksm->pages_volatile, &ksm->full_scans, &ksm->max_page_sharing,
		&ksm->use_zero_pages, &ksm->ksm_zero_pages,
	};

	ksm->valid = mpf_load_le32(p) & 1;
	for (size_t i = 0; i < MP_ARRAY_SIZE(fields); i++)
		*fields[i] = mp_load_le64(p + 8 + 8 * i);
}
