// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_format_crafted.c - snapshot files built byte by byte from
 * docs/format.md, with a CRC-32C computed here bit by bit: the reader must
 * read what a later minor version may add, and reject records that pass
 * their checksum but break a rule of the format, naming the problem.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

/* CRC-32C, bit by bit, independent of ISA-L. */
static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82f63b78u : 0);
	}
	return crc;
}

struct buffer {
	uint8_t data[8192];
	size_t size;
};

static void put(struct buffer *b, const void *bytes, size_t size)
{
	assert_true(b->size + size <= sizeof(b->data));
	memcpy(b->data + b->size, bytes, size);
	b->size += size;
}

static void put_le(struct buffer *b, uint64_t value, int bytes)
{
	for (int i = 0; i < bytes; i++, value >>= 8) {
		uint8_t byte = (uint8_t)value;

		put(b, &byte, 1);
	}
}

static void put_byte(struct buffer *b, uint8_t byte)
{
	put(b, &byte, 1);
}

static void put_file_header(struct buffer *b, uint16_t major, uint16_t minor)
{
	put(b, "\x89MPSNAP\n", 8);
	put_le(b, major, 2);
	put_le(b, minor, 2);
	put_le(b, ~crc32c_update(~0u, b->data, 12), 4);
}

/* Append a block (type 1, uncompressed) holding the records in raw. */
static void put_block(struct buffer *file, const struct buffer *raw, uint16_t flags,
		      uint32_t records)
{
	size_t start = file->size;
	uint32_t crc;

	put(file, "MPBK", 4);
	put_byte(file, 1);
	put_byte(file, 0);
	put_le(file, flags, 2);
	put_le(file, raw->size, 4);
	put_le(file, raw->size, 4);
	put_le(file, records, 4);
	crc = crc32c_update(~0u, file->data + start, 20);
	crc = crc32c_update(crc, raw->data, raw->size);
	put_le(file, ~crc, 4);
	put(file, raw->data, raw->size);
}

static void put_set_info(struct buffer *raw, uint32_t digest_size)
{
	put_byte(raw, 1);
	put(raw, "\x84\x01", 2);	/* varint body length 132: 128 + "h" + "k" with their lengths */
	put_le(raw, 4096, 4);
	put_le(raw, MP_SOURCE_SYNTHETIC, 4);
	put_le(raw, MP_HASH_XXH3, 4);
	put_le(raw, digest_size, 4);
	put_le(raw, 0, 4);
	put_le(raw, 0, 4);
	put_le(raw, 111, 8);
	put_le(raw, 222, 8);
	put_le(raw, 333, 8);
	for (int i = 0; i < 80; i++)
		put_byte(raw, 0);
	put_byte(raw, 1);
	put_byte(raw, 'h');
	put_byte(raw, 1);
	put_byte(raw, 'k');
}

/* A task record, with extra bytes at the end of its body. */
static void put_task(struct buffer *raw, int32_t pid, size_t extra)
{
	put_byte(raw, 2);
	put_byte(raw, (uint8_t)(72 + extra));
	put_le(raw, (uint32_t)pid, 4);
	put_le(raw, 1, 4);
	put_le(raw, 0, 4);
	put_le(raw, 0, 4);
	put(raw, "crafted\0\0\0\0\0\0\0\0\0", 16);
	for (int i = 0; i < 40; i++)
		put_byte(raw, 0);
	for (size_t i = 0; i < extra; i++)
		put_byte(raw, 0xaa);
}

static void put_set_end(struct buffer *raw)
{
	put_byte(raw, 7);
	put_byte(raw, 96);
	put_le(raw, 0, 4);
	put_le(raw, 0, 4);
	put_le(raw, 42, 8);
	for (int i = 0; i < 80; i++)
		put_byte(raw, 0);
}

/* A page owner record for the pages after it. */
static void put_owner(struct buffer *raw, uint32_t task, uint32_t region)
{
	put_byte(raw, 5);
	put_byte(raw, 8);
	put_le(raw, task, 4);
	put_le(raw, region, 4);
}

/* ------------------------------------------------------------ reading */

struct counts {
	int sets, tasks, pages;
	int32_t pid;
	uint64_t index, pfn;
};

static int count_begin(void *ctx, const struct mp_set_info *info)
{
	(void)info;
	((struct counts *)ctx)->sets++;
	return 0;
}

static int count_task(void *ctx, const struct mp_task *task)
{
	struct counts *c = ctx;

	c->tasks++;
	c->pid = task->pid;
	assert_string_equal(task->comm, "crafted");
	return 0;
}

static int count_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct counts *c = ctx;

	c->pages += (int)count;
	c->index = pages[count - 1].index;
	c->pfn = pages[count - 1].pfn;
	return 0;
}

static const struct mp_sink_ops count_ops = {
	.begin_set = count_begin, .task = count_task, .pages = count_pages,
};

/* Read the file in b; returns the result of the first mp_reader_next_set(). */
static int read_buffer(const struct buffer *b, struct counts *counts, struct mp_error *error)
{
	char path[] = "/tmp/memprint-test-crafted-XXXXXX";
	struct mp_sink sink = { &count_ops, counts, NULL };
	struct mp_reader *reader;
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->data, b->size), (ssize_t)b->size);
	close(fd);

	memset(counts, 0, sizeof(*counts));
	rc = mp_reader_open(&reader, path, error);
	unlink(path);
	if (rc < 0)
		return rc;
	rc = mp_reader_next_set(reader, &sink, error);
	mp_reader_close(reader);
	return rc;
}

/* Reading file must fail as damaged, naming problem, before any set is passed on. */
static void assert_rejected(const struct buffer *file, const char *problem)
{
	struct counts counts;
	struct mp_error error = { 0 };

	assert_int_equal(read_buffer(file, &counts, &error), -EBADMSG);
	if (!strstr(error.message, problem))
		fail_msg("message \"%s\" does not contain \"%s\"", error.message, problem);
	assert_int_equal(counts.sets, 0);
	assert_int_equal(counts.pages, 0);
}

/* ------------------------------------------------------------- tests */

static void test_crc32c_check_value(void **state)
{
	(void)state;
	assert_int_equal(~crc32c_update(~0u, (const uint8_t *)"123456789", 9), 0xe3069283u);
}

/* A set with one task, built to the byte as the specification says. */
static void build_minimal(struct buffer *file, uint16_t minor, size_t task_extra,
			  bool unknown_record)
{
	struct buffer raw = { .size = 0 };
	uint32_t records = 3;

	file->size = 0;
	put_file_header(file, 1, minor);
	put_set_info(&raw, 8);
	put_task(&raw, 31337, task_extra);
	if (unknown_record) {
		put_byte(&raw, 0x30);
		put_byte(&raw, 3);
		put(&raw, "new", 3);
		records++;
	}
	put_set_end(&raw);
	put_block(file, &raw, 3, records);
}

static void test_crafted_minimal_set(void **state)
{
	struct buffer file;
	struct counts counts;
	struct mp_error error = { 0 };

	(void)state;
	build_minimal(&file, 0, 0, false);
	mp_assert_ok(read_buffer(&file, &counts, &error), &error);
	assert_int_equal(counts.sets, 1);
	assert_int_equal(counts.tasks, 1);
	assert_int_equal(counts.pid, 31337);
}

static void test_newer_minor_skips_additions(void **state)
{
	struct buffer file;
	struct counts counts;
	struct mp_error error = { 0 };

	(void)state;
	build_minimal(&file, 3, 12, true);
	assert_int_equal(read_buffer(&file, &counts, &error), 1);
	assert_int_equal(counts.sets, 1);
	assert_int_equal(counts.pid, 31337);
}

static void test_same_minor_rejects_unknown_record(void **state)
{
	struct buffer file;

	(void)state;
	build_minimal(&file, 0, 0, true);
	assert_rejected(&file, ": offset 16: block record 2 (byte 209 of the block's data): "
			"unknown record type 48");
}

/* Build a set with one page whose owner is (task, region); no regions exist. */
static void build_page_set(struct buffer *file, uint32_t task, uint32_t region,
			   uint32_t digest_size)
{
	struct buffer raw = { .size = 0 };

	file->size = 0;
	put_file_header(file, 1, 0);
	put_set_info(&raw, digest_size);
	put_task(&raw, 1, 0);
	put_owner(&raw, task, region);
	put_byte(&raw, 0x80 | 0x7c);	/* index and PFN follow, the rest as before */
	put_byte(&raw, 0x0a);		/* index: zigzag 10 = +5 */
	put_byte(&raw, 0x03);		/* PFN: zigzag 3 = -2 */
	put_set_end(&raw);
	put_block(file, &raw, 3, 5);
}

static void test_page_deltas(void **state)
{
	struct buffer file;
	struct counts counts;
	struct mp_error error = { 0 };

	(void)state;
	build_page_set(&file, 0, MP_NONE, 8);
	mp_assert_ok(read_buffer(&file, &counts, &error), &error);
	assert_int_equal(counts.pages, 1);
	assert_int_equal(counts.index, 5);
	assert_int_equal(counts.pfn, UINT64_MAX - 1);
}

static void test_page_region_out_of_range(void **state)
{
	struct buffer file;

	(void)state;
	build_page_set(&file, 0, 0, 8);
	assert_rejected(&file, "region index 0 out of range (0 in the set)");
}

static void test_page_task_out_of_range(void **state)
{
	struct buffer file;

	(void)state;
	build_page_set(&file, 1, MP_NONE, 8);
	assert_rejected(&file, "task index 1 out of range (1 tasks in the set)");
}

static void test_digest_size_too_large(void **state)
{
	struct buffer file;

	(void)state;
	build_page_set(&file, 0, MP_NONE, 33);
	assert_rejected(&file, "digest size 33 exceeds 32");
}

/* The page record ends before its digest: the varints of the next record are not read. */
static void test_page_digest_truncated(void **state)
{
	struct buffer file = { .size = 0 }, raw = { .size = 0 };

	(void)state;
	put_file_header(&file, 1, 0);
	put_set_info(&raw, 32);
	put_byte(&raw, 0x80 | 0x3f);	/* only the digest follows */
	put(&raw, "short", 5);
	put_block(&file, &raw, 1, 2);
	assert_rejected(&file, "page digest truncated");
}

static void test_record_count_mismatch(void **state)
{
	struct buffer file = { .size = 0 }, raw = { .size = 0 };

	(void)state;
	put_file_header(&file, 1, 0);
	put_set_info(&raw, 8);
	put_set_end(&raw);
	put_block(&file, &raw, 3, 5);
	assert_rejected(&file, "offset 16: block holds 2 records, but its header says 5");
}

static void test_set_without_end_record(void **state)
{
	struct buffer file = { .size = 0 }, raw = { .size = 0 };

	(void)state;
	put_file_header(&file, 1, 0);
	put_set_info(&raw, 8);
	put_block(&file, &raw, 3, 1);
	assert_rejected(&file, "last block of the set does not end with a set end record");
}

static void test_varint_overflow(void **state)
{
	struct buffer file = { .size = 0 }, raw = { .size = 0 };

	(void)state;
	put_file_header(&file, 1, 0);
	put_set_info(&raw, 8);
	put_byte(&raw, 0x80 | 0x7e);	/* index follows */
	put(&raw, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	put_set_end(&raw);
	put_block(&file, &raw, 3, 3);
	assert_rejected(&file, "invalid or truncated varint in page index");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_crafted_minimal_set),
		cmocka_unit_test(test_newer_minor_skips_additions),
		cmocka_unit_test(test_same_minor_rejects_unknown_record),
		cmocka_unit_test(test_page_deltas),
		cmocka_unit_test(test_page_region_out_of_range),
		cmocka_unit_test(test_page_task_out_of_range),
		cmocka_unit_test(test_digest_size_too_large),
		cmocka_unit_test(test_page_digest_truncated),
		cmocka_unit_test(test_record_count_mismatch),
		cmocka_unit_test(test_set_without_end_record),
		cmocka_unit_test(test_varint_overflow),
	};

	return cmocka_run_group_tests_name("format_crafted", tests, NULL, NULL);
}
