/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report_plot.h - the figures of memprint report, drawn by gnuplot
 */
#ifndef MEMPRINT_REPORT_PLOT_H
#define MEMPRINT_REPORT_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "memprint.h"

/* Most points a time series is drawn with; longer series are averaged in buckets. */
#define REPORT_MAX_POINTS 1000

enum plot_kind {
	PLOT_LINES,		/* y against a numeric x, one line per series */
	PLOT_BARS,		/* clustered bars, one cluster per label */
};

struct plot {
	const char *name;		/* file name of the figure, without extension */
	const char *title;
	const char *xlabel, *ylabel;	/* with units */
	const char *command;		/* the command whose numbers are drawn */
	enum plot_kind kind;
	bool logx;			/* lines: logarithmic x axis, base 2 */
	size_t series_count;
	const char *const *series;	/* legend entries */
	size_t point_count;
	const double *x;		/* lines: point_count values */
	const char *const *labels;	/* bars: point_count category names */
	const double *y;		/* series_count rows of point_count values */
};

enum plot_format { PLOT_SVG, PLOT_PNG };

/*
 * Draw plot into the file path with gnuplot.  Returns 0, or a negative
 * errno value after printing why (-ENOENT when gnuplot is not installed).
 */
int plot_render(const struct plot *plot, enum plot_format format, const char *path);

#endif /* MEMPRINT_REPORT_PLOT_H */
