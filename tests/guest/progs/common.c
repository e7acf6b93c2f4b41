// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * common.c - the in-memory collector, scans and helpers of the guest checks
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

void note(const char *format, ...)
{
	va_list args;

	fputs("# ", stdout);
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ----------------------------------------------------------- collector */

static int on_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct collector *c = ctx;

	c->info = *info;
	return 0;
}

static int on_task(void *ctx, const struct mp_task *task)
{
	struct collector *c = ctx;
	pid_t *pids = realloc(c->pids, (c->task_count + 1) * sizeof(*pids));
	struct mp_task_end *ends = realloc(c->ends, (c->task_count + 1) * sizeof(*ends));

	if (pids)
		c->pids = pids;
	if (ends)
		c->ends = ends;
	if (!pids || !ends)
		return -ENOMEM;
	pids[c->task_count] = task->pid;
	memset(&ends[c->task_count], 0, sizeof(*ends));
	c->task_count++;
	return 0;
}

static int on_file(void *ctx, const struct mp_file *file)
{
	struct collector *c = ctx;
	struct mp_file *files = realloc(c->files, (c->file_count + 1) * sizeof(*files));
	uint64_t *counts = realloc(c->file_pages, (c->file_count + 1) * sizeof(*counts));
	char *path = malloc(file->path_size + 1);

	if (files)
		c->files = files;
	if (counts)
		c->file_pages = counts;
	if (!files || !counts || !path) {
		free(path);
		return -ENOMEM;
	}
	memcpy(path, file->path, file->path_size);
	path[file->path_size] = 0;
	files[c->file_count] = *file;
	files[c->file_count].path = path;
	counts[c->file_count] = 0;
	c->file_count++;
	return 0;
}

static int on_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct collector *c = ctx;

	if (c->count + count > c->capacity) {
		size_t capacity = (c->capacity + count) * 2;
		struct page_entry *grown = realloc(c->pages, capacity * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->pages = grown;
		c->capacity = capacity;
	}
	for (size_t i = 0; i < count; i++) {
		struct page_entry *e = &c->pages[c->count++];

		e->page = pages[i];
		e->pid = pages[i].task < c->task_count ? c->pids[pages[i].task] : 0;
		if (pages[i].task == MP_NONE && pages[i].region < c->file_count)
			c->file_pages[pages[i].region]++;
	}
	return 0;
}

static int on_task_end(void *ctx, const struct mp_task_end *end)
{
	struct collector *c = ctx;

	if (end->task < c->task_count)
		c->ends[end->task] = *end;
	return 0;
}

static const struct mp_sink_ops collector_ops = {
	.begin_set = on_begin_set,
	.task = on_task,
	.file = on_file,
	.pages = on_pages,
	.task_end = on_task_end,
};

struct mp_sink collector_sink(struct collector *c)
{
	return (struct mp_sink){ .ops = &collector_ops, .ctx = c };
}

void collector_free(struct collector *c)
{
	for (size_t i = 0; i < c->file_count; i++)
		free((char *)c->files[i].path);
	free(c->files);
	free(c->file_pages);
	free(c->pids);
	free(c->pages);
	free(c->ends);
	memset(c, 0, sizeof(*c));
}

static int compare_entries(const void *a, const void *b)
{
	const struct page_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->page.index != y->page.index)
		return x->page.index < y->page.index ? -1 : 1;
	return 0;
}

void collector_sort(struct collector *c)
{
	qsort(c->pages, c->count, sizeof(*c->pages), compare_entries);
}

const struct page_entry *collector_find(const struct collector *c, pid_t pid, uint64_t index)
{
	struct page_entry key = { .pid = pid, .page.index = index };

	return bsearch(&key, c->pages, c->count, sizeof(*c->pages), compare_entries);
}

/* -------------------------------------------------------------- scans */

static void print_warning(void *ctx, const char *message)
{
	(void)ctx;
	note("warning: %s", message);
}

int scan_procfs(const pid_t *pids, size_t count, enum mp_hash_id hash, struct collector *c)
{
	struct mp_scan_options options = { .hash = hash, .warn = print_warning };
	struct mp_sink sink = collector_sink(c);
	struct mp_error error = { 0 };
	int rc = mp_procfs_scan(pids, count, &options, &sink, &error);

	if (rc < 0)
		note("procfs scan failed: %s", error.message);
	collector_sort(c);
	return rc;
}

int scan_kmod(const pid_t *pids, size_t count, enum mp_hash_id hash, struct collector *c)
{
	struct mp_kmod_request request = {
		.target = MP_KMOD_TASKS,
		.pids = pids,
		.pid_count = count,
	};
	struct mp_scan_options options = { .hash = hash, .warn = print_warning };
	struct mp_sink sink = collector_sink(c);
	struct mp_error error = { 0 };
	int rc = mp_kmod_scan(&request, &options, &sink, &error);

	if (rc < 0)
		note("module scan failed: %s", error.message);
	collector_sort(c);
	return rc;
}

/* ------------------------------------------------------------ helpers */

void fill_page(void *page, uint64_t seed)
{
	uint64_t *words = page, x = seed * 0x9e3779b97f4a7c15ull + 1;

	if (!seed) {
		memset(page, 0, PAGE);
		return;
	}
	for (size_t i = 0; i < PAGE / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[i] = x;
	}
}

long long read_number(const char *path, const char *key)
{
	char line[256];
	long long value = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = key ? strlen(key) : 0;

		if (!key) {
			value = strtoll(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, n) && (line[n] == ' ' || line[n] == ':' || line[n] == '\t')) {
			value = strtoll(line + n + 1 + strspn(line + n + 1, " \t:"), NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

pid_t start_child(void (*fn)(void *arg), void *arg)
{
	int ready[2];
	char byte;
	pid_t pid;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		fn(arg);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &byte, 1) != 1)
		pid = -1;
	close(ready[0]);
	return pid;
}

void stop_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int read_pagemap(pid_t pid, uint64_t start, size_t count, uint64_t *entries)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, entries, count * 8, (off_t)(start / PAGE * 8));
	close(fd);
	return n == (ssize_t)(count * 8) ? 0 : -EIO;
}
