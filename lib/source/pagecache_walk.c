// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_walk.c - walk file trees and record their cached pages
 *
 * The walk never follows a symbolic link below the paths it was given, and
 * it opens nothing but regular files for reading.  Each entry is opened with
 * O_PATH, checked with fstat, and only then reopened through /proc/self/fd.
 * So a FIFO or device node swapped in after the directory was read is never
 * opened for I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "source/pagecache.h"
#include "source/source.h"

#define MAX_WARNINGS 50

void mp_pc_warn(struct mp_pc_scan *scan, const char *format, ...)
{
	char message[1024];
	va_list args;

	if (!scan->options->warn || scan->warnings > MAX_WARNINGS)
		return;
	if (scan->warnings++ == MAX_WARNINGS) {
		scan->options->warn(scan->options->warn_ctx,
				    "page cache: further warnings are not shown");
		return;
	}
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	scan->options->warn(scan->options->warn_ctx, message);
}

int mp_pc_emit_file(struct mp_pc_scan *scan, struct mp_pc_file *file, uint32_t flags)
{
	struct mp_file record = {
		.dev = file->st.st_dev,
		.inode = file->st.st_ino,
		.size = (uint64_t)file->st.st_size,
		.flags = flags,
		.path = file->path,
		.path_size = strlen(file->path),
	};

	if (file->emitted)
		return 0;
	file->emitted = true;
	file->index = scan->next_file++;
	if (!scan->sink->ops->file)
		return 0;
	return scan->sink->ops->file(scan->sink->ctx, &record);
}

/* ------------------------------------------------------- files seen once */

static size_t seen_slot(const struct mp_pc_scan *scan, uint64_t dev, uint64_t inode)
{
	uint64_t key = (dev * 0x9e3779b97f4a7c15ull) ^ (inode * 0xc2b2ae3d27d4eb4full);

	return (size_t)(key ^ (key >> 29)) & (scan->seen_slots - 1);
}

static bool seen_find(const struct mp_pc_scan *scan, uint64_t dev, uint64_t inode)
{
	if (!scan->seen_slots)
		return false;
	for (size_t i = seen_slot(scan, dev, inode);; i = (i + 1) & (scan->seen_slots - 1)) {
		uint64_t *pair = &scan->seen[2 * i];

		if (!pair[0] && !pair[1])
			return false;
		if (pair[0] == dev && pair[1] == inode)
			return true;
	}
}

static void seen_put(struct mp_pc_scan *scan, uint64_t dev, uint64_t inode)
{
	size_t i = seen_slot(scan, dev, inode);

	while (scan->seen[2 * i] || scan->seen[2 * i + 1])
		i = (i + 1) & (scan->seen_slots - 1);
	scan->seen[2 * i] = dev;
	scan->seen[2 * i + 1] = inode;
	scan->seen_count++;
}

/* Remember a scanned file; the table doubles when half full. */
static int seen_add(struct mp_pc_scan *scan, uint64_t dev, uint64_t inode)
{
	if (2 * (scan->seen_count + 1) > scan->seen_slots) {
		uint64_t *old = scan->seen;
		size_t old_slots = scan->seen_slots;

		scan->seen_slots = old_slots ? 2 * old_slots : 1024;
		scan->seen = calloc(scan->seen_slots, 2 * sizeof(uint64_t));
		if (!scan->seen) {
			scan->seen = old;
			scan->seen_slots = old_slots;
			return -ENOMEM;
		}
		scan->seen_count = 0;
		for (size_t i = 0; i < old_slots; i++) {
			if (old[2 * i] || old[2 * i + 1])
				seen_put(scan, old[2 * i], old[2 * i + 1]);
		}
		free(old);
	}
	seen_put(scan, dev, inode);
	return 0;
}

/* --------------------------------------------------------------- one file */

/* Whether a file system, found by its device in mountinfo or by its magic, may be read. */
static bool file_system_allowed(const struct mp_pc_mounts *mounts, uint64_t dev, int fd)
{
	const struct mp_pc_mount *mount = mp_pc_mounts_find(mounts, dev);
	struct statfs fs;

	if (mount)
		return mp_pc_fstype_allowed(mount->fstype, mount->dev);
	return fd >= 0 && fstatfs(fd, &fs) == 0 && mp_pc_magic_allowed((unsigned long)fs.f_type);
}

/*
 * Open a regular file for reading without ever opening anything else:
 * O_PATH, fstat (into *st), then a reopen through /proc/self/fd.  Returns
 * the fd, or -1 with *why set (0 when the entry is not a regular file or
 * changed).
 */
static int open_regular(const FTSENT *entry, const struct mp_pc_mounts *mounts,
			struct stat *st, int *why)
{
	int path_flags = O_PATH | O_CLOEXEC;
	char proc_path[64];
	int path_fd, fd;

	*why = 0;
	/* Only a path given on the command line may be a symlink (/proc/PID/fd/N). */
	if (entry->fts_level > 0)
		path_flags |= O_NOFOLLOW;
	path_fd = open(entry->fts_accpath, path_flags);
	if (path_fd < 0) {
		*why = errno;
		return -1;
	}
	if (fstat(path_fd, st) < 0 || !S_ISREG(st->st_mode) ||
	    st->st_dev != entry->fts_statp->st_dev || st->st_ino != entry->fts_statp->st_ino) {
		close(path_fd);
		return -1;
	}
	if (!file_system_allowed(mounts, st->st_dev, path_fd)) {
		close(path_fd);
		*why = EXDEV;
		return -1;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", path_fd);
	fd = open(proc_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		*why = errno;
	close(path_fd);
	return fd;
}

/* The path to record: the target of a /proc/PID/fd/N link given on the command line. */
static const char *record_path(const FTSENT *entry, char *buffer, size_t size)
{
	struct stat st;
	ssize_t n;

	if (entry->fts_level > 0 || strncmp(entry->fts_path, "/proc/", 6) ||
	    lstat(entry->fts_path, &st) < 0 || !S_ISLNK(st.st_mode))
		return entry->fts_path;
	n = readlink(entry->fts_path, buffer, size - 1);
	if (n <= 0)
		return entry->fts_path;
	buffer[n] = '\0';
	return buffer;
}

/* Scan one regular file the walk found. */
static int visit_file(struct mp_pc_scan *scan, const struct mp_pc_mounts *mounts,
		      const FTSENT *entry)
{
	struct mp_pc_file file = { .fd = -1 };
	char link[4096];
	bool unknown;
	int why, rc = 0;

	scan->stats->files++;
	/* A path given may be on proc, whose files all read as empty: check it first. */
	if (entry->fts_statp->st_size == 0 && entry->fts_level > 0)
		return 0;
	if (seen_find(scan, entry->fts_statp->st_dev, entry->fts_statp->st_ino))
		return 0;

	file.fd = open_regular(entry, mounts, &file.st, &why);
	if (file.fd < 0) {
		if (why == EXDEV) {
			scan->stats->files--;
			scan->stats->skipped_other_fs++;
			/* A file given by name, as a directory given by name is. */
			if (entry->fts_level == 0)
				mp_pc_warn(scan, "not a local disk or tmpfs file system, "
					   "skipped: %s", entry->fts_path);
		} else if (why) {
			scan->stats->files_unreadable++;
			mp_pc_warn(scan, "cannot open: %s: %s", entry->fts_path, strerror(why));
		} else {
			scan->stats->files_changed++;
		}
		return 0;
	}
	/* The reopened fd is the inode open_regular() checked: its fstat holds. */
	if (file.st.st_size == 0) {
		close(file.fd);
		return 0;
	}
	file.path = record_path(entry, link, sizeof(link));

	unknown = !mp_pc_residency_known(scan, &file);
	if (unknown) {
		scan->stats->files_unknown++;
		scan->stats->pages_unknown += ((uint64_t)file.st.st_size + MP_PAGE_SIZE - 1) /
					      MP_PAGE_SIZE;
		rc = mp_pc_emit_file(scan, &file, MP_FILE_UNKNOWN);
	} else {
		rc = mp_pc_scan_file(scan, &file);
	}
	if (rc >= 0 && file.emitted)
		rc = seen_add(scan, file.st.st_dev, file.st.st_ino);
	if (file.emitted && !unknown)
		scan->stats->files_cached++;
	if (file.changed) {
		scan->stats->files_changed++;
		mp_pc_warn(scan, "file changed during the scan: %s", file.path);
	}
	close(file.fd);
	return rc;
}

/* ------------------------------------------------------------- the walk */

/*
 * Decide whether to descend into a directory.  A scan of all mounts walks
 * each mount apart and so never crosses into another.  A scan of given
 * paths crosses into local disk-backed and tmpfs mounts only.
 */
static bool enter_directory(struct mp_pc_scan *scan, const struct mp_pc_mounts *mounts,
			    const FTSENT *entry, bool stay_on_mount)
{
	uint64_t dev = entry->fts_statp->st_dev;
	bool crossing = entry->fts_level > 0 && dev != entry->fts_parent->fts_statp->st_dev;

	if (entry->fts_level > 0 && !crossing)
		return true;
	if (crossing && stay_on_mount)
		return false;
	if (file_system_allowed(mounts, dev, -1))
		return true;
	scan->stats->skipped_other_fs++;
	if (entry->fts_level == 0)
		mp_pc_warn(scan, "not a local disk or tmpfs file system, skipped: %s",
			   entry->fts_path);
	return false;
}

static void count_skipped(struct mp_pc_scan *scan, const FTSENT *entry)
{
	switch (entry->fts_info) {
	case FTS_DNR:
		scan->stats->dirs_unreadable++;
		mp_pc_warn(scan, "cannot read directory: %s: %s", entry->fts_path,
			   strerror(entry->fts_errno));
		break;
	case FTS_NS:
	case FTS_ERR:
		scan->stats->files_unreadable++;
		mp_pc_warn(scan, "cannot stat: %s: %s", entry->fts_path,
			   strerror(entry->fts_errno));
		break;
	case FTS_SLNONE:
		if (entry->fts_level == 0)
			mp_pc_warn(scan, "cannot follow: %s: %s", entry->fts_path,
				   strerror(entry->fts_errno ? entry->fts_errno : ELOOP));
		scan->stats->skipped_special++;
		break;
	case FTS_SL:
	case FTS_DEFAULT:
		/* Symbolic links below the top, FIFOs, sockets, device nodes: never opened. */
		scan->stats->skipped_special++;
		break;
	default:
		break;
	}
}

static int walk(struct mp_pc_scan *scan, const struct mp_pc_mounts *mounts,
		const char *const *paths, bool stay_on_mount)
{
	FTS *fts;
	FTSENT *entry;
	int rc = 0;

	fts = fts_open((char *const *)paths, FTS_PHYSICAL | FTS_NOCHDIR | FTS_COMFOLLOW, NULL);
	if (!fts)
		return mp_fail_errno(scan->error, -errno, "cannot walk: %s", paths[0]);

	for (;;) {
		errno = 0;
		entry = fts_read(fts);
		if (!entry) {
			if (errno)
				rc = mp_fail_errno(scan->error, -errno, "cannot walk: %s",
						   paths[0]);
			break;
		}
		switch (entry->fts_info) {
		case FTS_D:
			if (!enter_directory(scan, mounts, entry, stay_on_mount))
				fts_set(fts, entry, FTS_SKIP);
			break;
		case FTS_F:
			if (entry->fts_level > 0 && stay_on_mount &&
			    entry->fts_statp->st_dev != entry->fts_parent->fts_statp->st_dev)
				break;	/* a file bind-mounted here: scanned with its own mount */
			rc = visit_file(scan, mounts, entry);
			break;
		case FTS_DC:
		case FTS_DP:
			break;
		default:
			count_skipped(scan, entry);
			break;
		}
		if (rc < 0)
			break;
	}
	fts_close(fts);
	return rc;
}

/* ------------------------------------------------------------ set set-up */

static bool has_cap_fowner(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) < 0)
		return false;
	return data[0].effective & (1u << CAP_FOWNER);
}

static int alloc_buffers(struct mp_pc_scan *scan)
{
	size_t n = MP_PC_WINDOW_PAGES;

	scan->vec = malloc(n);
	scan->pm_before = calloc(n, sizeof(uint64_t));
	scan->pm_after = calloc(n, sizeof(uint64_t));
	scan->resident = calloc(n, sizeof(uint32_t));
	scan->records = calloc(n, sizeof(struct mp_page));
	scan->content = malloc((size_t)MP_SCAN_BATCH * MP_PAGE_SIZE);
	scan->zero = calloc(MP_SCAN_BATCH, sizeof(bool));
	scan->pfns = calloc(MP_SCAN_BATCH, sizeof(uint64_t));
	scan->kflags = calloc(MP_SCAN_BATCH, sizeof(uint64_t));
	scan->kcounts = calloc(MP_SCAN_BATCH, sizeof(uint64_t));
	if (!scan->vec || !scan->pm_before || !scan->pm_after || !scan->resident ||
	    !scan->records || !scan->content || !scan->zero || !scan->pfns || !scan->kflags ||
	    !scan->kcounts)
		return -ENOMEM;
	return 0;
}

static void scan_free(struct mp_pc_scan *scan)
{
	free(scan->vec);
	free(scan->pm_before);
	free(scan->pm_after);
	free(scan->resident);
	free(scan->records);
	free(scan->content);
	free(scan->zero);
	free(scan->pfns);
	free(scan->kflags);
	free(scan->kcounts);
	free(scan->seen);
	if (scan->pagemap_fd >= 0)
		close(scan->pagemap_fd);
	mp_kpage_close(&scan->kpage);
	mp_hash_close(scan->hash);
}

/*
 * Open what the scan needs.  PFNs come from our own mappings, so pagemap,
 * kpageflags and kpagecount are this machine's /proc, whatever the sysroot.
 */
static int scan_init(struct mp_pc_scan *scan, const struct mp_scan_options *options)
{
	enum mp_hash_id id = options->hash ? options->hash : MP_HASH_DEFAULT;
	int rc;

	rc = mp_hash_open(&scan->hash, id, options->hash_key, options->hash_key_size,
			  scan->error);
	if (rc < 0)
		return rc;
	scan->digest_size = mp_hash_digest_size(id);

	/* Without our own pagemap the scan goes on, without PFNs. */
	scan->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	rc = mp_kpage_open(&scan->kpage, NULL);
	if (rc < 0)
		return mp_fail_errno(scan->error, rc, "cannot set up kpageflags reads");
	scan->pfn_valid = scan->pagemap_fd >= 0 && scan->kpage.flags_fd >= 0 &&
			  scan->kpage.count_fd >= 0;

	/* cachestat(2) with a bad fd fails with EBADF where it exists, ENOSYS before 6.5. */
	scan->has_cachestat = !options->no_cachestat &&
			      syscall(__NR_cachestat, -1, NULL, NULL, 0) < 0 && errno != ENOSYS;
	scan->euid = geteuid();
	scan->pid = getpid();
	scan->cap_fowner = has_cap_fowner();
	rc = alloc_buffers(scan);
	if (rc < 0)
		return mp_fail_errno(scan->error, rc, "cannot allocate page-cache scan buffers");
	return 0;
}

static void fill_set_info(const struct mp_pc_scan *scan, struct mp_set_info *info)
{
	mp_set_info_begin(info, MP_SOURCE_PAGECACHE, scan->options->sysroot);
	info->hash = mp_hash_id(scan->hash);
	info->digest_size = (uint32_t)scan->digest_size;
	info->flags = MP_SET_PAGE_CACHE;
	if (scan->pfn_valid)
		info->flags |= MP_SET_PFN_VALID;
	if (scan->options->hash_key)
		info->flags |= MP_SET_KEYED_HASH;
}

/* Walk the given paths, or every selected mount, each apart. */
static int walk_all(struct mp_pc_scan *scan, const struct mp_pc_mounts *mounts,
		    const char *const *paths, size_t count)
{
	const char **points;
	size_t point_count;
	int rc;

	if (count) {
		const char **list = calloc(count + 1, sizeof(*list));

		if (!list)
			return -ENOMEM;
		memcpy(list, paths, count * sizeof(*list));
		rc = walk(scan, mounts, list, false);
		free(list);
		return rc;
	}

	rc = mp_pc_mounts_select(mounts, &points, &point_count);
	if (rc < 0)
		return mp_fail_errno(scan->error, rc, "cannot select mounts");
	for (size_t i = 0; i < point_count && rc >= 0; i++) {
		const char *one[2] = { points[i], NULL };

		rc = walk(scan, mounts, one, true);
	}
	free(points);
	return rc;
}

int mp_pagecache_scan(const char *const *paths, size_t count,
		      const struct mp_scan_options *options, const struct mp_sink *sink,
		      struct mp_pagecache_stats *stats, struct mp_error *error)
{
	struct mp_pc_scan scan = { .options = options, .sink = sink, .error = error,
				   .pagemap_fd = -1 };
	struct mp_pagecache_stats local_stats;
	struct mp_pc_mounts mounts = { 0 };
	struct mp_set_info info;
	struct mp_set_end end = { 0 };
	int rc;

	scan.stats = stats ? stats : &local_stats;
	memset(scan.stats, 0, sizeof(*scan.stats));
	scan.kpage.flags_fd = scan.kpage.count_fd = -1;
	rc = scan_init(&scan, options);
	if (rc < 0)
		goto out;
	rc = mp_pc_mounts_read(options->sysroot, &mounts);
	if (rc < 0) {
		rc = mp_fail_errno(error, rc, "cannot read %s/proc/self/mountinfo",
				   options->sysroot ? options->sysroot : "");
		goto out;
	}

	fill_set_info(&scan, &info);
	if (sink->ops->begin_set) {
		rc = sink->ops->begin_set(sink->ctx, &info);
		if (rc < 0)
			goto out;
	}
	rc = walk_all(&scan, &mounts, paths, count);
	if (rc < 0)
		goto out;

	if (scan.stats->files_changed)
		end.flags |= MP_SET_END_PARTIAL;
	end.duration_ns = (uint64_t)(mp_clock_ns(CLOCK_MONOTONIC) - info.monotonic_ns);
	mp_ksm_read_counters(options->sysroot, &end.ksm, NULL);
	if (sink->ops->end_set)
		rc = sink->ops->end_set(sink->ctx, &end);
out:
	mp_pc_mounts_free(&mounts);
	scan_free(&scan);
	return rc;
}
