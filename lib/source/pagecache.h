/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagecache.h - private interface of the user-space page-cache scan
 *
 * pagecache_mounts.c reads /proc/self/mountinfo and decides which file
 * systems hold page cache worth scanning, pagecache_walk.c walks the trees
 * and drives the scan, pagecache_file.c finds and reads the resident pages
 * of one file without I/O.
 */
#ifndef MEMPRINT_SOURCE_PAGECACHE_H
#define MEMPRINT_SOURCE_PAGECACHE_H

#include <sys/stat.h>

#include "internal.h"
#include "source/procfs.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451		/* Linux 6.5, the same number on every architecture */
#endif

/* Pages of a file mapped, checked with mincore and read per window: 64 MiB. */
#define MP_PC_WINDOW_PAGES 16384

/* ------------------------------------------------------------------ mounts */

struct mp_pc_mount {
	uint64_t dev;			/* makedev(major, minor) from mountinfo */
	char *root;			/* the mount's root within its file system */
	char *point;			/* mount point, unescaped */
	char *fstype;
};

struct mp_pc_mounts {
	struct mp_pc_mount *mounts;
	size_t count;
};

/*
 * Read SYSROOT/proc/self/mountinfo.  Returns 0 or a negative errno value;
 * free the table with mp_pc_mounts_free() either way.
 */
int mp_pc_mounts_read(const char *sysroot, struct mp_pc_mounts *mounts);
/* Parse mountinfo text into mounts (appending).  Returns 0, -EINVAL or -ENOMEM. */
int mp_pc_mounts_parse(const char *text, struct mp_pc_mounts *mounts);
void mp_pc_mounts_free(struct mp_pc_mounts *mounts);

/* The mount of dev, or NULL; the last one listed wins, as it hides earlier ones. */
const struct mp_pc_mount *mp_pc_mounts_find(const struct mp_pc_mounts *mounts, uint64_t dev);

/*
 * Whether a file system holds local page cache that a scan may read: tmpfs,
 * or one backed by a block device (major number not 0), or btrfs, zfs and
 * bcachefs, which report anonymous device numbers.  Pseudo file systems
 * (proc, sysfs, devtmpfs, cgroup, ...) and network ones are rejected.
 */
bool mp_pc_fstype_allowed(const char *fstype, uint64_t dev);
/* The same decision from a statfs f_type, for files outside every mount (memfd). */
bool mp_pc_magic_allowed(unsigned long magic);

/*
 * Pick the mount points a scan without paths walks: allowed file systems
 * (so never devtmpfs), not below /proc or /sys, not hidden by a later mount
 * on the same point, each device once.
 * *points is a malloc'd array of pointers into mounts.
 */
int mp_pc_mounts_select(const struct mp_pc_mounts *mounts, const char ***points, size_t *count);

/* ---------------------------------------------------------------- scanner */

/* The state of one scan, shared by the walker and the file reader. */
struct mp_pc_scan {
	const struct mp_scan_options *options;
	const struct mp_sink *sink;
	struct mp_error *error;
	struct mp_pagecache_stats *stats;
	struct mp_hash *hash;
	size_t digest_size;
	bool pfn_valid;			/* /proc/kpageflags is readable */
	bool has_cachestat;		/* cachestat(2) is in this kernel (6.5+) */
	bool cap_fowner;		/* the kernel reports residency of every file */
	uid_t euid;
	pid_t pid;			/* ours, for process_vm_readv(2) */
	int pagemap_fd;			/* /proc/self/pagemap */
	struct mp_kpage kpage;
	uint32_t next_file;		/* index of the next file record */
	unsigned warnings;

	/* Files already scanned, by (dev, inode): hard links, bind mounts. */
	uint64_t *seen;			/* pairs, 0/0 for an empty slot */
	size_t seen_slots, seen_count;

	/* Per-window buffers, MP_PC_WINDOW_PAGES entries each. */
	unsigned char *vec;		/* mincore */
	uint64_t *pm_before, *pm_after;	/* pagemap */
	uint32_t *resident;		/* window page numbers to read */
	struct mp_page *records;
	uint8_t *content;		/* MP_SCAN_BATCH pages */
	bool *zero;
	uint64_t *pfns, *kflags, *kcounts;
};

/* One file being scanned. */
struct mp_pc_file {
	int fd;
	const char *path;
	struct stat st;
	bool emitted;			/* file record handed to the sink */
	bool changed;			/* truncated or replaced during the scan */
	int64_t cached;			/* pages cachestat(2) counted, -1 when not known */
	uint32_t index;
};

/* Warn through the scan options (at most a few dozen times, then once more). */
void mp_pc_warn(struct mp_pc_scan *scan, const char *format, ...) MP_PRINTF(2, 3);

/* Hand the file record to the sink unless done; flags are MP_FILE_*. */
int mp_pc_emit_file(struct mp_pc_scan *scan, struct mp_pc_file *file, uint32_t flags);

/*
 * Whether the kernel reports this file's residency truthfully to us: since
 * Linux 5.2, mincore(2) tells the truth about a file page only to a caller
 * that owns the file or may write it (or has CAP_FOWNER), and cachestat(2)
 * rejects the others with EPERM.  Sets file->cached.
 */
bool mp_pc_residency_known(struct mp_pc_scan *scan, struct mp_pc_file *file);

/*
 * Record every resident page of an open regular file.  Returns 0 (also for
 * a file that changed under the scan, which is counted and warned about) or
 * a negative errno value that ends the scan (sink or memory failure).
 */
int mp_pc_scan_file(struct mp_pc_scan *scan, struct mp_pc_file *file);

#endif /* MEMPRINT_SOURCE_PAGECACHE_H */
