/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timeline.h - state that the timeline engine keeps within and between sets
 *
 * The engine works on arrays, in passes that read memory in order: random
 * lookups in tables larger than the caches cost a cache miss per page
 * record, which made a series of large processes take minutes.
 *
 *   - records: one per page record of the current set with a frame, in
 *     arrival order, later sorted by digest to count the frames of each;
 *   - frames: the PFN of each such record, sorted to find the first
 *     record of each frame;
 *   - mappings: per task, the mappings of the current and of the previous
 *     set, each in address order, joined by a merge at the end of a set;
 *   - runs: the open content runs, in digest order, merged with the
 *     opportunities of each set.
 */
#ifndef MEMPRINT_TIMELINE_H
#define MEMPRINT_TIMELINE_H

#include "internal.h"

/* Record flags. */
#define TL_RECORD_FRAME		(1u << 0)	/* the first record of its frame in the set */
#define TL_RECORD_ZERO_FILLED	(1u << 1)

/* A mapping of the kernel zero page has no record, because it has no frame of its own. */
#define TL_NO_RECORD		UINT32_MAX

/* Set numbers in the state are the set index + 1, so that 0 means "none". */
struct tl_record {
	uint64_t digest;		/* mp_digest_key() of the page's digest */
	uint32_t index;			/* arrival order in the set */
	uint32_t flags;			/* TL_RECORD_* */
};

struct tl_frame {
	uint64_t pfn;
	uint32_t record;		/* index of the record with this frame */
	uint32_t unused;
};

struct tl_mapping {
	uint64_t vpn;
	uint64_t digest;
	uint32_t record;		/* its record in the current set, or TL_NO_RECORD */
	uint32_t since;			/* first set of the current digest, present throughout */
	uint32_t run_start;		/* first set of the open merge run, 0 if none */
	uint32_t order;			/* arrival order among the task's mappings */
};

/* An open content run: a digest that was an opportunity in each set since start. */
struct tl_run {
	uint64_t digest;
	uint64_t savable;		/* frames - 1 summed over the run's sets */
	uint32_t start;
	uint32_t unused;
};

/*
 * Sort frames by PFN, keeping the arrival order of equal PFNs (a stable
 * LSD radix sort).  scratch has room for count entries.
 */
void tl_sort_frames(struct tl_frame *frames, struct tl_frame *scratch, size_t count);

/* Buckets of the top byte of a digest, which the first pass of the record sort uses. */
#define TL_TOP_BUCKETS 256

/*
 * Sort records by digest (an MSD radix sort).  scratch has room for count entries.
 * top_counts, if not NULL, counts the records by the top byte of their
 * digest (digest >> 56), which saves the sort its first pass.
 */
void tl_sort_records(struct tl_record *records, struct tl_record *scratch, size_t count,
		     const size_t *top_counts);

/* Sort mappings by address, then arrival order: only for tasks that came out of order. */
void tl_sort_mappings(struct tl_mapping *mappings, size_t count);

#endif /* MEMPRINT_TIMELINE_H */
