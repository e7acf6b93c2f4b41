/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * format.h - layout of the memprint snapshot format v1, shared by the
 * writer and the reader (docs/format.md is the specification)
 *
 * A file is a 16-byte file header followed by blocks.  A block is a 24-byte
 * block header and its stored bytes (zstd-compressed or not), which hold
 * records.  A snapshot set is a run of blocks from one flagged SET_START
 * to one flagged SET_END.  Every integer is little-endian.
 */
#ifndef MEMPRINT_FORMAT_H
#define MEMPRINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define MPF_MAGIC		"\x89MPSNAP\n"	/* 8 bytes, like PNG's: catches text-mode damage */
#define MPF_MAGIC_SIZE		8
#define MPF_VERSION_MAJOR	1
#define MPF_VERSION_MINOR	0

/* File header: magic[8], major u16, minor u16, CRC-32C of bytes 0..11. */
#define MPF_FILE_HEADER_SIZE	16

/* Block header: magic, type, compression, flags, sizes, count, CRC-32C. */
#define MPF_BLOCK_MAGIC		"MPBK"
#define MPF_BLOCK_HEADER_SIZE	24
#define MPF_BLOCK_RECORDS	1	/* the only block type of v1 */
#define MPF_COMPRESS_NONE	0
#define MPF_COMPRESS_ZSTD	1
#define MPF_BLOCK_SET_START	(1u << 0)	/* first block of a set, begins with SET_INFO */
#define MPF_BLOCK_SET_END	(1u << 1)	/* last block of a set, ends with SET_END */
#define MPF_BLOCK_FLAGS_KNOWN	(MPF_BLOCK_SET_START | MPF_BLOCK_SET_END)

/*
 * The writer closes a block once its records reach MPF_BLOCK_TARGET bytes.
 * A reader accepts blocks up to MPF_BLOCK_RAW_MAX bytes, which leaves room
 * for a later writer to choose larger blocks.
 */
#define MPF_BLOCK_TARGET	(64u * 1024)
#define MPF_BLOCK_RAW_MAX	(1024u * 1024)
#define MPF_PATH_MAX		65535u

/* Record types: a byte below 0x80, a varint body length, the body. */
enum mpf_record_type {
	MPF_REC_SET_INFO = 1,
	MPF_REC_TASK = 2,
	MPF_REC_REGION = 3,
	MPF_REC_FILE = 4,
	MPF_REC_PAGE_OWNER = 5,
	MPF_REC_TASK_END = 6,
	MPF_REC_SET_END = 7,
};

/*
 * A record type byte with bit 7 set is a page record; bits 0..6 mark which
 * fields equal their predicted value and are therefore left out.
 */
#define MPF_PAGE_RECORD		0x80u
#define MPF_PAGE_INDEX_NEXT	(1u << 0)	/* index = previous index + 1 */
#define MPF_PAGE_PFN_NEXT	(1u << 1)	/* pfn = previous pfn + 1 */
#define MPF_PAGE_PAGEMAP_SAME	(1u << 2)
#define MPF_PAGE_KPF_SAME	(1u << 3)
#define MPF_PAGE_MAPCOUNT_SAME	(1u << 4)
#define MPF_PAGE_FLAGS_SAME	(1u << 5)
#define MPF_PAGE_DIGEST_SAME	(1u << 6)
/* Worst case: type, four 10-byte varints, two 5-byte varints, digest. */
#define MPF_PAGE_RECORD_MAX	(1 + 4 * 10 + 2 * 5 + MP_DIGEST_MAX)

/* Fixed body sizes of format v1; a body may be longer (later minor versions). */
#define MPF_KSM_SIZE		80
#define MPF_SET_INFO_FIXED	(48 + MPF_KSM_SIZE)	/* then host and kernel strings */
#define MPF_TASK_SIZE		72
#define MPF_REGION_FIXED	60	/* then path bytes */
#define MPF_FILE_FIXED		32	/* then path bytes */
#define MPF_PAGE_OWNER_SIZE	8
#define MPF_TASK_END_FIXED	24	/* then skip_count u64 counters */
#define MPF_SET_END_SIZE	(16 + MPF_KSM_SIZE)
#define MPF_COMM_SIZE		16
#define MPF_NAME_MAX		64	/* host and kernel strings */

/* The predicted values of page records; reset at the start of each block. */
struct mpf_page_state {
	uint32_t task, region;
	uint64_t next_index, next_pfn;
	uint64_t pagemap, kpageflags;
	uint32_t mapcount, flags;
	uint8_t digest[MP_DIGEST_MAX];
};

static inline void mpf_page_state_reset(struct mpf_page_state *state)
{
	memset(state, 0, sizeof(*state));
	state->task = MP_NONE;
	state->region = MP_NONE;
}

/* Predict the next page record from this one. */
static inline void mpf_page_state_update(struct mpf_page_state *state, const struct mp_page *page,
					 uint32_t digest_size)
{
	state->next_index = page->index + 1;
	state->next_pfn = page->pfn + 1;
	state->pagemap = page->pagemap;
	state->kpageflags = page->kpageflags;
	state->mapcount = page->mapcount;
	state->flags = page->flags;
	memcpy(state->digest, page->digest, digest_size);
}

/* pagemap keeps its flags in bits 55..63: rotate them to the low end of the varint. */
static inline uint64_t mpf_rotate_pagemap(uint64_t pagemap)
{
	return (pagemap >> 55) | (pagemap << 9);
}

static inline uint64_t mpf_unrotate_pagemap(uint64_t value)
{
	return (value << 55) | (value >> 9);
}

static inline uint64_t mpf_zigzag(uint64_t delta)
{
	return (delta << 1) ^ (uint64_t)((int64_t)delta >> 63);
}

static inline uint64_t mpf_unzigzag(uint64_t value)
{
	return (value >> 1) ^ (0 - (value & 1));
}

/* Store value as an unsigned LEB128 varint; returns the bytes used (1..10). */
static inline size_t mpf_put_varint(uint8_t *p, uint64_t value)
{
	size_t n = 0;

	while (value >= 0x80) {
		p[n++] = (uint8_t)(value | 0x80);
		value >>= 7;
	}
	p[n++] = (uint8_t)value;
	return n;
}

/*
 * Load a varint from p[0..size).  Returns the bytes used, or 0 when it runs
 * past size or does not fit in 64 bits.
 */
static inline size_t mpf_get_varint(const uint8_t *p, size_t size, uint64_t *value)
{
	uint64_t v = 0;

	for (size_t n = 0; n < size && n < 10; n++) {
		if (n == 9 && p[n] > 1)
			return 0;
		v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			*value = v;
			return n + 1;
		}
	}
	return 0;
}

static inline uint16_t mpf_load_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t mpf_load_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void mpf_store_le16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void mpf_store_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	for (int i = 0; i < 4; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

/* CRC-32C (Castagnoli, as iSCSI) of a block header's first 20 bytes and its stored bytes. */
uint32_t mpf_block_crc(const uint8_t *header, const uint8_t *stored, size_t stored_size);

/* CRC-32C of the file header's first 12 bytes. */
uint32_t mpf_file_header_crc(const uint8_t *header);

/* Fill a 16-byte file header of the current version. */
void mpf_file_header_init(uint8_t *header);

/* KSM counters as the 80-byte block of set info and set end bodies. */
void mpf_store_ksm(uint8_t *p, const struct mp_ksm_counters *ksm);
void mpf_load_ksm(const uint8_t *p, struct mp_ksm_counters *ksm);

/*
 * Find where the last complete set of the snapshot file at path ends, and
 * copy that set's header to last (last->hash stays 0 when the file has no
 * complete set).  A file that ends in the middle of a set (a writer was
 * stopped) is not an error; any other damage is.
 */
int mpf_valid_end(const char *path, uint64_t *end, struct mp_set_info *last,
		  struct mp_error *error);

#endif /* MEMPRINT_FORMAT_H */
