/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memprint_kmod.h - shared by the parts of memprint.ko
 */
#ifndef MEMPRINT_KMOD_H
#define MEMPRINT_KMOD_H

#include <linux/mm_types.h>
#include <linux/path.h>
#include <linux/types.h>

#include "memprint_uapi.h"

#define MPK_BATCH		512	/* page records one scan step produces at most */
#define MPK_OUT_SIZE		(256 * 1024)	/* response buffer: one step fits */
#define MPK_NO_REGION		0xffffffffu
#define MPK_MAX_RANGES		256	/* System RAM ranges a physical scan keeps */

/* Values shared with libmemprint (include/memprint.h). */
enum mpk_skip_reason {
	MPK_SKIP_IO_PFNMAP,
	MPK_SKIP_PROT_NONE,
	MPK_SKIP_VSYSCALL,
	MPK_SKIP_SWAPPED,
	MPK_SKIP_UNREADABLE,
	MPK_SKIP_MOVED,
};

enum mpk_task_status {
	MPK_TASK_COMPLETE,
	MPK_TASK_EXITED,
	MPK_TASK_EXECED,
	MPK_TASK_FAILED,
};

#define MPK_PM_SOFT_DIRTY	(1ull << 55)
#define MPK_PM_EXCLUSIVE	(1ull << 56)
#define MPK_PM_UFFD_WP		(1ull << 57)
#define MPK_PM_FILE_SHARED	(1ull << 61)
#define MPK_PM_SWAPPED		(1ull << 62)
#define MPK_PM_PRESENT		(1ull << 63)

/* ------------------------------------------------------------- output */

/* The response of the current request, produced one scan step at a time. */
struct mpk_out {
	char *buf;
	size_t size;
	size_t head;		/* bytes already copied to user space */
	size_t tail;		/* bytes produced */
	bool text;
	u32 records;
};

int mpk_out_init(struct mpk_out *out);
void mpk_out_free(struct mpk_out *out);
void mpk_out_reset(struct mpk_out *out, bool text);

void mpk_emit_task(struct mpk_out *out, struct memprint_rec_task *rec);
void mpk_emit_region(struct mpk_out *out, struct memprint_rec_region *rec,
		     const char *path, u32 path_size);
void mpk_emit_file(struct mpk_out *out, struct memprint_rec_file *rec,
		   const char *path, u32 path_size);
void mpk_emit_page(struct mpk_out *out, struct memprint_rec_page *rec,
		   unsigned int digest_size);
void mpk_emit_task_end(struct mpk_out *out,
		       struct memprint_rec_task_end *rec);
void mpk_emit_physical_end(struct mpk_out *out,
			   struct memprint_rec_physical_end *rec);
void mpk_emit_end(struct mpk_out *out, int error);

/* ------------------------------------------------------------- hashes */

struct crypto_shash;

struct mpk_hasher {
	u32 id;			/* enum memprint_hash */
	unsigned int size;	/* digest bytes */
	struct crypto_shash *tfm;	/* md5, sha1, sha256 */
};

int mpk_hasher_init(struct mpk_hasher *hasher, u32 id);
void mpk_hasher_free(struct mpk_hasher *hasher);
/* Hash one 4 KiB page; returns true when every byte of it is 0. */
bool mpk_hash_page(const struct mpk_hasher *hasher, const void *data,
		   u8 *digest);

/* ---------------------------------------------------------- page facts */

u64 mpk_kpageflags(struct page *page);
u32 mpk_kpagecount(struct page *page);

struct mpk_session;

/* The huge zero folio's PFN once a task scan met it, else ~0ul. */
extern unsigned long mpk_huge_zero_pfn;

/*
 * Fill the kpageflags, mapcount and digest of rec from page, which the
 * caller holds a reference on (or the zero page).
 */
void mpk_fill_page(struct mpk_session *session, struct page *page,
		   struct memprint_rec_page *rec);

struct vm_area_struct;

/* Describe vma as maps does; path points into buf or at a constant name. */
void mpk_describe_region(struct vm_area_struct *vma,
			 struct memprint_rec_region *rec, char *buf,
			 const char **path, u32 *path_size);

/* --------------------------------------------------------------- scans */

struct mpk_task_entry {
	struct page *page;	/* NULL for an absent entry */
	u64 index;
	u64 pfn;
	u64 pagemap;
	u32 flags;
	bool referenced;	/* a page reference to drop */
};

struct mpk_task_scan {
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned long addr;
	unsigned long end;
	unsigned long region_end;	/* end of the last region sent */
	u32 region;			/* number of the last region sent */
	u32 regions;
	bool absent;			/* MEMPRINT_OPT_ABSENT */
	bool merge_any;			/* prctl(PR_SET_MEMORY_MERGE) */
	bool mergeable;			/* the current region's pages */
	struct memprint_rec_task_end result;
	struct mpk_task_entry *entries;
	unsigned int count;
	char *path_buf;
};

struct mpk_ram_range {
	unsigned long start_pfn;
	unsigned long end_pfn;		/* exclusive */
};

struct mpk_physical_scan {
	struct mpk_ram_range *ranges;
	unsigned int range_count;
	unsigned int range;
	unsigned long pfn;
	unsigned long start_pfn, end_pfn;	/* the requested limits */
	struct memprint_rec_physical_end result;
};

struct mpk_cache_scan {
	struct path path;		/* keeps the file or mount alive */
	bool whole_mount;
	struct inode *inode;		/* the file being scanned, referenced */
	pgoff_t index;			/* next page of it */
	u32 file;			/* number of the current file record */
	u32 files;
	bool file_done;
	char *path_buf;
};

struct mpk_session {
	struct mutex lock;		/* serialises ioctl and read on the file */
	struct mpk_out out;
	struct memprint_request request;
	struct mpk_hasher hasher;
	bool active;			/* a request's response is being produced */
	int (*step)(struct mpk_session *session);
	void (*cleanup)(struct mpk_session *session);
	union {
		struct mpk_task_scan task;
		struct mpk_physical_scan physical;
		struct mpk_cache_scan cache;
	};
};

/*
 * Each scan: start validates the request and takes what it needs; step
 * produces at most MPK_BATCH page records and returns 0 to be called again,
 * 1 when done, or a negative errno value; cleanup frees everything, also
 * after an interrupted scan.
 */
int mpk_task_start(struct mpk_session *session);
void mpk_task_drop_entries(struct mpk_task_scan *ts);
int mpk_physical_start(struct mpk_session *session);
int mpk_cache_start(struct mpk_session *session);

#endif /* MEMPRINT_KMOD_H */
