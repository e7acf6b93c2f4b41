// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_analysis.c - page records per second through the analysis, and
 * its memory per record
 *
 * A generator pushes a synthetic set into the analysis in batches of 4096
 * records: 100 tasks, each record a page of a task; a fifth of the frames
 * are mapped by two tasks (as after fork), and a third of the contents
 * repeat (one in ten of those zero-filled).  Rows, each measured in the
 * same run:
 *
 *   generate          the generator alone, whose time the other rows subtract
 *   hash table        a plain open-addressing table that counts the digest
 *                     keys (the baseline: one probe per record)
 *   analysis          the set totals only
 *   analysis, parts   with the per-task and per-file totals as memprint scan
 *                     computes them
 *
 * Each row runs --repeat times and the best time counts, because other
 * processes share the cores; times are the thread's CPU time.  Memory: the growth of VmHWM over the first
 * analysis run, per record; it runs first so that no other row raised the
 * high-water mark before.
 *
 * Usage: bench_analysis [--records N] [--repeat N]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memprint.h"

#define BATCH 4096
#define TASKS 100
#define REGIONS_PER_TASK 4

struct generator {
	uint64_t records;
	uint64_t seed;
	struct mp_page batch[BATCH];
};

/*
 * CPU time of this thread (user and system), so that a rate is per core
 * even when other processes take turns on it.
 */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * Record i of the set.  Frame f = i - i / 6: every sixth record maps the
 * frame of the record before it from the next task, so a fifth of the
 * frames have two mappings.  A third of the frames take one of 4096 common
 * contents.
 */
static void make_record(struct mp_page *p, uint64_t i, uint64_t *seed)
{
	bool second_mapping = i % 6 == 5;
	uint64_t frame = second_mapping ? i - 1 - (i - 1) / 6 : i - i / 6;
	uint64_t r = xorshift(seed);
	uint64_t content = frame * 0x9e3779b97f4a7c15ull;
	uint32_t task = (uint32_t)((i / 4096 + second_mapping) % TASKS);

	memset(p, 0, sizeof(*p));
	if (frame % 3 == 0)
		content = (frame * 2654435761u >> 7) % 4096 + 1;
	p->task = task;
	p->region = task * REGIONS_PER_TASK + (uint32_t)(r % REGIONS_PER_TASK);
	p->index = i;
	/* Scatter the frames over 32 GiB of PFNs (an odd multiplier is a bijection). */
	p->pfn = ((frame * 0x9e3779b1u) & ((1u << 23) - 1)) | (frame >> 23) << 23;
	p->kpageflags = 1ull << MP_KPF_ANON;
	p->mapcount = 1 + second_mapping;
	p->flags = MP_PAGE_PFN_VALID | MP_PAGE_MERGEABLE;
	if (content == 1)
		p->flags |= MP_PAGE_ZERO_FILLED;
	store_le64(p->digest, content * 0xff51afd7ed558ccdull);
}

static int push_set(struct generator *g, const struct mp_sink *sink)
{
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .source = MP_SOURCE_SYNTHETIC,
				    .hash = MP_HASH_XXH3, .digest_size = 8,
				    .flags = MP_SET_PFN_VALID };
	struct mp_set_end end = { 0 };
	uint64_t seed = g->seed;
	int rc = 0;

	if (sink->ops->begin_set)
		rc = sink->ops->begin_set(sink->ctx, &info);
	for (uint32_t t = 0; rc == 0 && t < TASKS && sink->ops->task; t++) {
		struct mp_task task = { .pid = 1000 + (int32_t)t };

		snprintf(task.comm, sizeof(task.comm), "task%u", t);
		rc = sink->ops->task(sink->ctx, &task);
		for (uint32_t r = 0; rc == 0 && r < REGIONS_PER_TASK; r++) {
			char path[32];
			int len = snprintf(path, sizeof(path), "/usr/lib/lib%u.so", r);
			struct mp_region region = { .task = t, .kind = r ? MP_REGION_FILE :
						    MP_REGION_ANON, .inode = r, .path = path,
						    .path_size = r ? (size_t)len : 0 };

			rc = sink->ops->region(sink->ctx, &region);
		}
	}
	for (uint64_t i = 0; rc == 0 && i < g->records; i += BATCH) {
		size_t count = g->records - i < BATCH ? g->records - i : BATCH;

		for (size_t k = 0; k < count; k++)
			make_record(&g->batch[k], i + k, &seed);
		if (sink->ops->pages)
			rc = sink->ops->pages(sink->ctx, g->batch, count);
	}
	if (rc == 0 && sink->ops->end_set)
		rc = sink->ops->end_set(sink->ctx, &end);
	return rc;
}

/* ---------------------------------------------------------- the baseline */

struct key_table {
	uint64_t *keys;
	uint32_t *counts;
	size_t size;		/* a power of two */
	uint64_t used;
};

static int table_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct key_table *t = ctx;

	for (size_t k = 0; k < count; k++) {
		uint64_t key = mp_digest_key(pages[k].digest, 8) | 1;
		size_t i = (key * 0x9e3779b97f4a7c15ull) >> 20 & (t->size - 1);

		while (t->keys[i] && t->keys[i] != key)
			i = (i + 1) & (t->size - 1);
		if (!t->keys[i]) {
			t->keys[i] = key;
			t->used++;
		}
		t->counts[i]++;
	}
	return 0;
}

static double run_table(struct generator *g)
{
	static const struct mp_sink_ops ops = { .pages = table_pages };
	struct key_table t = { .size = 1 };
	struct mp_sink sink = { .ops = &ops, .ctx = &t };
	double start;

	while (t.size < g->records * 2)
		t.size *= 2;
	t.keys = calloc(t.size, sizeof(*t.keys));
	t.counts = calloc(t.size, sizeof(*t.counts));
	if (!t.keys || !t.counts) {
		fprintf(stderr, "bench_analysis: out of memory for the hash table\n");
		exit(1);
	}
	start = now_seconds();
	push_set(g, &sink);
	start = now_seconds() - start;
	if (!t.used)
		fprintf(stderr, "bench_analysis: the hash table counted nothing\n");
	free(t.keys);
	free(t.counts);
	return start;
}

/* ------------------------------------------------------- the other rows */

static double run_generate(struct generator *g)
{
	static const struct mp_sink_ops ops = { 0 };
	struct mp_sink sink = { .ops = &ops };
	double start = now_seconds();

	push_set(g, &sink);
	return now_seconds() - start;
}

static double run_analysis(struct generator *g, bool parts, uint64_t *check)
{
	struct mp_analysis_options options = { .per_task = parts, .per_file = parts,
					       .use_zero_pages = -1 };
	struct mp_analysis *analysis;
	struct mp_report *report;
	struct mp_error error = { 0 };
	struct mp_sink sink;
	double start;
	int rc;

	start = now_seconds();
	rc = mp_analysis_open(&analysis, &options, &error);
	if (rc == 0) {
		sink = mp_analysis_sink(analysis);
		rc = push_set(g, &sink);
		if (rc < 0)
			error = *sink.error;
	}
	if (rc == 0)
		rc = mp_analysis_report(analysis, &report, &error);
	start = now_seconds() - start;
	if (rc < 0) {
		fprintf(stderr, "bench_analysis: %s\n", error.message);
		exit(1);
	}
	*check = report->totals.frames;
	mp_report_free(report);
	mp_analysis_close(analysis);
	return start;
}

static long vm_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void print_row(const char *name, uint64_t records, double seconds, double baseline)
{
	printf("%-18s %8.2f M records/s", name, seconds > 0 ? records / seconds / 1e6 : 0.0);
	if (baseline > 0)
		printf("  %5.2fx the hash table", baseline / seconds);
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct generator *g = calloc(1, sizeof(*g));
	double generate = 1e30, table = 1e30, set = 1e30, parts = 1e30;
	unsigned repeat = 3;
	uint64_t frames = 0, frames_parts = 0;
	long hwm_before, hwm_after;
	int opt;

	if (!g)
		return 1;
	g->records = 10000000;
	g->seed = 88172645463325252ull;
	while ((opt = getopt_long(argc, argv, "n:r:h", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			g->records = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			repeat = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			printf("Usage: bench_analysis [--records N] [--repeat N]\n");
			return opt == 'h' ? 0 : 1;
		}
	}
	if (!g->records || !repeat) {
		fprintf(stderr, "bench_analysis: --records and --repeat must be at least 1\n");
		return 1;
	}

	hwm_before = vm_hwm_kib();
	parts = run_analysis(g, true, &frames_parts);
	hwm_after = vm_hwm_kib();
	for (unsigned i = 0; i < repeat; i++) {
		double t = run_generate(g);

		generate = t < generate ? t : generate;
		t = run_analysis(g, false, &frames);
		set = t < set ? t : set;
		t = run_analysis(g, true, &frames_parts);
		parts = t < parts ? t : parts;
		t = run_table(g);
		table = t < table ? t : table;
	}

	/* Each row but the first without the generator's own time. */
	table -= generate;
	set -= generate;
	parts -= generate;
	printf("bench_analysis: %llu records, %llu frames, best of %u runs, one core\n",
	       (unsigned long long)g->records, (unsigned long long)frames, repeat);
	print_row("generate", g->records, generate, 0);
	print_row("hash table", g->records, table, 0);
	print_row("analysis", g->records, set, table);
	print_row("analysis, parts", g->records, parts, table);
	if (frames != frames_parts)
		printf("error: the runs disagree: %llu and %llu frames\n",
		       (unsigned long long)frames, (unsigned long long)frames_parts);
	if (hwm_before > 0 && hwm_after > 0)
		printf("memory: VmHWM grew %.1f bytes per record (budget 32)\n",
		       (double)(hwm_after - hwm_before) * 1024 / (double)g->records);
	free(g);
	return frames == frames_parts ? 0 : 1;
}
