/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR LGPL-2.1-or-later */
/*
 * memprint_uapi.h - the whole contract between memprint.ko and user space
 *
 * Protocol: open /dev/memprint (CAP_SYS_ADMIN, one open file at a time,
 * else -EBUSY), issue MEMPRINT_IOC_SCAN with a struct memprint_request,
 * then read() the response until read() returns 0.  A new request may follow
 * on the same file.  The response is a byte stream of records in binary
 * (native byte order, 8-byte aligned, each starting with a struct
 * memprint_rec_header) or, with MEMPRINT_OPT_TEXT, lines for humans.  A
 * read() may end in the middle of a record; the next read() continues it.
 *
 * The record fields are those of the page, task, region and file records
 * of libmemprint (include/memprint.h), so that user space turns them into
 * the same sink calls as its procfs backend.
 */
#ifndef MEMPRINT_UAPI_H
#define MEMPRINT_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MEMPRINT_DEVICE_NAME	"memprint"	/* /dev/memprint */
#define MEMPRINT_ABI_VERSION	1

/* What a request scans (struct memprint_request.target). */
enum memprint_target {
	MEMPRINT_TARGET_TASK = 1,	/* the address space of one pid */
	MEMPRINT_TARGET_PHYSICAL = 2,	/* every online page of System RAM */
	MEMPRINT_TARGET_PAGECACHE = 3,	/* cached pages of one file or mount */
};

/*
 * Hash algorithms (struct memprint_request.hash); the numbers are those of
 * enum mp_hash_id.  xxh3 and xxh128 are not in the kernel: -EOPNOTSUPP.
 */
enum memprint_hash {
	MEMPRINT_HASH_PATTERN = 1,
	MEMPRINT_HASH_SUPERFAST = 2,
	MEMPRINT_HASH_CRC32 = 3,
	MEMPRINT_HASH_CRC32EX = 4,
	MEMPRINT_HASH_CRC32C = 5,
	MEMPRINT_HASH_MD5 = 6,
	MEMPRINT_HASH_SHA1 = 7,
	MEMPRINT_HASH_SHA256 = 8,
	MEMPRINT_HASH_XXH64 = 9,
};

/* Request options (struct memprint_request.options). */
#define MEMPRINT_OPT_ABSENT	(1u << 0)	/* records for swap entries too */
#define MEMPRINT_OPT_TEXT	(1u << 1)	/* text lines, not binary records */
#define MEMPRINT_OPT_MOUNT	(1u << 2)	/* page cache: the whole mount */
#define MEMPRINT_OPT_NO_DIGEST	(1u << 3)	/* page-table facts only */
#define MEMPRINT_OPT_ALL	0xfu

/* One scan request, passed to MEMPRINT_IOC_SCAN. */
struct memprint_request {
	__u32 size;		/* sizeof(struct memprint_request) */
	__u32 target;		/* enum memprint_target */
	__u32 hash;		/* enum memprint_hash */
	__u32 options;		/* MEMPRINT_OPT_* */
	__s32 pid;		/* task: the target pid (in the caller's pid namespace) */
	__s32 fd;		/* page cache: an open file, or -1 to use path */
	__u64 path;		/* page cache: user pointer to a NUL-terminated path */
	__u64 start;		/* task: first address; physical: first PFN */
	__u64 end;		/* exclusive; 0 for no limit */
};

#define MEMPRINT_IOC_MAGIC	0xb7
#define MEMPRINT_IOC_SCAN	_IOW(MEMPRINT_IOC_MAGIC, 1, struct memprint_request)
/* Returns MEMPRINT_ABI_VERSION. */
#define MEMPRINT_IOC_VERSION	_IO(MEMPRINT_IOC_MAGIC, 2)

/* Record types (struct memprint_rec_header.type). */
enum memprint_rec_type {
	MEMPRINT_REC_TASK = 1,
	MEMPRINT_REC_REGION = 2,
	MEMPRINT_REC_FILE = 3,
	MEMPRINT_REC_PAGE = 4,
	MEMPRINT_REC_TASK_END = 5,
	MEMPRINT_REC_PHYSICAL_END = 6,
	MEMPRINT_REC_END = 7,
};

/* The start of every binary record. */
struct memprint_rec_header {
	__u16 type;		/* enum memprint_rec_type */
	__u16 reserved;		/* 0 */
	__u32 size;		/* bytes of the record, header and path included,
				 * a multiple of 8 */
};

/* Task flags (struct memprint_rec_task.flags), as MP_TASK_*. */
#define MEMPRINT_TASK_KSM_MERGE_ANY	(1u << 0)
#define MEMPRINT_TASK_KERNEL_THREAD	(1u << 1)

/* The task of a task scan: first record of its response. */
struct memprint_rec_task {
	struct memprint_rec_header header;
	__s32 pid;
	__s32 ppid;
	__u32 uid;		/* real uid, in the caller's user namespace */
	__u32 flags;		/* MEMPRINT_TASK_* */
	char comm[16];		/* NUL-padded */
	__u32 ksm_valid;	/* 1 when the ksm_* fields are filled */
	__u32 reserved;
	__u64 ksm_rmap_items;	/* mm->ksm_rmap_items */
	__u64 ksm_zero_pages;	/* mm->ksm_zero_pages (Linux 6.10+), else 0 */
	__u64 ksm_merging_pages;/* mm->ksm_merging_pages */
	__s64 ksm_process_profit;/* bytes, as /proc/PID/ksm_stat computes it */
};

/* Region kinds (struct memprint_rec_region.kind), as enum mp_region_kind. */
/* Region protection bits, as MP_PROT_*; VmFlags, as MP_VM_*. */

/*
 * One VMA of the task, before the pages it maps.  Regions are numbered
 * from 0 in the order of their records within one response.
 */
struct memprint_rec_region {
	struct memprint_rec_header header;
	__u64 start;		/* virtual address */
	__u64 end;		/* exclusive */
	__u64 offset;		/* file offset in bytes */
	__u64 dev;		/* new_encode_dev() of the file's device */
	__u64 inode;
	__u32 kind;		/* MP_REGION_* */
	__u32 prot;		/* MP_PROT_* */
	__u32 vm_flags;		/* MP_VM_* */
	__u32 path_size;	/* bytes of path that follow, no NUL */
	/* path bytes follow, padded with NULs to a multiple of 8 */
};

/*
 * A file of a page-cache scan, before its pages.  Files are numbered from
 * 0 in the order of their records within one response.  The path is relative
 * to the root of the file system the file is on.
 */
struct memprint_rec_file {
	struct memprint_rec_header header;
	__u64 dev;		/* new_encode_dev() */
	__u64 inode;
	__u64 size;		/* i_size in bytes */
	__u32 flags;		/* 0 */
	__u32 path_size;
	/* path bytes follow, padded with NULs to a multiple of 8 */
};

/* Page flags (struct memprint_rec_page.flags), as MP_PAGE_*. */
#define MEMPRINT_PAGE_ZERO_FILLED	(1u << 0)
#define MEMPRINT_PAGE_HUGE		(1u << 1)
#define MEMPRINT_PAGE_PFN_VALID		(1u << 3)
#define MEMPRINT_PAGE_NO_DIGEST		(1u << 4)
#define MEMPRINT_PAGE_MERGEABLE		(1u << 5)

#define MEMPRINT_DIGEST_MAX	32

/*
 * One 4 KiB page.  index is the virtual page number (task), the page
 * offset in the file (page cache) or the PFN (physical).  region is the
 * number of the region or file record it belongs to, or 0xffffffff.
 */
struct memprint_rec_page {
	struct memprint_rec_header header;
	__u64 index;
	__u64 pfn;
	__u64 pagemap;		/* pagemap bits 55-63, the PFN bits zero */
	__u64 kpageflags;	/* the word /proc/kpageflags shows */
	__u32 mapcount;		/* the value /proc/kpagecount shows */
	__u32 flags;		/* MEMPRINT_PAGE_* */
	__u32 region;
	__u32 reserved;
	/* Physical scans only: the file a page-cache page belongs to. */
	__u64 file_dev;		/* new_encode_dev(), 0 when not a file page */
	__u64 file_inode;
	__u64 file_index;	/* page offset in that file */
	__u8 digest[MEMPRINT_DIGEST_MAX];	/* digest size bytes used */
};

/* Task end status, as enum mp_task_status. */
#define MEMPRINT_SKIP_COUNT	6	/* reasons, as enum mp_skip_reason */

/* The end of a task's response. */
struct memprint_rec_task_end {
	struct memprint_rec_header header;
	__u32 status;		/* MP_TASK_COMPLETE, MP_TASK_EXITED, ... */
	__u32 reserved;
	__u64 pages;		/* page records sent */
	__u64 skipped[MEMPRINT_SKIP_COUNT];	/* pages not recorded, by reason */
};

/*
 * The end of a physical scan: what each System RAM frame was.  Every frame
 * of the scanned ranges is counted once in exactly one of the counters
 * after ram_pages.
 */
struct memprint_rec_physical_end {
	struct memprint_rec_header header;
	__u64 ranges;		/* System RAM ranges scanned */
	__u64 ram_pages;	/* frames in those ranges */
	__u64 hashed;		/* frames recorded with a digest */
	__u64 offline;		/* not online (pfn_to_online_page() is NULL) */
	__u64 reserved;		/* PG_reserved */
	__u64 poisoned;		/* PG_hwpoison */
	__u64 buddy;		/* free, in the buddy allocator */
	__u64 page_offline;	/* PG_offline (ballooned, logically offline) */
	__u64 unreferenced;	/* reference count 0 outside the buddy lists:
				 * per-CPU free lists, or freed meanwhile */
	__u64 unmapped;		/* not in the kernel's direct map
				 * (memfd_secret), never read */
};

/* The last record of every binary response. */
struct memprint_rec_end {
	struct memprint_rec_header header;
	__s32 error;		/* 0, or the negative errno that ended the scan */
	__u32 records;		/* records sent before this one, mod 2^32 */
};

#endif /* MEMPRINT_UAPI_H */
