// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cache.c - page-cache scans against mincore() and the files' content
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

/* Residency of each page of the file, from mincore() on a mapping of it. */
static unsigned char *residency(int fd, size_t pages)
{
	unsigned char *vec = calloc(pages ? pages : 1, 1);
	void *map;

	if (!vec || !pages)
		return vec;
	map = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || mincore(map, pages * PAGE, vec) < 0) {
		free(vec);
		vec = NULL;
	}
	if (map != MAP_FAILED)
		munmap(map, pages * PAGE);
	return vec;
}

static int scan_files(const char *const *paths, size_t count, bool mounts, struct collector *c)
{
	struct mp_kmod_request request = {
		.target = MP_KMOD_PAGECACHE,
		.paths = paths,
		.path_count = count,
		.mounts = mounts,
	};
	struct mp_scan_options options = { .hash = MP_HASH_SHA256 };
	struct mp_sink sink = collector_sink(c);
	struct mp_error error = { 0 };
	int rc = mp_kmod_scan(&request, &options, &sink, &error);

	if (rc < 0)
		note("page-cache scan failed: %s", error.message);
	return rc;
}

/* Compare each recorded page's digest with the file's own bytes there. */
static size_t check_digests(const struct collector *c, int fd)
{
	struct mp_hash *hash;
	struct mp_error error;
	size_t bad = 0;
	char page[PAGE];

	if (mp_hash_open(&hash, MP_HASH_SHA256, NULL, 0, &error) < 0)
		return c->count ? c->count : 1;
	for (size_t i = 0; i < c->count; i++) {
		uint8_t digest[MP_DIGEST_MAX];
		ssize_t n;

		memset(page, 0, sizeof(page));
		n = pread(fd, page, PAGE, (off_t)(c->pages[i].page.index * PAGE));
		if (n < 0)
			bad++;
		mp_hash_page(hash, page, digest);
		if (memcmp(digest, c->pages[i].page.digest, 32) && bad++ < 3)
			note("page %llu: the module's digest differs from the file's content",
			     (unsigned long long)c->pages[i].page.index);
	}
	mp_hash_close(hash);
	return bad;
}

int check_pagecache(int argc, char **argv)
{
	const char *path = argc > 2 ? argv[2] : NULL;
	struct collector c = { 0 };
	unsigned char *before = NULL, *after = NULL;
	size_t pages, resident = 0, wrong = 0, bad;
	char real[PATH_MAX];
	struct stat st;
	int fd, status = GUEST_FAIL;

	if (!path || (fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		note("cannot open %s: %s", path ? path : "(no file given)", strerror(errno));
		return GUEST_FAIL;
	}
	pages = ((size_t)st.st_size + PAGE - 1) / PAGE;
	before = residency(fd, pages);
	if (!before || scan_files((const char *const *)&path, 1, false, &c) < 0)
		goto out;
	after = residency(fd, pages);

	for (size_t i = 0; i < pages; i++)
		resident += before[i] & 1;
	for (size_t i = 0; i < c.count; i++)
		wrong += c.pages[i].page.index >= pages || !(before[c.pages[i].page.index] & 1);
	bad = check_digests(&c, fd);
	note("%s: %zu pages, %zu resident (mincore), %zu recorded, %zu not resident, %zu digests "
	     "wrong", path, pages, resident, c.count, wrong, bad);

	if (!after || memcmp(before, after, pages))
		note("the residency changed during the scan: it must read nothing");
	else if (c.file_count != 1 || !realpath(path, real) || strcmp(c.files[0].path, real))
		note("the file record names %s, expected %s", c.file_count ? c.files[0].path : "nothing",
		     path);
	else if (!resident || c.count != resident || wrong || bad)
		note("the recorded pages differ from the resident ones");
	else
		status = GUEST_PASS;
out:
	free(before);
	free(after);
	close(fd);
	collector_free(&c);
	return status;
}

static int write_file(const char *path, unsigned pages, uint64_t seed)
{
	char page[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -errno;
	for (unsigned i = 0; i < pages; i++) {
		fill_page(page, seed + i);
		if (write(fd, page, PAGE) != PAGE) {
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

/* Count the files of c named DIR/NAME that have all their pages recorded. */
static size_t count_complete(const struct collector *c, const char *dir,
			     const char *const *names, const unsigned *pages, size_t count)
{
	char path[PATH_MAX];
	size_t found = 0;

	for (size_t i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		for (size_t j = 0; j < c->file_count; j++) {
			if (strcmp(c->files[j].path, path))
				continue;
			note("%s: %llu pages recorded, %u written", path,
			     (unsigned long long)c->file_pages[j], pages[i]);
			found += c->file_pages[j] == pages[i];
		}
	}
	return found;
}

/*
 * Scan DIR as a mount (mounts true) or as a directory; expect its three
 * files complete among expected files.
 */
static bool scan_three(const char *dir, bool mounts, const char *const *names,
		       const unsigned *pages, size_t expected)
{
	struct collector c = { 0 };
	size_t found = 0;
	bool ok = false;

	if (scan_files((const char *const *)&dir, 1, mounts, &c) == 0) {
		found = count_complete(&c, dir, names, pages, 3);
		note("%s scan: %zu files recorded, %zu with all their pages",
		     mounts ? "mount" : "directory", c.file_count, found);
		ok = c.file_count == expected && found == 3;
	}
	collector_free(&c);
	return ok;
}

int check_pagecache_mount(int argc, char **argv)
{
	static const char *const names[] = { "one", "five", "seventeen" };
	static const unsigned pages[] = { 1, 5, 17 };
	const char *top = argc > 2 ? argv[2] : NULL;
	char path[PATH_MAX + 64], dir[PATH_MAX];
	bool mount_ok, dir_ok;

	if (!top)
		return GUEST_FAIL;
	/* Three files in TOP/sub, one more beside it that a scan of sub leaves out. */
	snprintf(dir, sizeof(dir), "%s/sub", top);
	snprintf(path, sizeof(path), "%s/other", top);
	if (mkdir(dir, 0700) < 0 || write_file(path, 2, 600) < 0) {
		note("cannot create %s and %s", dir, path);
		return GUEST_FAIL;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (write_file(path, pages[i], 700 + 10 * i) < 0) {
			note("cannot write %s", path);
			return GUEST_FAIL;
		}
	}
	mount_ok = scan_three(dir, true, names, pages, 4);
	dir_ok = scan_three(dir, false, names, pages, 3);
	return mount_ok && dir_ok ? GUEST_PASS : GUEST_FAIL;
}
