// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs_pagemap.c - read /proc/PID/pagemap, and find the ranges worth
 * reading with the PAGEMAP_SCAN ioctl
 *
 * PAGEMAP_SCAN (Linux 6.7+) walks the page tables and returns ranges of
 * pages by category, so the holes of a sparse area cost nothing.  Its
 * categories do not carry the PFN, so the ranges it returns are still
 * read through pagemap; both ways therefore produce the same records.
 * Without PM_SCAN_WP_MATCHING the ioctl only reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "source/procfs.h"

/* include/uapi/linux/fs.h of Linux 6.7, for older installed headers. */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#endif

/* Guard regions (MADV_GUARD_INSTALL) as a category: newer kernels, 6.18 has it. */
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8)
#endif

ssize_t mp_pread_words(int fd, uint64_t *words, size_t count, uint64_t first)
{
	off_t offset = (off_t)(first * sizeof(uint64_t));
	size_t done = 0;

	while (done < count) {
		ssize_t n = pread(fd, words + done, (count - done) * sizeof(uint64_t),
				  offset + (off_t)(done * sizeof(uint64_t)));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n / sizeof(uint64_t);
	}
	return (ssize_t)done;
}

ssize_t mp_pagemap_read(int fd, uint64_t vaddr, uint64_t *entries, size_t count)
{
	return mp_pread_words(fd, entries, count, vaddr >> MP_PAGE_SHIFT);
}

int mp_pm_scanner_init(struct mp_pm_scanner *scanner, int fd, bool disabled)
{
	memset(scanner, 0, sizeof(*scanner));
	scanner->fd = fd;
	scanner->disabled = disabled;
	scanner->categories = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_GUARD;
	if (disabled)
		return 0;
	scanner->regions = calloc(MP_PM_SCAN_REGIONS, sizeof(struct page_region));
	return scanner->regions ? 0 : -ENOMEM;
}

void mp_pm_scanner_free(struct mp_pm_scanner *scanner)
{
	free(scanner->regions);
	scanner->regions = NULL;
}

void mp_pm_scanner_start(struct mp_pm_scanner *scanner, uint64_t start, uint64_t end,
			 bool dense)
{
	scanner->plain = dense;
	scanner->walk_end = start;
	scanner->end = end;
	scanner->count = scanner->next = 0;
}

/*
 * Ask for the next ranges from walk_end on.  A kernel without the guard
 * category rejects it with EINVAL (guard pages then come back as swapped
 * ranges); one before 6.7 has no PAGEMAP_SCAN and fails with ENOTTY or
 * EINVAL.
 */
static int scan_more(struct mp_pm_scanner *scanner)
{
	struct pm_scan_arg arg;
	int n;

	for (;;) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = scanner->walk_end;
		arg.end = scanner->end;
		arg.vec = (uint64_t)(uintptr_t)scanner->regions;
		arg.vec_len = MP_PM_SCAN_REGIONS;
		arg.category_anyof_mask = scanner->categories;
		arg.return_mask = scanner->categories;
		n = ioctl(scanner->fd, PAGEMAP_SCAN, &arg);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINVAL && (scanner->categories & PAGE_IS_GUARD)) {
			scanner->categories &= ~(uint64_t)PAGE_IS_GUARD;
			continue;
		}
		if (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP)
			scanner->disabled = true;
		return -errno;
	}
	scanner->count = (size_t)n;
	scanner->next = 0;
	/* walk_end is where the kernel stopped: the end, or where vec filled up. */
	scanner->walk_end = n ? arg.walk_end : scanner->end;
	return 0;
}

static bool pop_region(struct mp_pm_scanner *scanner, struct mp_pm_range *range)
{
	const struct page_region *regions = scanner->regions;

	if (scanner->next >= scanner->count)
		return false;
	range->start = regions[scanner->next].start;
	range->end = regions[scanner->next].end;
	scanner->next++;
	return true;
}

/* Hand out the whole walk as one range, once. */
static int next_plain(struct mp_pm_scanner *scanner, struct mp_pm_range *range)
{
	if (scanner->walk_end >= scanner->end)
		return 0;
	range->start = scanner->walk_end;
	range->end = scanner->end;
	scanner->walk_end = scanner->end;
	return 1;
}

int mp_pm_scanner_next(struct mp_pm_scanner *scanner, struct mp_pm_range *range)
{
	struct mp_pm_range more;
	int rc;

	if (scanner->disabled || scanner->plain)
		return next_plain(scanner, range);
	if (scanner->next >= scanner->count) {
		if (scanner->walk_end >= scanner->end)
			return 0;
		rc = scan_more(scanner);
		if (rc < 0)
			return scanner->disabled ? next_plain(scanner, range) : rc;
		if (!pop_region(scanner, range))
			return 0;
	} else {
		pop_region(scanner, range);
	}

	/* Merge the adjacent ranges (present next to swapped) of this reply. */
	while (scanner->next < scanner->count) {
		const struct page_region *r = (const struct page_region *)scanner->regions +
					      scanner->next;

		if (r->start != range->end)
			break;
		pop_region(scanner, &more);
		range->end = more.end;
	}
	return 1;
}
