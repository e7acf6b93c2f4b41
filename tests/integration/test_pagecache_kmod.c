// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pagecache_kmod.c - the user-space page-cache scan and memprint.ko's
 * page-cache scan record the same pages
 *
 * Both scan the same files: one fully cached, one cached at pages 1 and 5
 * only.  Each must give the same (file, page offset, digest, PFN) records.
 * xxh64 is used because the module has no xxh3.  Skips when the module is
 * not loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#define PAGE 4096
#define MAX_PAGES 64

struct record {
	char name[16];
	uint64_t index, pfn;
	uint8_t digest[8];
};

struct collected {
	char names[8][16];
	size_t file_count;
	struct record records[MAX_PAGES];
	size_t count;
};

static int collect_file(void *ctx, const struct mp_file *file)
{
	struct collected *c = ctx;
	const char *slash = memrchr(file->path, '/', file->path_size);
	size_t offset = slash ? (size_t)(slash - file->path) + 1 : 0;

	assert_true(c->file_count < 8);
	snprintf(c->names[c->file_count++], 16, "%.*s", (int)(file->path_size - offset),
		 file->path + offset);
	return 0;
}

static int collect_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct collected *c = ctx;

	for (size_t i = 0; i < count; i++) {
		struct record *r = &c->records[c->count++];

		assert_true(c->count <= MAX_PAGES);
		assert_true(pages[i].region < c->file_count);
		memcpy(r->name, c->names[pages[i].region], sizeof(r->name));
		r->index = pages[i].index;
		r->pfn = pages[i].pfn;
		memcpy(r->digest, pages[i].digest, 8);
	}
	return 0;
}

static const struct mp_sink_ops collect_ops = { .file = collect_file, .pages = collect_pages };

static int compare_records(const void *x, const void *y)
{
	const struct record *a = x, *b = y;
	int order = strcmp(a->name, b->name);

	if (order)
		return order;
	return (a->index > b->index) - (a->index < b->index);
}

static void write_file(const char *path, size_t pages, uint8_t seed)
{
	uint8_t page[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	for (size_t i = 0; i < pages; i++) {
		for (size_t j = 0; j < PAGE; j++)
			page[j] = (uint8_t)(seed * 31 + i * 7 + j * 13 + (j >> 8));
		assert_int_equal(write(fd, page, PAGE), PAGE);
	}
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* Drop the whole file, then read back pages 1 and 5 without readahead. */
static void cache_two_pages(const char *path)
{
	uint8_t page[PAGE];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0);
	assert_int_equal(pread(fd, page, PAGE, 1 * PAGE), PAGE);
	assert_int_equal(pread(fd, page, PAGE, 5 * PAGE), PAGE);
	close(fd);
}

static void user_space_and_module_agree(void **state)
{
	struct collected user = { 0 }, module = { 0 };
	struct mp_scan_options options = { .hash = MP_HASH_XXH64 };
	struct mp_sink user_sink = { &collect_ops, &user, NULL };
	struct mp_sink module_sink = { &collect_ops, &module, NULL };
	struct mp_error error = { 0 };
	char dir[] = "/var/tmp/mp-pc-XXXXXX", full[64], partial[64];
	const char *paths[] = { full, partial };
	struct mp_kmod_request request = {
		.target = MP_KMOD_PAGECACHE,
		.paths = paths,
		.path_count = 2,
	};
	int rc;

	(void)state;
	mp_test_require_root();
	assert_non_null(mkdtemp(dir));
	snprintf(full, sizeof(full), "%s/full", dir);
	snprintf(partial, sizeof(partial), "%s/partial", dir);
	write_file(full, 6, 1);
	write_file(partial, 8, 2);
	cache_two_pages(partial);

	rc = mp_kmod_scan(&request, &options, &module_sink, &error);
	if (rc == 0)
		mp_assert_ok(mp_pagecache_scan(paths, 2, &options, &user_sink, NULL, &error),
			     &error);
	unlink(full);
	unlink(partial);
	rmdir(dir);
	if (rc == -ENOENT)
		mp_test_skip("memprint.ko is not loaded");
	mp_assert_ok(rc, &error);

	assert_int_equal(user.count, 6 + 2);
	assert_int_equal(module.count, user.count);
	qsort(user.records, user.count, sizeof(struct record), compare_records);
	qsort(module.records, module.count, sizeof(struct record), compare_records);
	for (size_t i = 0; i < user.count; i++) {
		assert_string_equal(user.records[i].name, module.records[i].name);
		assert_int_equal(user.records[i].index, module.records[i].index);
		assert_memory_equal(user.records[i].digest, module.records[i].digest, 8);
		assert_int_equal(user.records[i].pfn, module.records[i].pfn);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_space_and_module_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
