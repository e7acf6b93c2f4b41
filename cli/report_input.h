/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report_input.h - the inputs of memprint report and their sections
 */
#ifndef MEMPRINT_REPORT_INPUT_H
#define MEMPRINT_REPORT_INPUT_H

#include <stdio.h>

#include "memprint.h"
#include "report_plot.h"
#include "timeline_cache.h"

enum input_type { INPUT_SNAPSHOT, INPUT_HASHBENCH };

/* The numbers of one set, as memprint timeline prints them. */
struct report_row {
	struct mp_timeline_set series;
	struct mp_totals totals;
	bool pfn_valid;			/* else the numbers that need PFNs are unknown */
	struct timeline_cache_row cache;	/* present when the set includes the page cache */
};

/* One hash of a hashbench result. */
struct report_hash {
	char name[32];
	double digest_bits, gb_per_s, vs_read;
	double digests, false_positive_groups, false_positive_pages, duplicate_overcount;
};

struct report_input {
	const char *path;
	enum input_type type;

	/* snapshot file */
	struct report_row *rows;
	size_t row_count, row_capacity;
	struct mp_report *last;		/* the analysis of the last set */
	struct mp_timeline_summary *summary;
	struct series_analysis *analysis;	/* of the sets, while they are read */
	struct timeline_cache *cache;	/* page-cache analysis, while they are read */
	bool any_cache;			/* a set includes the page cache */
	struct mp_error error;

	/* hashbench result */
	char *json;
	char source[256];
	double pages, contents, duplicate_pages, read_gb_per_s;
	struct report_hash *hashes;
	size_t hash_count;
	char recommended[32];		/* hashbench's verdict, empty when it has none */
	double tie_percent;		/* throughput gap of a tie in that verdict */
	char fastest_narrow[32];	/* the run's fastest, when 32-bit and exact */
	double birthday_collisions;	/* expected of a 32-bit digest in the run */
};

/* Draws one figure into the page; returns 0 or a negative errno value. */
typedef int (*report_figure_fn)(void *context, const struct plot *plot);

/* Read path as a snapshot file or a hashbench result; returns an exit status. */
int report_input_read(struct report_input *input, const char *path, size_t top);
void report_input_free(struct report_input *input);

int report_series_read(struct report_input *input, size_t top);
int report_hashbench_read(struct report_input *input);

/* Write the section of one input; index numbers the figure files. */
int report_series_emit(FILE *html, const struct report_input *input, size_t index, size_t top,
		       report_figure_fn figure, void *context);
int report_hashbench_emit(FILE *html, const struct report_input *input, size_t index,
			  report_figure_fn figure, void *context);

/* The plotted numbers of one input as a JSON object. */
void report_input_json(FILE *out, const struct report_input *input);
void report_series_json(FILE *out, const struct report_input *input);
void report_hashbench_json(FILE *out, const struct report_input *input);

/* Helpers of the sections. */
void report_put_html(FILE *out, const char *text);
void report_put_json_string(FILE *out, const char *text);
double report_mib(uint64_t pages);

#endif /* MEMPRINT_REPORT_INPUT_H */
