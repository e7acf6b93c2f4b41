// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_analysis.c - redundancy inside the page cache, and task pages
 * that repeat cached file pages
 *
 * The sink keeps one small entry per page record (digest, frame identity,
 * owner) of every set fed since the last report, so that a procfs set and
 * a page-cache set taken together form one picture.  A frame is a PFN where
 * PFNs are valid.  Without them, a cached page is identified by (device,
 * inode, page offset), and a task page in a file mapping by the same triple
 * computed from its region, so a mapped file page is still not counted
 * as its own duplicate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pagecache/pagecache_internal.h"

/* Grow *array to hold one more element of size bytes. */
static int grow(void *array, size_t *slots, size_t count, size_t size)
{
	void **p = array;
	size_t n;
	void *bigger;

	if (count < *slots)
		return 0;
	n = *slots ? 2 * *slots : 64;
	bigger = realloc(*p, n * size);
	if (!bigger)
		return -ENOMEM;
	*p = bigger;
	*slots = n;
	return 0;
}

/* ------------------------------------------------------------------ sink */

static int on_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct mp_pagecache_analysis *a = ctx;

	a->file_base = a->file_count;
	a->task_base = a->task_count;
	a->region_base = a->region_count;
	a->digest_size = info->digest_size < MP_PC_KEY_BYTES ? info->digest_size : MP_PC_KEY_BYTES;
	a->pfn_valid = (a->sets_seen ? a->pfn_valid : true) && (info->flags & MP_SET_PFN_VALID);
	a->sets_seen = true;
	return 0;
}

static int on_task(void *ctx, const struct mp_task *task)
{
	struct mp_pagecache_analysis *a = ctx;
	struct mp_pagecache_task *t;

	if (grow(&a->tasks, &a->task_slots, a->task_count, sizeof(*a->tasks)) < 0)
		return -ENOMEM;
	t = &a->tasks[a->task_count++];
	memset(t, 0, sizeof(*t));
	t->pid = task->pid;
	memcpy(t->comm, task->comm, sizeof(t->comm));
	return 0;
}

static int on_region(void *ctx, const struct mp_region *region)
{
	struct mp_pagecache_analysis *a = ctx;
	struct mp_pc_region *r;

	if (grow(&a->regions, &a->region_slots, a->region_count, sizeof(*a->regions)) < 0)
		return -ENOMEM;
	r = &a->regions[a->region_count++];
	r->kind = region->kind;
	r->start = region->start;
	r->offset = region->offset;
	r->dev = region->dev;
	r->inode = region->inode;
	return 0;
}

static int on_file(void *ctx, const struct mp_file *file)
{
	struct mp_pagecache_analysis *a = ctx;
	struct mp_pc_file *f;

	if (grow(&a->files, &a->file_slots, a->file_count, sizeof(*a->files)) < 0)
		return -ENOMEM;
	f = &a->files[a->file_count];
	memset(f, 0, sizeof(*f));
	f->path = strndup(file->path ? file->path : "", file->path_size);
	if (!f->path)
		return -ENOMEM;
	f->dev = file->dev;
	f->inode = file->inode;
	f->flags = file->flags;
	a->file_count++;
	return 0;
}

static bool anonymous_kind(uint32_t kind)
{
	return kind == MP_REGION_ANON || kind == MP_REGION_ANON_NAMED ||
	       kind == MP_REGION_HEAP || kind == MP_REGION_STACK;
}

/* Fill the frame identity and owner of a task page; false when it is no frame. */
static bool task_entry(struct mp_pagecache_analysis *a, const struct mp_page *page,
		       struct mp_pc_entry *e)
{
	const struct mp_pc_region *r = NULL;
	bool pfn = (page->flags & MP_PAGE_PFN_VALID) && a->pfn_valid;

	if (pfn && (page->kpageflags & (1ull << MP_KPF_ZERO_PAGE)))
		return false;	/* the kernel zero page is merged already */
	if (page->region != MP_NONE && a->region_base + page->region < a->region_count)
		r = &a->regions[a->region_base + page->region];

	e->owner = (uint32_t)(a->task_base + page->task);
	e->anon = pfn ? (page->kpageflags & (1ull << MP_KPF_ANON)) != 0
		      : (r && anonymous_kind(r->kind));
	if (pfn) {
		e->tag = MP_PC_TAG_PFN;
		e->w1 = page->pfn;
	} else if (r && (r->kind == MP_REGION_FILE || r->kind == MP_REGION_SHMEM) && !e->anon) {
		e->tag = MP_PC_TAG_FILE_PAGE;
		e->w1 = r->dev;
		e->w2 = r->inode;
		e->w3 = r->offset / MP_PAGE_SIZE + page->index - r->start / MP_PAGE_SIZE;
	} else {
		e->tag = MP_PC_TAG_UNIQUE;
	}
	return true;
}

static void cache_entry(struct mp_pagecache_analysis *a, const struct mp_page *page,
			struct mp_pc_entry *e)
{
	const struct mp_pc_file *f = &a->files[a->file_base + page->region];

	e->cache = true;
	e->owner = (uint32_t)(a->file_base + page->region);
	if ((page->flags & MP_PAGE_PFN_VALID) && a->pfn_valid) {
		e->tag = MP_PC_TAG_PFN;
		e->w1 = page->pfn;
	} else {
		e->tag = MP_PC_TAG_FILE_PAGE;
		e->w1 = f->dev;
		e->w2 = f->inode;
		e->w3 = page->index;
	}
	e->index = page->index;
}

static int on_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct mp_pagecache_analysis *a = ctx;

	for (size_t i = 0; i < count; i++) {
		const struct mp_page *page = &pages[i];
		struct mp_pc_entry e = { 0 };

		/* A page that moved while it was read cannot be paired with its frame. */
		if (page->flags & (MP_PAGE_NO_DIGEST | MP_PAGE_MOVED))
			continue;
		if (page->task != MP_NONE) {
			if (a->task_base + page->task >= a->task_count || !task_entry(a, page, &e))
				continue;
		} else if (page->region != MP_NONE && a->file_base + page->region < a->file_count) {
			cache_entry(a, page, &e);
		} else {
			continue;	/* a physical record: neither a task's nor a file's */
		}
		memcpy(e.digest, page->digest, a->digest_size);
		e.zero = page->flags & MP_PAGE_ZERO_FILLED;
		if (e.tag == MP_PC_TAG_UNIQUE)
			e.w1 = a->entry_count;
		if (grow(&a->entries, &a->entry_slots, a->entry_count, sizeof(e)) < 0)
			return -ENOMEM;
		a->entries[a->entry_count++] = e;
	}
	return 0;
}

static const struct mp_sink_ops sink_ops = {
	.begin_set = on_begin_set,
	.task = on_task,
	.region = on_region,
	.file = on_file,
	.pages = on_pages,
};

int mp_pagecache_analysis_open(struct mp_pagecache_analysis **analysis,
			       const struct mp_pagecache_analysis_options *options,
			       struct mp_error *error)
{
	struct mp_pagecache_analysis *a = calloc(1, sizeof(*a));

	*analysis = NULL;
	if (!a)
		return mp_fail_errno(error, -ENOMEM, "cannot start the page-cache analysis");
	if (options)
		a->options = *options;
	if (!a->options.top)
		a->options.top = 10;
	*analysis = a;
	return 0;
}

struct mp_sink mp_pagecache_analysis_sink(struct mp_pagecache_analysis *analysis)
{
	struct mp_sink sink = { &sink_ops, analysis, NULL };

	return sink;
}

void mp_pc_analysis_reset(struct mp_pagecache_analysis *a)
{
	for (size_t i = 0; i < a->file_count; i++)
		free(a->files[i].path);
	a->entry_count = a->file_count = a->task_count = a->region_count = 0;
	a->file_base = a->task_base = a->region_base = 0;
	a->sets_seen = false;
}

void mp_pagecache_analysis_close(struct mp_pagecache_analysis *analysis)
{
	if (!analysis)
		return;
	mp_pc_analysis_reset(analysis);
	free(analysis->entries);
	free(analysis->files);
	free(analysis->tasks);
	free(analysis->regions);
	free(analysis);
}

