// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_analyze.c - memprint analyze: report on the sets of snapshot files
 *
 * One file: each of its sets is analysed and reported on its own.  Several
 * files: their first sets are analysed together as one set (a task
 * snapshot beside a page-cache snapshot of the same moment), then their
 * second sets, and so on, until every file has run out of sets.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum {
	OPT_CSV = CLI_OPT_SHARED_END,
	OPT_TOP,
	OPT_BY,
	OPT_MAX_PAGE_SHARING,
	OPT_USE_ZERO_PAGES,
};

struct analyze_command {
	struct mp_output_options output;
	struct mp_analysis_options analysis;
	char **paths;
	size_t path_count;
};

static void analyze_help(void)
{
	fputs("Usage:\n memprint analyze [options] FILE...\n\n"
	      "Report how much of the memory in snapshot files is already shared and how\n"
	      "much more merging could free.  Each set of one FILE is reported on its own;\n"
	      "with several FILEs, their first sets form one set, then their second sets...\n"
	      "\nOutput:\n"
	      "      --by VIEW         task, file or kind: one row per task, file or kind\n"
	      "      --top N           rows of each list (default 10)\n"
	      "  -b, --bytes           print sizes in bytes, not in human units\n"
	      "  -J, --json            print JSON (numbers count 4 KiB pages)\n"
	      "      --csv             print CSV (numbers count 4 KiB pages)\n"
	      "\nKSM potential:\n"
	      "      --max-page-sharing N   mappings per KSM page (default: as in the set,\n"
	      "                             else 256)\n"
	      "      --use-zero-pages on|off  whether KSM maps zero-filled pages to the zero\n"
	      "                             page (default: as in the set)\n"
	      "  -h, --help            display this help\n"
	      "\nExit status: 0 success, 1 usage error, 2 runtime failure (an unreadable or\n"
	      "corrupt file: the sets before the fault are still reported).\n", stdout);
}

static int parse_switch(const char *arg, int *value)
{
	if (!strcmp(arg, "on") || !strcmp(arg, "1"))
		*value = 1;
	else if (!strcmp(arg, "off") || !strcmp(arg, "0"))
		*value = 0;
	else
		return cli_usage_error("analyze", "invalid --use-zero-pages value '%s': expected "
				       "on or off", arg);
	return 0;
}

static int analyze_option(struct analyze_command *cmd, int opt, char **argv)
{
	unsigned long value;

	switch (opt) {
	case 'J':
		if (cmd->output.format == MP_OUTPUT_CSV)
			return cli_usage_error("analyze", "--json and --csv exclude each other");
		cmd->output.format = MP_OUTPUT_JSON;
		return 0;
	case OPT_CSV:
		if (cmd->output.format == MP_OUTPUT_JSON)
			return cli_usage_error("analyze", "--json and --csv exclude each other");
		cmd->output.format = MP_OUTPUT_CSV;
		return 0;
	case OPT_TOP:
		if (cli_parse_count(optarg, 1, 1000000, "--top", "analyze", &value) < 0)
			return EXIT_USAGE;
		cmd->output.top = cmd->analysis.top = value;
		return 0;
	case 'b':
		cmd->output.bytes = true;
		return 0;
	case OPT_BY:
		return cli_parse_view(optarg, "analyze", &cmd->output.by) < 0 ? EXIT_USAGE : 0;
	case OPT_MAX_PAGE_SHARING:
		if (cli_parse_count(optarg, 2, UINT32_MAX, "--max-page-sharing", "analyze",
				    &value) < 0)
			return EXIT_USAGE;
		cmd->analysis.max_page_sharing = value;
		return 0;
	case OPT_USE_ZERO_PAGES:
		return parse_switch(optarg, &cmd->analysis.use_zero_pages);
	default:
		return cli_getopt_error("analyze", opt, argv);
	}
}

/* Returns -1 to go on, or the exit status. */
static int analyze_parse(struct analyze_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "bytes", no_argument, NULL, 'b' },
		{ "by", required_argument, NULL, OPT_BY },
		{ "max-page-sharing", required_argument, NULL, OPT_MAX_PAGE_SHARING },
		{ "use-zero-pages", required_argument, NULL, OPT_USE_ZERO_PAGES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, status;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":Jbh", options, NULL)) != -1) {
		if (opt == 'h') {
			analyze_help();
			return 0;
		}
		status = analyze_option(cmd, opt, argv);
		if (status)
			return status;
	}
	if (optind == argc)
		return cli_usage_error("analyze", "no snapshot file given");
	cmd->paths = argv + optind;
	cmd->path_count = argc - optind;
	return -1;
}

struct report_list {
	struct mp_report **reports;
	size_t count, capacity;
	struct mp_pagecache_report **caches;	/* per report; NULL without page cache */
};

static int keep_report(struct report_list *list, struct mp_report *report,
		       struct mp_pagecache_report *cache)
{
	if (list->count == list->capacity) {
		size_t n = list->capacity ? list->capacity * 2 : 8;
		struct mp_report **p = realloc(list->reports, n * sizeof(*p));
		struct mp_pagecache_report **c = p ? realloc(list->caches, n * sizeof(*c)) : NULL;

		if (!c) {
			if (p)
				list->reports = p;
			mp_report_free(report);
			mp_pagecache_report_free(cache);
			return -ENOMEM;
		}
		list->reports = p;
		list->caches = c;
		list->capacity = n;
	}
	/* A set without page-cache files has no page-cache part. */
	if (cache && !cache->files && !cache->files_unknown) {
		mp_pagecache_report_free(cache);
		cache = NULL;
	}
	list->caches[list->count] = cache;
	list->reports[list->count++] = report;
	return 0;
}

/*
 * Feed the next set of every file into the analysis.  Returns the number
 * of files that gave a set, or a negative errno value.
 */
static int feed_next_sets(struct mp_reader **readers, bool *done, size_t count,
			  const struct mp_sink *sink, struct mp_error *error)
{
	int fed = 0;

	for (size_t i = 0; i < count; i++) {
		int rc;

		if (done[i])
			continue;
		rc = mp_reader_next_set(readers[i], sink, error);
		if (rc < 0) {
			/* A set the analysis rejected: its message says why, the reader's only where. */
			if (rc != -EBADMSG && sink->error && sink->error->message[0])
				*error = *sink->error;
			return rc;
		}
		if (rc == 0)
			done[i] = true;
		else
			fed++;
	}
	return fed;
}

static int analyze_files(struct analyze_command *cmd, struct mp_reader **readers,
			 struct report_list *list, struct mp_error *error)
{
	bool *done = calloc(cmd->path_count, sizeof(*done));
	struct mp_pagecache_analysis_options copts = { .top = cmd->analysis.top };
	struct mp_pagecache_analysis *cache_analysis = NULL;
	struct mp_analysis *analysis = NULL;
	struct mp_tee *tee = NULL;
	struct mp_sink sinks[2], sink;
	int rc;

	if (!done)
		return -ENOMEM;
	rc = mp_analysis_open(&analysis, &cmd->analysis, error);
	if (rc == 0)
		rc = mp_pagecache_analysis_open(&cache_analysis, &copts, error);
	if (rc == 0) {
		sinks[0] = mp_analysis_sink(analysis);
		sinks[1] = mp_pagecache_analysis_sink(cache_analysis);
		rc = mp_tee_open(&tee, sinks, 2);
	}
	if (rc < 0)
		goto out;
	sink = mp_tee_sink(tee);
	sink.error = sinks[0].error;	/* where the analysis explains a rejected set */
	for (;;) {
		struct mp_pagecache_report *cache = NULL;
		struct mp_report *report;

		rc = feed_next_sets(readers, done, cmd->path_count, &sink, error);
		if (rc <= 0)
			break;
		rc = mp_analysis_report(analysis, &report, error);
		if (rc == 0) {
			rc = mp_pagecache_analysis_report(cache_analysis, &cache, error);
			if (rc == 0)
				rc = keep_report(list, report, cache);
			else
				mp_report_free(report);
		}
		if (rc < 0)
			break;
	}
out:
	mp_tee_close(tee);
	mp_pagecache_analysis_close(cache_analysis);
	mp_analysis_close(analysis);
	free(done);
	return rc;
}

/* The file that ended inside a set, as a killed writer leaves it, or NULL. */
static const char *torn_file(const struct analyze_command *cmd, struct mp_reader **readers)
{
	for (size_t i = 0; i < cmd->path_count; i++) {
		if (readers[i] && mp_reader_torn(readers[i]))
			return cmd->paths[i];
	}
	return NULL;
}

static int open_readers(struct analyze_command *cmd, struct mp_reader **readers,
			struct mp_error *error)
{
	for (size_t i = 0; i < cmd->path_count; i++) {
		int rc = mp_reader_open(&readers[i], cmd->paths[i], error);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_command cmd = {
		.analysis = { .per_task = true, .per_file = true, .use_zero_pages = -1 },
	};
	struct report_list list = { 0 };
	struct mp_reader **readers = NULL;
	struct mp_error error = { 0 }, print_error = { 0 };
	const char *torn;
	int status, rc;

	status = analyze_parse(&cmd, argc, argv);
	if (status >= 0)
		return status;
	readers = calloc(cmd.path_count, sizeof(*readers));
	if (!readers) {
		cli_warn("out of memory");
		return EXIT_RUNTIME;
	}

	rc = open_readers(&cmd, readers, &error);
	if (rc == 0)
		rc = analyze_files(&cmd, readers, &list, &error);
	torn = rc == -EBADMSG && list.count ? torn_file(&cmd, readers) : NULL;
	if (torn) {
		/*
		 * A file cut short by a killed writer ends in a set without its
		 * end: the complete sets before it are reported, as memprint
		 * timeline does.  Corrupt data is a failure (exit status 2),
		 * though the sets before it are still reported.
		 */
		cli_warn("%s", error.message);
		cli_warn("%s: reporting the %zu complete sets before it", torn, list.count);
		rc = 0;
	}
	status = rc < 0 ? EXIT_RUNTIME : 0;
	if (list.count &&
	    mp_report_print_with_pagecache(stdout, (const struct mp_report *const *)list.reports,
					   (const struct mp_pagecache_report *const *)list.caches,
					   list.count, &cmd.output, &print_error) < 0)
		status = cli_report_error(&print_error, print_error.code);
	if (rc < 0)
		cli_report_error(&error, rc);
	else if (!list.count) {
		cli_warn("no snapshot set in %s", cmd.path_count == 1 ? cmd.paths[0] : "the files");
		status = EXIT_RUNTIME;
	}

	for (size_t i = 0; i < list.count; i++) {
		mp_report_free(list.reports[i]);
		mp_pagecache_report_free(list.caches[i]);
	}
	free(list.reports);
	free(list.caches);
	for (size_t i = 0; i < cmd.path_count; i++)
		mp_reader_close(readers[i]);
	free(readers);
	return status;
}
