/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_procfs_common.h - target processes and a collecting sink for the
 * procfs backend's tests on real processes
 *
 * A target is a forked child that maps a region, fills it with known
 * content, reports the region's address, and then obeys one-byte commands
 * on a pipe: 'u' unmaps the region, 'e' executes /bin/sleep, 'p' protects
 * the region PROT_NONE, 'g' turns its first four pages into guard pages
 * (MADV_GUARD_INSTALL, Linux 6.13+), 'm' marks the region MADV_MERGEABLE,
 * 'M' turns on KSM merge-any (PR_SET_MEMORY_MERGE), 'q' exits.  It answers each command
 * with one byte, the command or 'n' when it failed ('e' with the end of
 * file that exec's close-on-exec causes).
 */
#ifndef MEMPRINT_TEST_PROCFS_COMMON_H
#define MEMPRINT_TEST_PROCFS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define HUGE_SIZE (2u << 20)
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

enum fill {
	FILL_PATTERN,		/* page i: every fourth zero-filled, the rest fill_page(i) */
	FILL_SPARSE,		/* only every third page touched */
	FILL_THP,		/* a 2 MiB-aligned MADV_HUGEPAGE region, fill_page(i) */
};

struct target {
	pid_t pid;
	int command_fd, reply_fd;
	uint64_t region;
	size_t size;
};

/* Content of page i of a target region (FILL_PATTERN pages not divisible by 4). */
static inline void fill_page(uint8_t *page, size_t i)
{
	uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;

	for (size_t j = 0; j < MP_PAGE_SIZE; j += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(page + j, &x, 8);
	}
}

static inline uint8_t *map_region(enum fill fill, size_t size)
{
	uint8_t *p;

	if (fill != FILL_THP)
		return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = mmap(NULL, size + HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return p;
	p = (uint8_t *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
	madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static inline void fill_region(uint8_t *p, size_t size, enum fill fill)
{
	for (size_t i = 0; i < size / MP_PAGE_SIZE; i++) {
		uint8_t *page = p + i * MP_PAGE_SIZE;

		if (fill == FILL_SPARSE && i % 3)
			continue;
		if (fill == FILL_PATTERN && i % 4 == 0)
			memset(page, 0, MP_PAGE_SIZE);
		else
			fill_page(page, i);
	}
}

static inline void target_serve(uint8_t *p, size_t size, int command_fd, int reply_fd)
{
	char c;

	while (read(command_fd, &c, 1) == 1) {
		if (c == 'g' && madvise(p, 4 * MP_PAGE_SIZE, MADV_GUARD_INSTALL) < 0)
			c = 'n';
		if (c == 'm' && madvise(p, size, MADV_MERGEABLE) < 0)
			c = 'n';
		if (c == 'M' && prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) < 0)
			c = 'n';
		if (c == 'u')
			munmap(p, size);
		else if (c == 'p')
			mprotect(p, size, PROT_NONE);
		else if (c == 'e')
			execl("/bin/sleep", "sleep", "1000", (char *)NULL);
		else if (c == 'q')
			break;
		if (write(reply_fd, &c, 1) != 1)
			break;
	}
	_exit(0);
}

/* Start a target; false when fork or mmap failed. */
static inline bool target_start(struct target *t, enum fill fill, size_t size)
{
	int command[2], reply[2];
	uint64_t address = 0;

	if (pipe2(command, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0)
		return false;
	t->size = size;
	t->pid = fork();
	if (t->pid < 0)
		return false;
	if (t->pid == 0) {
		uint8_t *p = map_region(fill, size);

		close(command[1]);
		close(reply[0]);
		if (p == MAP_FAILED)
			_exit(1);
		fill_region(p, size, fill);
		address = (uint64_t)(uintptr_t)p;
		if (write(reply[1], &address, sizeof(address)) != sizeof(address))
			_exit(1);
		target_serve(p, size, command[0], reply[1]);
	}
	close(command[0]);
	close(reply[1]);
	t->command_fd = command[1];
	t->reply_fd = reply[0];
	return read(t->reply_fd, &address, sizeof(address)) == sizeof(address) &&
	       (t->region = address) != 0;
}

/* Send a command and return its reply (0 at the end of file after an exec). */
static inline char target_command(struct target *t, char c)
{
	char reply = 0;

	if (write(t->command_fd, &c, 1) != 1)
		return 0;
	if (read(t->reply_fd, &reply, 1) != 1)
		return 0;
	return reply;
}

static inline void target_stop(struct target *t)
{
	if (t->pid <= 0)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	close(t->command_fd);
	close(t->reply_fd);
	t->pid = 0;
}

static inline char process_state(pid_t pid)
{
	char path[64], text[512];
	const char *close_paren;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	close_paren = strrchr(text, ')');
	return close_paren ? close_paren[2] : 0;
}

/* Read count pagemap entries of pid from address. */
static inline bool read_pagemap(pid_t pid, uint64_t address, uint64_t *entries, size_t count)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = pread(fd, entries, count * 8, (off_t)(address / MP_PAGE_SIZE * 8));
	close(fd);
	return n == (ssize_t)(count * 8);
}

/* ------------------------------------------------------------------- sink */

#define MAX_TASKS 8

struct collector {
	struct mp_set_info info;
	struct mp_set_end set_end;
	int sets;
	struct mp_task tasks[MAX_TASKS];
	size_t task_count;
	struct mp_task_end ends[MAX_TASKS];
	size_t end_count;
	struct mp_region regions[4096];
	size_t region_count;
	struct mp_page *pages;
	size_t page_count, capacity;
	/* Called after each batch of pages, e.g. to change a target mid-scan. */
	void (*on_pages)(struct collector *c, const struct mp_page *pages, size_t count);
	void *arg;
	char warnings[16][512];
	int warning_count;
};

static inline int collect_begin(void *ctx, const struct mp_set_info *info)
{
	struct collector *c = ctx;

	c->info = *info;
	return 0;
}

static inline int collect_task(void *ctx, const struct mp_task *task)
{
	struct collector *c = ctx;

	if (c->task_count < MAX_TASKS)
		c->tasks[c->task_count++] = *task;
	return 0;
}

static inline int collect_region(void *ctx, const struct mp_region *region)
{
	struct collector *c = ctx;

	if (c->region_count < 4096) {
		c->regions[c->region_count] = *region;
		c->regions[c->region_count].path = NULL;
		c->region_count++;
	}
	return 0;
}

static inline int collect_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct collector *c = ctx;

	if (c->page_count + count > c->capacity) {
		size_t capacity = (c->page_count + count) * 2;
		struct mp_page *grown = realloc(c->pages, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->pages = grown;
		c->capacity = capacity;
	}
	memcpy(c->pages + c->page_count, pages, count * sizeof(*pages));
	c->page_count += count;
	if (c->on_pages)
		c->on_pages(c, pages, count);
	return 0;
}

static inline int collect_task_end(void *ctx, const struct mp_task_end *end)
{
	struct collector *c = ctx;

	if (c->end_count < MAX_TASKS)
		c->ends[c->end_count++] = *end;
	return 0;
}

static inline int collect_end(void *ctx, const struct mp_set_end *end)
{
	struct collector *c = ctx;

	c->set_end = *end;
	c->sets++;
	return 0;
}

static const struct mp_sink_ops collector_ops = {
	.begin_set = collect_begin,
	.task = collect_task,
	.region = collect_region,
	.pages = collect_pages,
	.task_end = collect_task_end,
	.end_set = collect_end,
};

static inline void collect_warning(void *ctx, const char *message)
{
	struct collector *c = ctx;

	if (c->warning_count < 16)
		snprintf(c->warnings[c->warning_count++], 512, "%s", message);
}

static inline void collector_free(struct collector *c)
{
	free(c->pages);
	free(c);
}

/* Scan pids into a new collector; on_pages may be NULL. */
static inline struct collector *scan_into(const pid_t *pids, size_t count, bool no_pagemap_scan,
					  bool freeze,
					  void (*on_pages)(struct collector *, const struct mp_page *,
							   size_t),
					  void *arg, int *rc)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct mp_scan_options options = { 0 };
	struct mp_sink sink = { .ops = &collector_ops };
	struct mp_error error;

	if (!c)
		return NULL;
	c->on_pages = on_pages;
	c->arg = arg;
	sink.ctx = c;
	options.hash = MP_HASH_XXH3;
	options.no_pagemap_scan = no_pagemap_scan;
	options.freeze = freeze;
	options.warn = collect_warning;
	options.warn_ctx = c;
	*rc = mp_procfs_scan(pids, count, &options, &sink, &error);
	if (*rc < 0)
		print_message("mp_procfs_scan: %s\n", error.message);
	return c;
}

/* Records of task whose address lies in [start, start + size). */
static inline size_t count_in(const struct collector *c, uint32_t task, uint64_t start,
			      size_t size, uint32_t flag)
{
	size_t n = 0;

	for (size_t i = 0; i < c->page_count; i++) {
		const struct mp_page *p = &c->pages[i];
		uint64_t address = p->index * MP_PAGE_SIZE;

		if (p->task == task && address >= start && address < start + size &&
		    (!flag || (p->flags & flag)))
			n++;
	}
	return n;
}

#endif /* MEMPRINT_TEST_PROCFS_COMMON_H */
