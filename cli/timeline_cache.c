// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timeline_cache.c - the page-cache numbers of each set of a series, for
 * memprint timeline
 *
 * A gate in front of the page-cache analysis lets through only the sets
 * that include the page cache.  Those have set flag MP_SET_PAGE_CACHE
 * (tasks and cache joined, or the cache alone), or, in files written
 * before the flag, source MP_SOURCE_PAGECACHE.  So a series of task sets
 * costs the analysis nothing, and its output has no page-cache columns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_cache.h"

struct timeline_cache {
	struct mp_pagecache_analysis *analysis;
	struct mp_sink next;		/* the analysis's sink */
	bool open;			/* the current set includes the page cache */
};

static bool includes_page_cache(const struct mp_set_info *info)
{
	return (info->flags & MP_SET_PAGE_CACHE) || info->source == MP_SOURCE_PAGECACHE;
}

static int gate_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct timeline_cache *c = ctx;

	c->open = includes_page_cache(info);
	return c->open ? c->next.ops->begin_set(c->next.ctx, info) : 0;
}

/* Forward a call to the analysis while the set includes the page cache. */
#define GATE(c, op, ...)							\
	((c)->open && (c)->next.ops->op ? (c)->next.ops->op((c)->next.ctx, __VA_ARGS__) : 0)

static int gate_task(void *ctx, const struct mp_task *task)
{
	return GATE((struct timeline_cache *)ctx, task, task);
}

static int gate_region(void *ctx, const struct mp_region *region)
{
	return GATE((struct timeline_cache *)ctx, region, region);
}

static int gate_file(void *ctx, const struct mp_file *file)
{
	return GATE((struct timeline_cache *)ctx, file, file);
}

static int gate_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	return GATE((struct timeline_cache *)ctx, pages, pages, count);
}

static const struct mp_sink_ops gate_ops = {
	.begin_set = gate_begin_set,
	.task = gate_task,
	.region = gate_region,
	.file = gate_file,
	.pages = gate_pages,
};

int timeline_cache_open(struct timeline_cache **cache, struct mp_error *error)
{
	struct timeline_cache *c = calloc(1, sizeof(*c));
	int rc;

	*cache = NULL;
	if (!c)
		return -ENOMEM;
	rc = mp_pagecache_analysis_open(&c->analysis, NULL, error);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->next = mp_pagecache_analysis_sink(c->analysis);
	*cache = c;
	return 0;
}

struct mp_sink timeline_cache_sink(struct timeline_cache *cache)
{
	struct mp_sink sink = { .ops = &gate_ops, .ctx = cache, .error = cache->next.error };

	return sink;
}

static void copy_report(struct timeline_cache_row *row, const struct mp_pagecache_report *r)
{
	row->files = r->files;
	row->files_unknown = r->files_unknown;
	row->frames = r->frames;
	row->duplicate_frames = r->duplicate_frames;
	row->duplicate_frames_nonzero = r->duplicate_frames_nonzero;
	row->cache_duplicate_frames = r->cache_duplicate_frames;
	row->cache_duplicate_frames_nonzero = r->cache_duplicate_frames_nonzero;
	row->contents_three_plus = r->contents_three_plus;
	row->frames_three_plus = r->frames_three_plus;
	row->contents_three_plus_mixed = r->contents_three_plus_mixed;
	row->frames_three_plus_mixed = r->frames_three_plus_mixed;
}

int timeline_cache_take_row(struct timeline_cache *cache, struct timeline_cache_row *row,
			    struct mp_error *error)
{
	struct mp_pagecache_report *report;
	int rc;

	memset(row, 0, sizeof(*row));
	if (!cache->open)
		return 0;
	rc = mp_pagecache_analysis_report(cache->analysis, &report, error);
	if (rc < 0)
		return rc;
	row->present = true;
	copy_report(row, report);
	mp_pagecache_report_free(report);
	cache->open = false;
	return 0;
}

void timeline_cache_close(struct timeline_cache *cache)
{
	if (!cache)
		return;
	mp_pagecache_analysis_close(cache->analysis);
	free(cache);
}

bool timeline_cache_unknown(const struct timeline_cache_row *row)
{
	return row->present && !row->files && row->files_unknown;
}

double timeline_cache_duplicate_percent(const struct timeline_cache_row *row)
{
	return row->frames ? 100.0 * (double)row->duplicate_frames / (double)row->frames : 0;
}

/* ------------------------------------------------------------ output */

/* A column of the output: its key (CSV: "page_cache_" + key) and the offset of its value. */
struct cache_field {
	const char *key;
	size_t offset;			/* of a uint64_t in the row, or PERCENT */
};

#define PERCENT SIZE_MAX
#define ROW(member) { #member, offsetof(struct timeline_cache_row, member) }

static const struct cache_field fields[] = {
	ROW(files),
	ROW(files_unknown),
	ROW(frames),
	ROW(duplicate_frames),
	ROW(duplicate_frames_nonzero),
	{ "duplicate_percent", PERCENT },
	ROW(cache_duplicate_frames),
	ROW(cache_duplicate_frames_nonzero),
	ROW(contents_three_plus),
	ROW(frames_three_plus),
	ROW(contents_three_plus_mixed),
	ROW(frames_three_plus_mixed),
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

/*
 * Print a field's value.  A percentage of no frames, and every number of a
 * set whose residency is unknown, is empty in CSV and null in JSON.
 */
static void print_value(FILE *out, const struct timeline_cache_row *row,
			const struct cache_field *field, bool json)
{
	uint64_t value;
	bool count_of_files = !strcmp(field->key, "files") || !strcmp(field->key, "files_unknown");

	if ((timeline_cache_unknown(row) && !count_of_files) ||
	    (field->offset == PERCENT && !row->frames)) {
		if (json)
			fputs("null", out);
		return;
	}
	if (field->offset == PERCENT) {
		fprintf(out, "%.2f", timeline_cache_duplicate_percent(row));
		return;
	}
	memcpy(&value, (const char *)row + field->offset, sizeof(value));
	fprintf(out, "%" PRIu64, value);
}

void timeline_cache_print_csv_header(FILE *out)
{
	for (size_t f = 0; f < FIELD_COUNT; f++)
		fprintf(out, ",page_cache_%s", fields[f].key);
}

/* A set without the page cache has empty cells. */
void timeline_cache_print_csv(FILE *out, const struct timeline_cache_row *row)
{
	for (size_t f = 0; f < FIELD_COUNT; f++) {
		fputc(',', out);
		if (row->present)
			print_value(out, row, &fields[f], false);
	}
}

void timeline_cache_print_json(FILE *out, const struct timeline_cache_row *row)
{
	if (!row->present) {
		fputs(",\"page_cache\":null", out);
		return;
	}
	fputs(",\"page_cache\":{", out);
	for (size_t f = 0; f < FIELD_COUNT; f++) {
		fprintf(out, "%s\"%s\":", f ? "," : "", fields[f].key);
		print_value(out, row, &fields[f], true);
	}
	fputc('}', out);
}
