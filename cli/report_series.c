// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_series.c - the section of memprint report for a snapshot file
 *
 * The last set gets the summary table and the breakdowns by kind, task
 * and file; a series (two sets or more) also gets frames, KSM and churn
 * over time and the lifetime distributions.  A series of more than
 * REPORT_MAX_POINTS sets is drawn with the means of buckets of consecutive
 * sets, so that the page stays small whatever the length of the series.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report_input.h"
#include "series_analysis.h"

/* ------------------------------------------------------------- reading */

/* Called by the timeline at the end of each set: take the analysis report of the set. */
static int add_row(void *context, const struct mp_timeline_set *set)
{
	struct report_input *input = context;
	struct report_row *row;
	struct mp_report *report;
	int rc;

	if (input->row_count == input->row_capacity) {
		size_t capacity = input->row_capacity ? input->row_capacity * 2 : 64;
		struct report_row *rows = realloc(input->rows, capacity * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		input->rows = rows;
		input->row_capacity = capacity;
	}
	rc = series_analysis_next(input->analysis, &report, &input->error);
	if (rc < 0)
		return rc;
	row = &input->rows[input->row_count];
	row->series = *set;
	row->totals = report->totals;
	row->pfn_valid = report->pfn_valid;
	rc = timeline_cache_take_row(input->cache, &row->cache, &input->error);
	if (rc < 0) {
		mp_report_free(report);
		return rc;
	}
	input->any_cache |= row->cache.present;
	input->row_count++;
	mp_report_free(input->last);
	input->last = report;
	return 0;
}

/*
 * Feed each set to the analyses and then to the timeline, as memprint
 * timeline does, so that the rows of a set are ready when the timeline
 * ends it.  The per-set analysis is fed here only when no thread reads
 * the file for it.
 */
static int feed_file(struct report_input *input, struct mp_timeline *timeline,
		     struct mp_error *error)
{
	struct mp_sink sinks[3];
	struct mp_reader *reader = NULL;
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	size_t count = 0;
	int rc;

	if (series_analysis_sink(input->analysis, &sinks[count]))
		count++;
	sinks[count++] = timeline_cache_sink(input->cache);
	sinks[count++] = mp_timeline_sink(timeline);
	rc = mp_tee_open(&tee, sinks, count);
	if (rc < 0)
		return rc;
	sink = mp_tee_sink(tee);
	rc = mp_reader_open(&reader, input->path, error);
	if (rc < 0) {
		mp_tee_close(tee);
		return rc;
	}
	while ((rc = mp_reader_next_set(reader, &sink, error)) > 0)
		;
	if (rc == -EBADMSG && mp_reader_torn(reader) && input->row_count) {
		cli_warn("%s", error->message);
		cli_warn("%s: reporting the %zu complete sets before it", input->path,
			 input->row_count);
		rc = 0;
	}
	mp_reader_close(reader);
	mp_tee_close(tee);
	return rc;
}

static int fail(const struct report_input *input, const struct mp_error *error, int rc)
{
	const struct mp_error *cache = input->cache ? timeline_cache_sink(input->cache).error :
				       NULL;

	if (error->message[0])
		return cli_report_error(error, rc);
	if (input->error.message[0])
		return cli_report_error(&input->error, rc);
	if (cache && cache->message[0])
		return cli_report_error(cache, rc);
	cli_warn("%s: %s", input->path, mp_strerror(rc));
	return EXIT_RUNTIME;
}

int report_series_read(struct report_input *input, size_t top)
{
	struct mp_analysis_options analysis_options = {
		.top = top, .use_zero_pages = -1, .per_task = true, .per_file = true,
	};
	struct mp_timeline_options options = { .set_done = add_row, .set_done_ctx = input };
	struct mp_timeline *timeline = NULL;
	struct mp_error error = { 0 };
	int rc;

	rc = series_analysis_start(&input->analysis, input->path, &analysis_options, &error);
	if (rc == 0)
		rc = timeline_cache_open(&input->cache, &error);
	if (rc == 0)
		rc = mp_timeline_open(&timeline, &options, &error);
	if (rc == 0)
		rc = feed_file(input, timeline, &error);
	if (rc == 0)
		rc = mp_timeline_finish(timeline, &input->summary, &error);
	mp_timeline_close(timeline);
	series_analysis_stop(input->analysis);
	input->analysis = NULL;
	if (rc < 0)
		rc = fail(input, &error, rc);
	timeline_cache_close(input->cache);
	input->cache = NULL;
	if (rc)
		return rc;
	if (!input->row_count) {
		cli_warn("%s: no complete snapshot set", input->path);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* ------------------------------------------------------------- tables */

/*
 * A number of the summary: its term, its JSON key, its offset, and whether
 * it needs PFNs.  Without PFNs memprint analyze --json prints null for
 * those (docs/analysis.md), so the report shows "unknown", never 0.
 */
struct term {
	const char *term;
	const char *key;
	size_t offset;			/* of a uint64_t in struct mp_totals */
	bool needs_pfn;
};

#define TERM(term, member, pfn) { term, #member, offsetof(struct mp_totals, member), pfn }

static const struct term terms[] = {
	TERM("mappings", mappings, false),
	TERM("zero-page mappings", zero_page_mappings, true),
	TERM("frames", frames, false),
	TERM("shared frames", shared_frames, true),
	TERM("saved by sharing", saved_by_sharing, true),
	TERM("duplicate frames (savable)", duplicate_frames, false),
	TERM("duplicate frames without zero-filled", duplicate_frames_nonzero, false),
	TERM("zero-filled frames", zero_filled_frames, false),
	TERM("private frames", private_frames, true),
	TERM("KSM frames", ksm_frames, true),
	TERM("KSM saved", ksm_saved, true),
	TERM("KSM remaining", ksm_remaining, true),
	TERM("KSM potential", ksm_potential, false),
	TERM("opportunities in anonymous groups", opportunities.anonymous, false),
	TERM("opportunities in named groups", opportunities.named, false),
	TERM("opportunities in mixed groups", opportunities.mixed, false),
	TERM("opportunities in internal groups", opportunities.internal, false),
	TERM("opportunities in external groups", opportunities.external, false),
};

#define TERM_COUNT (sizeof(terms) / sizeof(terms[0]))

static uint64_t totals_value(const struct mp_totals *totals, size_t offset)
{
	uint64_t value;

	memcpy(&value, (const char *)totals + offset, sizeof(value));
	return value;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void put_term_row(FILE *html, const struct term *term, const struct mp_totals *t,
			 bool pfn_valid)
{
	uint64_t value = totals_value(t, term->offset);

	fprintf(html, "<tr><td>%s</td><td><code>%s</code></td>", term->term, term->key);
	if (term->needs_pfn && !pfn_valid)
		fputs("<td class=\"n\">unknown</td><td class=\"n\">unknown</td>"
		      "<td class=\"n\">unknown</td></tr>\n", html);
	else
		fprintf(html, "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.1f</td>"
			"<td class=\"n\">%.1f</td></tr>\n", value, report_mib(value),
			percent(value, t->frames));
}

/* Sets are numbered from 0, as watch, timeline and dump number them. */
static void put_summary(FILE *html, const struct report_input *input)
{
	const struct mp_totals *t = &input->last->totals;

	fprintf(html, "<h3>Summary of the last set: set %u, the last of %zu set%s "
		"(numbered from 0)</h3>\n"
		"<table class=\"summary\">\n<tr><th>term</th><th>JSON key</th><th>pages</th><th>MiB</th>"
		"<th>%% of frames</th></tr>\n", input->rows[input->row_count - 1].series.index,
		input->row_count, input->row_count == 1 ? "" : "s");
	for (size_t i = 0; i < TERM_COUNT; i++)
		put_term_row(html, &terms[i], t, input->last->pfn_valid);
	fputs("</table>\n", html);
	if (!input->last->pfn_valid)
		fputs("<p>This set was taken without access to PFNs: each mapping counts as a "
		      "frame, and the numbers that need PFNs (shared, private and KSM frames, "
		      "saved by sharing) are unknown.</p>\n", html);
}

/* One row of a breakdown: a name and the totals of that part. */
struct part {
	char name[80];
	const struct mp_totals *totals;
};

/* A size in MiB, or "unknown" for a number that needs PFNs in a set without them. */
static void put_mib_cell(FILE *html, uint64_t pages, bool known)
{
	if (known)
		fprintf(html, "<td class=\"n\">%.1f</td>", report_mib(pages));
	else
		fputs("<td class=\"n\">unknown</td>", html);
}

static void put_parts_table(FILE *html, const char *heading, const struct part *parts,
			    size_t count, bool pfn_valid)
{
	fprintf(html, "<table><tr><th>%s</th><th>mappings</th><th>frames</th>"
		"<th>shared frames</th><th>duplicate frames</th><th>private frames</th>"
		"<th>frames with duplicates</th><th>KSM saved</th></tr>\n", heading);
	for (size_t i = 0; i < count; i++) {
		const struct mp_totals *t = parts[i].totals;

		fputs("<tr><td>", html);
		report_put_html(html, parts[i].name);
		fputs("</td>", html);
		put_mib_cell(html, t->mappings, true);
		put_mib_cell(html, t->frames, true);
		put_mib_cell(html, t->shared_frames, pfn_valid);
		put_mib_cell(html, t->duplicate_frames, true);
		put_mib_cell(html, t->private_frames, pfn_valid);
		put_mib_cell(html, t->frames_with_duplicates, true);
		put_mib_cell(html, t->ksm_saved, pfn_valid);
		fputs("</tr>\n", html);
	}
	fputs("</table>\n<p>Sizes in MiB.</p>\n", html);
}

/* ------------------------------------------------------------- figures */

static const char *const part_series[] = {
	"frames", "frames with duplicates", "shared frames", "private frames",
};

/* Without PFNs shared and private frames are unknown: only the first two are drawn. */
#define PART_SERIES 4
#define PART_SERIES_WITHOUT_PFN 2

static int plot_parts(const struct part *parts, size_t count, bool pfn_valid,
		      const struct plot *frame, report_figure_fn figure, void *context)
{
	const char **labels = calloc(count, sizeof(*labels));
	double *y = calloc(count * PART_SERIES, sizeof(*y));
	struct plot plot = *frame;
	int rc = -ENOMEM;

	plot.ylabel = "size (MiB)";
	plot.kind = PLOT_BARS;
	plot.series_count = pfn_valid ? PART_SERIES : PART_SERIES_WITHOUT_PFN;
	plot.series = part_series;
	plot.point_count = count;
	plot.labels = labels;
	plot.y = y;
	if (labels && y) {
		for (size_t i = 0; i < count; i++) {
			const struct mp_totals *t = parts[i].totals;

			labels[i] = parts[i].name;
			y[i] = report_mib(t->frames);
			y[count + i] = report_mib(t->frames_with_duplicates);
			y[2 * count + i] = report_mib(t->shared_frames);
			y[3 * count + i] = report_mib(t->private_frames);
		}
		rc = figure(context, &plot);
	}
	free(labels);
	free(y);
	return rc;
}

/* The last characters of a path, which name the file best. */
static void short_path(char *buffer, size_t size, const char *path)
{
	size_t length = strlen(path);

	if (length < size)
		snprintf(buffer, size, "%s", path);
	else
		snprintf(buffer, size, "...%s", path + length - (size - 4));
}

/* The context of the figures of one section. */
struct section {
	FILE *html;
	const struct report_input *input;
	size_t index;
	report_figure_fn figure;
	void *context;
	char name[64];
	char analyze[4200];		/* the commands that print the drawn numbers */
	char timeline[4200];
};

static void figure_name(struct section *s, const char *what)
{
	snprintf(s->name, sizeof(s->name), "%zu-%s", s->index + 1, what);
}

/* A table of parts of the last set, and their figure when there are any. */
static int put_breakdown(struct section *s, const struct part *parts, size_t count,
			 const char *what, const char *title, const char *heading)
{
	bool pfn_valid = s->input->last->pfn_valid;
	struct plot plot = {
		.title = title, .xlabel = heading, .command = s->analyze,
	};

	put_parts_table(s->html, heading, parts, count, pfn_valid);
	if (!count)
		return 0;
	if (!pfn_valid)
		fputs("<p>Shared and private frames are unknown without PFNs: the figure "
		      "leaves them out.</p>\n", s->html);
	figure_name(s, what);
	plot.name = s->name;
	return plot_parts(parts, count, pfn_valid, &plot, s->figure, s->context);
}

static int put_kinds(struct section *s)
{
	const struct mp_report *r = s->input->last;
	struct part parts[MP_KIND_COUNT];
	size_t count = 0;

	for (int k = 0; k < MP_KIND_COUNT; k++) {
		if (!r->kinds[k].frames)
			continue;
		snprintf(parts[count].name, sizeof(parts[count].name), "%s", mp_kind_name(k));
		parts[count++].totals = &r->kinds[k];
	}
	fputs("<h3>By kind of frame</h3>\n", s->html);
	return put_breakdown(s, parts, count, "kinds", "Frames by kind (last set)", "kind");
}

static int put_tasks(struct section *s, size_t top)
{
	const struct mp_report *r = s->input->last;
	size_t count = r->task_count < top ? r->task_count : top;
	struct part *parts = calloc(count ? count : 1, sizeof(*parts));
	int rc;

	if (!parts)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		snprintf(parts[i].name, sizeof(parts[i].name), "%s (%d)", r->tasks[i].comm,
			 r->tasks[i].pid);
		parts[i].totals = &r->tasks[i].totals;
	}
	fprintf(s->html, "<h3>By task (top %zu of %zu, by frames with duplicates)</h3>\n",
		count, r->task_count);
	rc = put_breakdown(s, parts, count, "tasks", "Frames by task (last set)", "task (pid)");
	free(parts);
	return rc;
}

static int put_files(struct section *s, size_t top)
{
	const struct mp_report *r = s->input->last;
	size_t count = r->file_count < top ? r->file_count : top;
	struct part *parts;
	int rc;

	if (!count)
		return 0;
	parts = calloc(count, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		short_path(parts[i].name, 32, r->files[i].path);
		parts[i].totals = &r->files[i].totals;
	}
	fprintf(s->html, "<h3>By file (top %zu, by frames with duplicates)</h3>\n", count);
	rc = put_breakdown(s, parts, count, "files", "Frames by file (last set)", "file");
	free(parts);
	return rc;
}

/* ------------------------------------------------------------- series */

/* The struct that contains a per-set number, and the sets where it is known. */
enum column_source {
	FROM_TOTALS,			/* struct mp_totals: always known */
	FROM_TOTALS_PFN,		/* struct mp_totals: known in sets with PFNs */
	FROM_SERIES,			/* struct mp_timeline_set: always known */
	FROM_CACHE,			/* struct timeline_cache_row: in sets with the page cache */
};

/* A per-set number of the time series: its JSON key and where it is. */
struct column {
	const char *key;		/* as memprint timeline --json names it */
	const char *legend;
	enum column_source source;
	size_t offset;			/* of a uint64_t */
};

#define TOTALS(key, legend) { #key, legend, FROM_TOTALS, offsetof(struct mp_totals, key) }
#define TOTALS_PFN(key, legend) { #key, legend, FROM_TOTALS_PFN, offsetof(struct mp_totals, key) }
#define SERIES(key, legend) { #key, legend, FROM_SERIES, offsetof(struct mp_timeline_set, key) }
#define CACHE(key, legend) { #key, legend, FROM_CACHE, offsetof(struct timeline_cache_row, key) }

static const struct column frame_columns[] = {
	TOTALS(frames, "frames"),
	TOTALS_PFN(private_frames, "private"),
	TOTALS_PFN(shared_frames, "shared"),
	TOTALS(duplicate_frames, "opportunities (duplicate frames)"),
	TOTALS(duplicate_frames_nonzero, "opportunities without zero-filled"),
	TOTALS(zero_filled_frames, "zero-filled"),
};

static const struct column ksm_columns[] = {
	TOTALS_PFN(ksm_saved, "KSM saved"),
	TOTALS_PFN(ksm_remaining, "KSM remaining"),
	TOTALS(ksm_potential, "KSM potential"),
};

static const struct column churn_columns[] = {
	SERIES(churn, "churn (changed content)"),
	SERIES(new_mappings, "new mappings"),
	SERIES(gone_mappings, "gone mappings"),
};

/* The page-cache numbers of docs/pagecache.md, under "page_cache" in timeline --json. */
static const struct column cache_columns[] = {
	CACHE(frames, "cached frames"),
	CACHE(duplicate_frames, "cache duplicate frames"),
	CACHE(cache_duplicate_frames, "task frames equal to a cached page"),
};

#define COLUMN_COUNT(array) (sizeof(array) / sizeof(array[0]))
#define COLUMNS(array) array, COLUMN_COUNT(array)

static bool row_known(const struct report_row *row, const struct column *column)
{
	if (column->source == FROM_TOTALS_PFN)
		return row->pfn_valid;
	if (column->source == FROM_CACHE)
		return row->cache.present && !timeline_cache_unknown(&row->cache);
	return true;
}

static uint64_t row_value(const struct report_row *row, const struct column *column)
{
	const char *base = (const char *)&row->totals;
	uint64_t value;

	if (column->source == FROM_SERIES)
		base = (const char *)&row->series;
	else if (column->source == FROM_CACHE)
		base = (const char *)&row->cache;
	memcpy(&value, base + column->offset, sizeof(value));
	return value;
}

static size_t sets_per_point(const struct report_input *input)
{
	return (input->row_count + REPORT_MAX_POINTS - 1) / REPORT_MAX_POINTS;
}

static double set_seconds(const struct report_input *input, size_t i)
{
	return (double)(input->rows[i].series.monotonic_ns - input->rows[0].series.monotonic_ns) /
	       1e9;
}

/*
 * The mean of a column (or of the time, for column NULL) over the sets of
 * point p; NAN when the column is unknown in one of them.
 */
static double point_value(const struct report_input *input, size_t p,
			  const struct column *column)
{
	size_t per = sets_per_point(input);
	size_t first = p * per, end = first + per < input->row_count ? first + per :
				     input->row_count;
	double sum = 0;

	for (size_t i = first; i < end; i++) {
		if (column && !row_known(&input->rows[i], column))
			return NAN;
		sum += column ? (double)row_value(&input->rows[i], column) : set_seconds(input, i);
	}
	return sum / (double)(end - first);
}

static size_t point_count(const struct report_input *input)
{
	return (input->row_count + sets_per_point(input) - 1) / sets_per_point(input);
}

/* The values of a figure: known[c] is false for a column unknown at every point. */
struct column_values {
	size_t points, count;
	double *y;			/* count rows of points values, NAN when unknown */
	bool *known;
	bool *point_known;		/* every drawn column is known at the point */
};

static void fill_values(struct column_values *v, const struct report_input *input,
			const struct column *columns, size_t first)
{
	for (size_t c = 0; c < v->count; c++) {
		v->known[c] = false;
		for (size_t p = 0; p < v->points; p++) {
			double value = point_value(input, p + first, &columns[c]);

			v->y[c * v->points + p] = value * 4096.0 / (1024.0 * 1024.0);
			v->known[c] |= !isnan(value);
		}
	}
	for (size_t p = 0; p < v->points; p++) {
		v->point_known[p] = true;
		for (size_t c = 0; c < v->count; c++)
			if (v->known[c] && isnan(v->y[c * v->points + p]))
				v->point_known[p] = false;
	}
}

/* Say which columns and how many points an unknown number keeps out of the figure. */
static size_t put_left_out(FILE *html, const struct column_values *v,
			   const struct column *columns)
{
	size_t drawn = 0, points = 0, left = 0;

	for (size_t c = 0; c < v->count; c++)
		drawn += v->known[c];
	for (size_t p = 0; p < v->points; p++)
		points += v->point_known[p];
	if (drawn < v->count) {
		fputs("<p>Left out of the figure, unknown in every set (they need PFNs, and the "
		      "sets were taken without access to them): ", html);
		for (size_t c = 0; c < v->count; c++)
			if (!v->known[c])
				fprintf(html, "%s%s", left++ ? ", " : "", columns[c].legend);
		fputs(".</p>\n", html);
	}
	if (drawn && points < v->points)
		fprintf(html, "<p>Left out of the figure: %zu of %zu points, where one of its "
			"numbers is unknown.</p>\n", v->points - points, v->points);
	return drawn && points ? points : 0;
}

/* Copy the known columns at the known points into plot's arrays. */
static void pick_values(const struct column_values *v, const struct report_input *input,
			const struct column *columns, size_t first, const char **legends,
			double *x, double *y, size_t points)
{
	size_t drawn = 0;

	for (size_t c = 0; c < v->count; c++) {
		size_t kept = 0;

		if (!v->known[c])
			continue;
		legends[drawn] = columns[c].legend;
		for (size_t p = 0; p < v->points; p++)
			if (v->point_known[p])
				y[drawn * points + kept++] = v->y[c * v->points + p];
		drawn++;
	}
	for (size_t p = 0, kept = 0; p < v->points; p++)
		if (v->point_known[p])
			x[kept++] = point_value(input, p + first, NULL);
}

/*
 * Draw columns over time, from point first on (churn has no value for set
 * 0).  A column unknown at every point and the points where a drawn column
 * is unknown are left out, with a note: an unknown number is never drawn as 0.
 */
static int plot_columns(struct section *s, const char *what, const char *title,
			const char *ylabel, const struct column *columns, size_t count,
			size_t first)
{
	const struct report_input *input = s->input;
	struct column_values v = { .points = point_count(input) - first, .count = count };
	const char **legends = calloc(count, sizeof(*legends));
	double *x = calloc(v.points, sizeof(*x));
	double *y = calloc(v.points * count, sizeof(*y));
	struct plot plot = {
		.title = title, .xlabel = "time since the first set (s)", .ylabel = ylabel,
		.command = s->timeline, .kind = PLOT_LINES, .series = legends, .x = x, .y = y,
	};
	int rc = -ENOMEM;

	v.y = calloc(v.points * count, sizeof(*v.y));
	v.known = calloc(count, sizeof(*v.known));
	v.point_known = calloc(v.points, sizeof(*v.point_known));
	if (legends && x && y && v.y && v.known && v.point_known) {
		fill_values(&v, input, columns, first);
		plot.point_count = put_left_out(s->html, &v, columns);
		for (size_t c = 0; c < count; c++)
			plot.series_count += v.known[c];
		pick_values(&v, input, columns, first, legends, x, y, plot.point_count);
		figure_name(s, what);
		plot.name = s->name;
		rc = plot.point_count ? s->figure(s->context, &plot) : 0;
	}
	free(v.y);
	free(v.known);
	free(v.point_known);
	free(legends);
	free(x);
	free(y);
	return rc;
}

/* Thresholds up to the span of the series, as memprint timeline prints them. */
static int lifetime_bins(const struct mp_timeline_summary *summary)
{
	int64_t span = summary->end_ns - summary->first_ns;
	int bins = 1;

	while (bins < MP_LIFETIME_BINS && (1000000000ll << bins) < span)
		bins++;
	return bins;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static const char *const lifetime_series[] = {
	"content lifetime, savable pages", "content lifetime, opportunities",
	"merge lifetime, savable pages", "merge lifetime, mappings",
};

/*
 * A share of complete runs is unknown without a complete run: the two
 * series of such a lifetime are left out, and without any the figure too,
 * with a note as for KSM.
 */
static int plot_lifetimes(struct section *s)
{
	const struct mp_timeline_summary *m = s->input->summary;
	const struct mp_lifetimes *l[2] = { &m->content, &m->merge };
	static const char *const names[2] = { "content", "merge" };
	size_t bins = (size_t)lifetime_bins(m);
	double x[MP_LIFETIME_BINS], y[4 * MP_LIFETIME_BINS];
	const char *legends[4];
	struct plot plot = {
		.title = "Lifetimes of opportunities (complete runs)",
		.xlabel = "lifetime longer than (s)", .ylabel = "share (%)",
		.command = s->timeline, .kind = PLOT_LINES, .logx = true,
		.series = legends, .point_count = bins, .x = x, .y = y,
	};

	for (size_t i = 0; i < bins; i++)
		x[i] = (double)(2ll << i);
	for (int k = 0; k < 2; k++) {
		double *pages = &y[plot.series_count * bins], *runs = pages + bins;

		if (!l[k]->runs) {
			fprintf(s->html, "<p>No complete run of a %s lifetime: each run began at "
				"the first set or lasted to the last (%" PRIu64 " censored), so "
				"its shares are unknown and not drawn.</p>\n", names[k],
				l[k]->censored_runs);
			continue;
		}
		for (size_t i = 0; i < bins; i++) {
			pages[i] = 100 * share(l[k]->longer_pages[i], l[k]->pages);
			runs[i] = 100 * share(l[k]->longer_runs[i], l[k]->runs);
		}
		legends[plot.series_count++] = lifetime_series[2 * k];
		legends[plot.series_count++] = lifetime_series[2 * k + 1];
	}
	if (!plot.series_count)
		return 0;
	figure_name(s, "lifetimes");
	plot.name = s->name;
	return s->figure(s->context, &plot);
}

static void put_churn_tasks(struct section *s)
{
	const struct mp_timeline_summary *m = s->input->summary;

	fputs("<h3>Churn by task</h3>\n<table><tr><th>task (pid)</th><th>sets</th>"
	      "<th>common mappings (MiB)</th><th>churn (MiB)</th><th>churn %</th>"
	      "<th>most churn in one interval (MiB)</th></tr>\n", s->html);
	for (size_t i = 0; i < m->task_count; i++) {
		const struct mp_timeline_task *t = &m->tasks[i];

		fputs("<tr><td>", s->html);
		report_put_html(s->html, t->comm);
		fprintf(s->html, " (%d)</td><td class=\"n\">%u-%u</td><td class=\"n\">%.1f</td>"
			"<td class=\"n\">%.1f</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f"
			"</td></tr>\n", t->pid, t->first_set, t->last_set,
			report_mib(t->common_mappings), report_mib(t->churn),
			percent(t->churn, t->common_mappings), report_mib(t->max_churn));
	}
	fputs("</table>\n", s->html);
}

static bool any_ksm(const struct report_input *input)
{
	for (size_t i = 0; i < input->row_count; i++)
		if (input->rows[i].totals.ksm_frames || input->rows[i].totals.ksm_potential)
			return true;
	return false;
}

static int put_series(struct section *s)
{
	const struct report_input *input = s->input;
	int rc;

	fprintf(s->html, "<h3>Over time: %zu sets</h3>\n<p>", input->row_count);
	if (sets_per_point(input) > 1)
		fprintf(s->html, "Each point is the mean of %zu consecutive sets (at most %d "
			"points a line). ", sets_per_point(input), REPORT_MAX_POINTS);
	fputs("The frame counts overlap (a shared frame may also hold a duplicated "
	      "content), so they are drawn as lines, not stacked.</p>\n", s->html);
	rc = plot_columns(s, "frames", "Sharing potential over time", "size (MiB)",
			  COLUMNS(frame_columns), 0);
	if (rc == 0 && !any_ksm(input))
		fputs("<p>No set has KSM frames or KSM potential: KSM was off, or no area "
		      "was marked mergeable.</p>\n", s->html);
	if (rc == 0)
		rc = plot_columns(s, "ksm", "KSM saved and remaining over time", "size (MiB)",
				  COLUMNS(ksm_columns), 0);
	if (rc == 0 && point_count(input) > 1)
		rc = plot_columns(s, "churn", "Churn between consecutive sets",
				  "mappings per interval (MiB)", COLUMNS(churn_columns), 1);
	if (rc == 0 && input->any_cache)
		rc = plot_columns(s, "page-cache", "Page cache over time", "size (MiB)",
				  COLUMNS(cache_columns), 0);
	if (rc == 0)
		rc = plot_lifetimes(s);
	put_churn_tasks(s);
	return rc;
}

/* A page-cache number of the summary: its term, its key and where it is. */
struct cache_term {
	const char *term;
	const char *key;
	size_t offset;			/* of a uint64_t in struct timeline_cache_row */
	bool pages;			/* a count of 4 KiB pages, shown in MiB too */
};

#define CACHE_TERM(term, member, pages) \
	{ term, #member, offsetof(struct timeline_cache_row, member), pages }

/* The numbers of docs/pagecache.md, as memprint timeline --json names them. */
static const struct cache_term cache_terms[] = {
	CACHE_TERM("files with cached pages", files, false),
	CACHE_TERM("cached frames", frames, true),
	CACHE_TERM("cache duplicate frames", duplicate_frames, true),
	CACHE_TERM("cache duplicate frames without zero-filled", duplicate_frames_nonzero, true),
	CACHE_TERM("task frames equal to a cached page", cache_duplicate_frames, true),
	CACHE_TERM("the same without zero-filled", cache_duplicate_frames_nonzero, true),
	CACHE_TERM("contents held by 3+ frames", contents_three_plus, false),
	CACHE_TERM("frames of those contents", frames_three_plus, true),
	CACHE_TERM("of them, held by tasks and cache", contents_three_plus_mixed, false),
	CACHE_TERM("frames of those", frames_three_plus_mixed, true),
};

#define CACHE_TERM_COUNT (sizeof(cache_terms) / sizeof(cache_terms[0]))

static uint64_t cache_value(const struct timeline_cache_row *row, const struct cache_term *term)
{
	uint64_t value;

	memcpy(&value, (const char *)row + term->offset, sizeof(value));
	return value;
}

/* The page-cache numbers of the last set, when the file has page-cache sets. */
static void put_cache_summary(FILE *html, const struct report_input *input)
{
	const struct report_row *last = &input->rows[input->row_count - 1];

	if (!input->any_cache)
		return;
	fputs("<h3>Page cache in the last set</h3>\n", html);
	if (!last->cache.present) {
		fputs("<p>The last set does not include the page cache.</p>\n", html);
		return;
	}
	if (timeline_cache_unknown(&last->cache)) {
		fprintf(html, "<p>The residency of the %" PRIu64 " files in the last set is "
			"unknown: the kernel tells it only to a user who may open a file for "
			"writing, so no page-cache number is known.</p>\n",
			last->cache.files_unknown);
		return;
	}
	fputs("<table class=\"page-cache\">\n<tr><th>term</th><th>JSON key</th><th>count</th>"
	      "<th>MiB</th></tr>\n", html);
	for (size_t i = 0; i < CACHE_TERM_COUNT; i++) {
		const struct cache_term *t = &cache_terms[i];
		uint64_t value = cache_value(&last->cache, t);

		fprintf(html, "<tr><td>%s</td><td><code>%s</code></td><td class=\"n\">%" PRIu64
			"</td><td class=\"n\">", t->term, t->key, value);
		if (t->pages)
			fprintf(html, "%.1f", report_mib(value));
		fputs("</td></tr>\n", html);
	}
	fprintf(html, "</table>\n<p>Cache duplicate frames are %.1f %% of the cached frames. "
		"Task frames equal to a cached page are anonymous frames that KSM cannot merge "
		"with the file's page.</p>\n", timeline_cache_duplicate_percent(&last->cache));
}

int report_series_emit(FILE *html, const struct report_input *input, size_t index, size_t top,
		       report_figure_fn figure, void *context)
{
	struct section s = {
		.html = html, .input = input, .index = index, .figure = figure,
		.context = context,
	};
	const struct mp_set_info *info = &input->last->info;
	int rc;

	snprintf(s.analyze, sizeof(s.analyze), "memprint analyze %s --json --top %zu",
		 input->path, top);
	snprintf(s.timeline, sizeof(s.timeline),
		 "memprint timeline %s --json --lifetimes --churn --ksm", input->path);
	fputs("<p>Snapshot file, host ", html);
	report_put_html(html, info->host);
	fputs(", kernel ", html);
	report_put_html(html, info->kernel);
	fprintf(html, ", %zu set%s.</p>\n", input->row_count, input->row_count == 1 ? "" : "s");

	put_summary(html, input);
	put_cache_summary(html, input);
	rc = input->row_count > 1 ? put_series(&s) : 0;
	if (rc == 0)
		rc = put_kinds(&s);
	if (rc == 0)
		rc = put_tasks(&s, top);
	if (rc == 0)
		rc = put_files(&s, top);
	return rc;
}

/* ------------------------------------------------------------- data block */

/* A mean of the sets of a point, or null where it is unknown. */
static void put_json_value(FILE *out, const char *key, double value)
{
	if (isnan(value))
		fprintf(out, "\"%s\":null", key);
	else
		fprintf(out, "\"%s\":%.10g", key, value);
}

static void put_json_point(FILE *out, const struct report_input *input, size_t p)
{
	const struct column *groups[3] = { frame_columns, ksm_columns, churn_columns };
	const size_t sizes[3] = { COLUMN_COUNT(frame_columns), COLUMN_COUNT(ksm_columns),
				  COLUMN_COUNT(churn_columns) };

	fprintf(out, "{\"set\":%zu,\"time\":%.3f", p * sets_per_point(input),
		point_value(input, p, NULL));
	for (int g = 0; g < 3; g++) {
		for (size_t c = 0; c < sizes[g]; c++) {
			fputc(',', out);
			put_json_value(out, groups[g][c].key, point_value(input, p, &groups[g][c]));
		}
	}
	if (input->any_cache) {
		fputs(",\"page_cache\":{", out);
		for (size_t c = 0; c < COLUMN_COUNT(cache_columns); c++) {
			if (c)
				fputc(',', out);
			put_json_value(out, cache_columns[c].key,
				       point_value(input, p, &cache_columns[c]));
		}
		fputc('}', out);
	}
	fputc('}', out);
}

/* A share of complete runs: null without a complete run, where it is unknown. */
static void put_json_share(FILE *out, const char *key, uint64_t part, uint64_t whole)
{
	put_json_value(out, key, whole ? (double)part / (double)whole : NAN);
}

static void put_json_lifetimes(FILE *out, const char *key, const struct mp_lifetimes *l,
			       int bins)
{
	fprintf(out, "\"%s\":[", key);
	for (int i = 0; i < bins; i++) {
		fprintf(out, "%s{\"seconds\":%lld,", i ? "," : "", 2ll << i);
		put_json_share(out, "pages_share", l->longer_pages[i], l->pages);
		fputc(',', out);
		put_json_share(out, "runs_share", l->longer_runs[i], l->runs);
		fputc('}', out);
	}
	fputc(']', out);
}

/* The summary of the last set: null for a number that needs PFNs in a set without them. */
static void put_json_last_set(FILE *out, const struct report_input *input)
{
	const struct mp_totals *t = &input->last->totals;

	fputs("\"last_set\":{", out);
	for (size_t i = 0; i < TERM_COUNT; i++) {
		fprintf(out, "%s\"%s\":", i ? "," : "", terms[i].key);
		if (terms[i].needs_pfn && !input->last->pfn_valid)
			fputs("null", out);
		else
			fprintf(out, "%" PRIu64, totals_value(t, terms[i].offset));
	}
	fputc('}', out);
	if (input->any_cache && input->rows[input->row_count - 1].cache.present) {
		const struct timeline_cache_row *c = &input->rows[input->row_count - 1].cache;

		fputs(",\"last_set_page_cache\":{", out);
		for (size_t i = 0; i < CACHE_TERM_COUNT; i++)
			fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", cache_terms[i].key,
				cache_value(c, &cache_terms[i]));
		fputc('}', out);
	}
}

void report_series_json(FILE *out, const struct report_input *input)
{
	fputs("{\"type\":\"snapshot\",\"file\":", out);
	report_put_json_string(out, input->path);
	fprintf(out, ",\"set_count\":%zu,\"sets_per_point\":%zu,\"pfn_valid\":%s,",
		input->row_count, sets_per_point(input),
		input->last->pfn_valid ? "true" : "false");
	put_json_last_set(out, input);
	fputs(",\"points\":[", out);
	for (size_t p = 0; input->row_count > 1 && p < point_count(input); p++) {
		if (p)
			fputc(',', out);
		put_json_point(out, input, p);
	}
	fputs("],\"lifetimes\":{", out);
	if (input->row_count > 1) {
		int bins = lifetime_bins(input->summary);

		put_json_lifetimes(out, "content", &input->summary->content, bins);
		fputc(',', out);
		put_json_lifetimes(out, "merge", &input->summary->merge, bins);
	}
	fputs("}}", out);
}
