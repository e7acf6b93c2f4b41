// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * read_bound.c - the fastest plain read of a buffer, as a baseline
 *
 * A hash must read every byte of a page, so reading the same bytes and
 * doing nothing else bounds how fast any hash can go.  The bound is only
 * honest if the read loop is at least as fast as the best hash's own
 * loads: a plain one-stream loop of 64-bit loads read 11 GB/s on the
 * 2-core machine of docs/benchmarks.md, slower than ISA-L's CRC32 of the
 * same buffer.  Four streams, a quarter of the buffer each, keep more
 * cache-line fills in flight: 13.5-14 GB/s with AVX2 loads there, as fast
 * as glibc's memcmp reading two streams.
 */
#include <string.h>

#include "internal.h"

#define STREAMS 4
#define STEP 64		/* bytes per stream and iteration: one cache line */

#if defined(__x86_64__) && defined(__GNUC__)
typedef uint64_t mp_v4 __attribute__((vector_size(32), aligned(1)));

__attribute__((target("avx2")))
static uint64_t read_streams_avx2(const uint8_t *bytes, size_t quarter)
{
	mp_v4 a = { 0 }, b = { 0 };

	for (size_t i = 0; i + STEP <= quarter; i += STEP) {
		for (int s = 0; s < STREAMS; s++) {
			const mp_v4 *line = (const mp_v4 *)(bytes + s * quarter + i);

			a ^= line[0];
			b ^= line[1];
		}
	}
	a ^= b;
	/* Leave no dirty upper AVX state behind for SSE code that follows. */
	__asm__ volatile("vzeroupper" ::: "memory");
	return a[0] ^ a[1] ^ a[2] ^ a[3];
}
#endif

static uint64_t read_streams_scalar(const uint8_t *bytes, size_t quarter)
{
	uint64_t a = 0, b = 0;

	for (size_t i = 0; i + STEP <= quarter; i += STEP) {
		for (int s = 0; s < STREAMS; s++) {
			uint64_t w[8];

			memcpy(w, bytes + s * quarter + i, sizeof(w));
			a ^= w[0] ^ w[2] ^ w[4] ^ w[6];
			b ^= w[1] ^ w[3] ^ w[5] ^ w[7];
		}
	}
	return a ^ b;
}

uint64_t mp_read_bound(const void *buffer, size_t size)
{
	const uint8_t *bytes = buffer;
	size_t quarter = size / STREAMS / STEP * STEP;
	uint64_t sum;

#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx2"))
		sum = read_streams_avx2(bytes, quarter);
	else
#endif
		sum = read_streams_scalar(bytes, quarter);

	/* The tail that does not fill four whole streams. */
	for (size_t i = quarter * STREAMS; i < size; i++)
		sum += bytes[i];
	return sum;
}
