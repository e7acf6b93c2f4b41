// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * writer.c - write snapshot sets to a file, one block at a time
 *
 * The writer is a sink.  Records are encoded into one block buffer; a full
 * buffer is (optionally) compressed, checksummed and written, so memory use
 * does not grow with the snapshot.  A set's last block is written at its end
 * record, which makes the set complete on disk (docs/format.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "format/format.h"

#define RAW_CAPACITY (MPF_BLOCK_TARGET + 16 + MPF_REGION_FIXED + MPF_PATH_MAX)

struct mp_writer {
	int fd;
	bool regular;			/* a regular file: can be truncated and appended to */
	char *path;
	struct mp_writer_options options;
	struct mp_error error;		/* the first failure, kept until close */

	uint8_t *raw;			/* records of the block being filled */
	size_t raw_used;
	uint32_t records;
	uint16_t block_flags;
	uint8_t *stored;		/* compressed block */
	size_t stored_capacity;
	ZSTD_CCtx *zstd;
	struct mpf_page_state state;

	bool in_set;
	uint32_t digest_size;
	struct mp_set_info series;	/* the first set's header; hash 0 before one */
	uint32_t tasks, regions, files;
	uint64_t set_offset;		/* where the open set's first block starts */
	uint64_t offset;		/* bytes in the file */
	uint64_t pages;
};

static int writer_fail(struct mp_writer *w, int code, const char *format, ...) MP_PRINTF(3, 4);

static int writer_fail(struct mp_writer *w, int code, const char *format, ...)
{
	va_list args;

	if (w->error.code)
		return w->error.code;
	w->error.code = code;
	va_start(args, format);
	vsnprintf(w->error.message, sizeof(w->error.message), format, args);
	va_end(args);
	return code;
}

static int write_full(struct mp_writer *w, const struct iovec *iov, int count)
{
	struct iovec local[2];
	ssize_t n;

	memcpy(local, iov, count * sizeof(*iov));
	while (count > 0) {
		n = writev(w->fd, local, count);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return writer_fail(w, -errno, "cannot write snapshot file: %s: %s",
					   w->path, strerror(errno));
		w->offset += n;
		while (count > 0 && (size_t)n >= local[0].iov_len) {
			n -= local[0].iov_len;
			memmove(local, local + 1, --count * sizeof(*local));
		}
		if (count > 0) {
			local[0].iov_base = (uint8_t *)local[0].iov_base + n;
			local[0].iov_len -= n;
		}
	}
	return 0;
}

/* Compress the block if that makes it smaller; returns the stored bytes. */
static const uint8_t *compress_block(struct mp_writer *w, size_t *stored_size, uint8_t *method)
{
	size_t n;

	*method = MPF_COMPRESS_NONE;
	*stored_size = w->raw_used;
	if (!w->options.compress)
		return w->raw;

	n = ZSTD_compressCCtx(w->zstd, w->stored, w->stored_capacity, w->raw, w->raw_used,
			      w->options.compress_level);
	if (ZSTD_isError(n) || n >= w->raw_used)
		return w->raw;
	*method = MPF_COMPRESS_ZSTD;
	*stored_size = n;
	return w->stored;
}

static int flush_block(struct mp_writer *w, uint16_t flags)
{
	uint8_t header[MPF_BLOCK_HEADER_SIZE];
	const uint8_t *stored;
	size_t stored_size;
	uint8_t method;
	struct iovec iov[2];
	int rc;

	stored = compress_block(w, &stored_size, &method);
	memcpy(header, MPF_BLOCK_MAGIC, 4);
	header[4] = MPF_BLOCK_RECORDS;
	header[5] = method;
	mpf_store_le16(header + 6, w->block_flags | flags);
	mpf_store_le32(header + 8, (uint32_t)stored_size);
	mpf_store_le32(header + 12, (uint32_t)w->raw_used);
	mpf_store_le32(header + 16, w->records);
	mpf_store_le32(header + 20, mpf_block_crc(header, stored, stored_size));

	iov[0] = (struct iovec){ header, sizeof(header) };
	iov[1] = (struct iovec){ (void *)stored, stored_size };
	rc = write_full(w, iov, 2);

	w->raw_used = 0;
	w->records = 0;
	w->block_flags = 0;
	mpf_page_state_reset(&w->state);
	return rc;
}

/* Make room for a record of at most size bytes, closing the block if it is full. */
static int reserve(struct mp_writer *w, size_t size)
{
	if (w->raw_used + size <= MPF_BLOCK_TARGET || w->raw_used == 0)
		return 0;
	return flush_block(w, 0);
}

/* Start a length-prefixed record; returns where its body goes. */
static uint8_t *begin_record(struct mp_writer *w, uint8_t type, size_t body_size)
{
	uint8_t *p = w->raw + w->raw_used;

	*p++ = type;
	p += mpf_put_varint(p, body_size);
	w->raw_used = p + body_size - w->raw;
	w->records++;
	memset(p, 0, body_size);
	return p;
}

static int check_state(struct mp_writer *w, bool in_set, const char *what)
{
	if (w->error.code)
		return w->error.code;
	if (w->in_set != in_set)
		return writer_fail(w, -EINVAL, "cannot write %s to %s: %s", what, w->path,
				   in_set ? "no set was begun" : "the previous set was not ended");
	return 0;
}

/*
 * Every set of one file uses the same hash, digest width and keying, so
 * that a series compares digests with digests: a timeline across an
 * xxh3 set and a sha256 set would see every page change.
 */
static int check_same_hash(struct mp_writer *w, const struct mp_set_info *info)
{
	const struct mp_set_info *first = &w->series;
	bool keyed = info->flags & MP_SET_KEYED_HASH;

	if (first->hash == 0) {
		w->series = *info;
		return 0;
	}
	if (info->hash == first->hash && info->digest_size == first->digest_size &&
	    keyed == !!(first->flags & MP_SET_KEYED_HASH))
		return 0;
	return writer_fail(w, -EINVAL, "cannot add a %s%s set to %s: its sets use %s%s digests; "
			   "use the same --hash (and --hash-key) or a new file",
			   keyed ? "keyed " : "", mp_hash_name(info->hash), w->path,
			   first->flags & MP_SET_KEYED_HASH ? "keyed " : "",
			   mp_hash_name(first->hash));
}

static int writer_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct mp_writer *w = ctx;
	size_t host = strnlen(info->host, sizeof(info->host));
	size_t kernel = strnlen(info->kernel, sizeof(info->kernel));
	uint8_t *p;
	int rc;

	rc = check_state(w, false, "a set header");
	if (rc)
		return rc;
	if (info->digest_size > MP_DIGEST_MAX || info->page_size != MP_PAGE_SIZE)
		return writer_fail(w, -EINVAL, "cannot write set header to %s: digest size %u "
				   "(max %u) or page size %u (must be %u) invalid", w->path,
				   info->digest_size, MP_DIGEST_MAX, info->page_size, MP_PAGE_SIZE);
	if (host > MPF_NAME_MAX || kernel > MPF_NAME_MAX)
		return writer_fail(w, -EINVAL, "cannot write set header to %s: host or kernel "
				   "name longer than %u bytes", w->path, MPF_NAME_MAX);

	rc = check_same_hash(w, info);
	if (rc)
		return rc;

	w->in_set = true;
	w->set_offset = w->offset;
	w->digest_size = info->digest_size;
	w->tasks = w->regions = w->files = 0;
	w->block_flags = MPF_BLOCK_SET_START;

	p = begin_record(w, MPF_REC_SET_INFO, MPF_SET_INFO_FIXED + 2 + host + kernel);
	mpf_store_le32(p, info->page_size);
	mpf_store_le32(p + 4, info->source);
	mpf_store_le32(p + 8, info->hash);
	mpf_store_le32(p + 12, info->digest_size);
	mpf_store_le32(p + 16, info->flags);
	mp_store_le64(p + 24, (uint64_t)info->realtime_ns);
	mp_store_le64(p + 32, (uint64_t)info->monotonic_ns);
	mp_store_le64(p + 40, (uint64_t)info->boottime_ns);
	mpf_store_ksm(p + 48, &info->ksm);
	p += MPF_SET_INFO_FIXED;
	*p++ = (uint8_t)host;
	memcpy(p, info->host, host);
	p += host;
	*p++ = (uint8_t)kernel;
	memcpy(p, info->kernel, kernel);
	return 0;
}

static int writer_task(void *ctx, const struct mp_task *task)
{
	struct mp_writer *w = ctx;
	uint8_t *p;
	int rc;

	rc = check_state(w, true, "a task");
	if (rc)
		return rc;
	if (w->tasks == MP_NONE - 1)
		return writer_fail(w, -E2BIG, "cannot write task to %s: too many tasks", w->path);
	rc = reserve(w, MPF_TASK_SIZE + 2);
	if (rc)
		return rc;

	p = begin_record(w, MPF_REC_TASK, MPF_TASK_SIZE);
	mpf_store_le32(p, (uint32_t)task->pid);
	mpf_store_le32(p + 4, (uint32_t)task->ppid);
	mpf_store_le32(p + 8, task->uid);
	mpf_store_le32(p + 12, task->flags);
	memcpy(p + 16, task->comm, strnlen(task->comm, MPF_COMM_SIZE));
	mpf_store_le32(p + 32, task->ksm.valid ? 1 : 0);
	mp_store_le64(p + 40, task->ksm.ksm_rmap_items);
	mp_store_le64(p + 48, task->ksm.ksm_zero_pages);
	mp_store_le64(p + 56, task->ksm.ksm_merging_pages);
	mp_store_le64(p + 64, (uint64_t)task->ksm.ksm_process_profit);
	w->tasks++;
	return 0;
}

static int check_path(struct mp_writer *w, size_t size, const char *what)
{
	if (size > MPF_PATH_MAX)
		return writer_fail(w, -ENAMETOOLONG, "cannot write %s to %s: path of %zu bytes "
				   "(max %u)", what, w->path, size, MPF_PATH_MAX);
	return 0;
}

static int writer_region(void *ctx, const struct mp_region *region)
{
	struct mp_writer *w = ctx;
	uint8_t *p;
	int rc;

	rc = check_state(w, true, "a region");
	if (!rc)
		rc = check_path(w, region->path_size, "region");
	if (rc)
		return rc;
	if (region->task >= w->tasks || w->regions == MP_NONE - 1)
		return writer_fail(w, -EINVAL, "cannot write region to %s: task index %u, "
				   "but %u tasks in the set", w->path, region->task, w->tasks);
	rc = reserve(w, MPF_REGION_FIXED + region->path_size + 4);
	if (rc)
		return rc;

	p = begin_record(w, MPF_REC_REGION, MPF_REGION_FIXED + region->path_size);
	mpf_store_le32(p, region->task);
	mpf_store_le32(p + 4, region->kind);
	mp_store_le64(p + 8, region->start);
	mp_store_le64(p + 16, region->end);
	mp_store_le64(p + 24, region->offset);
	mp_store_le64(p + 32, region->dev);
	mp_store_le64(p + 40, region->inode);
	mpf_store_le32(p + 48, region->prot);
	mpf_store_le32(p + 52, region->vm_flags);
	mpf_store_le32(p + 56, (uint32_t)region->path_size);
	if (region->path_size)
		memcpy(p + MPF_REGION_FIXED, region->path, region->path_size);
	w->regions++;
	return 0;
}

static int writer_file(void *ctx, const struct mp_file *file)
{
	struct mp_writer *w = ctx;
	uint8_t *p;
	int rc;

	rc = check_state(w, true, "a file");
	if (!rc)
		rc = check_path(w, file->path_size, "file");
	if (rc)
		return rc;
	if (w->files == MP_NONE - 1)
		return writer_fail(w, -E2BIG, "cannot write file to %s: too many files", w->path);
	rc = reserve(w, MPF_FILE_FIXED + file->path_size + 4);
	if (rc)
		return rc;

	p = begin_record(w, MPF_REC_FILE, MPF_FILE_FIXED + file->path_size);
	mp_store_le64(p, file->dev);
	mp_store_le64(p + 8, file->inode);
	mp_store_le64(p + 16, file->size);
	mpf_store_le32(p + 24, file->flags);
	mpf_store_le32(p + 28, (uint32_t)file->path_size);
	if (file->path_size)
		memcpy(p + MPF_FILE_FIXED, file->path, file->path_size);
	w->files++;
	return 0;
}

static int check_page_owner(struct mp_writer *w, const struct mp_page *page)
{
	uint32_t limit = page->task == MP_NONE ? w->files : w->regions;

	if (page->task != MP_NONE && page->task >= w->tasks)
		return writer_fail(w, -EINVAL, "cannot write page to %s: task index %u, but %u "
				   "tasks in the set", w->path, page->task, w->tasks);
	if (page->region != MP_NONE && page->region >= limit)
		return writer_fail(w, -EINVAL, "cannot write page to %s: %s index %u, but %u in "
				   "the set", w->path, page->task == MP_NONE ? "file" : "region",
				   page->region, limit);
	return 0;
}

/* Encode one page record against the block's page state (docs/format.md). */
static void encode_page(struct mp_writer *w, const struct mp_page *page)
{
	struct mpf_page_state *s = &w->state;
	uint8_t *type, *p;

	if (page->task != s->task || page->region != s->region) {
		p = begin_record(w, MPF_REC_PAGE_OWNER, MPF_PAGE_OWNER_SIZE);
		mpf_store_le32(p, page->task);
		mpf_store_le32(p + 4, page->region);
		s->task = page->task;
		s->region = page->region;
	}

	type = w->raw + w->raw_used;
	p = type + 1;
	*type = MPF_PAGE_RECORD;
	if (page->index == s->next_index)
		*type |= MPF_PAGE_INDEX_NEXT;
	else
		p += mpf_put_varint(p, mpf_zigzag(page->index - s->next_index));
	if (page->pfn == s->next_pfn)
		*type |= MPF_PAGE_PFN_NEXT;
	else
		p += mpf_put_varint(p, mpf_zigzag(page->pfn - s->next_pfn));
	if (page->pagemap == s->pagemap)
		*type |= MPF_PAGE_PAGEMAP_SAME;
	else
		p += mpf_put_varint(p, mpf_rotate_pagemap(page->pagemap));
	if (page->kpageflags == s->kpageflags)
		*type |= MPF_PAGE_KPF_SAME;
	else
		p += mpf_put_varint(p, page->kpageflags);
	if (page->mapcount == s->mapcount)
		*type |= MPF_PAGE_MAPCOUNT_SAME;
	else
		p += mpf_put_varint(p, page->mapcount);
	if (page->flags == s->flags)
		*type |= MPF_PAGE_FLAGS_SAME;
	else
		p += mpf_put_varint(p, page->flags);
	if (!memcmp(page->digest, s->digest, w->digest_size)) {
		*type |= MPF_PAGE_DIGEST_SAME;
	} else {
		memcpy(p, page->digest, w->digest_size);
		p += w->digest_size;
	}

	mpf_page_state_update(s, page, w->digest_size);
	w->raw_used = p - w->raw;
	w->records++;
}

static int writer_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct mp_writer *w = ctx;
	int rc;

	rc = check_state(w, true, "pages");
	if (rc)
		return rc;
	for (size_t i = 0; i < count; i++) {
		rc = check_page_owner(w, &pages[i]);
		if (!rc)
			rc = reserve(w, 2 + MPF_PAGE_OWNER_SIZE + MPF_PAGE_RECORD_MAX);
		if (rc)
			return rc;
		encode_page(w, &pages[i]);
		w->pages++;
	}
	return 0;
}

static int writer_task_end(void *ctx, const struct mp_task_end *end)
{
	struct mp_writer *w = ctx;
	size_t size = MPF_TASK_END_FIXED + 8 * MP_SKIP_COUNT;
	uint8_t *p;
	int rc;

	rc = check_state(w, true, "a task end");
	if (rc)
		return rc;
	if (end->task >= w->tasks)
		return writer_fail(w, -EINVAL, "cannot write task end to %s: task index %u, but "
				   "%u tasks in the set", w->path, end->task, w->tasks);
	rc = reserve(w, size + 2);
	if (rc)
		return rc;

	p = begin_record(w, MPF_REC_TASK_END, size);
	mpf_store_le32(p, end->task);
	mpf_store_le32(p + 4, end->status);
	mp_store_le64(p + 8, end->pages);
	mpf_store_le32(p + 16, MP_SKIP_COUNT);
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		mp_store_le64(p + MPF_TASK_END_FIXED + 8 * i, end->skipped[i]);
	return 0;
}

static int writer_end_set(void *ctx, const struct mp_set_end *end)
{
	struct mp_writer *w = ctx;
	uint8_t *p;
	int rc;

	rc = check_state(w, true, "a set end");
	if (!rc)
		rc = reserve(w, MPF_SET_END_SIZE + 2);
	if (rc)
		return rc;

	p = begin_record(w, MPF_REC_SET_END, MPF_SET_END_SIZE);
	mpf_store_le32(p, end->flags);
	mp_store_le64(p + 8, end->duration_ns);
	mpf_store_ksm(p + 16, &end->ksm);
	rc = flush_block(w, MPF_BLOCK_SET_END);
	if (rc)
		return rc;

	w->in_set = false;
	if (w->options.sync && fsync(w->fd) < 0 && errno != EINVAL)
		return writer_fail(w, -errno, "cannot sync snapshot file: %s: %s", w->path,
				   strerror(errno));
	return 0;
}

static const struct mp_sink_ops writer_ops = {
	.begin_set = writer_begin_set,
	.task = writer_task,
	.region = writer_region,
	.file = writer_file,
	.pages = writer_pages,
	.task_end = writer_task_end,
	.end_set = writer_end_set,
};

struct mp_sink mp_writer_sink(struct mp_writer *writer)
{
	struct mp_sink sink = { .ops = &writer_ops, .ctx = writer, .error = &writer->error };

	return sink;
}

uint64_t mp_writer_bytes(const struct mp_writer *writer)
{
	return writer->offset;
}

uint64_t mp_writer_pages(const struct mp_writer *writer)
{
	return writer->pages;
}

static void writer_free(struct mp_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->zstd);
	free(w->stored);
	free(w->raw);
	free(w->path);
	free(w);
}

static int writer_alloc(struct mp_writer **writer, const char *path,
			const struct mp_writer_options *options)
{
	struct mp_writer *w = calloc(1, sizeof(*w));

	*writer = w;
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (options)
		w->options = *options;
	w->path = strdup(path);
	w->raw = malloc(RAW_CAPACITY);
	if (w->options.compress) {
		w->stored_capacity = ZSTD_compressBound(RAW_CAPACITY);
		w->stored = malloc(w->stored_capacity);
		w->zstd = ZSTD_createCCtx();
	}
	mpf_page_state_reset(&w->state);
	if (!w->path || !w->raw || (w->options.compress && (!w->stored || !w->zstd)))
		return -ENOMEM;
	return 0;
}

/*
 * Create the file, or empty an existing one once no other writer has it locked,
 * and make it private (0600).
 */
static int create_file(struct mp_writer *w, struct mp_error *error)
{
	uint8_t header[MPF_FILE_HEADER_SIZE];
	struct iovec iov = { header, sizeof(header) };
	struct stat st;

	w->fd = open(w->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (w->fd < 0 || fstat(w->fd, &st) < 0)
		return mp_fail_errno(error, -errno, "cannot create snapshot file: %s", w->path);
	w->regular = S_ISREG(st.st_mode);
	if (w->regular) {
		if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
			return mp_fail_errno(error, -errno, "cannot lock snapshot file: %s",
					     w->path);
		if (ftruncate(w->fd, 0) < 0)
			return mp_fail_errno(error, -errno, "cannot truncate snapshot file: %s",
					     w->path);
		if ((st.st_mode & 0077) && fchmod(w->fd, 0600) < 0)
			return mp_fail_errno(error, -errno, "cannot make snapshot file private: %s",
					     w->path);
	}

	mpf_file_header_init(header);
	if (write_full(w, &iov, 1) < 0)
		return mp_fail(error, w->error.code, "%s", w->error.message);
	return 0;
}

/*
 * Open a file for appending, creating it if need be: every set in it must
 * be complete and intact.  Blocks after the last complete set that are
 * themselves intact, up to the end of the file (a writer stopped in
 * mid-set), are cut off, because no reader would ever hand them on.
 */
static int open_append(struct mp_writer *w, struct mp_error *error)
{
	uint8_t header[MPF_FILE_HEADER_SIZE];
	struct iovec iov = { header, sizeof(header) };
	uint64_t end;
	struct stat st;
	int rc;

	w->fd = open(w->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (w->fd < 0 || fstat(w->fd, &st) < 0)
		return mp_fail_errno(error, -errno, "cannot open snapshot file: %s", w->path);
	if (!S_ISREG(st.st_mode))
		return mp_fail(error, -EINVAL, "cannot append to %s: not a regular file", w->path);
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		return mp_fail_errno(error, -errno, "cannot lock snapshot file: %s", w->path);
	w->regular = true;

	if (st.st_size == 0) {
		mpf_file_header_init(header);
		if (write_full(w, &iov, 1) < 0)
			return mp_fail(error, w->error.code, "%s", w->error.message);
		return 0;
	}

	rc = mpf_valid_end(w->path, &end, &w->series, error);
	if (rc < 0)
		return rc;
	if (end < (uint64_t)st.st_size && ftruncate(w->fd, (off_t)end) < 0)
		return mp_fail_errno(error, -errno, "cannot cut incomplete set from %s", w->path);
	if (lseek(w->fd, (off_t)end, SEEK_SET) < 0)
		return mp_fail_errno(error, -errno, "cannot seek in %s", w->path);
	w->offset = end;
	return 0;
}

int mp_writer_open(struct mp_writer **writer, const char *path,
		   const struct mp_writer_options *options, struct mp_error *error)
{
	struct mp_writer *w;
	int rc;

	*writer = NULL;
	rc = writer_alloc(&w, path, options);
	if (rc < 0) {
		writer_free(w);
		return mp_fail(error, rc, "cannot open snapshot file: %s: out of memory", path);
	}

	if (w->options.append)
		rc = open_append(w, error);
	else
		rc = create_file(w, error);
	if (rc < 0) {
		writer_free(w);
		return rc;
	}
	*writer = w;
	return 0;
}

/*
 * A set that was begun but not ended is cut off again, so that the file
 * holds only complete sets.
 */
static int drop_open_set(struct mp_writer *w)
{
	int code = -EINVAL;

	if (w->regular && ftruncate(w->fd, (off_t)w->set_offset) < 0)
		code = -errno;
	return writer_fail(w, code, "snapshot set at offset %llu of %s was not ended: %s",
			   (unsigned long long)w->set_offset, w->path,
			   code == -EINVAL && w->regular ? "removed it" : "the file ends in it");
}

int mp_writer_close(struct mp_writer *writer, struct mp_error *error)
{
	int rc;

	if (!writer)
		return 0;
	if (writer->in_set)
		drop_open_set(writer);
	if (close(writer->fd) < 0 && !writer->error.code)
		writer_fail(writer, -errno, "cannot close snapshot file: %s: %s", writer->path,
			    strerror(errno));
	writer->fd = -1;

	rc = writer->error.code;
	if (rc)
		mp_fail(error, rc, "%s", writer->error.message);
	writer_free(writer);
	return rc;
}
