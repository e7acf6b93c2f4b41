/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timeline_cache.h - the page-cache numbers of each set of a series, for
 * memprint timeline
 */
#ifndef MEMPRINT_CLI_TIMELINE_CACHE_H
#define MEMPRINT_CLI_TIMELINE_CACHE_H

#include <stdio.h>

#include "memprint.h"

/* The page-cache numbers of one set, in 4 KiB pages (docs/pagecache.md). */
struct timeline_cache_row {
	bool present;			/* the set includes the page cache */
	uint64_t files;			/* with cached pages, residency known */
	uint64_t files_unknown;		/* residency unknown: not counted below */
	uint64_t frames;
	uint64_t duplicate_frames;
	uint64_t duplicate_frames_nonzero;
	uint64_t cache_duplicate_frames;
	uint64_t cache_duplicate_frames_nonzero;
	uint64_t contents_three_plus;
	uint64_t frames_three_plus;
	uint64_t contents_three_plus_mixed;
	uint64_t frames_three_plus_mixed;
};

/* The page-cache analysis of the sets that include the page cache. */
struct timeline_cache;

int timeline_cache_open(struct timeline_cache **cache, struct mp_error *error);
/* The sink: it analyses a set only when its set info names the page cache. */
struct mp_sink timeline_cache_sink(struct timeline_cache *cache);
/* Fill row with the numbers of the set just fed, and start afresh for the next set. */
int timeline_cache_take_row(struct timeline_cache *cache, struct timeline_cache_row *row,
			    struct mp_error *error);
void timeline_cache_close(struct timeline_cache *cache);

/*
 * Whether the numbers of the row are unknown: the set has the page cache
 * but the kernel reported the residency of none of its files (a user without
 * the right to open them for writing; docs/pagecache.md).
 */
bool timeline_cache_unknown(const struct timeline_cache_row *row);

/* duplicate_frames as a percentage of frames, 0 without frames. */
double timeline_cache_duplicate_percent(const struct timeline_cache_row *row);

/* The CSV columns, each with a leading comma: the header, then the row's values. */
void timeline_cache_print_csv_header(FILE *out);
void timeline_cache_print_csv(FILE *out, const struct timeline_cache_row *row);
/* The "page_cache" member of a set's JSON object, with a leading comma; null when absent. */
void timeline_cache_print_json(FILE *out, const struct timeline_cache_row *row);

#endif /* MEMPRINT_CLI_TIMELINE_CACHE_H */
