// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * scan_set.c - one snapshot set of the targets: the tasks, then the page
 * cache, joined into one set
 *
 * scan, snapshot and watch take both with two producers, and struct
 * mp_join makes their two sets one.  So a snapshot file gives the same
 * task-against-cache numbers as a scan.
 */
#include <stdio.h>
#include <string.h>

#include "options.h"

/* Scan the tasks through /proc or the module. */
static int scan_tasks(const pid_t *pids, size_t count, bool kmod,
		      const struct mp_scan_options *options, const struct mp_sink *sink,
		      struct mp_error *error)
{
	struct mp_kmod_request request = {
		.target = MP_KMOD_TASKS,
		.pids = pids,
		.pid_count = count,
	};

	if (kmod)
		return mp_kmod_scan(&request, options, sink, error);
	return mp_procfs_scan(pids, count, options, sink, error);
}

/* Scan the page cache below the --page-cache paths through user space or the module. */
static int scan_cache(const struct cli_targets *targets, bool kmod,
		      const struct mp_scan_options *options, const struct mp_sink *sink,
		      struct mp_error *error)
{
	struct mp_kmod_request request = {
		.target = MP_KMOD_PAGECACHE,
		.paths = targets->cache_paths,
		.path_count = targets->cache_path_count,
	};

	if (kmod)
		return mp_kmod_scan(&request, options, sink, error);
	return mp_pagecache_scan(targets->cache_paths, targets->cache_path_count, options, sink,
				 NULL, error);
}

int cli_scan_set(const struct cli_targets *targets, const pid_t *pids, size_t count, bool kmod,
		 const struct mp_scan_options *options, const struct mp_sink *sink,
		 struct mp_error *error)
{
	struct mp_join *join;
	struct mp_sink joined;
	int rc;

	rc = mp_join_open(&join, sink, targets->page_cache ? MP_SET_PAGE_CACHE : 0);
	if (rc < 0) {
		snprintf(error->message, sizeof(error->message), "cannot start a snapshot set: %s",
			 mp_strerror(rc));
		return rc;
	}
	joined = mp_join_sink(join);
	if (count)
		rc = scan_tasks(pids, count, kmod, options, &joined, error);
	cli_progress_done();
	if (rc == 0 && targets->page_cache)
		rc = scan_cache(targets, kmod, options, &joined, error);
	if (rc == 0)
		rc = mp_join_finish(join, error);
	/* The page-cache scan leaves the message of a failed sink in the join. */
	if (rc < 0 && !error->message[0] && joined.error->message[0])
		*error = *joined.error;
	mp_join_close(join);
	return rc;
}
