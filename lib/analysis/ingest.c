// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ingest.c - the analysis sink: map each set's indexes to global ids and
 * keep one slot per page record
 *
 * Task, region and file indexes count from 0 in each set, in the order the
 * set gives them, so several sets fed before one report become one set by
 * mapping each set's indexes to ids of the whole report.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

static int grow_array(void **array, size_t *capacity, size_t need, size_t size)
{
	size_t n = *capacity ? *capacity : 16;
	void *p;

	if (need <= *capacity)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*capacity = n;
	return 0;
}

/* ------------------------------------------------------------------ files */

static uint64_t hash_file(uint64_t dev, uint64_t inode, const char *path, size_t size)
{
	uint64_t h = dev * 0x100000001b3ull ^ inode;

	for (size_t i = 0; i < size; i++)
		h = (h ^ (unsigned char)path[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int rehash_files(struct mp_analysis *a)
{
	size_t size = a->file_index_size ? a->file_index_size * 2 : 1024;
	uint32_t *index = calloc(size, sizeof(*index));

	if (!index)
		return -ENOMEM;
	for (size_t id = 1; id < a->file_count; id++) {
		size_t i = a->files[id].hash & (size - 1);

		while (index[i])
			i = (i + 1) & (size - 1);
		index[i] = (uint32_t)id;
	}
	free(a->file_index);
	a->file_index = index;
	a->file_index_size = size;
	return 0;
}

/*
 * Find or add a file.  The path is part of its identity because a SysV
 * segment shows its shmid as the inode, on the same device as memfd files.
 */
int analysis_add_file(struct mp_analysis *a, uint64_t dev, uint64_t inode,
		      const char *path, size_t path_size, uint32_t *id)
{
	uint64_t h = hash_file(dev, inode, path, path_size);
	struct file_info *f;
	size_t i;
	int rc;

	if (a->file_count * 2 >= a->file_index_size) {
		rc = rehash_files(a);
		if (rc < 0)
			return rc;
	}
	for (i = h & (a->file_index_size - 1); a->file_index[i];
	     i = (i + 1) & (a->file_index_size - 1)) {
		f = &a->files[a->file_index[i]];
		if (f->hash == h && f->dev == dev && f->inode == inode &&
		    f->path_size == path_size && !memcmp(f->path, path, path_size)) {
			*id = a->file_index[i];
			return 0;
		}
	}

	if (a->file_count > RECORD_FILE_MAX)
		return -EOVERFLOW;
	rc = grow_array((void **)&a->files, &a->file_capacity, a->file_count + 1, sizeof(*f));
	if (rc < 0)
		return rc;
	f = &a->files[a->file_count];
	memset(f, 0, sizeof(*f));
	f->path = malloc(path_size + 1);
	if (!f->path)
		return -ENOMEM;
	memcpy(f->path, path, path_size);
	f->path[path_size] = '\0';
	f->path_size = path_size;
	f->dev = dev;
	f->inode = inode;
	f->hash = h;
	a->file_index[i] = (uint32_t)a->file_count;
	*id = (uint32_t)a->file_count++;
	return 0;
}

/* ------------------------------------------------------------ sink calls */

static int analysis_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct mp_analysis *a = ctx;

	if (a->sets && (info->hash != a->info.hash || info->digest_size != a->info.digest_size))
		return mp_fail(a->error, -EINVAL,
			       "cannot analyse sets together: their page hashes differ (%s, %s)",
			       mp_hash_name(a->info.hash), mp_hash_name(info->hash));
	if (info->digest_size > MP_DIGEST_MAX)
		return mp_fail(a->error, -EINVAL, "invalid set: digest size %u is over %u bytes",
			       info->digest_size, MP_DIGEST_MAX);
	if (!a->sets) {
		a->info = *info;
		a->pfn_valid = true;
	}
	if (!(info->flags & MP_SET_PFN_VALID))
		a->pfn_valid = false;
	a->ksm_end = info->ksm;
	a->ksm_broken = info->flags & MP_SET_KPF_KSM_BROKEN;
	a->digest_size = info->digest_size;
	a->set_task_count = a->set_region_count = a->set_file_count = 0;
	a->in_set = true;
	a->sets++;
	return 0;
}

static int analysis_task(void *ctx, const struct mp_task *task)
{
	struct mp_analysis *a = ctx;
	struct mp_task_totals *t;

	if (grow_array((void **)&a->tasks, &a->task_capacity, a->task_count + 1,
		       sizeof(*a->tasks)) < 0 ||
	    grow_array((void **)&a->set_tasks, &a->set_task_capacity, a->set_task_count + 1,
		       sizeof(*a->set_tasks)) < 0)
		return mp_fail(a->error, -ENOMEM, "analysis: out of memory for task %d", task->pid);
	if (a->task_count >= MP_NONE)
		return mp_fail(a->error, -EOVERFLOW, "analysis: too many tasks");

	t = &a->tasks[a->task_count].out;
	memset(t, 0, sizeof(*t));
	t->pid = task->pid;
	memcpy(t->comm, task->comm, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = '\0';
	t->ksm = task->ksm;
	t->status = MP_TASK_COMPLETE;
	a->set_tasks[a->set_task_count++] = (uint32_t)a->task_count++;
	return 0;
}

static bool region_is_file(const struct mp_region *region)
{
	return region->path_size > 0 &&
	       (region->kind == MP_REGION_FILE || region->kind == MP_REGION_SHMEM ||
		region->kind == MP_REGION_DELETED);
}

static int analysis_region(void *ctx, const struct mp_region *region)
{
	struct mp_analysis *a = ctx;
	struct region_info *r;
	int rc;

	rc = grow_array((void **)&a->set_regions, &a->set_region_capacity,
			a->set_region_count + 1, sizeof(*a->set_regions));
	if (rc < 0)
		return mp_fail(a->error, rc, "analysis: out of memory for regions");
	r = &a->set_regions[a->set_region_count];
	r->kind = region->kind;
	r->file = 0;
	if (region_is_file(region)) {
		rc = analysis_add_file(a, region->dev, region->inode, region->path,
				       region->path_size, &r->file);
		if (rc < 0)
			return mp_fail_errno(a->error, rc, "analysis: cannot add file %.*s",
					     (int)region->path_size, region->path);
	}
	a->set_region_count++;
	return 0;
}

static int analysis_file(void *ctx, const struct mp_file *file)
{
	struct mp_analysis *a = ctx;
	uint32_t id;
	int rc;

	rc = grow_array((void **)&a->set_files, &a->set_file_capacity, a->set_file_count + 1,
			sizeof(*a->set_files));
	if (rc == 0)
		rc = analysis_add_file(a, file->dev, file->inode, file->path, file->path_size, &id);
	if (rc < 0)
		return mp_fail_errno(a->error, rc, "analysis: cannot add file %.*s",
				     (int)file->path_size, file->path);
	a->set_files[a->set_file_count++] = id;
	return 0;
}

static int analysis_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	return analysis_ingest_pages(ctx, pages, count);
}

static int analysis_task_end(void *ctx, const struct mp_task_end *end)
{
	struct mp_analysis *a = ctx;

	if (end->task >= a->set_task_count)
		return mp_fail(a->error, -EINVAL, "invalid set: task end for task %u of %zu",
			       end->task, a->set_task_count);
	a->tasks[a->set_tasks[end->task]].out.status = end->status;
	if (end->status != MP_TASK_COMPLETE)
		a->partial_tasks++;
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		a->skipped[i] += end->skipped[i];
	return 0;
}

static int analysis_end_set(void *ctx, const struct mp_set_end *end)
{
	struct mp_analysis *a = ctx;

	if (end->ksm.valid)
		a->ksm_end = end->ksm;
	a->in_set = false;
	return 0;
}

static const struct mp_sink_ops analysis_ops = {
	.begin_set = analysis_begin_set,
	.task = analysis_task,
	.region = analysis_region,
	.file = analysis_file,
	.pages = analysis_pages,
	.task_end = analysis_task_end,
	.end_set = analysis_end_set,
};

struct mp_sink mp_analysis_sink(struct mp_analysis *analysis)
{
	struct mp_sink sink = {
		.ops = &analysis_ops,
		.ctx = analysis,
		.error = analysis->error,
	};

	return sink;
}

/* ------------------------------------------------------------ page records */

static bool kpf(const struct mp_page *page, unsigned bit)
{
	return (page->kpageflags >> bit) & 1;
}

/* The kind of a frame with kpageflags; shmem is swap-backed but not anonymous. */
static enum mp_frame_kind kind_from_kpageflags(const struct mp_page *page, uint32_t region_kind,
					       bool ksm_broken)
{
	if (kpf(page, MP_KPF_KSM) && !ksm_broken)
		return MP_KIND_KSM;
	if (kpf(page, MP_KPF_ANON))
		return MP_KIND_ANON;
	if (region_kind == MP_REGION_KERNEL)
		return MP_KIND_KERNEL;
	if (kpf(page, MP_KPF_SWAPBACKED))
		return MP_KIND_SHMEM;
	/* A physical page that no region names and is off the LRU: slab, page tables... */
	if (!region_kind && !kpf(page, MP_KPF_LRU))
		return MP_KIND_KERNEL;
	return MP_KIND_FILE;
}

/*
 * The kind of a frame without kpageflags, from its region and pagemap bit
 * 61 (file page or shared anonymous): a private page of a file mapping that
 * was written to is anonymous.  An image page with no region counts as
 * anonymous, as guest RAM is anonymous memory of the hypervisor.
 */
static enum mp_frame_kind kind_from_region(const struct mp_page *page, uint32_t region_kind)
{
	switch (region_kind) {
	case MP_REGION_KERNEL:
		return MP_KIND_KERNEL;
	case MP_REGION_SHMEM:
		return MP_KIND_SHMEM;
	case MP_REGION_FILE:
	case MP_REGION_DELETED:
		if (page->task != MP_NONE && !(page->pagemap & MP_PM_FILE_SHARED))
			return MP_KIND_ANON;
		return MP_KIND_FILE;
	case 0:
		return MP_KIND_ANON;
	default:
		return (page->pagemap & MP_PM_FILE_SHARED) ? MP_KIND_SHMEM : MP_KIND_ANON;
	}
}

/* Region kind of a page-cache page, which names a struct mp_file. */
#define REGION_PAGECACHE MP_REGION_FILE

static int resolve_owner(struct mp_analysis *a, const struct mp_page *page,
			 uint32_t *task, uint32_t *file, uint32_t *region_kind)
{
	*task = MP_NONE;
	*file = 0;
	*region_kind = 0;
	if (page->task != MP_NONE) {
		if (page->task >= a->set_task_count)
			return mp_fail(a->error, -EINVAL, "invalid set: page of task %u of %zu",
				       page->task, a->set_task_count);
		*task = a->set_tasks[page->task];
		if (page->region == MP_NONE)
			return 0;
		if (page->region >= a->set_region_count)
			return mp_fail(a->error, -EINVAL, "invalid set: page of region %u of %zu",
				       page->region, a->set_region_count);
		*file = a->set_regions[page->region].file;
		*region_kind = a->set_regions[page->region].kind;
	} else if (page->region != MP_NONE) {
		if (page->region >= a->set_file_count)
			return mp_fail(a->error, -EINVAL, "invalid set: page of file %u of %zu",
				       page->region, a->set_file_count);
		*file = a->set_files[page->region];
		*region_kind = REGION_PAGECACHE;
	}
	return 0;
}

/*
 * Compute mp_digest_key() inline for the common digests of 8 bytes or
 * more, with one load: GCC 12 at -O2 compiles the byte loop of
 * mp_load_le64() to 58 instructions.
 */
static inline uint64_t digest_key(const uint8_t *digest, size_t size)
{
	uint64_t v;

	if (size < 8)
		return mp_digest_key(digest, size);
	memcpy(&v, digest, sizeof(v));
	return le64toh(v);
}

/* A frame of one page record with no PFN to pair it: its record, at once. */
static int push_lone_frame(struct mp_analysis *a, uint64_t key, uint32_t task, uint32_t file,
			   uint32_t flags)
{
	enum mp_frame_kind kind = flags & ENTRY_KIND_MASK;
	bool eligible = (flags & ENTRY_MERGEABLE) && (kind == MP_KIND_ANON || kind == MP_KIND_KSM);
	struct slot s;

	s.sort = key;
	s.record.task = task;
	s.record.file_flags = file << RECORD_FILE_SHIFT | kind | RECORD_FRAME |
			      ((flags & ENTRY_ZERO) ? RECORD_ZERO : 0);
	s.record.mappings = task != MP_NONE;
	s.record.eligible = task != MP_NONE && eligible;
	return bucket_push(&a->groups[key_bucket(key)], &s);
}

static int ingest_page(struct mp_analysis *a, const struct mp_page *page)
{
	bool pfn_valid = page->flags & MP_PAGE_PFN_VALID;
	uint32_t task, file, region_kind, flags;
	uint64_t key;
	struct slot s;
	int rc;

	if (page->flags & MP_PAGE_MOVED) {
		a->moved_pages++;
		return 0;
	}
	rc = resolve_owner(a, page, &task, &file, &region_kind);
	if (rc < 0)
		return rc;
	if (pfn_valid && task != MP_NONE && kpf(page, MP_KPF_ZERO_PAGE)) {
		a->zero_page_mappings++;
		a->tasks[task].out.totals.zero_page_mappings++;
		return 0;
	}

	flags = pfn_valid ? kind_from_kpageflags(page, region_kind, a->ksm_broken) :
			    kind_from_region(page, region_kind);
	if (page->flags & MP_PAGE_ZERO_FILLED)
		flags |= ENTRY_ZERO;
	if (page->flags & MP_PAGE_MERGEABLE)
		flags |= ENTRY_MERGEABLE;
	if (pfn_valid && page->mapcount >= 2)
		flags |= ENTRY_KMAP2;
	if (page->flags & MP_PAGE_NO_DIGEST) {
		flags |= ENTRY_NO_DIGEST;
		key = key_mix(++a->unique_keys) ^ 0x5555555555555555ull;
	} else {
		key = key_mix(digest_key(page->digest, a->digest_size));
	}

	if (!pfn_valid)
		return push_lone_frame(a, key, task, file, flags);
	if (page->pfn > ENTRY_PFN_MAX)
		return mp_fail(a->error, -ERANGE, "invalid page record: PFN %#llx out of range",
			       (unsigned long long)page->pfn);
	if (page->pfn > a->max_pfn)
		a->max_pfn = page->pfn;
	s.sort = page->pfn << ENTRY_PFN_SHIFT | flags;
	s.entry.key = key;
	s.entry.task = task;
	s.entry.file = file;
	return bucket_push(&a->frames[page->pfn & (MP_BUCKETS - 1)], &s);
}

int analysis_ingest_pages(struct mp_analysis *a, const struct mp_page *pages, size_t count)
{
	if (!a->in_set)
		return mp_fail(a->error, -EINVAL, "invalid set: page records outside a set");
	for (size_t i = 0; i < count; i++) {
		int rc = ingest_page(a, &pages[i]);

		if (rc == -ENOMEM)
			return mp_fail(a->error, rc, "analysis: out of memory after %llu records",
				       (unsigned long long)i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Forget every set fed so far, keeping the allocations of the tables. */
void analysis_reset(struct mp_analysis *a)
{
	for (size_t i = 1; i < a->file_count; i++)
		free(a->files[i].path);
	a->file_count = 1;
	if (a->file_index)
		memset(a->file_index, 0, a->file_index_size * sizeof(*a->file_index));
	a->task_count = 0;
	for (unsigned i = 0; i < MP_BUCKETS; i++) {
		a->frames[i].arena = &a->arena;
		a->groups[i].arena = &a->arena;
		bucket_free(&a->frames[i]);
		bucket_free(&a->groups[i]);
	}
	arena_rewind(&a->arena);
	a->max_pfn = 0;
	a->sets = 0;
	a->in_set = false;
	a->pfn_valid = true;
	a->moved_pages = a->partial_tasks = a->zero_page_mappings = a->unique_keys = 0;
	memset(a->skipped, 0, sizeof(a->skipped));
	memset(&a->info, 0, sizeof(a->info));
	memset(&a->ksm_end, 0, sizeof(a->ksm_end));
}
