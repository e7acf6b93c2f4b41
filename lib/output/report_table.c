// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_table.c - print reports for people: a few summary lines and
 * libsmartcols tables
 *
 * The default view tells, in this order: how much memory the targets
 * use and how much of it is already shared, how much more merging could
 * free and of which kind, where it is (top tasks, files, contents), and
 * what KSM did and could do, beside the machine's KSM counters.  Sizes are
 * in human units (4.0K, 1.5M) unless exact bytes are asked for.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <libsmartcols/libsmartcols.h>

#include "output/report_output.h"

#define SIZE_TEXT 32

struct table_context {
	FILE *out;
	const struct mp_output_options *options;
	size_t top;
};

static const char *pages_text(char *buffer, uint64_t pages, const struct table_context *c)
{
	mp_format_pages(buffer, SIZE_TEXT, pages, c->options->bytes);
	return buffer;
}

/* ------------------------------------------------------------ the summary */

static void print_set_line(const struct table_context *c, const struct mp_report *r,
			   size_t index, size_t count)
{
	char when[64] = "";
	time_t seconds = (time_t)(r->info.realtime_ns / 1000000000);
	struct tm tm;

	if (r->info.realtime_ns && gmtime_r(&seconds, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (count > 1)
		fprintf(c->out, "Set %zu (%zu of %zu): ", index, index + 1, count);
	else
		fputs("Set: ", c->out);
	fprintf(c->out, "%s %s, %s, %s%s%u snapshot set%s, %zu task%s\n",
		r->info.host[0] ? r->info.host : "?", r->info.kernel[0] ? r->info.kernel : "?",
		mp_hash_name(r->info.hash), when, when[0] ? ", " : "", r->sets,
		r->sets == 1 ? "" : "s merged", r->task_count, r->task_count == 1 ? "" : "s");
}

static void print_sharing(const struct table_context *c, const struct mp_report *r)
{
	const struct mp_totals *t = &r->totals;
	char a[SIZE_TEXT], b[SIZE_TEXT];

	fprintf(c->out, "Resident:        %s in %llu frames, %llu mappings",
		pages_text(a, t->frames, c), (unsigned long long)t->frames,
		(unsigned long long)t->mappings);
	if (r->pfn_valid)
		fprintf(c->out, ", %llu of the kernel zero page\n",
			(unsigned long long)t->zero_page_mappings);
	else
		fputs(" (each mapping counted as a frame: no PFNs)\n", c->out);

	if (!r->pfn_valid) {
		fputs("Already shared:  unknown without PFNs (needs CAP_SYS_ADMIN)\n", c->out);
		return;
	}
	fprintf(c->out, "Already shared:  %s saved by sharing; %llu frames have two or more "
		"mappings (%llu by kpagecount)\n", pages_text(b, t->saved_by_sharing, c),
		(unsigned long long)t->shared_frames, (unsigned long long)t->shared_frames_kernel);
}

static void print_savable(const struct table_context *c, const struct mp_report *r)
{
	const struct mp_totals *t = &r->totals;
	const struct mp_opportunities *o = &t->opportunities;
	char a[SIZE_TEXT], b[SIZE_TEXT], d[SIZE_TEXT], e[SIZE_TEXT], f[SIZE_TEXT], g[SIZE_TEXT];

	fprintf(c->out, "Could be merged: %s in %llu duplicate frames, %.1f%% of frames "
		"(%s, %.1f%%, without zero-filled)\n",
		pages_text(a, t->duplicate_frames, c), (unsigned long long)t->duplicate_frames,
		mp_percent(t->duplicate_frames, t->frames),
		pages_text(b, t->duplicate_frames_nonzero, c),
		mp_percent(t->duplicate_frames_nonzero, t->frames));
	fprintf(c->out, "  by kind:       anonymous %s, named %s, mixed %s; "
		"internal (one task or none) %s, external %s\n",
		pages_text(a, o->anonymous, c), pages_text(b, o->named, c),
		pages_text(d, o->mixed, c), pages_text(e, o->internal, c),
		pages_text(f, o->external, c));
	if (r->pfn_valid)
		fprintf(c->out, "Private:         %s in %llu frames alone in their content "
			"with one mapping\n", pages_text(g, t->private_frames, c),
			(unsigned long long)t->private_frames);
}

static void print_ksm(const struct table_context *c, const struct mp_report *r)
{
	const struct mp_totals *t = &r->totals;
	const struct mp_ksm_counters *k = r->ksm_end.valid ? &r->ksm_end : &r->info.ksm;
	char a[SIZE_TEXT], b[SIZE_TEXT], d[SIZE_TEXT];

	if (r->pfn_valid)
		fprintf(c->out, "KSM:             saved %s in %llu KSM frames, potential %s, "
			"remaining %s", pages_text(a, t->ksm_saved, c),
			(unsigned long long)t->ksm_frames, pages_text(b, t->ksm_potential, c),
			pages_text(d, t->ksm_remaining, c));
	else
		fprintf(c->out, "KSM:             potential %s (saved unknown without PFNs)",
			pages_text(b, t->ksm_potential, c));
	fprintf(c->out, " (max_page_sharing %llu, use_zero_pages %s)\n",
		(unsigned long long)r->max_page_sharing, r->use_zero_pages ? "on" : "off");
	if (!k->valid) {
		fputs("Machine KSM:     not available in this kernel\n", c->out);
		return;
	}
	fprintf(c->out, "Machine KSM:     pages_sharing %llu (%s), pages_shared %llu, "
		"pages_unshared %llu, ksm_zero_pages %llu, full_scans %llu, run %llu\n",
		(unsigned long long)k->pages_sharing, pages_text(a, k->pages_sharing, c),
		(unsigned long long)k->pages_shared, (unsigned long long)k->pages_unshared,
		(unsigned long long)k->ksm_zero_pages, (unsigned long long)k->full_scans,
		(unsigned long long)k->run);
}

static void print_warnings(const struct table_context *c, const struct mp_report *r)
{
	if (r->moved_pages)
		fprintf(c->out, "Left out:        %llu pages that moved while they were read\n",
			(unsigned long long)r->moved_pages);
	if (r->partial_tasks)
		fprintf(c->out, "Partial:         %llu %s exited or failed during the scan\n",
			(unsigned long long)r->partial_tasks,
			r->partial_tasks == 1 ? "task" : "tasks");
}

/* -------------------------------------------------------------- tables */

struct column {
	const char *name;
	int flags;
};

static struct libscols_table *new_table(const struct table_context *c,
					const struct column *columns, size_t count)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_stream(tb, c->out);
	for (size_t i = 0; i < count; i++) {
		if (!scols_table_new_column(tb, columns[i].name, 0, columns[i].flags)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

static int set_u64(struct libscols_line *ln, size_t column, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	return scols_line_set_data(ln, column, text);
}

static int set_pages(struct libscols_line *ln, size_t column, uint64_t pages,
		     const struct table_context *c)
{
	char text[SIZE_TEXT];

	return scols_line_set_data(ln, column, pages_text(text, pages, c));
}

static int print_and_free(struct libscols_table *tb)
{
	int rc = scols_print_table(tb);

	scols_unref_table(tb);
	return rc < 0 ? rc : 0;
}

static int print_top_tasks(const struct table_context *c, const struct mp_report *r)
{
	static const struct column columns[] = {
		{ "PID", SCOLS_FL_RIGHT }, { "COMMAND", 0 }, { "FRAMES", SCOLS_FL_RIGHT },
		{ "WITH-DUPLICATES", SCOLS_FL_RIGHT }, { "DUPLICATE", SCOLS_FL_RIGHT },
		{ "KSM-SAVED", SCOLS_FL_RIGHT }, { "KSM-ZERO-PAGES", SCOLS_FL_RIGHT },
		{ "KSM-REMAINING", SCOLS_FL_RIGHT },
	};
	size_t count = r->task_count < c->top ? r->task_count : c->top;
	struct libscols_table *tb;

	if (!count)
		return 0;
	tb = new_table(c, columns, MP_ARRAY_SIZE(columns));
	if (!tb)
		return -ENOMEM;
	fputs("\nTop tasks, by frames whose content is also elsewhere:\n", c->out);
	for (size_t i = 0; i < count; i++) {
		const struct mp_task_totals *t = &r->tasks[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char pid[16];

		if (!ln)
			break;
		snprintf(pid, sizeof(pid), "%d", t->pid);
		scols_line_set_data(ln, 0, pid);
		scols_line_set_data(ln, 1, t->comm);
		set_pages(ln, 2, t->totals.frames, c);
		set_pages(ln, 3, t->totals.frames_with_duplicates, c);
		set_pages(ln, 4, t->totals.duplicate_frames, c);
		scols_line_set_data(ln, 5, "-");
		if (r->pfn_valid)
			set_pages(ln, 5, t->totals.ksm_saved, c);
		scols_line_set_data(ln, 6, "-");
		if (t->ksm.valid)
			set_pages(ln, 6, t->ksm.ksm_zero_pages, c);
		scols_line_set_data(ln, 7, "-");
		if (r->pfn_valid)
			set_pages(ln, 7, t->totals.ksm_remaining, c);
	}
	return print_and_free(tb);
}

static int print_top_files(const struct table_context *c, const struct mp_report *r)
{
	static const struct column columns[] = {
		{ "FRAMES", SCOLS_FL_RIGHT }, { "WITH-DUPLICATES", SCOLS_FL_RIGHT },
		{ "DUPLICATE", SCOLS_FL_RIGHT }, { "MAPPINGS", SCOLS_FL_RIGHT }, { "PATH", 0 },
	};
	size_t count = r->file_count < c->top ? r->file_count : c->top;
	struct libscols_table *tb;

	if (!count)
		return 0;
	tb = new_table(c, columns, MP_ARRAY_SIZE(columns));
	if (!tb)
		return -ENOMEM;
	fputs("\nTop files, by frames whose content is also elsewhere:\n", c->out);
	for (size_t i = 0; i < count; i++) {
		const struct mp_file_totals *f = &r->files[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			break;
		set_pages(ln, 0, f->totals.frames, c);
		set_pages(ln, 1, f->totals.frames_with_duplicates, c);
		set_pages(ln, 2, f->totals.duplicate_frames, c);
		set_u64(ln, 3, f->totals.mappings);
		scols_line_set_data(ln, 4, f->path);
	}
	return print_and_free(tb);
}

static int print_top_contents(const struct table_context *c, const struct mp_report *r)
{
	static const struct column columns[] = {
		{ "DIGEST-KEY", 0 }, { "FRAMES", SCOLS_FL_RIGHT }, { "MAPPINGS", SCOLS_FL_RIGHT },
		{ "GROUP", 0 }, { "TASKS", 0 }, { "ZERO-FILLED", 0 },
	};
	size_t count = r->content_count < c->top ? r->content_count : c->top;
	struct libscols_table *tb;

	if (!count)
		return 0;
	tb = new_table(c, columns, MP_ARRAY_SIZE(columns));
	if (!tb)
		return -ENOMEM;
	fputs("\nMost duplicated contents:\n", c->out);
	for (size_t i = 0; i < count; i++) {
		const struct mp_content *content = &r->contents[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char digest[2 * MP_DIGEST_MAX + 1];

		if (!ln)
			break;
		mp_format_digest(digest, sizeof(digest), content);
		scols_line_set_data(ln, 0, digest);
		set_u64(ln, 1, content->frames);
		set_u64(ln, 2, content->mappings);
		scols_line_set_data(ln, 3, mp_group_kind_name(content->group_kind));
		scols_line_set_data(ln, 4, content->external ? "several" : "one");
		scols_line_set_data(ln, 5, content->zero_filled ? "yes" : "no");
	}
	return print_and_free(tb);
}

static int print_summary(const struct table_context *c, const struct mp_report *r)
{
	int rc;

	print_sharing(c, r);
	print_savable(c, r);
	print_ksm(c, r);
	print_warnings(c, r);
	rc = print_top_tasks(c, r);
	if (rc == 0)
		rc = print_top_files(c, r);
	if (rc == 0)
		rc = print_top_contents(c, r);
	return rc;
}

/* ------------------------------------------------------ the breakdowns */

/* Add the columns of every total after the first columns of a breakdown. */
static struct libscols_table *new_totals_table(const struct table_context *c,
					       const struct column *first, size_t count)
{
	struct libscols_table *tb = new_table(c, first, count);

	if (!tb)
		return NULL;
	for (size_t i = 0; i < mp_total_field_count; i++) {
		if (!scols_table_new_column(tb, mp_total_fields[i].header, 0, SCOLS_FL_RIGHT)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

static void set_totals(struct libscols_line *ln, size_t first, const struct mp_totals *t,
		       bool pfn_valid, const struct table_context *c)
{
	for (size_t i = 0; i < mp_total_field_count; i++) {
		const struct total_field *f = &mp_total_fields[i];

		if (f->needs_pfn && !pfn_valid)
			scols_line_set_data(ln, first + i, "-");
		else
			set_pages(ln, first + i, total_value(t, f), c);
	}
}

static int print_by_task(const struct table_context *c, const struct mp_report *r)
{
	static const struct column first[] = {
		{ "PID", SCOLS_FL_RIGHT }, { "COMMAND", 0 }, { "STATUS", 0 },
		{ "KSM-ZERO-PAGES", SCOLS_FL_RIGHT },
	};
	size_t count = r->task_count < c->top ? r->task_count : c->top;
	struct libscols_table *tb = new_totals_table(c, first, MP_ARRAY_SIZE(first));

	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const struct mp_task_totals *t = &r->tasks[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char pid[16];

		if (!ln)
			break;
		snprintf(pid, sizeof(pid), "%d", t->pid);
		scols_line_set_data(ln, 0, pid);
		scols_line_set_data(ln, 1, t->comm);
		scols_line_set_data(ln, 2, mp_task_status_name(t->status));
		scols_line_set_data(ln, 3, "-");
		if (t->ksm.valid)
			set_pages(ln, 3, t->ksm.ksm_zero_pages, c);
		set_totals(ln, MP_ARRAY_SIZE(first), &t->totals, r->pfn_valid, c);
	}
	return print_and_free(tb);
}

static int print_by_file(const struct table_context *c, const struct mp_report *r)
{
	static const struct column first[] = { { "PATH", 0 } };
	size_t count = r->file_count < c->top ? r->file_count : c->top;
	struct libscols_table *tb = new_totals_table(c, first, MP_ARRAY_SIZE(first));

	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			break;
		scols_line_set_data(ln, 0, r->files[i].path);
		set_totals(ln, 1, &r->files[i].totals, r->pfn_valid, c);
	}
	return print_and_free(tb);
}

static int print_by_kind(const struct table_context *c, const struct mp_report *r)
{
	static const struct column first[] = { { "KIND", 0 } };
	struct libscols_table *tb = new_totals_table(c, first, MP_ARRAY_SIZE(first));

	if (!tb)
		return -ENOMEM;
	for (int k = 0; k < MP_KIND_COUNT; k++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			break;
		scols_line_set_data(ln, 0, mp_kind_name(k));
		set_totals(ln, 1, &r->kinds[k], r->pfn_valid, c);
	}
	return print_and_free(tb);
}

int mp_report_print_table_set(FILE *out, const struct mp_report *report, size_t index,
			      size_t count, const struct mp_output_options *options)
{
	struct table_context c = {
		.out = out,
		.options = options,
		.top = options->top ? options->top : 10,
	};

	print_set_line(&c, report, index, count);
	switch (options->by) {
	case MP_VIEW_TASK:
		return print_by_task(&c, report);
	case MP_VIEW_FILE:
		return print_by_file(&c, report);
	case MP_VIEW_KIND:
		return print_by_kind(&c, report);
	default:
		return print_summary(&c, report);
	}
}

int mp_report_print_table(FILE *out, const struct mp_report *const *reports, size_t count,
			  const struct mp_output_options *options)
{
	int rc = 0;

	for (size_t i = 0; i < count && rc == 0; i++) {
		if (i > 0)
			fputc('\n', out);
		rc = mp_report_print_table_set(out, reports[i], i, count, options);
	}
	return rc;
}
