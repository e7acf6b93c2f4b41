// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timing.c - time page hashes beside a plain read of the same buffer
 *
 * The passes are made in rounds: each round reads the buffer once and
 * hashes it once with each algorithm, in turn.  On a shared machine the
 * load changes over seconds, so an algorithm timed alone could meet a busy
 * period that another one missed; in rounds every algorithm meets the same
 * periods.  The first round warms up and is not counted.  Of the other
 * rounds the fastest pass of each algorithm is kept (CLOCK_MONOTONIC, one
 * thread), because the slower passes only add other work's noise.
 */
#include <errno.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hashbench/hashbench.h"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_speed(struct mp_hashbench_result *result, const struct mp_hashbench *bench,
		      double best)
{
	result->best_seconds = best;
	/* A pass below the clock's resolution still gets a finite speed. */
	if (best < 1e-9)
		best = 1e-9;
	result->bytes_per_second = (double)bench->count * MP_PAGE_SIZE / best;
	result->pages_per_second = (double)bench->count / best;
}

/* One pass over the buffer: hashed with hash, or only read when hash is NULL. */
static double time_pass(struct mp_hashbench *bench, struct mp_hash *hash, uint8_t *digests)
{
	double start = now_seconds();

	if (hash)
		mp_hash_pages(hash, bench->pages, bench->count, digests, MP_DIGEST_MAX, NULL);
	else
		bench->read_sink = mp_read_bound(bench->pages, bench->count * MP_PAGE_SIZE);
	return now_seconds() - start;
}

static void start_result(struct mp_hashbench_result *result, enum mp_hash_id id,
			 unsigned repeat)
{
	memset(result, 0, sizeof(*result));
	result->hash = id;
	result->passes = repeat;
	result->best_seconds = DBL_MAX;
}

static void keep_best(struct mp_hashbench_result *result, double seconds)
{
	if (seconds < result->best_seconds)
		result->best_seconds = seconds;
}

static void run_rounds(struct mp_hashbench *bench, struct mp_hash **hashes, size_t count,
		       unsigned repeat, struct mp_hashbench_result *read,
		       struct mp_hashbench_result *results, uint8_t *scratch)
{
	for (unsigned round = 0; round <= repeat; round++) {
		double seconds = time_pass(bench, NULL, NULL);

		if (round > 0)
			keep_best(read, seconds);
		for (size_t i = 0; i < count; i++) {
			seconds = time_pass(bench, hashes[i], scratch);
			if (round > 0)
				keep_best(&results[i], seconds);
		}
	}
	set_speed(read, bench, read->best_seconds);
	for (size_t i = 0; i < count; i++)
		set_speed(&results[i], bench, results[i].best_seconds);
}

int mp_hashbench_time(struct mp_hashbench *bench, const enum mp_hash_id *ids, size_t count,
		      unsigned repeat, struct mp_hashbench_result *read,
		      struct mp_hashbench_result *results, struct mp_error *error)
{
	struct mp_hash **hashes;
	uint8_t *scratch;
	int rc = 0;

	if (repeat == 0)
		return mp_fail(error, -EINVAL, "cannot measure hashes: repeat count 0");
	hashes = calloc(count ? count : 1, sizeof(*hashes));
	scratch = malloc(bench->count * MP_DIGEST_MAX);
	if (!hashes || !scratch) {
		rc = mp_fail(error, -ENOMEM, "cannot time hashes: %zu pages: out of memory",
			     bench->count);
		goto out;
	}
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = mp_hash_open(&hashes[i], ids[i], NULL, 0, error);
	if (rc < 0)
		goto out;

	start_result(read, MP_HASH_NONE, repeat);
	for (size_t i = 0; i < count; i++)
		start_result(&results[i], ids[i], repeat);
	run_rounds(bench, hashes, count, repeat, read, results, scratch);
out:
	for (size_t i = 0; hashes && i < count; i++)
		mp_hash_close(hashes[i]);
	free(hashes);
	free(scratch);
	return rc;
}

int mp_hashbench_read_baseline(struct mp_hashbench *bench, unsigned repeat,
			       struct mp_hashbench_result *result, struct mp_error *error)
{
	return mp_hashbench_time(bench, NULL, 0, repeat, result, NULL, error);
}
