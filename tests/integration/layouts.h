/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layouts.h - helpers for the end-to-end tests on processes with known
 * memory layouts: child processes (actors) that build a layout and wait,
 * page contents, test files, and a sink that keeps only the test's regions
 *
 * An actor is a forked child that runs a body function, which maps and
 * fills memory, sends 64-bit values (addresses, pids) on its reply pipe,
 * and then waits for commands.  Closing the command pipe or sending 'q'
 * ends it.  An actor also gets SIGKILL when the test process dies
 * (PR_SET_PDEATHSIG), so that none is left behind.
 *
 * The range filter passes every set, task and region record on, but only
 * the page records that lie in the ranges the test names (pid, start, end),
 * so that the counts of a report are those of the test's layout alone and
 * not of the libraries, stacks and heaps of the processes.
 */
#ifndef MEMPRINT_TEST_LAYOUTS_H
#define MEMPRINT_TEST_LAYOUTS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define PAGE MP_PAGE_SIZE
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif

/* ------------------------------------------------------------- contents */

/*
 * Fill a page with content number content: 0 is the zero-filled page, any
 * other number a pseudo-random page that no other number produces.
 */
static inline void fill_content(uint8_t *page, uint64_t content)
{
	uint64_t x = content * 0x9e3779b97f4a7c15ull ^ 0x5bd1e9955bd1e995ull;

	if (content == 0) {
		memset(page, 0, PAGE);
		return;
	}
	for (size_t i = 0; i < PAGE; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(page + i, &x, 8);
	}
}

/* A private anonymous region of pages without THP, or MAP_FAILED. */
static inline uint8_t *map_anonymous(size_t pages, int flags)
{
	uint8_t *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
			  -1, 0);

	if (p != MAP_FAILED)
		madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	return p;
}

/* Read one byte of every page: present pages stay, absent ones fault in. */
static inline void touch_pages(const uint8_t *p, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		(void)*(const volatile uint8_t *)(p + i * PAGE);
}

/* ---------------------------------------------------------------- actors */

struct actor {
	pid_t pid;
	int command_fd;			/* test -> actor */
	int reply_fd;			/* actor -> test */
};

/* Send a 64-bit value to the test (in the actor). */
static inline void actor_reply(int reply_fd, uint64_t value)
{
	if (write(reply_fd, &value, sizeof(value)) != sizeof(value))
		_exit(3);
}

/* Wait for the next command (in the actor); 'q' at the end of file. */
static inline char actor_next_command(int command_fd)
{
	char c;

	return read(command_fd, &c, 1) == 1 ? c : 'q';
}

/* Wait until the test ends the actor (in the actor). */
static inline void actor_wait_quit(int command_fd)
{
	while (actor_next_command(command_fd) != 'q')
		;
}

typedef void (*actor_body)(int command_fd, int reply_fd, void *arg);

/* Fork an actor that runs body(command_fd, reply_fd, arg) and then exits. */
static inline void actor_start(struct actor *a, actor_body body, void *arg)
{
	int command[2], reply[2];
	pid_t parent = getpid();

	assert_int_equal(pipe2(command, O_CLOEXEC), 0);
	assert_int_equal(pipe2(reply, O_CLOEXEC), 0);
	a->pid = fork();
	assert_true(a->pid >= 0);
	if (a->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(4);
		close(command[1]);
		close(reply[0]);
		body(command[0], reply[1], arg);
		_exit(0);
	}
	close(command[0]);
	close(reply[1]);
	a->command_fd = command[1];
	a->reply_fd = reply[0];
}

/* The next value the actor sends; fails the test if the actor died first. */
static inline uint64_t actor_receive(struct actor *a)
{
	uint64_t value;

	if (read(a->reply_fd, &value, sizeof(value)) != sizeof(value))
		fail_msg("actor %d ended before it replied", (int)a->pid);
	return value;
}

/* Send a command and wait for the actor's reply to it. */
static inline uint64_t actor_command(struct actor *a, char c)
{
	assert_int_equal(write(a->command_fd, &c, 1), 1);
	return actor_receive(a);
}

/*
 * End the actor and reap it; an actor already reaped (pid 0) is left alone.
 * The end of file alone would not do: actors forked later hold copies of
 * the command pipe.
 */
static inline void actor_stop(struct actor *a)
{
	if (a->pid <= 0)
		return;
	(void)!write(a->command_fd, "q", 1);
	close(a->command_fd);
	close(a->reply_fd);
	waitpid(a->pid, NULL, 0);
	a->pid = 0;
}

/*
 * Fork a partner of an actor (in the actor): a child that runs fn(arg),
 * writes a byte to the actor when fn returns, and waits until the actor ends it with
 * stop_partner().  Returns its pid once fn has run.
 */
static inline pid_t start_partner(void (*fn)(void *arg), void *arg, int command_fd, int reply_fd,
				  int *end_fd)
{
	int ready[2], end[2];
	pid_t actor = getpid(), pid;
	char c;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(end, O_CLOEXEC) < 0)
		_exit(7);
	pid = fork();
	if (pid < 0)
		_exit(8);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != actor)
			_exit(4);
		close(command_fd);
		close(reply_fd);
		close(ready[0]);
		close(end[1]);
		fn(arg);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		(void)!read(end[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(end[0]);
	if (read(ready[0], &c, 1) != 1)
		_exit(9);
	close(ready[0]);
	*end_fd = end[1];
	return pid;
}

static inline void stop_partner(pid_t pid, int end_fd)
{
	close(end_fd);
	waitpid(pid, NULL, 0);
}

/* Kill an actor that the test no longer needs to end cleanly, and reap it. */
static inline void actor_kill(struct actor *a)
{
	kill(a->pid, SIGKILL);
	waitpid(a->pid, NULL, 0);
	close(a->command_fd);
	close(a->reply_fd);
	a->pid = 0;
}

/* ----------------------------------------------------------------- files */

/*
 * A directory on a disk-backed file system (/var/tmp, else /tmp), where a
 * file written and fsync'ed stays in the page cache as file pages, not as
 * shmem pages as on tmpfs.  NULL when neither is.
 */
static inline const char *disk_directory(void)
{
	static const char *const candidates[] = { "/var/tmp", "/tmp" };
	struct statfs fs;

	for (size_t i = 0; i < 2; i++) {
		if (statfs(candidates[i], &fs) == 0 && fs.f_type != TMPFS_MAGIC &&
		    fs.f_type != RAMFS_MAGIC)
			return candidates[i];
	}
	return NULL;
}

/* Whether path lies on tmpfs. */
static inline bool on_tmpfs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

/*
 * Create a file in directory with page i holding contents[i], fsync it so
 * that its pages are clean and cached, and store its path.
 */
static inline void make_file(char *path, size_t size, const char *directory,
			     const uint64_t *contents, size_t pages)
{
	uint8_t page[PAGE];
	int fd;

	snprintf(path, size, "%s/memprint-layouts-XXXXXX", directory);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < pages; i++) {
		fill_content(page, contents[i]);
		assert_int_equal(pwrite(fd, page, PAGE, (off_t)(i * PAGE)), PAGE);
	}
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/*
 * Map pages of the file at path with flags (MAP_SHARED read-only, or
 * MAP_PRIVATE writable) and fault every page in (in an actor).
 */
static inline uint8_t *map_file(const char *path, size_t pages, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p;

	if (fd < 0)
		_exit(5);
	p = mmap(NULL, pages * PAGE, PROT_READ | (flags & MAP_PRIVATE ? PROT_WRITE : 0), flags,
		 fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		_exit(6);
	touch_pages(p, pages);
	return p;
}

/* ---------------------------------------------------------- range filter */

#define FILTER_MAX_TASKS 8
#define FILTER_MAX_RANGES 16

/* Virtual addresses [start, end) of pid whose page records are kept. */
struct range {
	pid_t pid;
	uint64_t start, end;
};

struct range_filter {
	struct mp_sink next;
	struct range ranges[FILTER_MAX_RANGES];
	size_t range_count;
	pid_t task_pids[FILTER_MAX_TASKS];	/* pid of each task index of the set */
	uint32_t tasks;
	struct mp_task_end ends[FILTER_MAX_TASKS];
	struct mp_set_end set_end;
	/* Every record kept, for checks of single records. */
	struct mp_page *kept;
	size_t kept_count, kept_capacity;
	/* Called once per batch of kept records, e.g. to change a target mid-scan. */
	void (*on_kept)(struct range_filter *f, const struct mp_page *pages, size_t count);
	void *arg;
	struct mp_page batch[256];
};

static inline void filter_add_range(struct range_filter *f, pid_t pid, uint64_t start,
				    size_t pages)
{
	assert_true(f->range_count < FILTER_MAX_RANGES);
	f->ranges[f->range_count++] = (struct range){ pid, start, start + pages * PAGE };
}

static inline int range_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct range_filter *f = ctx;

	f->tasks = 0;
	f->kept_count = 0;
	return f->next.ops->begin_set(f->next.ctx, info);
}

static inline int range_task(void *ctx, const struct mp_task *task)
{
	struct range_filter *f = ctx;

	if (f->tasks == FILTER_MAX_TASKS)
		return -E2BIG;
	f->task_pids[f->tasks++] = task->pid;
	return f->next.ops->task(f->next.ctx, task);
}

static inline int range_region(void *ctx, const struct mp_region *region)
{
	struct range_filter *f = ctx;

	/* Every region goes on: page records name regions by their index in the set. */
	return f->next.ops->region(f->next.ctx, region);
}

static inline bool in_ranges(const struct range_filter *f, const struct mp_page *page)
{
	uint64_t address = page->index * PAGE;

	if (page->task >= f->tasks)
		return false;
	for (size_t i = 0; i < f->range_count; i++) {
		const struct range *r = &f->ranges[i];

		if (r->pid == f->task_pids[page->task] && address >= r->start && address < r->end)
			return true;
	}
	return false;
}

static inline int keep_record(struct range_filter *f, const struct mp_page *page)
{
	if (f->kept_count == f->kept_capacity) {
		size_t capacity = f->kept_capacity ? f->kept_capacity * 2 : 1024;
		struct mp_page *grown = realloc(f->kept, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		f->kept = grown;
		f->kept_capacity = capacity;
	}
	f->kept[f->kept_count++] = *page;
	return 0;
}

static inline int pass_batch(struct range_filter *f, size_t count)
{
	int rc;

	if (!count)
		return 0;
	rc = f->next.ops->pages(f->next.ctx, f->batch, count);
	if (rc == 0 && f->on_kept)
		f->on_kept(f, f->batch, count);
	return rc;
}

static inline int range_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	const size_t capacity = sizeof(((struct range_filter *)0)->batch) / sizeof(struct mp_page);
	struct range_filter *f = ctx;
	size_t kept = 0;
	int rc;

	for (size_t i = 0; i < count; i++) {
		if (!in_ranges(f, &pages[i]))
			continue;
		rc = keep_record(f, &pages[i]);
		if (rc < 0)
			return rc;
		f->batch[kept++] = pages[i];
		if (kept == capacity) {
			rc = pass_batch(f, kept);
			if (rc < 0)
				return rc;
			kept = 0;
		}
	}
	return pass_batch(f, kept);
}

static inline int range_task_end(void *ctx, const struct mp_task_end *end)
{
	struct range_filter *f = ctx;

	if (end->task < FILTER_MAX_TASKS)
		f->ends[end->task] = *end;
	return f->next.ops->task_end(f->next.ctx, end);
}

static inline int range_end_set(void *ctx, const struct mp_set_end *end)
{
	struct range_filter *f = ctx;

	f->set_end = *end;
	return f->next.ops->end_set(f->next.ctx, end);
}

static const struct mp_sink_ops range_filter_ops = {
	.begin_set = range_begin_set,
	.task = range_task,
	.region = range_region,
	.pages = range_pages,
	.task_end = range_task_end,
	.end_set = range_end_set,
};

/* ------------------------------------------------------- scan and report */

struct scan_result {
	struct mp_report *report;
	struct range_filter filter;
	char warnings[8][512];
	int warning_count;
};

static inline void keep_warning(void *ctx, const char *message)
{
	struct scan_result *s = ctx;

	if (s->warning_count < 8)
		snprintf(s->warnings[s->warning_count++], sizeof(s->warnings[0]), "%s", message);
}

static inline void print_totals(const char *what, const struct mp_totals *t)
{
	print_message("# %s: mappings %llu zero-page %llu frames %llu shared %llu "
		      "duplicates %llu (nonzero %llu) zero-filled %llu private %llu "
		      "anon/named/mixed %llu/%llu/%llu internal/external %llu/%llu "
		      "ksm frames %llu saved %llu potential %llu remaining %llu\n", what,
		      (unsigned long long)t->mappings, (unsigned long long)t->zero_page_mappings,
		      (unsigned long long)t->frames, (unsigned long long)t->shared_frames,
		      (unsigned long long)t->duplicate_frames,
		      (unsigned long long)t->duplicate_frames_nonzero,
		      (unsigned long long)t->zero_filled_frames,
		      (unsigned long long)t->private_frames,
		      (unsigned long long)t->opportunities.anonymous,
		      (unsigned long long)t->opportunities.named,
		      (unsigned long long)t->opportunities.mixed,
		      (unsigned long long)t->opportunities.internal,
		      (unsigned long long)t->opportunities.external,
		      (unsigned long long)t->ksm_frames, (unsigned long long)t->ksm_saved,
		      (unsigned long long)t->ksm_potential, (unsigned long long)t->ksm_remaining);
}

/*
 * Scan pids through /proc into the analysis, keeping only the records in
 * s->filter's ranges (every record when it has none), and store the
 * report in s->report.  The caller sets the ranges and hooks first.
 */
static inline void scan_layout(struct scan_result *s, const pid_t *pids, size_t count)
{
	struct mp_analysis_options analysis_options = {
		.per_task = true, .per_file = true, .use_zero_pages = -1,
	};
	struct mp_scan_options options = {
		.hash = MP_HASH_XXH3, .warn = keep_warning, .warn_ctx = s,
	};
	struct mp_error error = { 0 };
	struct mp_analysis *analysis;
	struct mp_sink sink;

	mp_assert_ok(mp_analysis_open(&analysis, &analysis_options, &error), &error);
	s->filter.next = mp_analysis_sink(analysis);
	sink = s->filter.next;
	if (s->filter.range_count)
		sink = (struct mp_sink){ &range_filter_ops, &s->filter, &error };
	mp_assert_ok(mp_procfs_scan(pids, count, &options, &sink, &error), &error);
	mp_assert_ok(mp_analysis_report(analysis, &s->report, &error), &error);
	mp_analysis_close(analysis);
	assert_true(s->report->pfn_valid);
	print_totals("set", &s->report->totals);
}

static inline void scan_result_free(struct scan_result *s)
{
	mp_report_free(s->report);
	free(s->filter.kept);
	s->report = NULL;
	s->filter.kept = NULL;
}

static inline const struct mp_task_totals *task_totals(const struct mp_report *r, pid_t pid)
{
	for (size_t i = 0; i < r->task_count; i++)
		if (r->tasks[i].pid == pid)
			return &r->tasks[i];
	fail_msg("task %d is not in the report", (int)pid);
	return NULL;
}

static inline const struct mp_file_totals *file_totals(const struct mp_report *r,
						       const char *path)
{
	for (size_t i = 0; i < r->file_count; i++)
		if (!strncmp(r->files[i].path, path, strlen(path)))
			return &r->files[i];
	fail_msg("file %s is not in the report", path);
	return NULL;
}

#endif /* MEMPRINT_TEST_LAYOUTS_H */
