// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_report.c - group the collected pages into frames and contents
 *
 * Entries with the same frame identity are one frame: a file page that a
 * task maps is the cached frame itself, not a copy of it.  Frames with the
 * same digest form a content group, and three numbers come from each group:
 * duplicates inside the cache (cache frames - 1, attributed to file pairs),
 * anonymous task frames that repeat a cached page, and whether the content
 * is held three or more times across tasks and cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pagecache/pagecache_internal.h"

struct pc_frame {
	uint8_t digest[MP_PC_KEY_BYTES];
	bool cache, task, anon, zero;
	bool repeats_cache;		/* an anonymous task frame equal to a cached page */
	uint32_t file;			/* owner of the cache entry, when cache */
	uint64_t index;			/* its page offset */
};

/* A duplicate cache frame: file first holds the content, file second the copy. */
struct pc_pair {
	uint32_t first, second;
};

/* A task's use of a frame. */
struct pc_use {
	uint32_t task, frame;
};

static int compare_identity(const void *x, const void *y)
{
	const struct mp_pc_entry *a = x, *b = y;

	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	if (a->w1 != b->w1)
		return a->w1 < b->w1 ? -1 : 1;
	if (a->w2 != b->w2)
		return a->w2 < b->w2 ? -1 : 1;
	if (a->w3 != b->w3)
		return a->w3 < b->w3 ? -1 : 1;
	return (b->cache > a->cache) - (b->cache < a->cache);	/* cache entries first */
}

static bool same_identity(const struct mp_pc_entry *a, const struct mp_pc_entry *b)
{
	return a->tag == b->tag && a->w1 == b->w1 && a->w2 == b->w2 && a->w3 == b->w3;
}

/* Number the frames; fills frames (one per distinct identity) and returns their count. */
static size_t assign_frames(struct mp_pagecache_analysis *an, struct pc_frame *frames)
{
	size_t count = 0;

	if (!an->entry_count)
		return 0;	/* entries may be NULL: no qsort on it */
	qsort(an->entries, an->entry_count, sizeof(*an->entries), compare_identity);
	for (size_t i = 0; i < an->entry_count; i++) {
		struct mp_pc_entry *e = &an->entries[i];
		struct pc_frame *f;

		if (i == 0 || !same_identity(e, &an->entries[i - 1])) {
			f = &frames[count++];
			memset(f, 0, sizeof(*f));
			/* Cache entries sort first: their digest stands for the frame. */
			memcpy(f->digest, e->digest, sizeof(f->digest));
			f->zero = e->zero;
		}
		f = &frames[count - 1];
		e->frame = (uint32_t)(count - 1);
		if (e->cache && !f->cache) {
			f->cache = true;
			f->file = e->owner;
			f->index = e->index;
		} else if (!e->cache) {
			f->task = true;
			f->anon |= e->anon;
		}
	}
	return count;
}

static const struct pc_frame *sort_frames;

static int compare_digest(const void *x, const void *y)
{
	const struct pc_frame *a = &sort_frames[*(const uint32_t *)x];
	const struct pc_frame *b = &sort_frames[*(const uint32_t *)y];

	return memcmp(a->digest, b->digest, sizeof(a->digest));
}

/* Whether cache frame a comes before b: the earlier file path, then the lower offset. */
static bool cache_before(const struct mp_pagecache_analysis *an, const struct pc_frame *a,
			 const struct pc_frame *b)
{
	int order = strcmp(an->files[a->file].path, an->files[b->file].path);

	if (order)
		return order < 0;
	if (a->file != b->file)
		return a->file < b->file;
	return a->index < b->index;
}

struct pc_totals {
	struct mp_pagecache_report *report;
	struct pc_pair *pairs;
	size_t pair_count;
};

/* Count one content group: frames order[0..n) share a digest. */
static void count_group(struct mp_pagecache_analysis *an, struct pc_frame *frames,
			const uint32_t *order, size_t n, struct pc_totals *t)
{
	struct mp_pagecache_report *r = t->report;
	const struct pc_frame *first = NULL;
	size_t cached = 0, tasks = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pc_frame *f = &frames[order[i]];

		if (!f->cache) {
			tasks++;
			continue;
		}
		cached++;
		if (!first || cache_before(an, f, first))
			first = f;
	}

	if (cached >= 2) {
		r->duplicate_frames += cached - 1;
		if (!first->zero)
			r->duplicate_frames_nonzero += cached - 1;
		for (size_t i = 0; i < n; i++) {
			const struct pc_frame *f = &frames[order[i]];

			if (f->cache && f != first)
				t->pairs[t->pair_count++] = (struct pc_pair){ first->file, f->file };
		}
	}
	for (size_t i = 0; cached && i < n; i++) {
		struct pc_frame *f = &frames[order[i]];

		if (f->cache || !f->anon)
			continue;
		f->repeats_cache = true;
		r->cache_duplicate_frames++;
		if (!f->zero)
			r->cache_duplicate_frames_nonzero++;
	}
	if (cached + tasks >= 3) {
		r->contents_three_plus++;
		r->frames_three_plus += cached + tasks;
		if (cached && tasks) {
			r->contents_three_plus_mixed++;
			r->frames_three_plus_mixed += cached + tasks;
		}
	}
}

/* Walk the content groups; fills the set-wide numbers and the pair list. */
static int count_groups(struct mp_pagecache_analysis *an, struct pc_frame *frames,
			size_t frame_count, struct pc_totals *t)
{
	uint32_t *order = malloc((frame_count + 1) * sizeof(*order));
	size_t start = 0;

	t->pairs = malloc((frame_count + 1) * sizeof(*t->pairs));
	if (!order || !t->pairs) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < frame_count; i++) {
		order[i] = (uint32_t)i;
		if (frames[i].cache) {
			t->report->frames++;
			t->report->zero_filled_frames += frames[i].zero;
		}
		if (frames[i].task)
			t->report->task_frames++;
	}
	sort_frames = frames;
	qsort(order, frame_count, sizeof(*order), compare_digest);
	for (size_t i = 1; i <= frame_count; i++) {
		if (i < frame_count && !compare_digest(&order[i - 1], &order[i]))
			continue;
		count_group(an, frames, order + start, i - start, t);
		start = i;
	}
	free(order);
	return 0;
}

static int compare_use(const void *x, const void *y)
{
	const struct pc_use *a = x, *b = y;

	if (a->task != b->task)
		return a->task < b->task ? -1 : 1;
	return (a->frame > b->frame) - (a->frame < b->frame);
}

/* Per task: its distinct frames, and those that repeat a cached page. */
static int count_tasks(struct mp_pagecache_analysis *an, const struct pc_frame *frames)
{
	struct pc_use *uses = malloc((an->entry_count + 1) * sizeof(*uses));
	size_t n = 0;

	if (!uses)
		return -ENOMEM;
	for (size_t i = 0; i < an->entry_count; i++) {
		if (!an->entries[i].cache)
			uses[n++] = (struct pc_use){ an->entries[i].owner, an->entries[i].frame };
	}
	qsort(uses, n, sizeof(*uses), compare_use);
	for (size_t i = 0; i < n; i++) {
		struct mp_pagecache_task *task = &an->tasks[uses[i].task];
		const struct pc_frame *f = &frames[uses[i].frame];

		if (i > 0 && !compare_use(&uses[i - 1], &uses[i]))
			continue;
		task->frames++;
		if (f->repeats_cache) {
			task->cache_duplicate_frames++;
			if (!f->zero)
				task->cache_duplicate_frames_nonzero++;
		}
	}
	free(uses);
	return 0;
}

static int compare_pair(const void *x, const void *y)
{
	const struct pc_pair *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (a->second > b->second) - (a->second < b->second);
}

static int compare_pages(const void *x, const void *y)
{
	const struct mp_pagecache_pair *a = x, *b = y;
	int order;

	if (a->pages != b->pages)
		return a->pages > b->pages ? -1 : 1;
	order = strcmp(a->first, b->first);
	return order ? order : strcmp(a->second, b->second);
}

/* Merge the pair list into counts per (first, second) and keep the top ones. */
static int summarize_pairs(struct mp_pagecache_analysis *an, struct pc_totals *t)
{
	struct mp_pagecache_report *r = t->report;
	struct mp_pagecache_pair *all;
	size_t n = 0;

	qsort(t->pairs, t->pair_count, sizeof(*t->pairs), compare_pair);
	all = calloc(t->pair_count + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < t->pair_count; i++) {
		if (i > 0 && !compare_pair(&t->pairs[i - 1], &t->pairs[i])) {
			all[n - 1].pages++;
			continue;
		}
		all[n].first = an->files[t->pairs[i].first].path;
		all[n].second = an->files[t->pairs[i].second].path;
		all[n].pages = 1;
		n++;
	}
	qsort(all, n, sizeof(*all), compare_pages);
	r->pair_count = n;
	r->pairs_shown = n < an->options.top ? n : an->options.top;
	r->pairs = all;
	for (size_t i = 0; i < r->pairs_shown; i++) {
		char *first = strdup(all[i].first), *second = strdup(all[i].second);

		if (!first || !second) {
			free(first);
			free(second);
			r->pairs_shown = i;	/* only the copies made so far are freed */
			return -ENOMEM;
		}
		all[i].first = first;
		all[i].second = second;
	}
	return 0;
}

/* Copy the per-task numbers and the file counts into the report. */
static int fill_files_and_tasks(struct mp_pagecache_analysis *an, struct mp_pagecache_report *r)
{
	for (size_t i = 0; i < an->file_count; i++) {
		if (an->files[i].flags & MP_FILE_UNKNOWN)
			r->files_unknown++;
		else
			r->files++;
	}
	r->tasks = calloc(an->task_count + 1, sizeof(*r->tasks));
	if (!r->tasks)
		return -ENOMEM;
	if (an->task_count)
		memcpy(r->tasks, an->tasks, an->task_count * sizeof(*r->tasks));
	r->task_count = an->task_count;
	return 0;
}

static int build_report(struct mp_pagecache_analysis *an, struct mp_pagecache_report *r)
{
	struct pc_totals totals = { .report = r };
	struct pc_frame *frames;
	size_t frame_count;
	int rc;

	r->pfn_valid = an->pfn_valid;

	/*
	 * Without a cached file every count is 0: skip sorting the task
	 * pages, which would cost analyze and timeline most of their time.
	 */
	if (!an->file_count)
		return fill_files_and_tasks(an, r);

	frames = malloc((an->entry_count + 1) * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	frame_count = assign_frames(an, frames);
	rc = count_groups(an, frames, frame_count, &totals);
	if (rc == 0)
		rc = count_tasks(an, frames);
	if (rc == 0)
		rc = summarize_pairs(an, &totals);
	if (rc == 0)
		rc = fill_files_and_tasks(an, r);
	free(totals.pairs);
	free(frames);
	return rc;
}

int mp_pagecache_analysis_report(struct mp_pagecache_analysis *analysis,
				 struct mp_pagecache_report **report, struct mp_error *error)
{
	struct mp_pagecache_report *r = calloc(1, sizeof(*r));
	int rc;

	*report = NULL;
	if (!r)
		return mp_fail_errno(error, -ENOMEM, "cannot compute the page-cache report");
	rc = build_report(analysis, r);
	mp_pc_analysis_reset(analysis);
	if (rc < 0) {
		mp_pagecache_report_free(r);
		return mp_fail_errno(error, rc, "cannot compute the page-cache report");
	}
	*report = r;
	return 0;
}

void mp_pagecache_report_free(struct mp_pagecache_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->pairs_shown; i++) {
		free(report->pairs[i].first);
		free(report->pairs[i].second);
	}
	free(report->pairs);
	free(report->tasks);
	free(report);
}
