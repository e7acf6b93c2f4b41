// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_analysis.c - the analysis on hand-made snapshot sets
 *
 * A test source pushes records through the analysis sink.  Digests are the
 * content number in little-endian order, so content 2 ("Y") of one page
 * equals content 2 of another; content 0 is the zero-filled page.  Every
 * expected count is worked out by hand in the comment above its check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define KPF(bit) (1ull << (bit))
#define ANON KPF(MP_KPF_ANON)
#define KSM (KPF(MP_KPF_KSM) | KPF(MP_KPF_ANON))
#define PAGECACHE KPF(MP_KPF_LRU)
#define SHMEM (KPF(MP_KPF_LRU) | KPF(MP_KPF_SWAPBACKED))
#define ZERO_PAGE KPF(MP_KPF_ZERO_PAGE)

enum { X = 1, Y = 2, W = 3 };

struct source {
	struct mp_analysis *analysis;
	struct mp_sink sink;
	struct mp_error error;
	struct mp_analysis_options options;
	struct mp_report *report;
	uint32_t set_flags;
	struct mp_ksm_counters ksm;
	uint32_t tasks, regions;
	uint64_t next_index;
};

static int setup(void **state)
{
	struct source *s = calloc(1, sizeof(*s));

	s->options.per_task = true;
	s->options.per_file = true;
	s->options.use_zero_pages = -1;
	s->set_flags = MP_SET_PFN_VALID;
	s->ksm.valid = true;
	s->ksm.max_page_sharing = 256;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct source *s = *state;

	mp_report_free(s->report);
	mp_analysis_close(s->analysis);
	free(s);
	return 0;
}

static void begin_set(struct source *s)
{
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .source = MP_SOURCE_SYNTHETIC,
				    .hash = MP_HASH_XXH3, .digest_size = 8 };

	if (!s->analysis) {
		mp_assert_ok(mp_analysis_open(&s->analysis, &s->options, &s->error), &s->error);
		s->sink = mp_analysis_sink(s->analysis);
	}
	info.flags = s->set_flags;
	info.ksm = s->ksm;
	s->tasks = s->regions = 0;
	assert_int_equal(s->sink.ops->begin_set(s->sink.ctx, &info), 0);
}

/* Add a task; returns its index in the set. */
static uint32_t add_task(struct source *s, int pid, const char *comm)
{
	struct mp_task task = { .pid = pid };

	strncpy(task.comm, comm, sizeof(task.comm) - 1);
	assert_int_equal(s->sink.ops->task(s->sink.ctx, &task), 0);
	return s->tasks++;
}

/* Add a region of task; returns its index in the set. */
static uint32_t add_region(struct source *s, uint32_t task, uint32_t kind, const char *path,
			   uint64_t inode)
{
	struct mp_region region = { .task = task, .kind = kind, .dev = 0x801, .inode = inode,
				    .prot = MP_PROT_READ, .path = path,
				    .path_size = path ? strlen(path) : 0 };

	assert_int_equal(s->sink.ops->region(s->sink.ctx, &region), 0);
	return s->regions++;
}

/* Add a page-cache file; returns its index in the set. */
static uint32_t add_file(struct source *s, uint32_t index, const char *path, uint64_t inode)
{
	struct mp_file file = { .dev = 0x801, .inode = inode, .path = path,
				.path_size = strlen(path) };

	assert_int_equal(s->sink.ops->file(s->sink.ctx, &file), 0);
	return index;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static struct mp_page make_page(uint32_t task, uint32_t region, uint64_t pfn, uint64_t content,
				uint64_t kpageflags, uint32_t mapcount, uint32_t flags)
{
	struct mp_page p = { .task = task, .region = region, .pfn = pfn,
			     .kpageflags = kpageflags, .mapcount = mapcount, .flags = flags };

	store_le64(p.digest, content);
	if (content == 0)
		p.flags |= MP_PAGE_ZERO_FILLED;
	return p;
}

static void push(struct source *s, const struct mp_page *page)
{
	struct mp_page p = *page;

	p.index = s->next_index++;
	if (s->set_flags & MP_SET_PFN_VALID)
		p.flags |= MP_PAGE_PFN_VALID;
	else
		p.pfn = p.kpageflags = p.mapcount = 0;
	assert_int_equal(s->sink.ops->pages(s->sink.ctx, &p, 1), 0);
}

/* One mapping of frame pfn by task, in region. */
static void map(struct source *s, uint32_t task, uint32_t region, uint64_t pfn,
		uint64_t content, uint64_t kpageflags, uint32_t mapcount)
{
	struct mp_page p = make_page(task, region, pfn, content, kpageflags, mapcount, 0);

	push(s, &p);
}

static void map_mergeable(struct source *s, uint32_t task, uint32_t region, uint64_t pfn,
			  uint64_t content, uint64_t kpageflags, uint32_t mapcount)
{
	struct mp_page p = make_page(task, region, pfn, content, kpageflags, mapcount,
				     MP_PAGE_MERGEABLE);

	push(s, &p);
}

static void end_task(struct source *s, uint32_t task, uint32_t status)
{
	struct mp_task_end end = { .task = task, .status = status };

	assert_int_equal(s->sink.ops->task_end(s->sink.ctx, &end), 0);
}

static void end_set(struct source *s)
{
	struct mp_set_end end = { 0 };

	assert_int_equal(s->sink.ops->end_set(s->sink.ctx, &end), 0);
}

static const struct mp_totals *analyse(struct source *s)
{
	mp_report_free(s->report);
	s->report = NULL;
	mp_assert_ok(mp_analysis_report(s->analysis, &s->report, &s->error), &s->error);
	return &s->report->totals;
}

static const struct mp_task_totals *find_task(const struct mp_report *r, int pid)
{
	for (size_t i = 0; i < r->task_count; i++)
		if (r->tasks[i].pid == pid)
			return &r->tasks[i];
	fail_msg("task %d not in the report", pid);
	return NULL;
}

static const struct mp_file_totals *find_file(const struct mp_report *r, const char *path)
{
	for (size_t i = 0; i < r->file_count; i++)
		if (!strcmp(r->files[i].path, path))
			return &r->files[i];
	fail_msg("file %s not in the report", path);
	return NULL;
}

/*
 * Task A maps frames 1 (X), 2 (Y), 3 (Y), 5 (zero-filled) and the kernel
 * zero page; task B maps frame 1 too (fork), 4 (Y), 6 (zero-filled), 7 (W).
 * with_frame_4 false leaves frame 4 out.
 */
static void feed_worked_example(struct source *s, bool with_frame_4)
{
	uint32_t a, b, ra, rb;

	begin_set(s);
	a = add_task(s, 100, "A");
	ra = add_region(s, a, MP_REGION_HEAP, "[heap]", 0);
	map(s, a, ra, 1, X, ANON, 2);
	map(s, a, ra, 2, Y, ANON, 1);
	map(s, a, ra, 3, Y, ANON, 1);
	map(s, a, ra, 5, 0, ANON, 1);
	map(s, a, ra, 9999, 0, ZERO_PAGE, 40);
	end_task(s, a, MP_TASK_COMPLETE);
	b = add_task(s, 200, "B");
	rb = add_region(s, b, MP_REGION_HEAP, "[heap]", 0);
	map(s, b, rb, 1, X, ANON, 2);
	if (with_frame_4)
		map(s, b, rb, 4, Y, ANON, 1);
	map(s, b, rb, 6, 0, ANON, 1);
	map(s, b, rb, 7, W, ANON, 1);
	end_task(s, b, MP_TASK_COMPLETE);
	end_set(s);
}

static void test_worked_example(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;

	feed_worked_example(s, true);
	t = analyse(s);

	assert_true(s->report->pfn_valid);
	assert_int_equal(t->mappings, 8);
	assert_int_equal(t->zero_page_mappings, 1);
	assert_int_equal(t->frames, 7);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], 7);
	assert_int_equal(t->shared_frames, 1);
	/* Frame 1's kpagecount is 2. */
	assert_int_equal(t->shared_frames_kernel, 1);
	assert_int_equal(t->saved_by_sharing, 1);
	/* Groups X{1} Y{2,3,4} zero{5,6} W{7}: (3 - 1) + (2 - 1). */
	assert_int_equal(t->duplicate_frames, 3);
	assert_int_equal(t->duplicate_frames_nonzero, 2);
	assert_int_equal(t->zero_filled_frames, 2);
	assert_int_equal(t->opportunities.anonymous, 3);
	assert_int_equal(t->opportunities.named, 0);
	assert_int_equal(t->opportunities.mixed, 0);
	assert_int_equal(t->opportunities.external, 3);
	assert_int_equal(t->opportunities.internal, 0);
	/* Frame 7 only: frame 1 has two mappings, the others share a content. */
	assert_int_equal(t->private_frames, 1);
	/* Frames 2, 3, 4, 5, 6. */
	assert_int_equal(t->frames_with_duplicates, 5);
	assert_int_equal(t->ksm_frames, 0);
	assert_int_equal(t->ksm_saved, 0);
	assert_int_equal(t->ksm_potential, 0);
	assert_int_equal(t->ksm_remaining, 0);
}

/* Each task's numbers over its own mappings alone. */
static void test_worked_example_tasks(void **state)
{
	struct source *s = *state;
	const struct mp_task_totals *a, *b;

	feed_worked_example(s, true);
	analyse(s);
	assert_int_equal(s->report->task_count, 2);
	a = find_task(s->report, 100);
	b = find_task(s->report, 200);
	assert_string_equal(a->comm, "A");

	/* A: frames 1, 2, 3, 5; groups X{1} Y{2,3} zero{5}. */
	assert_int_equal(a->totals.mappings, 4);
	assert_int_equal(a->totals.zero_page_mappings, 1);
	assert_int_equal(a->totals.frames, 4);
	assert_int_equal(a->totals.shared_frames, 0);
	assert_int_equal(a->totals.shared_frames_kernel, 1);
	assert_int_equal(a->totals.saved_by_sharing, 0);
	assert_int_equal(a->totals.duplicate_frames, 1);
	assert_int_equal(a->totals.opportunities.internal, 1);
	assert_int_equal(a->totals.opportunities.external, 0);
	/* Frame 5 only: frame 1 has kpagecount 2. */
	assert_int_equal(a->totals.private_frames, 1);
	/* Frames 2, 3 (Y) and 5 (zero) have duplicates in the set. */
	assert_int_equal(a->totals.frames_with_duplicates, 3);

	/* B: frames 1, 4, 6, 7, each content once. */
	assert_int_equal(b->totals.mappings, 4);
	assert_int_equal(b->totals.zero_page_mappings, 0);
	assert_int_equal(b->totals.frames, 4);
	assert_int_equal(b->totals.duplicate_frames, 0);
	assert_int_equal(b->totals.private_frames, 3);
	assert_int_equal(b->totals.frames_with_duplicates, 2);

	/* The report lists the task with more duplicated frames first. */
	assert_int_equal(s->report->tasks[0].pid, 100);
}

static void test_group_internal_without_frame_4(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;

	feed_worked_example(s, false);
	t = analyse(s);
	/* Y{2,3} is internal to A; zero{5,6} stays external. */
	assert_int_equal(t->frames, 6);
	assert_int_equal(t->duplicate_frames, 2);
	assert_int_equal(t->duplicate_frames_nonzero, 1);
	assert_int_equal(t->opportunities.internal, 1);
	assert_int_equal(t->opportunities.external, 1);
	assert_int_equal(t->private_frames, 1);
}

/* 512 mergeable anonymous frames of one content: KSM keeps 2 pages. */
static void test_ksm_potential_max_page_sharing(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "vm");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	for (uint64_t pfn = 1000; pfn < 1512; pfn++)
		map_mergeable(s, task, region, pfn, X, ANON, 1);
	/* Not mergeable: no part of the potential. */
	map(s, task, region, 2000, X, ANON, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(t->frames, 513);
	assert_int_equal(t->duplicate_frames, 512);
	/* 512 - ceil(512 / 256) */
	assert_int_equal(t->ksm_potential, 510);
	assert_int_equal(t->ksm_saved, 0);
	assert_int_equal(t->ksm_remaining, 510);
	assert_int_equal(s->report->max_page_sharing, 256);

	/* One task, one kind: their numbers are the set's, split in one pass. */
	assert_int_equal(s->report->tasks[0].totals.frames, 513);
	assert_int_equal(s->report->tasks[0].totals.duplicate_frames, 512);
	assert_int_equal(s->report->tasks[0].totals.ksm_potential, 510);
	assert_int_equal(s->report->tasks[0].totals.frames_with_duplicates, 513);
	assert_int_equal(s->report->kinds[MP_KIND_ANON].duplicate_frames, 512);
	assert_int_equal(s->report->kinds[MP_KIND_ANON].ksm_potential, 510);
}

/* The same memory once KSM has merged it: two KSM pages of 256 mappings. */
static void test_ksm_saved_converged(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "vm");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	for (int i = 0; i < 512; i++)
		map_mergeable(s, task, region, 7000 + i / 256, X, KSM, 256);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(t->mappings, 512);
	assert_int_equal(t->frames, 2);
	assert_int_equal(t->frames_by_kind[MP_KIND_KSM], 2);
	assert_int_equal(t->ksm_frames, 2);
	/* (256 - 1) + (256 - 1) */
	assert_int_equal(t->ksm_saved, 510);
	assert_int_equal(t->ksm_potential, 510);
	assert_int_equal(t->ksm_remaining, 0);
	assert_int_equal(t->shared_frames, 2);
	assert_int_equal(t->saved_by_sharing, 510);
	/* Two KSM pages of one content are one duplicate. */
	assert_int_equal(t->duplicate_frames, 1);
	assert_int_equal(t->opportunities.anonymous, 1);
	assert_int_equal(t->opportunities.internal, 1);
}

static void feed_zero_filled(struct source *s)
{
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "z");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	map_mergeable(s, task, region, 10, 0, ANON, 1);
	map_mergeable(s, task, region, 11, 0, ANON, 1);
	map_mergeable(s, task, region, 12, 0, ANON, 1);
	map_mergeable(s, task, region, 13, Y, ANON, 1);
	map_mergeable(s, task, region, 14, Y, ANON, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
}

static void test_ksm_use_zero_pages(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;

	/* use_zero_pages set: the zero-filled content leaves the potential. */
	s->ksm.use_zero_pages = 1;
	feed_zero_filled(s);
	t = analyse(s);
	assert_true(s->report->use_zero_pages);
	/* Y: 2 - 1 */
	assert_int_equal(t->ksm_potential, 1);
	assert_int_equal(t->duplicate_frames, 3);
	assert_int_equal(t->duplicate_frames_nonzero, 1);

	/* Cleared: zero-filled pages are merged like any content: (3 - 1) + (2 - 1). */
	s->ksm.use_zero_pages = 0;
	feed_zero_filled(s);
	t = analyse(s);
	assert_false(s->report->use_zero_pages);
	assert_int_equal(t->ksm_potential, 3);
}

static void test_ksm_options_override(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;

	/* The options win over the set's counters: use_zero_pages 0, max_page_sharing 2. */
	s->ksm.use_zero_pages = 1;
	s->options.use_zero_pages = 0;
	s->options.max_page_sharing = 2;
	feed_zero_filled(s);
	t = analyse(s);
	/* zero: 3 - ceil(3 / 2) = 1; Y: 2 - ceil(2 / 2) = 1 */
	assert_int_equal(t->ksm_potential, 2);
	assert_int_equal(s->report->max_page_sharing, 2);
}

/*
 * Content X in a file frame and an anonymous frame: mixed.  Content Y in
 * two file frames: named.  Content W in a shmem frame and a [vdso]-like
 * kernel frame: named too, because shmem and kernel count as file-backed.
 */
static void test_group_kinds(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t a, b, lib, heap, shm, vdso, lib_b;

	begin_set(s);
	a = add_task(s, 1, "a");
	lib = add_region(s, a, MP_REGION_FILE, "/usr/lib/libx.so", 11);
	heap = add_region(s, a, MP_REGION_HEAP, "[heap]", 0);
	shm = add_region(s, a, MP_REGION_SHMEM, "/dev/shm/seg", 12);
	vdso = add_region(s, a, MP_REGION_KERNEL, "[vdso]", 0);
	map(s, a, lib, 20, X, PAGECACHE, 1);
	map(s, a, heap, 21, X, ANON, 1);
	map(s, a, lib, 22, Y, PAGECACHE, 1);
	map(s, a, shm, 24, W, SHMEM, 1);
	map(s, a, vdso, 25, W, 0, 1);
	end_task(s, a, MP_TASK_COMPLETE);
	b = add_task(s, 2, "b");
	lib_b = add_region(s, b, MP_REGION_FILE, "/opt/copy/libx.so", 13);
	map(s, b, lib_b, 23, Y, PAGECACHE, 1);
	end_task(s, b, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(t->frames, 6);
	assert_int_equal(t->frames_by_kind[MP_KIND_FILE], 3);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], 1);
	assert_int_equal(t->frames_by_kind[MP_KIND_SHMEM], 1);
	assert_int_equal(t->frames_by_kind[MP_KIND_KERNEL], 1);
	assert_int_equal(t->duplicate_frames, 3);
	assert_int_equal(t->opportunities.mixed, 1);
	assert_int_equal(t->opportunities.named, 2);
	assert_int_equal(t->opportunities.anonymous, 0);
	/* Y is mapped by a and b; X and W by a alone. */
	assert_int_equal(t->opportunities.external, 1);
	assert_int_equal(t->opportunities.internal, 2);

	/* Each kind alone: the file frames hold one duplicate (Y{22,23}). */
	assert_int_equal(s->report->kinds[MP_KIND_FILE].frames, 3);
	assert_int_equal(s->report->kinds[MP_KIND_FILE].duplicate_frames, 1);
	assert_int_equal(s->report->kinds[MP_KIND_ANON].duplicate_frames, 0);
	/* The anonymous frame's content X is also in a file frame. */
	assert_int_equal(s->report->kinds[MP_KIND_ANON].frames_with_duplicates, 1);
}

/* kpagecount counts mappings outside the set too. */
static void test_kernel_map_count(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "a");
	region = add_region(s, task, MP_REGION_FILE, "/usr/bin/a", 30);
	map(s, task, region, 40, X, PAGECACHE, 3);
	map(s, task, region, 41, Y, PAGECACHE, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(t->frames, 2);
	assert_int_equal(t->shared_frames, 0);
	assert_int_equal(t->shared_frames_kernel, 1);
	/* Frame 40 is not private: another process maps it. */
	assert_int_equal(t->private_frames, 1);
}

/*
 * A task snapshot and a page-cache snapshot fed together.  Task a maps
 * frame 50 (X) of /data/f; the page cache also holds frame 50, frame 51
 * (X, not mapped), frame 52 (Y, not mapped) and frames 53 and 54 (W, not
 * mapped).
 */
static void test_page_cache_frames(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	const struct mp_file_totals *f;
	uint32_t task, region, file, other;

	begin_set(s);
	task = add_task(s, 1, "a");
	region = add_region(s, task, MP_REGION_FILE, "/data/f", 60);
	map(s, task, region, 50, X, PAGECACHE, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);

	begin_set(s);
	file = add_file(s, 0, "/data/f", 60);
	other = add_file(s, 1, "/data/g", 61);
	map(s, MP_NONE, file, 50, X, PAGECACHE, 1);
	map(s, MP_NONE, file, 51, X, PAGECACHE, 0);
	map(s, MP_NONE, file, 52, Y, PAGECACHE, 0);
	map(s, MP_NONE, other, 53, W, PAGECACHE, 0);
	map(s, MP_NONE, other, 54, W, PAGECACHE, 0);
	end_set(s);
	t = analyse(s);

	assert_int_equal(s->report->sets, 2);
	assert_int_equal(t->mappings, 1);
	assert_int_equal(t->frames, 5);
	/* Frames without mappings save nothing and cost nothing: 1 - 1. */
	assert_int_equal(t->saved_by_sharing, 0);
	/* X{50,51} and W{53,54}. */
	assert_int_equal(t->duplicate_frames, 2);
	assert_int_equal(t->opportunities.named, 2);
	/* X is mapped by task a only, W by no task: both internal. */
	assert_int_equal(t->opportunities.internal, 2);
	assert_int_equal(t->opportunities.external, 0);
	/* Frame 52: alone in its group, no mapping. */
	assert_int_equal(t->private_frames, 1);

	f = find_file(s->report, "/data/f");
	assert_int_equal(f->totals.frames, 3);
	assert_int_equal(f->totals.mappings, 1);
	assert_int_equal(f->totals.duplicate_frames, 1);
	f = find_file(s->report, "/data/g");
	assert_int_equal(f->totals.frames, 2);
	assert_int_equal(f->totals.duplicate_frames, 1);
	assert_int_equal(f->totals.mappings, 0);
}

/* A record whose PFN changed while it was read is counted apart. */
static void test_moved_pages(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	struct mp_page moved;
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "a");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	map(s, task, region, 70, X, ANON, 1);
	moved = make_page(task, region, 71, X, ANON, 1, MP_PAGE_MOVED);
	push(s, &moved);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(s->report->moved_pages, 1);
	assert_int_equal(t->mappings, 1);
	assert_int_equal(t->frames, 1);
	assert_int_equal(t->duplicate_frames, 0);
	assert_int_equal(t->private_frames, 1);
}

/*
 * Without PFNs a child and its parent map content X: the frames cannot be
 * told apart, so each mapping counts as a frame of its own.
 */
static void test_without_pfns(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t a, b, ra, rb;

	s->set_flags = 0;
	begin_set(s);
	a = add_task(s, 1, "parent");
	ra = add_region(s, a, MP_REGION_HEAP, "[heap]", 0);
	map(s, a, ra, 80, X, ANON, 2);
	map(s, a, ra, 81, Y, ANON, 1);
	end_task(s, a, MP_TASK_COMPLETE);
	b = add_task(s, 2, "child");
	rb = add_region(s, b, MP_REGION_HEAP, "[heap]", 0);
	map(s, b, rb, 80, X, ANON, 2);
	end_task(s, b, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_false(s->report->pfn_valid);
	assert_int_equal(t->mappings, 3);
	assert_int_equal(t->frames, 3);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], 3);
	assert_int_equal(t->shared_frames, 0);
	assert_int_equal(t->saved_by_sharing, 0);
	assert_int_equal(t->duplicate_frames, 1);
	assert_int_equal(t->opportunities.external, 1);
}

/* Two sets whose task and region indexes both start at 0. */
static void test_sets_merged(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t task, region;

	for (int pid = 1; pid <= 2; pid++) {
		begin_set(s);
		task = add_task(s, pid, pid == 1 ? "one" : "two");
		region = add_region(s, task, MP_REGION_ANON, NULL, 0);
		map(s, task, region, 90 + pid, X, ANON, 1);
		end_task(s, task, pid == 2 ? MP_TASK_EXITED : MP_TASK_COMPLETE);
		end_set(s);
	}
	t = analyse(s);

	assert_int_equal(s->report->sets, 2);
	assert_int_equal(s->report->task_count, 2);
	assert_int_equal(s->report->partial_tasks, 1);
	assert_int_equal(find_task(s->report, 2)->status, MP_TASK_EXITED);
	assert_int_equal(find_task(s->report, 1)->totals.frames, 1);
	assert_int_equal(find_task(s->report, 2)->totals.frames, 1);
	assert_int_equal(t->duplicate_frames, 1);
	assert_int_equal(t->opportunities.external, 1);

	/* The next report starts afresh. */
	begin_set(s);
	task = add_task(s, 3, "three");
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);
	assert_int_equal(s->report->task_count, 1);
	assert_int_equal(t->frames, 0);
}

/* The most duplicated contents come first, with their digest key. */
static void test_top_contents(void **state)
{
	struct source *s = *state;
	uint32_t task, region;

	s->options.top = 2;
	begin_set(s);
	task = add_task(s, 1, "a");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	for (uint64_t i = 0; i < 5; i++)
		map(s, task, region, 100 + i, Y, ANON, 1);
	for (uint64_t i = 0; i < 3; i++)
		map(s, task, region, 200 + i, X, ANON, 1);
	for (uint64_t i = 0; i < 2; i++)
		map(s, task, region, 300 + i, W, ANON, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	analyse(s);

	assert_int_equal(s->report->content_count, 2);
	assert_int_equal(s->report->contents[0].frames, 5);
	assert_int_equal(load_le64(s->report->contents[0].digest), Y);
	assert_int_equal(s->report->contents[0].digest_size, 8);
	assert_int_equal(s->report->contents[1].frames, 3);
	assert_int_equal(load_le64(s->report->contents[1].digest), X);
}

/*
 * Random sets checked against a plain reference: frames found by sorting
 * (pfn) pairs with qsort, groups by sorting (content, pfn).  Many records
 * per bucket exercise the radix sort and its recursion.
 */
struct ref_page {
	uint64_t pfn, content;
	uint32_t task;
};

static int compare_ref_pfn(const void *a, const void *b)
{
	const struct ref_page *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static int compare_ref_content(const void *a, const void *b)
{
	const struct ref_page *x = a, *y = b;

	if (x->content != y->content)
		return x->content < y->content ? -1 : 1;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

struct ref_totals {
	uint64_t frames, shared, duplicates, private_frames;
};

static void reference(struct ref_page *p, size_t n, struct ref_totals *r)
{
	size_t frames = 0;

	memset(r, 0, sizeof(*r));
	qsort(p, n, sizeof(*p), compare_ref_pfn);
	/* One entry per frame, with its mapping count in task. */
	for (size_t i = 0; i < n; ) {
		size_t j = i + 1;

		while (j < n && p[j].pfn == p[i].pfn)
			j++;
		p[frames] = p[i];
		p[frames].task = (uint32_t)(j - i);
		r->shared += j - i >= 2;
		frames++;
		i = j;
	}
	r->frames = frames;
	qsort(p, frames, sizeof(*p), compare_ref_content);
	for (size_t i = 0; i < frames; ) {
		size_t j = i + 1;

		while (j < frames && p[j].content == p[i].content)
			j++;
		r->duplicates += j - i - 1;
		if (j - i == 1 && p[i].task <= 1)
			r->private_frames++;
		i = j;
	}
}

static void test_random_against_reference(void **state)
{
	struct source *s = *state;
	const size_t n = 200000;
	struct ref_page *ref = calloc(n, sizeof(*ref));
	struct ref_totals expected;
	const struct mp_totals *t;
	uint64_t seed = 12345;
	uint32_t tasks[4], regions[4];

	s->options.top = 3;
	begin_set(s);
	for (int i = 0; i < 4; i++) {
		tasks[i] = add_task(s, 10 + i, "r");
		regions[i] = add_region(s, tasks[i], MP_REGION_ANON, NULL, 0);
	}
	for (size_t i = 0; i < n; i++) {
		/* xorshift64: PFNs from a range of n / 2 so that frames repeat. */
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		ref[i].pfn = 1 + seed % (n / 2);
		/* Content is a function of the PFN, from a few hundred contents. */
		ref[i].content = 1 + (ref[i].pfn * 2654435761u) % 700;
		ref[i].task = (uint32_t)(seed >> 40) % 4;
		map(s, tasks[ref[i].task], regions[ref[i].task], ref[i].pfn, ref[i].content,
		    ANON, 1);
	}
	end_set(s);
	t = analyse(s);
	reference(ref, n, &expected);

	assert_int_equal(t->mappings, n);
	assert_int_equal(t->frames, expected.frames);
	assert_int_equal(t->shared_frames, expected.shared);
	assert_int_equal(t->saved_by_sharing, n - expected.frames);
	assert_int_equal(t->duplicate_frames, expected.duplicates);
	assert_int_equal(t->private_frames, expected.private_frames);
	free(ref);
}

/*
 * Buckets far above the average are sorted in place: one PFN bucket holds
 * a KSM frame mapped 100000 times, one key bucket the 70000 zero-filled
 * frames.  500 frames of distinct contents complete the set.
 */
static void test_large_buckets_in_place(void **state)
{
	struct source *s = *state;
	const struct mp_totals *t;
	uint32_t task, region;

	begin_set(s);
	task = add_task(s, 1, "big");
	region = add_region(s, task, MP_REGION_ANON, NULL, 0);
	for (int i = 0; i < 100000; i++)
		map_mergeable(s, task, region, 5000, X, KSM, 100000);
	for (uint64_t pfn = 10000; pfn < 80000; pfn++)
		map(s, task, region, pfn, 0, ANON, 1);
	for (uint64_t i = 0; i < 500; i++)
		map(s, task, region, 200000 + i, 1000 + i, ANON, 1);
	end_task(s, task, MP_TASK_COMPLETE);
	end_set(s);
	t = analyse(s);

	assert_int_equal(t->mappings, 170500);
	assert_int_equal(t->frames, 70501);
	assert_int_equal(t->shared_frames, 1);
	assert_int_equal(t->saved_by_sharing, 170500 - 70501);
	assert_int_equal(t->duplicate_frames, 69999);
	assert_int_equal(t->duplicate_frames_nonzero, 0);
	assert_int_equal(t->zero_filled_frames, 70000);
	assert_int_equal(t->ksm_frames, 1);
	assert_int_equal(t->ksm_saved, 99999);
	/* 100000 - ceil(100000 / 256) */
	assert_int_equal(t->ksm_potential, 99609);
	/* KSM saved more than the potential here: nothing remains. */
	assert_int_equal(t->ksm_remaining, 0);
	assert_int_equal(t->private_frames, 500);
	assert_int_equal(s->report->tasks[0].totals.duplicate_frames, 69999);
}

static void test_sets_with_different_hashes(void **state)
{
	struct source *s = *state;
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .hash = MP_HASH_SHA256,
				    .digest_size = 32 };

	begin_set(s);
	end_set(s);
	assert_int_equal(s->sink.ops->begin_set(s->sink.ctx, &info), -EINVAL);
	assert_non_null(strstr(s->sink.error->message, "hashes differ"));
}

static void test_page_of_unknown_task(void **state)
{
	struct source *s = *state;
	struct mp_page p = make_page(5, MP_NONE, 1, X, ANON, 1, MP_PAGE_PFN_VALID);

	begin_set(s);
	assert_int_equal(s->sink.ops->pages(s->sink.ctx, &p, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_worked_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worked_example_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_internal_without_frame_4, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ksm_potential_max_page_sharing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ksm_saved_converged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ksm_use_zero_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ksm_options_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_map_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_cache_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_pfns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sets_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_against_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_buckets_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sets_with_different_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_of_unknown_task, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
