// SPDX-License-Identifier: GPL-2.0
/*
 * task.c - the task scan: walk a process's page tables, hash its pages
 *
 * Route: the module walks the page tables itself (pgd_offset() down to
 * pte_offset_kernel(), all inline).  walk_page_range() is not exported on
 * Linux 6.1 or 6.12; follow_pte() is exported on 6.1 only and follow_pfn()
 * was removed in 6.10; GUP (get_user_pages_remote()) gives no swap or
 * page-table bits, and a pin of a COW-shared anonymous page unshares it.
 * The walk reads only present entries under the page-table lock, so it
 * never faults a page in, and it takes a plain page reference (get_page()),
 * which leaves COW sharing alone.
 *
 * Locking: each step takes mmap_read_lock() for at most one PMD's range
 * (2 MiB), collects the entries and page references under the PTE or PMD
 * lock, drops both locks, then hashes through kmap_local_page() and drops
 * the references.  The caller's read() yields between steps.
 */
#include <linux/cred.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/swapops.h>
#include <linux/version.h>

#include "memprint_kmod.h"

static void add_entry(struct mpk_task_scan *ts, struct page *page,
		      unsigned long addr, u64 pfn, u64 pagemap, u32 flags,
		      bool referenced)
{
	struct mpk_task_entry *e;

	if (WARN_ON_ONCE(ts->count >= MPK_BATCH))
		return;
	e = &ts->entries[ts->count++];
	e->page = page;
	e->index = addr >> PAGE_SHIFT;
	e->pfn = pfn;
	e->pagemap = pagemap;
	e->flags = flags;
	e->referenced = referenced;
}

/* A swap, migration or marker entry: never read, so never swapped in. */
static void add_absent(struct mpk_task_scan *ts, unsigned long addr,
		       u64 pagemap)
{
	if (!ts->absent) {
		ts->result.skipped[MPK_SKIP_SWAPPED]++;
		return;
	}
	add_entry(ts, NULL, addr, 0, pagemap | MPK_PM_SWAPPED,
		  MEMPRINT_PAGE_NO_DIGEST, false);
}

static void add_pte(struct mpk_task_scan *ts, unsigned long addr, pte_t pte)
{
	unsigned long pfn;
	struct page *page;
	u64 pagemap;

	if (pte_none(pte))
		return;
	if (!pte_present(pte)) {
		pagemap = 0;
		if (pte_swp_soft_dirty(pte))
			pagemap |= MPK_PM_SOFT_DIRTY;
		if (pte_swp_uffd_wp(pte))
			pagemap |= MPK_PM_UFFD_WP;
		add_absent(ts, addr, pagemap);
		return;
	}

	pfn = pte_pfn(pte);
	if ((pte_special(pte) && !is_zero_pfn(pfn)) || !pfn_valid(pfn)) {
		ts->result.skipped[MPK_SKIP_IO_PFNMAP]++;
		return;
	}
	pagemap = MPK_PM_PRESENT;
	if (pte_soft_dirty(pte))
		pagemap |= MPK_PM_SOFT_DIRTY;
	if (pte_uffd_wp(pte))
		pagemap |= MPK_PM_UFFD_WP;

	/* The mapping holds a reference, and the PTE lock keeps it. */
	page = pfn_to_page(pfn);
	if (is_zero_pfn(pfn)) {
		add_entry(ts, page, addr, pfn, pagemap, 0, false);
		return;
	}
	get_page(page);
	add_entry(ts, page, addr, pfn, pagemap, 0, true);
}

/*
 * pte_offset_map_lock() is not exported from Linux 6.5 on, so this follows
 * its protocol.  Since 6.5 khugepaged may free a page table under the mmap
 * read lock (retract_page_tables()), but it clears the PMD entry first and
 * frees the table after an RCU grace period.  So the table stays valid
 * under rcu_read_lock(), and the PMD value is checked again under the
 * table's lock.  Returns -EAGAIN when the PMD changed.
 */
static int walk_ptes(struct mpk_task_scan *ts, pmd_t *pmd, pmd_t pmdv,
		     unsigned long addr, unsigned long end)
{
	spinlock_t *ptl;
	pte_t *pte;

	rcu_read_lock();
	ptl = pte_lockptr(ts->mm, &pmdv);
	pte = pte_offset_kernel(&pmdv, addr);
	spin_lock(ptl);
	if (!pmd_same(pmdv, READ_ONCE(*pmd))) {
		spin_unlock(ptl);
		rcu_read_unlock();
		return -EAGAIN;
	}
	for (; addr < end; pte++, addr += PAGE_SIZE)
		add_pte(ts, addr, ptep_get(pte));
	spin_unlock(ptl);
	rcu_read_unlock();
	return 0;
}

/* Add the 4 KiB subpages in [addr, end) of a huge page mapped at head. */
static void add_huge(struct mpk_task_scan *ts, struct page *head,
		     unsigned long base, unsigned long addr, unsigned long end,
		     u64 pagemap)
{
	for (; addr < end; addr += PAGE_SIZE) {
		struct page *page = nth_page(head, (addr - base) >> PAGE_SHIFT);

		get_page(page);
		add_entry(ts, page, addr, page_to_pfn(page), pagemap,
			  MEMPRINT_PAGE_HUGE, true);
	}
}

/*
 * A PMD leaf: a PMD-mapped THP or a 2 MiB hugetlb page, both under the
 * PMD lock (huge_pte_lockptr() picks the same lock for PMD-sized hugetlb).
 */
static int walk_pmd_leaf(struct mpk_task_scan *ts, struct vm_area_struct *vma,
			 pmd_t *pmd, unsigned long addr, unsigned long end)
{
	spinlock_t *ptl = pmd_lockptr(ts->mm, pmd);
	struct page *head;
	u64 pagemap;
	pmd_t pmdv;

	spin_lock(ptl);
	pmdv = READ_ONCE(*pmd);
	if (!pmd_present(pmdv) || !pmd_leaf(pmdv)) {
		spin_unlock(ptl);
		return -EAGAIN;
	}
	head = pmd_page(pmdv);
	/* An anonymous area maps no other non-anonymous huge folio. */
	if (!vma->vm_file && !is_vm_hugetlb_page(vma) && !PageAnon(head))
		WRITE_ONCE(mpk_huge_zero_pfn, page_to_pfn(head));

	pagemap = MPK_PM_PRESENT;
	if (pmd_soft_dirty(pmdv))
		pagemap |= MPK_PM_SOFT_DIRTY;
	if (pmd_uffd_wp(pmdv))
		pagemap |= MPK_PM_UFFD_WP;
	add_huge(ts, head, addr & PMD_MASK, addr, end, pagemap);
	spin_unlock(ptl);
	return 0;
}

/* A PUD leaf: a 1 GiB hugetlb page, under mm->page_table_lock. */
static void walk_pud_leaf(struct mpk_task_scan *ts,
			  struct vm_area_struct *vma, pud_t *pud,
			  unsigned long addr, unsigned long end)
{
	pud_t pudv;

	if (!is_vm_hugetlb_page(vma)) {
		ts->result.skipped[MPK_SKIP_IO_PFNMAP] += (end - addr) >> PAGE_SHIFT;
		return;
	}
	spin_lock(&ts->mm->page_table_lock);
	pudv = READ_ONCE(*pud);
	if (pud_present(pudv) && pud_leaf(pudv))
		add_huge(ts, pud_page(pudv), addr & PUD_MASK, addr, end,
			 MPK_PM_PRESENT);
	spin_unlock(&ts->mm->page_table_lock);
}

/* Collect the entries of [addr, end), which lies within one PMD. */
static void walk_range(struct mpk_task_scan *ts, struct vm_area_struct *vma,
		       unsigned long addr, unsigned long end)
{
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud, pudv;
	pmd_t *pmd, pmdv;

	pgd = pgd_offset(ts->mm, addr);
	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
		return;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
		return;
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	if (pud_none(pudv))
		return;
	if (pud_leaf(pudv)) {
		walk_pud_leaf(ts, vma, pud, addr, end);
		return;
	}
	if (pud_bad(pudv))
		return;
	pmd = pmd_offset(pud, addr);

	for (;;) {
		int err;

		ts->count = 0;
		pmdv = READ_ONCE(*pmd);
		if (pmd_none(pmdv))
			return;
		if (!pmd_present(pmdv)) {
			for (; addr < end; addr += PAGE_SIZE)
				add_absent(ts, addr, 0);
			return;
		}
		if (pmd_leaf(pmdv))
			err = walk_pmd_leaf(ts, vma, pmd, addr, end);
		else
			err = walk_ptes(ts, pmd, pmdv, addr, end);
		if (err != -EAGAIN)
			return;
		mpk_task_drop_entries(ts);
	}
}

void mpk_task_drop_entries(struct mpk_task_scan *ts)
{
	unsigned int i;

	for (i = 0; i < ts->count; i++)
		if (ts->entries[i].referenced)
			put_page(ts->entries[i].page);
	ts->count = 0;
}

/* Hash and send the collected entries, then drop their references. */
static void send_entries(struct mpk_session *session)
{
	struct mpk_task_scan *ts = &session->task;
	unsigned int i;

	for (i = 0; i < ts->count; i++) {
		struct mpk_task_entry *e = &ts->entries[i];
		struct memprint_rec_page rec = {
			.index = e->index,
			.pfn = e->pfn,
			.pagemap = e->pagemap,
			.flags = e->flags,
			.region = ts->region,
		};

		if (ts->mergeable)
			rec.flags |= MEMPRINT_PAGE_MERGEABLE;
		if (e->page) {
			mpk_fill_page(session, e->page, &rec);
			if (!PageAnon(e->page))
				rec.pagemap |= MPK_PM_FILE_SHARED;
			if (rec.mapcount == 1)
				rec.pagemap |= MPK_PM_EXCLUSIVE;
		}
		mpk_emit_page(&session->out, &rec, session->hasher.size);
		ts->result.pages++;
		if (e->referenced)
			put_page(e->page);
		e->referenced = false;
		if (i % 64 == 63)
			cond_resched();
	}
	ts->count = 0;
}

static void send_region(struct mpk_session *session,
			struct vm_area_struct *vma)
{
	struct mpk_task_scan *ts = &session->task;
	struct memprint_rec_region rec;
	const char *path;
	u32 size;

	mpk_describe_region(vma, &rec, ts->path_buf, &path, &size);
	mpk_emit_region(&session->out, &rec, path, size);
	ts->region = ts->regions++;
	ts->region_end = vma->vm_end;
}

/* Whether the target still runs the mm being scanned. */
static u32 task_status(struct mpk_task_scan *ts)
{
	u32 status = MPK_TASK_COMPLETE;
	struct mm_struct *mm;

	task_lock(ts->task);
	mm = ts->task->mm;
	if (!mm || (ts->task->flags & PF_EXITING))
		status = MPK_TASK_EXITED;
	else if (mm != ts->mm)
		status = MPK_TASK_EXECED;
	task_unlock(ts->task);
	return status;
}

static int task_finish(struct mpk_session *session, u32 status)
{
	struct mpk_task_scan *ts = &session->task;

	ts->result.status = status;
	mpk_emit_task_end(&session->out, &ts->result);
	return 1;
}

static bool skip_area(struct mpk_task_scan *ts, struct vm_area_struct *vma,
		      unsigned long end)
{
	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return false;
	ts->result.skipped[MPK_SKIP_IO_PFNMAP] += (end - ts->addr) >> PAGE_SHIFT;
	ts->addr = end;
	return true;
}

static int task_step(struct mpk_session *session)
{
	struct mpk_task_scan *ts = &session->task;
	struct vm_area_struct *vma;
	unsigned long end, stop;
	u32 status;

	if (!ts->mm)
		return task_finish(session, ts->result.status);
	status = task_status(ts);
	if (status != MPK_TASK_COMPLETE)
		return task_finish(session, status);
	if (ts->addr >= ts->end)
		return task_finish(session, MPK_TASK_COMPLETE);
	if (mmap_read_lock_killable(ts->mm))
		return -EINTR;

	vma = find_vma(ts->mm, ts->addr);
	if (!vma || vma->vm_start >= ts->end) {
		mmap_read_unlock(ts->mm);
		return task_finish(session, MPK_TASK_COMPLETE);
	}
	ts->addr = max(ts->addr, vma->vm_start);
	if (vma->vm_start >= ts->region_end || ts->region == MPK_NO_REGION)
		send_region(session, vma);
	end = min(vma->vm_end, ts->end);
	if (skip_area(ts, vma, end)) {
		mmap_read_unlock(ts->mm);
		return 0;
	}

	ts->mergeable = (vma->vm_flags & VM_MERGEABLE) || ts->merge_any;
	stop = pmd_addr_end(ts->addr, end);
	walk_range(ts, vma, ts->addr, stop);
	mmap_read_unlock(ts->mm);

	send_entries(session);
	ts->addr = stop;
	return 0;
}

static void fill_ksm(struct memprint_rec_task *rec, struct mm_struct *mm)
{
#ifdef CONFIG_KSM
	rec->ksm_valid = 1;
	rec->ksm_rmap_items = mm->ksm_rmap_items;
	rec->ksm_merging_pages = mm->ksm_merging_pages;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	rec->ksm_zero_pages = atomic_long_read(&mm->ksm_zero_pages);
#endif
	/*
	 * As ksm_process_profit() computes it; NOTE: 64 is
	 * sizeof(struct ksm_rmap_item) on 64-bit builds of Linux 6.1 to 6.12,
	 * a type private to mm/ksm.c.
	 */
	rec->ksm_process_profit = (rec->ksm_merging_pages +
				   rec->ksm_zero_pages) * PAGE_SIZE -
				  rec->ksm_rmap_items * 64;
#endif
}

static void send_task(struct mpk_session *session)
{
	struct mpk_task_scan *ts = &session->task;
	struct task_struct *task = ts->task;
	struct memprint_rec_task rec = { 0 };

	rec.pid = task_tgid_vnr(task);
	rcu_read_lock();
	rec.ppid = task_tgid_vnr(rcu_dereference(task->real_parent));
	rcu_read_unlock();
	rec.uid = from_kuid_munged(current_user_ns(), task_uid(task));
	get_task_comm(rec.comm, task);
	if (task->flags & PF_KTHREAD)
		rec.flags |= MEMPRINT_TASK_KERNEL_THREAD;
	if (ts->mm) {
#ifdef MMF_VM_MERGE_ANY
		ts->merge_any = test_bit(MMF_VM_MERGE_ANY, &ts->mm->flags);
#endif
		if (ts->merge_any)
			rec.flags |= MEMPRINT_TASK_KSM_MERGE_ANY;
		fill_ksm(&rec, ts->mm);
	}
	mpk_emit_task(&session->out, &rec);
}

static void task_cleanup(struct mpk_session *session)
{
	struct mpk_task_scan *ts = &session->task;

	if (ts->entries)
		mpk_task_drop_entries(ts);
	if (ts->mm)
		mmput(ts->mm);
	if (ts->task)
		put_task_struct(ts->task);
	kvfree(ts->entries);
	kfree(ts->path_buf);
	memset(ts, 0, sizeof(*ts));
}

int mpk_task_start(struct mpk_session *session)
{
	struct mpk_task_scan *ts = &session->task;
	struct pid *pid;

	memset(ts, 0, sizeof(*ts));
	session->cleanup = task_cleanup;
	session->step = task_step;

	pid = find_get_pid(session->request.pid);
	if (!pid)
		return -ESRCH;
	ts->task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!ts->task)
		return -ESRCH;

	ts->entries = kvmalloc_array(MPK_BATCH, sizeof(*ts->entries),
				     GFP_KERNEL);
	ts->path_buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!ts->entries || !ts->path_buf)
		return -ENOMEM;

	/* A reference on mm_users keeps the page tables if the task exits. */
	ts->mm = get_task_mm(ts->task);
	if (!ts->mm && !(ts->task->flags & PF_KTHREAD))
		ts->result.status = MPK_TASK_EXITED;
	ts->addr = session->request.start & PAGE_MASK;
	ts->end = session->request.end ? session->request.end : ULONG_MAX;
	ts->region = MPK_NO_REGION;
	ts->absent = session->request.options & MEMPRINT_OPT_ABSENT;
	send_task(session);
	return 0;
}
