// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs_kpage.c - look up /proc/kpageflags and /proc/kpagecount in batches
 *
 * Both files hold one 64-bit word per PFN.  One pread per page runs at
 * about 3 M pages/s; sorting a batch's PFNs and reading each run of nearby
 * PFNs with one pread per file is about three times faster, because a
 * pread costs far more than the words it copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/procfs.h"

/* PFNs this close together are read in one pread, the words between wasted. */
#define KPAGE_GAP 16
#define KPAGE_SPAN_MAX 4096

struct mp_kpage_slot {
	uint64_t pfn;
	uint32_t index;
};

static int open_proc(const char *sysroot, const char *name)
{
	char path[4096];

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%s", name) < 0)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int mp_kpage_open(struct mp_kpage *kpage, const char *sysroot)
{
	memset(kpage, 0, sizeof(*kpage));
	kpage->flags_fd = open_proc(sysroot, "kpageflags");
	kpage->count_fd = open_proc(sysroot, "kpagecount");
	kpage->sorted = calloc(MP_SCAN_BATCH, sizeof(*kpage->sorted));
	kpage->span = calloc(KPAGE_SPAN_MAX, sizeof(*kpage->span));
	if (!kpage->sorted || !kpage->span) {
		mp_kpage_close(kpage);
		return -ENOMEM;
	}
	return 0;
}

void mp_kpage_close(struct mp_kpage *kpage)
{
	if (kpage->flags_fd >= 0)
		close(kpage->flags_fd);
	if (kpage->count_fd >= 0)
		close(kpage->count_fd);
	free(kpage->sorted);
	free(kpage->span);
	kpage->flags_fd = kpage->count_fd = -1;
	kpage->sorted = NULL;
	kpage->span = NULL;
}

static int compare_slots(const void *a, const void *b)
{
	const struct mp_kpage_slot *x = a, *y = b;

	return (x->pfn > y->pfn) - (x->pfn < y->pfn);
}

/* Read words [first, first + count) of fd into span; words past the end read as 0. */
static int read_span(int fd, uint64_t first, size_t count, uint64_t *span)
{
	ssize_t n = mp_pread_words(fd, span, count, first);

	if (n < 0)
		return (int)n;
	memset(span + n, 0, (count - (size_t)n) * sizeof(uint64_t));
	return 0;
}

/* Fill out[] for the sorted slots [from, to), which span PFNs first..last. */
static int read_run(int fd, const struct mp_kpage_slot *slots, size_t from, size_t to,
		    uint64_t *span, uint64_t *out)
{
	uint64_t first = slots[from].pfn;
	int rc;

	rc = read_span(fd, first, (size_t)(slots[to - 1].pfn - first + 1), span);
	if (rc < 0)
		return rc;
	for (size_t i = from; i < to; i++)
		out[slots[i].index] = span[slots[i].pfn - first];
	return 0;
}

/* Sort the non-zero PFNs with their positions; returns how many there are. */
static size_t sort_pfns(struct mp_kpage_slot *sorted, const uint64_t *pfns, size_t count)
{
	size_t n = 0;
	bool in_order = true;

	for (size_t i = 0; i < count; i++) {
		if (!pfns[i])
			continue;
		if (n && pfns[i] < sorted[n - 1].pfn)
			in_order = false;
		sorted[n].pfn = pfns[i];
		sorted[n].index = (uint32_t)i;
		n++;
	}
	if (!in_order)
		qsort(sorted, n, sizeof(*sorted), compare_slots);
	return n;
}

int mp_kpage_lookup(struct mp_kpage *kpage, const uint64_t *pfns, size_t count,
		    uint64_t *flags, uint64_t *counts)
{
	struct mp_kpage_slot *sorted = kpage->sorted;
	size_t n, from = 0;

	if (count > MP_SCAN_BATCH)
		return -EINVAL;
	memset(flags, 0, count * sizeof(*flags));
	memset(counts, 0, count * sizeof(*counts));
	n = sort_pfns(sorted, pfns, count);

	while (from < n) {
		size_t to = from + 1;
		int rc;

		while (to < n && sorted[to].pfn - sorted[to - 1].pfn <= KPAGE_GAP &&
		       sorted[to].pfn - sorted[from].pfn < KPAGE_SPAN_MAX)
			to++;
		if (kpage->flags_fd >= 0) {
			rc = read_run(kpage->flags_fd, sorted, from, to, kpage->span, flags);
			if (rc < 0)
				return rc;
		}
		if (kpage->count_fd >= 0) {
			rc = read_run(kpage->count_fd, sorted, from, to, kpage->span, counts);
			if (rc < 0)
				return rc;
		}
		from = to;
	}
	return 0;
}
