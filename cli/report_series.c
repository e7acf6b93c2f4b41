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
	input->rows[input->row_count].series = *set;
	input->rows[input->row_count].totals = report->totals;
	input->row_count++;
	mp_report_free(input->last);
	input->last = report;
	return 0;
}

static int feed_file(struct report_input *input, struct mp_timeline *timeline,
		     struct mp_error *error)
{
	struct mp_reader *reader = NULL;
	struct mp_sink sink = mp_timeline_sink(timeline);
	int rc;

	rc = mp_reader_open(&reader, input->path, error);
	if (rc < 0)
		return rc;
	while ((rc = mp_reader_next_set(reader, &sink, error)) > 0)
		;
	if (rc == -EBADMSG && mp_reader_torn(reader) && input->row_count) {
		cli_warn("%s", error->message);
		cli_warn("%s: reporting the %zu complete sets before it", input->path,
			 input->row_count);
		rc = 0;
	}
	mp_reader_close(reader);
	return rc;
}

static int fail(const struct report_input *input, const struct mp_error *error, int rc)
{
	if (error->message[0])
		return cli_report_error(error, rc);
	if (input->error.message[0])
		return cli_report_error(&input->error, rc);
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
		rc = mp_timeline_open(&timeline, &options, &error);
	if (rc == 0)
		rc = feed_file(input, timeline, &error);
	if (rc == 0)
		rc = mp_timeline_finish(timeline, &input->summary, &error);
	mp_timeline_close(timeline);
	series_analysis_stop(input->analysis);
	input->analysis = NULL;
	if (rc < 0)
		return fail(input, &error, rc);
	if (!input->row_count) {
		cli_warn("%s: no complete snapshot set", input->path);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* ------------------------------------------------------------- tables */

/* A number of the summary: its term, its JSON key and where it is. */
struct term {
	const char *term;
	const char *key;
	size_t offset;			/* of a uint64_t in struct mp_totals */
};

#define TERM(term, member) { term, #member, offsetof(struct mp_totals, member) }

static const struct term terms[] = {
	TERM("mappings", mappings),
	TERM("zero-page mappings", zero_page_mappings),
	TERM("frames", frames),
	TERM("shared frames", shared_frames),
	TERM("saved by sharing", saved_by_sharing),
	TERM("duplicate frames (savable)", duplicate_frames),
	TERM("duplicate frames without zero-filled", duplicate_frames_nonzero),
	TERM("zero-filled frames", zero_filled_frames),
	TERM("private frames", private_frames),
	TERM("KSM frames", ksm_frames),
	TERM("KSM saved", ksm_saved),
	TERM("KSM remaining", ksm_remaining),
	TERM("KSM potential", ksm_potential),
	TERM("opportunities in anonymous groups", opportunities.anonymous),
	TERM("opportunities in named groups", opportunities.named),
	TERM("opportunities in mixed groups", opportunities.mixed),
	TERM("opportunities in internal groups", opportunities.internal),
	TERM("opportunities in external groups", opportunities.external),
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

static void put_summary(FILE *html, const struct report_input *input)
{
	const struct mp_totals *t = &input->last->totals;

	fprintf(html, "<h3>Summary of the last set (set %u, of %zu)</h3>\n"
		"<table class=\"summary\">\n<tr><th>term</th><th>JSON key</th><th>pages</th><th>MiB</th>"
		"<th>%% of frames</th></tr>\n", input->rows[input->row_count - 1].series.index,
		input->row_count);
	for (size_t i = 0; i < TERM_COUNT; i++) {
		uint64_t value = totals_value(t, terms[i].offset);

		fprintf(html, "<tr><td>%s</td><td><code>%s</code></td><td class=\"n\">%" PRIu64
			"</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td></tr>\n",
			terms[i].term, terms[i].key, value, report_mib(value),
			percent(value, t->frames));
	}
	fputs("</table>\n", html);
	if (!input->last->pfn_valid)
		fputs("<p>This set was taken without access to PFNs: each mapping counts as a "
		      "frame and shared frames are not known.</p>\n", html);
}

/* One row of a breakdown: a name and the totals of that part. */
struct part {
	char name[80];
	const struct mp_totals *totals;
};

static void put_parts_table(FILE *html, const char *heading, const struct part *parts,
			    size_t count)
{
	fprintf(html, "<table><tr><th>%s</th><th>mappings</th><th>frames</th>"
		"<th>shared frames</th><th>duplicate frames</th><th>private frames</th>"
		"<th>frames with duplicates</th><th>KSM saved</th></tr>\n", heading);
	for (size_t i = 0; i < count; i++) {
		const struct mp_totals *t = parts[i].totals;

		fputs("<tr><td>", html);
		report_put_html(html, parts[i].name);
		fprintf(html, "</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td>"
			"<td class=\"n\">%.1f</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td>"
			"<td class=\"n\">%.1f</td><td class=\"n\">%.1f</td></tr>\n",
			report_mib(t->mappings), report_mib(t->frames),
			report_mib(t->shared_frames), report_mib(t->duplicate_frames),
			report_mib(t->private_frames), report_mib(t->frames_with_duplicates),
			report_mib(t->ksm_saved));
	}
	fputs("</table>\n<p>Sizes in MiB.</p>\n", html);
}

/* ------------------------------------------------------------- figures */

static const char *const part_series[] = {
	"frames", "shared frames", "frames with duplicates", "private frames",
};

#define PART_SERIES 4

static int plot_parts(const struct part *parts, size_t count, const char *name,
		      const char *title, const char *xlabel, const char *command,
		      report_figure_fn figure, void *context)
{
	const char **labels = calloc(count, sizeof(*labels));
	double *y = calloc(count * PART_SERIES, sizeof(*y));
	struct plot plot = {
		.name = name, .title = title, .xlabel = xlabel, .ylabel = "size (MiB)",
		.command = command, .kind = PLOT_BARS, .series_count = PART_SERIES,
		.series = part_series, .point_count = count, .labels = labels, .y = y,
	};
	int rc = -ENOMEM;

	if (labels && y) {
		for (size_t i = 0; i < count; i++) {
			const struct mp_totals *t = parts[i].totals;

			labels[i] = parts[i].name;
			y[i] = report_mib(t->frames);
			y[count + i] = report_mib(t->shared_frames);
			y[2 * count + i] = report_mib(t->frames_with_duplicates);
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
	put_parts_table(s->html, "kind", parts, count);
	if (!count)
		return 0;
	figure_name(s, "kinds");
	return plot_parts(parts, count, s->name, "Frames by kind (last set)", "kind of frame",
			  s->analyze, s->figure, s->context);
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
	put_parts_table(s->html, "task (pid)", parts, count);
	figure_name(s, "tasks");
	rc = count ? plot_parts(parts, count, s->name, "Frames by task (last set)", "task (pid)",
				s->analyze, s->figure, s->context) : 0;
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
	put_parts_table(s->html, "file", parts, count);
	figure_name(s, "files");
	rc = plot_parts(parts, count, s->name, "Frames by file (last set)", "file", s->analyze,
			s->figure, s->context);
	free(parts);
	return rc;
}

/* ------------------------------------------------------------- series */

/* A per-set number of the time series: its JSON key and where it is. */
struct column {
	const char *key;		/* as memprint timeline --json names it */
	const char *legend;
	bool from_totals;
	size_t offset;			/* of a uint64_t */
};

#define TOTALS(key, legend) { #key, legend, true, offsetof(struct mp_totals, key) }
#define SERIES(key, legend) { #key, legend, false, offsetof(struct mp_timeline_set, key) }

static const struct column frame_columns[] = {
	TOTALS(frames, "frames"),
	TOTALS(private_frames, "private"),
	TOTALS(shared_frames, "shared"),
	TOTALS(duplicate_frames, "opportunities (duplicate frames)"),
	TOTALS(duplicate_frames_nonzero, "opportunities without zero-filled"),
	TOTALS(zero_filled_frames, "zero-filled"),
};

static const struct column ksm_columns[] = {
	TOTALS(ksm_saved, "KSM saved"),
	TOTALS(ksm_remaining, "KSM remaining"),
	TOTALS(ksm_potential, "KSM potential"),
};

static const struct column churn_columns[] = {
	SERIES(churn, "churn (changed content)"),
	SERIES(new_mappings, "new mappings"),
	SERIES(gone_mappings, "gone mappings"),
};

#define COLUMNS(array) array, sizeof(array) / sizeof(array[0])

static uint64_t row_value(const struct report_row *row, const struct column *column)
{
	const char *base = column->from_totals ? (const char *)&row->totals :
			   (const char *)&row->series;
	uint64_t value;

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

/* The mean of a column (or of the time, for column NULL) over the sets of point p. */
static double point_value(const struct report_input *input, size_t p,
			  const struct column *column)
{
	size_t per = sets_per_point(input);
	size_t first = p * per, end = first + per < input->row_count ? first + per :
				     input->row_count;
	double sum = 0;

	for (size_t i = first; i < end; i++)
		sum += column ? (double)row_value(&input->rows[i], column) : set_seconds(input, i);
	return sum / (double)(end - first);
}

static size_t point_count(const struct report_input *input)
{
	return (input->row_count + sets_per_point(input) - 1) / sets_per_point(input);
}

/* Draw columns over time, from point first on (churn has no value for set 0). */
static int plot_columns(struct section *s, const char *what, const char *title,
			const char *ylabel, const struct column *columns, size_t count,
			size_t first)
{
	const struct report_input *input = s->input;
	size_t points = point_count(input) - first;
	const char **legends = calloc(count, sizeof(*legends));
	double *x = calloc(points, sizeof(*x));
	double *y = calloc(points * count, sizeof(*y));
	struct plot plot = {
		.title = title, .xlabel = "time since the first set (s)", .ylabel = ylabel,
		.command = s->timeline, .kind = PLOT_LINES, .series_count = count,
		.series = legends, .point_count = points, .x = x, .y = y,
	};
	int rc = -ENOMEM;

	if (legends && x && y) {
		for (size_t c = 0; c < count; c++) {
			legends[c] = columns[c].legend;
			for (size_t p = 0; p < points; p++)
				y[c * points + p] = point_value(input, p + first, &columns[c]) *
						    4096.0 / (1024.0 * 1024.0);
		}
		for (size_t p = 0; p < points; p++)
			x[p] = point_value(input, p + first, NULL);
		figure_name(s, what);
		plot.name = s->name;
		rc = s->figure(s->context, &plot);
	}
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

static int plot_lifetimes(struct section *s)
{
	const struct mp_timeline_summary *m = s->input->summary;
	const struct mp_lifetimes *l[2] = { &m->content, &m->merge };
	size_t bins = (size_t)lifetime_bins(m);
	double x[MP_LIFETIME_BINS], y[4 * MP_LIFETIME_BINS];
	struct plot plot = {
		.title = "Lifetimes of opportunities (complete runs)",
		.xlabel = "lifetime longer than (s)", .ylabel = "share (%)",
		.command = s->timeline, .kind = PLOT_LINES, .logx = true, .series_count = 4,
		.series = lifetime_series, .point_count = bins, .x = x, .y = y,
	};

	for (size_t i = 0; i < bins; i++) {
		x[i] = (double)(2ll << i);
		for (int k = 0; k < 2; k++) {
			y[(2 * k) * bins + i] = 100 * share(l[k]->longer_pages[i], l[k]->pages);
			y[(2 * k + 1) * bins + i] = 100 * share(l[k]->longer_runs[i], l[k]->runs);
		}
	}
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
	if (rc == 0)
		rc = plot_lifetimes(s);
	put_churn_tasks(s);
	return rc;
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

static void put_json_point(FILE *out, const struct report_input *input, size_t p)
{
	const struct column *groups[3] = { frame_columns, ksm_columns, churn_columns };
	const size_t sizes[3] = { sizeof(frame_columns) / sizeof(frame_columns[0]),
				  sizeof(ksm_columns) / sizeof(ksm_columns[0]),
				  sizeof(churn_columns) / sizeof(churn_columns[0]) };

	fprintf(out, "{\"set\":%zu,\"time\":%.3f", p * sets_per_point(input),
		point_value(input, p, NULL));
	for (int g = 0; g < 3; g++)
		for (size_t c = 0; c < sizes[g]; c++)
			fprintf(out, ",\"%s\":%.10g", groups[g][c].key,
				point_value(input, p, &groups[g][c]));
	fputc('}', out);
}

static void put_json_lifetimes(FILE *out, const char *key, const struct mp_lifetimes *l,
			       int bins)
{
	fprintf(out, "\"%s\":[", key);
	for (int i = 0; i < bins; i++)
		fprintf(out, "%s{\"seconds\":%lld,\"pages_share\":%.4f,\"runs_share\":%.4f}",
			i ? "," : "", 2ll << i, share(l->longer_pages[i], l->pages),
			share(l->longer_runs[i], l->runs));
	fputc(']', out);
}

void report_series_json(FILE *out, const struct report_input *input)
{
	const struct mp_totals *t = &input->last->totals;

	fputs("{\"type\":\"snapshot\",\"file\":", out);
	report_put_json_string(out, input->path);
	fprintf(out, ",\"set_count\":%zu,\"sets_per_point\":%zu,\"last_set\":{",
		input->row_count, sets_per_point(input));
	for (size_t i = 0; i < TERM_COUNT; i++)
		fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", terms[i].key,
			totals_value(t, terms[i].offset));
	fputs("},\"points\":[", out);
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
