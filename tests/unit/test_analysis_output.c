// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_analysis_output.c - the table, JSON and CSV of a report
 *
 * The report comes from the analysis of a hand-made set: task A maps
 * frames 1 (content X), 2 and 3 (both Y) of /lib/x\xff.so and frame 4
 * (zero-filled) of its heap; task B maps frame 1 too.  So: 5 mappings,
 * 4 frames, 1 shared frame, 1 saved by sharing, 1 duplicate frame.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "output/report_output.h"

struct output {
	struct mp_report *report;
	char *text;
	size_t size;
};

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static void push_page(const struct mp_sink *sink, uint32_t task, uint32_t region, uint64_t pfn,
		      uint64_t content, bool pfn_valid)
{
	struct mp_page p = { .task = task, .region = region, .index = pfn };

	if (pfn_valid) {
		p.pfn = pfn;
		p.kpageflags = 1ull << (region == 0 ? MP_KPF_LRU : MP_KPF_ANON);
		p.mapcount = pfn == 1 ? 2 : 1;
		p.flags = MP_PAGE_PFN_VALID;
	}
	if (!content)
		p.flags |= MP_PAGE_ZERO_FILLED;
	store_le64(p.digest, content);
	assert_int_equal(sink->ops->pages(sink->ctx, &p, 1), 0);
}

static struct mp_report *analyse(bool pfn_valid)
{
	struct mp_analysis_options options = { .per_task = true, .per_file = true,
					       .use_zero_pages = -1 };
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .hash = MP_HASH_XXH3,
				    .digest_size = 8, .flags = pfn_valid ? MP_SET_PFN_VALID : 0,
				    .host = "testhost", .kernel = "6.18" };
	struct mp_task a = { .pid = 10, .comm = "A" }, b = { .pid = 20, .comm = "B" };
	struct mp_region lib = { .task = 0, .kind = MP_REGION_FILE, .inode = 5,
				 .path = "/lib/x\xff.so", .path_size = 10 };
	struct mp_region heap = { .task = 0, .kind = MP_REGION_HEAP, .path = "[heap]",
				  .path_size = 6 };
	struct mp_region lib_b = lib;
	struct mp_set_end end = { 0 };
	struct mp_analysis *analysis;
	struct mp_report *report;
	struct mp_error error = { 0 };
	struct mp_sink sink;

	mp_assert_ok(mp_analysis_open(&analysis, &options, &error), &error);
	sink = mp_analysis_sink(analysis);
	assert_int_equal(sink.ops->begin_set(sink.ctx, &info), 0);
	assert_int_equal(sink.ops->task(sink.ctx, &a), 0);
	assert_int_equal(sink.ops->region(sink.ctx, &lib), 0);
	assert_int_equal(sink.ops->region(sink.ctx, &heap), 0);
	push_page(&sink, 0, 0, 1, 1, pfn_valid);
	push_page(&sink, 0, 0, 2, 2, pfn_valid);
	push_page(&sink, 0, 0, 3, 2, pfn_valid);
	push_page(&sink, 0, 1, 4, 0, pfn_valid);
	assert_int_equal(sink.ops->task(sink.ctx, &b), 0);
	lib_b.task = 1;
	assert_int_equal(sink.ops->region(sink.ctx, &lib_b), 0);
	push_page(&sink, 1, 2, 1, 1, pfn_valid);
	assert_int_equal(sink.ops->end_set(sink.ctx, &end), 0);
	mp_assert_ok(mp_analysis_report(analysis, &report, &error), &error);
	mp_analysis_close(analysis);
	return report;
}

static void print(struct output *o, enum mp_output_format format, enum mp_output_view by,
		  bool bytes)
{
	struct mp_output_options options = { .format = format, .by = by, .bytes = bytes };
	const struct mp_report *reports[1] = { o->report };
	struct mp_error error = { 0 };
	FILE *out;

	free(o->text);
	o->text = NULL;
	out = open_memstream(&o->text, &o->size);
	assert_non_null(out);
	mp_assert_ok(mp_report_print(out, reports, 1, &options, &error), &error);
	fclose(out);
}

static int setup_pfns(void **state)
{
	struct output *o = calloc(1, sizeof(*o));

	o->report = analyse(true);
	*state = o;
	return 0;
}

static int setup_no_pfns(void **state)
{
	struct output *o = calloc(1, sizeof(*o));

	o->report = analyse(false);
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	struct output *o = *state;

	mp_report_free(o->report);
	free(o->text);
	free(o);
	return 0;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("output lacks \"%s\":\n%s", needle, text);
}

static void assert_prefix(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)))
		fail_msg("output does not start with \"%s\":\n%s", prefix, text);
}

static void test_json_numbers(void **state)
{
	struct output *o = *state;

	print(o, MP_OUTPUT_JSON, MP_VIEW_SUMMARY, false);
	assert_contains(o->text, "\"mappings\": 5,");
	assert_contains(o->text, "\"frames\": 4,");
	assert_contains(o->text, "\"shared_frames\": 1,");
	assert_contains(o->text, "\"saved_by_sharing\": 1,");
	assert_contains(o->text, "\"duplicate_frames\": 1,");
	assert_contains(o->text, "\"pfn_valid\": true,");
	assert_contains(o->text, "\"opportunities\": {");
	assert_contains(o->text, "\"pid\": 10,");
	assert_contains(o->text, "\"comm\": \"A\",");
}

/* A byte that is not UTF-8 becomes the code point of its value. */
static void test_json_path_bytes(void **state)
{
	struct output *o = *state;

	print(o, MP_OUTPUT_JSON, MP_VIEW_SUMMARY, false);
	assert_contains(o->text, "\"path\": \"/lib/x\\u00ff.so\",");
}

static void test_json_null_without_pfns(void **state)
{
	struct output *o = *state;

	print(o, MP_OUTPUT_JSON, MP_VIEW_SUMMARY, false);
	assert_contains(o->text, "\"pfn_valid\": false,");
	assert_contains(o->text, "\"shared_frames\": null,");
	assert_contains(o->text, "\"saved_by_sharing\": null,");
	assert_contains(o->text, "\"private_frames\": null,");
	assert_contains(o->text, "\"ksm_saved\": null,");
	/* Each mapping is a frame: 5 frames, Y twice and X twice (the fork). */
	assert_contains(o->text, "\"frames\": 5,");
	assert_contains(o->text, "\"duplicate_frames\": 2,");
}

static void test_csv_columns(void **state)
{
	struct output *o = *state;
	char *second;

	print(o, MP_OUTPUT_CSV, MP_VIEW_SUMMARY, false);
	assert_prefix(o->text, "set,mappings,zero_page_mappings,frames,shared_frames,");
	second = strchr(o->text, '\n') + 1;
	/* set 0, 5 mappings, 0 zero-page mappings, 4 frames, 1 shared frame */
	assert_prefix(second, "0,5,0,4,1,");
}

static void test_csv_empty_without_pfns(void **state)
{
	struct output *o = *state;
	char *second;

	print(o, MP_OUTPUT_CSV, MP_VIEW_SUMMARY, false);
	second = strchr(o->text, '\n') + 1;
	/* set 0, 5 mappings, zero-page mappings unknown, 5 frames, shared unknown */
	assert_prefix(second, "0,5,,5,,");
}

static void test_table_units(void **state)
{
	struct output *o = *state;

	print(o, MP_OUTPUT_TABLE, MP_VIEW_SUMMARY, false);
	assert_contains(o->text, "Resident:        16K in 4 frames, 5 mappings");
	assert_contains(o->text, "Could be merged: 4K in 1 duplicate frames, 25.0% of frames");
	print(o, MP_OUTPUT_TABLE, MP_VIEW_SUMMARY, true);
	assert_contains(o->text, "Resident:        16384 in 4 frames, 5 mappings");
}

/* Sizes as util-linux prints them: one decimal below 10, never a ".0". */
static void test_size_units(void **state)
{
	static const struct { uint64_t pages; const char *text; } cases[] = {
		{ 0, "0B" }, { 1, "4K" }, { 255, "1020K" }, { 256, "1M" },
		{ 262, "1M" },		/* 1.023 MiB: "1.0M" before */
		{ 280, "1.1M" }, { 1023, "4M" },
		{ 2559, "10M" },	/* 9.996 MiB rounds up to a whole 10 */
		{ 26000, "102M" }, { 262144, "1G" },
	};
	char text[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mp_format_pages(text, sizeof(text), cases[i].pages, false);
		assert_string_equal(text, cases[i].text);
	}
	mp_format_pages(text, sizeof(text), 262, true);
	assert_string_equal(text, "1073152");
}

static void test_table_by_task(void **state)
{
	struct output *o = *state;

	print(o, MP_OUTPUT_TABLE, MP_VIEW_TASK, true);
	assert_contains(o->text, "PID");
	assert_contains(o->text, "KSM-ZERO-PAGES");
	assert_contains(o->text, "WITH-DUPLICATES");
	assert_contains(o->text, " A ");
	assert_contains(o->text, " B ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),
		cmocka_unit_test_setup_teardown(test_json_numbers, setup_pfns, teardown),
		cmocka_unit_test_setup_teardown(test_json_path_bytes, setup_pfns, teardown),
		cmocka_unit_test_setup_teardown(test_json_null_without_pfns, setup_no_pfns,
						teardown),
		cmocka_unit_test_setup_teardown(test_csv_columns, setup_pfns, teardown),
		cmocka_unit_test_setup_teardown(test_csv_empty_without_pfns, setup_no_pfns,
						teardown),
		cmocka_unit_test_setup_teardown(test_table_units, setup_pfns, teardown),
		cmocka_unit_test_setup_teardown(test_table_by_task, setup_pfns, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
