// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_pagecache.c - page-cache scan rate beside util-linux fincore
 *
 * Builds a tree of --files files (100 directories) under --dir holding
 * about --mib MiB, all of it cached (written, then synced), and scans it
 * with mp_pagecache_scan(), which finds resident pages and also reads and
 * hashes them.  The baseline, measured on the same tree in the same run,
 * is util-linux fincore(1), which only reports residency with mincore(2):
 * `find DIR -type f -print0 | xargs -0 fincore --bytes --noheadings`.
 * Each case runs once to warm up, then --repeat times, and the best time
 * counts, because other processes share the cores.  The tree is removed
 * at the end.
 *
 * Usage: bench_pagecache [--files N] [--mib MiB] [--repeat N] [--dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memprint.h"

#define DIRECTORIES 100
#define PAGE 4096

struct bench {
	unsigned long files;
	unsigned long mib;
	unsigned repeat;
	char root[4096];
	size_t file_pages;		/* pages per file */
	uint64_t pages_seen;		/* consumes the scan's records */
	uint64_t files_seen;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Write one file; every eighth page repeats an earlier one, as real trees repeat blocks. */
static int write_file(const char *path, size_t pages, uint64_t *seed)
{
	static uint8_t page[PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < pages; i++) {
		if (i % 8 != 7) {
			for (size_t j = 0; j < PAGE; j += 8) {
				uint64_t v = xorshift64(seed);

				memcpy(page + j, &v, 8);
			}
		}
		if (write(fd, page, PAGE) != PAGE) {
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

static int build_tree(struct bench *b)
{
	char path[4200];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int fd;

	for (unsigned d = 0; d < DIRECTORIES; d++) {
		snprintf(path, sizeof(path), "%s/d%02u", b->root, d);
		if (mkdir(path, 0755) < 0)
			return -errno;
	}
	for (unsigned long i = 0; i < b->files; i++) {
		int rc;

		snprintf(path, sizeof(path), "%s/d%02lu/f%06lu", b->root, i % DIRECTORIES, i);
		rc = write_file(path, b->file_pages, &seed);
		if (rc < 0)
			return rc;
	}

	/* Clean pages stay cached; dirty ones would be written back during the runs. */
	fd = open(b->root, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}
	return 0;
}

static int count_file(void *ctx, const struct mp_file *file)
{
	struct bench *b = ctx;

	(void)file;
	b->files_seen++;
	return 0;
}

static int count_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct bench *b = ctx;

	(void)pages;
	b->pages_seen += count;
	return 0;
}

static const struct mp_sink_ops count_ops = { .file = count_file, .pages = count_pages };

static double run_scan(struct bench *b)
{
	const char *paths[] = { b->root };
	struct mp_scan_options options = { .hash = MP_HASH_XXH3 };
	struct mp_sink sink = { &count_ops, b, NULL };
	struct mp_error error = { 0 };
	double start = now_seconds();

	b->pages_seen = b->files_seen = 0;
	if (mp_pagecache_scan(paths, 1, &options, &sink, NULL, &error) < 0) {
		fprintf(stderr, "bench_pagecache: %s\n", error.message);
		exit(2);
	}
	return now_seconds() - start;
}

static double run_fincore(struct bench *b)
{
	char command[4400];
	double start = now_seconds();

	snprintf(command, sizeof(command),
		 "find '%s' -type f -print0 | xargs -0 fincore --bytes --noheadings >/dev/null",
		 b->root);
	if (system(command) != 0) {
		fprintf(stderr, "bench_pagecache: fincore failed: %s\n", command);
		return -1;
	}
	return now_seconds() - start;
}

static double best_of(struct bench *b, double (*run)(struct bench *))
{
	double best = run(b);	/* warm-up */

	for (unsigned i = 0; i < b->repeat; i++) {
		double t = run(b);

		if (t < 0)
			return t;
		if (t < best)
			best = t;
	}
	return best;
}

static void parse_options(struct bench *b, int argc, char **argv)
{
	static const struct option options[] = {
		{ "files", required_argument, NULL, 'f' },
		{ "mib", required_argument, NULL, 'm' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "/var/tmp";
	int c;

	while ((c = getopt_long(argc, argv, "f:m:r:d:", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			b->files = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			b->mib = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			b->repeat = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_pagecache [--files N] [--mib MiB] "
					"[--repeat N] [--dir DIR]\n");
			exit(1);
		}
	}
	if (!b->files || !b->mib || !b->repeat) {
		fprintf(stderr, "bench_pagecache: --files, --mib and --repeat must be positive\n");
		exit(1);
	}
	snprintf(b->root, sizeof(b->root), "%s/mp-pc-bench-XXXXXX", dir);
}

static void remove_tree(const struct bench *b)
{
	char command[4200];

	snprintf(command, sizeof(command), "rm -rf '%s'", b->root);
	if (system(command) != 0)
		fprintf(stderr, "bench_pagecache: could not remove %s\n", b->root);
}

int main(int argc, char **argv)
{
	struct bench b = { .files = 100000, .mib = 1024, .repeat = 3 };
	double scan, fincore, bytes;
	int rc;

	parse_options(&b, argc, argv);
	b.file_pages = (b.mib * 1024 * 1024 / PAGE + b.files - 1) / b.files;
	if (!mkdtemp(b.root)) {
		fprintf(stderr, "bench_pagecache: cannot create %s: %s\n", b.root, strerror(errno));
		return 2;
	}
	rc = build_tree(&b);
	if (rc < 0) {
		fprintf(stderr, "bench_pagecache: cannot build the tree: %s\n", strerror(-rc));
		remove_tree(&b);
		return 2;
	}

	scan = best_of(&b, run_scan);
	fincore = best_of(&b, run_fincore);
	remove_tree(&b);
	bytes = (double)b.files * b.file_pages * PAGE;

	printf("tree: %lu files of %zu pages, %.0f MiB, best of %u runs\n", b.files, b.file_pages,
	       bytes / (1024 * 1024), b.repeat);
	/* ratio: the case's rate over fincore's, so fincore's own row reads 1.00 */
	printf("%-34s %12s %8s %8s\n", "case", "files/s", "GB/s", "ratio");
	if (fincore > 0)
		printf("%-34s %12.0f %8.2f %8.2f\n", "fincore (residency only)",
		       b.files / fincore, bytes / fincore / 1e9, 1.0);
	printf("%-34s %12.0f %8.2f %8.2f\n", "memprint page-cache scan (xxh3)",
	       b.files / scan, bytes / scan / 1e9, fincore > 0 ? fincore / scan : 0.0);
	printf("scan saw %lu files, %lu pages\n", (unsigned long)b.files_seen,
	       (unsigned long)b.pages_seen);
	/* Memory pressure (a cgroup limit, other processes) may evict part of the tree. */
	if (b.pages_seen < (uint64_t)b.files * b.file_pages)
		printf("note: %lu of %lu pages were evicted before the last scan\n",
		       (unsigned long)((uint64_t)b.files * b.file_pages - b.pages_seen),
		       (unsigned long)((uint64_t)b.files * b.file_pages));
	return b.files_seen ? 0 : 2;
}
