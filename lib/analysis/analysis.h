/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * analysis.h - private interface of the analysis engine
 *
 * The analysis keeps one 24-byte slot per mapping while a set streams in,
 * and works in two stages when the report is asked for:
 *
 *   1. Mapping entries sit in buckets chosen by the low bits of their PFN.
 *      Each bucket is sorted by PFN; each run of one PFN is a frame, which
 *      becomes one record per task that maps it (the frame's first record
 *      carries RECORD_FRAME).  Records go to buckets chosen by the high bits
 *      of their digest key, and the PFN bucket's chunks go back to the arena.
 *   2. Each record bucket is sorted by key; each run of one key is a content
 *      group, accounted for the whole set, and split by task, file and kind
 *      for the per-entity totals.
 *
 * Both stages sort one bucket at a time, into a scratch array of one bucket
 * or, for a bucket many times the average, in a mapping of its own.  So memory stays near
 * 24 bytes per mapping plus a constant (docs/analysis.md).
 */
#ifndef MEMPRINT_ANALYSIS_H
#define MEMPRINT_ANALYSIS_H

#include "internal.h"

#define MP_BUCKET_BITS 10
#define MP_BUCKETS (1u << MP_BUCKET_BITS)

/*
 * One mapping (a page of a task) or one page-cache page while a set streams
 * in, or one (task, frame) record after the first stage.  sort is the radix
 * sort key of both forms.
 */
struct slot {
	uint64_t sort;	/* entry: pfn << ENTRY_PFN_SHIFT | ENTRY_*; record: mixed key */
	union {
		struct {
			uint64_t key;		/* mixed digest key */
			uint32_t task;		/* global task id, MP_NONE for no mapping */
			uint32_t file;		/* global file id, 0 for none */
		} entry;
		struct {
			uint32_t task;		/* global task id, MP_NONE for no mapping */
			uint32_t file_flags;	/* file << RECORD_FILE_SHIFT | RECORD_* */
			uint32_t mappings;	/* mappings of the frame by this task */
			uint32_t eligible;	/* of those, eligible for KSM */
		} record;
	};
};

_Static_assert(sizeof(struct slot) == 24, "a slot must stay 24 bytes");

/* Entry flags, the low bits of slot.sort below the PFN. */
#define ENTRY_KIND_MASK		0x7u		/* enum mp_frame_kind */
#define ENTRY_ZERO		(1u << 3)	/* zero-filled content */
#define ENTRY_MERGEABLE		(1u << 4)	/* MP_PAGE_MERGEABLE */
#define ENTRY_KMAP2		(1u << 5)	/* kpagecount >= 2 */
#define ENTRY_NO_DIGEST		(1u << 6)	/* content not read: key is unique */
#define ENTRY_PFN_SHIFT		20
#define ENTRY_PFN_MAX		((1ull << (64 - ENTRY_PFN_SHIFT)) - 1)

/* Record flags, the low bits of record.file_flags. */
#define RECORD_KIND_MASK	0x7u		/* enum mp_frame_kind */
#define RECORD_ZERO		(1u << 3)	/* zero-filled content */
#define RECORD_KMAP2		(1u << 4)	/* kpagecount >= 2 */
#define RECORD_FRAME		(1u << 5)	/* the first record of its frame */
#define RECORD_SHARED		(1u << 6)	/* the frame has >= 2 mappings in the set */
#define RECORD_FILE_SHIFT	8
#define RECORD_FILE_MAX		((1u << (32 - RECORD_FILE_SHIFT)) - 1)

#define BUCKET_STAGE_SLOTS 8	/* 192 bytes: three cache lines */
#define CHUNK_BYTES 4096	/* a page, for MADV_DONTNEED */
#define CHUNK_SLOTS 168		/* 4032 bytes: the slots that fit, in whole stages */
#define ARENA_BLOCK_BYTES (64ul << 20)

/*
 * Chunks of slots for every bucket, carved from large blocks and kept on a
 * free list once a bucket is sorted, so the second stage writes its records
 * to the pages the first stage left and no page is faulted in or unmapped
 * twice.  Blocks ask for transparent huge pages: a fault per 2 MiB.
 */
struct arena {
	char **blocks;
	size_t block_count, block_capacity;
	size_t block_current;	/* the block chunks are carved from */
	size_t block_used;	/* bytes of that block handed out */
	void *free;		/* free chunks, linked through their first bytes */
};

/* Take every chunk back, keeping the blocks mapped for the next set. */
void arena_rewind(struct arena *arena);
void arena_release(struct arena *arena);

/*
 * A growable array of slots in chunks of the arena.  Pushed slots gather
 * in a small stage first and go to their chunk eight at a time with
 * non-temporal stores: writing to a thousand arrays at once otherwise costs
 * a cache miss for every new line of every array.
 */
struct bucket {
	struct arena *arena;
	struct slot **chunks;
	size_t chunk_count, chunk_capacity;
	size_t count;		/* slots in the chunks, without the stage */
	uint32_t staged;
	struct slot stage[BUCKET_STAGE_SLOTS];
};

/* Give the bucket's chunks back to the arena. */
void bucket_free(struct bucket *bucket);
/* Move the full stage to the chunks. */
int bucket_write_stage(struct bucket *bucket);
/* Move the staged slots to the chunks, before they are read. */
int bucket_flush(struct bucket *bucket);

static inline int bucket_push(struct bucket *bucket, const struct slot *slot)
{
	bucket->stage[bucket->staged++] = *slot;
	if (MP_LIKELY(bucket->staged < BUCKET_STAGE_SLOTS))
		return 0;
	return bucket_write_stage(bucket);
}

#define RADIX_MAX_BITS 16
#define RADIX_COUNTS (1u << RADIX_MAX_BITS)

/*
 * Sort the count slots of a flushed bucket by slot.sort into dst, and give
 * its chunks back.  Keys agree above bit high.  counts is scratch of
 * 3 * RADIX_COUNTS entries.
 */
void radix_sort_bucket(struct bucket *bucket, struct slot *dst, unsigned high,
		       uint32_t *counts);
/*
 * Copy a flushed bucket to a mapping of its own, giving back the pages of
 * each chunk as it goes; *slots is unmapped with munmap(slots, bytes).
 */
int bucket_gather(struct bucket *bucket, struct slot **slots, size_t *bytes);

/* Sort count slots in place; counts is scratch of 2 * RADIX_COUNTS entries. */
void radix_sort_in_place(struct slot *slots, size_t count, uint32_t *counts);

/*
 * Digest keys are multiplied by an odd constant (a bijection on 64 bits) so
 * that keys of short digests (crc32: 32 bits, the upper half zero) still
 * spread over the buckets, which take the top bits.
 */
#define KEY_MIX 0x9e3779b97f4a7c15ull

static inline uint64_t key_mix(uint64_t key)
{
	return key * KEY_MIX;
}

uint64_t key_unmix(uint64_t mixed);

static inline unsigned key_bucket(uint64_t mixed)
{
	return (unsigned)(mixed >> (64 - MP_BUCKET_BITS));
}

/* A task of the report, in the order the sets gave them. */
struct task_info {
	struct mp_task_totals out;
};

/* A file of the report: (dev, inode, path) identifies it. */
struct file_info {
	uint64_t dev, inode;
	char *path;		/* NUL-terminated copy */
	size_t path_size;
	uint64_t hash;
	struct mp_totals totals;
};

/* The file and kind behind a region index of the current set. */
struct region_info {
	uint32_t file;		/* global file id, 0 for none */
	uint32_t kind;		/* enum mp_region_kind */
};

struct mp_analysis {
	struct mp_analysis_options options;

	/* The current set: its indexes mapped to global ids. */
	bool in_set;
	uint32_t *set_tasks;
	size_t set_task_count, set_task_capacity;
	struct region_info *set_regions;
	size_t set_region_count, set_region_capacity;
	uint32_t *set_files;
	size_t set_file_count, set_file_capacity;
	size_t digest_size;
	bool ksm_broken;

	/* Every set fed since the last report. */
	unsigned sets;
	struct mp_set_info info;
	struct mp_ksm_counters ksm_end;
	bool pfn_valid;
	uint64_t moved_pages;
	uint64_t partial_tasks;
	uint64_t skipped[MP_SKIP_COUNT];
	uint64_t zero_page_mappings;
	uint64_t unique_keys;		/* synthetic keys handed out */
	uint64_t synthetic_pfns;	/* synthetic PFNs handed out */

	struct task_info *tasks;
	size_t task_count, task_capacity;
	struct file_info *files;	/* files[0] is "no file" */
	size_t file_count, file_capacity;
	uint32_t *file_index;		/* open addressing: file ids, 0 empty */
	size_t file_index_size;

	uint64_t max_pfn;			/* of the entries */
	struct arena arena;
	struct bucket frames[MP_BUCKETS];	/* entries by PFN */
	struct bucket groups[MP_BUCKETS];	/* records by key */

	struct mp_error *error;			/* for the sink */
	struct mp_error sink_error;
};

/* ingest.c */
int analysis_ingest_pages(struct mp_analysis *analysis, const struct mp_page *pages,
			  size_t count);
int analysis_add_file(struct mp_analysis *analysis, uint64_t dev, uint64_t inode,
		      const char *path, size_t path_size, uint32_t *id);
void analysis_reset(struct mp_analysis *analysis);

/* engine.c */
int analysis_compute(struct mp_analysis *analysis, struct mp_report *report,
		     struct mp_error *error);

#endif /* MEMPRINT_ANALYSIS_H */
