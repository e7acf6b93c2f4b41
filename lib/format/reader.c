// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * reader.c - read snapshot sets from a file and push them into a sink
 *
 * A regular file is mapped; other files (pipes) are read into memory first.
 * Each set is read twice: the first pass checks every block's checksum and
 * decodes every record without passing anything on, the second pass hands
 * the records to the sink.  So a sink only ever sees sets that are complete
 * and intact, and any damage is reported with the file offset of its block.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "format/format.h"

#define PAGE_BATCH 256

/* A decoded block header. */
struct block {
	uint64_t offset;		/* of the block header in the file */
	uint8_t type, compression;
	uint16_t flags;
	uint32_t stored_size, raw_size, records;
	const uint8_t *stored;
};

/* The records of the current set counted so far, for index checks. */
struct set_state {
	bool have_info;
	uint32_t digest_size;
	uint32_t tasks, regions, files;
};

struct mp_reader {
	char *path;
	const uint8_t *data;
	size_t size;
	bool mapped;
	unsigned major, minor;
	uint64_t offset;		/* start of the next set */
	uint64_t released;		/* bytes from the start dropped from the mapping */

	int failed;			/* sticky error code */
	struct mp_error error;
	bool torn;			/* the failure is a file cut short, nothing else */

	uint8_t *raw;			/* decompressed block */
	ZSTD_DCtx *zstd;
	struct mp_page *batch;
	size_t batch_count;
	struct set_state set;
	struct mpf_page_state pages;
};

/* Decoding context of one block: where in the file, and who gets the records. */
struct block_cursor {
	struct mp_reader *reader;
	const struct block *block;
	const struct mp_sink *sink;	/* NULL in the checking pass */
	const uint8_t *raw;
	size_t size, pos, record_start;
	uint32_t record;
	bool saw_set_end;
};

static int reader_fail(struct mp_reader *r, int code, uint64_t offset, const char *format, ...)
	MP_PRINTF(4, 5);

/* Record "FILE: offset N: problem"; the first failure sticks. */
static int reader_fail(struct mp_reader *r, int code, uint64_t offset, const char *format, ...)
{
	va_list args;
	int used;

	if (r->failed)
		return r->failed;
	r->failed = code;
	r->error.code = code;
	used = snprintf(r->error.message, sizeof(r->error.message), "%s: offset %" PRIu64 ": ",
			r->path, offset);
	if (used < 0 || (size_t)used >= sizeof(r->error.message))
		return code;
	va_start(args, format);
	vsnprintf(r->error.message + used, sizeof(r->error.message) - used, format, args);
	va_end(args);
	return code;
}

static int reader_torn(struct mp_reader *r, uint64_t offset, const char *format, ...)
	MP_PRINTF(3, 4);

/* Like reader_fail(), for a file that ends too early (a writer stopped mid-set). */
static int reader_torn(struct mp_reader *r, uint64_t offset, const char *format, ...)
{
	char problem[256];
	va_list args;

	va_start(args, format);
	vsnprintf(problem, sizeof(problem), format, args);
	va_end(args);
	r->torn = !r->failed;
	return reader_fail(r, -EBADMSG, offset, "%s", problem);
}

static int record_fail(struct block_cursor *c, const char *format, ...) MP_PRINTF(2, 3);

/* Fail on a record: the offset is its block's, the record is counted within the block. */
static int record_fail(struct block_cursor *c, const char *format, ...)
{
	char problem[256];
	va_list args;

	va_start(args, format);
	vsnprintf(problem, sizeof(problem), format, args);
	va_end(args);
	return reader_fail(c->reader, -EBADMSG, c->block->offset,
			   "block record %" PRIu32 " (byte %zu of the block's data): %s",
			   c->record, c->record_start, problem);
}

/* ------------------------------------------------------------ records */

static int get_varint(struct block_cursor *c, uint64_t *value, const char *field)
{
	size_t n = mpf_get_varint(c->raw + c->pos, c->size - c->pos, value);

	if (!n)
		return record_fail(c, "invalid or truncated varint in %s", field);
	c->pos += n;
	return 0;
}

static int get_varint32(struct block_cursor *c, uint32_t *value, const char *field)
{
	uint64_t v;
	int rc = get_varint(c, &v, field);

	if (rc)
		return rc;
	if (v > UINT32_MAX)
		return record_fail(c, "%s %" PRIu64 " does not fit in 32 bits", field, v);
	*value = (uint32_t)v;
	return 0;
}

static int flush_pages(struct block_cursor *c)
{
	struct mp_reader *r = c->reader;
	const struct mp_sink *sink = c->sink;
	size_t count = r->batch_count;

	r->batch_count = 0;
	if (!count || !sink || !sink->ops->pages)
		return 0;
	return sink->ops->pages(sink->ctx, r->batch, count);
}

/* Check a page record's task and region index against the set so far. */
static int check_owner(struct block_cursor *c, uint32_t task, uint32_t region)
{
	const struct set_state *s = &c->reader->set;
	uint32_t limit = task == MP_NONE ? s->files : s->regions;

	if (task != MP_NONE && task >= s->tasks)
		return record_fail(c, "task index %" PRIu32 " out of range (%" PRIu32
				   " tasks in the set)", task, s->tasks);
	if (region != MP_NONE && region >= limit)
		return record_fail(c, "%s index %" PRIu32 " out of range (%" PRIu32 " in the set)",
				   task == MP_NONE ? "file" : "region", region, limit);
	return 0;
}

/*
 * Decode the fields of a page record into page and into the state that
 * predicts the next record.  Both get each value from a register: reading
 * back what was just stored to page stalled the decoder on every record
 * (a 16-byte load of two 8-byte stores cannot be forwarded).
 */
static int decode_page_fields(struct block_cursor *c, unsigned type, struct mp_page *page)
{
	struct mpf_page_state *s = &c->reader->pages;
	uint64_t index = s->next_index, pfn = s->next_pfn, v;
	int rc = 0;

	if (!(type & MPF_PAGE_INDEX_NEXT) && !(rc = get_varint(c, &v, "page index")))
		index += mpf_unzigzag(v);
	if (!rc && !(type & MPF_PAGE_PFN_NEXT) && !(rc = get_varint(c, &v, "page PFN")))
		pfn += mpf_unzigzag(v);
	if (!rc && !(type & MPF_PAGE_PAGEMAP_SAME) && !(rc = get_varint(c, &v, "pagemap")))
		s->pagemap = mpf_unrotate_pagemap(v);
	if (!rc && !(type & MPF_PAGE_KPF_SAME))
		rc = get_varint(c, &s->kpageflags, "kpageflags");
	if (!rc && !(type & MPF_PAGE_MAPCOUNT_SAME))
		rc = get_varint32(c, &s->mapcount, "map count");
	if (!rc && !(type & MPF_PAGE_FLAGS_SAME))
		rc = get_varint32(c, &s->flags, "page flags");
	if (rc)
		return rc;

	page->index = index;
	page->pfn = pfn;
	page->pagemap = s->pagemap;
	page->kpageflags = s->kpageflags;
	page->mapcount = s->mapcount;
	page->flags = s->flags;
	s->next_index = index + 1;
	s->next_pfn = pfn + 1;
	return 0;
}

static int decode_page(struct block_cursor *c, unsigned type)
{
	struct mp_reader *r = c->reader;
	struct mpf_page_state *s = &r->pages;
	uint32_t digest_size = r->set.digest_size;
	struct mp_page *page = &r->batch[r->batch_count];
	int rc;

	page->task = s->task;
	page->region = s->region;
	rc = decode_page_fields(c, type, page);
	if (rc)
		return rc;

	/* The state's digest is zero past digest_size, so the page's is too. */
	memcpy(page->digest, s->digest, MP_DIGEST_MAX);
	if (!(type & MPF_PAGE_DIGEST_SAME)) {
		if (c->size - c->pos < digest_size)
			return record_fail(c, "page digest truncated");
		memcpy(page->digest, c->raw + c->pos, digest_size);
		memcpy(s->digest, c->raw + c->pos, digest_size);
		c->pos += digest_size;
	}

	if (++r->batch_count == PAGE_BATCH)
		return flush_pages(c);
	return 0;
}

/* Copy a string of at most MPF_NAME_MAX bytes: length byte, bytes. */
static int get_name(struct block_cursor *c, const uint8_t **p, const uint8_t *end,
		    char *out, const char *field)
{
	size_t n;

	if (*p >= end || (n = **p) > MPF_NAME_MAX || (size_t)(end - *p - 1) < n)
		return record_fail(c, "%s name invalid or truncated", field);
	memcpy(out, *p + 1, n);
	out[n] = '\0';
	*p += 1 + n;
	return 0;
}

static int decode_set_info(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct mp_reader *r = c->reader;
	struct mp_set_info info = { 0 };
	const uint8_t *q = p + MPF_SET_INFO_FIXED;
	int rc;

	if (!(c->block->flags & MPF_BLOCK_SET_START) || c->record != 0)
		return record_fail(c, "set header not at the start of a set");
	if (size < MPF_SET_INFO_FIXED)
		return record_fail(c, "set header too short (%zu bytes)", size);
	info.page_size = mpf_load_le32(p);
	info.source = mpf_load_le32(p + 4);
	info.hash = mpf_load_le32(p + 8);
	info.digest_size = mpf_load_le32(p + 12);
	info.flags = mpf_load_le32(p + 16);
	info.realtime_ns = (int64_t)mp_load_le64(p + 24);
	info.monotonic_ns = (int64_t)mp_load_le64(p + 32);
	info.boottime_ns = (int64_t)mp_load_le64(p + 40);
	mpf_load_ksm(p + 48, &info.ksm);
	rc = get_name(c, &q, p + size, info.host, "host");
	if (!rc)
		rc = get_name(c, &q, p + size, info.kernel, "kernel");
	if (rc)
		return rc;
	if (info.page_size != MP_PAGE_SIZE)
		return record_fail(c, "page size %" PRIu32 " is not %u", info.page_size,
				   MP_PAGE_SIZE);
	if (info.digest_size > MP_DIGEST_MAX)
		return record_fail(c, "digest size %" PRIu32 " exceeds %u", info.digest_size,
				   MP_DIGEST_MAX);

	r->set.have_info = true;
	r->set.digest_size = info.digest_size;
	if (c->sink && c->sink->ops->begin_set)
		return c->sink->ops->begin_set(c->sink->ctx, &info);
	return 0;
}

static int decode_task(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct mp_task task = { 0 };

	if (size < MPF_TASK_SIZE)
		return record_fail(c, "task record too short (%zu bytes)", size);
	if (c->reader->set.tasks == MP_NONE - 1)
		return record_fail(c, "too many tasks");
	task.pid = (int32_t)mpf_load_le32(p);
	task.ppid = (int32_t)mpf_load_le32(p + 4);
	task.uid = mpf_load_le32(p + 8);
	task.flags = mpf_load_le32(p + 12);
	memcpy(task.comm, p + 16, MPF_COMM_SIZE);
	task.ksm.valid = mpf_load_le32(p + 32) & 1;
	task.ksm.ksm_rmap_items = mp_load_le64(p + 40);
	task.ksm.ksm_zero_pages = mp_load_le64(p + 48);
	task.ksm.ksm_merging_pages = mp_load_le64(p + 56);
	task.ksm.ksm_process_profit = (int64_t)mp_load_le64(p + 64);

	c->reader->set.tasks++;
	if (c->sink && c->sink->ops->task)
		return c->sink->ops->task(c->sink->ctx, &task);
	return 0;
}

static int decode_region(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct set_state *s = &c->reader->set;
	struct mp_region region = { 0 };

	if (size < MPF_REGION_FIXED)
		return record_fail(c, "region record too short (%zu bytes)", size);
	region.task = mpf_load_le32(p);
	region.kind = mpf_load_le32(p + 4);
	region.start = mp_load_le64(p + 8);
	region.end = mp_load_le64(p + 16);
	region.offset = mp_load_le64(p + 24);
	region.dev = mp_load_le64(p + 32);
	region.inode = mp_load_le64(p + 40);
	region.prot = mpf_load_le32(p + 48);
	region.vm_flags = mpf_load_le32(p + 52);
	region.path_size = mpf_load_le32(p + 56);
	region.path = (const char *)p + MPF_REGION_FIXED;
	if (region.path_size > size - MPF_REGION_FIXED)
		return record_fail(c, "region path of %zu bytes overruns its record (%zu bytes)",
				   region.path_size, size);
	if (region.task >= s->tasks)
		return record_fail(c, "region of task index %" PRIu32 " out of range (%" PRIu32
				   " tasks in the set)", region.task, s->tasks);
	if (s->regions == MP_NONE - 1)
		return record_fail(c, "too many regions");

	s->regions++;
	if (c->sink && c->sink->ops->region)
		return c->sink->ops->region(c->sink->ctx, &region);
	return 0;
}

static int decode_file(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct set_state *s = &c->reader->set;
	struct mp_file file = { 0 };

	if (size < MPF_FILE_FIXED)
		return record_fail(c, "file record too short (%zu bytes)", size);
	file.dev = mp_load_le64(p);
	file.inode = mp_load_le64(p + 8);
	file.size = mp_load_le64(p + 16);
	file.flags = mpf_load_le32(p + 24);
	file.path_size = mpf_load_le32(p + 28);
	file.path = (const char *)p + MPF_FILE_FIXED;
	if (file.path_size > size - MPF_FILE_FIXED)
		return record_fail(c, "file path of %zu bytes overruns its record (%zu bytes)",
				   file.path_size, size);
	if (s->files == MP_NONE - 1)
		return record_fail(c, "too many files");

	s->files++;
	if (c->sink && c->sink->ops->file)
		return c->sink->ops->file(c->sink->ctx, &file);
	return 0;
}

static int decode_page_owner(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct mpf_page_state *s = &c->reader->pages;
	uint32_t task, region;
	int rc;

	if (size < MPF_PAGE_OWNER_SIZE)
		return record_fail(c, "page owner record too short (%zu bytes)", size);
	task = mpf_load_le32(p);
	region = mpf_load_le32(p + 4);
	rc = check_owner(c, task, region);
	if (rc)
		return rc;
	s->task = task;
	s->region = region;
	return 0;
}

static int decode_task_end(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct mp_task_end end = { 0 };
	uint32_t skip_count;

	if (size < MPF_TASK_END_FIXED)
		return record_fail(c, "task end record too short (%zu bytes)", size);
	end.task = mpf_load_le32(p);
	end.status = mpf_load_le32(p + 4);
	end.pages = mp_load_le64(p + 8);
	skip_count = mpf_load_le32(p + 16);
	if (skip_count > (size - MPF_TASK_END_FIXED) / 8)
		return record_fail(c, "task end with %" PRIu32 " skip counters overruns its "
				   "record (%zu bytes)", skip_count, size);
	if (end.task >= c->reader->set.tasks)
		return record_fail(c, "task end of task index %" PRIu32 " out of range (%" PRIu32
				   " tasks in the set)", end.task, c->reader->set.tasks);
	/* Counters of skip reasons added after this reader are left out. */
	for (uint32_t i = 0; i < skip_count && i < MP_SKIP_COUNT; i++)
		end.skipped[i] = mp_load_le64(p + MPF_TASK_END_FIXED + 8 * i);

	if (c->sink && c->sink->ops->task_end)
		return c->sink->ops->task_end(c->sink->ctx, &end);
	return 0;
}

static int decode_set_end(struct block_cursor *c, const uint8_t *p, size_t size)
{
	struct mp_set_end end = { 0 };

	if (!(c->block->flags & MPF_BLOCK_SET_END) || c->pos != c->size)
		return record_fail(c, "set end record not at the end of the set's last block");
	if (size < MPF_SET_END_SIZE)
		return record_fail(c, "set end record too short (%zu bytes)", size);
	c->saw_set_end = true;
	end.flags = mpf_load_le32(p);
	end.duration_ns = mp_load_le64(p + 8);
	mpf_load_ksm(p + 16, &end.ksm);

	if (c->sink && c->sink->ops->end_set)
		return c->sink->ops->end_set(c->sink->ctx, &end);
	return 0;
}

static int decode_record_body(struct block_cursor *c, unsigned type, const uint8_t *body,
			      size_t size)
{
	switch (type) {
	case MPF_REC_SET_INFO:
		return decode_set_info(c, body, size);
	case MPF_REC_TASK:
		return decode_task(c, body, size);
	case MPF_REC_REGION:
		return decode_region(c, body, size);
	case MPF_REC_FILE:
		return decode_file(c, body, size);
	case MPF_REC_PAGE_OWNER:
		return decode_page_owner(c, body, size);
	case MPF_REC_TASK_END:
		return decode_task_end(c, body, size);
	case MPF_REC_SET_END:
		return decode_set_end(c, body, size);
	}
	/* Later minor versions may add record types; they carry a length and are skipped. */
	if (c->reader->minor > MPF_VERSION_MINOR)
		return 0;
	return record_fail(c, "unknown record type %u", type);
}

static int decode_record(struct block_cursor *c)
{
	unsigned type = c->raw[c->pos++];
	uint64_t size;
	const uint8_t *body;
	int rc;

	if (type != MPF_REC_SET_INFO && !c->reader->set.have_info)
		return record_fail(c, "record of type %u before the set header", type);
	if (type & MPF_PAGE_RECORD)
		return decode_page(c, type);

	rc = flush_pages(c);
	if (!rc)
		rc = get_varint(c, &size, "record length");
	if (rc)
		return rc;
	if (size > c->size - c->pos)
		return record_fail(c, "record length %" PRIu64 " overruns the block (%zu bytes "
				   "left)", size, c->size - c->pos);
	body = c->raw + c->pos;
	c->pos += size;
	return decode_record_body(c, type, body, size);
}

/* Decode the records of one block, passing them to c->sink unless it is NULL. */
static int decode_records(struct block_cursor *c)
{
	const struct block *b = c->block;
	int rc = 0;

	mpf_page_state_reset(&c->reader->pages);
	c->reader->batch_count = 0;
	while (!rc && c->pos < c->size) {
		c->record_start = c->pos;
		rc = decode_record(c);
		c->record++;
	}
	if (!rc)
		rc = flush_pages(c);
	if (rc)
		return rc;

	if (c->record != b->records)
		return reader_fail(c->reader, -EBADMSG, b->offset, "block holds %" PRIu32
				   " records, but its header says %" PRIu32, c->record, b->records);
	if ((b->flags & MPF_BLOCK_SET_START) && !c->reader->set.have_info)
		return reader_fail(c->reader, -EBADMSG, b->offset,
				   "first block of the set has no set header");
	if ((b->flags & MPF_BLOCK_SET_END) && !c->saw_set_end)
		return reader_fail(c->reader, -EBADMSG, b->offset,
				   "last block of the set does not end with a set end record");
	return 0;
}

/* -------------------------------------------------------------- blocks */

static int parse_block_header(struct mp_reader *r, uint64_t offset, struct block *b)
{
	const uint8_t *h = r->data + offset;
	size_t left = r->size - offset;
	uint32_t stored_crc, crc;

	if (left < MPF_BLOCK_HEADER_SIZE)
		return reader_torn(r, offset, "file ends inside a block header (%zu of %u bytes)",
				   left, MPF_BLOCK_HEADER_SIZE);
	if (memcmp(h, MPF_BLOCK_MAGIC, 4))
		return reader_fail(r, -EBADMSG, offset, "invalid block magic");

	b->offset = offset;
	b->type = h[4];
	b->compression = h[5];
	b->flags = mpf_load_le16(h + 6);
	b->stored_size = mpf_load_le32(h + 8);
	b->raw_size = mpf_load_le32(h + 12);
	b->records = mpf_load_le32(h + 16);
	b->stored = h + MPF_BLOCK_HEADER_SIZE;
	if (b->raw_size > MPF_BLOCK_RAW_MAX || b->stored_size > ZSTD_compressBound(MPF_BLOCK_RAW_MAX))
		return reader_fail(r, -EBADMSG, offset, "block size %" PRIu32 " (stored %" PRIu32
				   ") exceeds %u", b->raw_size, b->stored_size, MPF_BLOCK_RAW_MAX);
	if (b->stored_size > left - MPF_BLOCK_HEADER_SIZE)
		return reader_torn(r, offset, "file ends inside the block (%" PRIu32 " bytes "
				   "stored, %zu left)", b->stored_size, left - MPF_BLOCK_HEADER_SIZE);

	stored_crc = mpf_load_le32(h + 20);
	crc = mpf_block_crc(h, b->stored, b->stored_size);
	if (crc != stored_crc)
		return reader_fail(r, -EBADMSG, offset, "block checksum mismatch (stored 0x%08"
				   PRIx32 ", computed 0x%08" PRIx32 ")", stored_crc, crc);
	return 0;
}

/* Check what a header says that the checksum cannot vouch for. */
static int check_block_header(struct mp_reader *r, const struct block *b)
{
	bool newer = r->minor > MPF_VERSION_MINOR;

	if (b->compression > MPF_COMPRESS_ZSTD)
		return reader_fail(r, -EBADMSG, b->offset, "unknown compression method %u",
				   b->compression);
	if (!newer && (b->flags & ~MPF_BLOCK_FLAGS_KNOWN))
		return reader_fail(r, -EBADMSG, b->offset, "unknown block flags 0x%x", b->flags);
	if (b->compression == MPF_COMPRESS_NONE && b->stored_size != b->raw_size)
		return reader_fail(r, -EBADMSG, b->offset, "uncompressed block stores %" PRIu32
				   " bytes, but its header says %" PRIu32, b->stored_size,
				   b->raw_size);
	if (b->records > b->raw_size)
		return reader_fail(r, -EBADMSG, b->offset, "block of %" PRIu32 " bytes cannot "
				   "hold %" PRIu32 " records", b->raw_size, b->records);
	return 0;
}

/* The block's records, decompressed if need be. */
static int block_data(struct mp_reader *r, const struct block *b, const uint8_t **raw)
{
	size_t n;

	if (b->compression == MPF_COMPRESS_NONE) {
		*raw = b->stored;
		return 0;
	}
	if (!r->raw)
		r->raw = malloc(MPF_BLOCK_RAW_MAX);
	if (!r->zstd)
		r->zstd = ZSTD_createDCtx();
	if (!r->raw || !r->zstd)
		return reader_fail(r, -ENOMEM, b->offset, "cannot decompress block: out of memory");

	n = ZSTD_decompressDCtx(r->zstd, r->raw, b->raw_size, b->stored, b->stored_size);
	if (ZSTD_isError(n))
		return reader_fail(r, -EBADMSG, b->offset, "cannot decompress block: %s",
				   ZSTD_getErrorName(n));
	if (n != b->raw_size)
		return reader_fail(r, -EBADMSG, b->offset, "block decompresses to %zu bytes, but "
				   "its header says %" PRIu32, n, b->raw_size);
	*raw = r->raw;
	return 0;
}

static int decode_block(struct mp_reader *r, const struct block *b, const struct mp_sink *sink)
{
	struct block_cursor c = { .reader = r, .block = b, .sink = sink, .size = b->raw_size };
	int rc;

	if (b->type != MPF_BLOCK_RECORDS)
		return 0;	/* a block type of a later minor version (checked before) */
	rc = block_data(r, b, &c.raw);
	if (rc)
		return rc;
	return decode_records(&c);
}

/*
 * Read the block at offset as the next block of the set that starts at
 * set_offset.  Returns 1 for the set's last block, 0 for another block.
 */
static int check_block(struct mp_reader *r, uint64_t offset, uint64_t set_offset,
		       struct block *b)
{
	bool first = offset == set_offset;
	int rc;

	rc = parse_block_header(r, offset, b);
	if (!rc)
		rc = check_block_header(r, b);
	if (rc)
		return rc;
	if (b->type != MPF_BLOCK_RECORDS && r->minor <= MPF_VERSION_MINOR)
		return reader_fail(r, -EBADMSG, offset, "unknown block type %u", b->type);
	if (first && !(b->flags & MPF_BLOCK_SET_START))
		return reader_fail(r, -EBADMSG, offset, "block does not start a set");
	if (!first && (b->flags & MPF_BLOCK_SET_START))
		return reader_fail(r, -EBADMSG, set_offset, "set has no end record before the "
				   "next set at offset %" PRIu64, offset);
	if (first)
		memset(&r->set, 0, sizeof(r->set));

	rc = decode_block(r, b, NULL);
	if (rc)
		return rc;
	return (b->flags & MPF_BLOCK_SET_END) ? 1 : 0;
}

/* First pass: check every block of the set at r->offset; find where it ends. */
static int check_set(struct mp_reader *r, uint64_t *end)
{
	uint64_t offset = r->offset;
	struct block b;
	int rc;

	for (;;) {
		if (offset == r->size)
			return reader_torn(r, r->offset, "set is incomplete: the file ends at "
					   "offset %" PRIu64 " before its end record", offset);
		rc = check_block(r, offset, r->offset, &b);
		if (rc < 0)
			return rc;
		offset += MPF_BLOCK_HEADER_SIZE + b.stored_size;
		if (rc == 1)
			break;
	}
	*end = offset;
	return 0;
}

/* Second pass: hand the checked set to the sink. */
static int deliver_set(struct mp_reader *r, uint64_t end, const struct mp_sink *sink)
{
	uint64_t offset = r->offset;
	struct block b;
	int rc;

	memset(&r->set, 0, sizeof(r->set));
	while (offset < end) {
		rc = parse_block_header(r, offset, &b);
		if (!rc)
			rc = decode_block(r, &b, sink);
		if (rc)
			return rc;
		offset += MPF_BLOCK_HEADER_SIZE + b.stored_size;
	}
	return 0;
}

/*
 * Drop the mapped pages of the sets already read from this process.  A
 * series file can be far larger than the memory that one set needs, and
 * without this the whole file counts towards the resident size of the
 * reader by its end.  The pages stay in the page cache, and an access
 * maps them again: the mapping is PROT_READ and MAP_PRIVATE, so it has no
 * changes of its own that MADV_DONTNEED could drop.
 */
static void release_read_pages(struct mp_reader *reader)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t done = page_size > 0 ? reader->offset / page_size * page_size : 0;

	if (!reader->mapped || done <= reader->released)
		return;
	madvise((void *)(reader->data + reader->released), done - reader->released,
		MADV_DONTNEED);
	reader->released = done;
}

int mp_reader_next_set(struct mp_reader *reader, const struct mp_sink *sink,
		       struct mp_error *error)
{
	uint64_t end = 0;
	int rc;

	if (!reader->failed && reader->offset == reader->size)
		return 0;
	if (!reader->failed)
		check_set(reader, &end);
	if (reader->failed)
		return mp_fail(error, reader->failed, "%s", reader->error.message);

	rc = sink ? deliver_set(reader, end, sink) : 0;
	reader->offset = end;
	release_read_pages(reader);
	if (rc < 0 && reader->failed)
		return mp_fail(error, rc, "%s", reader->error.message);
	if (rc < 0 && sink->error && sink->error->message[0])
		return mp_fail(error, rc, "%s", sink->error->message);
	if (rc < 0)
		return mp_fail_errno(error, rc, "%s: set ending at offset %" PRIu64, reader->path,
				     end);
	return 1;
}

/* ---------------------------------------------------------- open, close */

static int check_file_header(struct mp_reader *r)
{
	const uint8_t *h = r->data;
	uint32_t stored_crc, crc;

	if (r->size == 0)
		return reader_fail(r, -EBADMSG, 0, "file is empty");
	if (r->size < MPF_FILE_HEADER_SIZE || memcmp(h, MPF_MAGIC, MPF_MAGIC_SIZE))
		return reader_fail(r, -EBADMSG, 0, "not a memprint snapshot file (%s)",
				   r->size < MPF_FILE_HEADER_SIZE ? "too short" : "wrong magic");

	r->major = mpf_load_le16(h + 8);
	r->minor = mpf_load_le16(h + 10);
	if (r->major > MPF_VERSION_MAJOR)
		return reader_fail(r, -ENOTSUP, 8, "format version %u.%u is newer than this "
				   "reader (%u.%u): a newer memprint is needed", r->major, r->minor,
				   MPF_VERSION_MAJOR, MPF_VERSION_MINOR);
	stored_crc = mpf_load_le32(h + 12);
	crc = mpf_file_header_crc(h);
	if (crc != stored_crc)
		return reader_fail(r, -EBADMSG, 12, "file header checksum mismatch (stored 0x%08"
				   PRIx32 ", computed 0x%08" PRIx32 ")", stored_crc, crc);
	if (r->major < 1)
		return reader_fail(r, -EBADMSG, 8, "invalid format version %u.%u", r->major,
				   r->minor);
	r->offset = MPF_FILE_HEADER_SIZE;
	return 0;
}

/*
 * Read a pipe or another file that cannot be mapped into memory.
 * NOTE: this holds the whole input in memory, unlike reading a regular file.
 */
static int read_whole(struct mp_reader *r, int fd)
{
	size_t capacity = 0;
	uint8_t *data = NULL, *bigger;
	ssize_t n;

	for (;;) {
		if (r->size == capacity) {
			capacity = capacity ? 2 * capacity : 1 << 20;
			bigger = realloc(data, capacity);
			if (!bigger) {
				free(data);
				return -ENOMEM;
			}
			data = bigger;
		}
		n = read(fd, data + r->size, capacity - r->size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(data);
			return -errno;
		}
		if (n == 0)
			break;
		r->size += n;
	}
	r->data = data;
	return 0;
}

static int map_file(struct mp_reader *r, int fd, struct mp_error *error)
{
	struct stat st;
	void *data;
	int rc;

	if (fstat(fd, &st) < 0)
		return mp_fail_errno(error, -errno, "cannot read snapshot file: %s", r->path);
	if (!S_ISREG(st.st_mode)) {
		rc = read_whole(r, fd);
		if (rc < 0)
			return mp_fail_errno(error, rc, "cannot read snapshot file: %s", r->path);
		return 0;
	}
	if (st.st_size == 0)
		return 0;

	/*
	 * NOTE: a file truncated by someone else while it is mapped (an append
	 * cutting off a torn tail) raises SIGBUS on access past its new end.
	 */
	data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return mp_fail_errno(error, -errno, "cannot map snapshot file: %s", r->path);
	madvise(data, st.st_size, MADV_SEQUENTIAL);
	r->data = data;
	r->size = st.st_size;
	r->mapped = true;
	return 0;
}

int mp_reader_open(struct mp_reader **reader, const char *path, struct mp_error *error)
{
	struct mp_reader *r;
	int fd, rc;

	*reader = NULL;
	r = calloc(1, sizeof(*r));
	if (r) {
		r->path = strdup(path);
		r->batch = malloc(PAGE_BATCH * sizeof(*r->batch));
	}
	if (!r || !r->path || !r->batch) {
		mp_reader_close(r);
		return mp_fail(error, -ENOMEM, "cannot open snapshot file: %s: out of memory", path);
	}

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = mp_fail_errno(error, -errno, "cannot open snapshot file: %s", path);
		mp_reader_close(r);
		return rc;
	}
	rc = map_file(r, fd, error);
	close(fd);
	if (!rc && check_file_header(r) < 0)
		rc = mp_fail(error, r->failed, "%s", r->error.message);
	if (rc < 0) {
		mp_reader_close(r);
		return rc;
	}
	*reader = r;
	return 0;
}

void mp_reader_close(struct mp_reader *reader)
{
	if (!reader)
		return;
	if (reader->mapped)
		munmap((void *)reader->data, reader->size);
	else
		free((void *)reader->data);
	ZSTD_freeDCtx(reader->zstd);
	free(reader->raw);
	free(reader->batch);
	free(reader->path);
	free(reader);
}

bool mp_reader_torn(const struct mp_reader *reader)
{
	return reader->torn;
}

void mp_reader_version(const struct mp_reader *reader, unsigned *major, unsigned *minor)
{
	*major = reader->major;
	*minor = reader->minor;
}

static int keep_set_info(void *ctx, const struct mp_set_info *info)
{
	*(struct mp_set_info *)ctx = *info;
	return 0;
}

int mpf_valid_end(const char *path, uint64_t *end, struct mp_set_info *last,
		  struct mp_error *error)
{
	static const struct mp_sink_ops keep_ops = { .begin_set = keep_set_info };
	const struct mp_sink keep = { .ops = &keep_ops, .ctx = last };
	struct mp_reader *r;
	int rc;

	memset(last, 0, sizeof(*last));
	rc = mp_reader_open(&r, path, error);
	if (rc < 0)
		return rc;
	while ((rc = mp_reader_next_set(r, &keep, error)) > 0)
		;
	if (rc < 0 && r->torn)
		rc = 0;
	*end = r->offset;
	mp_reader_close(r);
	return rc;
}
