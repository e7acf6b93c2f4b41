// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kmod_targets.c - the requests of module scans: tasks, physical RAM, page
 * cache
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source/kmod.h"
#include "source/pagecache.h"

/* ---------------------------------------------------------------- tasks */

static int send_gone_task(struct kmod_scan *ks, pid_t pid)
{
	const struct mp_sink_ops *ops = ks->sink->ops;
	struct mp_task task = { .pid = pid };
	struct mp_task_end end = { .task = ks->task_index, .status = MP_TASK_EXITED };
	int rc;

	if (ks->options->warn) {
		char message[128];

		snprintf(message, sizeof(message), "pid %d exited before it was read", (int)pid);
		ks->options->warn(ks->options->warn_ctx, message);
	}
	ks->partial = true;
	rc = ops->task ? ops->task(ks->sink->ctx, &task) : 0;
	if (rc < 0)
		return rc;
	return ops->task_end ? ops->task_end(ks->sink->ctx, &end) : 0;
}

/* The module stopped inside a task: close it as failed and go on. */
static int end_failed_task(struct kmod_scan *ks)
{
	struct mp_task_end end = { .task = ks->task_index, .status = MP_TASK_FAILED };

	if (ks->options->warn) {
		char message[160];

		snprintf(message, sizeof(message), "pid %d: the module stopped its scan: %s",
			 (int)ks->pid, strerror(-ks->kernel_error));
		ks->options->warn(ks->options->warn_ctx, message);
	}
	ks->partial = true;
	return ks->sink->ops->task_end ? ks->sink->ops->task_end(ks->sink->ctx, &end) : 0;
}

static int scan_task(struct kmod_scan *ks, pid_t pid)
{
	struct memprint_request request = {
		.target = MEMPRINT_TARGET_TASK,
		.pid = pid,
		.fd = -1,
	};
	int rc;

	ks->pid = pid;
	ks->task_sent = false;
	ks->task_flags = 0;
	rc = mp_kmod_request_send(ks, &request);
	if (rc == -ESRCH)
		return send_gone_task(ks, pid);
	if (rc < 0)
		return mp_fail_errno(ks->error, rc, "cannot scan pid %d through the module",
				     (int)pid);
	rc = mp_kmod_read_response(ks);
	if (rc < 0)
		return rc;
	if (ks->kernel_error == -EINTR)
		return mp_fail(ks->error, -EINTR, "module scan of pid %d interrupted", (int)pid);
	if (ks->kernel_error && ks->task_sent)
		return end_failed_task(ks);
	if (ks->kernel_error)
		return send_gone_task(ks, pid);
	return 0;
}

int mp_kmod_scan_tasks(struct kmod_scan *ks)
{
	const struct mp_kmod_request *request = ks->request;

	ks->tasks_total = request->pid_count;
	for (size_t i = 0; i < request->pid_count; i++) {
		int rc;

		ks->task_index = (uint32_t)i;
		rc = scan_task(ks, request->pids[i]);
		if (rc < 0)
			return rc;
		ks->tasks_done++;
	}
	return 0;
}

/* ------------------------------------------------------------- physical */

struct kmod_file_slot {
	uint64_t dev, inode;
	uint32_t index;
	bool used;
};

static size_t slot_of(uint64_t dev, uint64_t inode, size_t size)
{
	uint64_t h = (inode ^ (dev << 32 | dev >> 32)) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (size - 1);
}

static int grow_file_table(struct kmod_scan *ks)
{
	size_t size = ks->file_table_size ? ks->file_table_size * 2 : 1024;
	struct kmod_file_slot *table = calloc(size, sizeof(*table));

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < ks->file_table_size; i++) {
		struct kmod_file_slot *old = &ks->file_table[i];
		size_t j;

		if (!old->used)
			continue;
		for (j = slot_of(old->dev, old->inode, size); table[j].used; j = (j + 1) & (size - 1))
			;
		table[j] = *old;
	}
	free(ks->file_table);
	ks->file_table = table;
	ks->file_table_size = size;
	return 0;
}

static int send_physical_file(struct kmod_scan *ks, uint64_t dev, uint64_t inode)
{
	struct {
		struct memprint_rec_file rec;
	} file = { .rec = {
		.header = { .type = MEMPRINT_REC_FILE, .size = sizeof(struct memprint_rec_file) },
		.dev = dev,
		.inode = inode,
	} };

	/* The module names no path for a physical page's file: the analysis groups by inode. */
	return mp_kmod_dispatch(ks, &file.rec.header);
}

int mp_kmod_physical_file(struct kmod_scan *ks, const struct memprint_rec_page *rec,
			  uint32_t *region)
{
	size_t j;
	int rc;

	if (ks->file_table_used * 2 >= ks->file_table_size) {
		rc = grow_file_table(ks);
		if (rc < 0)
			return rc;
	}
	for (j = slot_of(rec->file_dev, rec->file_inode, ks->file_table_size);
	     ks->file_table[j].used; j = (j + 1) & (ks->file_table_size - 1)) {
		if (ks->file_table[j].dev == rec->file_dev &&
		    ks->file_table[j].inode == rec->file_inode) {
			*region = ks->file_table[j].index;
			return 0;
		}
	}
	rc = send_physical_file(ks, rec->file_dev, rec->file_inode);
	if (rc < 0)
		return rc;
	ks->file_table[j] = (struct kmod_file_slot){
		.dev = rec->file_dev, .inode = rec->file_inode, .index = ks->files - 1, .used = true,
	};
	ks->file_table_used++;
	*region = ks->files - 1;
	return 0;
}

int mp_kmod_scan_physical(struct kmod_scan *ks)
{
	struct memprint_request request = {
		.target = MEMPRINT_TARGET_PHYSICAL,
		.fd = -1,
	};
	int rc;

	rc = mp_kmod_request_send(ks, &request);
	if (rc < 0)
		return mp_fail_errno(ks->error, rc, "cannot start a physical scan through the module");
	rc = mp_kmod_read_response(ks);
	if (rc < 0)
		return rc;
	if (ks->kernel_error)
		return mp_fail_errno(ks->error, ks->kernel_error,
				     "the module stopped the physical scan");
	return 0;
}

/* ----------------------------------------------------------- page cache */

char *mp_kmod_mount_path(const struct mp_pc_mount *mount, const char *path, size_t size)
{
	const char *point = strcmp(mount->point, "/") ? mount->point : "";
	size_t root_len = strcmp(mount->root, "/") ? strlen(mount->root) : 0;
	size_t total;
	char *joined;

	/* Strip the mount's root (a bind mount of a subdirectory) when the file is below it. */
	if (root_len && size >= root_len && !memcmp(path, mount->root, root_len) &&
	    (size == root_len || path[root_len] == '/')) {
		path += root_len;
		size -= root_len;
	} else if (root_len) {
		point = "";
	}
	total = strlen(point) + size + 1;
	joined = malloc(total);
	if (joined)
		snprintf(joined, total, "%s%.*s", point, (int)size, path);
	return joined;
}

static int scan_cache_path(struct kmod_scan *ks, const char *path, bool mount)
{
	struct memprint_request request = {
		.target = MEMPRINT_TARGET_PAGECACHE,
		.fd = -1,
		.path = (uint64_t)(uintptr_t)path,
		.options = mount ? MEMPRINT_OPT_MOUNT : 0,
	};
	int rc;

	rc = mp_kmod_request_send(ks, &request);
	if (rc == -ENOENT || rc == -EACCES || rc == -EINVAL || rc == -ENOTDIR) {
		if (ks->options->warn) {
			char message[4200];

			snprintf(message, sizeof(message), "cannot scan the page cache of %s: %s",
				 path, strerror(-rc));
			ks->options->warn(ks->options->warn_ctx, message);
		}
		ks->partial = true;
		return 0;
	}
	if (rc < 0)
		return mp_fail_errno(ks->error, rc, "cannot scan the page cache of %s", path);
	rc = mp_kmod_read_response(ks);
	if (rc < 0)
		return rc;
	if (ks->kernel_error)
		return mp_fail_errno(ks->error, ks->kernel_error,
				     "the module stopped the page-cache scan of %s", path);
	return 0;
}

static int scan_mount_of(struct kmod_scan *ks, const struct mp_pc_mounts *mounts,
			 const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return scan_cache_path(ks, path, true);	/* reports the error */
	ks->mount = mp_pc_mounts_find(mounts, st.st_dev);
	return scan_cache_path(ks, path, true);
}

static int scan_every_mount(struct kmod_scan *ks, const struct mp_pc_mounts *mounts)
{
	const char **points = NULL;
	size_t count = 0;
	int rc;

	rc = mp_pc_mounts_select(mounts, &points, &count);
	if (rc < 0)
		return mp_fail_errno(ks->error, rc, "cannot choose the mounts to scan");
	for (size_t i = 0; i < count && rc >= 0; i++)
		rc = scan_mount_of(ks, mounts, points[i]);
	free(points);
	return rc;
}

/* A directory: the files below it, from a scan of the mount it is on. */
static int scan_directory(struct kmod_scan *ks, const struct mp_pc_mounts *mounts,
			  const char *path)
{
	char *real = realpath(path, NULL);
	int rc;

	if (!real)
		return scan_cache_path(ks, path, false);	/* reports the error */
	ks->below = real;
	rc = scan_mount_of(ks, mounts, real);
	ks->below = NULL;
	free(real);
	return rc;
}

static bool is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mp_kmod_scan_pagecache(struct kmod_scan *ks)
{
	const struct mp_kmod_request *request = ks->request;
	struct mp_pc_mounts mounts = { 0 };
	int rc = 0;

	rc = mp_pc_mounts_read(ks->options->sysroot, &mounts);
	if (rc < 0) {
		mp_pc_mounts_free(&mounts);
		return mp_fail_errno(ks->error, rc, "cannot read the mount table");
	}
	if (!request->path_count)
		rc = scan_every_mount(ks, &mounts);
	for (size_t i = 0; i < request->path_count && rc >= 0; i++) {
		ks->mount = NULL;
		if (request->mounts)
			rc = scan_mount_of(ks, &mounts, request->paths[i]);
		else if (is_directory(request->paths[i]))
			rc = scan_directory(ks, &mounts, request->paths[i]);
		else
			rc = scan_cache_path(ks, request->paths[i], false);
	}
	ks->mount = NULL;
	mp_pc_mounts_free(&mounts);
	return rc;
}
