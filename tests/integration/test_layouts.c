// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_layouts.c - the whole path (real processes, mp_procfs_scan(), the
 * analysis, struct mp_report) on memory layouts built by the test
 *
 * Each test forks processes that map and fill a few pages in a known way
 * and scans them, keeping only the records of those pages (layouts.h).
 * The report must give the counts worked out by hand from the layout in
 * the comment above each check.  Every test needs root, because frames are
 * told apart by PFN.
 */
#include <sys/stat.h>

#include "layouts.h"

/* Page contents; 0 is the zero-filled page. */
enum {
	X = 101, Y, W,				/* the worked example */
	S1 = 201,				/* shared anonymous memory: S1..S1+3 */
	F1 = 301,				/* files: F1..F1+3 */
	M1 = 401,				/* a file and its anonymous copy: M1..M1+3 */
	Z1 = 501,				/* memfd and tmpfs: Z1..Z1+3 */
};

/* ------------------------------------------------------- worked example */

/*
 * Task A maps an 8-page private anonymous region, writes X to page 0 and
 * forks task B.  Then A writes Y to pages 1 and 2, zero bytes to page 3,
 * and reads page 4 (the kernel zero page); B writes Y to page 5 (only with
 * with_frame_4), zero bytes to page 6 and W to page 7.  Neither writes
 * page 0 after the fork, so it stays one frame mapped by both.  The frames
 * of the worked example are then:
 *   frame 1: page 0 of A and B (X)   frame 4: page 5 of B (Y)
 *   frame 2: page 1 of A (Y)         frame 5: page 3 of A (zero-filled)
 *   frame 3: page 2 of A (Y)         frame 6: page 6 of B (zero-filled)
 *   zero page: page 4 of A           frame 7: page 7 of B (W)
 */
struct example {
	bool with_frame_4;
	uint8_t *region;
};

static void example_task_b(void *arg)
{
	struct example *e = arg;

	if (e->with_frame_4)
		fill_content(e->region + 5 * PAGE, Y);
	fill_content(e->region + 6 * PAGE, 0);
	fill_content(e->region + 7 * PAGE, W);
}

static void example_task_a(int command_fd, int reply_fd, void *arg)
{
	struct example *e = arg;
	pid_t b;
	int end_fd;

	e->region = map_anonymous(8, MAP_PRIVATE);
	if (e->region == MAP_FAILED)
		_exit(2);
	fill_content(e->region, X);
	b = start_partner(example_task_b, e, command_fd, reply_fd, &end_fd);
	fill_content(e->region + 1 * PAGE, Y);
	fill_content(e->region + 2 * PAGE, Y);
	fill_content(e->region + 3 * PAGE, 0);
	touch_pages(e->region + 4 * PAGE, 1);
	actor_reply(reply_fd, (uintptr_t)e->region);
	actor_reply(reply_fd, (uint64_t)b);
	actor_wait_quit(command_fd);
	stop_partner(b, end_fd);
}

/* Build the example and scan A and B; *a_pid and *b_pid get their pids. */
static void scan_example(struct scan_result *s, bool with_frame_4, pid_t *a_pid, pid_t *b_pid)
{
	struct example e = { .with_frame_4 = with_frame_4 };
	struct actor a;
	uint64_t region;
	pid_t pids[2];

	actor_start(&a, example_task_a, &e);
	region = actor_receive(&a);
	pids[0] = a.pid;
	pids[1] = (pid_t)actor_receive(&a);
	filter_add_range(&s->filter, pids[0], region, 8);
	filter_add_range(&s->filter, pids[1], region, 8);
	scan_layout(s, pids, 2);
	actor_stop(&a);
	*a_pid = pids[0];
	*b_pid = pids[1];
}

static void test_worked_example(void **state)
{
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	pid_t a, b;

	(void)state;
	mp_test_require_root();
	scan_example(&s, true, &a, &b);
	t = &s.report->totals;

	/* A: pages 0-3; B: pages 0, 5, 6, 7.  The zero page is not a mapping. */
	assert_int_equal(t->mappings, 8);
	assert_int_equal(t->zero_page_mappings, 1);
	/* Frames 1-7, all private anonymous memory. */
	assert_int_equal(t->frames, 7);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], 7);
	/* Frame 1, mapped by A and B; its kpagecount is 2 as well. */
	assert_int_equal(t->shared_frames, 1);
	assert_int_equal(t->shared_frames_kernel, 1);
	/* 8 mappings - 7 frames */
	assert_int_equal(t->saved_by_sharing, 1);
	/* Groups X{1} Y{2,3,4} zero{5,6} W{7}: (3 - 1) + (2 - 1), 2 without zero. */
	assert_int_equal(t->duplicate_frames, 3);
	assert_int_equal(t->duplicate_frames_nonzero, 2);
	assert_int_equal(t->zero_filled_frames, 2);
	/* Y and zero: anonymous frames, mapped by A and by B. */
	assert_int_equal(t->opportunities.anonymous, 3);
	assert_int_equal(t->opportunities.named, 0);
	assert_int_equal(t->opportunities.mixed, 0);
	assert_int_equal(t->opportunities.external, 3);
	assert_int_equal(t->opportunities.internal, 0);
	/* Frame 7; frame 1 is alone in X but has two mappings. */
	assert_int_equal(t->private_frames, 1);
	/* Frames 2-6. */
	assert_int_equal(t->frames_with_duplicates, 5);
	/* Nothing is mergeable. */
	assert_int_equal(t->ksm_frames, 0);
	assert_int_equal(t->ksm_potential, 0);
	scan_result_free(&s);
}

/* Each task's numbers over its own mappings alone. */
static void test_worked_example_tasks(void **state)
{
	const struct mp_task_totals *a, *b;
	struct scan_result s = { 0 };
	pid_t a_pid, b_pid;

	(void)state;
	mp_test_require_root();
	scan_example(&s, true, &a_pid, &b_pid);
	assert_int_equal(s.report->task_count, 2);
	a = task_totals(s.report, a_pid);
	b = task_totals(s.report, b_pid);
	assert_int_equal(a->status, MP_TASK_COMPLETE);
	assert_int_equal(b->status, MP_TASK_COMPLETE);

	/* A: frames 1, 2, 3, 5 and the zero page; groups X{1} Y{2,3} zero{5}. */
	assert_int_equal(a->totals.mappings, 4);
	assert_int_equal(a->totals.zero_page_mappings, 1);
	assert_int_equal(a->totals.frames, 4);
	assert_int_equal(a->totals.shared_frames, 0);
	assert_int_equal(a->totals.shared_frames_kernel, 1);
	assert_int_equal(a->totals.duplicate_frames, 1);
	assert_int_equal(a->totals.opportunities.internal, 1);
	/* Frame 5; frame 1 has kpagecount 2. */
	assert_int_equal(a->totals.private_frames, 1);
	/* Frames 2, 3 (Y) and 5 (zero) have duplicates in the set. */
	assert_int_equal(a->totals.frames_with_duplicates, 3);

	/* B: frames 1, 4, 6, 7, each content once. */
	assert_int_equal(b->totals.mappings, 4);
	assert_int_equal(b->totals.zero_page_mappings, 0);
	assert_int_equal(b->totals.frames, 4);
	assert_int_equal(b->totals.shared_frames_kernel, 1);
	assert_int_equal(b->totals.duplicate_frames, 0);
	/* Frames 4, 6, 7. */
	assert_int_equal(b->totals.private_frames, 3);
	/* Frames 4 (Y) and 6 (zero). */
	assert_int_equal(b->totals.frames_with_duplicates, 2);
	scan_result_free(&s);
}

static void test_worked_example_without_frame_4(void **state)
{
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	pid_t a, b;

	(void)state;
	mp_test_require_root();
	scan_example(&s, false, &a, &b);
	t = &s.report->totals;

	/* B no longer maps page 5: 7 mappings of frames 1, 2, 3, 5, 6, 7. */
	assert_int_equal(t->mappings, 7);
	assert_int_equal(t->zero_page_mappings, 1);
	assert_int_equal(t->frames, 6);
	assert_int_equal(t->shared_frames, 1);
	assert_int_equal(t->saved_by_sharing, 1);
	/* Y{2,3} (internal to A) and zero{5,6} (external). */
	assert_int_equal(t->duplicate_frames, 2);
	assert_int_equal(t->duplicate_frames_nonzero, 1);
	assert_int_equal(t->opportunities.anonymous, 2);
	assert_int_equal(t->opportunities.internal, 1);
	assert_int_equal(t->opportunities.external, 1);
	/* Frame 7. */
	assert_int_equal(t->private_frames, 1);
	scan_result_free(&s);
}

/* ------------------------------------------------ shared anonymous memory */

static uint8_t *shared_region;

static void touch_shared_region(void *arg)
{
	(void)arg;
	/* fork does not copy the page tables of a shared mapping: fault them in. */
	touch_pages(shared_region, 4);
}

/* A MAP_SHARED anonymous region of 4 pages S1..S4, mapped by an actor and its child. */
static void shared_anonymous_actor(int command_fd, int reply_fd, void *arg)
{
	pid_t child;
	int end_fd;

	(void)arg;
	shared_region = map_anonymous(4, MAP_SHARED);
	if (shared_region == MAP_FAILED)
		_exit(2);
	for (int i = 0; i < 4; i++)
		fill_content(shared_region + i * PAGE, S1 + i);
	child = start_partner(touch_shared_region, NULL, command_fd, reply_fd, &end_fd);
	actor_reply(reply_fd, (uintptr_t)shared_region);
	actor_reply(reply_fd, (uint64_t)child);
	actor_wait_quit(command_fd);
	stop_partner(child, end_fd);
}

static void test_shared_anonymous(void **state)
{
	const struct mp_file_totals *file;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	struct actor a;
	uint64_t region;
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	actor_start(&a, shared_anonymous_actor, NULL);
	region = actor_receive(&a);
	pids[0] = a.pid;
	pids[1] = (pid_t)actor_receive(&a);
	filter_add_range(&s.filter, pids[0], region, 4);
	filter_add_range(&s.filter, pids[1], region, 4);
	scan_layout(&s, pids, 2);
	actor_stop(&a);
	t = &s.report->totals;

	/* 4 shmem frames, each mapped by both processes. */
	assert_int_equal(t->mappings, 8);
	assert_int_equal(t->zero_page_mappings, 0);
	assert_int_equal(t->frames, 4);
	assert_int_equal(t->frames_by_kind[MP_KIND_SHMEM], 4);
	assert_int_equal(t->shared_frames, 4);
	assert_int_equal(t->shared_frames_kernel, 4);
	/* 8 - 4 */
	assert_int_equal(t->saved_by_sharing, 4);
	/* Four contents, one frame each. */
	assert_int_equal(t->duplicate_frames, 0);
	assert_int_equal(t->zero_filled_frames, 0);
	assert_int_equal(t->opportunities.named, 0);
	assert_int_equal(t->opportunities.external, 0);
	/* Every frame has two mappings. */
	assert_int_equal(t->private_frames, 0);
	/* One file (the shared anonymous object) holds the four frames. */
	assert_int_equal(s.report->file_count, 1);
	file = &s.report->files[0];
	assert_int_equal(file->totals.frames, 4);
	assert_int_equal(file->totals.mappings, 8);
	scan_result_free(&s);
}

/* ----------------------------------------------------------------- files */

struct file_mapping {
	const char *paths[2];
	size_t pages;
	int flags;
};

/* Map each path of arg shared and read-only, fault every page in, report the addresses. */
static void file_actor(int command_fd, int reply_fd, void *arg)
{
	const struct file_mapping *m = arg;

	for (int i = 0; i < 2 && m->paths[i]; i++)
		actor_reply(reply_fd, (uintptr_t)map_file(m->paths[i], m->pages, MAP_SHARED));
	actor_wait_quit(command_fd);
}

/* Start an actor mapping the file at path; returns the address of its mapping. */
static uint64_t start_file_actor(struct actor *a, struct file_mapping *m, const char *path)
{
	m->paths[0] = path;
	m->paths[1] = NULL;
	actor_start(a, file_actor, m);
	return actor_receive(a);
}

static const char *require_disk_directory(void)
{
	const char *directory = disk_directory();

	if (!directory)
		mp_test_skip("neither /var/tmp nor /tmp is on a disk-backed file system");
	return directory;
}

/* One file of 4 pages F1..F4, mapped by two processes. */
static void test_file_two_processes(void **state)
{
	static const uint64_t contents[4] = { F1, F1 + 1, F1 + 2, F1 + 3 };
	const char *directory = require_disk_directory();
	struct file_mapping m = { .pages = 4 };
	const struct mp_file_totals *file;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	struct actor a[2];
	char path[256];
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	make_file(path, sizeof(path), directory, contents, 4);
	for (int i = 0; i < 2; i++) {
		filter_add_range(&s.filter, 0, start_file_actor(&a[i], &m, path), 4);
		s.filter.ranges[i].pid = pids[i] = a[i].pid;
	}
	scan_layout(&s, pids, 2);
	actor_stop(&a[0]);
	actor_stop(&a[1]);
	unlink(path);
	t = &s.report->totals;

	/* The same 4 page-cache frames in both processes. */
	assert_int_equal(t->mappings, 8);
	assert_int_equal(t->frames, 4);
	assert_int_equal(t->frames_by_kind[MP_KIND_FILE], 4);
	assert_int_equal(t->shared_frames, 4);
	assert_int_equal(t->saved_by_sharing, 4);
	assert_int_equal(t->duplicate_frames, 0);
	assert_int_equal(t->opportunities.named, 0);
	assert_int_equal(t->private_frames, 0);
	file = file_totals(s.report, path);
	assert_int_equal(file->totals.frames, 4);
	assert_int_equal(file->totals.mappings, 8);
	scan_result_free(&s);
}

/*
 * File P holds C1 C2 C3 C1 and file Q holds C1 C2 C3 C4 (Cn = F1 + n - 1);
 * one process maps P, another Q.  Groups: C1 {P0, P3, Q0}, C2 {P1, Q1},
 * C3 {P2, Q2}, C4 {Q3}.
 */
static void test_files_equal_content(void **state)
{
	static const uint64_t p_contents[4] = { F1, F1 + 1, F1 + 2, F1 };
	static const uint64_t q_contents[4] = { F1, F1 + 1, F1 + 2, F1 + 3 };
	const char *directory = require_disk_directory();
	struct file_mapping m = { .pages = 4 };
	const struct mp_file_totals *file;
	struct scan_result s = { 0 };
	char p_path[256], q_path[256];
	const struct mp_totals *t;
	struct actor a[2];
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	make_file(p_path, sizeof(p_path), directory, p_contents, 4);
	make_file(q_path, sizeof(q_path), directory, q_contents, 4);
	filter_add_range(&s.filter, 0, start_file_actor(&a[0], &m, p_path), 4);
	filter_add_range(&s.filter, 0, start_file_actor(&a[1], &m, q_path), 4);
	for (int i = 0; i < 2; i++)
		s.filter.ranges[i].pid = pids[i] = a[i].pid;
	scan_layout(&s, pids, 2);
	actor_stop(&a[0]);
	actor_stop(&a[1]);
	unlink(p_path);
	unlink(q_path);
	t = &s.report->totals;

	/* 8 page-cache frames, each mapped once. */
	assert_int_equal(t->mappings, 8);
	assert_int_equal(t->frames, 8);
	assert_int_equal(t->frames_by_kind[MP_KIND_FILE], 8);
	assert_int_equal(t->shared_frames, 0);
	assert_int_equal(t->saved_by_sharing, 0);
	/* (3 - 1) + (2 - 1) + (2 - 1) */
	assert_int_equal(t->duplicate_frames, 4);
	assert_int_equal(t->duplicate_frames_nonzero, 4);
	/* Every group is of file pages and spans both processes. */
	assert_int_equal(t->opportunities.named, 4);
	assert_int_equal(t->opportunities.anonymous, 0);
	assert_int_equal(t->opportunities.mixed, 0);
	assert_int_equal(t->opportunities.external, 4);
	assert_int_equal(t->opportunities.internal, 0);
	/* Q3 (C4). */
	assert_int_equal(t->private_frames, 1);
	/* P alone: C1 {P0, P3} is a duplicate inside it; all 4 have one in the set. */
	file = file_totals(s.report, p_path);
	assert_int_equal(file->totals.frames, 4);
	assert_int_equal(file->totals.duplicate_frames, 1);
	assert_int_equal(file->totals.frames_with_duplicates, 4);
	/* Q alone: no duplicate inside; Q0, Q1, Q2 have one in P. */
	file = file_totals(s.report, q_path);
	assert_int_equal(file->totals.duplicate_frames, 0);
	assert_int_equal(file->totals.frames_with_duplicates, 3);
	scan_result_free(&s);
}

/*
 * One process maps file F (M1..M4) shared, maps it again privately and
 * writes page 0 of the private mapping with the byte it holds (a copy on
 * write: an anonymous frame of content M1), and copies F into a private
 * anonymous region.  The addresses it reports: shared, private, copy.
 */
static void copy_actor(int command_fd, int reply_fd, void *arg)
{
	const char *path = arg;
	uint8_t *shared = map_file(path, 4, MAP_SHARED);
	uint8_t *private = map_file(path, 4, MAP_PRIVATE);
	uint8_t *copy = map_anonymous(4, MAP_PRIVATE);

	if (copy == MAP_FAILED)
		_exit(2);
	*(volatile uint8_t *)private = *(volatile uint8_t *)private;
	memcpy(copy, shared, 4 * PAGE);
	actor_reply(reply_fd, (uintptr_t)shared);
	actor_reply(reply_fd, (uintptr_t)private);
	actor_reply(reply_fd, (uintptr_t)copy);
	actor_wait_quit(command_fd);
}

static void test_anonymous_copy_of_file(void **state)
{
	static const uint64_t contents[4] = { M1, M1 + 1, M1 + 2, M1 + 3 };
	const char *directory = require_disk_directory();
	const struct mp_file_totals *file;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	struct actor a;
	char path[256];

	(void)state;
	mp_test_require_root();
	make_file(path, sizeof(path), directory, contents, 4);
	actor_start(&a, copy_actor, path);
	for (int i = 0; i < 3; i++)
		filter_add_range(&s.filter, a.pid, actor_receive(&a), 4);
	scan_layout(&s, &a.pid, 1);
	actor_stop(&a);
	unlink(path);
	t = &s.report->totals;

	/* 4 shared + 4 private + 4 copied pages. */
	assert_int_equal(t->mappings, 12);
	/*
	 * Page-cache frames F0..F3 (F1..F3 mapped twice: shared and private),
	 * the copy-on-write frame of private page 0, 4 anonymous copies.
	 */
	assert_int_equal(t->frames, 9);
	assert_int_equal(t->frames_by_kind[MP_KIND_FILE], 4);
	assert_int_equal(t->frames_by_kind[MP_KIND_ANON], 5);
	assert_int_equal(t->shared_frames, 3);
	/* 12 - 9 */
	assert_int_equal(t->saved_by_sharing, 3);
	/* M1 {F0, copy-on-write, copy 0}: 2; M2..M4 {Fn, copy n}: 1 each. */
	assert_int_equal(t->duplicate_frames, 5);
	assert_int_equal(t->opportunities.mixed, 5);
	assert_int_equal(t->opportunities.anonymous, 0);
	assert_int_equal(t->opportunities.named, 0);
	assert_int_equal(t->opportunities.internal, 5);
	assert_int_equal(t->opportunities.external, 0);
	assert_int_equal(t->private_frames, 0);
	/*
	 * The file's frames: F0..F3 and the copy-on-write frame, which lies in
	 * the file's private mapping; its mappings: 4 shared, 4 private.
	 */
	file = file_totals(s.report, path);
	assert_int_equal(file->totals.frames, 5);
	assert_int_equal(file->totals.mappings, 8);
	scan_result_free(&s);
}

/* ------------------------------------------------------ memfd and tmpfs */

struct shmem_layout {
	char tmpfs_path[256];
	bool with_memfd;
};

/* Map the tmpfs file, and a memfd of the same 4 contents Z1..Z4 if asked. */
static void shmem_actor(int command_fd, int reply_fd, void *arg)
{
	const struct shmem_layout *l = arg;
	uint8_t page[PAGE];

	if (l->with_memfd) {
		int fd = memfd_create("memprint-layouts", MFD_CLOEXEC);
		uint8_t *p;

		if (fd < 0)
			_exit(2);
		for (int i = 0; i < 4; i++) {
			fill_content(page, Z1 + i);
			if (pwrite(fd, page, PAGE, (off_t)i * PAGE) != PAGE)
				_exit(2);
		}
		p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		touch_pages(p, 4);
		actor_reply(reply_fd, (uintptr_t)p);
	}
	actor_reply(reply_fd, (uintptr_t)map_file(l->tmpfs_path, 4, MAP_SHARED));
	actor_wait_quit(command_fd);
}

/*
 * Process P maps a memfd and a /dev/shm file, both holding Z1..Z4; process
 * Q maps the /dev/shm file too.  Groups: Zn {memfd n, tmpfs n}.
 */
static void test_memfd_and_tmpfs(void **state)
{
	static const uint64_t contents[4] = { Z1, Z1 + 1, Z1 + 2, Z1 + 3 };
	struct shmem_layout with_memfd = { .with_memfd = true }, without_memfd = { 0 };
	const struct mp_file_totals *file;
	struct scan_result s = { 0 };
	const struct mp_totals *t;
	struct actor p, q;
	pid_t pids[2];

	(void)state;
	mp_test_require_root();
	if (!on_tmpfs("/dev/shm"))
		mp_test_skip("/dev/shm is not a tmpfs mount");
	make_file(with_memfd.tmpfs_path, sizeof(with_memfd.tmpfs_path), "/dev/shm", contents, 4);
	memcpy(without_memfd.tmpfs_path, with_memfd.tmpfs_path, sizeof(with_memfd.tmpfs_path));
	actor_start(&p, shmem_actor, &with_memfd);
	actor_start(&q, shmem_actor, &without_memfd);
	filter_add_range(&s.filter, p.pid, actor_receive(&p), 4);
	filter_add_range(&s.filter, p.pid, actor_receive(&p), 4);
	filter_add_range(&s.filter, q.pid, actor_receive(&q), 4);
	pids[0] = p.pid;
	pids[1] = q.pid;
	scan_layout(&s, pids, 2);
	actor_stop(&p);
	actor_stop(&q);
	unlink(with_memfd.tmpfs_path);
	t = &s.report->totals;

	/* P: 4 memfd + 4 tmpfs pages; Q: the same 4 tmpfs frames. */
	assert_int_equal(t->mappings, 12);
	assert_int_equal(t->frames, 8);
	assert_int_equal(t->frames_by_kind[MP_KIND_SHMEM], 8);
	assert_int_equal(t->shared_frames, 4);
	/* 12 - 8 */
	assert_int_equal(t->saved_by_sharing, 4);
	/* Four groups of 2 shmem frames: named; the tmpfs frames are Q's too. */
	assert_int_equal(t->duplicate_frames, 4);
	assert_int_equal(t->opportunities.named, 4);
	assert_int_equal(t->opportunities.anonymous, 0);
	assert_int_equal(t->opportunities.mixed, 0);
	assert_int_equal(t->opportunities.external, 4);
	assert_int_equal(t->private_frames, 0);
	/* Two files: the memfd (P's 4 mappings) and the tmpfs file (P's and Q's). */
	file = file_totals(s.report, "/memfd:memprint-layouts");
	assert_int_equal(file->totals.frames, 4);
	assert_int_equal(file->totals.mappings, 4);
	file = file_totals(s.report, with_memfd.tmpfs_path);
	assert_int_equal(file->totals.frames, 4);
	assert_int_equal(file->totals.mappings, 8);
	scan_result_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_worked_example_tasks),
		cmocka_unit_test(test_worked_example_without_frame_4),
		cmocka_unit_test(test_shared_anonymous),
		cmocka_unit_test(test_file_two_processes),
		cmocka_unit_test(test_files_equal_content),
		cmocka_unit_test(test_anonymous_copy_of_file),
		cmocka_unit_test(test_memfd_and_tmpfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
