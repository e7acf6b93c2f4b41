/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mp-craft.h - a page set whose hash false positives are known by
 * construction, and writers for it as raw and ELF memory images
 *
 * Shared by tests/unit/test_hashbench.c, tests/unit/test_image.c and
 * tests/helpers/mp-craft-image.c.  The CRC-32 here is a bitwise version
 * written for the tests, independent of the ISA-L code that memprint uses.
 *
 * The page set, CRAFT_PAGES pages in this order:
 *   0-2   zero-filled
 *   3, 4  the same random page twice (a true duplicate)
 *   5, 6  random
 *   7, 8  a random page, and a copy that differs in byte 5 only: the pattern
 *         hash samples bytes 1, 2, 4, ..., 2048 and 4092-4095, so it
 *         cannot tell them apart
 *   9     zero in every byte the pattern hash samples, non-zero elsewhere:
 *         pattern gives it the digest of the zero-filled pages
 *   10,11 a random page, and a copy with byte 64 (quarter 0) flipped and
 *         bytes 1500-1503 (quarter 1) patched so that the whole-page CRC-32
 *         is equal; crc32ex hashes each quarter apart and differs, and
 *         pattern samples byte 64 and differs
 *   12-15 random
 *
 * Expected by construction (13 contents, 3 duplicate pages):
 *   pattern: groups {0,1,2,9} and {7,8}: 2 false-positive groups, 2 pages,
 *            1 of them in the zero-filled group, 11 distinct digests
 *   crc32:   group {10,11}: 1 group, 1 page, 12 distinct digests
 *   others:  0, 13 distinct digests (random pages collide with a
 *            probability of about 2^-25 for a 32-bit hash: the seed is fixed)
 */
#ifndef MEMPRINT_TESTS_CRAFT_H
#define MEMPRINT_TESTS_CRAFT_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRAFT_PAGE 4096u
#define CRAFT_PAGES 16u
#define CRAFT_CONTENTS 13u
#define CRAFT_ZERO_PAGES 3u
#define CRAFT_CRC_BYTE 64u		/* the flipped byte of page 11 */
#define CRAFT_CRC_PATCH 1500u		/* the 4 patched bytes of page 11 */

/* ELF image layout: a PT_NOTE, then pages 0-6 at address 0 and 7-15 at 1 MiB. */
#define CRAFT_ELF_FIRST_PAGES 7u
#define CRAFT_ELF_SECOND_ADDRESS 0x100000u
#define CRAFT_ELF_PHNUM 3u
#define CRAFT_ELF_NOTE_SIZE 20u
#define CRAFT_ELF_DATA_OFFSET (64u + CRAFT_ELF_PHNUM * 56u + CRAFT_ELF_NOTE_SIZE)

static uint64_t craft_random_state = 0x6d656d7072696e74ull;	/* fixed seed */

/* splitmix64 */
static inline uint64_t craft_random(void)
{
	uint64_t z = (craft_random_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void craft_random_page(uint8_t *page)
{
	for (unsigned i = 0; i < CRAFT_PAGE; i += 8) {
		uint64_t v = craft_random();

		memcpy(page + i, &v, 8);
	}
}

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit. */
static inline uint32_t craft_crc32(const uint8_t *data, size_t size)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < size; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/*
 * The linear part of the page CRC: for pages of equal length,
 * crc(a ^ d) = crc(a) ^ crc(d) ^ crc(zero page), so crc(a ^ d) == crc(a)
 * exactly when craft_crc_linear(d) == 0.
 */
static inline uint32_t craft_crc_linear(const uint8_t *delta)
{
	static uint8_t zero[CRAFT_PAGE];

	return craft_crc32(delta, CRAFT_PAGE) ^ craft_crc32(zero, CRAFT_PAGE);
}

/*
 * Find the 32 patch bits x at bytes CRAFT_CRC_PATCH..+3 that cancel the
 * CRC change of delta: sum of x_j * L(unit_j) = L(delta) over GF(2), by
 * Gauss-Jordan elimination.  A change of at most 32 consecutive bits always
 * changes a CRC-32, so the 32 columns are independent and x is unique.
 */
static inline uint32_t craft_crc_patch(const uint8_t *delta)
{
	static uint8_t unit[CRAFT_PAGE];
	uint32_t target = craft_crc_linear(delta), x = 0;
	uint64_t rows[32] = { 0 };	/* equation i: bit j = bit i of L(unit_j), bit 32 = rhs */

	for (unsigned j = 0; j < 32; j++) {
		uint32_t column;

		unit[CRAFT_CRC_PATCH + j / 8] = (uint8_t)(1u << (j % 8));
		column = craft_crc_linear(unit);
		unit[CRAFT_CRC_PATCH + j / 8] = 0;
		for (unsigned i = 0; i < 32; i++)
			rows[i] |= (uint64_t)((column >> i) & 1u) << j;
	}
	for (unsigned i = 0; i < 32; i++)
		rows[i] |= (uint64_t)((target >> i) & 1u) << 32;

	for (unsigned col = 0; col < 32; col++) {
		unsigned pivot = col;
		uint64_t t;

		while (pivot < 32 && !((rows[pivot] >> col) & 1u))
			pivot++;
		if (pivot == 32)
			abort();	/* cannot happen: see above */
		t = rows[pivot];
		rows[pivot] = rows[col];
		rows[col] = t;
		for (unsigned i = 0; i < 32; i++) {
			if (i != col && ((rows[i] >> col) & 1u))
				rows[i] ^= rows[col];
		}
	}
	/* Row j is now x_j = rhs_j. */
	for (unsigned j = 0; j < 32; j++)
		x |= (uint32_t)((rows[j] >> 32) & 1u) << j;
	return x;
}

/* Fill pages (CRAFT_PAGES * 4096 bytes) with the page set described above. */
static inline void craft_pages(uint8_t *pages)
{
	static uint8_t delta[CRAFT_PAGE];
	uint8_t *p[CRAFT_PAGES];
	uint32_t patch;

	craft_random_state = 0x6d656d7072696e74ull;
	for (unsigned i = 0; i < CRAFT_PAGES; i++)
		p[i] = pages + (size_t)i * CRAFT_PAGE;
	memset(pages, 0, (size_t)CRAFT_PAGES * CRAFT_PAGE);

	craft_random_page(p[3]);
	memcpy(p[4], p[3], CRAFT_PAGE);
	craft_random_page(p[5]);
	craft_random_page(p[6]);

	craft_random_page(p[7]);
	memcpy(p[8], p[7], CRAFT_PAGE);
	p[8][5] ^= 0x5a;

	p[9][3] = 0x55;
	p[9][1000] = 0x01;
	p[9][4000] = 0xff;

	craft_random_page(p[10]);
	memset(delta, 0, sizeof(delta));
	delta[CRAFT_CRC_BYTE] = 0x01;
	patch = craft_crc_patch(delta);
	memcpy(p[11], p[10], CRAFT_PAGE);
	p[11][CRAFT_CRC_BYTE] ^= 0x01;
	for (unsigned j = 0; j < 4; j++)
		p[11][CRAFT_CRC_PATCH + j] ^= (uint8_t)(patch >> (8 * j));

	for (unsigned i = 12; i < CRAFT_PAGES; i++)
		craft_random_page(p[i]);
}

static inline void craft_store(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Write one ELF64 program header at p. */
static inline void craft_phdr(uint8_t *p, uint32_t type, uint64_t offset, uint64_t paddr,
			      uint64_t filesz)
{
	memset(p, 0, 56);
	craft_store(p, type, 4);		/* p_type */
	craft_store(p + 4, 4, 4);		/* p_flags: PF_R */
	craft_store(p + 8, offset, 8);		/* p_offset */
	craft_store(p + 16, paddr, 8);		/* p_vaddr */
	craft_store(p + 24, paddr, 8);		/* p_paddr */
	craft_store(p + 32, filesz, 8);		/* p_filesz */
	craft_store(p + 40, filesz, 8);		/* p_memsz */
}

/*
 * Build the headers of an x86-64 ELF core holding count pages in two
 * PT_LOAD segments (the first CRAFT_ELF_FIRST_PAGES at address 0, the rest
 * at CRAFT_ELF_SECOND_ADDRESS) after a PT_NOTE, as QEMU's dump-guest-memory
 * lays them out.  head gets CRAFT_ELF_DATA_OFFSET bytes; the page data
 * follows it in the file.
 */
static inline void craft_elf_head(uint8_t *head, unsigned count)
{
	uint64_t first = count < CRAFT_ELF_FIRST_PAGES ? count : CRAFT_ELF_FIRST_PAGES;
	uint64_t data = CRAFT_ELF_DATA_OFFSET;

	memset(head, 0, CRAFT_ELF_DATA_OFFSET);
	memcpy(head, "\177ELF", 4);
	head[4] = 2;				/* ELFCLASS64 */
	head[5] = 1;				/* ELFDATA2LSB */
	head[6] = 1;				/* EV_CURRENT */
	craft_store(head + 16, 4, 2);		/* e_type: ET_CORE */
	craft_store(head + 18, 62, 2);		/* e_machine: EM_X86_64 */
	craft_store(head + 20, 1, 4);		/* e_version */
	craft_store(head + 32, 64, 8);		/* e_phoff */
	craft_store(head + 52, 64, 2);		/* e_ehsize */
	craft_store(head + 54, 56, 2);		/* e_phentsize */
	craft_store(head + 56, CRAFT_ELF_PHNUM, 2);	/* e_phnum */

	craft_phdr(head + 64, 4, 64 + CRAFT_ELF_PHNUM * 56, 0, CRAFT_ELF_NOTE_SIZE);
	craft_phdr(head + 64 + 56, 1, data, 0, first * CRAFT_PAGE);
	craft_phdr(head + 64 + 112, 1, data + first * CRAFT_PAGE, CRAFT_ELF_SECOND_ADDRESS,
		   (count - first) * CRAFT_PAGE);
}

/* Write a, then b, to path (mode 0600); returns 0 or -errno. */
static inline int craft_write_file(const char *path, const void *a, size_t a_size,
				   const void *b, size_t b_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if ((a_size && write(fd, a, a_size) != (ssize_t)a_size) ||
	    (b_size && write(fd, b, b_size) != (ssize_t)b_size))
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Write count pages as an ELF core image (layout of craft_elf_head()). */
static inline int craft_write_elf(const char *path, const uint8_t *pages, unsigned count)
{
	uint8_t head[CRAFT_ELF_DATA_OFFSET];

	craft_elf_head(head, count);
	return craft_write_file(path, head, sizeof(head), pages, (size_t)count * CRAFT_PAGE);
}

#endif /* MEMPRINT_TESTS_CRAFT_H */
