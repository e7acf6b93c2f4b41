// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_hash.c - throughput of every page hash on one core
 *
 * Hashes a buffer of mixed content (a quarter each of zero-filled pages,
 * text-like pages, xorshift64 random pages and copies of earlier random
 * pages) with every algorithm, through mp_hash_pages() and through
 * mp_hash_page() in a loop.  The baseline, measured in the same run, is
 * the fastest plain read of the buffer (mp_read_bound(): four streams of
 * AVX2 loads).  Each case runs once to warm up, then --repeat times; the
 * best CPU time of the thread counts, because other processes share the
 * cores.  Ratios are against the baseline.  Two
 * more rows call libxxhash's XXH3_64bits() and XXH3_128bits() without the
 * x86 dispatch on every page, zero-filled or not.
 *
 * Usage: bench_hash [--size MiB] [--repeat N] [--passes N] [--hash NAME]
 */
#define XXH_DISPATCH_DISABLE_REPLACE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xxhash.h>

#include "memprint.h"
#include "internal.h"

#define BATCH_PAGES 256		/* pages per mp_hash_pages() call: 1 MiB */

struct bench {
	uint8_t *buffer;
	size_t pages;
	unsigned repeat;	/* measured runs; the best one counts */
	unsigned passes;	/* times over the buffer per run */
	uint8_t *digests;	/* BATCH_PAGES * MP_DIGEST_MAX bytes */
	bool zero[BATCH_PAGES];
	uint64_t sink;		/* consumes results so no loop is optimised away */
};

/* One measured loop over the buffer; hash is NULL for loops that bypass libmemprint. */
typedef void bench_fn(struct bench *bench, struct mp_hash *hash);

/* CPU time of this thread, so that waiting for one of the shared cores does not count. */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* ------------------------------------------------------------- content */

static void fill_text(uint8_t *page, uint64_t *x)
{
	static const char *const words[] = {
		"the", "page", "memory", "kernel", "merge", "content", "of", "and",
		"digest", "snapshot", "process", "shared", "a", "to", "frame", "zero",
	};
	size_t used = 0;

	while (used < MP_PAGE_SIZE) {
		uint64_t r = xorshift64(x);
		const char *word = words[r & 15];
		size_t size = strlen(word);

		for (size_t i = 0; i < size && used < MP_PAGE_SIZE; i++)
			page[used++] = (uint8_t)word[i];
		if (used < MP_PAGE_SIZE)
			page[used++] = (r >> 8) % 11 == 0 ? '\n' : ' ';
	}
}

static void fill_random(uint8_t *page, uint64_t *x)
{
	for (size_t i = 0; i < MP_PAGE_SIZE; i += 8) {
		uint64_t r = xorshift64(x);

		memcpy(page + i, &r, 8);
	}
}

/* Page i is zero, text, random or a copy of the random page before it, by i % 4. */
static void fill_buffer(uint8_t *buffer, size_t pages)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	for (size_t i = 0; i < pages; i++) {
		uint8_t *page = buffer + i * MP_PAGE_SIZE;

		switch (i % 4) {
		case 0:
			memset(page, 0, MP_PAGE_SIZE);
			break;
		case 1:
			fill_text(page, &x);
			break;
		case 2:
			fill_random(page, &x);
			break;
		default:
			memcpy(page, page - MP_PAGE_SIZE, MP_PAGE_SIZE);
			break;
		}
	}
}

/* ---------------------------------------------------------------- cases */

/* Read the buffer as fast as one core can: the bound for every hash. */
static void read_memory(struct bench *bench, struct mp_hash *hash)
{
	(void)hash;
	bench->sink += mp_read_bound(bench->buffer, bench->pages * MP_PAGE_SIZE);
}

static void hash_batch(struct bench *bench, struct mp_hash *hash)
{
	size_t size = mp_hash_digest_size(mp_hash_id(hash));

	for (size_t first = 0; first < bench->pages; first += BATCH_PAGES) {
		size_t count = bench->pages - first < BATCH_PAGES ? bench->pages - first
								  : BATCH_PAGES;

		mp_hash_pages(hash, bench->buffer + first * MP_PAGE_SIZE, count,
			      bench->digests, size, bench->zero);
		bench->sink += bench->digests[0] + bench->zero[count - 1];
	}
}

static void hash_single(struct bench *bench, struct mp_hash *hash)
{
	size_t size = mp_hash_digest_size(mp_hash_id(hash));

	for (size_t i = 0; i < bench->pages; i++) {
		uint8_t *digest = bench->digests + (i % BATCH_PAGES) * size;

		bench->zero[i % BATCH_PAGES] =
			mp_hash_page(hash, bench->buffer + i * MP_PAGE_SIZE, digest);
		bench->sink += digest[0];
	}
}

/* libxxhash's XXH3_64bits() without the x86 dispatch, to show what dispatch gains. */
static void xxh3_plain(struct bench *bench, struct mp_hash *hash)
{
	(void)hash;
	for (size_t i = 0; i < bench->pages; i++)
		bench->sink += XXH3_64bits(bench->buffer + i * MP_PAGE_SIZE, MP_PAGE_SIZE);
}

static void xxh128_plain(struct bench *bench, struct mp_hash *hash)
{
	(void)hash;
	for (size_t i = 0; i < bench->pages; i++)
		bench->sink += XXH3_128bits(bench->buffer + i * MP_PAGE_SIZE, MP_PAGE_SIZE).low64;
}

static double run_seconds(struct bench *bench, bench_fn *fn, struct mp_hash *hash)
{
	double start = now_seconds();

	for (unsigned pass = 0; pass < bench->passes; pass++)
		fn(bench, hash);
	return now_seconds() - start;
}

/*
 * Time fn and, if other is not NULL, other in alternation, so that drift in
 * the machine's load hits both alike.  Run 0 warms up caches, page tables
 * and the libraries' dispatch; the best of the next --repeat runs counts.
 */
static void best_seconds(struct bench *bench, bench_fn *fn, bench_fn *other,
			 struct mp_hash *hash, double *best, double *other_best)
{
	for (unsigned run = 0; run <= bench->repeat; run++) {
		double seconds = run_seconds(bench, fn, hash), other_seconds = 0;

		if (other)
			other_seconds = run_seconds(bench, other, hash);
		if (run == 1 || (run > 1 && seconds < *best))
			*best = seconds;
		if (other && (run == 1 || (run > 1 && other_seconds < *other_best)))
			*other_best = other_seconds;
	}
}

/* ------------------------------------------------------------ reporting */

static double baseline_gbps;

static void print_header(void)
{
	printf("%-26s %6s %9s %9s %9s %10s\n", "case", "digest", "GB/s", "Mpages/s", "vs read",
	       "single GB/s");
}

static void print_row(const struct bench *bench, const char *name, size_t digest_size,
		      double seconds, double single_seconds)
{
	double bytes = (double)bench->pages * MP_PAGE_SIZE * bench->passes;
	double gbps = bytes / seconds / 1e9;
	char digest[24] = "-", single[24] = "-";

	if (digest_size)
		snprintf(digest, sizeof(digest), "%zu", digest_size);
	if (single_seconds > 0)
		snprintf(single, sizeof(single), "%.2f", bytes / single_seconds / 1e9);
	printf("%-26s %6s %9.2f %9.2f %9.2f %10s\n", name, digest, gbps,
	       bytes / MP_PAGE_SIZE / seconds / 1e6, gbps / baseline_gbps, single);
	fflush(stdout);
}

static int bench_algorithm(struct bench *bench, enum mp_hash_id id)
{
	struct mp_error error = { 0 };
	struct mp_hash *hash;
	double batch, single;
	int rc;

	rc = mp_hash_open(&hash, id, NULL, 0, &error);
	if (rc < 0) {
		fprintf(stderr, "bench_hash: %s\n", error.message);
		return rc;
	}
	best_seconds(bench, hash_single, hash_batch, hash, &single, &batch);
	print_row(bench, mp_hash_name(id), mp_hash_digest_size(id), batch, single);
	mp_hash_close(hash);
	return 0;
}

static void bench_plain_xxh(struct bench *bench, enum mp_hash_id only)
{
	double seconds;

	if (only == MP_HASH_NONE || only == MP_HASH_XXH3) {
		best_seconds(bench, xxh3_plain, NULL, NULL, &seconds, NULL);
		print_row(bench, "XXH3_64bits, no dispatch", 8, seconds, 0);
	}
	if (only == MP_HASH_NONE || only == MP_HASH_XXH128) {
		best_seconds(bench, xxh128_plain, NULL, NULL, &seconds, NULL);
		print_row(bench, "XXH3_128bits, no dispatch", 16, seconds, 0);
	}
}

/* ----------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_hash [--size MiB] [--repeat N] [--passes N] [--hash NAME]\n"
		"  --size MiB    buffer size in MiB (default 1024)\n"
		"  --repeat N    measured runs per case after one warm-up run; best counts"
		" (default 5)\n"
		"  --passes N    times over the buffer in one run (default 1)\n"
		"  --hash NAME   only this algorithm (default: all)\n");
}

static int parse_count(const char *option, const char *text, unsigned long *value)
{
	char *end;

	errno = 0;
	*value = strtoul(text, &end, 10);
	if (errno || end == text || *end || *value == 0 || *value > 1u << 20) {
		fprintf(stderr, "bench_hash: invalid %s: '%s': expected 1 to %u\n", option, text,
			1u << 20);
		return -1;
	}
	return 0;
}

static int parse_options(int argc, char **argv, unsigned long *size_mib, struct bench *bench,
			 enum mp_hash_id *only)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "passes", required_argument, NULL, 'p' },
		{ "hash", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long value;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_count("--size", optarg, size_mib) < 0)
				return -1;
			break;
		case 'r':
			if (parse_count("--repeat", optarg, &value) < 0)
				return -1;
			bench->repeat = (unsigned)value;
			break;
		case 'p':
			if (parse_count("--passes", optarg, &value) < 0)
				return -1;
			bench->passes = (unsigned)value;
			break;
		case 'H':
			*only = mp_hash_lookup(optarg);
			if (*only == MP_HASH_NONE) {
				fprintf(stderr, "bench_hash: unknown --hash '%s': expected "
					"pattern, superfast, crc32, crc32ex, crc32c, md5, sha1, "
					"sha256, xxh64, xxh3 or xxh128\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench_hash: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench bench = { .repeat = 5, .passes = 1 };
	enum mp_hash_id only = MP_HASH_NONE;
	unsigned long size_mib = 1024;
	double seconds;
	size_t size;

	if (parse_options(argc, argv, &size_mib, &bench, &only) < 0)
		return 1;

	size = size_mib << 20;
	bench.pages = size / MP_PAGE_SIZE;
	bench.buffer = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	bench.digests = malloc(BATCH_PAGES * MP_DIGEST_MAX);
	if (bench.buffer == MAP_FAILED || !bench.digests) {
		fprintf(stderr, "bench_hash: cannot allocate %lu MiB: %s\n", size_mib,
			strerror(errno));
		return 2;
	}
	fill_buffer(bench.buffer, bench.pages);

	printf("# %lu MiB, %zu pages (1/4 each zero, text, random, repeated), "
	       "%u pass(es), best thread CPU time of %u after a warm-up\n",
	       size_mib, bench.pages, bench.passes, bench.repeat);
	print_header();
	best_seconds(&bench, read_memory, NULL, NULL, &seconds, NULL);
	baseline_gbps = (double)size * bench.passes / seconds / 1e9;
	print_row(&bench, "read (4 streams)", 0, seconds, 0);

	for (enum mp_hash_id id = MP_HASH_NONE + 1; id < MP_HASH_COUNT; id++) {
		if (only != MP_HASH_NONE && id != only)
			continue;
		if (bench_algorithm(&bench, id) < 0)
			return 2;
	}
	bench_plain_xxh(&bench, only);

	printf("# sink %llu\n", (unsigned long long)bench.sink);
	munmap(bench.buffer, size);
	free(bench.digests);
	return 0;
}
