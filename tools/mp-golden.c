// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mp-golden.c - write the golden snapshot files of tests/golden
 *
 * Usage: mp-golden DIR
 *        mp-golden --large FILE
 *
 * Every record is spelled out below, so that the expected dumps checked in
 * beside the files can be compared with this source by eye.  The files
 * cover: an uncompressed and a zstd-compressed task set, a series of three
 * sets in one file, a page-cache set with a file table, paths with spaces,
 * newlines, quotes and bytes that are not UTF-8, and digest widths of 4, 8,
 * 16 and 32 bytes.  Digests are made-up bytes, not hashes of real pages:
 * the format stores them without knowing the algorithm.
 *
 * With --large, FILE gets one set of 20000 pages, which fills several
 * blocks, for the tests of damaged files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "memprint.h"

#define PATH_BYTES(s) (s), sizeof(s) - 1

static const char *output_dir;
static struct mp_error error;

static void die(const char *what)
{
	fprintf(stderr, "mp-golden: %s: %s\n", what, error.message[0] ? error.message :
		mp_strerror(error.code));
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc < 0) {
		if (!error.code)
			error.code = rc;
		die(what);
	}
}

static struct mp_writer *open_file(const char *name, bool compress, bool append)
{
	struct mp_writer_options options = { .compress = compress, .compress_level = 3,
					     .append = append };
	struct mp_writer *writer;
	char path[4096];

	if (output_dir)
		snprintf(path, sizeof(path), "%s/%s", output_dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	check(mp_writer_open(&writer, path, &options, &error), path);
	return writer;
}

static void close_file(struct mp_writer *writer)
{
	check(mp_writer_close(writer, &error), "close");
}

static struct mp_set_info set_info(uint32_t source, uint32_t hash, uint64_t seconds)
{
	struct mp_set_info info = {
		.host = "golden-host",
		.kernel = "6.18.0-golden",
		.page_size = MP_PAGE_SIZE,
		.source = source,
		.hash = hash,
		.digest_size = (uint32_t)mp_hash_digest_size(hash),
		.flags = MP_SET_PFN_VALID,
		.realtime_ns = 1764806400000000000 + (int64_t)seconds * 1000000000,
		.monotonic_ns = 5000000000 + (int64_t)seconds * 1000000000,
		.boottime_ns = 5000000123 + (int64_t)seconds * 1000000000,
		.ksm = { .valid = true, .run = 1, .pages_shared = 10, .pages_sharing = 40,
			 .pages_unshared = 100, .pages_volatile = 3, .full_scans = seconds,
			 .max_page_sharing = 256, .use_zero_pages = 0, .ksm_zero_pages = 0 },
	};

	return info;
}

/* A digest whose bytes are seed, seed + 1, ...: easy to spot in a dump. */
static void fill_digest(struct mp_page *page, uint8_t seed)
{
	memset(page->digest, 0, sizeof(page->digest));
	for (int i = 0; i < MP_DIGEST_MAX; i++)
		page->digest[i] = (uint8_t)(seed + i);
}

static struct mp_page anon_page(uint32_t task, uint32_t region, uint64_t index, uint64_t pfn,
				uint8_t seed)
{
	struct mp_page page = {
		.task = task, .region = region, .index = index, .pfn = pfn,
		.pagemap = MP_PM_PRESENT | MP_PM_EXCLUSIVE,
		.kpageflags = 1ull << MP_KPF_ANON | 1ull << MP_KPF_LRU | 1ull << MP_KPF_SWAPBACKED,
		.mapcount = 1, .flags = MP_PAGE_PFN_VALID | MP_PAGE_MERGEABLE,
	};

	fill_digest(&page, seed);
	return page;
}

static void put_pages(struct mp_sink *sink, const struct mp_page *pages, size_t count)
{
	check(sink->ops->pages(sink->ctx, pages, count), "pages");
}

/*
 * Task 0 (pid 4242, "golden") maps a heap of four pages (PFNs 0x1000-0x1002
 * consecutive, then 0x2000), a zero-filled page, a file page shared with
 * task 1, and a region whose path has a space, a newline and byte 0xff.
 * Task 1 (pid 4243, "child\tname") exited during the scan.
 */
static void write_task_set(struct mp_sink *sink, uint32_t hash, uint64_t seconds)
{
	struct mp_set_info info = set_info(MP_SOURCE_PROCFS, hash, seconds);
	struct mp_task tasks[] = {
		{ .pid = 4242, .ppid = 1, .uid = 1000, .comm = "golden",
		  .ksm = { true, 5, 1, 2, -3 } },
		{ .pid = 4243, .ppid = 4242, .uid = 1000, .flags = MP_TASK_KSM_MERGE_ANY,
		  .comm = "child\tname" },
	};
	struct mp_region regions[] = {
		{ .task = 0, .kind = MP_REGION_HEAP, .start = 0x555555554000, .end = 0x555555558000,
		  .prot = MP_PROT_READ | MP_PROT_WRITE, .vm_flags = MP_VM_MERGEABLE | MP_VM_SMAPS,
		  .path = PATH_BYTES("[heap]") },
		{ .task = 0, .kind = MP_REGION_FILE, .start = 0x7f0000000000, .end = 0x7f0000002000,
		  .offset = 0x3000, .dev = makedev(8, 1), .inode = 131,
		  .prot = MP_PROT_READ | MP_PROT_EXEC, .vm_flags = MP_VM_SMAPS,
		  .path = PATH_BYTES("/opt/odd dir/lib\nname\xff.so") },
		{ .task = 1, .kind = MP_REGION_FILE, .start = 0x7f1000000000, .end = 0x7f1000001000,
		  .offset = 0x3000, .dev = makedev(8, 1), .inode = 131,
		  .prot = MP_PROT_READ | MP_PROT_EXEC | MP_PROT_SHARED,
		  .path = PATH_BYTES("/opt/odd dir/lib\nname\xff.so") },
	};
	struct mp_page pages0[] = {
		anon_page(0, 0, 0x555555554, 0x1000, 0x10),
		anon_page(0, 0, 0x555555555, 0x1001, 0x20),
		anon_page(0, 0, 0x555555556, 0x1002, 0x10),	/* same content as the first */
		anon_page(0, 0, 0x555555557, 0x2000, 0x00),
	};
	struct mp_page file_page = {
		.task = 0, .region = 1, .index = 0x7f0000001, .pfn = 0x3000,
		.pagemap = MP_PM_PRESENT | MP_PM_FILE_SHARED,
		.kpageflags = 1ull << MP_KPF_LRU, .mapcount = 2, .flags = MP_PAGE_PFN_VALID,
	};
	struct mp_task_end end0 = { .task = 0, .status = MP_TASK_COMPLETE, .pages = 5,
				    .skipped = { [MP_SKIP_SWAPPED] = 2 } };
	struct mp_task_end end1 = { .task = 1, .status = MP_TASK_EXITED, .pages = 1,
				    .skipped = { [MP_SKIP_UNREADABLE] = 7 } };
	struct mp_set_end set_end = { .flags = MP_SET_END_PARTIAL, .duration_ns = 2500000,
				      .ksm = info.ksm };

	/* The fourth heap page is zero-filled. */
	pages0[3].flags |= MP_PAGE_ZERO_FILLED;
	memset(pages0[3].digest, 0xee, sizeof(pages0[3].digest));
	fill_digest(&file_page, 0x80);
	set_end.ksm.pages_sharing = 41;

	check(sink->ops->begin_set(sink->ctx, &info), "begin set");
	check(sink->ops->task(sink->ctx, &tasks[0]), "task");
	check(sink->ops->region(sink->ctx, &regions[0]), "region");
	put_pages(sink, pages0, 4);
	check(sink->ops->region(sink->ctx, &regions[1]), "region");
	put_pages(sink, &file_page, 1);
	check(sink->ops->task_end(sink->ctx, &end0), "task end");
	check(sink->ops->task(sink->ctx, &tasks[1]), "task");
	check(sink->ops->region(sink->ctx, &regions[2]), "region");
	file_page.task = 1;
	file_page.region = 2;
	file_page.index = 0x7f1000000;
	file_page.pagemap |= MP_PM_SOFT_DIRTY;
	put_pages(sink, &file_page, 1);
	check(sink->ops->task_end(sink->ctx, &end1), "task end");
	check(sink->ops->end_set(sink->ctx, &set_end), "end set");
}

/*
 * Three files in the page cache: a plain name, one with a quote, a
 * backslash and a space, and one whose name is not UTF-8 (Latin-1 "é").
 * The second file has two cached pages at offsets 0 and 5.
 */
static void write_pagecache_set(struct mp_sink *sink)
{
	struct mp_set_info info = set_info(MP_SOURCE_PAGECACHE, MP_HASH_MD5, 0);
	struct mp_file files[] = {
		{ .dev = makedev(254, 0), .inode = 11, .size = 4096, .path = PATH_BYTES("/etc/hostname") },
		{ .dev = makedev(254, 0), .inode = 12, .size = 6 * 4096 + 100,
		  .path = PATH_BYTES("/var/log/a \"quoted\" back\\slash.log") },
		{ .dev = makedev(254, 0), .inode = 13, .size = 10, .path = PATH_BYTES("/srv/caf\xe9.txt") },
	};
	struct mp_page page = {
		.task = MP_NONE, .pfn = 0x5000, .pagemap = 0,
		.kpageflags = 1ull << MP_KPF_LRU | 1ull << 3 /* uptodate */, .mapcount = 0,
		.flags = MP_PAGE_PFN_VALID,
	};
	struct mp_set_end set_end = { .duration_ns = 1000, .ksm = info.ksm };

	info.ksm.valid = false;
	set_end.ksm.valid = false;
	check(sink->ops->begin_set(sink->ctx, &info), "begin set");
	for (uint32_t i = 0; i < 3; i++) {
		check(sink->ops->file(sink->ctx, &files[i]), "file");
		page.region = i;
		page.index = 0;
		page.pfn = 0x5000 + 0x10 * i;
		fill_digest(&page, (uint8_t)(0x40 + i));
		put_pages(sink, &page, 1);
		if (i == 1) {
			page.index = 5;
			page.pfn = 0x4fff;
			fill_digest(&page, 0x40);	/* same content as the first file */
			put_pages(sink, &page, 1);
		}
	}
	check(sink->ops->end_set(sink->ctx, &set_end), "end set");
}

/* A small set of a series: one task, two pages, at the given second. */
static void write_series_set(struct mp_sink *sink, uint64_t seconds, uint8_t seed)
{
	struct mp_set_info info = set_info(MP_SOURCE_PROCFS, MP_HASH_CRC32, seconds);
	struct mp_task task = { .pid = 77, .ppid = 1, .uid = 0, .comm = "series" };
	struct mp_region region = {
		.task = 0, .kind = MP_REGION_ANON_NAMED, .start = 0x10000, .end = 0x12000,
		.prot = MP_PROT_READ | MP_PROT_WRITE, .path = PATH_BYTES("[anon:ring buffer]"),
	};
	struct mp_page pages[] = {
		anon_page(0, 0, 0x10, 0x9000, seed),
		anon_page(0, 0, 0x11, 0x9001, 0x30),
	};
	struct mp_task_end end = { .task = 0, .pages = 2 };
	struct mp_set_end set_end = { .duration_ns = 100000 + seconds, .ksm = info.ksm };

	info.flags |= MP_SET_FROZEN;
	check(sink->ops->begin_set(sink->ctx, &info), "begin set");
	check(sink->ops->task(sink->ctx, &task), "task");
	check(sink->ops->region(sink->ctx, &region), "region");
	put_pages(sink, pages, 2);
	check(sink->ops->task_end(sink->ctx, &end), "task end");
	check(sink->ops->end_set(sink->ctx, &set_end), "end set");
}

/* One task with 20000 pages of one region: several blocks in one set. */
static void write_large_set(struct mp_sink *sink)
{
	struct mp_set_info info = set_info(MP_SOURCE_SYNTHETIC, MP_HASH_XXH3, 0);
	struct mp_task task = { .pid = 1, .comm = "large" };
	struct mp_region region = { .task = 0, .kind = MP_REGION_ANON, .start = 0x100000000,
				    .end = 0x100000000 + 20000 * 4096ull,
				    .prot = MP_PROT_READ | MP_PROT_WRITE };
	struct mp_task_end end = { .task = 0, .pages = 20000 };
	struct mp_set_end set_end = { .duration_ns = 1 };
	struct mp_page page;

	check(sink->ops->begin_set(sink->ctx, &info), "begin set");
	check(sink->ops->task(sink->ctx, &task), "task");
	check(sink->ops->region(sink->ctx, &region), "region");
	for (uint32_t i = 0; i < 20000; i++) {
		page = anon_page(0, 0, 0x100000 + i, 0x40000 + i * 3, (uint8_t)i);
		page.digest[0] = (uint8_t)(i >> 8);
		put_pages(sink, &page, 1);
	}
	check(sink->ops->task_end(sink->ctx, &end), "task end");
	check(sink->ops->end_set(sink->ctx, &set_end), "end set");
}

int main(int argc, char **argv)
{
	struct mp_writer *writer;
	struct mp_sink sink;

	if (argc == 3 && !strcmp(argv[1], "--large")) {
		writer = open_file(argv[2], false, false);
		sink = mp_writer_sink(writer);
		write_large_set(&sink);
		close_file(writer);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: mp-golden DIR\n       mp-golden --large FILE\n");
		return 2;
	}
	output_dir = argv[1];

	writer = open_file("task-xxh3.mps", false, false);
	sink = mp_writer_sink(writer);
	write_task_set(&sink, MP_HASH_XXH3, 0);
	close_file(writer);

	writer = open_file("task-sha256-zstd.mps", true, false);
	sink = mp_writer_sink(writer);
	write_task_set(&sink, MP_HASH_SHA256, 0);
	close_file(writer);

	writer = open_file("pagecache-md5.mps", false, false);
	sink = mp_writer_sink(writer);
	write_pagecache_set(&sink);
	close_file(writer);

	/* A series: one set written, two appended later as memprint watch does. */
	writer = open_file("series-crc32.mps", false, false);
	sink = mp_writer_sink(writer);
	write_series_set(&sink, 0, 0x50);
	close_file(writer);
	writer = open_file("series-crc32.mps", false, true);
	sink = mp_writer_sink(writer);
	write_series_set(&sink, 2, 0x50);
	write_series_set(&sink, 4, 0x60);
	close_file(writer);
	return 0;
}
