// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_format_size.c - snapshot file size per page on realistic records
 *
 * With a 64-bit digest a snapshot file may take at most 24 bytes per page,
 * and 12 with zstd.  The records imitate a process scan: consecutive virtual
 * pages in each region with a few holes, PFNs that run on for a few pages
 * and then jump, a handful of recurring kpageflags values, one page in ten
 * zero-filled (all with the same digest) and some duplicated contents.  The
 * measured sizes are printed as TAP comments.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define TASKS 8
#define REGIONS_PER_TASK 12
#define PAGES_PER_REGION 2000

static uint64_t rng_state = 0x5eed;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* kpageflags words of the kinds a scan meets: anonymous, file, dirty anonymous, THP tail. */
static const uint64_t common_kpageflags[] = {
	(1ull << MP_KPF_ANON) | (1ull << MP_KPF_LRU) | (1ull << MP_KPF_SWAPBACKED) | (1ull << 11),
	(1ull << MP_KPF_LRU) | (1ull << 3) | (1ull << 5) | (1ull << 11),
	(1ull << MP_KPF_ANON) | (1ull << MP_KPF_LRU) | (1ull << MP_KPF_SWAPBACKED) |
		(1ull << MP_KPF_DIRTY) | (1ull << 11),
	(1ull << MP_KPF_ANON) | (1ull << MP_KPF_THP) | (1ull << MP_KPF_COMPOUND_TAIL) | (1ull << 11),
};

struct generator {
	uint64_t pfn;
	uint64_t kpageflags;
	uint32_t digest_size;
	uint8_t recent[64][MP_DIGEST_MAX];	/* digests to duplicate */
	size_t recent_count;
};

static void fill_page(struct generator *g, struct mp_page *page, uint64_t index)
{
	uint64_t r = rnd();

	page->index = index;
	g->pfn = r % 4 == 0 ? rnd() % (6ull << 20) : g->pfn + 1;	/* 75 % run on */
	page->pfn = g->pfn;
	page->pagemap = MP_PM_PRESENT | (r % 20 ? MP_PM_EXCLUSIVE : MP_PM_SOFT_DIRTY);
	if (r % 10 == 0)
		g->kpageflags = common_kpageflags[rnd() % 4];
	page->kpageflags = g->kpageflags;
	page->mapcount = r % 10 == 0 ? 2 : 1;
	page->flags = MP_PAGE_PFN_VALID | MP_PAGE_MERGEABLE;

	memset(page->digest, 0, sizeof(page->digest));
	if ((r >> 8) % 10 == 0) {
		page->flags |= MP_PAGE_ZERO_FILLED;
		memset(page->digest, 0x5a, g->digest_size);	/* the digest of a zero page */
	} else if ((r >> 8) % 20 == 1 && g->recent_count) {
		memcpy(page->digest, g->recent[rnd() % g->recent_count], g->digest_size);
	} else {
		for (uint32_t i = 0; i < g->digest_size; i++)
			page->digest[i] = (uint8_t)rnd();
		memcpy(g->recent[g->recent_count % 64], page->digest, g->digest_size);
		if (g->recent_count < 64)
			g->recent_count++;
	}
}

static void write_task(struct mp_sink *sink, struct generator *g, uint32_t task,
		       uint32_t *regions)
{
	struct mp_task t = { .pid = 1000 + (int32_t)task, .ppid = 1, .uid = 1000 };
	struct mp_task_end end = { .task = task, .pages = REGIONS_PER_TASK * PAGES_PER_REGION };
	static struct mp_page pages[PAGES_PER_REGION];

	strcpy(t.comm, "worker");
	assert_int_equal(sink->ops->task(sink->ctx, &t), 0);
	for (uint32_t i = 0; i < REGIONS_PER_TASK; i++) {
		struct mp_region region = {
			.task = task, .kind = MP_REGION_ANON,
			.start = 0x7f0000000000ull + ((uint64_t)i << 30),
			.end = 0x7f0000000000ull + ((uint64_t)i << 30) + (1ull << 29),
			.prot = MP_PROT_READ | MP_PROT_WRITE,
			.path = "/usr/lib/x86_64-linux-gnu/libexample.so.1", .path_size = 41,
		};
		uint64_t index = region.start >> MP_PAGE_SHIFT;

		assert_int_equal(sink->ops->region(sink->ctx, &region), 0);
		for (size_t k = 0; k < PAGES_PER_REGION; k++) {
			index += rnd() % 50 == 0 ? 2 + rnd() % 16 : 1;	/* a few holes */
			pages[k].task = task;
			pages[k].region = *regions;
			fill_page(g, &pages[k], index);
		}
		assert_int_equal(sink->ops->pages(sink->ctx, pages, PAGES_PER_REGION), 0);
		(*regions)++;
	}
	assert_int_equal(sink->ops->task_end(sink->ctx, &end), 0);
}

/* Write one set of realistic records; returns the file size per page. */
static double bytes_per_page(uint32_t digest_size, bool compress)
{
	char path[] = "/tmp/memprint-test-size-XXXXXX";
	struct mp_writer_options options = { .compress = compress };
	struct mp_set_info info = {
		.host = "host", .kernel = "6.18.0", .page_size = MP_PAGE_SIZE,
		.source = MP_SOURCE_SYNTHETIC, .hash = MP_HASH_XXH3, .digest_size = digest_size,
		.flags = MP_SET_PFN_VALID,
	};
	struct mp_set_end end = { .duration_ns = 1 };
	struct generator g = { .kpageflags = common_kpageflags[0], .digest_size = digest_size };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;
	uint32_t regions = 0;
	uint64_t pages;
	struct stat st;
	int fd;

	rng_state = 0x5eed;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	mp_assert_ok(mp_writer_open(&writer, path, &options, &error), &error);
	sink = mp_writer_sink(writer);
	mp_assert_ok(sink.ops->begin_set(sink.ctx, &info), &error);
	for (uint32_t t = 0; t < TASKS; t++)
		write_task(&sink, &g, t, &regions);
	mp_assert_ok(sink.ops->end_set(sink.ctx, &end), &error);
	pages = mp_writer_pages(writer);
	mp_assert_ok(mp_writer_close(writer, &error), &error);

	assert_int_equal(pages, TASKS * REGIONS_PER_TASK * PAGES_PER_REGION);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	return (double)st.st_size / (double)pages;
}

static void test_size_xxh3_plain(void **state)
{
	double size = bytes_per_page(8, false);

	(void)state;
	printf("# 8-byte digest, uncompressed: %.2f bytes/page (max 24)\n", size);
	assert_true(size <= 24.0);
}

static void test_size_xxh3_zstd(void **state)
{
	double size = bytes_per_page(8, true);

	(void)state;
	printf("# 8-byte digest, zstd: %.2f bytes/page (max 12)\n", size);
	assert_true(size <= 12.0);
}

/* Other widths have no budget; their sizes are printed for the record. */
static void test_size_other_widths(void **state)
{
	static const uint32_t widths[] = { 4, 16, 32 };

	(void)state;
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		double plain = bytes_per_page(widths[i], false);
		double zstd = bytes_per_page(widths[i], true);

		printf("# %u-byte digest: %.2f bytes/page uncompressed, %.2f zstd\n",
		       widths[i], plain, zstd);
		assert_true(zstd < plain);
		assert_true(plain < widths[i] + 24.0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_xxh3_plain),
		cmocka_unit_test(test_size_xxh3_zstd),
		cmocka_unit_test(test_size_other_widths),
	};

	return cmocka_run_group_tests_name("format_size", tests, NULL, NULL);
}
