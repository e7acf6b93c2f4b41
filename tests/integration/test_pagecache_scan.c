// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pagecache_scan.c - the user-space page-cache scan on files it writes
 *
 * Every test makes its own directory under /var/tmp, writes files with
 * known content, sets which of their pages are cached (written pages stay
 * cached; posix_fadvise(POSIX_FADV_DONTNEED) drops clean pages; a pread
 * with POSIX_FADV_RANDOM brings back exactly the page read), checks that
 * setup with mincore(2), and compares the records with counts worked out
 * by hand.  PFN checks need root and are left out without it.
 */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define PAGE 4096

/* ---------------------------------------------------------- collecting sink */

struct seen_file {
	char path[512];
	uint64_t dev, inode, size;
	uint32_t flags;
};

struct collected {
	struct seen_file files[64];
	size_t file_count;
	struct mp_page *pages;
	size_t page_count, page_slots;
	bool begun, ended;
	uint32_t set_flags, end_flags;
	/* Called on each file record, to change the tree during the scan. */
	void (*on_file)(struct collected *c, const char *path);
	const char *dir;
};

static int collect_begin(void *ctx, const struct mp_set_info *info)
{
	struct collected *c = ctx;

	c->begun = true;
	c->set_flags = info->flags;
	assert_int_equal(info->source, MP_SOURCE_PAGECACHE);
	return 0;
}

static int collect_file(void *ctx, const struct mp_file *file)
{
	struct collected *c = ctx;
	struct seen_file *f = &c->files[c->file_count++];

	assert_true(c->file_count <= 64);
	snprintf(f->path, sizeof(f->path), "%.*s", (int)file->path_size, file->path);
	f->dev = file->dev;
	f->inode = file->inode;
	f->size = file->size;
	f->flags = file->flags;
	if (c->on_file)
		c->on_file(c, f->path);
	return 0;
}

static int collect_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct collected *c = ctx;

	if (c->page_count + count > c->page_slots) {
		c->page_slots = 2 * (c->page_count + count);
		c->pages = realloc(c->pages, c->page_slots * sizeof(*pages));
		assert_non_null(c->pages);
	}
	memcpy(c->pages + c->page_count, pages, count * sizeof(*pages));
	c->page_count += count;
	return 0;
}

static int collect_end(void *ctx, const struct mp_set_end *end)
{
	struct collected *c = ctx;

	c->ended = true;
	c->end_flags = end->flags;
	return 0;
}

static const struct mp_sink_ops collect_ops = {
	.begin_set = collect_begin,
	.file = collect_file,
	.pages = collect_pages,
	.end_set = collect_end,
};

/* Set by the tests that run again through mincore(2) alone, as before Linux 6.5. */
static bool without_cachestat;

static void print_warning(void *ctx, const char *message)
{
	(void)ctx;
	printf("# warning: %s\n", message);
}

/* Scan paths into c; returns the scan's result. */
static int scan(struct collected *c, const char *const *paths, size_t count,
		struct mp_pagecache_stats *stats)
{
	struct mp_sink sink = { &collect_ops, c, NULL };
	struct mp_scan_options options = { .hash = MP_HASH_XXH3, .warn = print_warning,
					   .no_cachestat = without_cachestat };
	struct mp_error error = { 0 };
	int rc;

	alarm(60);	/* a scan that opens a FIFO for reading would block for ever */
	rc = mp_pagecache_scan(paths, count, &options, &sink, stats, &error);
	alarm(0);
	if (rc < 0)
		printf("# scan failed: %s\n", error.message);
	return rc;
}

static const struct seen_file *find_file(const struct collected *c, const char *name)
{
	for (size_t i = 0; i < c->file_count; i++) {
		const char *slash = strrchr(c->files[i].path, '/');

		if (!strcmp(slash ? slash + 1 : c->files[i].path, name))
			return &c->files[i];
	}
	return NULL;
}

/* The page record of file number file at offset index, or NULL. */
static const struct mp_page *find_page(const struct collected *c, size_t file, uint64_t index)
{
	for (size_t i = 0; i < c->page_count; i++) {
		if (c->pages[i].region == file && c->pages[i].index == index)
			return &c->pages[i];
	}
	return NULL;
}

static size_t file_number(const struct collected *c, const struct seen_file *f)
{
	return (size_t)(f - c->files);
}

static size_t pages_of(const struct collected *c, const struct seen_file *f)
{
	size_t n = 0;

	for (size_t i = 0; i < c->page_count; i++)
		n += c->pages[i].region == file_number(c, f);
	return n;
}

/* ------------------------------------------------------------ file set-up */

struct fixture {
	char dir[64];
	char path[512];
};

static char *path_in(struct fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
	return fx->path;
}

/* Fill a page with bytes that only (seed, page) produce. */
static void fill_page(uint8_t *page, uint64_t seed, uint64_t number)
{
	uint64_t x = (seed << 32) ^ (number + 1) ^ 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < PAGE; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(page + i, &x, 8);
	}
}

/* Write count pages, page i filled as number numbers[i] (or i), and fsync: cached and clean. */
static void write_pages(const char *path, const uint64_t *numbers, size_t count, uint64_t seed)
{
	uint8_t page[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	for (size_t i = 0; i < count; i++) {
		fill_page(page, seed, numbers ? numbers[i] : i);
		assert_int_equal(pwrite(fd, page, PAGE, (off_t)(i * PAGE)), PAGE);
	}
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

static void drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
}

/* Bring exactly one page into the cache: POSIX_FADV_RANDOM turns readahead off. */
static void load_page(const char *path, uint64_t index)
{
	uint8_t page[PAGE];
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0);
	assert_int_equal(pread(fd, page, PAGE, (off_t)(index * PAGE)), PAGE);
	close(fd);
}

/* Resident pages of a file by mincore(2), one bit per page in map (up to 64 pages). */
static uint64_t residency(const char *path, size_t pages)
{
	unsigned char vec[64];
	uint64_t map = 0;
	int fd = open(path, O_RDONLY);
	void *p;

	assert_true(fd >= 0 && pages <= 64);
	p = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mincore(p, pages * PAGE, vec), 0);
	for (size_t i = 0; i < pages; i++)
		map |= (uint64_t)(vec[i] & 1) << i;
	munmap(p, pages * PAGE);
	close(fd);
	return map;
}

/* Count the resident pages among the first pages of a file, by mincore(2). */
static size_t resident_count(const char *path, size_t pages)
{
	unsigned char *vec = malloc(pages);
	int fd = open(path, O_RDONLY);
	size_t count = 0;
	void *p;

	assert_non_null(vec);
	assert_true(fd >= 0);
	p = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mincore(p, pages * PAGE, vec), 0);
	for (size_t i = 0; i < pages; i++)
		count += vec[i] & 1;
	munmap(p, pages * PAGE);
	close(fd);
	free(vec);
	return count;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/var/tmp/mp-pc-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char command[256];

	/* The directory name comes from mkdtemp: no quoting needed. */
	snprintf(command, sizeof(command), "chmod -R u+rwx %s; rm -rf %s", fx->dir, fx->dir);
	if (system(command) != 0)
		printf("# could not remove %s\n", fx->dir);
	free(fx);
	return 0;
}

static void collected_free(struct collected *c)
{
	free(c->pages);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ tests */

/* a and b hold the same 16 pages, c has 8 pages of which page 5 repeats page 0. */
static void write_copies(struct fixture *fx)
{
	static const uint64_t c_pages[8] = { 0, 1, 2, 3, 4, 0, 6, 7 };

	write_pages(path_in(fx, "a"), NULL, 16, 1);
	write_pages(path_in(fx, "b"), NULL, 16, 1);
	write_pages(path_in(fx, "c"), c_pages, 8, 3);
}

static void copies_and_repeated_blocks(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	struct mp_pagecache_stats stats;
	const char *paths[] = { fx->dir };
	const struct seen_file *a, *b, *cf;
	bool root = geteuid() == 0;

	write_copies(fx);
	if (residency(path_in(fx, "a"), 16) != 0xffff || residency(path_in(fx, "c"), 8) != 0xff)
		mp_test_skip("written pages did not stay cached");

	assert_int_equal(scan(&c, paths, 1, &stats), 0);
	assert_true(c.begun);
	assert_true(c.ended);
	assert_int_equal(c.file_count, 3);
	assert_int_equal(c.page_count, 16 + 16 + 8);
	assert_int_equal(stats.files, 3);
	assert_int_equal(stats.files_cached, 3);
	assert_int_equal(stats.pages, 40);
	a = find_file(&c, "a");
	b = find_file(&c, "b");
	cf = find_file(&c, "c");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(cf);
	assert_int_equal(a->size, 16 * PAGE);
	assert_int_equal(pages_of(&c, a), 16);
	assert_int_equal(pages_of(&c, b), 16);
	assert_int_equal(pages_of(&c, cf), 8);

	for (uint64_t i = 0; i < 16; i++) {
		const struct mp_page *pa = find_page(&c, file_number(&c, a), i);
		const struct mp_page *pb = find_page(&c, file_number(&c, b), i);

		assert_non_null(pa);
		assert_non_null(pb);
		assert_int_equal(pa->task, MP_NONE);
		assert_memory_equal(pa->digest, pb->digest, 8);
		if (root) {
			assert_true(pa->flags & MP_PAGE_PFN_VALID);
			assert_true(pb->flags & MP_PAGE_PFN_VALID);
			assert_true(pa->pfn != pb->pfn);
			assert_int_equal(pa->mapcount, 0);	/* our own mapping is gone */
		}
	}
	assert_memory_equal(find_page(&c, file_number(&c, cf), 0)->digest,
			    find_page(&c, file_number(&c, cf), 5)->digest, 8);
	assert_memory_not_equal(find_page(&c, file_number(&c, cf), 0)->digest,
				find_page(&c, file_number(&c, cf), 1)->digest, 8);
	assert_memory_not_equal(find_page(&c, file_number(&c, a), 0)->digest,
				find_page(&c, file_number(&c, cf), 0)->digest, 8);
	collected_free(&c);
}

static void partial_cache_exact_pages(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	const char *paths[] = { fx->dir };
	const struct seen_file *p;
	char partial[512], cold[512];

	snprintf(partial, sizeof(partial), "%s", path_in(fx, "partial"));
	snprintf(cold, sizeof(cold), "%s", path_in(fx, "cold"));
	write_pages(partial, NULL, 16, 4);
	write_pages(cold, NULL, 8, 5);
	drop_cache(partial);
	drop_cache(cold);
	load_page(partial, 2);
	load_page(partial, 3);
	load_page(partial, 9);
	if (residency(partial, 16) != ((1u << 2) | (1u << 3) | (1u << 9)) ||
	    residency(cold, 8) != 0)
		mp_test_skip("could not set up a partly cached file (residency %#llx)",
			     (unsigned long long)residency(partial, 16));

	assert_int_equal(scan(&c, paths, 1, NULL), 0);
	assert_int_equal(c.file_count, 1);	/* the cold file has nothing cached */
	p = find_file(&c, "partial");
	assert_non_null(p);
	assert_int_equal(c.page_count, 3);
	assert_non_null(find_page(&c, 0, 2));
	assert_non_null(find_page(&c, 0, 3));
	assert_non_null(find_page(&c, 0, 9));

	/* The scan neither read nor dropped anything. */
	assert_int_equal(residency(partial, 16), (1u << 2) | (1u << 3) | (1u << 9));
	assert_int_equal(residency(cold, 8), 0);
	collected_free(&c);
}

static void sparse_file_tib_hole(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	const char *paths[] = { fx->dir };
	/*
	 * 1 TiB of hole, then one page of data.  Through mincore alone every
	 * window of the hole is checked (about 13 s for 1 TiB here), so that
	 * run takes 64 GiB, still past every 32-bit offset.
	 */
	const uint64_t tail = without_cachestat ? 1ull << 36 : 1ull << 40;
	uint8_t page[PAGE];
	int fd;

	fd = open(path_in(fx, "sparse"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	fill_page(page, 6, 0);
	if (pwrite(fd, page, PAGE, (off_t)tail) != PAGE) {
		close(fd);
		mp_test_skip("file system rejects a 1 TiB offset: %s", strerror(errno));
	}
	close(fd);

	assert_int_equal(scan(&c, paths, 1, NULL), 0);
	assert_int_equal(c.file_count, 1);
	assert_int_equal(c.files[0].size, tail + PAGE);
	assert_int_equal(c.page_count, 1);
	assert_int_equal(c.pages[0].index, tail / PAGE);
	assert_false(c.pages[0].flags & MP_PAGE_ZERO_FILLED);
	collected_free(&c);
}

static void special_files_never_opened(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	struct mp_pagecache_stats stats;
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	const char *paths[] = { fx->dir, NULL };
	char loop[512];
	size_t special = 4;
	int sock;

	write_pages(path_in(fx, "regular"), NULL, 2, 7);
	assert_int_equal(mkfifo(path_in(fx, "fifo"), 0644), 0);
	assert_int_equal(symlink("loop2", path_in(fx, "loop1")), 0);
	assert_int_equal(symlink("loop1", path_in(fx, "loop2")), 0);
	snprintf(loop, sizeof(loop), "%s", path_in(fx, "loop1"));
	snprintf(address.sun_path, sizeof(address.sun_path), "%.100s", path_in(fx, "socket"));
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&address, sizeof(address)), 0);
	if (geteuid() == 0) {
		/* A character device like /dev/null: opening it would not block, but it is no file. */
		assert_int_equal(mknod(path_in(fx, "device"), S_IFCHR | 0600, makedev(1, 3)), 0);
		special++;
	}

	paths[1] = loop;	/* a symlink loop given as a path */
	assert_int_equal(scan(&c, paths, 2, &stats), 0);
	close(sock);
	assert_int_equal(c.file_count, 1);
	assert_non_null(find_file(&c, "regular"));
	assert_int_equal(c.page_count, 2);
	assert_int_equal(stats.files, 1);
	assert_int_equal(stats.skipped_special, special + 1);	/* + the loop given as a path */
	collected_free(&c);
}

static void hard_link_scanned_once(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	const char *paths[] = { fx->dir };
	char first[512];

	snprintf(first, sizeof(first), "%s", path_in(fx, "one"));
	write_pages(first, NULL, 3, 8);
	assert_int_equal(link(first, path_in(fx, "two")), 0);

	assert_int_equal(scan(&c, paths, 1, NULL), 0);
	assert_int_equal(c.file_count, 1);
	assert_int_equal(c.page_count, 3);
	collected_free(&c);
}

/* Cut the big file short once its first window was read. */
static void truncate_big(struct collected *c, const char *path)
{
	(void)c;
	assert_int_equal(truncate(path, 100 * PAGE), 0);
}

static void file_truncated_during_scan(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { .on_file = truncate_big };
	struct mp_pagecache_stats stats;
	const char *paths[] = { path_in(fx, "big") };
	const size_t pages = 16384 + 512;	/* one 64 MiB window and a part of the next */
	size_t first_window;

	write_pages(fx->path, NULL, pages, 9);
	/*
	 * Reclaim may drop some of the 64 MiB just written on a busy machine,
	 * so the expected count is what mincore shows resident right before.
	 */
	first_window = resident_count(paths[0], 16384);
	assert_int_equal(scan(&c, paths, 1, &stats), 0);
	assert_int_equal(c.file_count, 1);
	assert_int_equal(c.page_count, first_window);	/* the first window only */
	for (size_t i = 0; i < c.page_count; i++)
		assert_true(c.pages[i].index < 16384);
	assert_int_equal(stats.files_changed, 1);
	assert_true(c.end_flags & MP_SET_END_PARTIAL);
	collected_free(&c);
}

/* Replace every other file of the directory by a FIFO while the scan runs. */
static void replace_by_fifos(struct collected *c, const char *path)
{
	static const char *const names[] = { "r1", "r2", "r3" };
	char other[512];

	for (size_t i = 0; i < 3; i++) {
		snprintf(other, sizeof(other), "%s/%s", c->dir, names[i]);
		if (!strcmp(other, path))
			continue;
		unlink(other);
		assert_int_equal(mkfifo(other, 0644), 0);
	}
	c->on_file = NULL;
}

static void files_replaced_during_scan(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { .on_file = replace_by_fifos, .dir = fx->dir };
	struct mp_pagecache_stats stats;
	const char *paths[] = { fx->dir };

	write_pages(path_in(fx, "r1"), NULL, 2, 10);
	write_pages(path_in(fx, "r2"), NULL, 2, 11);
	write_pages(path_in(fx, "r3"), NULL, 2, 12);

	/* The walk listed three regular files; two are FIFOs by the time it opens them. */
	assert_int_equal(scan(&c, paths, 1, &stats), 0);
	assert_int_equal(c.file_count, 1);
	assert_int_equal(c.page_count, 2);
	assert_int_equal(stats.files_changed, 2);
	collected_free(&c);
}

struct resizer {
	const char *path;
	volatile bool stop;
	unsigned rounds;
};

/* Cut the file to nothing and write it again, over and over. */
static void *resize_loop(void *arg)
{
	struct resizer *r = arg;
	uint8_t page[PAGE];
	int fd = open(r->path, O_WRONLY);

	fill_page(page, 18, 0);
	while (fd >= 0 && !r->stop) {
		if (ftruncate(fd, 0) < 0)
			break;
		for (off_t i = 0; i < 64; i++) {
			if (pwrite(fd, page, PAGE, i * PAGE) != PAGE)
				break;
		}
		r->rounds++;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * A file truncated while its pages are read must neither crash the scan
 * (SIGBUS on a mapping past the end) nor fail it.  The race is hit by
 * chance: each scan may see the file whole, cut or growing.
 */
static void truncation_race_survived(void **state)
{
	struct fixture *fx = *state;
	struct resizer r = { 0 };
	const char *paths[1];
	pthread_t thread;
	unsigned changed = 0;
	char path[512];

	snprintf(path, sizeof(path), "%s", path_in(fx, "racing"));
	write_pages(path, NULL, 64, 18);
	r.path = path;
	paths[0] = path;
	assert_int_equal(pthread_create(&thread, NULL, resize_loop, &r), 0);
	for (int i = 0; i < 300; i++) {
		struct collected c = { 0 };
		struct mp_pagecache_stats stats;

		assert_int_equal(scan(&c, paths, 1, &stats), 0);
		assert_true(c.page_count <= 64);
		changed += stats.files_changed;
		collected_free(&c);
	}
	r.stop = true;
	pthread_join(thread, NULL);
	printf("# the file was rewritten %u times during 300 scans, %u of them saw it change\n",
	       r.rounds, changed);
	assert_true(r.rounds > 0);
}

static void memfd_and_deleted_file(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	char memfd_path[64], deleted_path[64];
	const char *paths[] = { memfd_path, deleted_path };
	uint8_t page[PAGE];
	int memfd, deleted;

	memfd = memfd_create("mp-pc-memfd", 0);
	assert_true(memfd >= 0);
	for (int i = 0; i < 3; i++) {
		fill_page(page, 13, (uint64_t)i);
		assert_int_equal(write(memfd, page, PAGE), PAGE);
	}
	deleted = open(path_in(fx, "deleted"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(deleted >= 0);
	for (int i = 0; i < 2; i++) {
		fill_page(page, 14, (uint64_t)i);
		assert_int_equal(write(deleted, page, PAGE), PAGE);
	}
	assert_int_equal(unlink(fx->path), 0);
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	snprintf(deleted_path, sizeof(deleted_path), "/proc/self/fd/%d", deleted);

	assert_int_equal(scan(&c, paths, 2, NULL), 0);
	close(memfd);
	close(deleted);
	assert_int_equal(c.file_count, 2);
	assert_string_equal(c.files[0].path, "/memfd:mp-pc-memfd (deleted)");
	assert_int_equal(pages_of(&c, &c.files[0]), 3);
	assert_non_null(strstr(c.files[1].path, "/deleted (deleted)"));
	assert_int_equal(pages_of(&c, &c.files[1]), 2);
	collected_free(&c);
}

static void tmpfs_file_scanned(void **state)
{
	struct collected c = { 0 };
	char dir[] = "/dev/shm/mp-pc-XXXXXX";
	char path[64];
	const char *paths[] = { dir };

	(void)state;
	if (!mkdtemp(dir))
		mp_test_skip("no /dev/shm: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/shm", dir);
	write_pages(path, NULL, 5, 15);
	assert_int_equal(scan(&c, paths, 1, NULL), 0);
	unlink(path);
	rmdir(dir);
	assert_int_equal(c.file_count, 1);
	assert_int_equal(c.page_count, 5);
	collected_free(&c);
}

static void pseudo_file_systems_skipped(void **state)
{
	struct collected c = { 0 };
	struct mp_pagecache_stats stats;
	const char *paths[] = { "/proc/self/status", "/sys/kernel/mm", "/dev/null" };

	(void)state;
	assert_int_equal(scan(&c, paths, 3, &stats), 0);
	assert_int_equal(c.file_count, 0);
	assert_int_equal(c.page_count, 0);
	assert_int_equal(stats.skipped_other_fs, 2);	/* the proc file and the sysfs tree */
	assert_int_equal(stats.skipped_special, 1);	/* /dev/null */
	collected_free(&c);
}

/*
 * Without paths the scan walks the mounts of SYSROOT/proc/self/mountinfo.
 * A captured table that lists only the test directory (on its real device)
 * and a proc mount keeps the walk inside the directory: proc is skipped.
 */
static void every_mount_of_mountinfo(void **state)
{
	struct fixture *fx = *state;
	struct collected c = { 0 };
	struct mp_scan_options options = { .hash = MP_HASH_XXH3, .warn = print_warning };
	struct mp_sink sink = { &collect_ops, &c, NULL };
	struct mp_error error = { 0 };
	char sysroot[128], tree[128], table[512];
	struct stat st;
	FILE *file;

	snprintf(tree, sizeof(tree), "%s/tree", fx->dir);
	assert_int_equal(mkdir(tree, 0755), 0);
	write_pages(path_in(fx, "tree/one"), NULL, 3, 19);
	assert_int_equal(stat(tree, &st), 0);

	snprintf(sysroot, sizeof(sysroot), "%s/sysroot", fx->dir);
	snprintf(table, sizeof(table), "%s/proc", sysroot);
	assert_int_equal(mkdir(sysroot, 0755), 0);
	assert_int_equal(mkdir(table, 0755), 0);
	strcat(table, "/self");
	assert_int_equal(mkdir(table, 0755), 0);
	strcat(table, "/mountinfo");
	file = fopen(table, "w");
	assert_non_null(file);
	fprintf(file, "22 1 0:21 / /proc rw,relatime - proc proc rw\n"
		      "30 1 %u:%u / %s rw,relatime - ext4 /dev/test rw\n",
		major(st.st_dev), minor(st.st_dev), tree);
	fclose(file);

	options.sysroot = sysroot;
	alarm(60);
	mp_assert_ok(mp_pagecache_scan(NULL, 0, &options, &sink, NULL, &error), &error);
	alarm(0);
	assert_int_equal(c.file_count, 1);
	assert_non_null(find_file(&c, "one"));
	assert_int_equal(c.page_count, 3);
	collected_free(&c);
}

/* ------------------------------------------------- residency without rights */

struct unprivileged_result {
	int rc;
	struct mp_pagecache_stats stats;
	size_t files, pages, unknown_files;
	int mincore_resident;		/* what mincore says about the root-owned file */
};

static void scan_as_nobody(const char *dir, const char *root_file, int out)
{
	struct unprivileged_result result = { 0 };
	struct collected c = { 0 };
	const char *paths[] = { dir };
	unsigned char vec[4];
	int fd;
	void *p;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(3);
	/* setuid makes the process undumpable, which hides /proc/self from it. */
	prctl(PR_SET_DUMPABLE, 1);
	fd = open(root_file, O_RDONLY);
	p = fd >= 0 ? mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	result.mincore_resident = -1;
	if (p != MAP_FAILED && mincore(p, 4 * PAGE, vec) == 0)
		result.mincore_resident = (vec[0] & 1) + (vec[1] & 1) + (vec[2] & 1) + (vec[3] & 1);

	result.rc = scan(&c, paths, 1, &result.stats);
	result.files = c.file_count;
	result.pages = c.page_count;
	for (size_t i = 0; i < c.file_count; i++)
		result.unknown_files += (c.files[i].flags & MP_FILE_UNKNOWN) != 0;
	fflush(stdout);
	if (write(out, &result, sizeof(result)) != sizeof(result))
		_exit(4);
	_exit(0);
}

static void unknown_residency_without_rights(void **state)
{
	struct fixture *fx = *state;
	struct unprivileged_result result;
	char root_file[512], own_file[512], hidden[512];
	int pipe_fds[2], status;
	pid_t child;

	mp_test_require_root();
	assert_int_equal(chmod(fx->dir, 0755), 0);
	snprintf(root_file, sizeof(root_file), "%s", path_in(fx, "root-owned"));
	snprintf(own_file, sizeof(own_file), "%s", path_in(fx, "nobody-owned"));
	write_pages(root_file, NULL, 4, 16);
	write_pages(own_file, NULL, 4, 17);
	assert_int_equal(chown(own_file, 65534, 65534), 0);
	drop_cache(root_file);	/* nothing cached: a truthful report says 0 */
	snprintf(hidden, sizeof(hidden), "%s", path_in(fx, "closed"));
	assert_int_equal(mkdir(hidden, 0), 0);

	assert_int_equal(pipe(pipe_fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(pipe_fds[0]);
		scan_as_nobody(fx->dir, root_file, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	assert_int_equal(read(pipe_fds[0], &result, sizeof(result)), sizeof(result));
	close(pipe_fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Linux 5.2+ (checked on 6.18): mincore calls every page of such a file resident. */
	printf("# mincore as uid 65534 on a root-owned uncached file: %d of 4 resident\n",
	       result.mincore_resident);
	assert_int_equal(result.rc, 0);
	assert_int_equal(result.stats.dirs_unreadable, 1);
	assert_int_equal(result.stats.files_unknown, 1);
	assert_int_equal(result.stats.pages_unknown, 4);
	assert_int_equal(result.unknown_files, 1);
	assert_int_equal(result.stats.files_cached, 1);	/* the file nobody owns */
	assert_int_equal(result.pages, 4);
	assert_int_equal(result.files, 2);
	assert_int_equal(residency(root_file, 4), 0);	/* the scan read nothing of it */
}

/* The same tests through mincore alone: what kernels before 6.5 offer. */
#define WITHOUT_CACHESTAT(test)						\
	static void test##_without_cachestat(void **state)		\
	{								\
		without_cachestat = true;				\
		test(state);						\
		without_cachestat = false;				\
	}

WITHOUT_CACHESTAT(copies_and_repeated_blocks)
WITHOUT_CACHESTAT(partial_cache_exact_pages)
WITHOUT_CACHESTAT(sparse_file_tib_hole)
WITHOUT_CACHESTAT(file_truncated_during_scan)
WITHOUT_CACHESTAT(unknown_residency_without_rights)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(copies_and_repeated_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(partial_cache_exact_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(sparse_file_tib_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(special_files_never_opened, setup, teardown),
		cmocka_unit_test_setup_teardown(hard_link_scanned_once, setup, teardown),
		cmocka_unit_test_setup_teardown(file_truncated_during_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(files_replaced_during_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(truncation_race_survived, setup, teardown),
		cmocka_unit_test_setup_teardown(memfd_and_deleted_file, setup, teardown),
		cmocka_unit_test(tmpfs_file_scanned),
		cmocka_unit_test(pseudo_file_systems_skipped),
		cmocka_unit_test_setup_teardown(every_mount_of_mountinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_residency_without_rights, setup, teardown),
		/* These set without_cachestat: a failure among them leaves it set, so they come last. */
		cmocka_unit_test_setup_teardown(copies_and_repeated_blocks_without_cachestat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(partial_cache_exact_pages_without_cachestat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(sparse_file_tib_hole_without_cachestat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(file_truncated_during_scan_without_cachestat, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unknown_residency_without_rights_without_cachestat,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
