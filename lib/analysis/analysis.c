// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * analysis.c - open, report and close an analysis
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

const char *mp_kind_name(enum mp_frame_kind kind)
{
	static const char *const names[MP_KIND_COUNT] = {
		[MP_KIND_ANON] = "anonymous",
		[MP_KIND_KSM] = "ksm",
		[MP_KIND_FILE] = "file",
		[MP_KIND_SHMEM] = "shmem",
		[MP_KIND_KERNEL] = "kernel",
	};

	return (unsigned)kind < MP_KIND_COUNT ? names[kind] : "unknown";
}

int mp_analysis_open(struct mp_analysis **analysis, const struct mp_analysis_options *options,
		     struct mp_error *error)
{
	struct mp_analysis *a;

	a = calloc(1, sizeof(*a));
	if (!a)
		return mp_fail(error, -ENOMEM, "analysis: out of memory");
	if (options)
		a->options = *options;
	else
		a->options.use_zero_pages = -1;
	a->files = calloc(16, sizeof(*a->files));
	if (!a->files) {
		free(a);
		return mp_fail(error, -ENOMEM, "analysis: out of memory");
	}
	a->file_capacity = 16;
	a->file_count = 1;
	a->error = &a->sink_error;
	analysis_reset(a);
	*analysis = a;
	return 0;
}

int mp_analysis_report(struct mp_analysis *analysis, struct mp_report **report,
		       struct mp_error *error)
{
	struct mp_report *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return mp_fail(error, -ENOMEM, "analysis: out of memory");
	rc = analysis_compute(analysis, r, error);
	analysis_reset(analysis);
	if (rc < 0) {
		mp_report_free(r);
		return rc;
	}
	*report = r;
	return 0;
}

void mp_report_free(struct mp_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->file_count; i++)
		free(report->files[i].path);
	free(report->files);
	free(report->tasks);
	free(report->contents);
	free(report);
}

void mp_analysis_close(struct mp_analysis *analysis)
{
	if (!analysis)
		return;
	analysis_reset(analysis);
	arena_release(&analysis->arena);
	free(analysis->files);
	free(analysis->file_index);
	free(analysis->tasks);
	free(analysis->set_tasks);
	free(analysis->set_regions);
	free(analysis->set_files);
	free(analysis);
}
