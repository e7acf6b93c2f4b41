/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source.h - helpers shared by the snapshot sources (procfs, kernel module,
 * page cache), not installed
 */
#ifndef MEMPRINT_SOURCE_H
#define MEMPRINT_SOURCE_H

#include <time.h>

#include "internal.h"

/* Read clock in nanoseconds; 0 if it cannot be read. */
int64_t mp_clock_ns(clockid_t clock);

/*
 * Start a set header for source, taken now: host and kernel release,
 * page size, the three clocks and KSM's counters under sysroot.  The
 * caller fills in hash, digest size and flags.
 */
void mp_set_info_begin(struct mp_set_info *info, enum mp_source_kind source,
		       const char *sysroot);

/* Pass a formatted warning to options->warn, if the caller set one. */
void mp_scan_warn(const struct mp_scan_options *options, const char *format, ...)
	MP_PRINTF(2, 3);

#endif /* MEMPRINT_SOURCE_H */
