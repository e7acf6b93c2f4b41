/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - helpers shared by the parts of libmemprint, not installed
 */
#ifndef MEMPRINT_INTERNAL_H
#define MEMPRINT_INTERNAL_H

#include <stdarg.h>

#include "memprint.h"

#define MP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define MP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define MP_LIKELY(x) __builtin_expect(!!(x), 1)
#define MP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MP_PRINTF(fmt, args)
#define MP_LIKELY(x) (x)
#define MP_UNLIKELY(x) (x)
#endif

/*
 * Record a failure in error (which may be NULL) and return code, so that a
 * caller can write "return mp_fail(error, -EINVAL, "...", ...);".  code is a
 * negative errno value.
 */
int mp_fail(struct mp_error *error, int code, const char *format, ...) MP_PRINTF(3, 4);

/* Like mp_fail(), appending ": strerror(-code)". */
int mp_fail_errno(struct mp_error *error, int code, const char *format, ...) MP_PRINTF(3, 4);

/* Clear error (may be NULL). */
void mp_error_clear(struct mp_error *error);

/*
 * Join sysroot (NULL or "" for none) and an absolute path into buffer.
 * Returns 0, or -ENAMETOOLONG.
 */
int mp_sysroot_path(char *buffer, size_t size, const char *sysroot, const char *format, ...)
	MP_PRINTF(4, 5);

/* Read a whole small file (at most size - 1 bytes) and NUL-terminate it. */
ssize_t mp_read_small_file(const char *path, char *buffer, size_t size);

/*
 * Read every byte of buffer as fast as one core can and return a value
 * that depends on all of them: the baseline that page hashes are measured
 * against (read_bound.c says how).
 */
uint64_t mp_read_bound(const void *buffer, size_t size);

/* Little-endian loads and stores, independent of alignment. */
static inline uint64_t mp_load_le64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static inline void mp_store_le64(void *p, uint64_t v)
{
	unsigned char *b = p;

	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

#endif /* MEMPRINT_INTERNAL_H */
