// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_kmod_source.c - the kernel module backend without the module
 *
 * Module responses are built here record by record, as memprint.ko writes
 * them (kmod/memprint_uapi.h), and fed to the dispatcher; a recording sink
 * checks the calls that come out.  The guest suite (tests/guest) checks
 * the same path against the real module.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "testlib.h"
#include "source/kmod.h"

/* What the sink received. */
struct recording {
	struct mp_task tasks[4];
	size_t task_count;
	struct mp_region regions[8];
	char region_paths[8][64];
	size_t region_count;
	struct mp_file files[8];
	char file_paths[8][64];
	size_t file_count;
	struct mp_page pages[16];
	size_t page_count;
	struct mp_task_end ends[4];
	size_t end_count;
};

static int on_task(void *ctx, const struct mp_task *task)
{
	struct recording *r = ctx;

	r->tasks[r->task_count++] = *task;
	return 0;
}

static int on_region(void *ctx, const struct mp_region *region)
{
	struct recording *r = ctx;

	memcpy(r->region_paths[r->region_count], region->path, region->path_size);
	r->regions[r->region_count++] = *region;
	return 0;
}

static int on_file(void *ctx, const struct mp_file *file)
{
	struct recording *r = ctx;

	memcpy(r->file_paths[r->file_count], file->path, file->path_size);
	r->files[r->file_count++] = *file;
	return 0;
}

static int on_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct recording *r = ctx;

	memcpy(r->pages + r->page_count, pages, count * sizeof(*pages));
	r->page_count += count;
	return 0;
}

static int on_task_end(void *ctx, const struct mp_task_end *end)
{
	struct recording *r = ctx;

	r->ends[r->end_count++] = *end;
	return 0;
}

static const struct mp_sink_ops recording_ops = {
	.task = on_task,
	.region = on_region,
	.file = on_file,
	.pages = on_pages,
	.task_end = on_task_end,
};

struct fixture {
	struct recording recording;
	struct mp_sink sink;
	struct mp_scan_options options;
	struct mp_kmod_request request;
	struct mp_page batch[64];
	struct kmod_scan ks;
};

static void start(struct fixture *f, enum mp_kmod_target target)
{
	memset(f, 0, sizeof(*f));
	f->sink = (struct mp_sink){ .ops = &recording_ops, .ctx = &f->recording };
	f->request.target = target;
	f->ks.request = &f->request;
	f->ks.options = &f->options;
	f->ks.sink = &f->sink;
	f->ks.target = target;
	f->ks.hash = MP_HASH_XXH64;
	f->ks.digest_size = 8;
	f->ks.pages = f->batch;
	f->ks.fd = -1;
	mp_kmod_response_reset(&f->ks);
}

static void finish(struct fixture *f)
{
	free(f->ks.file_table);
	free(f->ks.file_map);
}

/* Records with a path: the fixed part, then the path padded to 8 bytes. */
union record {
	struct memprint_rec_header header;
	struct memprint_rec_task task;
	struct memprint_rec_region region;
	struct memprint_rec_file file;
	struct memprint_rec_page page;
	struct memprint_rec_task_end task_end;
	struct memprint_rec_end end;
	uint8_t bytes[256];
};

static void send_record(struct fixture *f, union record *rec, uint16_t type, size_t fixed,
			const char *path)
{
	size_t path_size = path ? strlen(path) : 0;

	memcpy(rec->bytes + fixed, path ? path : "", path_size);
	rec->header.type = type;
	rec->header.size = (uint32_t)((fixed + path_size + 7) / 8 * 8);
	assert_int_equal(mp_kmod_dispatch(&f->ks, &rec->header), 0);
}

static void send_page(struct fixture *f, uint64_t index, uint32_t region, uint64_t kpageflags)
{
	union record rec = { 0 };

	rec.page.index = index;
	rec.page.pfn = 0x1000 + index;
	rec.page.pagemap = MP_PM_PRESENT | 0x1234;	/* PFN bits must not pass */
	rec.page.kpageflags = kpageflags;
	rec.page.mapcount = 1;
	rec.page.flags = MP_PAGE_PFN_VALID;
	rec.page.region = region;
	rec.page.digest[0] = (uint8_t)index;
	send_record(f, &rec, MEMPRINT_REC_PAGE, sizeof(rec.page), NULL);
}

static void send_region(struct fixture *f, uint64_t start, const char *path)
{
	union record rec = { 0 };

	rec.region.start = start;
	rec.region.end = start + 0x10000;
	rec.region.kind = MP_REGION_FILE;
	rec.region.dev = 0x801;		/* new_encode_dev(8, 1) */
	rec.region.path_size = (uint32_t)strlen(path);
	send_record(f, &rec, MEMPRINT_REC_REGION, sizeof(rec.region), path);
}

static void send_file(struct fixture *f, uint64_t inode, const char *path)
{
	union record rec = { 0 };

	rec.file.inode = inode;
	rec.file.size = 3 * MP_PAGE_SIZE;
	rec.file.path_size = (uint32_t)strlen(path);
	send_record(f, &rec, MEMPRINT_REC_FILE, sizeof(rec.file), path);
}

static void send_end(struct fixture *f, int error)
{
	union record rec = { 0 };

	rec.end.error = error;
	send_record(f, &rec, MEMPRINT_REC_END, sizeof(rec.end), NULL);
}

static void test_decode_dev(void **state)
{
	uint64_t dev;

	(void)state;
	dev = mp_kmod_decode_dev(0x801);
	assert_int_equal(major(dev), 8);
	assert_int_equal(minor(dev), 1);
	/* new_encode_dev(259, 300000): minor's low byte, major << 8, minor's rest << 12 */
	dev = mp_kmod_decode_dev(0x493103e0);
	assert_int_equal(major(dev), 259);
	assert_int_equal(minor(dev), 300000);
}

/* Two tasks, each its own response: regions are numbered across the set. */
static void test_task_responses(void **state)
{
	struct fixture f;
	struct recording *r = &f.recording;
	union record rec = { 0 };

	(void)state;
	start(&f, MP_KMOD_TASKS);
	rec.task.pid = 41;
	memcpy(rec.task.comm, "first", 6);
	send_record(&f, &rec, MEMPRINT_REC_TASK, sizeof(rec.task), NULL);
	send_region(&f, 0x400000, "/bin/first");
	send_page(&f, 0x400, 0, 0);
	send_page(&f, 0x401, 0, 1ull << MP_KPF_THP);
	memset(&rec, 0, sizeof(rec));
	rec.task_end.pages = 2;
	rec.task_end.skipped[MP_SKIP_SWAPPED] = 5;
	send_record(&f, &rec, MEMPRINT_REC_TASK_END, sizeof(rec.task_end), NULL);
	send_end(&f, 0);

	mp_kmod_response_reset(&f.ks);
	f.ks.task_index = 1;
	memset(&rec, 0, sizeof(rec));
	rec.task.pid = 42;
	send_record(&f, &rec, MEMPRINT_REC_TASK, sizeof(rec.task), NULL);
	send_region(&f, 0x500000, "/bin/second");
	send_page(&f, 0x500, 0, 0);
	send_end(&f, 0);

	assert_int_equal(r->task_count, 2);
	assert_int_equal(r->tasks[0].pid, 41);
	assert_string_equal(r->tasks[0].comm, "first");
	assert_int_equal(r->region_count, 2);
	assert_string_equal(r->region_paths[0], "/bin/first");
	assert_int_equal(r->regions[1].task, 1);
	assert_int_equal(major(r->regions[0].dev), 8);
	assert_int_equal(r->page_count, 3);
	assert_int_equal(r->pages[0].region, 0);
	assert_int_equal(r->pages[2].region, 1);
	assert_int_equal(r->pages[2].task, 1);
	assert_int_equal(r->pages[0].pagemap, MP_PM_PRESENT);
	assert_false(r->pages[0].flags & MP_PAGE_HUGE);
	assert_true(r->pages[1].flags & MP_PAGE_HUGE);
	assert_int_equal(r->end_count, 1);
	assert_int_equal(r->ends[0].pages, 2);
	assert_int_equal(r->ends[0].skipped[MP_SKIP_SWAPPED], 5);
	finish(&f);
}

/* Physical pages of files: one file record per inode, before its pages. */
static void test_physical_files(void **state)
{
	struct fixture f;
	struct recording *r = &f.recording;
	union record rec = { 0 };

	(void)state;
	start(&f, MP_KMOD_PHYSICAL);
	for (int i = 0; i < 3; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.page.index = rec.page.pfn = 100 + i;
		rec.page.region = 0xffffffffu;
		rec.page.file_dev = 0x801;
		rec.page.file_inode = i == 1 ? 77 : 12;
		send_record(&f, &rec, MEMPRINT_REC_PAGE, sizeof(rec.page), NULL);
	}
	memset(&rec, 0, sizeof(rec));
	rec.page.index = rec.page.pfn = 200;
	rec.page.region = 0xffffffffu;
	send_record(&f, &rec, MEMPRINT_REC_PAGE, sizeof(rec.page), NULL);
	send_end(&f, 0);

	assert_int_equal(r->file_count, 2);
	assert_int_equal(r->files[0].inode, 12);
	assert_int_equal(r->files[1].inode, 77);
	assert_int_equal(r->page_count, 4);
	assert_int_equal(r->pages[0].region, 0);
	assert_int_equal(r->pages[1].region, 1);
	assert_int_equal(r->pages[2].region, 0);
	assert_int_equal(r->pages[3].region, MP_NONE);
	assert_int_equal(r->pages[0].task, MP_NONE);
	finish(&f);
}

/* A directory scan keeps the files below the directory and their pages only. */
static void test_directory_filter(void **state)
{
	struct fixture f;
	struct recording *r = &f.recording;

	(void)state;
	start(&f, MP_KMOD_PAGECACHE);
	f.ks.below = "/srv/a";
	send_file(&f, 1, "/srv/a/kept");
	send_page(&f, 0, 0, 0);
	send_file(&f, 2, "/srv/ab/left-out");
	send_page(&f, 0, 1, 0);
	send_file(&f, 3, "/srv/a/sub/kept-too");
	send_page(&f, 4, 2, 0);
	send_end(&f, 0);

	assert_int_equal(r->file_count, 2);
	assert_string_equal(r->file_paths[0], "/srv/a/kept");
	assert_string_equal(r->file_paths[1], "/srv/a/sub/kept-too");
	assert_int_equal(r->page_count, 2);
	assert_int_equal(r->pages[0].region, 0);
	assert_int_equal(r->pages[1].region, 1);
	assert_int_equal(r->pages[1].index, 4);
	finish(&f);
}

static void test_end_error(void **state)
{
	struct fixture f;

	(void)state;
	start(&f, MP_KMOD_TASKS);
	send_end(&f, -EINTR);
	assert_true(f.ks.done);
	assert_int_equal(f.ks.kernel_error, -EINTR);
	finish(&f);
}

static int scan_with(const char *device, enum mp_hash_id hash, const void *key,
		     struct mp_error *error)
{
	static const pid_t pid = 1;
	struct mp_kmod_request request = {
		.target = MP_KMOD_TASKS, .pids = &pid, .pid_count = 1, .device = device,
	};
	struct mp_scan_options options = { .hash = hash, .hash_key = key, .hash_key_size = 4 };
	struct recording recording = { 0 };
	struct mp_sink sink = { .ops = &recording_ops, .ctx = &recording };

	return mp_kmod_scan(&request, &options, &sink, error);
}

static void test_scan_errors(void **state)
{
	struct mp_error error;

	(void)state;
	assert_int_equal(scan_with("/nonexistent/memprint", MP_HASH_XXH64, NULL, &error), -ENOENT);
	assert_non_null(strstr(error.message, "load memprint.ko"));
	assert_int_equal(scan_with("/dev/null", MP_HASH_XXH3, NULL, &error), -EOPNOTSUPP);
	assert_non_null(strstr(error.message, "xxh3"));
	assert_int_equal(scan_with("/dev/null", MP_HASH_XXH64, "key", &error), -EOPNOTSUPP);
	/* /dev/null opens but knows no memprint ioctl. */
	assert_int_equal(scan_with("/dev/null", MP_HASH_XXH64, NULL, &error), -ENOTTY);
	assert_non_null(strstr(error.message, "pid 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_dev),
		cmocka_unit_test(test_task_responses),
		cmocka_unit_test(test_physical_files),
		cmocka_unit_test(test_directory_filter),
		cmocka_unit_test(test_end_error),
		cmocka_unit_test(test_scan_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
