// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * physical.c - the physical scan against /proc/iomem and /proc/meminfo
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define KPF_RESERVED 32

struct ram {
	uint64_t ranges, pages;
	uint64_t start[64], end[64];	/* PFNs, end exclusive */
};

/* Top-level "System RAM" lines of /proc/iomem, as walk_system_ram_range() takes them. */
static int read_iomem(struct ram *ram)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return -1;
	memset(ram, 0, sizeof(*ram));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		uint64_t first, last;

		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%llx-%llx", &start, &end) != 2 || ram->ranges == 64)
			continue;
		first = (start + PAGE - 1) / PAGE;
		last = (end + 1) / PAGE;
		if (last <= first)
			continue;
		ram->start[ram->ranges] = first;
		ram->end[ram->ranges] = last;
		ram->ranges++;
		ram->pages += last - first;
	}
	fclose(f);
	return 0;
}

static bool in_ram(const struct ram *ram, uint64_t pfn)
{
	for (uint64_t i = 0; i < ram->ranges; i++)
		if (pfn >= ram->start[i] && pfn < ram->end[i])
			return true;
	return false;
}

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

int check_physical(int argc, char **argv)
{
	struct mp_kmod_physical_counts counts = { 0 };
	struct mp_kmod_request request = { .target = MP_KMOD_PHYSICAL, .physical = &counts };
	struct mp_scan_options options = { .hash = MP_HASH_XXH64 };
	struct collector c = { 0 };
	struct mp_sink sink = collector_sink(&c);
	struct mp_error error = { 0 };
	uint64_t sum, total, free_pages, outside = 0, reserved = 0, file_pages = 0;
	struct ram ram;
	bool ok = true;

	(void)argc;
	(void)argv;
	if (read_iomem(&ram) < 0 || mp_kmod_scan(&request, &options, &sink, &error) < 0) {
		note("physical scan failed: %s", error.message);
		collector_free(&c);
		return GUEST_FAIL;
	}
	total = (uint64_t)read_number("/proc/meminfo", "MemTotal") / 4;
	free_pages = (uint64_t)read_number("/proc/meminfo", "MemFree") / 4;
	sum = counts.hashed + counts.offline + counts.reserved + counts.poisoned + counts.buddy +
	      counts.page_offline + counts.unreferenced + counts.unmapped;
	for (size_t i = 0; i < c.count; i++) {
		const struct mp_page *p = &c.pages[i].page;

		outside += !in_ram(&ram, p->pfn);
		reserved += !!(p->kpageflags & 1ull << KPF_RESERVED);
		file_pages += p->region != MP_NONE;
	}
	note("iomem: %" PRIu64 " ranges, %" PRIu64 " pages; module: %" PRIu64 " ranges, %" PRIu64
	     " pages, hashed %" PRIu64 ", reserved %" PRIu64 ", buddy %" PRIu64 ", unreferenced %"
	     PRIu64 ", offline %" PRIu64 ", unmapped %" PRIu64 "; records %zu (%" PRIu64
	     " of files in %zu files); MemTotal %" PRIu64 ", MemFree %" PRIu64 " pages",
	     ram.ranges, ram.pages, counts.ranges, counts.ram_pages, counts.hashed, counts.reserved,
	     counts.buddy, counts.unreferenced, counts.offline, counts.unmapped, c.count, file_pages,
	     c.file_count, total, free_pages);

	if (counts.ranges != ram.ranges || counts.ram_pages != ram.pages) {
		note("the module's System RAM differs from /proc/iomem");
		ok = false;
	}
	if (sum != counts.ram_pages || c.count != counts.hashed) {
		note("frames counted %" PRIu64 ", records %zu: each frame must count once", sum,
		     c.count);
		ok = false;
	}
	if (outside || reserved) {
		note("%" PRIu64 " records outside System RAM, %" PRIu64 " of reserved frames",
		     outside, reserved);
		ok = false;
	}
	/* MemTotal is totalram_pages(): System RAM less what stays reserved after boot. */
	if (distance(counts.ram_pages - counts.reserved, total) > total / 100) {
		note("System RAM less reserved frames is more than 1 %% away from MemTotal");
		ok = false;
	}
	/*
	 * MemFree counts the buddy lists and the per-CPU free lists; the scan
	 * counts the latter among the unreferenced frames, together with
	 * frames that other reasons leave at reference count 0.  So MemFree
	 * lies between buddy and buddy + unreferenced, give or take 5 % of
	 * MemTotal because free memory moves while the scan runs.  Measured
	 * on 6.12: 9687 unreferenced frames while buddy was 0.2 % from MemFree.
	 */
	if (free_pages + total / 20 < counts.buddy ||
	    free_pages > counts.buddy + counts.unreferenced + total / 20) {
		note("MemFree is more than 5 %% of MemTotal outside [buddy, buddy + unreferenced]");
		ok = false;
	}
	if (!file_pages) {
		note("no page-cache frames found: the initramfs files should be there");
		ok = false;
	}
	collector_free(&c);
	return ok ? GUEST_PASS : GUEST_FAIL;
}
