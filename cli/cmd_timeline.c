// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_timeline.c - memprint timeline: sharing over time in a series file
 *
 * Streams the sets of a snapshot file through two sinks: the page-cache
 * analysis of the sets that include the page cache, and the timeline
 * engine (churn, stable pages, lifetimes).  The per-set analysis (the
 * numbers of memprint analyze) reads the file on a second thread
 * (series_analysis.c).  Only one row per set is kept for the output,
 * never the sets themselves.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols/libsmartcols.h>

#include "cli.h"
#include "options.h"
#include "output/report_output.h"
#include "series_analysis.h"
#include "timeline_cache.h"

enum output_mode { OUTPUT_TABLE, OUTPUT_CSV, OUTPUT_JSON };

#define SECTION_LIFETIMES (1u << 0)
#define SECTION_CHURN (1u << 1)
#define SECTION_KSM (1u << 2)

/* The printed numbers of one set. */
struct set_row {
	struct mp_timeline_set series;	/* from the timeline engine */
	struct mp_totals totals;	/* from the analysis of the set */
	bool pfn_valid;
	struct timeline_cache_row cache;	/* from the page-cache analysis of the set */
};

struct timeline_ctl {
	const char *path;
	bool damaged;			/* corrupt data ended the series early */
	enum output_mode output;
	unsigned sections;
	bool bytes;
	uint32_t stable_sets;

	struct series_analysis *analysis;
	struct timeline_cache *cache;
	bool any_cache;			/* a set includes the page cache: print its columns */
	struct mp_timeline *timeline;
	struct mp_timeline_summary *summary;
	struct set_row *rows;
	size_t row_count, row_capacity;
	bool warned_pfn;
	struct mp_error error;
};

static void print_help(void)
{
	fputs("Usage:\n"
	      " memprint timeline [options] FILE\n\n"
	      "Show how sharing changes over a series of snapshot sets (as written by\n"
	      "memprint watch): the numbers of each set, churn, stable pages, the\n"
	      "lifetimes of sharing opportunities and how far KSM lags behind.\n\n"
	      "Sections (without one, the numbers of each set):\n"
	      "  -l, --lifetimes       lifetime distributions of contents and of merges\n"
	      "  -c, --churn           churn per interval and per task, stable pages\n"
	      "  -k, --ksm             KSM lag per set and as a share of KSM potential\n"
	      "  -s, --stable-sets N   a stable page kept its content for N sets (default 4)\n\n"
	      "Output:\n"
	      "  -b, --bytes           print sizes in bytes, not in human units\n"
	      "  -J, --json            print JSON with every section, in 4 KiB pages\n"
	      "      --csv             print CSV, in 4 KiB pages\n"
	      "  -h, --help            display this help\n\n"
	      "A number that needs PFNs is '-' in tables, empty in CSV and null in JSON\n"
	      "for a set taken without them (without CAP_SYS_ADMIN).\n\n"
	      "Exit status: 0 success, 1 usage error, 2 runtime failure.\n"
	      "See memprint-timeline(1) for the terms.\n",
	      stdout);
}

static int parse_args(struct timeline_ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "lifetimes", no_argument, NULL, 'l' },
		{ "churn", no_argument, NULL, 'c' },
		{ "ksm", no_argument, NULL, 'k' },
		{ "stable-sets", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "csv", no_argument, NULL, 'C' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long value;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lcks:Jbh", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error("timeline", c, argv);
		switch (c) {
		case 'l':
			ctl->sections |= SECTION_LIFETIMES;
			break;
		case 'c':
			ctl->sections |= SECTION_CHURN;
			break;
		case 'k':
			ctl->sections |= SECTION_KSM;
			break;
		case 's':
			errno = 0;
			value = strtol(optarg, &end, 10);
			if (errno || *end || value < 1 || value > 1000000)
				return cli_usage_error("timeline", "invalid --stable-sets '%s': "
						       "expected a number of sets, 1 or more", optarg);
			ctl->stable_sets = (uint32_t)value;
			break;
		case 'J':
			if (ctl->output == OUTPUT_CSV)
				return cli_usage_error("timeline", "--json and --csv exclude each other");
			ctl->output = OUTPUT_JSON;
			break;
		case 'C':
			if (ctl->output == OUTPUT_JSON)
				return cli_usage_error("timeline", "--json and --csv exclude each other");
			ctl->output = OUTPUT_CSV;
			break;
		case 'b':
			ctl->bytes = true;
			break;
		case 'h':
			print_help();
			return -1;
		default:
			return cli_usage_error("timeline", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("timeline", optind == argc ? "no snapshot file given" :
				       "one snapshot file expected, got %d", argc - optind);
	ctl->path = argv[optind];
	return 0;
}

/* The plural ending of a count: "1 set", "2 sets". */
static const char *plural(uint64_t count)
{
	return count == 1 ? "" : "s";
}

/* ------------------------------------------------------------- reading */

/* Called by the timeline at the end of each set: take the analysis report of the set. */
static int add_row(void *ctx, const struct mp_timeline_set *set)
{
	struct timeline_ctl *ctl = ctx;
	struct mp_report *report;
	struct set_row *row;
	int rc;

	if (ctl->row_count == ctl->row_capacity) {
		size_t capacity = ctl->row_capacity ? ctl->row_capacity * 2 : 64;
		struct set_row *rows = realloc(ctl->rows, capacity * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		ctl->rows = rows;
		ctl->row_capacity = capacity;
	}
	rc = series_analysis_next(ctl->analysis, &report, &ctl->error);
	if (rc < 0)
		return rc;

	row = &ctl->rows[ctl->row_count++];
	row->series = *set;
	row->totals = report->totals;
	row->pfn_valid = report->pfn_valid;
	rc = timeline_cache_take_row(ctl->cache, &row->cache, &ctl->error);
	if (rc < 0) {
		mp_report_free(report);
		return rc;
	}
	ctl->any_cache |= row->cache.present;
	if (!report->pfn_valid && !ctl->warned_pfn) {
		cli_warn("%s: set %u was taken without PFNs (without CAP_SYS_ADMIN): each "
			 "mapping counts as a frame, and shared frames and KSM saved are unknown",
			 ctl->path, set->index);
		ctl->warned_pfn = true;
	}
	mp_report_free(report);
	return 0;
}

static int open_sinks(struct timeline_ctl *ctl, struct mp_tee **tee)
{
	struct mp_timeline_options options = {
		.stable_sets = ctl->stable_sets,
		.set_done = add_row,
		.set_done_ctx = ctl,
	};
	struct mp_analysis_options analysis_options = { .use_zero_pages = -1 };
	struct mp_sink sinks[3];
	size_t count = 0;
	int rc;

	rc = series_analysis_start(&ctl->analysis, ctl->path, &analysis_options, &ctl->error);
	if (rc < 0)
		return rc;
	rc = timeline_cache_open(&ctl->cache, &ctl->error);
	if (rc < 0)
		return rc;
	rc = mp_timeline_open(&ctl->timeline, &options, &ctl->error);
	if (rc < 0)
		return rc;

	/* The analyses first, so that their rows are ready when the timeline ends a set. */
	if (series_analysis_sink(ctl->analysis, &sinks[count]))
		count++;
	sinks[count++] = timeline_cache_sink(ctl->cache);
	sinks[count++] = mp_timeline_sink(ctl->timeline);
	return mp_tee_open(tee, sinks, count);
}

/* The timeline's message, if it failed; NULL before it was opened. */
static const struct mp_error *timeline_error(const struct timeline_ctl *ctl)
{
	const struct mp_error *error;

	if (!ctl->timeline)
		return NULL;
	error = mp_timeline_sink(ctl->timeline).error;
	return error && error->message[0] ? error : NULL;
}

static bool sink_failed(struct timeline_ctl *ctl)
{
	return ctl->error.message[0] || timeline_error(ctl);
}

/* The message of whichever part failed: the reader, a sink, or this command. */
static int report_failure(struct timeline_ctl *ctl, const struct mp_error *error, int rc)
{
	if (error->message[0])
		return cli_report_error(error, rc);
	if (ctl->error.message[0])
		return cli_report_error(&ctl->error, rc);
	if (timeline_error(ctl))
		return cli_report_error(timeline_error(ctl), rc);
	cli_warn("%s: %s", ctl->path, mp_strerror(rc));
	return EXIT_RUNTIME;
}

/*
 * Read every complete set.  A file cut short by a writer that was killed
 * ends in a set without its end record: the sets before it are reported,
 * with a warning and exit status 0.  After corrupt data the sets before it
 * are reported too, but the exit status is 2 (ctl->damaged).
 */
static int read_series(struct timeline_ctl *ctl)
{
	struct mp_reader *reader = NULL;
	struct mp_error error = { 0 };
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	int rc;

	rc = open_sinks(ctl, &tee);
	if (rc < 0)
		return report_failure(ctl, &error, rc);
	rc = mp_reader_open(&reader, ctl->path, &error);
	if (rc < 0) {
		mp_tee_close(tee);
		return cli_report_error(&error, rc);
	}

	sink = mp_tee_sink(tee);
	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0)
		;
	if (rc == -EBADMSG && !sink_failed(ctl) && ctl->row_count) {
		cli_warn("%s", error.message);
		cli_warn("%s: reporting the %zu complete set%s before it", ctl->path,
			 ctl->row_count, plural(ctl->row_count));
		ctl->damaged = !mp_reader_torn(reader);
		rc = 0;
	}
	mp_reader_close(reader);
	mp_tee_close(tee);
	if (rc < 0)
		return report_failure(ctl, &error, rc);

	rc = mp_timeline_finish(ctl->timeline, &ctl->summary, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	return 0;
}

/* ------------------------------------------------------------- fields */

enum field_source { FROM_TOTALS, FROM_SERIES, FROM_SPECIAL };
enum special_field { FIELD_SET, FIELD_TIME, FIELD_DURATION, FIELD_LAG_SHARE, FIELD_TRACKED };

/* A column of the per-set output: its key and where its value is. */
struct field {
	const char *key;
	enum field_source source;
	size_t offset;			/* of a uint64_t, or an enum special_field */
	bool csv_only;			/* JSON nests it under "opportunities" */
};

#define TOTALS(key, member) { key, FROM_TOTALS, offsetof(struct mp_totals, member), false }
#define OPPORTUNITIES(key, member) \
	{ key, FROM_TOTALS, offsetof(struct mp_totals, opportunities.member), true }
#define SERIES(key, member) { key, FROM_SERIES, offsetof(struct mp_timeline_set, member), false }
#define SPECIAL(key, which) { key, FROM_SPECIAL, which, false }

static const struct field set_fields[] = {
	SPECIAL("set", FIELD_SET),
	SPECIAL("time", FIELD_TIME),
	SPECIAL("duration_ms", FIELD_DURATION),
	TOTALS("mappings", mappings),
	TOTALS("zero_page_mappings", zero_page_mappings),
	TOTALS("frames", frames),
	TOTALS("shared_frames", shared_frames),
	TOTALS("saved_by_sharing", saved_by_sharing),
	TOTALS("duplicate_frames", duplicate_frames),
	TOTALS("duplicate_frames_nonzero", duplicate_frames_nonzero),
	TOTALS("zero_filled_frames", zero_filled_frames),
	TOTALS("private_frames", private_frames),
	TOTALS("ksm_frames", ksm_frames),
	TOTALS("ksm_saved", ksm_saved),
	TOTALS("ksm_remaining", ksm_remaining),
	TOTALS("ksm_potential", ksm_potential),
	SPECIAL("ksm_lag_share", FIELD_LAG_SHARE),
	OPPORTUNITIES("opportunities_anonymous", anonymous),
	OPPORTUNITIES("opportunities_named", named),
	OPPORTUNITIES("opportunities_mixed", mixed),
	OPPORTUNITIES("opportunities_internal", internal),
	OPPORTUNITIES("opportunities_external", external),
	SERIES("opportunity_digests", opportunities),
	SERIES("opportunity_mappings", opportunity_mappings),
	SPECIAL("tracked_mappings", FIELD_TRACKED),
	SERIES("common_mappings", common_mappings),
	SERIES("churn", churn),
	SERIES("new_mappings", new_mappings),
	SERIES("gone_mappings", gone_mappings),
	SERIES("stable_mappings", stable_mappings),
	SERIES("ksm_pages_shared", ksm.pages_shared),
	SERIES("ksm_pages_sharing", ksm.pages_sharing),
	SERIES("ksm_full_scans", ksm.full_scans),
	SERIES("ksm_merging_pages", ksm_merging_pages),
	SERIES("ksm_zero_pages", ksm_zero_pages),
};

#define FIELD_COUNT (sizeof(set_fields) / sizeof(set_fields[0]))

static uint64_t field_u64(const struct set_row *row, const struct field *field)
{
	const char *base = field->source == FROM_TOTALS ? (const char *)&row->totals :
			   (const char *)&row->series;
	uint64_t value;

	memcpy(&value, base + field->offset, sizeof(value));
	return value;
}

/*
 * Whether the per-set analysis leaves a number unknown without PFNs: the
 * fields that memprint analyze prints as null, and the KSM lag, which is
 * made of ksm_remaining.
 */
static bool field_needs_pfn(const struct field *field)
{
	if (field->source == FROM_SPECIAL)
		return field->offset == FIELD_LAG_SHARE;
	if (field->source != FROM_TOTALS)
		return false;
	for (size_t i = 0; i < mp_total_field_count; i++) {
		if (mp_total_fields[i].offset == field->offset)
			return mp_total_fields[i].needs_pfn;
	}
	return false;
}

/*
 * The mappings that churn compares: those of this set, the kernel zero
 * page included, each page once.  Every one is either common with the
 * previous set or new.
 */
static uint64_t tracked_mappings(const struct mp_timeline_set *set)
{
	return set->common_mappings + set->new_mappings;
}

static double seconds_since(const struct timeline_ctl *ctl, int64_t monotonic_ns)
{
	return (double)(monotonic_ns - ctl->rows[0].series.monotonic_ns) / 1e9;
}

/* part as a share of whole; negative, printed as unknown, when whole is 0. */
static double share_of(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : -1;
}

/* KSM remaining as a share of KSM potential; negative without potential or PFNs. */
static double lag_share(const struct set_row *row)
{
	if (!row->pfn_valid)
		return -1;
	return share_of(row->totals.ksm_remaining, row->totals.ksm_potential);
}

/* A share as a CSV cell (empty when unknown) or a JSON value (null when unknown). */
static void print_share(const struct timeline_ctl *ctl, double share, FILE *out)
{
	if (share >= 0)
		fprintf(out, "%.4f", share);
	else if (ctl->output == OUTPUT_JSON)
		fputs("null", out);
}

/* Print one field's value as CSV or JSON would show it: unknown is empty or null. */
static void print_field(const struct timeline_ctl *ctl, const struct set_row *row,
			const struct field *field, FILE *out)
{
	if (field_needs_pfn(field) && !row->pfn_valid) {
		if (ctl->output == OUTPUT_JSON)
			fputs("null", out);
		return;
	}
	if (field->source != FROM_SPECIAL) {
		fprintf(out, "%" PRIu64, field_u64(row, field));
		return;
	}
	switch (field->offset) {
	case FIELD_SET:
		fprintf(out, "%" PRIu32, row->series.index);
		break;
	case FIELD_TIME:
		fprintf(out, "%.3f", seconds_since(ctl, row->series.monotonic_ns));
		break;
	case FIELD_DURATION:
		fprintf(out, "%.3f", (double)row->series.duration_ns / 1e6);
		break;
	case FIELD_LAG_SHARE:
		print_share(ctl, lag_share(row), out);
		break;
	case FIELD_TRACKED:
		fprintf(out, "%" PRIu64, tracked_mappings(&row->series));
		break;
	}
}

/* ------------------------------------------------------------ CSV */

static void print_sets_csv(const struct timeline_ctl *ctl)
{
	for (size_t f = 0; f < FIELD_COUNT; f++)
		printf("%s%s", f ? "," : "", set_fields[f].key);
	if (ctl->any_cache)
		timeline_cache_print_csv_header(stdout);
	putchar('\n');
	for (size_t i = 0; i < ctl->row_count; i++) {
		for (size_t f = 0; f < FIELD_COUNT; f++) {
			if (f)
				putchar(',');
			print_field(ctl, &ctl->rows[i], &set_fields[f], stdout);
		}
		if (ctl->any_cache)
			timeline_cache_print_csv(stdout, &ctl->rows[i].cache);
		putchar('\n');
	}
}

/* Thresholds worth printing: up to the span of the series (at least one). */
static int lifetime_bins(const struct timeline_ctl *ctl)
{
	int64_t span = ctl->summary->end_ns - ctl->summary->first_ns;
	int bins = 1;

	while (bins < MP_LIFETIME_BINS && (1000000000ll << bins) < span)
		bins++;
	return bins;
}

/* One row of the lifetimes CSV: the runs and pages living longer than seconds. */
static void print_lifetime_csv(const struct timeline_ctl *ctl, const char *kind,
			       long long seconds, uint64_t runs, uint64_t all_runs, uint64_t pages,
			       uint64_t all_pages, uint64_t censored_runs, uint64_t censored_pages)
{
	printf("%s,%lld,%" PRIu64 ",", kind, seconds, runs);
	print_share(ctl, share_of(runs, all_runs), stdout);
	printf(",%" PRIu64 ",", pages);
	print_share(ctl, share_of(pages, all_pages), stdout);
	printf(",%" PRIu64 ",%" PRIu64 "\n", censored_runs, censored_pages);
}

static void print_lifetimes_csv(const struct timeline_ctl *ctl)
{
	const struct mp_lifetimes *kinds[2] = { &ctl->summary->content, &ctl->summary->merge };
	static const char *const names[2] = { "content", "merge" };

	puts("lifetime,longer_than_s,runs,runs_share,pages,pages_share,censored_runs,"
	     "censored_pages");
	for (int k = 0; k < 2; k++) {
		const struct mp_lifetimes *l = kinds[k];

		/* Every run lives longer than 0 s: the totals, with shares of 1 (of none: empty). */
		print_lifetime_csv(ctl, names[k], 0, l->runs, l->runs, l->pages, l->pages,
				   l->censored_runs, l->censored_pages);
		for (int i = 0; i < lifetime_bins(ctl); i++)
			print_lifetime_csv(ctl, names[k], 1ll << (i + 1), l->longer_runs[i], l->runs,
					   l->longer_pages[i], l->pages, l->censored_longer_runs[i],
					   l->censored_longer_pages[i]);
	}
}

static void print_churn_csv(const struct timeline_ctl *ctl)
{
	puts("set,time,tracked_mappings,common_mappings,churn,churn_share,new_mappings,"
	     "gone_mappings,stable_mappings");
	for (size_t i = 0; i < ctl->row_count; i++) {
		const struct mp_timeline_set *s = &ctl->rows[i].series;

		printf("%u,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", s->index,
		       seconds_since(ctl, s->monotonic_ns), tracked_mappings(s),
		       s->common_mappings, s->churn);
		print_share(ctl, share_of(s->churn, s->common_mappings), stdout);
		printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", s->new_mappings,
		       s->gone_mappings, s->stable_mappings);
	}
	putchar('\n');
	puts("pid,comm,first_set,last_set,common_mappings,churn,churn_share,max_churn");
	for (size_t i = 0; i < ctl->summary->task_count; i++) {
		const struct mp_timeline_task *t = &ctl->summary->tasks[i];

		printf("%d,%s,%u,%u,%" PRIu64 ",%" PRIu64 ",", t->pid, t->comm, t->first_set,
		       t->last_set, t->common_mappings, t->churn);
		print_share(ctl, share_of(t->churn, t->common_mappings), stdout);
		printf(",%" PRIu64 "\n", t->max_churn);
	}
}

static void print_ksm_csv(const struct timeline_ctl *ctl)
{
	puts("set,time,ksm_potential,ksm_saved,ksm_remaining,ksm_lag_share,ksm_pages_sharing,"
	     "ksm_pages_shared,ksm_full_scans,ksm_merging_pages");
	for (size_t i = 0; i < ctl->row_count; i++) {
		const struct set_row *row = &ctl->rows[i];

		printf("%u,%.3f,%" PRIu64 ",", row->series.index,
		       seconds_since(ctl, row->series.monotonic_ns), row->totals.ksm_potential);
		if (row->pfn_valid)
			printf("%" PRIu64 ",%" PRIu64 ",", row->totals.ksm_saved,
			       row->totals.ksm_remaining);
		else
			printf(",,");
		print_share(ctl, lag_share(row), stdout);
		printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		       row->series.ksm.pages_sharing, row->series.ksm.pages_shared,
		       row->series.ksm.full_scans, row->series.ksm_merging_pages);
	}
}

static void print_csv(const struct timeline_ctl *ctl)
{
	bool first = true;

	if (!ctl->sections) {
		print_sets_csv(ctl);
		return;
	}
	if (ctl->sections & SECTION_LIFETIMES) {
		print_lifetimes_csv(ctl);
		first = false;
	}
	if (ctl->sections & SECTION_CHURN) {
		if (!first)
			putchar('\n');
		print_churn_csv(ctl);
		first = false;
	}
	if (ctl->sections & SECTION_KSM) {
		if (!first)
			putchar('\n');
		print_ksm_csv(ctl);
	}
}

/* ------------------------------------------------------------ KSM lag */

/*
 * The KSM lag over the sets with PFNs: without them KSM saved, and so KSM
 * remaining, are unknown, and such sets are left out.
 */
struct ksm_lag {
	size_t known_sets;		/* sets with PFNs */
	double mean_share;		/* over the sets with a KSM potential; -1 if none */
	uint64_t max_remaining;
	long converged_set;		/* first set from which KSM remaining stays 0; -1 if never */
	double last_share;		/* -1 without potential in the last set */
};

static struct ksm_lag compute_ksm_lag(const struct timeline_ctl *ctl)
{
	struct ksm_lag lag = { 0, -1, 0, -1, -1 };
	double sum = 0;
	size_t with_potential = 0;

	for (size_t i = 0; i < ctl->row_count; i++) {
		const struct mp_totals *t = &ctl->rows[i].totals;

		if (!ctl->rows[i].pfn_valid)
			continue;
		lag.known_sets++;
		if (t->ksm_remaining > lag.max_remaining)
			lag.max_remaining = t->ksm_remaining;
		if (t->ksm_remaining && lag.converged_set >= 0)
			lag.converged_set = -1;
		else if (!t->ksm_remaining && lag.converged_set < 0 && t->ksm_potential)
			lag.converged_set = (long)i;
		if (t->ksm_potential) {
			sum += lag_share(&ctl->rows[i]);
			with_potential++;
		}
	}
	if (with_potential)
		lag.mean_share = sum / (double)with_potential;
	if (ctl->row_count)
		lag.last_share = lag_share(&ctl->rows[ctl->row_count - 1]);
	return lag;
}

/* ------------------------------------------------------------ JSON */

static void print_json_share(const char *key, double share, bool comma)
{
	if (share >= 0)
		printf("\"%s\":%.4f%s", key, share, comma ? "," : "");
	else
		printf("\"%s\":null%s", key, comma ? "," : "");
}

/* A string as JSON: comm may hold any byte but NUL. */
static void print_json_string(const char *text)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

static void print_json_set(const struct timeline_ctl *ctl, const struct set_row *row)
{
	const struct mp_opportunities *o = &row->totals.opportunities;

	putchar('{');
	for (size_t f = 0; f < FIELD_COUNT; f++) {
		if (set_fields[f].csv_only)
			continue;
		printf("%s\"%s\":", f ? "," : "", set_fields[f].key);
		print_field(ctl, row, &set_fields[f], stdout);
	}
	printf(",\"opportunities\":{\"anonymous\":%" PRIu64 ",\"named\":%" PRIu64 ",\"mixed\":%"
	       PRIu64 ",\"internal\":%" PRIu64 ",\"external\":%" PRIu64 "}",
	       o->anonymous, o->named, o->mixed, o->internal, o->external);
	if (ctl->any_cache)
		timeline_cache_print_json(stdout, &row->cache);
	putchar('}');
}

static void print_json_histogram(const char *key, const uint64_t *counts, uint32_t sets)
{
	printf("\"%s\":[", key);
	for (uint32_t k = 0; k <= sets; k++)
		printf("%s%" PRIu64, k ? "," : "", counts ? counts[k] : 0);
	putchar(']');
}

static void print_json_lifetimes(const struct timeline_ctl *ctl, const char *key,
				 const struct mp_lifetimes *l)
{
	printf("\"%s\":{\"runs\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"censored_runs\":%" PRIu64
	       ",\"censored_pages\":%" PRIu64 ",\"longer_than\":[", key, l->runs, l->pages,
	       l->censored_runs, l->censored_pages);
	for (int i = 0; i < lifetime_bins(ctl); i++) {
		printf("%s{\"seconds\":%lld,\"runs\":%" PRIu64 ",\"runs_share\":", i ? "," : "",
		       1ll << (i + 1), l->longer_runs[i]);
		print_share(ctl, share_of(l->longer_runs[i], l->runs), stdout);
		printf(",\"pages\":%" PRIu64 ",\"pages_share\":", l->longer_pages[i]);
		print_share(ctl, share_of(l->longer_pages[i], l->pages), stdout);
		printf(",\"censored_runs\":%" PRIu64 ",\"censored_pages\":%" PRIu64 "}",
		       l->censored_longer_runs[i], l->censored_longer_pages[i]);
	}
	printf("],");
	print_json_histogram("runs_by_sets", l->runs_by_sets, ctl->summary->set_count);
	putchar(',');
	print_json_histogram("censored_runs_by_sets", l->censored_runs_by_sets,
			     ctl->summary->set_count);
	putchar('}');
}

static void print_json_churn(const struct timeline_ctl *ctl)
{
	const struct mp_timeline_summary *s = ctl->summary;

	printf("\"churn\":{\"common_mappings\":%" PRIu64 ",\"churn\":%" PRIu64
	       ",\"churn_share\":", s->common_mappings, s->churn);
	print_share(ctl, share_of(s->churn, s->common_mappings), stdout);
	printf(",\"stable_sets\":%u,\"tasks\":[", ctl->stable_sets);
	for (size_t i = 0; i < s->task_count; i++) {
		const struct mp_timeline_task *t = &s->tasks[i];

		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", t->pid);
		print_json_string(t->comm);
		printf(",\"first_set\":%u,\"last_set\":%u,\"common_mappings\":%" PRIu64
		       ",\"churn\":%" PRIu64 ",\"churn_share\":", t->first_set, t->last_set,
		       t->common_mappings, t->churn);
		print_share(ctl, share_of(t->churn, t->common_mappings), stdout);
		printf(",\"max_churn\":%" PRIu64 "}", t->max_churn);
	}
	printf("]}");
}

static void print_json(const struct timeline_ctl *ctl)
{
	struct ksm_lag lag = compute_ksm_lag(ctl);

	fputs("{\"file\":", stdout);
	print_json_string(ctl->path);
	printf(",\"set_count\":%u,\"sets\":[", ctl->summary->set_count);
	for (size_t i = 0; i < ctl->row_count; i++) {
		if (i)
			putchar(',');
		print_json_set(ctl, &ctl->rows[i]);
	}
	printf("],\"lifetimes\":{");
	print_json_lifetimes(ctl, "content", &ctl->summary->content);
	putchar(',');
	print_json_lifetimes(ctl, "merge", &ctl->summary->merge);
	printf("},");
	print_json_churn(ctl);
	printf(",\"ksm\":{");
	print_json_share("mean_lag_share", lag.mean_share, true);
	print_json_share("last_lag_share", lag.last_share, true);
	if (lag.known_sets)
		printf("\"max_remaining\":%" PRIu64 ",", lag.max_remaining);
	else
		printf("\"max_remaining\":null,");
	printf("\"converged_set\":");
	if (lag.converged_set >= 0)
		printf("%ld}}\n", lag.converged_set);
	else
		printf("null}}\n");
}

/* ------------------------------------------------------------ tables */

/* A page count as a table cell, in the units of memprint analyze, or bytes with --bytes. */
static void format_size(const struct timeline_ctl *ctl, uint64_t pages, char *buffer,
			size_t size)
{
	mp_format_pages(buffer, size, pages, ctl->bytes);
}

static struct libscols_table *new_table(const char *const *columns, size_t count)
{
	struct libscols_table *table = scols_new_table();

	if (!table)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		/* A name starting with '<' is a left-aligned text column; numbers go right. */
		int flags = columns[i][0] == '<' ? 0 : SCOLS_FL_RIGHT;

		if (!scols_table_new_column(table, columns[i] + (columns[i][0] == '<'), 0, flags)) {
			scols_unref_table(table);
			return NULL;
		}
	}
	return table;
}

/* Add a line with one string per column. */
static int add_line(struct libscols_table *table, const char *const *cells, size_t count)
{
	struct libscols_line *line = scols_table_new_line(table, NULL);

	if (!line)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		if (scols_line_set_data(line, i, cells[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int print_table(struct libscols_table *table)
{
	int rc;

	if (!table)
		return -ENOMEM;
	rc = scols_print_table(table);
	scols_unref_table(table);
	return rc;
}

#define CELL 32

static void format_share(double share, char *buffer)
{
	if (share < 0)
		snprintf(buffer, CELL, "-");
	else
		snprintf(buffer, CELL, "%.1f%%", share * 100);
}

/* The page-cache cells of a row: "-" for a set without the page cache. */
static void format_cache_cells(const struct timeline_ctl *ctl, const struct timeline_cache_row *c,
			       char cells[][CELL])
{
	if (!c->present || timeline_cache_unknown(c)) {
		for (int i = 0; i < 5; i++)
			snprintf(cells[i], CELL, "-");
		return;
	}
	format_size(ctl, c->frames, cells[0], CELL);
	format_size(ctl, c->duplicate_frames, cells[1], CELL);
	format_share(share_of(c->duplicate_frames, c->frames), cells[2]);
	format_size(ctl, c->cache_duplicate_frames, cells[3], CELL);
	format_size(ctl, c->frames_three_plus, cells[4], CELL);
}

/* A size that needs PFNs: "-" in a set taken without them. */
static void format_size_pfn(const struct timeline_ctl *ctl, const struct set_row *row,
			    uint64_t pages, char *buffer)
{
	if (row->pfn_valid)
		format_size(ctl, pages, buffer, CELL);
	else
		snprintf(buffer, CELL, "-");
}

static int print_sets_table(const struct timeline_ctl *ctl)
{
	/* The last 5 columns only when a set includes the page cache. */
	static const char *const columns[] = {
		"SET", "TIME", "FRAMES", "SHARED", "DUPLICATE", "NONZERO", "DUP%", "CHURN",
		"STABLE", "KSM-SAVED", "KSM-LAG",
		"CACHED", "CACHE-DUP", "CACHE-DUP%", "CACHE-MIXED", "HELD-3+",
	};
	const size_t all = sizeof(columns) / sizeof(columns[0]);
	const size_t n = ctl->any_cache ? all : all - 5;
	struct libscols_table *table = new_table(columns, n);
	char cells[sizeof(columns) / sizeof(columns[0])][CELL];
	const char *pointers[sizeof(columns) / sizeof(columns[0])];

	for (size_t i = 0; i < n; i++)
		pointers[i] = cells[i];
	for (size_t i = 0; table && i < ctl->row_count; i++) {
		const struct set_row *row = &ctl->rows[i];
		const struct mp_totals *t = &row->totals;

		snprintf(cells[0], CELL, "%u", row->series.index);
		snprintf(cells[1], CELL, "%.1f", seconds_since(ctl, row->series.monotonic_ns));
		format_size(ctl, t->frames, cells[2], CELL);
		format_size_pfn(ctl, row, t->shared_frames, cells[3]);
		format_size(ctl, t->duplicate_frames, cells[4], CELL);
		format_size(ctl, t->duplicate_frames_nonzero, cells[5], CELL);
		format_share(share_of(t->duplicate_frames, t->frames), cells[6]);
		format_size(ctl, row->series.churn, cells[7], CELL);
		format_size(ctl, row->series.stable_mappings, cells[8], CELL);
		format_size_pfn(ctl, row, t->ksm_saved, cells[9]);
		format_share(lag_share(row), cells[10]);
		if (ctl->any_cache)
			format_cache_cells(ctl, &row->cache, &cells[11]);
		if (add_line(table, pointers, n) < 0)
			break;
	}
	return print_table(table);
}

static int print_lifetimes_table(const struct timeline_ctl *ctl, const char *title,
				 const struct mp_lifetimes *l)
{
	static const char *const columns[] = {
		"LONGER-THAN", "RUNS", "RUNS%", "PAGES%", "CENSORED-RUNS", "CENSORED-PAGES",
	};
	const size_t n = sizeof(columns) / sizeof(columns[0]);
	struct libscols_table *table = new_table(columns, n);
	char cells[sizeof(columns) / sizeof(columns[0])][CELL];
	const char *pointers[sizeof(columns) / sizeof(columns[0])];
	char pages[CELL], censored_pages[CELL];

	format_size(ctl, l->pages, pages, CELL);
	format_size(ctl, l->censored_pages, censored_pages, CELL);
	printf("%s: %" PRIu64 " complete run%s (%s savable, summed over their sets), "
	       "%" PRIu64 " censored (%s)\n", title, l->runs, plural(l->runs), pages,
	       l->censored_runs, censored_pages);

	for (size_t i = 0; i < n; i++)
		pointers[i] = cells[i];
	for (int i = 0; table && i < lifetime_bins(ctl); i++) {
		snprintf(cells[0], CELL, "%llds", 1ll << (i + 1));
		snprintf(cells[1], CELL, "%" PRIu64, l->longer_runs[i]);
		format_share(share_of(l->longer_runs[i], l->runs), cells[2]);
		format_share(share_of(l->longer_pages[i], l->pages), cells[3]);
		snprintf(cells[4], CELL, "%" PRIu64, l->censored_longer_runs[i]);
		format_size(ctl, l->censored_longer_pages[i], cells[5], CELL);
		if (add_line(table, pointers, n) < 0)
			break;
	}
	return print_table(table);
}

static int print_lifetimes(const struct timeline_ctl *ctl)
{
	int rc;

	rc = print_lifetimes_table(ctl, "Content lifetime (a digest stays an opportunity)",
				   &ctl->summary->content);
	putchar('\n');
	if (rc == 0)
		rc = print_lifetimes_table(ctl, "Merge lifetime (a page keeps a content that "
					   "stays an opportunity)", &ctl->summary->merge);
	printf("Censored runs include the first or last set; their lifetimes are lower "
	       "bounds.\n");
	return rc;
}

static int print_churn_intervals(const struct timeline_ctl *ctl)
{
	static const char *const columns[] = {
		"SET", "TIME", "COMMON", "CHURN", "CHURN%", "NEW", "GONE", "STABLE",
	};
	const size_t n = sizeof(columns) / sizeof(columns[0]);
	struct libscols_table *table = new_table(columns, n);
	char cells[sizeof(columns) / sizeof(columns[0])][CELL];
	const char *pointers[sizeof(columns) / sizeof(columns[0])];

	for (size_t i = 0; i < n; i++)
		pointers[i] = cells[i];
	for (size_t i = 0; table && i < ctl->row_count; i++) {
		const struct mp_timeline_set *s = &ctl->rows[i].series;

		snprintf(cells[0], CELL, "%u", s->index);
		snprintf(cells[1], CELL, "%.1f", seconds_since(ctl, s->monotonic_ns));
		format_size(ctl, s->common_mappings, cells[2], CELL);
		format_size(ctl, s->churn, cells[3], CELL);
		format_share(share_of(s->churn, s->common_mappings), cells[4]);
		format_size(ctl, s->new_mappings, cells[5], CELL);
		format_size(ctl, s->gone_mappings, cells[6], CELL);
		format_size(ctl, s->stable_mappings, cells[7], CELL);
		if (add_line(table, pointers, n) < 0)
			break;
	}
	return print_table(table);
}

static int print_churn_tasks(const struct timeline_ctl *ctl)
{
	static const char *const columns[] = {
		"PID", "<COMM", "SETS", "COMMON", "CHURN", "CHURN%", "MAX-CHURN",
	};
	const size_t n = sizeof(columns) / sizeof(columns[0]);
	struct libscols_table *table = new_table(columns, n);
	char cells[sizeof(columns) / sizeof(columns[0])][CELL];
	const char *pointers[sizeof(columns) / sizeof(columns[0])];

	for (size_t i = 0; i < n; i++)
		pointers[i] = cells[i];
	for (size_t i = 0; table && i < ctl->summary->task_count; i++) {
		const struct mp_timeline_task *t = &ctl->summary->tasks[i];

		snprintf(cells[0], CELL, "%d", t->pid);
		snprintf(cells[1], CELL, "%s", t->comm);
		snprintf(cells[2], CELL, "%u-%u", t->first_set, t->last_set);
		format_size(ctl, t->common_mappings, cells[3], CELL);
		format_size(ctl, t->churn, cells[4], CELL);
		format_share(share_of(t->churn, t->common_mappings), cells[5]);
		format_size(ctl, t->max_churn, cells[6], CELL);
		if (add_line(table, pointers, n) < 0)
			break;
	}
	return print_table(table);
}

static int print_churn(const struct timeline_ctl *ctl)
{
	const struct mp_timeline_summary *s = ctl->summary;
	int rc;

	printf("Churn: mappings present in two consecutive sets whose content changed; "
	       "stable: unchanged for %u set%s\n", ctl->stable_sets, plural(ctl->stable_sets));
	rc = print_churn_intervals(ctl);
	putchar('\n');
	if (rc == 0)
		rc = print_churn_tasks(ctl);
	if (!s->common_mappings) {
		printf("Total: no mapping was present in two consecutive sets\n");
		return rc;
	}
	printf("Total: %" PRIu64 " of %" PRIu64 " compared mapping%s changed (%.1f%%)\n",
	       s->churn, s->common_mappings, plural(s->common_mappings),
	       share_of(s->churn, s->common_mappings) * 100);
	return rc;
}

static int print_ksm(const struct timeline_ctl *ctl)
{
	static const char *const columns[] = {
		"SET", "TIME", "POTENTIAL", "SAVED", "REMAINING", "LAG%", "PAGES-SHARING",
		"FULL-SCANS",
	};
	const size_t n = sizeof(columns) / sizeof(columns[0]);
	struct libscols_table *table = new_table(columns, n);
	char cells[sizeof(columns) / sizeof(columns[0])][CELL];
	const char *pointers[sizeof(columns) / sizeof(columns[0])];
	struct ksm_lag lag = compute_ksm_lag(ctl);
	char remaining[CELL], mean[CELL];
	int rc;

	for (size_t i = 0; i < n; i++)
		pointers[i] = cells[i];
	for (size_t i = 0; table && i < ctl->row_count; i++) {
		const struct set_row *row = &ctl->rows[i];

		snprintf(cells[0], CELL, "%u", row->series.index);
		snprintf(cells[1], CELL, "%.1f", seconds_since(ctl, row->series.monotonic_ns));
		format_size(ctl, row->totals.ksm_potential, cells[2], CELL);
		format_size_pfn(ctl, row, row->totals.ksm_saved, cells[3]);
		format_size_pfn(ctl, row, row->totals.ksm_remaining, cells[4]);
		format_share(lag_share(row), cells[5]);
		format_size(ctl, row->series.ksm.pages_sharing, cells[6], CELL);
		snprintf(cells[7], CELL, "%" PRIu64, row->series.ksm.full_scans);
		if (add_line(table, pointers, n) < 0)
			break;
	}
	rc = print_table(table);

	if (!lag.known_sets) {
		printf("KSM lag: unknown, every set was taken without PFNs\n");
		return rc;
	}
	if (lag.mean_share < 0) {
		printf("KSM lag: no set has a KSM potential (no mergeable memory)\n");
		return rc;
	}
	format_size(ctl, lag.max_remaining, remaining, CELL);
	format_share(lag.mean_share, mean);
	printf("KSM lag: mean %s of KSM potential, at most %s remaining; ", mean, remaining);
	if (lag.converged_set >= 0)
		printf("converged (nothing remaining) from set %ld on\n", lag.converged_set);
	else
		printf("not converged by the last set\n");
	return rc;
}

static int print_human(const struct timeline_ctl *ctl)
{
	int rc = 0;
	bool first = true;

	if (!ctl->sections)
		return print_sets_table(ctl);
	if (ctl->sections & SECTION_LIFETIMES) {
		rc = print_lifetimes(ctl);
		first = false;
	}
	if (rc == 0 && (ctl->sections & SECTION_CHURN)) {
		if (!first)
			putchar('\n');
		rc = print_churn(ctl);
		first = false;
	}
	if (rc == 0 && (ctl->sections & SECTION_KSM)) {
		if (!first)
			putchar('\n');
		rc = print_ksm(ctl);
	}
	return rc;
}

/* ------------------------------------------------------------ main */

static void free_ctl(struct timeline_ctl *ctl)
{
	mp_timeline_summary_free(ctl->summary);
	mp_timeline_close(ctl->timeline);
	series_analysis_stop(ctl->analysis);
	timeline_cache_close(ctl->cache);
	free(ctl->rows);
}

int cmd_timeline(int argc, char **argv)
{
	struct timeline_ctl ctl = { .stable_sets = 4 };
	int rc;

	rc = parse_args(&ctl, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;

	rc = read_series(&ctl);
	if (rc == 0 && ctl.row_count == 0) {
		cli_warn("%s: no complete snapshot set", ctl.path);
		rc = EXIT_RUNTIME;
	}
	if (rc == 0) {
		if (ctl.output == OUTPUT_JSON)
			print_json(&ctl);
		else if (ctl.output == OUTPUT_CSV)
			print_csv(&ctl);
		else if (print_human(&ctl) < 0)
			rc = EXIT_RUNTIME;
	}
	if (rc == 0 && ctl.damaged)
		rc = EXIT_RUNTIME;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn("write error on standard output");
		rc = EXIT_RUNTIME;
	}
	free_ctl(&ctl);
	return rc;
}
