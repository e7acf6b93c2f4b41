// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kmod.c - the kernel module backend: /dev/memprint responses to sink calls
 *
 * Each task, the physical RAM or each file or mount is one request to
 * memprint.ko (kmod/memprint_uapi.h); the binary records it responses are
 * turned into the same sink calls the procfs backend makes, numbering the
 * regions and files of the whole set as it does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "source/kmod.h"
#include "source/source.h"
#include "source/pagecache.h"

#define KMOD_DEVICE "/dev/memprint"
#define READ_SIZE (1024 * 1024)
#define PAGE_BATCH 1024

/* The kernel's new_encode_dev() form to glibc's makedev() form. */
uint64_t mp_kmod_decode_dev(uint64_t dev)
{
	unsigned major = (unsigned)((dev & 0xfff00) >> 8);
	unsigned minor = (unsigned)((dev & 0xff) | ((dev >> 12) & 0xfff00));

	return makedev(major, minor);
}

/* ------------------------------------------------------------- requests */

static int check_hash(enum mp_hash_id id, const struct mp_scan_options *options,
		      struct mp_error *error)
{
	if (options->hash_key)
		return mp_fail(error, -EOPNOTSUPP,
			       "cannot scan through the kernel module: keyed hashes are not "
			       "supported: use the procfs source for --hash-key");
	switch (id) {
	case MP_HASH_PATTERN:
	case MP_HASH_SUPERFAST:
	case MP_HASH_CRC32:
	case MP_HASH_CRC32EX:
	case MP_HASH_CRC32C:
	case MP_HASH_MD5:
	case MP_HASH_SHA1:
	case MP_HASH_SHA256:
	case MP_HASH_XXH64:
		return 0;
	default:
		return mp_fail(error, -EOPNOTSUPP,
			       "cannot scan through the kernel module: it has no %s hash: "
			       "use xxh64, crc32c, crc32, sha256 or another kernel hash",
			       mp_hash_name(id) ? mp_hash_name(id) : "such");
	}
}

static int open_device(struct kmod_scan *ks, const char *device)
{
	int fd = open(device, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int code = -errno;

		if (code == -ENOENT)
			return mp_fail(ks->error, code, "cannot open %s: no such device: "
				       "load memprint.ko ('make kmod', then 'insmod "
				       "kmod/build-$(uname -r)/memprint.ko', or install it "
				       "with DKMS: docs/kmod.md)", device);
		if (code == -EBUSY)
			return mp_fail(ks->error, code, "cannot open %s: another scan is "
				       "using the module: try again when it ends", device);
		return mp_fail_errno(ks->error, code, "cannot open %s", device);
	}
	ks->fd = fd;
	return 0;
}

int mp_kmod_request_send(struct kmod_scan *ks, struct memprint_request *request)
{
	request->size = sizeof(*request);
	request->hash = ks->hash;
	if (ks->request->absent)
		request->options |= MEMPRINT_OPT_ABSENT;
	if (ioctl(ks->fd, MEMPRINT_IOC_SCAN, request) < 0)
		return -errno;
	mp_kmod_response_reset(ks);
	return 0;
}

void mp_kmod_response_reset(struct kmod_scan *ks)
{
	ks->buf_len = 0;
	ks->done = false;
	ks->kernel_error = 0;
	ks->region_base = ks->regions;
	ks->file_base = ks->files;
	ks->response_files = 0;
}

/* ---------------------------------------------------------- the records */

static int flush_pages(struct kmod_scan *ks)
{
	size_t count = ks->page_count;

	ks->page_count = 0;
	if (!count || !ks->sink->ops->pages)
		return 0;
	return ks->sink->ops->pages(ks->sink->ctx, ks->pages, count);
}

static int on_task(struct kmod_scan *ks, const struct memprint_rec_task *rec)
{
	struct mp_task task;

	memset(&task, 0, sizeof(task));
	task.pid = rec->pid;
	task.ppid = rec->ppid;
	task.uid = rec->uid;
	task.flags = rec->flags;
	memcpy(task.comm, rec->comm, sizeof(rec->comm));
	task.ksm.valid = rec->ksm_valid;
	task.ksm.ksm_rmap_items = rec->ksm_rmap_items;
	task.ksm.ksm_zero_pages = rec->ksm_zero_pages;
	task.ksm.ksm_merging_pages = rec->ksm_merging_pages;
	task.ksm.ksm_process_profit = rec->ksm_process_profit;
	ks->task_flags = rec->flags;
	ks->task_sent = true;
	return ks->sink->ops->task ? ks->sink->ops->task(ks->sink->ctx, &task) : 0;
}

static int on_region(struct kmod_scan *ks, const struct memprint_rec_region *rec)
{
	struct mp_region region = {
		.task = ks->task_index,
		.kind = rec->kind,
		.start = rec->start,
		.end = rec->end,
		.offset = rec->offset,
		.dev = mp_kmod_decode_dev(rec->dev),
		.inode = rec->inode,
		.prot = rec->prot,
		.vm_flags = rec->vm_flags,
		.path = (const char *)(rec + 1),
		.path_size = rec->path_size,
	};

	ks->regions++;
	return ks->sink->ops->region ? ks->sink->ops->region(ks->sink->ctx, &region) : 0;
}

/* Whether path lies below the directory ks->below (or is no directory scan). */
static bool wanted_path(const struct kmod_scan *ks, const char *path, size_t size)
{
	size_t n = ks->below ? strlen(ks->below) : 0;

	if (!ks->below || (n == 1 && ks->below[0] == '/'))
		return true;
	return size > n && !memcmp(path, ks->below, n) && path[n] == '/';
}

/* Remember which set file a response's file number stands for. */
static int map_file(struct kmod_scan *ks, uint32_t index)
{
	if (ks->response_files == ks->file_map_size) {
		size_t size = ks->file_map_size ? ks->file_map_size * 2 : 256;
		uint32_t *map = realloc(ks->file_map, size * sizeof(*map));

		if (!map)
			return -ENOMEM;
		ks->file_map = map;
		ks->file_map_size = size;
	}
	ks->file_map[ks->response_files++] = index;
	return 0;
}

static int on_file(struct kmod_scan *ks, const struct memprint_rec_file *rec)
{
	struct mp_file file = {
		.dev = mp_kmod_decode_dev(rec->dev),
		.inode = rec->inode,
		.size = rec->size,
		.path = (const char *)(rec + 1),
		.path_size = rec->path_size,
	};
	char *joined = NULL;
	int rc;

	/* A mount scan names files from the root of their file system. */
	if (ks->mount) {
		joined = mp_kmod_mount_path(ks->mount, file.path, file.path_size);
		if (!joined)
			return -ENOMEM;
		file.path = joined;
		file.path_size = strlen(joined);
	}
	if (!wanted_path(ks, file.path, file.path_size)) {
		free(joined);
		return map_file(ks, MP_NONE);
	}
	rc = map_file(ks, ks->files);
	if (rc == 0) {
		ks->files++;
		rc = ks->sink->ops->file ? ks->sink->ops->file(ks->sink->ctx, &file) : 0;
	}
	free(joined);
	return rc;
}

static uint32_t page_flags(const struct kmod_scan *ks, const struct memprint_rec_page *rec)
{
	uint32_t flags = rec->flags;

	/* As the procfs backend: every subpage of a THP or hugetlb folio. */
	if (rec->kpageflags & (1ull << MP_KPF_THP | 1ull << MP_KPF_HUGE))
		flags |= MP_PAGE_HUGE;
	if (ks->task_flags & MP_TASK_KSM_MERGE_ANY)
		flags |= MP_PAGE_MERGEABLE;
	return flags;
}

static int on_page(struct kmod_scan *ks, const struct memprint_rec_page *rec)
{
	struct mp_page *page;
	uint32_t region = MP_NONE;
	int rc;

	if (rec->region != 0xffffffffu && ks->target == MP_KMOD_TASKS)
		region = ks->region_base + rec->region;
	if (rec->region != 0xffffffffu && ks->target == MP_KMOD_PAGECACHE) {
		region = rec->region < ks->response_files ? ks->file_map[rec->region] : MP_NONE;
		if (region == MP_NONE)
			return 0;	/* a file outside the directory scanned */
	}
	if (ks->target == MP_KMOD_PHYSICAL && rec->file_inode) {
		rc = mp_kmod_physical_file(ks, rec, &region);
		if (rc < 0)
			return rc;
	}
	if (ks->page_count == PAGE_BATCH) {
		rc = flush_pages(ks);
		if (rc < 0)
			return rc;
	}

	page = &ks->pages[ks->page_count++];
	memset(page, 0, sizeof(*page));
	page->task = ks->target == MP_KMOD_TASKS ? ks->task_index : MP_NONE;
	page->region = region;
	page->index = rec->index;
	page->pfn = rec->pfn;
	page->pagemap = rec->pagemap & MP_PM_FLAGS_MASK;
	page->kpageflags = rec->kpageflags;
	page->mapcount = rec->mapcount;
	page->flags = page_flags(ks, rec);
	memcpy(page->digest, rec->digest, ks->digest_size);
	ks->pages_done++;
	return 0;
}

static int on_task_end(struct kmod_scan *ks, const struct memprint_rec_task_end *rec)
{
	struct mp_task_end end;

	memset(&end, 0, sizeof(end));
	end.task = ks->task_index;
	end.status = rec->status;
	end.pages = rec->pages;
	for (int i = 0; i < MP_SKIP_COUNT && i < MEMPRINT_SKIP_COUNT; i++)
		end.skipped[i] = rec->skipped[i];
	if (end.status == MP_TASK_EXITED)
		mp_scan_warn(ks->options, "pid %d exited during the scan: its snapshot is partial",
			     ks->pid);
	else if (end.status == MP_TASK_EXECED)
		mp_scan_warn(ks->options, "pid %d ran exec during the scan: its snapshot is partial",
			     ks->pid);
	if (end.status != MP_TASK_COMPLETE)
		ks->partial = true;
	return ks->sink->ops->task_end ? ks->sink->ops->task_end(ks->sink->ctx, &end) : 0;
}

static void on_physical_end(struct kmod_scan *ks, const struct memprint_rec_physical_end *rec)
{
	struct mp_kmod_physical_counts *c = ks->request->physical;

	if (!c)
		return;
	c->ranges = rec->ranges;
	c->ram_pages = rec->ram_pages;
	c->hashed = rec->hashed;
	c->offline = rec->offline;
	c->reserved = rec->reserved;
	c->poisoned = rec->poisoned;
	c->buddy = rec->buddy;
	c->page_offline = rec->page_offline;
	c->unreferenced = rec->unreferenced;
	c->unmapped = rec->unmapped;
}

/* Minimum sizes of each record type, to reject a short one. */
static size_t record_min_size(unsigned type)
{
	switch (type) {
	case MEMPRINT_REC_TASK: return sizeof(struct memprint_rec_task);
	case MEMPRINT_REC_REGION: return sizeof(struct memprint_rec_region);
	case MEMPRINT_REC_FILE: return sizeof(struct memprint_rec_file);
	case MEMPRINT_REC_PAGE: return sizeof(struct memprint_rec_page);
	case MEMPRINT_REC_TASK_END: return sizeof(struct memprint_rec_task_end);
	case MEMPRINT_REC_PHYSICAL_END: return sizeof(struct memprint_rec_physical_end);
	case MEMPRINT_REC_END: return sizeof(struct memprint_rec_end);
	default: return sizeof(struct memprint_rec_header);
	}
}

static bool path_fits(const struct memprint_rec_header *h, size_t fixed, uint32_t path_size)
{
	return fixed + path_size <= h->size;
}

int mp_kmod_dispatch(struct kmod_scan *ks, const struct memprint_rec_header *h)
{
	int rc;

	if (h->type != MEMPRINT_REC_PAGE && h->type != MEMPRINT_REC_END) {
		rc = flush_pages(ks);
		if (rc < 0)
			return rc;
	}
	switch (h->type) {
	case MEMPRINT_REC_TASK:
		return on_task(ks, (const void *)h);
	case MEMPRINT_REC_REGION: {
		const struct memprint_rec_region *r = (const void *)h;

		if (!path_fits(h, sizeof(*r), r->path_size))
			return -EBADMSG;
		return on_region(ks, r);
	}
	case MEMPRINT_REC_FILE: {
		const struct memprint_rec_file *f = (const void *)h;

		if (!path_fits(h, sizeof(*f), f->path_size))
			return -EBADMSG;
		return on_file(ks, f);
	}
	case MEMPRINT_REC_PAGE:
		return on_page(ks, (const void *)h);
	case MEMPRINT_REC_TASK_END:
		return on_task_end(ks, (const void *)h);
	case MEMPRINT_REC_PHYSICAL_END:
		on_physical_end(ks, (const void *)h);
		return 0;
	case MEMPRINT_REC_END:
		ks->done = true;
		ks->kernel_error = ((const struct memprint_rec_end *)h)->error;
		return flush_pages(ks);
	default:
		return 0;	/* a record type of a later module version */
	}
}

/* Parse the complete records at the start of the buffer; keep the rest. */
static int parse_buffer(struct kmod_scan *ks)
{
	size_t offset = 0;
	int rc = 0;

	while (ks->buf_len - offset >= sizeof(struct memprint_rec_header)) {
		const struct memprint_rec_header *h = (const void *)(ks->buf + offset);

		if (h->size < record_min_size(h->type) || h->size % 8 || h->size > READ_SIZE)
			return -EBADMSG;
		if (ks->buf_len - offset < h->size)
			break;
		rc = mp_kmod_dispatch(ks, h);
		if (rc < 0)
			return rc;
		offset += h->size;
	}
	memmove(ks->buf, ks->buf + offset, ks->buf_len - offset);
	ks->buf_len -= offset;
	return 0;
}

/* Read the response of the current request up to its end record. */
int mp_kmod_read_response(struct kmod_scan *ks)
{
	while (!ks->done) {
		ssize_t n = read(ks->fd, ks->buf + ks->buf_len, READ_SIZE - ks->buf_len);
		int rc;

		if (n < 0) {
			if (errno == EINTR)
				return -EINTR;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;	/* the stream ended without its end record */
		ks->buf_len += (size_t)n;
		rc = parse_buffer(ks);
		if (rc < 0)
			return rc;
		if (ks->options->progress)
			ks->options->progress(ks->options->progress_ctx, ks->pages_done,
					      ks->tasks_done, ks->tasks_total);
	}
	return 0;
}

/* ---------------------------------------------------------------- set */

static void fill_set_info(struct kmod_scan *ks, struct mp_set_info *info)
{
	static const uint32_t sources[] = {
		[MP_KMOD_TASKS] = MP_SOURCE_KMOD,
		[MP_KMOD_PHYSICAL] = MP_SOURCE_PHYSICAL,
		[MP_KMOD_PAGECACHE] = MP_SOURCE_PAGECACHE,
	};
	mp_set_info_begin(info, sources[ks->target], ks->options->sysroot);
	info->hash = ks->hash;
	info->digest_size = (uint32_t)ks->digest_size;
	/* The module reads PFNs itself and sets KPF_KSM only on KSM folios. */
	info->flags = MP_SET_PFN_VALID;
	if (ks->target == MP_KMOD_PAGECACHE)
		info->flags |= MP_SET_PAGE_CACHE;
}

static int run_target(struct kmod_scan *ks)
{
	switch (ks->target) {
	case MP_KMOD_TASKS:
		return mp_kmod_scan_tasks(ks);
	case MP_KMOD_PHYSICAL:
		return mp_kmod_scan_physical(ks);
	case MP_KMOD_PAGECACHE:
		return mp_kmod_scan_pagecache(ks);
	}
	return -EINVAL;
}

static int run_set(struct kmod_scan *ks)
{
	const struct mp_sink_ops *ops = ks->sink->ops;
	struct mp_set_info info;
	struct mp_set_end end;
	int rc;

	fill_set_info(ks, &info);
	if (ops->begin_set) {
		rc = ops->begin_set(ks->sink->ctx, &info);
		if (rc < 0)
			return rc;
	}
	rc = run_target(ks);
	if (rc < 0)
		return rc;

	memset(&end, 0, sizeof(end));
	end.duration_ns = (uint64_t)(mp_clock_ns(CLOCK_MONOTONIC) - info.monotonic_ns);
	if (ks->partial)
		end.flags |= MP_SET_END_PARTIAL;
	mp_ksm_read_counters(ks->options->sysroot, &end.ksm, NULL);
	return ops->end_set ? ops->end_set(ks->sink->ctx, &end) : 0;
}

static void close_scan(struct kmod_scan *ks)
{
	if (ks->fd >= 0)
		close(ks->fd);
	free(ks->buf);
	free(ks->pages);
	free(ks->file_table);
	free(ks->file_map);
}

int mp_kmod_scan(const struct mp_kmod_request *request, const struct mp_scan_options *options,
		 const struct mp_sink *sink, struct mp_error *error)
{
	struct kmod_scan ks;
	enum mp_hash_id id;
	int rc;

	mp_error_clear(error);
	if (!request || !options || !sink || !sink->ops ||
	    request->target < MP_KMOD_TASKS || request->target > MP_KMOD_PAGECACHE ||
	    (request->pid_count && !request->pids) || (request->path_count && !request->paths))
		return mp_fail(error, -EINVAL, "cannot start a module scan: invalid arguments");
	id = options->hash ? options->hash : MP_HASH_DEFAULT;
	rc = check_hash(id, options, error);
	if (rc < 0)
		return rc;

	memset(&ks, 0, sizeof(ks));
	ks.fd = -1;
	ks.request = request;
	ks.options = options;
	ks.sink = sink;
	ks.error = error;
	ks.target = request->target;
	ks.hash = id;
	ks.digest_size = mp_hash_digest_size(id);
	ks.buf = malloc(READ_SIZE);
	ks.pages = malloc(PAGE_BATCH * sizeof(*ks.pages));
	if (!ks.buf || !ks.pages) {
		rc = mp_fail(error, -ENOMEM, "cannot start a module scan: out of memory");
		goto out;
	}
	rc = open_device(&ks, request->device ? request->device : KMOD_DEVICE);
	if (rc < 0)
		goto out;
	rc = run_set(&ks);
	if (rc < 0 && error && !error->code)
		mp_fail(error, rc, "module scan failed: %s", mp_strerror(rc));
out:
	close_scan(&ks);
	return rc;
}
