// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * join.c - a sink that joins the sets of several producers into one set
 *
 * memprint scan, snapshot and watch take the tasks and the page cache of
 * one moment with two producers (mp_procfs_scan() or mp_kmod_scan(), then
 * mp_pagecache_scan()), each of which makes a set of its own.  The join
 * passes them on as one set, so that a snapshot file keeps tasks and
 * cache together and every reader analyses them together.
 *
 * How the parts combine:
 *   - begin_set: the first part's set info passes, with the flags given
 *     to mp_join_open() added (MP_SET_PAGE_CACHE when a page-cache part
 *     follows, which the first begin_set cannot know yet).
 *   - a later part must have the same page size, hash and digest size,
 *     and agree on MP_SET_PFN_VALID and MP_SET_KEYED_HASH, because its
 *     digests and frames are compared with the first part's.  It may have
 *     MP_SET_PAGE_CACHE only when the joined set has it.  Its other flags
 *     (MP_SET_FROZEN, MP_SET_KPF_KSM_BROKEN) describe a task scan and are
 *     left out, as the task scan comes first.
 *   - task, region and file indexes of a later part are offset by the
 *     tasks, regions and files of the parts before it.
 *   - end_set: kept back until mp_join_finish(), which sends one end.
 *     Its duration runs from the start of the first part to the end of
 *     the last, its flags are the OR of the parts' flags, and its KSM
 *     counters are the last valid ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The flags a later part must share with the joined set. */
#define JOIN_AGREE_FLAGS (MP_SET_PFN_VALID | MP_SET_KEYED_HASH)

struct mp_join {
	struct mp_sink target;
	struct mp_error error;		/* the join's or the target's message, for the producer */
	uint32_t add_flags;		/* from mp_join_open() */

	struct mp_set_info info;	/* as sent to the target */
	struct mp_set_end end;		/* the parts' ends, merged */
	unsigned parts;			/* parts begun in this set */
	bool in_part;			/* between a part's begin_set and end_set */
	int64_t part_start_ns;		/* monotonic start of the current part */
	uint32_t task_base, region_base, file_base;	/* first index of this part */
	uint32_t task_count, region_count, file_count;	/* so far, all parts */

	struct mp_page *pages;		/* a later part's pages, indexes offset */
	size_t page_slots;
};

/* Pass on a failed target call, keeping its message where the producer looks. */
static int target_failed(struct mp_join *join, int code)
{
	const struct mp_error *error = join->target.error;

	if (error && error->message[0])
		mp_fail(&join->error, code, "%s", error->message);
	else
		mp_error_clear(&join->error);
	return code;
}

#define CALL_TARGET(join, op, ...)						\
	((join)->target.ops->op ? (join)->target.ops->op((join)->target.ctx, __VA_ARGS__) : 0)

static int check_part(struct mp_join *join, const struct mp_set_info *info)
{
	const struct mp_set_info *set = &join->info;

	if (join->in_part)
		return mp_fail(&join->error, -EINVAL, "cannot join sets: part %u began before "
			       "part %u ended", join->parts + 1, join->parts);
	if (info->page_size != set->page_size || info->hash != set->hash ||
	    info->digest_size != set->digest_size)
		return mp_fail(&join->error, -EINVAL, "cannot join sets: part %u has page hash "
			       "%s (%u bytes), the set %s (%u bytes)", join->parts + 1,
			       mp_hash_name(info->hash), info->digest_size,
			       mp_hash_name(set->hash), set->digest_size);
	if ((info->flags ^ set->flags) & JOIN_AGREE_FLAGS)
		return mp_fail(&join->error, -EINVAL, "cannot join sets: part %u differs in "
			       "readable PFNs or keyed hash", join->parts + 1);
	if (info->flags & ~set->flags & MP_SET_PAGE_CACHE)
		return mp_fail(&join->error, -EINVAL, "cannot join sets: part %u is a page-cache "
			       "scan, but the join was opened without MP_SET_PAGE_CACHE",
			       join->parts + 1);
	return 0;
}

static int join_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct mp_join *join = ctx;
	int rc;

	if (join->parts) {
		rc = check_part(join, info);
		if (rc < 0)
			return rc;
		join->part_start_ns = info->monotonic_ns;
		join->task_base = join->task_count;
		join->region_base = join->region_count;
		join->file_base = join->file_count;
		join->parts++;
		join->in_part = true;
		return 0;
	}
	join->info = *info;
	join->info.flags |= join->add_flags;
	join->part_start_ns = info->monotonic_ns;
	join->parts = 1;
	join->in_part = true;
	rc = CALL_TARGET(join, begin_set, &join->info);
	return rc < 0 ? target_failed(join, rc) : 0;
}

static int join_task(void *ctx, const struct mp_task *task)
{
	struct mp_join *join = ctx;
	int rc;

	join->task_count++;
	rc = CALL_TARGET(join, task, task);
	return rc < 0 ? target_failed(join, rc) : 0;
}

static int join_region(void *ctx, const struct mp_region *region)
{
	struct mp_join *join = ctx;
	struct mp_region moved = *region;
	int rc;

	join->region_count++;
	if (moved.task != MP_NONE)
		moved.task += join->task_base;
	rc = CALL_TARGET(join, region, &moved);
	return rc < 0 ? target_failed(join, rc) : 0;
}

static int join_file(void *ctx, const struct mp_file *file)
{
	struct mp_join *join = ctx;
	int rc;

	join->file_count++;
	rc = CALL_TARGET(join, file, file);
	return rc < 0 ? target_failed(join, rc) : 0;
}

/*
 * Offset the indexes of a later part's pages: region is a region index for
 * a task page and a file index for a page-cache page (task MP_NONE).
 */
static void offset_page(const struct mp_join *join, struct mp_page *page)
{
	if (page->task != MP_NONE) {
		page->task += join->task_base;
		if (page->region != MP_NONE)
			page->region += join->region_base;
	} else if (page->region != MP_NONE) {
		page->region += join->file_base;
	}
}

static int join_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct mp_join *join = ctx;
	bool offset = join->task_base || join->region_base || join->file_base;
	int rc;

	if (offset && count > join->page_slots) {
		struct mp_page *bigger = realloc(join->pages, count * sizeof(*bigger));

		if (!bigger)
			return mp_fail(&join->error, -ENOMEM, "cannot join sets: out of memory "
				       "for %zu page records", count);
		join->pages = bigger;
		join->page_slots = count;
	}
	if (offset) {
		memcpy(join->pages, pages, count * sizeof(*pages));
		for (size_t i = 0; i < count; i++)
			offset_page(join, &join->pages[i]);
		pages = join->pages;
	}
	rc = CALL_TARGET(join, pages, pages, count);
	return rc < 0 ? target_failed(join, rc) : 0;
}

static int join_task_end(void *ctx, const struct mp_task_end *end)
{
	struct mp_join *join = ctx;
	struct mp_task_end moved = *end;
	int rc;

	moved.task += join->task_base;
	rc = CALL_TARGET(join, task_end, &moved);
	return rc < 0 ? target_failed(join, rc) : 0;
}

/* Hold a part's end: only mp_join_finish() ends the joined set. */
static int join_end_set(void *ctx, const struct mp_set_end *end)
{
	struct mp_join *join = ctx;
	int64_t part_end_ns = join->part_start_ns + (int64_t)end->duration_ns;

	join->end.flags |= end->flags;
	if (part_end_ns > join->info.monotonic_ns)
		join->end.duration_ns = (uint64_t)(part_end_ns - join->info.monotonic_ns);
	if (end->ksm.valid)
		join->end.ksm = end->ksm;
	join->in_part = false;
	return 0;
}

static const struct mp_sink_ops join_ops = {
	.begin_set = join_begin_set,
	.task = join_task,
	.region = join_region,
	.file = join_file,
	.pages = join_pages,
	.task_end = join_task_end,
	.end_set = join_end_set,
};

int mp_join_open(struct mp_join **join, const struct mp_sink *target, uint32_t set_flags)
{
	struct mp_join *j = calloc(1, sizeof(*j));

	*join = NULL;
	if (!j)
		return -ENOMEM;
	j->target = *target;
	j->add_flags = set_flags;
	*join = j;
	return 0;
}

struct mp_sink mp_join_sink(struct mp_join *join)
{
	struct mp_sink sink = { .ops = &join_ops, .ctx = join, .error = &join->error };

	return sink;
}

/* Forget the set just ended, so that the next begin_set starts a new one. */
static void start_afresh(struct mp_join *join)
{
	join->parts = 0;
	join->in_part = false;
	join->task_base = join->region_base = join->file_base = 0;
	join->task_count = join->region_count = join->file_count = 0;
	memset(&join->end, 0, sizeof(join->end));
	memset(&join->info, 0, sizeof(join->info));
}

int mp_join_finish(struct mp_join *join, struct mp_error *error)
{
	int rc;

	if (!join->parts)
		return mp_fail(error, -EINVAL, "cannot end a joined set: no part began");
	if (join->in_part)
		return mp_fail(error, -EINVAL, "cannot end a joined set: part %u has not ended",
			       join->parts);
	rc = CALL_TARGET(join, end_set, &join->end);
	start_afresh(join);
	if (rc < 0 && join->target.error && join->target.error->message[0])
		return mp_fail(error, rc, "%s", join->target.error->message);
	if (rc < 0)
		return mp_fail(error, rc, "cannot end a joined set: %s", mp_strerror(rc));
	return 0;
}

void mp_join_close(struct mp_join *join)
{
	if (!join)
		return;
	free(join->pages);
	free(join);
}
