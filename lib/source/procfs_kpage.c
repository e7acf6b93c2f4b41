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
	kpage->sorted = calloc(2 * MP_SCAN_BATCH, sizeof(*kpage->sorted));
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

/*
 * Sort slots by PFN: a least-significant-digit radix sort, 8 bits a pass,
 * over only the low bytes in which the batch's PFNs differ.  qsort() spent
 * more time on a batch than the reads it saves.
 */
static void radix_sort(struct mp_kpage_slot *slots, struct mp_kpage_slot *tmp, size_t n)
{
	uint64_t differ = 0;

	for (size_t i = 1; i < n; i++)
		differ |= slots[i].pfn ^ slots[0].pfn;
	for (unsigned shift = 0; shift < 64 && (differ >> shift); shift += 8) {
		size_t count[257] = { 0 };

		for (size_t i = 0; i < n; i++)
			count[((slots[i].pfn >> shift) & 0xff) + 1]++;
		for (size_t d = 1; d < 257; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(slots[i].pfn >> shift) & 0xff]++] = slots[i];
		memcpy(slots, tmp, n * sizeof(*slots));
	}
}

/* Sort the non-zero PFNs with their positions; returns how many there are. */
static size_t sort_pfns(struct mp_kpage *kpage, const uint64_t *pfns, size_t count)
{
	struct mp_kpage_slot *sorted = kpage->sorted;
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
		radix_sort(sorted, kpage->sorted + MP_SCAN_BATCH, n);
	return n;
}

/* Read fd's word of every slot in sorted[0, n), one pread per run of nearby PFNs. */
static int read_sorted(struct mp_kpage *kpage, int fd, const struct mp_kpage_slot *sorted,
		       size_t n, uint64_t *out)
{
	size_t from = 0;

	while (from < n) {
		size_t to = from + 1;
		int rc;

		while (to < n && sorted[to].pfn - sorted[to - 1].pfn <= KPAGE_GAP &&
		       sorted[to].pfn - sorted[from].pfn < KPAGE_SPAN_MAX)
			to++;
		rc = read_run(fd, sorted, from, to, kpage->span, out);
		if (rc < 0)
			return rc;
		from = to;
	}
	return 0;
}

/*
 * Whether a page's map count is known to be 1 without kpagecount.  pagemap
 * sets the exclusive bit when the page is mapped exactly once
 * (Documentation/admin-guide/mm/pagemap.rst).  For a page outside a large
 * folio that is the count kpagecount shows; test_procfs compares the two.
 */
static bool count_is_one(bool exclusive, uint64_t flags)
{
	const uint64_t large = 1ull << MP_KPF_COMPOUND_HEAD | 1ull << MP_KPF_COMPOUND_TAIL |
			       1ull << MP_KPF_THP | 1ull << MP_KPF_HUGE;

	return exclusive && (flags & (1ull << MP_KPF_NOPAGE | large)) == 0;
}

/* Keep the sorted slots whose count must be read; set the others' count to 1. */
static size_t filter_counts(struct mp_kpage_slot *sorted, size_t n, const bool *exclusive,
			    const uint64_t *flags, uint64_t *counts)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t slot = sorted[i].index;

		if (count_is_one(exclusive[slot], flags[slot]))
			counts[slot] = 1;
		else
			sorted[kept++] = sorted[i];
	}
	return kept;
}

int mp_kpage_lookup_mapped(struct mp_kpage *kpage, const uint64_t *pfns, size_t count,
			   const bool *exclusive, uint64_t *flags, uint64_t *counts)
{
	size_t n;
	int rc;

	if (count > MP_SCAN_BATCH)
		return -EINVAL;
	memset(flags, 0, count * sizeof(*flags));
	memset(counts, 0, count * sizeof(*counts));
	n = sort_pfns(kpage, pfns, count);
	if (kpage->flags_fd >= 0) {
		rc = read_sorted(kpage, kpage->flags_fd, kpage->sorted, n, flags);
		if (rc < 0)
			return rc;
		if (exclusive)
			n = filter_counts(kpage->sorted, n, exclusive, flags, counts);
	}
	if (kpage->count_fd >= 0)
		return read_sorted(kpage, kpage->count_fd, kpage->sorted, n, counts);
	return 0;
}

int mp_kpage_lookup(struct mp_kpage *kpage, const uint64_t *pfns, size_t count,
		    uint64_t *flags, uint64_t *counts)
{
	return mp_kpage_lookup_mapped(kpage, pfns, count, NULL, flags, counts);
}
