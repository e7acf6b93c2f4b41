/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image.h - private interface of the memory-image reader
 *
 * image.c opens a file, detects raw or ELF and reads pages; elf.c parses an
 * ELF64 core (QEMU dump-guest-memory) into the list of its page ranges.
 */
#ifndef MEMPRINT_IMAGE_IMAGE_H
#define MEMPRINT_IMAGE_IMAGE_H

#include "internal.h"

/* A run of whole pages stored contiguously in the file. */
struct mp_image_segment {
	uint64_t file_offset;		/* bytes */
	uint64_t pages;
	uint64_t address;		/* physical address of the first page */
};

struct mp_image {
	int fd;
	char *path;
	struct mp_image_info info;
	struct mp_image_segment *segments;
	size_t segment_count;
	size_t segment;			/* the segment being read */
	uint64_t page;			/* the next page within it */
};

/* Read exactly size bytes at offset; -EIO (with a message) if the file ends first. */
int mp_image_pread(struct mp_image *image, void *buffer, size_t size, uint64_t offset,
		   struct mp_error *error);

/*
 * Parse the ELF header and program headers of image->fd into
 * image->segments and image->info.  Rejects a damaged file with -EINVAL
 * and a message naming the file and the offset of the damaged field.
 */
int mp_image_parse_elf(struct mp_image *image, struct mp_error *error);

#endif /* MEMPRINT_IMAGE_IMAGE_H */
