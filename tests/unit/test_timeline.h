/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_timeline.h - hand-made snapshot sets for the timeline tests
 *
 * A page is given by its task, virtual page, frame and content number.
 * The digest of content n is n in its first 8 bytes; content 0 is the
 * zero-filled page.  Frame TEST_ZERO_PAGE stands for the kernel zero page.
 */
#ifndef MEMPRINT_TEST_TIMELINE_H
#define MEMPRINT_TEST_TIMELINE_H

#include <string.h>

#include "testlib.h"
#include "internal.h"

#define TEST_ZERO_PAGE UINT64_MAX
#define TEST_NS_PER_SEC 1000000000ll

struct test_page {
	uint32_t task;		/* index in the set */
	uint64_t vpn;
	uint64_t pfn;		/* TEST_ZERO_PAGE for the kernel zero page */
	uint64_t content;
};

static inline void test_fill_page(struct mp_page *page, const struct test_page *spec,
				  bool pfn_valid)
{
	memset(page, 0, sizeof(*page));
	page->task = spec->task;
	page->index = spec->vpn;
	page->pagemap = MP_PM_PRESENT;
	if (pfn_valid) {
		page->flags |= MP_PAGE_PFN_VALID;
		page->pfn = spec->pfn == TEST_ZERO_PAGE ? 0 : spec->pfn;
		page->mapcount = 1;
		if (spec->pfn == TEST_ZERO_PAGE)
			page->kpageflags = 1ull << MP_KPF_ZERO_PAGE;
		else
			page->kpageflags = 1ull << MP_KPF_ANON;
	}
	if (spec->content == 0)
		page->flags |= MP_PAGE_ZERO_FILLED;
	mp_store_le64(page->digest, spec->content);
}

/* Push one set: tasks by pid, then pages, into sink; time in nanoseconds. */
static inline int test_push_set(const struct mp_sink *sink, int64_t time_ns,
				const int32_t *pids, size_t task_count,
				const struct test_page *pages, size_t page_count, bool pfn_valid)
{
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .source = MP_SOURCE_SYNTHETIC,
				    .hash = MP_HASH_XXH3, .digest_size = 8,
				    .flags = pfn_valid ? MP_SET_PFN_VALID : 0,
				    .monotonic_ns = time_ns, .realtime_ns = time_ns };
	struct mp_set_end end = { .duration_ns = 1000 };
	struct mp_page page;
	int rc;

	rc = sink->ops->begin_set(sink->ctx, &info);
	for (size_t i = 0; rc == 0 && i < task_count; i++) {
		struct mp_task task = { .pid = pids[i] };

		snprintf(task.comm, sizeof(task.comm), "task%d", pids[i]);
		rc = sink->ops->task(sink->ctx, &task);
	}
	for (size_t i = 0; rc == 0 && i < page_count; i++) {
		test_fill_page(&page, &pages[i], pfn_valid);
		rc = sink->ops->pages(sink->ctx, &page, 1);
	}
	if (rc == 0)
		rc = sink->ops->end_set(sink->ctx, &end);
	return rc;
}

#endif /* MEMPRINT_TEST_TIMELINE_H */
