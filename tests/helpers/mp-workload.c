// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mp-workload.c - a process whose page contents a test sets step by step
 *
 * It maps an arena of private anonymous pages (no THP, so that each page
 * is a frame of its own), gives every page a content of its own, prints
 *	ready ADDRESS PAGES
 * and then reads commands from standard input, one per line, and replies
 * to each with "ok" (or "error: ...") once it is done.  A test that waits for
 * the answer before it takes a snapshot knows exactly what the snapshot
 * sees, with no timing slack.
 *
 * Commands (pages are arena indexes, contents are numbers; content 0 is a
 * zero-filled page, any other a page of pseudo-random bytes seeded by it):
 *	fill FIRST COUNT CONTENT	give pages the same content
 *	unique FIRST COUNT CONTENT	give page FIRST + i content CONTENT + i
 *	drop FIRST COUNT		MADV_DONTNEED: the pages are no longer present
 *	mergeable			MADV_MERGEABLE on the arena (KSM may merge it)
 *	unmergeable			MADV_UNMERGEABLE
 *	rewrite PERCENT SEED		give PERCENT % of the pages (every 100/PERCENT-th,
 *					shifted by SEED) content SEED << 32 | page
 *	exit				unmap the arena and exit 0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static uint8_t *arena;
static size_t arena_pages;

/* Fill one page with the bytes of content (xorshift64, seeded by content). */
static void write_content(size_t page, uint64_t content)
{
	uint64_t *words = (uint64_t *)(arena + page * PAGE);
	uint64_t x = content * 0x9e3779b97f4a7c15ull + 1;

	if (content == 0) {
		memset(words, 0, PAGE);
		return;
	}
	for (size_t i = 0; i < PAGE / sizeof(*words); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[i] = x;
	}
	words[0] = content;
}

static int check_range(unsigned long first, unsigned long count)
{
	if (first > arena_pages || count > arena_pages - first) {
		printf("error: pages %lu-%lu outside the arena of %zu pages\n", first,
		       first + count, arena_pages);
		return -1;
	}
	return 0;
}

static int advise(int advice, const char *name)
{
	if (madvise(arena, arena_pages * PAGE, advice) == 0)
		return 0;
	printf("error: madvise %s: %s\n", name, strerror(errno));
	return -1;
}

static void rewrite(unsigned long percent, uint64_t seed)
{
	size_t step = percent ? 100 / percent : 0;

	if (!step)
		return;
	for (size_t page = seed % step; page < arena_pages; page += step)
		write_content(page, seed << 32 | page);
}

/* Run one command line; returns 1 to exit, -1 after printing an error, 0 otherwise. */
static int run_command(const char *line)
{
	unsigned long first, count;
	uint64_t content;

	if (sscanf(line, "fill %lu %lu %" SCNu64, &first, &count, &content) == 3) {
		if (check_range(first, count) < 0)
			return -1;
		for (unsigned long i = 0; i < count; i++)
			write_content(first + i, content);
	} else if (sscanf(line, "unique %lu %lu %" SCNu64, &first, &count, &content) == 3) {
		if (check_range(first, count) < 0)
			return -1;
		for (unsigned long i = 0; i < count; i++)
			write_content(first + i, content + i);
	} else if (sscanf(line, "drop %lu %lu", &first, &count) == 2) {
		if (check_range(first, count) < 0)
			return -1;
		if (madvise(arena + first * PAGE, count * PAGE, MADV_DONTNEED) < 0) {
			printf("error: madvise dontneed: %s\n", strerror(errno));
			return -1;
		}
	} else if (sscanf(line, "rewrite %lu %" SCNu64, &first, &content) == 2) {
		rewrite(first, content);
	} else if (!strcmp(line, "mergeable\n")) {
		return advise(MADV_MERGEABLE, "mergeable");
	} else if (!strcmp(line, "unmergeable\n")) {
		return advise(MADV_UNMERGEABLE, "unmergeable");
	} else if (!strcmp(line, "exit\n")) {
		return 1;
	} else {
		printf("error: unknown command: %s", line);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[256];

	arena_pages = argc > 1 ? strtoul(argv[1], NULL, 0) : 64;
	if (argc > 2 || arena_pages == 0) {
		fprintf(stderr, "usage: mp-workload [PAGES]\n");
		return 1;
	}
	arena = mmap(NULL, arena_pages * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED) {
		perror("mp-workload: mmap");
		return 1;
	}
	/* Without THP every page is a 4 KiB frame of its own, as the tests count. */
	madvise(arena, arena_pages * PAGE, MADV_NOHUGEPAGE);
	for (size_t page = 0; page < arena_pages; page++)
		write_content(page, (uint64_t)getpid() << 32 | page);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %#lx %zu\n", (unsigned long)arena, arena_pages);
	while (fgets(line, sizeof(line), stdin)) {
		int rc = run_command(line);

		if (rc > 0)
			break;
		if (rc == 0)
			puts("ok");
	}
	munmap(arena, arena_pages * PAGE);
	return 0;
}
