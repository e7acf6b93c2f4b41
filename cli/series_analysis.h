/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * series_analysis.h - the per-set analysis of a series file, on a thread
 * of its own
 *
 * memprint timeline and memprint report need two things of each set: the
 * analysis report (memprint analyze's numbers) and the timeline engine's
 * row.  Each takes about as long as the other.  So the analysis reads the
 * file with a reader of its own on a second thread, while the caller feeds
 * the timeline and takes the report of each set when the timeline ends
 * that set.  The two readers read the same sets.
 */
#ifndef MEMPRINT_CLI_SERIES_ANALYSIS_H
#define MEMPRINT_CLI_SERIES_ANALYSIS_H

#include "memprint.h"

struct series_analysis;

/*
 * Start analysing the sets of path.  Returns 0, or a negative errno value
 * with error filled when the analysis could not be set up.
 */
int series_analysis_start(struct series_analysis **analysis, const char *path,
			  const struct mp_analysis_options *options, struct mp_error *error);

/*
 * Get the sink to feed the sets into, before the timeline, when no thread
 * reads the file: a pipe, which cannot be read twice, or a file that the
 * caller's reader will reject.  Returns false when the thread reads it.
 */
bool series_analysis_sink(struct series_analysis *analysis, struct mp_sink *sink);

/*
 * Wait for the report of the next set.  Returns 0 with *report (the caller
 * frees it), or a negative errno value with error filled: the file or the
 * analysis failed before the end of that set.
 */
int series_analysis_next(struct series_analysis *analysis, struct mp_report **report,
			 struct mp_error *error);

/* Stop the thread, also in the middle of the file, and free everything. */
void series_analysis_stop(struct series_analysis *analysis);

#endif /* MEMPRINT_CLI_SERIES_ANALYSIS_H */
