// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_kmod.c - module snapshot against procfs snapshot and user-space hashing
 *
 * A forked target maps --size bytes of xorshift64 random pages.  For each
 * algorithm that both the module and libmemprint have, measured in the
 * same run, each the best of --repeat runs after one warm-up, because
 * other processes share the cores:
 *
 *   hash    mp_hash_pages() over a copy of the same bytes in our own buffer:
 *           what hashing the content costs in user space
 *   procfs  mp_procfs_scan() of the target into a sink that drops everything
 *   module  mp_kmod_scan() of the target into the same sink
 *
 * Times are CPU time of the measuring thread (user and system), so the
 * module's hashing inside read() counts.  The figures are the ratios
 * module/procfs and module/hash; under QEMU's TCG, where the guest suite
 * runs it, absolute rates mean little.
 *
 * Usage: bench_kmod [--size SIZE[K|M]] [--repeat N]
 * Without /dev/memprint (the module not loaded) it prints that it skipped and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memprint.h"

#define PAGE 4096u

static const enum mp_hash_id algorithms[] = {
	MP_HASH_XXH64, MP_HASH_CRC32C, MP_HASH_CRC32, MP_HASH_SHA256,
};

struct bench {
	size_t size;
	unsigned repeat;
	pid_t target;
	uint8_t *copy;			/* the target's bytes, in our memory */
	uint8_t *digests;
	uint64_t checksum;		/* consumes results */
};

static double thread_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill_random(uint8_t *buf, size_t size)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, *words = (uint64_t *)buf;

	for (size_t i = 0; i < size / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[i] = x;
	}
}

/* Start a target with the same bytes as our copy, which waits to be killed. */
static pid_t start_target(const struct bench *b)
{
	int ready[2];
	char byte;
	pid_t pid;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint8_t *area = mmap(NULL, b->size, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (area == MAP_FAILED)
			_exit(1);
		madvise(area, b->size, MADV_NOHUGEPAGE);
		fill_random(area, b->size);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &byte, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(ready[0]);
	return pid;
}

struct drop_sink {
	uint64_t pages;
	uint64_t checksum;
};

static int drop_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct drop_sink *d = ctx;

	d->pages += count;
	for (size_t i = 0; i < count; i++)
		d->checksum += pages[i].digest[0];
	return 0;
}

static const struct mp_sink_ops drop_ops = { .pages = drop_pages };

/* One timed run; returns seconds, or a negative value on failure. */
static double run_once(struct bench *b, char what, enum mp_hash_id id, uint64_t *pages)
{
	struct mp_scan_options options = { .hash = id };
	struct mp_kmod_request request = {
		.target = MP_KMOD_TASKS, .pids = &b->target, .pid_count = 1,
	};
	struct drop_sink drop = { 0 };
	struct mp_sink sink = { .ops = &drop_ops, .ctx = &drop };
	struct mp_error error = { 0 };
	struct mp_hash *hash;
	double start = thread_seconds();
	int rc = 0;

	switch (what) {
	case 'h':
		rc = mp_hash_open(&hash, id, NULL, 0, &error);
		if (rc < 0)
			break;
		start = thread_seconds();
		mp_hash_pages(hash, b->copy, b->size / PAGE, b->digests, MP_DIGEST_MAX, NULL);
		drop.pages = b->size / PAGE;
		drop.checksum = b->digests[0];
		mp_hash_close(hash);
		break;
	case 'p':
		rc = mp_procfs_scan(&b->target, 1, &options, &sink, &error);
		break;
	case 'm':
		rc = mp_kmod_scan(&request, &options, &sink, &error);
		break;
	}
	if (rc < 0) {
		fprintf(stderr, "bench_kmod: %s\n", error.message);
		return -1;
	}
	b->checksum += drop.checksum;
	*pages = drop.pages;
	return thread_seconds() - start;
}

/* Best of repeat runs after a warm-up; returns MB/s of the pages handled. */
static double best_rate(struct bench *b, char what, enum mp_hash_id id)
{
	double best = -1;
	uint64_t pages = 0;

	if (run_once(b, what, id, &pages) < 0)
		return -1;
	for (unsigned i = 0; i < b->repeat; i++) {
		double t = run_once(b, what, id, &pages);

		if (t < 0)
			return -1;
		if (t > 0 && (best < 0 || t < best))
			best = t;
	}
	return best > 0 ? pages * (double)PAGE / best / 1e6 : -1;
}

static int parse_size(const char *arg, size_t *size)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v < PAGE)
		return -1;
	*size = (size_t)v / PAGE * PAGE;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .size = 64u << 20, .repeat = 3 };
	int opt;

	while ((opt = getopt_long(argc, argv, "s:r:", options, NULL)) != -1) {
		if (opt == 's' && parse_size(optarg, &b.size) == 0)
			continue;
		if (opt == 'r' && (b.repeat = (unsigned)atoi(optarg)) > 0)
			continue;
		fprintf(stderr, "usage: bench_kmod [--size SIZE[K|M]] [--repeat N]\n");
		return 1;
	}
	if (access("/dev/memprint", F_OK) < 0) {
		printf("bench_kmod: skipped: /dev/memprint is missing (memprint.ko not loaded)\n");
		return 0;
	}

	b.copy = malloc(b.size);
	b.digests = malloc(b.size / PAGE * MP_DIGEST_MAX);
	if (!b.copy || !b.digests)
		return 2;
	fill_random(b.copy, b.size);
	b.target = start_target(&b);
	if (b.target < 0)
		return 2;

	printf("bench_kmod: %zu MiB target, best of %u, CPU time of one thread\n",
	       b.size >> 20, b.repeat);
	printf("%-8s %10s %10s %10s %14s %12s\n", "hash", "hash MB/s", "procfs", "module",
	       "module/procfs", "module/hash");
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
		enum mp_hash_id id = algorithms[i];
		double hash = best_rate(&b, 'h', id);
		double procfs = best_rate(&b, 'p', id);
		double module = best_rate(&b, 'm', id);

		if (hash < 0 || procfs < 0 || module < 0)
			break;
		printf("%-8s %10.0f %10.0f %10.0f %14.2f %12.2f\n", mp_hash_name(id), hash, procfs,
		       module, module / procfs, module / hash);
	}
	kill(b.target, SIGKILL);
	waitpid(b.target, NULL, 0);
	printf("# checksum %llu\n", (unsigned long long)b.checksum);
	free(b.copy);
	free(b.digests);
	return 0;
}
