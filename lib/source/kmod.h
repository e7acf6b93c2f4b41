/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kmod.h - private interface of the kernel module backend
 *
 * kmod.c opens /dev/memprint, reads the responses and turns their records
 * into sink calls; kmod_targets.c sends the requests of each kind of scan.
 */
#ifndef MEMPRINT_SOURCE_KMOD_H
#define MEMPRINT_SOURCE_KMOD_H

#include "internal.h"
#include "../../kmod/memprint_uapi.h"

struct mp_pc_mount;
struct kmod_file_slot;

/* The state of one module scan (one set). */
struct kmod_scan {
	const struct mp_kmod_request *request;
	const struct mp_scan_options *options;
	const struct mp_sink *sink;
	struct mp_error *error;
	enum mp_kmod_target target;
	enum mp_hash_id hash;
	size_t digest_size;
	int fd;				/* /dev/memprint */

	uint8_t *buf;			/* response bytes not parsed yet */
	size_t buf_len;
	bool done;			/* the end record of the response was read */
	int kernel_error;		/* the error the end record carried */

	struct mp_page *pages;		/* records not yet handed to the sink */
	size_t page_count;
	uint64_t pages_done, tasks_done, tasks_total;

	pid_t pid;			/* the task of the current request */
	uint32_t task_index;
	uint32_t task_flags;
	bool task_sent;
	uint32_t regions, region_base;	/* set-wide region numbers */
	uint32_t files, file_base;	/* set-wide file numbers */
	const struct mp_pc_mount *mount;	/* a mount scan: names its files */
	const char *below;		/* a directory scan: keep only files below it */
	uint32_t *file_map;		/* response file number to set file index or MP_NONE */
	size_t file_map_size, response_files;
	bool partial;

	struct kmod_file_slot *file_table;	/* physical scans: (dev, inode) seen */
	size_t file_table_size, file_table_used;
};

uint64_t mp_kmod_decode_dev(uint64_t dev);

/* Send request (size, hash and options filled in) and reset the response state. */
int mp_kmod_request_send(struct kmod_scan *ks, struct memprint_request *request);
/* Start numbering the records of a new response (mp_kmod_request_send() calls it). */
void mp_kmod_response_reset(struct kmod_scan *ks);
/*
 * Read and dispatch the response of the current request.  Returns 0 (the
 * module's own error, if any, in ks->kernel_error) or a negative errno
 * value of the sink, the read or a malformed response.
 */
int mp_kmod_read_response(struct kmod_scan *ks);
int mp_kmod_dispatch(struct kmod_scan *ks, const struct memprint_rec_header *header);

int mp_kmod_scan_tasks(struct kmod_scan *ks);
int mp_kmod_scan_physical(struct kmod_scan *ks);
int mp_kmod_scan_pagecache(struct kmod_scan *ks);
/*
 * The path of a file named from the root of its file system, as seen
 * through mount (malloc'd), or NULL when out of memory.
 */
char *mp_kmod_mount_path(const struct mp_pc_mount *mount, const char *path, size_t size);
/* Set *region to the set's file record of a physical page's file, sending it once. */
int mp_kmod_physical_file(struct kmod_scan *ks, const struct memprint_rec_page *rec,
			  uint32_t *region);

#endif /* MEMPRINT_SOURCE_KMOD_H */
