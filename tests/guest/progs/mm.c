// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mm.c - KSM and swap pages in module snapshots
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define KSM_DIR "/sys/kernel/mm/ksm/"
#define KSM_SAME 32		/* pages of the same content in each process */
#define KSM_UNIQUE 16

static int write_knob(const char *name, const char *value)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static long long ksm_value(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	return read_number(path, NULL);
}

static void build_mergeable(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg;
	char *area = mmap(NULL, (KSM_SAME + KSM_UNIQUE) * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (unsigned i = 0; i < KSM_SAME; i++)
		fill_page(area + i * PAGE, 42);
	for (unsigned i = 0; i < KSM_UNIQUE; i++)
		fill_page(area + (KSM_SAME + i) * PAGE, seed + i);
	madvise(area, (KSM_SAME + KSM_UNIQUE) * PAGE, MADV_MERGEABLE);
}

/* Wait until pages_sharing reaches want and two more full scans pass. */
static bool wait_merged(long long want)
{
	long long scans = -1;

	for (int i = 0; i < 900; i++) {
		long long sharing = ksm_value("pages_sharing");
		long long full = ksm_value("full_scans");

		if (sharing == want && scans < 0)
			scans = full;
		if (scans >= 0 && full >= scans + 2)
			return true;
		usleep(100000);
	}
	return false;
}

static int analyse(const pid_t *pids, struct collector *c, struct mp_report **report)
{
	struct mp_analysis_options aopts = { 0 };
	struct mp_kmod_request request = { .target = MP_KMOD_TASKS, .pids = pids, .pid_count = 2 };
	struct mp_scan_options options = { .hash = MP_HASH_XXH64 };
	struct mp_analysis *analysis = NULL;
	struct mp_sink sinks[2];
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	struct mp_error error = { 0 };
	int rc;

	rc = mp_analysis_open(&analysis, &aopts, &error);
	if (rc < 0)
		goto out;
	sinks[0] = collector_sink(c);
	sinks[1] = mp_analysis_sink(analysis);
	rc = mp_tee_open(&tee, sinks, 2);
	if (rc < 0)
		goto out;
	sink = mp_tee_sink(tee);
	rc = mp_kmod_scan(&request, &options, &sink, &error);
	if (rc >= 0)
		rc = mp_analysis_report(analysis, report, &error);
out:
	if (rc < 0)
		note("module scan and analysis failed: %s", error.message);
	if (tee)
		mp_tee_close(tee);
	if (analysis)
		mp_analysis_close(analysis);
	return rc;
}

int check_ksm(int argc, char **argv)
{
	const long long want = 2 * KSM_SAME - 1;	/* one KSM page, every other mapping shares */
	struct collector c = { 0 };
	struct mp_report *report = NULL;
	pid_t pids[2] = { -1, -1 };
	uint64_t ksm_frames = 0;
	uint64_t ksm_pfn = 0;
	long long sharing = -1;
	int status = GUEST_FAIL;

	(void)argc;
	(void)argv;
	if (access(KSM_DIR "run", W_OK) < 0) {
		note("KSM is not in this kernel");
		return GUEST_SKIP;
	}
	write_knob("sleep_millisecs", "10");
	write_knob("pages_to_scan", "1000");
	pids[0] = start_child(build_mergeable, (void *)(uintptr_t)100);
	pids[1] = start_child(build_mergeable, (void *)(uintptr_t)200);
	write_knob("run", "1");
	if (!wait_merged(want)) {
		note("KSM did not merge: pages_sharing %lld, expected %lld",
		     ksm_value("pages_sharing"), want);
		goto out;
	}
	if (analyse(pids, &c, &report) < 0)
		goto out;
	sharing = ksm_value("pages_sharing");
	for (size_t i = 0; i < c.count; i++) {
		const struct mp_page *p = &c.pages[i].page;

		if (!(p->kpageflags & 1ull << MP_KPF_KSM) || p->pfn == ksm_pfn)
			continue;
		ksm_pfn = p->pfn;
		ksm_frames++;
	}
	note("pages_sharing %lld, module KSM frames %" PRIu64 ", KSM saved %" PRIu64, sharing,
	     ksm_frames, report->totals.ksm_saved);
	if (ksm_frames == 1 && sharing == want && report->totals.ksm_saved == (uint64_t)sharing)
		status = GUEST_PASS;
out:
	write_knob("run", "2");
	stop_child(pids[0]);
	stop_child(pids[1]);
	write_knob("run", "0");
	if (report)
		mp_report_free(report);
	collector_free(&c);
	return status;
}

/* ---------------------------------------------------------------- swap */

#define SWAP_PAGES 256

struct swap_area {
	uint64_t start;
};

static void build_swapped(void *arg)
{
	struct swap_area *info = arg;
	char *area = mmap(NULL, SWAP_PAGES * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (unsigned i = 0; i < SWAP_PAGES; i++)
		fill_page(area + i * PAGE, 900 + i);
	madvise(area, SWAP_PAGES * PAGE, MADV_PAGEOUT);
	info->start = (uintptr_t)area;
}

static size_t count_swapped(pid_t pid, uint64_t start)
{
	uint64_t entries[SWAP_PAGES];
	size_t swapped = 0;

	if (read_pagemap(pid, start, SWAP_PAGES, entries) < 0)
		return 0;
	for (unsigned i = 0; i < SWAP_PAGES; i++)
		swapped += !!(entries[i] & MP_PM_SWAPPED);
	return swapped;
}

int check_swap(int argc, char **argv)
{
	struct swap_area *info = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct mp_kmod_request request = { .target = MP_KMOD_TASKS, .pid_count = 1, .absent = true };
	struct mp_scan_options options = { .hash = MP_HASH_CRC32C };
	struct collector c = { 0 };
	struct mp_sink sink = collector_sink(&c);
	struct mp_error error = { 0 };
	size_t before, after, records = 0;
	long long pswpin0, pswpin1;
	int status = GUEST_FAIL;
	pid_t pid;

	(void)argc;
	(void)argv;
	if (read_number("/proc/meminfo", "SwapTotal") <= 0) {
		note("no swap in this guest");
		return GUEST_SKIP;
	}
	pid = start_child(build_swapped, info);
	request.pids = &pid;
	usleep(200000);
	before = count_swapped(pid, info->start);
	pswpin0 = read_number("/proc/vmstat", "pswpin");
	if (mp_kmod_scan(&request, &options, &sink, &error) < 0) {
		note("module scan failed: %s", error.message);
		goto out;
	}
	pswpin1 = read_number("/proc/vmstat", "pswpin");
	after = count_swapped(pid, info->start);
	for (size_t i = 0; i < c.count; i++) {
		const struct mp_page *p = &c.pages[i].page;

		if (p->index >= info->start / PAGE && p->index < info->start / PAGE + SWAP_PAGES &&
		    (p->pagemap & MP_PM_SWAPPED) && (p->flags & MP_PAGE_NO_DIGEST))
			records++;
	}
	note("swapped pages %zu before the scan, %zu after; swap records %zu; pswpin %lld -> %lld",
	     before, after, records, pswpin0, pswpin1);
	if (before < SWAP_PAGES / 2)
		note("MADV_PAGEOUT swapped out too few pages to test");
	else if (pswpin1 == pswpin0 && after == before && records == before)
		status = GUEST_PASS;
out:
	stop_child(pid);
	collector_free(&c);
	return status;
}
