/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_watch.h - mp-workload processes and a sink that keeps only their
 * arenas, for the series tests
 *
 * A test sends a workload a command and waits for its reply before it takes
 * a set, so each set shows exactly the steps sent so far.  The arena filter
 * drops the workloads' stacks, libraries and heaps, which change as they
 * run, so that the counts of a set are those of the arenas alone.
 */
#ifndef MEMPRINT_TEST_WATCH_H
#define MEMPRINT_TEST_WATCH_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

#define TEST_MAX_WORKLOADS 4

struct workload {
	pid_t pid;
	FILE *in, *out;
	uint64_t first_vpn;		/* the arena's first virtual page */
	uint64_t pages;			/* the arena's size in pages */
};

/* The helper sits in BUILD/tests/helpers, beside this test's BUILD/tests/integration. */
static inline void workload_helper_path(char *path, size_t size)
{
	char exe[4096];
	ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(length > 0);
	exe[length] = '\0';
	snprintf(path, size, "%s/../helpers/mp-workload", dirname(exe));
}

static inline void start_workload(struct workload *w, unsigned long pages)
{
	int to_child[2], from_child[2];
	char path[4200], line[128], count[32];
	unsigned long address, arena_pages;

	workload_helper_path(path, sizeof(path));
	snprintf(count, sizeof(count), "%lu", pages);
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		execl(path, "mp-workload", count, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	w->in = fdopen(to_child[1], "w");
	w->out = fdopen(from_child[0], "r");
	assert_non_null(w->in);
	assert_non_null(w->out);

	if (!fgets(line, sizeof(line), w->out))
		fail_msg("mp-workload did not start: is %s built?", path);
	assert_int_equal(sscanf(line, "ready %lx %lu", &address, &arena_pages), 2);
	assert_int_equal(arena_pages, pages);
	w->first_vpn = address / MP_PAGE_SIZE;
	w->pages = pages;
}

/* Send one command and wait until the workload has carried it out. */
static inline void workload_command(struct workload *w, const char *text)
{
	char line[256];

	fprintf(w->in, "%s\n", text);
	fflush(w->in);
	assert_non_null(fgets(line, sizeof(line), w->out));
	if (strcmp(line, "ok\n"))
		fail_msg("workload %d: %s: %s", (int)w->pid, text, line);
}

static inline void stop_workload(struct workload *w)
{
	int status;

	if (w->pid <= 0)
		return;
	fprintf(w->in, "exit\n");
	fclose(w->in);
	fclose(w->out);
	waitpid(w->pid, &status, 0);
	w->pid = 0;
}

/* ------------------------------------------------------------ the filter */

/* A sink that passes everything on but pages outside the workloads' arenas. */
struct arena_filter {
	struct mp_sink next;
	const struct workload *workloads;
	size_t workload_count;
	const struct workload *arena_of_task[TEST_MAX_WORKLOADS];
	uint32_t tasks;
	uint64_t kept[TEST_MAX_WORKLOADS];
	struct mp_page kept_pages[256];
};

static inline int filter_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct arena_filter *f = ctx;

	f->tasks = 0;
	memset(f->kept, 0, sizeof(f->kept));
	return f->next.ops->begin_set(f->next.ctx, info);
}

static inline int filter_task(void *ctx, const struct mp_task *task)
{
	struct arena_filter *f = ctx;

	if (f->tasks == TEST_MAX_WORKLOADS)
		return -E2BIG;
	f->arena_of_task[f->tasks] = NULL;
	for (size_t i = 0; i < f->workload_count; i++) {
		if (f->workloads[i].pid == task->pid)
			f->arena_of_task[f->tasks] = &f->workloads[i];
	}
	f->tasks++;
	return f->next.ops->task(f->next.ctx, task);
}

static inline int filter_region(void *ctx, const struct mp_region *region)
{
	struct arena_filter *f = ctx;

	return f->next.ops->region ? f->next.ops->region(f->next.ctx, region) : 0;
}

static inline bool in_arena(const struct arena_filter *f, const struct mp_page *page)
{
	const struct workload *w;

	if (page->task >= f->tasks || !(w = f->arena_of_task[page->task]))
		return false;
	return page->index >= w->first_vpn && page->index < w->first_vpn + w->pages;
}

static inline int filter_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	const size_t capacity = sizeof(((struct arena_filter *)0)->kept_pages) /
				sizeof(struct mp_page);
	struct arena_filter *f = ctx;
	size_t kept = 0;

	for (size_t i = 0; i < count; i++) {
		if (!in_arena(f, &pages[i]))
			continue;
		f->kept_pages[kept++] = pages[i];
		f->kept[pages[i].task]++;
		if (kept == capacity) {
			int rc = f->next.ops->pages(f->next.ctx, f->kept_pages, kept);

			if (rc < 0)
				return rc;
			kept = 0;
		}
	}
	return kept ? f->next.ops->pages(f->next.ctx, f->kept_pages, kept) : 0;
}

static inline int filter_task_end(void *ctx, const struct mp_task_end *end)
{
	struct arena_filter *f = ctx;
	struct mp_task_end filtered = *end;

	if (!f->next.ops->task_end)
		return 0;
	filtered.pages = end->task < TEST_MAX_WORKLOADS ? f->kept[end->task] : 0;
	return f->next.ops->task_end(f->next.ctx, &filtered);
}

static inline int filter_end_set(void *ctx, const struct mp_set_end *end)
{
	struct arena_filter *f = ctx;

	return f->next.ops->end_set(f->next.ctx, end);
}

static const struct mp_sink_ops arena_filter_ops = {
	.begin_set = filter_begin_set,
	.task = filter_task,
	.region = filter_region,
	.pages = filter_pages,
	.task_end = filter_task_end,
	.end_set = filter_end_set,
};

#endif /* MEMPRINT_TEST_WATCH_H */
