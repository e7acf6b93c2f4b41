// SPDX-License-Identifier: GPL-2.0
/*
 * pageinfo.c - what /proc/kpageflags and /proc/kpagecount show for a page
 *
 * fs/proc/page.c is built in and stable_page_flags() is not exported, so
 * the module computes the same words itself.  Linux 6.9 rewrote the
 * function on folios: before, a tail page shows its own flags word; from
 * 6.9 on, every page shows its folio's.  Both variants are kept, checked
 * against Debian's 6.1 and 6.12 kernels by the guest tests.
 */
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/kernel-page-flags.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pgtable.h>
#include <linux/version.h>

#include "memprint_kmod.h"

/*
 * The huge zero folio's PFN, learnt when a task scan meets it: the symbols
 * that name it (huge_zero_folio, huge_zero_pfn) are not exported.
 */
unsigned long mpk_huge_zero_pfn = ~0ul;

static inline u64 copy_bit(unsigned long flags, int ubit, int kbit)
{
	return ((u64)(flags >> kbit) & 1) << ubit;
}

static bool is_huge_zero(struct page *page)
{
	return compound_head(page) == pfn_to_page(READ_ONCE(mpk_huge_zero_pfn)) &&
	       READ_ONCE(mpk_huge_zero_pfn) != ~0ul;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)

static u64 kind_flags(struct page *page)
{
	struct folio *folio = page_folio(page);
	unsigned long mapping = (unsigned long)folio->mapping;
	u64 u = 0;

	/*
	 * Linux 6.9 to 6.14 test "mapping & PAGE_MAPPING_KSM", which is true
	 * for every anonymous folio; the module reports real KSM folios.
	 */
	if (mapping & PAGE_MAPPING_ANON) {
		u |= 1ull << KPF_ANON;
		if ((mapping & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM)
			u |= 1ull << KPF_KSM;
	}
	if (page == &folio->page)
		u |= copy_bit(folio->flags, KPF_COMPOUND_HEAD, PG_head);
	else
		u |= 1ull << KPF_COMPOUND_TAIL;

	if (folio_test_hugetlb(folio))
		u |= 1ull << KPF_HUGE;
	else if (folio_test_large(folio)) {
		if (folio_test_lru(folio) || (mapping & PAGE_MAPPING_ANON))
			u |= 1ull << KPF_THP;
		else if (is_huge_zero(page))
			u |= (1ull << KPF_ZERO_PAGE) | (1ull << KPF_THP);
	} else if (is_zero_pfn(page_to_pfn(page))) {
		u |= 1ull << KPF_ZERO_PAGE;
	}
	return u;
}

static unsigned long flags_word(struct page *page)
{
	return page_folio(page)->flags;
}

static bool page_is_mapped(struct page *page)
{
	return folio_mapcount(page_folio(page)) > 0;
}

#else /* before 6.9: flags of the page itself */

static u64 kind_flags(struct page *page)
{
	u64 u = 0;

	if (PageAnon(page))
		u |= 1ull << KPF_ANON;
	if (PageKsm(page))
		u |= 1ull << KPF_KSM;
	if (PageHead(page))
		u |= 1ull << KPF_COMPOUND_HEAD;
	if (PageTail(page))
		u |= 1ull << KPF_COMPOUND_TAIL;

	if (PageHuge(page)) {
		u |= 1ull << KPF_HUGE;
	} else if (PageTransCompound(page)) {
		struct page *head = compound_head(page);

		if (PageLRU(head) || PageAnon(head))
			u |= 1ull << KPF_THP;
		else if (is_huge_zero(page))
			u |= (1ull << KPF_ZERO_PAGE) | (1ull << KPF_THP);
	} else if (is_zero_pfn(page_to_pfn(page))) {
		u |= 1ull << KPF_ZERO_PAGE;
	}
	return u;
}

static unsigned long flags_word(struct page *page)
{
	return page->flags;
}

static bool page_is_mapped(struct page *page)
{
	return page_mapped(page);
}

#endif

/* Allocator and type bits, which fs/proc/page.c takes from the page. */
static u64 type_flags(struct page *page, unsigned long k)
{
	u64 u = 0;

	if (PageBuddy(page))
		u |= 1ull << KPF_BUDDY;
	else if (page_count(page) == 0 && is_free_buddy_page(page))
		u |= 1ull << KPF_BUDDY;
	if (PageOffline(page))
		u |= 1ull << KPF_OFFLINE;
	if (PageTable(page))
		u |= 1ull << KPF_PGTABLE;
	if (PageSlab(compound_head(page)))
		u |= 1ull << KPF_SLAB;
#if defined(CONFIG_PAGE_IDLE_FLAG) && defined(CONFIG_64BIT)
	u |= copy_bit(k, KPF_IDLE, PG_idle);
#endif
	/* NOTE: without PAGE_IDLE_FLAG (Debian's 6.1) KPF_IDLE lives in page_ext, which modules cannot read. */
	return u;
}

static u64 state_flags(struct page *page, unsigned long k)
{
	const unsigned long swapcache = (1ul << PG_swapbacked) |
					(1ul << PG_swapcache);
	u64 u = 0;

	u |= copy_bit(k, KPF_LOCKED, PG_locked);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	u |= copy_bit(k, KPF_ERROR, PG_error);
#endif
	u |= copy_bit(k, KPF_DIRTY, PG_dirty);
	u |= copy_bit(k, KPF_UPTODATE, PG_uptodate);
	u |= copy_bit(k, KPF_WRITEBACK, PG_writeback);
	u |= copy_bit(k, KPF_LRU, PG_lru);
	u |= copy_bit(k, KPF_REFERENCED, PG_referenced);
	u |= copy_bit(k, KPF_ACTIVE, PG_active);
	u |= copy_bit(k, KPF_RECLAIM, PG_reclaim);
	if ((k & swapcache) == swapcache)
		u |= 1ull << KPF_SWAPCACHE;
	u |= copy_bit(k, KPF_SWAPBACKED, PG_swapbacked);
	u |= copy_bit(k, KPF_UNEVICTABLE, PG_unevictable);
	u |= copy_bit(k, KPF_MLOCKED, PG_mlocked);
#ifdef CONFIG_MEMORY_FAILURE
	u |= copy_bit(page->flags, KPF_HWPOISON, PG_hwpoison);
#endif
	u |= copy_bit(k, KPF_RESERVED, PG_reserved);
#ifdef KPF_OWNER_2
	u |= copy_bit(k, KPF_OWNER_2, PG_owner_2);
#else
	u |= copy_bit(k, KPF_MAPPEDTODISK, PG_mappedtodisk);
#endif
	u |= copy_bit(k, KPF_PRIVATE, PG_private);
	u |= copy_bit(k, KPF_PRIVATE_2, PG_private_2);
	u |= copy_bit(k, KPF_OWNER_PRIVATE, PG_owner_priv_1);
	u |= copy_bit(k, KPF_ARCH, PG_arch_1);
	return u;
}

u64 mpk_kpageflags(struct page *page)
{
	unsigned long k = flags_word(page);
	u64 u = kind_flags(page);

	if (page_is_mapped(page))
		u |= 1ull << KPF_MMAP;
	u |= type_flags(page, k);
	u |= state_flags(page, k);
	return u;
}

u32 mpk_kpagecount(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	/* fs/proc/internal.h folio_precise_page_mapcount() of Linux 6.12 */
	struct folio *folio = page_folio(page);
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#else
	return page_mapcount(page);
#endif
}

void mpk_fill_page(struct mpk_session *session, struct page *page,
		   struct memprint_rec_page *rec)
{
	rec->kpageflags = mpk_kpageflags(page);
	rec->mapcount = mpk_kpagecount(page);
	rec->flags |= MEMPRINT_PAGE_PFN_VALID;

	if (session->request.options & MEMPRINT_OPT_NO_DIGEST) {
		rec->flags |= MEMPRINT_PAGE_NO_DIGEST;
	} else {
		void *data = kmap_local_page(page);

		if (mpk_hash_page(&session->hasher, data, rec->digest))
			rec->flags |= MEMPRINT_PAGE_ZERO_FILLED;
		kunmap_local(data);
	}
}
