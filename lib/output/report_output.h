/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report_output.h - private helpers of the report printers (table, JSON, CSV)
 */
#ifndef MEMPRINT_REPORT_OUTPUT_H
#define MEMPRINT_REPORT_OUTPUT_H

#include <stdio.h>

#include "internal.h"

/* One number of struct mp_totals as the printers name it. */
struct total_field {
	const char *key;	/* JSON key and CSV header */
	const char *header;	/* table column */
	size_t offset;		/* in struct mp_totals */
	bool needs_pfn;		/* unavailable when the set has no PFNs */
};

extern const struct total_field mp_total_fields[];
extern const size_t mp_total_field_count;
extern const struct total_field mp_opportunity_fields[];
extern const size_t mp_opportunity_field_count;

static inline uint64_t total_value(const struct mp_totals *totals, const struct total_field *f)
{
	uint64_t value;

	memcpy(&value, (const char *)totals + f->offset, sizeof(value));
	return value;
}

/* Format pages as bytes, exact or in human units (4.0K, 1.5M, 12G) as util-linux does. */
void mp_format_pages(char *buffer, size_t size, uint64_t pages, bool exact_bytes);

/* Percentage of part in whole, 0 when whole is 0. */
double mp_percent(uint64_t part, uint64_t whole);

const char *mp_task_status_name(uint32_t status);
const char *mp_group_kind_name(uint32_t group_kind);
void mp_format_digest(char *buffer, size_t size, const struct mp_content *content);

int mp_report_print_table(FILE *out, const struct mp_report *const *reports, size_t count,
			  const struct mp_output_options *options);
/* The table of one report, set index of count. */
int mp_report_print_table_set(FILE *out, const struct mp_report *report, size_t index,
			      size_t count, const struct mp_output_options *options);
int mp_report_print_json(FILE *out, const struct mp_report *const *reports, size_t count,
			 const struct mp_output_options *options);
int mp_report_print_csv(FILE *out, const struct mp_report *const *reports, size_t count,
			const struct mp_output_options *options);

#endif /* MEMPRINT_REPORT_OUTPUT_H */
