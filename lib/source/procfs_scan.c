// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs_scan.c - snapshot tasks through /proc: maps, pagemap, kpageflags
 * and the content of present pages from /proc/PID/mem
 *
 * Each area is read in batches of up to MP_SCAN_BATCH pages: the pagemap
 * entries, then the content of the present pages (one pread per run of
 * consecutive present pages), then the pagemap entries again to catch
 * pages that moved meanwhile, then kpageflags and kpagecount in PFN
 * order.  Only pages that pagemap shows present are read: reading an
 * absent page through /proc/PID/mem faults it in (an untouched PROT_NONE
 * page gets the zero page mapped), and a swapped page would be swapped in.
 * process_vm_readv() is not used because its read-only pin unshares
 * copy-on-write-shared anonymous pages (seen on Linux 6.18: a forked
 * child's pages all got new PFNs), which destroys the sharing measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "source/procfs.h"
#include "source/source.h"

enum slot_state {
	SLOT_ABSENT,
	SLOT_PRESENT,		/* pagemap shows it present: to be read */
	SLOT_READ,		/* content read */
};

/*
 * On a kernel that sets KPF_KSM on every anonymous page, smaps' "KSM:" of
 * the area decides: none of its pages, all of its anonymous pages, or
 * some.  Some are taken to be the anonymous pages that pagemap does not
 * show exclusively mapped.  A KSM page never is, but a page shared after
 * fork is not either, so this is an upper bound.
 */
enum region_ksm {
	REGION_KSM_NONE,
	REGION_KSM_ALL,
	REGION_KSM_SOME,
};

/* One batch of consecutive virtual pages. */
struct batch {
	uint64_t start;			/* virtual address of slot 0 */
	size_t count;
	uint64_t pm[MP_SCAN_BATCH];
	uint64_t again[MP_SCAN_BATCH];	/* pagemap after the content read */
	uint64_t pfns[MP_SCAN_BATCH];	/* 0 for slots not read */
	uint64_t kflags[MP_SCAN_BATCH];
	uint64_t kcounts[MP_SCAN_BATCH];
	uint8_t state[MP_SCAN_BATCH];
	bool moved[MP_SCAN_BATCH];
	bool exclusive[MP_SCAN_BATCH];	/* pagemap bit 56 */
	bool zero[MP_SCAN_BATCH];
	uint8_t digests[MP_SCAN_BATCH * MP_DIGEST_MAX];
};

struct scanner {
	const struct mp_scan_options *options;
	const char *sysroot;
	const struct mp_sink *sink;
	struct mp_error *error;
	struct mp_hash *hash;
	size_t digest_size;
	struct mp_kpage kpage;
	struct batch *batch;
	uint8_t *content;		/* MP_SCAN_READ pages */
	uint8_t *page_data;		/* MP_SCAN_BATCH pages kept for options->page_data */
	struct mp_page *records;	/* MP_SCAN_BATCH records */
	size_t record_count;
	uint32_t set_flags;
	bool pfn_valid;			/* PFNs shown and kpageflags readable */
	bool warned_hidden;
	bool partial;			/* a task ended early or failed */
	uint32_t regions;		/* regions sent in this set */
	uint64_t pages_done, tasks_done, tasks_total;
};

/* One task being scanned. */
struct task_scan {
	pid_t pid;
	uint32_t index;
	struct mp_task task;
	struct mp_proc_stat stat;	/* at the start */
	int mem_fd, pagemap_fd;
	struct mp_pm_scanner ranges;
	struct mp_task_end end;
	bool gone;			/* exited or exec'd: stop reading */
	bool warned_unreadable;
	uint32_t region;		/* index of the current region */
	uint32_t region_vm_flags;
	enum region_ksm region_ksm;	/* where kpageflags' KPF_KSM cannot be trusted */
};

/* ------------------------------------------------------------ task status */

/*
 * The mm behind our pagemap and mem descriptors is gone: tell an exit
 * (no such process, a zombie, or another process under the same pid)
 * from an exec (same process, new mm).
 */
static void mark_gone(struct scanner *sc, struct task_scan *ts)
{
	struct mp_proc_stat now;
	bool exited;

	if (ts->gone)
		return;
	ts->gone = true;
	exited = mp_proc_read_stat(sc->sysroot, ts->pid, &now) < 0 || now.state == 'Z' ||
		 now.state == 'X' || now.starttime != ts->stat.starttime;
	ts->end.status = exited ? MP_TASK_EXITED : MP_TASK_EXECED;
	mp_scan_warn(sc->options, "pid %d (%s) %s during the scan: its snapshot is partial",
		     (int)ts->pid, ts->task.comm, exited ? "exited" : "executed a new program");
}

/* Whether the mm we opened is still there: pagemap reads nothing once it is gone. */
static void check_alive(struct scanner *sc, struct task_scan *ts)
{
	uint64_t entry;

	if (!ts->gone && mp_pagemap_read(ts->pagemap_fd, 0, &entry, 1) == 0)
		mark_gone(sc, ts);
}

/* ------------------------------------------------------------- the sink */

static int flush_records(struct scanner *sc)
{
	size_t count = sc->record_count;

	sc->record_count = 0;
	if (!count || !sc->sink->ops->pages)
		return 0;
	return sc->sink->ops->pages(sc->sink->ctx, sc->records, count);
}

static void report_progress(struct scanner *sc)
{
	if (sc->options->progress)
		sc->options->progress(sc->options->progress_ctx, sc->pages_done, sc->tasks_done,
				      sc->tasks_total);
}

/* ------------------------------------------------------------ one batch */

/* Read and classify the pagemap entries of the batch; false when the mm is gone. */
static bool read_entries(struct scanner *sc, struct task_scan *ts, struct batch *b)
{
	ssize_t n = mp_pagemap_read(ts->pagemap_fd, b->start, b->pm, b->count);

	if (n <= 0) {
		/* 0: the mm is gone; an error (ESRCH, EIO) too, once the task is gone. */
		mark_gone(sc, ts);
		return false;
	}
	memset(b->pm + n, 0, (b->count - (size_t)n) * sizeof(uint64_t));

	for (size_t i = 0; i < b->count; i++) {
		uint64_t e = b->pm[i];

		b->state[i] = SLOT_ABSENT;
		if (e & MP_PM_PRESENT)
			b->state[i] = SLOT_PRESENT;
		else if (e & MP_PM_GUARD)
			ts->end.skipped[MP_SKIP_PROT_NONE]++;	/* bit 58 also sets bit 62 */
		else if (e & MP_PM_SWAPPED)
			ts->end.skipped[MP_SKIP_SWAPPED]++;
	}
	return true;
}

static void mark_unreadable(struct scanner *sc, struct task_scan *ts, struct batch *b,
			    size_t slot)
{
	b->state[slot] = SLOT_ABSENT;
	ts->end.skipped[MP_SKIP_UNREADABLE]++;
	if (!ts->warned_unreadable)
		mp_scan_warn(sc->options, "pid %d (%s): cannot read the page at 0x%llx: %s "
			     "(unmapped during the scan?)", (int)ts->pid, ts->task.comm,
			     (unsigned long long)(b->start + slot * MP_PAGE_SIZE), strerror(errno));
	ts->warned_unreadable = true;
}

/* Hash count pages just read into the content buffer, for slots from slot on. */
static void hash_read(struct scanner *sc, struct batch *b, size_t slot, size_t count)
{
	mp_hash_pages(sc->hash, sc->content, count, b->digests + slot * MP_DIGEST_MAX,
		      MP_DIGEST_MAX, b->zero + slot);
	memset(b->state + slot, SLOT_READ, count);
	if (sc->page_data)
		memcpy(sc->page_data + slot * MP_PAGE_SIZE, sc->content, count * MP_PAGE_SIZE);
}

/*
 * Read slots [from, to) from /proc/PID/mem and hash them, at most
 * MP_SCAN_READ pages per pread so that the hash finds them in the cache.
 * A failing read is retried page by page so that one unmapped page costs
 * only itself.  Returns false when the mm is gone.
 */
static bool read_content(struct scanner *sc, struct task_scan *ts, struct batch *b,
			 size_t from, size_t to)
{
	size_t slot = from;

	while (slot < to) {
		size_t pages = to - slot < MP_SCAN_READ ? to - slot : MP_SCAN_READ;
		ssize_t n = pread(ts->mem_fd, sc->content, pages * MP_PAGE_SIZE,
				  (off_t)(b->start + slot * MP_PAGE_SIZE));

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			mark_gone(sc, ts);
			return false;
		}
		if (n < 0 && pages > 1) {
			for (size_t i = slot; i < slot + pages; i++)
				if (!read_content(sc, ts, b, i, i + 1))
					return false;
			slot += pages;
			continue;
		}
		if (n < 0) {
			mark_unreadable(sc, ts, b, slot++);
			continue;
		}
		hash_read(sc, b, slot, (size_t)n / MP_PAGE_SIZE);
		slot += (size_t)n / MP_PAGE_SIZE;
		if ((size_t)n % MP_PAGE_SIZE) {
			errno = EIO;
			mark_unreadable(sc, ts, b, slot++);
		}
	}
	return true;
}

static bool read_present(struct scanner *sc, struct task_scan *ts, struct batch *b)
{
	size_t i = 0;

	while (i < b->count) {
		size_t j;

		if (b->state[i] != SLOT_PRESENT) {
			i++;
			continue;
		}
		for (j = i + 1; j < b->count && b->state[j] == SLOT_PRESENT; j++)
			;
		if (!read_content(sc, ts, b, i, j))
			return false;
		i = j;
	}
	return true;
}

/*
 * Compare pagemap after the content read with before: a page that moved
 * (migration, KSM merge, copy-on-write break, reclaim) may have been read
 * from either frame, so its record is flagged rather than trusted.
 */
static bool check_moved(struct scanner *sc, struct task_scan *ts, struct batch *b)
{
	ssize_t n = mp_pagemap_read(ts->pagemap_fd, b->start, b->again, b->count);

	if (n <= 0) {
		mark_gone(sc, ts);
		return false;
	}
	memset(b->again + n, 0, (b->count - (size_t)n) * sizeof(uint64_t));
	for (size_t i = 0; i < b->count; i++) {
		uint64_t before = b->pm[i], after = b->again[i];

		b->pfns[i] = 0;
		b->moved[i] = false;
		if (b->state[i] != SLOT_READ)
			continue;
		b->pfns[i] = before & MP_PM_PFN_MASK;
		b->moved[i] = !(after & MP_PM_PRESENT) ||
			      (after & MP_PM_PFN_MASK) != (before & MP_PM_PFN_MASK);
	}
	return true;
}

static uint32_t page_flags(struct scanner *sc, struct task_scan *ts, uint64_t pfn,
			   uint64_t kflags, bool zero)
{
	uint32_t flags = 0;

	if (zero)
		flags |= MP_PAGE_ZERO_FILLED;
	if (sc->pfn_valid && pfn)
		flags |= MP_PAGE_PFN_VALID;
	if ((kflags & (1ull << MP_KPF_THP | 1ull << MP_KPF_HUGE)) ||
	    (ts->region_vm_flags & MP_VM_HUGETLB))
		flags |= MP_PAGE_HUGE;
	if ((ts->region_vm_flags & MP_VM_MERGEABLE) || (ts->task.flags & MP_TASK_KSM_MERGE_ANY))
		flags |= MP_PAGE_MERGEABLE;
	return flags;
}

static uint64_t fix_ksm_flag(const struct task_scan *ts, uint64_t kflags, uint64_t entry)
{
	const uint64_t ksm = 1ull << MP_KPF_KSM;

	if (!(kflags & (1ull << MP_KPF_ANON)) || ts->region_ksm == REGION_KSM_NONE)
		return kflags & ~ksm;
	if (ts->region_ksm == REGION_KSM_ALL || !(entry & MP_PM_EXCLUSIVE))
		return kflags | ksm;
	return kflags & ~ksm;
}

/* A present page with PFN 0: the kernel hides PFNs from us. */
static void note_hidden_pfn(struct scanner *sc)
{
	if (sc->warned_hidden)
		return;
	sc->warned_hidden = true;
	mp_scan_warn(sc->options,
		     "PFNs are hidden without CAP_SYS_ADMIN: shared-frame numbers are off");
}

/*
 * Hand the content of the batch's read pages to options->page_data, one
 * call per run of consecutive read slots; the records from first on are
 * theirs, in the same order.
 */
static int send_page_data(struct scanner *sc, struct batch *b, size_t first)
{
	size_t record = first, i = 0;

	while (i < b->count) {
		size_t j;
		int rc;

		if (b->state[i] != SLOT_READ) {
			i++;
			continue;
		}
		for (j = i + 1; j < b->count && b->state[j] == SLOT_READ; j++)
			;
		rc = sc->options->page_data(sc->options->page_data_ctx, sc->records + record,
					    sc->page_data + i * MP_PAGE_SIZE, j - i);
		if (rc < 0)
			return rc;
		record += j - i;
		i = j;
	}
	return 0;
}

static int emit_records(struct scanner *sc, struct task_scan *ts, struct batch *b)
{
	size_t first;
	int rc;

	if (sc->record_count + b->count > MP_SCAN_BATCH) {
		rc = flush_records(sc);
		if (rc < 0)
			return rc;
	}
	first = sc->record_count;
	for (size_t i = 0; i < b->count; i++) {
		struct mp_page *p;
		uint64_t kflags = b->kflags[i];

		if (b->state[i] != SLOT_READ)
			continue;
		if (!b->pfns[i] && sc->pfn_valid)
			note_hidden_pfn(sc);
		if (sc->set_flags & MP_SET_KPF_KSM_BROKEN)
			kflags = fix_ksm_flag(ts, kflags, b->pm[i]);

		p = &sc->records[sc->record_count++];
		memset(p, 0, sizeof(*p));
		p->task = ts->index;
		p->region = ts->region;
		p->index = (b->start >> MP_PAGE_SHIFT) + i;
		p->pagemap = b->pm[i] & MP_PM_FLAGS_MASK;
		p->flags = page_flags(sc, ts, b->pfns[i], kflags, b->zero[i]);
		if (p->flags & MP_PAGE_PFN_VALID) {
			p->pfn = b->pfns[i];
			p->kpageflags = kflags;
			p->mapcount = b->kcounts[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)b->kcounts[i];
		}
		if (b->moved[i]) {
			p->flags |= MP_PAGE_MOVED;
			ts->end.skipped[MP_SKIP_MOVED]++;
		}
		memcpy(p->digest, b->digests + i * MP_DIGEST_MAX, sc->digest_size);
		ts->end.pages++;
		sc->pages_done++;
	}
	return sc->page_data ? send_page_data(sc, b, first) : 0;
}

/* Scan the pages [start, start + count pages) of the current region. */
static int scan_batch(struct scanner *sc, struct task_scan *ts, uint64_t start, size_t count)
{
	struct batch *b = sc->batch;
	int rc;

	b->start = start;
	b->count = count;
	if (!read_entries(sc, ts, b) || !read_present(sc, ts, b) || !check_moved(sc, ts, b))
		return 0;
	if (sc->pfn_valid) {
		for (size_t i = 0; i < b->count; i++)
			b->exclusive[i] = b->pm[i] & MP_PM_EXCLUSIVE;
		rc = mp_kpage_lookup_mapped(&sc->kpage, b->pfns, b->count, b->exclusive,
					    b->kflags, b->kcounts);
		if (rc < 0)
			return mp_fail_errno(sc->error, rc, "cannot read /proc/kpageflags");
	} else {
		memset(b->kflags, 0, sizeof(b->kflags));
		memset(b->kcounts, 0, sizeof(b->kcounts));
	}
	return emit_records(sc, ts, b);
}

/* ------------------------------------------------------------ one region */

/* Count the present, swapped and guard pages of a range that is not read. */
static uint64_t count_unread(struct scanner *sc, struct task_scan *ts, uint64_t start,
			     uint64_t end)
{
	struct mp_pm_range range;
	uint64_t pages = 0;

	mp_pm_scanner_start(&ts->ranges, start, end, false);
	while (mp_pm_scanner_next(&ts->ranges, &range) > 0) {
		for (uint64_t a = range.start; a < range.end; a += MP_SCAN_BATCH * MP_PAGE_SIZE) {
			size_t n = (size_t)((range.end - a) >> MP_PAGE_SHIFT);
			ssize_t got;

			n = n > MP_SCAN_BATCH ? MP_SCAN_BATCH : n;
			got = mp_pagemap_read(ts->pagemap_fd, a, sc->batch->pm, n);
			for (ssize_t i = 0; i < got; i++)
				if (sc->batch->pm[i] & (MP_PM_PRESENT | MP_PM_SWAPPED | MP_PM_GUARD))
					pages++;
		}
	}
	return pages;
}

/* Return the reason the pages of a region are not read, or MP_SKIP_COUNT to read them. */
static enum mp_skip_reason skip_reason(const struct mp_maps_entry *e)
{
	if (e->vsyscall)
		return MP_SKIP_VSYSCALL;
	if (e->region.vm_flags & (MP_VM_IO | MP_VM_PFNMAP))
		return MP_SKIP_IO_PFNMAP;
	if (!(e->region.prot & MP_PROT_READ))
		return MP_SKIP_PROT_NONE;
	return MP_SKIP_COUNT;
}

/* Whether smaps' Rss says that at least half of the area is resident. */
static bool is_dense(const struct mp_maps_entry *e)
{
	return (e->region.vm_flags & MP_VM_SMAPS) &&
	       e->rss_bytes * 2 >= e->region.end - e->region.start;
}

static int scan_region(struct scanner *sc, struct task_scan *ts, const struct mp_maps_entry *e)
{
	enum mp_skip_reason reason = skip_reason(e);
	const struct mp_region *r = &e->region;
	struct mp_pm_range range;
	int rc = 0;

	/* [vsyscall] is outside the page tables that pagemap walks. */
	if (reason == MP_SKIP_VSYSCALL) {
		ts->end.skipped[reason] += (r->end - r->start) >> MP_PAGE_SHIFT;
		return 0;
	}
	if (reason != MP_SKIP_COUNT) {
		ts->end.skipped[reason] += count_unread(sc, ts, r->start, r->end);
		return 0;
	}

	mp_pm_scanner_start(&ts->ranges, r->start, r->end, is_dense(e));
	while (!ts->gone && (rc = mp_pm_scanner_next(&ts->ranges, &range)) > 0) {
		for (uint64_t a = range.start; a < range.end && !ts->gone;
		     a += MP_SCAN_BATCH * MP_PAGE_SIZE) {
			size_t n = (size_t)((range.end - a) >> MP_PAGE_SHIFT);

			rc = scan_batch(sc, ts, a, n > MP_SCAN_BATCH ? MP_SCAN_BATCH : n);
			if (rc < 0)
				return rc;
		}
		report_progress(sc);
	}
	if (rc < 0 && !ts->gone)
		check_alive(sc, ts);
	return 0;
}

static int send_region(struct scanner *sc, struct task_scan *ts, struct mp_maps_entry *e)
{
	int rc = flush_records(sc);

	if (rc < 0)
		return rc;
	e->region.task = ts->index;
	ts->region = sc->regions++;
	ts->region_vm_flags = e->region.vm_flags;
	ts->region_ksm = !e->has_ksm || e->ksm_bytes == 0 ? REGION_KSM_NONE :
			 e->ksm_bytes >= e->anon_bytes ? REGION_KSM_ALL : REGION_KSM_SOME;
	if (sc->sink->ops->region) {
		rc = sc->sink->ops->region(sc->sink->ctx, &e->region);
		if (rc < 0)
			return rc;
	}
	return scan_region(sc, ts, e);
}

/* ------------------------------------------------------------- one task */

static int open_task_file(struct scanner *sc, pid_t pid, const char *name)
{
	char path[4096];

	int fd;

	if (mp_sysroot_path(path, sizeof(path), sc->sysroot, "/proc/%d/%s", (int)pid, name) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Open what the task is read through.  pagemap and mem are opened before
 * maps is read: both pin the mm they were opened on, so an exec later
 * shows as reads of nothing rather than as pages of the new program.
 */
static int open_task(struct scanner *sc, struct task_scan *ts)
{
	int rc;

	rc = mp_proc_read_task(sc->sysroot, ts->pid, &ts->task, &ts->stat);
	if (rc < 0)
		return rc;
	ts->pagemap_fd = open_task_file(sc, ts->pid, "pagemap");
	if (ts->pagemap_fd < 0)
		return ts->pagemap_fd;
	ts->mem_fd = open_task_file(sc, ts->pid, "mem");
	if (ts->mem_fd < 0)
		return ts->mem_fd;
	return mp_pm_scanner_init(&ts->ranges, ts->pagemap_fd, sc->options->no_pagemap_scan);
}

static void close_task(struct task_scan *ts)
{
	if (ts->pagemap_fd >= 0)
		close(ts->pagemap_fd);
	if (ts->mem_fd >= 0)
		close(ts->mem_fd);
	mp_pm_scanner_free(&ts->ranges);
}

/* smaps could not be read: the task is gone, or it failed. */
static void smaps_failed(struct scanner *sc, struct task_scan *ts, int rc)
{
	check_alive(sc, ts);
	if (ts->gone)
		return;
	ts->end.status = MP_TASK_FAILED;
	mp_scan_warn(sc->options, "pid %d (%s): cannot read smaps: %s", (int)ts->pid,
		     ts->task.comm, strerror(-rc));
}

/* Send and scan each area; only a failure of the sink or of kpageflags is returned. */
static int scan_areas(struct scanner *sc, struct task_scan *ts)
{
	struct mp_maps_reader maps;
	struct mp_maps_entry entry;
	int rc;

	rc = mp_maps_open(&maps, sc->sysroot, ts->pid, true);
	if (rc < 0) {
		smaps_failed(sc, ts, rc);
		return 0;
	}
	while (!ts->gone && (rc = mp_maps_next(&maps, &entry)) > 0) {
		int sent = send_region(sc, ts, &entry);

		if (sent < 0) {
			mp_maps_close(&maps);
			return sent;
		}
	}
	mp_maps_close(&maps);
	if (rc < 0 && !ts->gone)
		smaps_failed(sc, ts, rc);
	return 0;
}

static int send_task_end(struct scanner *sc, struct task_scan *ts)
{
	int rc = flush_records(sc);

	if (rc < 0)
		return rc;
	sc->tasks_done++;
	report_progress(sc);
	return sc->sink->ops->task_end ? sc->sink->ops->task_end(sc->sink->ctx, &ts->end) : 0;
}

static void warn_open_failed(struct scanner *sc, struct task_scan *ts, int rc)
{
	if (rc == -ENOENT || rc == -ESRCH) {
		ts->end.status = MP_TASK_EXITED;
		mp_scan_warn(sc->options, "pid %d exited before it was read", (int)ts->pid);
		return;
	}
	ts->end.status = MP_TASK_FAILED;
	if (rc == -EACCES || rc == -EPERM)
		mp_scan_warn(sc->options, "pid %d (%s): cannot open its /proc files: %s; its "
			     "pages are left out, the task is reported as failed (run as root; a "
			     "process of another user namespace or one a security module protects "
			     "stays unreadable)", (int)ts->pid, ts->task.comm, strerror(-rc));
	else
		mp_scan_warn(sc->options, "pid %d (%s): cannot open its /proc files: %s; its "
			     "pages are left out, the task is reported as failed", (int)ts->pid,
			     ts->task.comm, strerror(-rc));
}

static int scan_task(struct scanner *sc, pid_t pid, uint32_t index)
{
	struct task_scan ts = { .pid = pid, .index = index, .mem_fd = -1, .pagemap_fd = -1 };
	int rc, open_rc;

	ts.end.task = index;
	open_rc = open_task(sc, &ts);
	if (open_rc == -ENOMEM)
		return mp_fail(sc->error, open_rc, "cannot scan pid %d: out of memory", (int)pid);
	ts.task.pid = pid;
	if (sc->sink->ops->task) {
		rc = sc->sink->ops->task(sc->sink->ctx, &ts.task);
		if (rc < 0)
			goto out;
	}
	if (open_rc < 0)
		warn_open_failed(sc, &ts, open_rc);
	else {
		rc = scan_areas(sc, &ts);
		if (rc < 0)
			goto out;
		check_alive(sc, &ts);
	}
	if (ts.end.status != MP_TASK_COMPLETE)
		sc->partial = true;
	rc = send_task_end(sc, &ts);
out:
	close_task(&ts);
	return rc;
}

/* -------------------------------------------------------------- probing */

/*
 * Read the PFN and kpageflags of a private page of our own.  PFN 0 means
 * the kernel hides PFNs (no CAP_SYS_ADMIN).  KPF_KSM on it means the
 * kernel sets that flag on plain anonymous pages, as Debian's 6.12.118
 * does (6.1 and 6.18 do not): a private page we never marked mergeable
 * cannot be a KSM page.
 */
static void probe_kernel(struct scanner *sc)
{
	char path[4096];
	uint64_t entry = 0, pfn, kflags = 0, kcount = 0;
	volatile char *page;
	int fd;

	page = mmap(NULL, MP_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return;
	page[0] = 1;
	if (mp_sysroot_path(path, sizeof(path), sc->sysroot, "/proc/self/pagemap") == 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		mp_pagemap_read(fd, (uint64_t)(uintptr_t)page, &entry, 1);
		close(fd);
	}
	pfn = entry & MP_PM_PFN_MASK;
	if ((entry & MP_PM_PRESENT) && pfn && sc->kpage.flags_fd >= 0 && sc->kpage.count_fd >= 0) {
		sc->pfn_valid = true;
		if (mp_kpage_lookup(&sc->kpage, &pfn, 1, &kflags, &kcount) == 0 &&
		    (kflags & (1ull << MP_KPF_KSM)) && (kflags & (1ull << MP_KPF_ANON))) {
			sc->set_flags |= MP_SET_KPF_KSM_BROKEN;
			mp_scan_warn(sc->options, "this kernel sets KPF_KSM on every anonymous page: "
				     "KSM pages are estimated from the KSM: field of smaps");
		}
	} else if ((entry & MP_PM_PRESENT) && pfn) {
		mp_scan_warn(sc->options, "cannot read /proc/kpageflags or /proc/kpagecount: page "
			     "flags and shared-frame numbers are off");
	} else {
		note_hidden_pfn(sc);
	}
	munmap((void *)page, MP_PAGE_SIZE);
	if (sc->pfn_valid)
		sc->set_flags |= MP_SET_PFN_VALID;
}

/* ------------------------------------------------------------- the set */

static int open_scanner(struct scanner *sc, const struct mp_scan_options *options,
			const struct mp_sink *sink, struct mp_error *error)
{
	enum mp_hash_id id = options->hash ? options->hash : MP_HASH_DEFAULT;
	int rc;

	memset(sc, 0, sizeof(*sc));
	sc->options = options;
	sc->sysroot = options->sysroot;
	sc->sink = sink;
	sc->error = error;
	sc->kpage.flags_fd = sc->kpage.count_fd = -1;
	rc = mp_hash_open(&sc->hash, id, options->hash_key, options->hash_key_size, error);
	if (rc < 0)
		return rc;
	sc->digest_size = mp_hash_digest_size(id);
	if (options->hash_key)
		sc->set_flags |= MP_SET_KEYED_HASH;

	rc = mp_kpage_open(&sc->kpage, sc->sysroot);
	sc->batch = malloc(sizeof(*sc->batch));
	sc->records = malloc(MP_SCAN_BATCH * sizeof(*sc->records));
	sc->content = mmap(NULL, MP_SCAN_READ * MP_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sc->content == MAP_FAILED)
		sc->content = NULL;
	if (options->page_data) {
		sc->page_data = mmap(NULL, MP_SCAN_BATCH * MP_PAGE_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sc->page_data == MAP_FAILED)
			sc->page_data = NULL;
		if (!sc->page_data)
			rc = -ENOMEM;
	}
	if (rc < 0 || !sc->batch || !sc->records || !sc->content)
		return mp_fail(error, -ENOMEM, "cannot start a procfs scan: out of memory");
	return 0;
}

static void close_scanner(struct scanner *sc)
{
	if (sc->hash)
		mp_hash_close(sc->hash);
	mp_kpage_close(&sc->kpage);
	free(sc->batch);
	free(sc->records);
	if (sc->content)
		munmap(sc->content, MP_SCAN_READ * MP_PAGE_SIZE);
	if (sc->page_data)
		munmap(sc->page_data, MP_SCAN_BATCH * MP_PAGE_SIZE);
}

static void fill_set_info(struct scanner *sc, struct mp_set_info *info)
{
	mp_set_info_begin(info, MP_SOURCE_PROCFS, sc->sysroot);
	info->hash = mp_hash_id(sc->hash);
	info->digest_size = (uint32_t)sc->digest_size;
	info->flags = sc->set_flags;
}

/* Scan every task; a task that fails is recorded as such, a sink failure ends the set. */
static int scan_tasks(struct scanner *sc, const pid_t *pids, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		int rc = scan_task(sc, pids[i], (uint32_t)i);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int run_set(struct scanner *sc, const pid_t *pids, size_t count)
{
	const struct mp_sink_ops *ops = sc->sink->ops;
	struct mp_set_info info;
	struct mp_set_end end;
	int rc;

	fill_set_info(sc, &info);
	if (ops->begin_set) {
		rc = ops->begin_set(sc->sink->ctx, &info);
		if (rc < 0)
			return rc;
	}
	rc = scan_tasks(sc, pids, count);
	if (rc < 0)
		return rc;

	memset(&end, 0, sizeof(end));
	end.duration_ns = (uint64_t)(mp_clock_ns(CLOCK_MONOTONIC) - info.monotonic_ns);
	if (sc->partial)
		end.flags |= MP_SET_END_PARTIAL;
	mp_ksm_read_counters(sc->sysroot, &end.ksm, NULL);
	return ops->end_set ? ops->end_set(sc->sink->ctx, &end) : 0;
}

int mp_procfs_scan(const pid_t *pids, size_t count, const struct mp_scan_options *options,
		   const struct mp_sink *sink, struct mp_error *error)
{
	struct mp_freeze *freeze = NULL;
	struct scanner sc;
	int rc;

	mp_error_clear(error);
	if (!options || !sink || !sink->ops || (count && !pids))
		return mp_fail(error, -EINVAL, "cannot start a procfs scan: invalid arguments");
	rc = open_scanner(&sc, options, sink, error);
	if (rc < 0)
		goto out;
	sc.tasks_total = count;
	probe_kernel(&sc);

	if (options->freeze) {
		rc = mp_freeze_start(&freeze, pids, count, sc.sysroot, options->warn,
				     options->warn_ctx, error);
		if (rc < 0)
			goto out;
		sc.set_flags |= MP_SET_FROZEN;
	}
	rc = run_set(&sc, pids, count);
	if (rc < 0 && error && !error->code) {
		if (sink->error && sink->error->message[0])
			mp_fail(error, rc, "%s", sink->error->message);
		else
			mp_fail(error, rc, "snapshot sink failed: %s", mp_strerror(rc));
	}
out:
	mp_freeze_end(freeze);
	close_scanner(&sc);
	return rc;
}
