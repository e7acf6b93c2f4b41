// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_print.c - print analysis reports as a table, JSON or CSV
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "output/report_output.h"

#define FIELD(name, header, needs_pfn) \
	{ #name, header, offsetof(struct mp_totals, name), needs_pfn }

/* The keys of a set, a task and a file, in output order. */
const struct total_field mp_total_fields[] = {
	FIELD(mappings, "MAPPINGS", false),
	FIELD(zero_page_mappings, "ZERO-PAGE", true),
	FIELD(frames, "FRAMES", false),
	FIELD(shared_frames, "SHARED", true),
	FIELD(shared_frames_kernel, "SHARED-KERNEL", true),
	FIELD(saved_by_sharing, "SAVED", true),
	FIELD(duplicate_frames, "DUPLICATE", false),
	FIELD(duplicate_frames_nonzero, "DUPLICATE-NONZERO", false),
	FIELD(zero_filled_frames, "ZERO-FILLED", false),
	FIELD(private_frames, "PRIVATE", true),
	FIELD(frames_with_duplicates, "WITH-DUPLICATES", false),
	FIELD(ksm_frames, "KSM-FRAMES", true),
	FIELD(ksm_saved, "KSM-SAVED", true),
	FIELD(ksm_remaining, "KSM-REMAINING", true),
	FIELD(ksm_potential, "KSM-POTENTIAL", false),
};
const size_t mp_total_field_count = MP_ARRAY_SIZE(mp_total_fields);

#define OPPORTUNITY(name, header) \
	{ #name, header, offsetof(struct mp_totals, opportunities.name), false }

const struct total_field mp_opportunity_fields[] = {
	OPPORTUNITY(anonymous, "ANONYMOUS"),
	OPPORTUNITY(named, "NAMED"),
	OPPORTUNITY(mixed, "MIXED"),
	OPPORTUNITY(internal, "INTERNAL"),
	OPPORTUNITY(external, "EXTERNAL"),
};
const size_t mp_opportunity_field_count = MP_ARRAY_SIZE(mp_opportunity_fields);

void mp_format_pages(char *buffer, size_t size, uint64_t pages, bool exact_bytes)
{
	static const char units[] = "KMGTPE";
	double value = (double)pages * 4;	/* KiB */
	int unit = 0;

	if (exact_bytes) {
		snprintf(buffer, size, "%llu", (unsigned long long)pages * MP_PAGE_SIZE);
		return;
	}
	if (!pages) {
		snprintf(buffer, size, "0B");
		return;
	}
	while (value >= 1024 && units[unit + 1]) {
		value /= 1024;
		unit++;
	}
	/* One decimal below 10, as util-linux prints sizes, but never a ".0". */
	if (value >= 10 || (uint64_t)(value * 10 + 0.5) % 10 == 0)
		snprintf(buffer, size, "%.0f%c", value, units[unit]);
	else
		snprintf(buffer, size, "%.1f%c", value, units[unit]);
}

double mp_percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

const char *mp_task_status_name(uint32_t status)
{
	switch (status) {
	case MP_TASK_COMPLETE:
		return "complete";
	case MP_TASK_EXITED:
		return "exited";
	case MP_TASK_EXECED:
		return "execed";
	case MP_TASK_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

const char *mp_group_kind_name(uint32_t group_kind)
{
	static const char *const names[] = { "anonymous", "named", "mixed" };

	return group_kind < MP_ARRAY_SIZE(names) ? names[group_kind] : "unknown";
}

void mp_format_digest(char *buffer, size_t size, const struct mp_content *content)
{
	size_t used = 0;

	buffer[0] = '\0';
	for (uint32_t i = 0; i < content->digest_size && used + 3 <= size; i++)
		used += snprintf(buffer + used, size - used, "%02x", content->digest[i]);
}

int mp_report_print(FILE *out, const struct mp_report *const *reports, size_t count,
		    const struct mp_output_options *options, struct mp_error *error)
{
	struct mp_output_options defaults = { 0 };
	int rc;

	if (!options)
		options = &defaults;
	switch (options->format) {
	case MP_OUTPUT_TABLE:
		rc = mp_report_print_table(out, reports, count, options);
		break;
	case MP_OUTPUT_JSON:
		rc = mp_report_print_json(out, reports, count, options);
		break;
	case MP_OUTPUT_CSV:
		rc = mp_report_print_csv(out, reports, count, options);
		break;
	default:
		return mp_fail(error, -EINVAL, "invalid output format %d", options->format);
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	if (rc < 0)
		return mp_fail_errno(error, rc, "cannot print the report");
	return 0;
}
