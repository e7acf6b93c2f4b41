// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * set_info.c - what every snapshot source does alike: the set header's
 * common fields, clocks and warnings
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "source/source.h"

int64_t mp_clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mp_set_info_begin(struct mp_set_info *info, enum mp_source_kind source,
		       const char *sysroot)
{
	struct utsname uts;

	memset(info, 0, sizeof(*info));
	if (uname(&uts) == 0) {
		snprintf(info->host, sizeof(info->host), "%s", uts.nodename);
		snprintf(info->kernel, sizeof(info->kernel), "%s", uts.release);
	}
	info->page_size = MP_PAGE_SIZE;
	info->source = source;
	info->realtime_ns = mp_clock_ns(CLOCK_REALTIME);
	info->monotonic_ns = mp_clock_ns(CLOCK_MONOTONIC);
	info->boottime_ns = mp_clock_ns(CLOCK_BOOTTIME);
	/* A kernel without KSM leaves the counters invalid, which is no error. */
	mp_ksm_read_counters(sysroot, &info->ksm, NULL);
}

void mp_scan_warn(const struct mp_scan_options *options, const char *format, ...)
{
	char message[512];
	va_list args;

	if (!options->warn)
		return;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	options->warn(options->warn_ctx, message);
}
