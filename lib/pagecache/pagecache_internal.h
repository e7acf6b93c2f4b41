/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagecache_internal.h - private state of the page-cache analyses
 *
 * pagecache_analysis.c is the sink that collects one entry per page record,
 * pagecache_report.c groups them into frames and contents, and
 * pagecache_print.c writes the report as a table or JSON.
 */
#ifndef MEMPRINT_PAGECACHE_INTERNAL_H
#define MEMPRINT_PAGECACHE_INTERNAL_H

#include "internal.h"

#define MP_PC_KEY_BYTES 16		/* digest bytes compared: all of a 64- or 128-bit digest */

/* Kinds of frame identity of an entry. */
enum mp_pc_frame_tag {
	MP_PC_TAG_PFN = 1,		/* w1 = PFN */
	MP_PC_TAG_FILE_PAGE,		/* w1 = device, w2 = inode, w3 = page offset */
	MP_PC_TAG_UNIQUE,		/* w1 = entry number: a frame of its own */
};

/* One page record as the analyses need it. */
struct mp_pc_entry {
	uint8_t digest[MP_PC_KEY_BYTES];
	uint32_t tag;			/* enum mp_pc_frame_tag */
	uint32_t owner;			/* task index, or file index for a cache page */
	uint64_t w1, w2, w3;		/* frame identity, by tag */
	uint64_t index;			/* page offset in the file (cache pages) */
	uint32_t frame;			/* frame number, assigned by the report */
	bool cache;			/* a page-cache record */
	bool zero;			/* every byte 0 */
	bool anon;			/* an anonymous task page */
};

struct mp_pc_region {
	uint32_t kind;			/* enum mp_region_kind */
	uint64_t start, offset, dev, inode;
};

struct mp_pc_file {
	char *path;
	uint64_t dev, inode;
	uint32_t flags;			/* MP_FILE_* */
};

struct mp_pagecache_analysis {
	struct mp_pagecache_analysis_options options;
	struct mp_pc_entry *entries;
	size_t entry_count, entry_slots;
	struct mp_pc_file *files;
	size_t file_count, file_slots;
	struct mp_pagecache_task *tasks;
	size_t task_count, task_slots;
	struct mp_pc_region *regions;
	size_t region_count, region_slots;
	size_t file_base, task_base, region_base;	/* first index of the current set */
	size_t digest_size;		/* bytes of each digest kept */
	bool pfn_valid;			/* every set fed had valid PFNs */
	bool sets_seen;
};

/* Forget every set fed so far, keeping the buffers. */
void mp_pc_analysis_reset(struct mp_pagecache_analysis *analysis);

#endif /* MEMPRINT_PAGECACHE_INTERNAL_H */
