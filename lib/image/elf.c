// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * elf.c - parse the ELF64 core that QEMU's dump-guest-memory writes
 *
 * The guest's RAM is in the PT_LOAD segments: p_filesz bytes at p_offset
 * in the file, guest-physical address p_paddr.  Fields are decoded from
 * little-endian bytes (not through <elf.h> structs), so the reader works
 * the same on any host.  Layout: the ELF-64 Object File Format, version
 * 1.5, and elf(5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define EHDR_SIZE	64
#define PHDR_SIZE	56
#define SHDR_SIZE	64
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define ET_CORE		4
#define PT_LOAD		1
#define PN_XNUM		0xffff	/* e_phnum overflow: the count is in section 0's sh_info */

/* Offsets of the ELF header fields read here. */
#define EI_CLASS	4
#define EI_DATA		5
#define E_TYPE		16
#define E_MACHINE	18
#define E_PHOFF		32
#define E_SHOFF		40
#define E_PHENTSIZE	54
#define E_PHNUM		56

/* Machines whose QEMU guests dump as little-endian ELF64 (elf.h EM_*). */
static const uint16_t machines[] = {
	3,	/* EM_386 */
	21,	/* EM_PPC64, little-endian guests */
	62,	/* EM_X86_64 */
	183,	/* EM_AARCH64 */
	243,	/* EM_RISCV */
	258,	/* EM_LOONGARCH */
};

static uint16_t load16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load32(const unsigned char *p)
{
	return (uint32_t)load16(p) | (uint32_t)load16(p + 2) << 16;
}

/* Fail with "invalid ELF image: PATH: offset N: why". */
#define elf_fail(image, error, offset, fmt, ...)				\
	mp_fail(error, -EINVAL, "invalid ELF image: %s: offset %llu: " fmt,	\
		(image)->path, (unsigned long long)(offset), ##__VA_ARGS__)

/* Read size bytes at offset, or fail naming where the file ends. */
static int read_at(struct mp_image *image, void *buffer, size_t size, uint64_t offset,
		   const char *what, struct mp_error *error)
{
	uint64_t file_size = image->info.file_size;

	if (offset > file_size || size > file_size - offset)
		return elf_fail(image, error, offset,
				"%s (%zu bytes) ends beyond the end of the file (%llu bytes)",
				what, size, (unsigned long long)file_size);
	return mp_image_pread(image, buffer, size, offset, error);
}

static bool known_machine(uint16_t machine)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(machines); i++) {
		if (machines[i] == machine)
			return true;
	}
	return false;
}

static int check_ident(struct mp_image *image, const unsigned char *ehdr,
		       struct mp_error *error)
{
	if (memcmp(ehdr, "\177ELF", 4))
		return elf_fail(image, error, 0, "bad magic %02x %02x %02x %02x, expected 7f 45 4c 46",
				ehdr[0], ehdr[1], ehdr[2], ehdr[3]);
	if (ehdr[EI_CLASS] != ELFCLASS64)
		return elf_fail(image, error, EI_CLASS,
				"ELF class %u is not supported, expected 2 (ELFCLASS64)",
				ehdr[EI_CLASS]);
	if (ehdr[EI_DATA] != ELFDATA2LSB)
		return elf_fail(image, error, EI_DATA,
				"ELF data encoding %u is not supported, expected 1 (little-endian)",
				ehdr[EI_DATA]);
	if (load16(ehdr + E_TYPE) != ET_CORE)
		return elf_fail(image, error, E_TYPE, "ELF type %u is not a core file (ET_CORE, 4)",
				load16(ehdr + E_TYPE));
	if (!known_machine(load16(ehdr + E_MACHINE)))
		return elf_fail(image, error, E_MACHINE,
				"ELF machine %u is not a supported little-endian guest",
				load16(ehdr + E_MACHINE));
	if (load16(ehdr + E_PHENTSIZE) != PHDR_SIZE)
		return elf_fail(image, error, E_PHENTSIZE,
				"program header size %u, expected %u", load16(ehdr + E_PHENTSIZE),
				PHDR_SIZE);
	return 0;
}

/* With more than 65534 program headers, the count is in section header 0. */
static int count_phdrs(struct mp_image *image, const unsigned char *ehdr, uint32_t *count,
		       struct mp_error *error)
{
	unsigned char shdr[SHDR_SIZE];
	uint64_t shoff = mp_load_le64(ehdr + E_SHOFF);
	int rc;

	*count = load16(ehdr + E_PHNUM);
	if (*count != PN_XNUM)
		return 0;
	if (shoff == 0)
		return elf_fail(image, error, E_SHOFF,
				"e_phnum is PN_XNUM but there is no section header");
	rc = read_at(image, shdr, sizeof(shdr), shoff, "section header 0", error);
	if (rc < 0)
		return rc;
	*count = load32(shdr + 44);	/* sh_info */
	return 0;
}

/* Add the whole pages of one PT_LOAD entry after checking its file range. */
static int add_load(struct mp_image *image, const unsigned char *phdr, uint32_t index,
		    uint64_t phdr_offset, struct mp_error *error)
{
	uint64_t offset = mp_load_le64(phdr + 8);
	uint64_t paddr = mp_load_le64(phdr + 24);
	uint64_t filesz = mp_load_le64(phdr + 32);
	uint64_t memsz = mp_load_le64(phdr + 40);
	uint64_t file_size = image->info.file_size;
	struct mp_image_segment *segment;

	if (offset > file_size || filesz > file_size - offset)
		return elf_fail(image, error, phdr_offset,
				"PT_LOAD segment %u (file offset %llu, %llu bytes) ends beyond "
				"the end of the file (%llu bytes)", index,
				(unsigned long long)offset, (unsigned long long)filesz,
				(unsigned long long)file_size);
	if (memsz > filesz)
		image->info.unstored_bytes += memsz - filesz;
	image->info.partial_bytes += filesz % MP_PAGE_SIZE;
	image->info.segments++;
	if (filesz < MP_PAGE_SIZE)
		return 0;

	segment = &image->segments[image->segment_count++];
	segment->file_offset = offset;
	segment->pages = filesz / MP_PAGE_SIZE;
	segment->address = paddr;
	image->info.pages += segment->pages;
	return 0;
}

static int read_phdrs(struct mp_image *image, uint64_t phoff, uint32_t count,
		      struct mp_error *error)
{
	unsigned char *table;
	int rc;

	if (count == 0)
		return elf_fail(image, error, E_PHNUM, "no program headers");
	if (phoff > image->info.file_size ||
	    (uint64_t)count * PHDR_SIZE > image->info.file_size - phoff)
		return elf_fail(image, error, E_PHOFF,
				"program header table (%u entries at offset %llu) ends beyond "
				"the end of the file (%llu bytes)", count,
				(unsigned long long)phoff,
				(unsigned long long)image->info.file_size);

	table = malloc((size_t)count * PHDR_SIZE);
	image->segments = calloc(count, sizeof(*image->segments));
	if (!table || !image->segments) {
		free(table);
		return mp_fail(error, -ENOMEM, "cannot read ELF image: %s: out of memory",
			       image->path);
	}
	rc = read_at(image, table, (size_t)count * PHDR_SIZE, phoff, "program header table",
		     error);
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		const unsigned char *phdr = table + (size_t)i * PHDR_SIZE;

		if (load32(phdr) == PT_LOAD)
			rc = add_load(image, phdr, i, phoff + (uint64_t)i * PHDR_SIZE, error);
	}
	free(table);
	if (rc == 0 && image->info.segments == 0)
		rc = elf_fail(image, error, phoff, "no PT_LOAD segment in %u program headers",
			      count);
	return rc;
}

int mp_image_parse_elf(struct mp_image *image, struct mp_error *error)
{
	unsigned char ehdr[EHDR_SIZE];
	uint32_t count;
	int rc;

	if (image->info.file_size < EHDR_SIZE)
		return elf_fail(image, error, image->info.file_size,
				"file ends inside the ELF header (%llu of %u bytes)",
				(unsigned long long)image->info.file_size, EHDR_SIZE);
	rc = read_at(image, ehdr, sizeof(ehdr), 0, "ELF header", error);
	if (rc < 0)
		return rc;
	rc = check_ident(image, ehdr, error);
	if (rc < 0)
		return rc;

	rc = count_phdrs(image, ehdr, &count, error);
	if (rc < 0)
		return rc;
	image->info.machine = load16(ehdr + E_MACHINE);
	return read_phdrs(image, mp_load_le64(ehdr + E_PHOFF), count, error);
}
