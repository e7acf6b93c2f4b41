// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_print.c - write the page-cache report as tables or JSON
 *
 * Tables go through libsmartcols, as in util-linux.  The JSON form is one
 * object whose keys docs/pagecache.md lists; a caller embeds it as the
 * value of "page_cache" in its own document.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/json.h"
#include "output/report_output.h"
#include "pagecache/pagecache_internal.h"

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Write s as a JSON string, escaped as the report printers escape paths. */
static void json_string(FILE *out, const char *s)
{
	struct mp_json json;

	mp_json_init(&json, out);
	mp_json_bytes(&json, NULL, s, strlen(s));
}

static void json_number(FILE *out, const char *key, uint64_t value, bool last)
{
	fprintf(out, "    \"%s\": %" PRIu64 "%s\n", key, value, last ? "" : ",");
}

static void write_json_pairs(FILE *out, const struct mp_pagecache_report *r)
{
	fputs("    \"file_pairs\": [", out);
	for (size_t i = 0; i < r->pairs_shown; i++) {
		fputs(i ? ",\n      {\"first\": " : "\n      {\"first\": ", out);
		json_string(out, r->pairs[i].first);
		fputs(", \"second\": ", out);
		json_string(out, r->pairs[i].second);
		fprintf(out, ", \"pages\": %" PRIu64 "}", r->pairs[i].pages);
	}
	fputs(r->pairs_shown ? "\n    ],\n" : "],\n", out);
}

static void write_json_tasks(FILE *out, const struct mp_pagecache_report *r)
{
	fputs("    \"tasks\": [", out);
	for (size_t i = 0; i < r->task_count; i++) {
		const struct mp_pagecache_task *t = &r->tasks[i];

		fprintf(out, "%s      {\"pid\": %d, \"comm\": ", i ? ",\n" : "\n", t->pid);
		json_string(out, t->comm);
		fprintf(out, ", \"frames\": %" PRIu64 ", \"cache_duplicate_frames\": %" PRIu64
			", \"cache_duplicate_frames_nonzero\": %" PRIu64 "}",
			t->frames, t->cache_duplicate_frames, t->cache_duplicate_frames_nonzero);
	}
	fputs(r->task_count ? "\n    ]\n" : "]\n", out);
}

static void write_json(FILE *out, const struct mp_pagecache_report *r)
{
	fprintf(out, "{\n    \"pfn_valid\": %s,\n", r->pfn_valid ? "true" : "false");
	json_number(out, "files", r->files, false);
	json_number(out, "files_unknown", r->files_unknown, false);
	json_number(out, "frames", r->frames, false);
	json_number(out, "zero_filled_frames", r->zero_filled_frames, false);
	json_number(out, "duplicate_frames", r->duplicate_frames, false);
	json_number(out, "duplicate_frames_nonzero", r->duplicate_frames_nonzero, false);
	fprintf(out, "    \"duplicate_percent\": %.2f,\n",
		percent(r->duplicate_frames, r->frames));
	json_number(out, "file_pair_count", r->pair_count, false);
	write_json_pairs(out, r);
	json_number(out, "task_frames", r->task_frames, false);
	json_number(out, "cache_duplicate_frames", r->cache_duplicate_frames, false);
	json_number(out, "cache_duplicate_frames_nonzero", r->cache_duplicate_frames_nonzero,
		    false);
	json_number(out, "contents_three_plus", r->contents_three_plus, false);
	json_number(out, "frames_three_plus", r->frames_three_plus, false);
	json_number(out, "contents_three_plus_mixed", r->contents_three_plus_mixed, false);
	json_number(out, "frames_three_plus_mixed", r->frames_three_plus_mixed, false);
	write_json_tasks(out, r);
	fputs("}", out);
}

/* Add a row of cells to a table; NULL ends the cells. */
static int add_row(struct libscols_table *table, const char *first, ...)
{
	struct libscols_line *line = scols_table_new_line(table, NULL);
	const char *cell = first;
	va_list args;
	size_t i = 0;

	if (!line)
		return -ENOMEM;
	va_start(args, first);
	for (; cell; cell = va_arg(args, const char *), i++) {
		if (scols_line_set_data(line, i, cell) < 0) {
			va_end(args);
			return -ENOMEM;
		}
	}
	va_end(args);
	return 0;
}

/* A table with the named columns; numbers are right-aligned. */
static struct libscols_table *new_table(FILE *out, const char *const *names, const bool *numeric,
					size_t count)
{
	struct libscols_table *table = scols_new_table();

	if (!table)
		return NULL;
	scols_table_set_stream(table, out);
	for (size_t i = 0; i < count; i++) {
		if (!scols_table_new_column(table, names[i], 0, numeric[i] ? SCOLS_FL_RIGHT : 0)) {
			scols_unref_table(table);
			return NULL;
		}
	}
	return table;
}

static int write_pair_table(FILE *out, const struct mp_pagecache_report *r)
{
	static const char *const names[] = { "PAGES", "FIRST", "SECOND" };
	static const bool numeric[] = { true, false, false };
	struct libscols_table *table;
	char pages[32];
	int rc = 0;

	if (!r->pairs_shown)
		return 0;
	table = new_table(out, names, numeric, 3);
	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < r->pairs_shown && rc == 0; i++) {
		snprintf(pages, sizeof(pages), "%" PRIu64, r->pairs[i].pages);
		rc = add_row(table, pages, r->pairs[i].first, r->pairs[i].second, NULL);
	}
	fprintf(out, "\nFiles that repeat cached pages (%" PRIu64 " %s):\n", r->pair_count,
		r->pair_count == 1 ? "pair" : "pairs");
	if (rc == 0)
		rc = scols_print_table(table);
	scols_unref_table(table);
	return rc;
}

static int write_task_table(FILE *out, const struct mp_pagecache_report *r)
{
	static const char *const names[] = { "PID", "COMM", "FRAMES", "CACHE-DUP", "NONZERO" };
	static const bool numeric[] = { true, false, true, true, true };
	struct libscols_table *table;
	char pid[16], frames[32], dup[32], nonzero[32];
	int rc = 0;

	if (!r->task_count)
		return 0;
	table = new_table(out, names, numeric, 5);
	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < r->task_count && rc == 0; i++) {
		const struct mp_pagecache_task *t = &r->tasks[i];

		snprintf(pid, sizeof(pid), "%d", t->pid);
		snprintf(frames, sizeof(frames), "%" PRIu64, t->frames);
		snprintf(dup, sizeof(dup), "%" PRIu64, t->cache_duplicate_frames);
		snprintf(nonzero, sizeof(nonzero), "%" PRIu64, t->cache_duplicate_frames_nonzero);
		rc = add_row(table, pid, t->comm, frames, dup, nonzero, NULL);
	}
	fputs("\nTask pages that repeat a cached file page:\n", out);
	if (rc == 0)
		rc = scols_print_table(table);
	scols_unref_table(table);
	return rc;
}

static void write_summary(FILE *out, const struct mp_pagecache_report *r)
{
	fputs("Page cache:\n", out);
	fprintf(out, "  files with cached pages     %" PRIu64 "\n", r->files);
	fprintf(out, "  files, residency unknown    %" PRIu64 "\n", r->files_unknown);
	fprintf(out, "  cached frames               %" PRIu64 "\n", r->frames);
	fprintf(out, "  duplicate frames            %" PRIu64 " (%.2f %%)\n", r->duplicate_frames,
		percent(r->duplicate_frames, r->frames));
	fprintf(out, "  without zero-filled         %" PRIu64 " (%.2f %%)\n",
		r->duplicate_frames_nonzero, percent(r->duplicate_frames_nonzero, r->frames));
	if (r->task_count) {
		/* Only anonymous frames: a task's file page is a cached page itself. */
		fprintf(out, "  anonymous task frames equal to a cached page  %" PRIu64 " (%" PRIu64
			" not zero-filled)\n", r->cache_duplicate_frames,
			r->cache_duplicate_frames_nonzero);
	}
	fprintf(out, "  contents held 3+ times      %" PRIu64 " in %" PRIu64 " frames (%" PRIu64
		" of them by cache and tasks)\n", r->contents_three_plus, r->frames_three_plus,
		r->contents_three_plus_mixed);
	if (!r->pfn_valid)
		fputs("  (no PFNs: frames told apart by file and offset)\n", out);
}

int mp_pagecache_report_write(FILE *out, const struct mp_pagecache_report *report, bool json)
{
	int rc = 0;

	if (json) {
		write_json(out, report);
	} else {
		write_summary(out, report);
		rc = write_pair_table(out, report);
		if (rc == 0)
			rc = write_task_table(out, report);
	}
	if (rc < 0 || ferror(out))
		return -EIO;
	return 0;
}

/* Print the JSON of the reports with a "page_cache" member added to its outer object. */
static int print_json_with_cache(FILE *out, const struct mp_report *const *reports,
				 const struct mp_pagecache_report *const *caches, size_t count,
				 const struct mp_output_options *options, struct mp_error *error)
{
	char *text = NULL, *end;
	size_t size = 0;
	FILE *memory = open_memstream(&text, &size);
	int rc;

	if (!memory)
		return mp_fail_errno(error, -errno, "cannot print the report");
	rc = mp_report_print(memory, reports, count, options, error);
	fclose(memory);
	end = text ? strrchr(text, '}') : NULL;
	if (rc == 0 && !end)
		rc = mp_fail(error, -EINVAL, "cannot print the report: no JSON object");
	if (rc < 0) {
		free(text);
		return rc;
	}

	/* One set: "page_cache" is an object; several: an array beside "sets". */
	fwrite(text, 1, (size_t)(end - text), out);
	fputs(",\n  \"page_cache\": ", out);
	if (count != 1)
		fputc('[', out);
	for (size_t i = 0; i < count; i++) {
		if (i)
			fputs(", ", out);
		if (caches[i])
			write_json(out, caches[i]);
		else
			fputs("null", out);
	}
	fputs(count != 1 ? "]\n}\n" : "\n}\n", out);
	free(text);
	return ferror(out) ? mp_fail(error, -EIO, "cannot print the report") : 0;
}

int mp_report_print_with_pagecache(FILE *out, const struct mp_report *const *reports,
				   const struct mp_pagecache_report *const *caches, size_t count,
				   const struct mp_output_options *options, struct mp_error *error)
{
	bool any = false;
	int rc;

	for (size_t i = 0; i < count; i++)
		any |= caches[i] != NULL;
	if (!any)
		return mp_report_print(out, reports, count, options, error);
	if (options->format == MP_OUTPUT_JSON)
		return print_json_with_cache(out, reports, caches, count, options, error);
	if (options->format != MP_OUTPUT_TABLE)
		return mp_report_print(out, reports, count, options, error);

	/* Each set's page cache right after its own report. */
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			fputc('\n', out);
		rc = mp_report_print_table_set(out, reports[i], i, count, options);
		if (rc == 0 && caches[i]) {
			fputc('\n', out);
			rc = mp_pagecache_report_write(out, caches[i], false);
		}
		if (rc < 0)
			return mp_fail(error, -EIO, "cannot print the report");
	}
	if (fflush(out) != 0 || ferror(out))
		return mp_fail(error, -EIO, "cannot print the report");
	return 0;
}
