// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_csv.c - print reports as CSV (RFC 4180)
 *
 * One header line, then one row per set (the default view) or per task,
 * file or kind of each set.  The first column is the set's number from 1,
 * so that a file with a series of sets gives one table.  Numbers count
 * 4 KiB pages; a number that needs PFNs is empty when the set has none.
 */
#include <string.h>

#include "output/report_output.h"

static void csv_quoted(FILE *out, const char *text)
{
	fputc('"', out);
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static void csv_header(FILE *out, enum mp_output_view by)
{
	static const char *const first[] = {
		[MP_VIEW_SUMMARY] = "set",
		[MP_VIEW_TASK] = "set,pid,comm,status,ksm_zero_pages,ksm_merging_pages",
		[MP_VIEW_FILE] = "set,path,dev,inode",
		[MP_VIEW_KIND] = "set,kind",
	};

	fputs(first[by], out);
	for (size_t i = 0; i < mp_total_field_count; i++)
		fprintf(out, ",%s", mp_total_fields[i].key);
	for (size_t i = 0; i < mp_opportunity_field_count; i++)
		fprintf(out, ",opportunities_%s", mp_opportunity_fields[i].key);
	for (int k = 0; k < MP_KIND_COUNT; k++)
		fprintf(out, ",frames_%s", mp_kind_name(k));
	fputc('\n', out);
}

static void csv_totals(FILE *out, const struct mp_totals *t, bool pfn_valid)
{
	for (size_t i = 0; i < mp_total_field_count; i++) {
		const struct total_field *f = &mp_total_fields[i];

		if (f->needs_pfn && !pfn_valid)
			fputc(',', out);
		else
			fprintf(out, ",%llu", (unsigned long long)total_value(t, f));
	}
	for (size_t i = 0; i < mp_opportunity_field_count; i++)
		fprintf(out, ",%llu",
			(unsigned long long)total_value(t, &mp_opportunity_fields[i]));
	for (int k = 0; k < MP_KIND_COUNT; k++)
		fprintf(out, ",%llu", (unsigned long long)t->frames_by_kind[k]);
	fputc('\n', out);
}

static void csv_tasks(FILE *out, const struct mp_report *r, size_t set)
{
	for (size_t i = 0; i < r->task_count; i++) {
		const struct mp_task_totals *t = &r->tasks[i];

		fprintf(out, "%zu,%d,", set, t->pid);
		csv_quoted(out, t->comm);
		fprintf(out, ",%s,", mp_task_status_name(t->status));
		if (t->ksm.valid)
			fprintf(out, "%llu,%llu", (unsigned long long)t->ksm.ksm_zero_pages,
				(unsigned long long)t->ksm.ksm_merging_pages);
		else
			fputc(',', out);
		csv_totals(out, &t->totals, r->pfn_valid);
	}
}

static void csv_files(FILE *out, const struct mp_report *r, size_t set)
{
	for (size_t i = 0; i < r->file_count; i++) {
		const struct mp_file_totals *f = &r->files[i];

		fprintf(out, "%zu,", set);
		csv_quoted(out, f->path);
		fprintf(out, ",%llu,%llu", (unsigned long long)f->dev,
			(unsigned long long)f->inode);
		csv_totals(out, &f->totals, r->pfn_valid);
	}
}

int mp_report_print_csv(FILE *out, const struct mp_report *const *reports, size_t count,
			const struct mp_output_options *options)
{
	enum mp_output_view by = options->by;

	if ((unsigned)by > MP_VIEW_KIND)
		by = MP_VIEW_SUMMARY;
	csv_header(out, by);
	for (size_t s = 0; s < count; s++) {
		const struct mp_report *r = reports[s];

		switch (by) {
		case MP_VIEW_TASK:
			csv_tasks(out, r, s);
			break;
		case MP_VIEW_FILE:
			csv_files(out, r, s);
			break;
		case MP_VIEW_KIND:
			for (int k = 0; k < MP_KIND_COUNT; k++) {
				fprintf(out, "%zu,%s", s, mp_kind_name(k));
				csv_totals(out, &r->kinds[k], r->pfn_valid);
			}
			break;
		default:
			fprintf(out, "%zu", s);
			csv_totals(out, &r->totals, r->pfn_valid);
			break;
		}
	}
	return 0;
}
