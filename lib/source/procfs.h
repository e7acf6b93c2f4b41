/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * procfs.h - private interface of the procfs snapshot backend
 *
 * The backend is split by what it reads: procfs_maps.c parses
 * /proc/PID/maps and smaps, procfs_task.c the per-task files (stat,
 * status, ksm_stat), procfs_kpage.c /proc/kpageflags and /proc/kpagecount,
 * procfs_pagemap.c pagemap and the PAGEMAP_SCAN ioctl, and procfs_scan.c
 * drives them and reads page content through /proc/PID/mem.
 */
#ifndef MEMPRINT_SOURCE_PROCFS_H
#define MEMPRINT_SOURCE_PROCFS_H

#include <stdio.h>

#include "internal.h"

/* Pages whose pagemap entries, kpageflags and records are handled together. */
#define MP_SCAN_BATCH 1024
/*
 * Pages of content per pread of /proc/PID/mem: 256 KiB stays in the L2
 * cache until the hash reads it, and is large enough that the syscall
 * costs little beside the copy.
 */
#define MP_SCAN_READ 64

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define MP_PM_PFN_MASK ((1ull << 55) - 1)

/* ------------------------------------------------------------ maps, smaps */

/* One area of /proc/PID/maps or smaps, with what smaps adds. */
struct mp_maps_entry {
	struct mp_region region;	/* task is left 0; path points into the reader */
	bool vsyscall;			/* [vsyscall]: not in the page tables */
	bool has_ksm;			/* smaps has a "KSM:" field (not on older kernels) */
	uint64_t ksm_bytes;		/* smaps "KSM:" */
	uint64_t rss_bytes;		/* smaps "Rss:" */
	uint64_t anon_bytes;		/* smaps "Anonymous:" */
};

struct mp_maps_reader {
	FILE *file;
	bool smaps;
	char *line, *next;		/* next: an smaps header read ahead */
	size_t line_size, next_size;
	bool has_next;
	char *path;			/* unescaped path of the current entry */
	size_t path_size;
};

/* Open SYSROOT/proc/PID/smaps (smaps true) or maps. */
int mp_maps_open(struct mp_maps_reader *reader, const char *sysroot, pid_t pid, bool smaps);
/* Read the next area: 1 when one was read, 0 at the end, negative errno on error. */
int mp_maps_next(struct mp_maps_reader *reader, struct mp_maps_entry *entry);
void mp_maps_close(struct mp_maps_reader *reader);

/*
 * Parse one maps header line (without its newline) into entry.  The path
 * is unescaped into *path (grown with realloc).  Returns 0 or -EINVAL.
 */
int mp_maps_parse_header(const char *line, struct mp_maps_entry *entry,
			 char **path, size_t *path_size);
/* Return the MP_VM_* bits of an smaps "VmFlags:" value. */
uint32_t mp_maps_parse_vmflags(const char *value);

/* ------------------------------------------------------------------ tasks */

/* The fields of /proc/PID/stat that the backend uses. */
struct mp_proc_stat {
	char state;
	pid_t ppid;
	uint64_t flags;			/* PF_* */
	uint64_t starttime;		/* clock ticks after boot */
	char comm[17];
};

#define MP_PF_KTHREAD 0x00200000u	/* include/linux/sched.h */

int mp_proc_read_stat(const char *sysroot, pid_t pid, struct mp_proc_stat *stat);
/* Fill task (pid, ppid, uid, comm, flags, ksm) from SYSROOT/proc/PID. */
int mp_proc_read_task(const char *sysroot, pid_t pid, struct mp_task *task,
		      struct mp_proc_stat *stat);
/* Parse ksm_stat text; sets *merge_any from "ksm_merge_any: yes" (newer kernels). */
void mp_proc_parse_ksm_stat(const char *text, struct mp_ksm_task_stat *stat, bool *merge_any);

/* ------------------------------------------------------ kpageflags, count */

struct mp_kpage {
	int flags_fd, count_fd;		/* -1 when not readable */
	struct mp_kpage_slot *sorted;	/* 2 * MP_SCAN_BATCH: sorted, then scratch */
	uint64_t *span;			/* one contiguous read */
};

int mp_kpage_open(struct mp_kpage *kpage, const char *sysroot);
void mp_kpage_close(struct mp_kpage *kpage);
/*
 * Look up count PFNs (0 entries are skipped): flags[i] and counts[i] get
 * the kpageflags word and kpagecount of pfns[i].  Reads each run of
 * nearby PFNs with one pread per file.  Returns 0 or negative errno.
 */
int mp_kpage_lookup(struct mp_kpage *kpage, const uint64_t *pfns, size_t count,
		    uint64_t *flags, uint64_t *counts);

/*
 * mp_kpage_lookup() for mapped pages.  exclusive (may be NULL) contains
 * pagemap's exclusive bit per page.  Such a page outside a large folio has
 * count 1 by definition, so its kpagecount is not read.
 */
int mp_kpage_lookup_mapped(struct mp_kpage *kpage, const uint64_t *pfns, size_t count,
			   const bool *exclusive, uint64_t *flags, uint64_t *counts);

/* ---------------------------------------------------------------- pagemap */

/*
 * Read count 64-bit words from word index first of fd (pagemap,
 * kpageflags, kpagecount).  Returns the words read, fewer at the end of
 * the file (0 for pagemap once the mm is gone), or negative errno.
 */
ssize_t mp_pread_words(int fd, uint64_t *words, size_t count, uint64_t first);

/*
 * Read count pagemap entries from the page at vaddr.  Entries past the
 * end of the file read as 0.  Returns the entries read (0 when the mm is
 * gone) or negative errno.
 */
ssize_t mp_pagemap_read(int fd, uint64_t vaddr, uint64_t *entries, size_t count);

/* A range of pages that may hold present or swapped pages. */
struct mp_pm_range {
	uint64_t start, end;
};

struct mp_pm_scanner {
	int fd;
	bool disabled;			/* PAGEMAP_SCAN not in this kernel */
	bool plain;			/* this walk: one range, no PAGEMAP_SCAN */
	uint64_t categories;		/* categories asked for */
	void *regions;			/* struct page_region[MP_PM_SCAN_REGIONS] */
	size_t count, next;		/* regions returned, next to hand out */
	uint64_t walk_end, end;
};

#define MP_PM_SCAN_REGIONS 512

int mp_pm_scanner_init(struct mp_pm_scanner *scanner, int fd, bool disabled);
void mp_pm_scanner_free(struct mp_pm_scanner *scanner);
/*
 * Start walking [start, end).  dense: most pages are expected present, so
 * PAGEMAP_SCAN would find no holes worth its own page-table walk, and the
 * walk is handed out as one range.
 */
void mp_pm_scanner_start(struct mp_pm_scanner *scanner, uint64_t start, uint64_t end,
			 bool dense);
/*
 * Hand out the next range that contains present, swapped or guard pages,
 * with adjacent ranges merged.  Without PAGEMAP_SCAN, the whole walk is one range.
 * Returns 1, 0 at the end, or negative errno.
 */
int mp_pm_scanner_next(struct mp_pm_scanner *scanner, struct mp_pm_range *range);

/* ------------------------------------------------------------------ freeze */

/* The cgroup2 mount point from /proc/self/mountinfo; "/sys/fs/cgroup" if none is listed. */
void mp_cgroup2_mount(const char *sysroot, char *mount, size_t size);

struct mp_freeze;

/*
 * Stop pids for a scan: through the cgroup v2 freezer when they are the
 * only processes of one cgroup that does not hold the caller, else with
 * SIGSTOP, waiting until each one is stopped.  warn may be NULL.
 */
int mp_freeze_start(struct mp_freeze **freeze, const pid_t *pids, size_t count,
		    const char *sysroot, void (*warn)(void *, const char *), void *warn_ctx,
		    struct mp_error *error);
/* Resume what mp_freeze_start() stopped and free it. */
void mp_freeze_end(struct mp_freeze *freeze);

#endif /* MEMPRINT_SOURCE_PROCFS_H */
