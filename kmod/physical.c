// SPDX-License-Identifier: GPL-2.0
/*
 * physical.c - the physical scan: every online page of System RAM
 *
 * walk_system_ram_range() is not exported (Linux 6.1, 6.12);
 * walk_iomem_res_desc() with the same flags (IORESOURCE_SYSTEM_RAM |
 * IORESOURCE_BUSY, any descriptor) finds the same ranges.  Reserved,
 * offline, poisoned and free frames are counted by type, not read.
 */
#include <linux/ioport.h>
#include <linux/kdev_t.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pagemap.h>
#include <linux/pfn.h>
#include <linux/slab.h>
#include <asm/pgtable_types.h>

#include "memprint_kmod.h"

/* The highest buddy order of Linux 6.1 (MAX_ORDER - 1) and 6.12 (MAX_PAGE_ORDER). */
#define MPK_MAX_BUDDY_ORDER	10
#define MPK_MAX_PROBED		(64 * MPK_BATCH)	/* frames looked at per step */

static int add_ram_range(struct resource *res, void *arg)
{
	struct mpk_physical_scan *ps = arg;
	unsigned long start = PFN_UP(res->start);
	unsigned long end = PFN_DOWN(res->end + 1);

	start = max(start, ps->start_pfn);
	end = min(end, ps->end_pfn);
	if (end <= start)
		return 0;
	if (ps->range_count >= MPK_MAX_RANGES)
		return -E2BIG;
	ps->ranges[ps->range_count].start_pfn = start;
	ps->ranges[ps->range_count].end_pfn = end;
	ps->range_count++;
	ps->result.ram_pages += end - start;
	return 0;
}

/*
 * The inode, device and offset of a page-cache folio, under its lock.
 * Only LRU folios qualify: on slab and other kernel pages the mapping
 * field contains something else.  NOTE: a page-cache folio that reclaim or
 * migration has isolated from the LRU at that moment shows no file.
 */
static void file_info(struct folio *folio, struct page *page,
		      struct memprint_rec_page *rec)
{
	struct address_space *mapping;

	if (!folio_test_lru(folio) || folio_test_anon(folio) ||
	    folio_test_swapcache(folio) || !folio_trylock(folio))
		return;
	mapping = folio_mapping(folio);
	if (mapping && mapping == folio->mapping && mapping->host) {
		rec->file_dev = new_encode_dev(mapping->host->i_sb->s_dev);
		rec->file_inode = mapping->host->i_ino;
		rec->file_index = folio->index + folio_page_idx(folio, page);
	}
	folio_unlock(folio);
}

/* memfd_secret() pages and guard pages are not in the direct map. */
static bool in_direct_map(struct page *page)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)page_address(page), &level);

	return pte && pte_present(*pte);
}

static void hash_frame(struct mpk_session *session, struct page *page,
		       unsigned long pfn)
{
	struct mpk_physical_scan *ps = &session->physical;
	struct folio *folio = page_folio(page);
	struct memprint_rec_page rec = {
		.index = pfn,
		.pfn = pfn,
		.region = MPK_NO_REGION,
	};

	if (!folio_try_get(folio)) {
		ps->result.unreferenced++;
		return;
	}
	if (folio != page_folio(page)) {
		folio_put(folio);
		ps->result.unreferenced++;
		return;
	}
	if (!in_direct_map(page)) {
		folio_put(folio);
		ps->result.unmapped++;
		return;
	}
	mpk_fill_page(session, page, &rec);
	file_info(folio, page, &rec);
	folio_put(folio);
	mpk_emit_page(&session->out, &rec, session->hasher.size);
	ps->result.hashed++;
}

/* Look at the frame pfn; returns how many frames it accounted for. */
static unsigned long scan_frame(struct mpk_session *session,
				unsigned long pfn, unsigned long end_pfn)
{
	struct mpk_physical_scan *ps = &session->physical;
	struct page *page = pfn_to_online_page(pfn);
	unsigned long order;

	if (!page) {
		ps->result.offline++;
		return 1;
	}
	if (PageReserved(page)) {
		ps->result.reserved++;
		return 1;
	}
	if (PageHWPoison(page)) {
		ps->result.poisoned++;
		return 1;
	}
	if (PageBuddy(page)) {
		/* Racy without the zone lock: a torn order counts one frame. */
		order = READ_ONCE(page_private(page));
		if (order > MPK_MAX_BUDDY_ORDER || !IS_ALIGNED(pfn, 1ul << order))
			order = 0;
		order = min(1ul << order, end_pfn - pfn);
		ps->result.buddy += order;
		return order;
	}
	if (PageOffline(page)) {
		ps->result.page_offline++;
		return 1;
	}
	hash_frame(session, page, pfn);
	return 1;
}

static int physical_step(struct mpk_session *session)
{
	struct mpk_physical_scan *ps = &session->physical;
	unsigned long probed = 0;
	u64 hashed = ps->result.hashed;

	while (ps->range < ps->range_count) {
		struct mpk_ram_range *r = &ps->ranges[ps->range];

		if (ps->pfn >= r->end_pfn) {
			ps->range++;
			if (ps->range < ps->range_count)
				ps->pfn = ps->ranges[ps->range].start_pfn;
			continue;
		}
		if (ps->result.hashed - hashed >= MPK_BATCH ||
		    probed >= MPK_MAX_PROBED)
			return 0;
		probed++;
		ps->pfn += scan_frame(session, ps->pfn, r->end_pfn);
	}
	mpk_emit_physical_end(&session->out, &ps->result);
	return 1;
}

static void physical_cleanup(struct mpk_session *session)
{
	kfree(session->physical.ranges);
	session->physical.ranges = NULL;
}

int mpk_physical_start(struct mpk_session *session)
{
	struct mpk_physical_scan *ps = &session->physical;
	int err;

	memset(ps, 0, sizeof(*ps));
	session->step = physical_step;
	session->cleanup = physical_cleanup;
	ps->start_pfn = session->request.start;
	ps->end_pfn = session->request.end ? session->request.end : ULONG_MAX;
	ps->ranges = kcalloc(MPK_MAX_RANGES, sizeof(*ps->ranges), GFP_KERNEL);
	if (!ps->ranges)
		return -ENOMEM;

	err = walk_iomem_res_desc(IORES_DESC_NONE,
				  IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
				  0, -1, ps, add_ram_range);
	if (err && err != -EINVAL)
		return err;
	ps->result.ranges = ps->range_count;
	if (ps->range_count)
		ps->pfn = ps->ranges[0].start_pfn;
	return 0;
}
