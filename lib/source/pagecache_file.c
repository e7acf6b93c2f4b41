// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_file.c - record the resident pages of one file without I/O
 *
 * For each window of the file: cachestat(2) skips a window with nothing
 * cached; a read-only shared mapping with MADV_RANDOM (so that no fault
 * starts readahead) and mincore(2) give the resident pages;
 * MADV_POPULATE_READ maps exactly those runs (fault-around may map resident
 * neighbours too, which costs no I/O); /proc/self/pagemap of the mapping
 * gives their PFNs; process_vm_readv(2) from our own mapping copies their
 * content, returning a short count rather than raising SIGBUS when the file
 * was truncated meanwhile.  kpageflags and kpagecount are read after the
 * window is unmapped, so that the map count does not include our mapping.
 *
 * preadv2(RWF_NOWAIT) is not used: on a page that is not cached it fails
 * with EAGAIN but still starts readahead (measured on Linux 6.18), so it
 * would fill the cache it measures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "source/pagecache.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22		/* Linux 5.14 */
#endif

/* include/uapi/linux/mman.h (Linux 6.5) */
struct pc_cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct pc_cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

/* Pages of [offset, offset + length) in the page cache, or a negative errno value. */
static int64_t cached_pages(int fd, uint64_t offset, uint64_t length)
{
	struct pc_cachestat_range range = { offset, length };
	struct pc_cachestat stat = { 0 };

	if (syscall(__NR_cachestat, fd, &range, &stat, 0) < 0)
		return -errno;
	return (int64_t)stat.nr_cache;
}

bool mp_pc_residency_known(struct mp_pc_scan *scan, struct mp_pc_file *file)
{
	char path[64];

	file->cached = -1;
	if (scan->has_cachestat) {
		int64_t cached = cached_pages(file->fd, 0, 0);

		if (cached == -EPERM)
			return false;
		if (cached >= 0) {
			file->cached = cached;
			return true;
		}
		/* Another failure: mincore decides, under the rule below. */
	}
	if (scan->cap_fowner || file->st.st_uid == scan->euid)
		return true;
	/* The kernel asks for write permission on the inode, not on our open file. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", file->fd);
	return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0;
}

/* One window of the file: its mapping and where it starts. */
struct pc_window {
	uint8_t *map;
	uint64_t first;			/* file page of the first window page */
	size_t pages;
	size_t resident;		/* entries of scan->resident */
};

/*
 * Map runs of resident pages; a failure means the file shrank under us.
 * NOTE: a page evicted between mincore() and here is read back from disk,
 * one page only since the mapping has MADV_RANDOM.
 */
static int populate_runs(struct mp_pc_scan *scan, struct pc_window *window)
{
	size_t i = 0, run;

	while (i < window->pages) {
		if (!(scan->vec[i] & 1)) {
			i++;
			continue;
		}
		for (run = 1; i + run < window->pages && (scan->vec[i + run] & 1); run++)
			;
		if (madvise(window->map + i * MP_PAGE_SIZE, run * MP_PAGE_SIZE,
			    MADV_POPULATE_READ) < 0)
			return -errno;
		i += run;
	}
	return 0;
}

/* Keep the pages that mincore called resident and that are now mapped. */
static void collect_resident(struct mp_pc_scan *scan, struct pc_window *window)
{
	window->resident = 0;
	for (size_t i = 0; i < window->pages; i++) {
		if ((scan->vec[i] & 1) && (scan->pm_before[i] & MP_PM_PRESENT))
			scan->resident[window->resident++] = (uint32_t)i;
	}
}

/*
 * Copy count resident pages, starting at entry first of scan->resident,
 * into scan->content.  Returns the pages copied: fewer when the file was
 * truncated meanwhile.
 */
static size_t copy_pages(struct mp_pc_scan *scan, struct pc_window *window, size_t first,
			 size_t count)
{
	struct iovec local = { scan->content, count * MP_PAGE_SIZE };
	struct iovec remote[MP_SCAN_BATCH];
	size_t runs = 0;
	ssize_t n;

	for (size_t i = 0; i < count; i++) {
		uint8_t *page = window->map + (size_t)scan->resident[first + i] * MP_PAGE_SIZE;

		if (runs && (uint8_t *)remote[runs - 1].iov_base + remote[runs - 1].iov_len == page) {
			remote[runs - 1].iov_len += MP_PAGE_SIZE;
			continue;
		}
		remote[runs].iov_base = page;
		remote[runs].iov_len = MP_PAGE_SIZE;
		runs++;
	}

	do {
		n = process_vm_readv(scan->pid, &local, 1, remote, runs, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return 0;
	return (size_t)n / MP_PAGE_SIZE;
}

static void fill_record(struct mp_pc_scan *scan, struct pc_window *window, size_t slot,
			struct mp_page *page)
{
	uint32_t i = scan->resident[slot];
	uint64_t pfn = scan->pm_before[i] & MP_PM_PFN_MASK;

	memset(page, 0, sizeof(*page));
	page->task = MP_NONE;
	page->index = window->first + i;
	/* The flag bits of our own mapping say nothing about the cache page. */
	page->pagemap = MP_PM_PRESENT | MP_PM_FILE_SHARED;
	if (scan->pfn_valid && pfn) {
		page->pfn = pfn;
		page->flags |= MP_PAGE_PFN_VALID;
	}
}

/* Hash the resident pages of the window into scan->records; returns the records made. */
static size_t hash_window(struct mp_pc_scan *scan, struct pc_window *window,
			  struct mp_pc_file *file)
{
	size_t made = 0;

	for (size_t first = 0; first < window->resident; first += MP_SCAN_BATCH) {
		size_t count = window->resident - first, copied;

		if (count > MP_SCAN_BATCH)
			count = MP_SCAN_BATCH;
		copied = copy_pages(scan, window, first, count);
		mp_hash_pages(scan->hash, scan->content, copied, scan->records[first].digest,
			      sizeof(struct mp_page), scan->zero);
		for (size_t i = 0; i < copied; i++) {
			if (scan->zero[i])
				scan->records[first + i].flags |= MP_PAGE_ZERO_FILLED;
		}
		made = first + copied;
		if (copied < count) {
			file->changed = true;
			break;
		}
	}
	return made;
}

/* Add kpageflags and kpagecount, read after our mapping is gone. */
static int add_kpage(struct mp_pc_scan *scan, struct mp_page *records, size_t count)
{
	for (size_t first = 0; first < count; first += MP_SCAN_BATCH) {
		size_t n = count - first;
		int rc;

		if (n > MP_SCAN_BATCH)
			n = MP_SCAN_BATCH;
		for (size_t i = 0; i < n; i++)
			scan->pfns[i] = records[first + i].pfn;
		rc = mp_kpage_lookup(&scan->kpage, scan->pfns, n, scan->kflags, scan->kcounts);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			struct mp_page *page = &records[first + i];

			if (!(page->flags & MP_PAGE_PFN_VALID))
				continue;
			page->kpageflags = scan->kflags[i];
			page->mapcount = (uint32_t)scan->kcounts[i];
			if (page->kpageflags & ((1ull << MP_KPF_THP) | (1ull << MP_KPF_HUGE)))
				page->flags |= MP_PAGE_HUGE;
		}
	}
	return 0;
}

/*
 * Read the pagemap entries of the window.  Without a pagemap (a process that
 * is not dumpable cannot open its own), every page counts as mapped.
 */
static int read_pagemap(struct mp_pc_scan *scan, struct pc_window *window, uint64_t *entries)
{
	ssize_t n;

	if (scan->pagemap_fd < 0) {
		for (size_t i = 0; i < window->pages; i++)
			entries[i] = MP_PM_PRESENT;
		return 0;
	}
	n = mp_pagemap_read(scan->pagemap_fd, (uint64_t)(uintptr_t)window->map, entries,
			    window->pages);
	if (n < 0)
		return (int)n;
	memset(entries + n, 0, (window->pages - (size_t)n) * sizeof(*entries));
	return 0;
}

/* Find, read and hash the resident pages of the window; fills scan->records. */
static ssize_t read_window(struct mp_pc_scan *scan, struct pc_window *window,
			   struct mp_pc_file *file)
{
	size_t length = window->pages * MP_PAGE_SIZE;
	ssize_t made = 0;
	int rc;

	window->map = mmap(NULL, length, PROT_READ, MAP_SHARED, file->fd,
			   (off_t)(window->first * MP_PAGE_SIZE));
	if (window->map == MAP_FAILED)
		return -errno;

	/* Without MADV_RANDOM a fault reads ahead around the faulting page. */
	if (madvise(window->map, length, MADV_RANDOM) < 0 ||
	    mincore(window->map, length, scan->vec) < 0) {
		rc = -errno;
		munmap(window->map, length);
		return rc;
	}

	rc = populate_runs(scan, window);
	if (rc == -EFAULT || rc == -ENOMEM) {
		file->changed = true;	/* truncated: the rest is past the end now */
		rc = 0;
	}
	if (rc == 0)
		rc = read_pagemap(scan, window, scan->pm_before);
	if (rc >= 0) {
		collect_resident(scan, window);
		for (size_t i = 0; i < window->resident; i++)
			fill_record(scan, window, i, &scan->records[i]);
		made = (ssize_t)hash_window(scan, window, file);
		rc = read_pagemap(scan, window, scan->pm_after);
	}
	munmap(window->map, length);
	if (rc < 0)
		return rc;

	/* pm_after was read after hashing: mark pages whose frame changed meanwhile. */
	for (ssize_t i = 0; i < made; i++) {
		uint32_t at = scan->resident[i];
		struct mp_page *page = &scan->records[i];

		if ((scan->pm_after[at] & MP_PM_PFN_MASK) != (scan->pm_before[at] & MP_PM_PFN_MASK))
			page->flags |= MP_PAGE_MOVED;
	}
	return made;
}

/* Scan one window and hand its records to the sink. */
static int scan_window(struct mp_pc_scan *scan, struct mp_pc_file *file, uint64_t first,
		       size_t pages)
{
	struct pc_window window = { .first = first, .pages = pages };
	ssize_t made;
	int rc;

	/* The whole-file count already answers for a file of one window. */
	if (scan->has_cachestat &&
	    (uint64_t)file->st.st_size > (uint64_t)MP_PC_WINDOW_PAGES * MP_PAGE_SIZE &&
	    cached_pages(file->fd, first * MP_PAGE_SIZE, pages * MP_PAGE_SIZE) == 0)
		return 0;

	made = read_window(scan, &window, file);
	if (made < 0) {
		mp_pc_warn(scan, "cannot read cached pages: %s: %s", file->path, strerror((int)-made));
		file->changed = true;
		return 0;
	}
	if (made == 0)
		return 0;

	rc = add_kpage(scan, scan->records, (size_t)made);
	if (rc < 0)
		return mp_fail_errno(scan->error, rc, "cannot read /proc/kpageflags");
	rc = mp_pc_emit_file(scan, file, 0);
	if (rc < 0)
		return rc;
	for (ssize_t i = 0; i < made; i++)
		scan->records[i].region = file->index;
	scan->stats->pages += (uint64_t)made;
	if (scan->sink->ops->pages) {
		rc = scan->sink->ops->pages(scan->sink->ctx, scan->records, (size_t)made);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int mp_pc_scan_file(struct mp_pc_scan *scan, struct mp_pc_file *file)
{
	uint64_t pages = ((uint64_t)file->st.st_size + MP_PAGE_SIZE - 1) / MP_PAGE_SIZE;
	struct stat now;
	int rc;

	if (file->cached == 0)
		return 0;

	for (uint64_t first = 0; first < pages && !file->changed; first += MP_PC_WINDOW_PAGES) {
		size_t count = pages - first < MP_PC_WINDOW_PAGES ? (size_t)(pages - first)
								  : MP_PC_WINDOW_PAGES;

		rc = scan_window(scan, file, first, count);
		if (rc < 0)
			return rc;
	}

	/* A file cut short after a window was read leaves no error behind: compare sizes. */
	if (fstat(file->fd, &now) == 0 && now.st_size < file->st.st_size)
		file->changed = true;
	return 0;
}
