// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_watch.c - memprint watch: snapshot sets on a fixed schedule into one
 * series file
 *
 * Set k starts at the absolute deadline start + k * interval on
 * CLOCK_MONOTONIC (clock_nanosleep with TIMER_ABSTIME), so the schedule
 * does not drift with the time a set takes.  A set that runs past the next
 * deadline makes that tick skipped, with a warning: ticks are never queued.
 * Each set goes through a tee to the snapshot writer and to the per-set
 * analysis, which gives the line printed for it.  With --page-cache the
 * tasks and the page cache are scanned into one set, and the page-cache
 * analysis adds its numbers to the line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "output/report_output.h"

#define NS_PER_SEC 1000000000ll

/* Distinct scan warnings remembered so that a repeat is not printed again. */
#define WARNINGS_KEPT 64

struct watch_ctl {
	struct cli_targets options;	/* as parsed; pids: the --pid processes still running */
	struct mp_targets targets;	/* resolved at each tick */
	bool tasks;			/* process targets were given, not only --page-cache */
	bool dynamic;			/* --all, --comm or --cgroup: resolved each tick */
	int64_t interval_ns;
	uint64_t count;			/* sets to take, 0 for no limit */
	const char *output;
	bool csv;
	bool bytes;
	struct cli_hash hash;
	struct mp_writer_options writer_options;

	struct mp_writer *writer;
	struct mp_analysis *analysis;
	struct mp_pagecache_analysis *cache_analysis;	/* with --page-cache */
	int64_t first_ns;		/* monotonic start of the first set */
	uint32_t set;			/* sets taken */
	char *warnings[WARNINGS_KEPT];	/* scan warnings printed so far */
	size_t warning_count;
};

static volatile sig_atomic_t stop_signal;

static void print_help(void)
{
	fputs("Usage:\n"
	      " memprint watch [options] TARGETS -o FILE\n\n"
	      "Take a snapshot set of the targets at a fixed interval and append each to\n"
	      "one series file, printing a line of numbers per set.  Analyse the file\n"
	      "with memprint timeline.\n\n"
	      "--all, --comm and --cgroup are resolved anew at each set, so that processes\n"
	      "that start and end are followed.\n\n", stdout);
	cli_targets_help(stdout);
	cli_page_cache_help(stdout);
	fputs("\n", stdout);
	cli_hash_help(stdout);
	fputs("\nOptions:\n"
	      "  -i, --interval TIME   time between set starts (default 2s); suffixes ms, s,\n"
	      "                        m; a plain number is in seconds\n"
	      "  -n, --count N         sets to take (default 0: until interrupted)\n"
	      "  -o, --output FILE     the series file (created mode 0600)\n"
	      "      --append          add to an existing series file\n"
	      "  -z, --compress        zstd-compress the file\n"
	      "      --csv             print CSV lines, not a table\n"
	      "  -b, --bytes           print sizes in bytes, not in human units\n"
	      "  -h, --help            display this help\n\n"
	      "The watch stops after --count sets, on SIGINT or SIGTERM after the set in\n"
	      "progress, or when every target process has exited (never with --page-cache\n"
	      "alone); the file is valid in each case.\n\n"
	      "Exit status: 0 success, 1 usage error, 2 runtime failure or a --pid with no\n"
	      "process (the other targets are still watched).\n"
	      "See memprint-watch(1).\n",
	      stdout);
}

/* ------------------------------------------------------------- options */

/* Parse "2s", "500ms", "1.5", "1m" into nanoseconds; 0 if invalid. */
static int64_t parse_duration(const char *text)
{
	char *end;
	double value, scale = 1e9;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || !isfinite(value) || value <= 0)
		return 0;
	if (!strcmp(end, "ms"))
		scale = 1e6;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		scale = 60e9;
	else if (*end && strcmp(end, "s"))
		return 0;
	if (value * scale < 1e6 || value * scale > 86400e9)
		return 0;
	return (int64_t)(value * scale);
}

enum { OPT_APPEND = CLI_OPT_SHARED_END, OPT_CSV };

static int parse_option(struct watch_ctl *ctl, int c)
{
	char *end;
	int rc;

	rc = cli_targets_option(&ctl->options, c, optarg, "watch");
	if (rc == 0)
		rc = cli_hash_option(&ctl->hash, c, optarg, "watch");
	if (rc < 0)
		return EXIT_USAGE;
	if (rc > 0)
		return 0;
	switch (c) {
	case 'i':
		ctl->interval_ns = parse_duration(optarg);
		if (!ctl->interval_ns)
			return cli_usage_error("watch", "invalid --interval '%s': expected a time "
					       "from 1ms to 24h such as 500ms, 2s or 1m", optarg);
		break;
	case 'n':
		errno = 0;
		ctl->count = strtoull(optarg, &end, 10);
		if (errno || *end || optarg[0] == '-' || !optarg[0])
			return cli_usage_error("watch", "invalid --count '%s': expected a number "
					       "of sets", optarg);
		break;
	case 'o':
		ctl->output = optarg;
		break;
	case OPT_APPEND:
		ctl->writer_options.append = true;
		break;
	case 'z':
		ctl->writer_options.compress = true;
		break;
	case OPT_CSV:
		ctl->csv = true;
		break;
	case 'b':
		ctl->bytes = true;
		break;
	case 'h':
		print_help();
		return -1;
	default:
		return cli_usage_error("watch", "invalid option");
	}
	return 0;
}

static int parse_args(struct watch_ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_TARGET_LONG_OPTIONS,
		CLI_PAGE_CACHE_LONG_OPTION,
		CLI_HASH_LONG_OPTIONS,
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "append", no_argument, NULL, OPT_APPEND },
		{ "compress", no_argument, NULL, 'z' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_targets *targets = &ctl->options;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv,
				":" CLI_TARGET_SHORT_OPTIONS CLI_HASH_SHORT_OPTIONS "i:n:o:zbh",
				options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error("watch", c, argv);
		rc = parse_option(ctl, c);
		if (rc)
			return rc;
	}
	if (cli_targets_paths(&ctl->options, argc, argv, "watch") < 0 ||
	    cli_targets_check(targets, "watch") < 0 || cli_hash_check(&ctl->hash, "watch") < 0)
		return EXIT_USAGE;
	if (!ctl->output)
		return cli_usage_error("watch", "no series file: give -o FILE");
	ctl->dynamic = targets->all || targets->comm || targets->cgroup;
	return 0;
}

/* ------------------------------------------------------------- targets */

/* Whether pid still runs: it exists and is neither a zombie nor dead. */
static bool process_running(pid_t pid)
{
	char path[64], text[512];
	const char *paren;
	FILE *file;
	size_t size;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	file = fopen(path, "re");
	if (!file)
		return false;
	size = fread(text, 1, sizeof(text) - 1, file);
	fclose(file);
	text[size] = '\0';
	/* comm may contain ')' and spaces: the state follows the last ')'. */
	paren = strrchr(text, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void drop_exited(struct watch_ctl *ctl)
{
	size_t kept = 0;

	for (size_t i = 0; i < ctl->options.pid_count; i++) {
		if (process_running(ctl->options.pids[i]))
			ctl->options.pids[kept++] = ctl->options.pids[i];
	}
	ctl->options.pid_count = kept;
}

/*
 * The pids of this tick: the --pid processes still running, and with --all,
 * --comm or --cgroup the processes they match now.  None with --page-cache
 * alone.
 */
static int resolve_targets(struct watch_ctl *ctl, pid_t **pids, size_t *count,
			   struct mp_error *error)
{
	int rc = 0;

	*pids = NULL;
	*count = 0;
	if (!ctl->tasks)
		return 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		drop_exited(ctl);
		cli_targets_get(&ctl->options, &ctl->targets);
		rc = mp_targets_resolve(&ctl->targets, NULL, pids, count, error);
		/* A --pid process that exited since drop_exited(): look again. */
		if (rc != -ESRCH)
			break;
	}
	return rc;
}

/* ------------------------------------------------------------- output */

/* The plural ending of a count: "1 set", "2 sets". */
static const char *plural(uint64_t count)
{
	return count == 1 ? "" : "s";
}

/* The CSV columns and table cells of the page cache come after the others. */
static void print_header(const struct watch_ctl *ctl)
{
	bool cache = ctl->options.page_cache;

	if (ctl->csv)
		printf("set,time,timestamp,tasks,frames,shared_frames,duplicate_frames,"
		       "duplicate_frames_nonzero,ksm_saved,ksm_remaining,duration_ms%s\n",
		       cache ? ",page_cache_frames,page_cache_duplicate_frames,"
			       "page_cache_cache_duplicate_frames" : "");
	else
		printf("%5s %9s %5s %11s %11s %11s %11s %11s %11s %9s%s\n", "SET", "TIME", "TASKS",
		       "FRAMES", "SHARED", "DUPLICATE", "NONZERO", "KSM-SAVED", "KSM-REMAIN",
		       "DURATION", cache ? "      CACHED   CACHE-DUP CACHE-MIXED" : "");
	fflush(stdout);
}

/* A page count as a table cell, in the units of memprint analyze, or bytes with --bytes. */
static void print_pages(const struct watch_ctl *ctl, uint64_t pages)
{
	char cell[32];

	mp_format_pages(cell, sizeof(cell), pages, ctl->bytes);
	printf(" %11s", cell);
}

/*
 * Print the cached frames, their duplicates and the anonymous task frames
 * equal to a cached page; cache is NULL without --page-cache.
 */
static void print_cache(const struct watch_ctl *ctl, const struct mp_pagecache_report *cache)
{
	if (!cache)
		return;
	if (!cache->files && cache->files_unknown) {
		/* The kernel reported the residency of none of the files: unknown. */
		for (int i = 0; i < 3; i++) {
			if (ctl->csv)
				putchar(',');
			else
				printf(" %11s", "-");
		}
		return;
	}
	if (ctl->csv) {
		printf(",%" PRIu64 ",%" PRIu64 ",%" PRIu64, cache->frames, cache->duplicate_frames,
		       cache->cache_duplicate_frames);
		return;
	}
	print_pages(ctl, cache->frames);
	print_pages(ctl, cache->duplicate_frames);
	print_pages(ctl, cache->cache_duplicate_frames);
}

/* A number that needs PFNs: an empty CSV field or "-" in a set taken without them. */
static void print_pfn_number(const struct watch_ctl *ctl, const struct mp_report *report,
			     uint64_t pages)
{
	if (ctl->csv && report->pfn_valid)
		printf(",%" PRIu64, pages);
	else if (ctl->csv)
		putchar(',');
	else if (report->pfn_valid)
		print_pages(ctl, pages);
	else
		printf(" %11s", "-");
}

static void print_set(struct watch_ctl *ctl, const struct mp_report *report,
		      const struct mp_pagecache_report *cache, uint64_t duration_ns)
{
	const struct mp_totals *t = &report->totals;
	double time = (double)(report->info.monotonic_ns - ctl->first_ns) / 1e9;

	if (ctl->csv) {
		printf("%u,%.3f,%.3f,%zu,%" PRIu64, ctl->set, time,
		       (double)report->info.realtime_ns / 1e9, report->task_count, t->frames);
		print_pfn_number(ctl, report, t->shared_frames);
		printf(",%" PRIu64 ",%" PRIu64, t->duplicate_frames, t->duplicate_frames_nonzero);
		print_pfn_number(ctl, report, t->ksm_saved);
		print_pfn_number(ctl, report, t->ksm_remaining);
		printf(",%.3f", (double)duration_ns / 1e6);
	} else {
		printf("%5u %9.3f %5zu", ctl->set, time, report->task_count);
		print_pages(ctl, t->frames);
		print_pfn_number(ctl, report, t->shared_frames);
		print_pages(ctl, t->duplicate_frames);
		print_pages(ctl, t->duplicate_frames_nonzero);
		print_pfn_number(ctl, report, t->ksm_saved);
		print_pfn_number(ctl, report, t->ksm_remaining);
		printf(" %8.3fs", (double)duration_ns / 1e9);
	}
	print_cache(ctl, cache);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------- schedule */

static void on_stop_signal(int signo)
{
	stop_signal = signo;
}

/* SIGINT and SIGTERM end the watch after the set in progress; no SA_RESTART, so sleeps end. */
static void catch_stop_signals(void)
{
	struct sigaction action = { .sa_handler = on_stop_signal };

	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
}

static int64_t monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * NS_PER_SEC + now.tv_nsec;
}

/* Sleep until the absolute monotonic time deadline, or until a stop signal. */
static void sleep_until(int64_t deadline)
{
	struct timespec until = { deadline / NS_PER_SEC, deadline % NS_PER_SEC };

	while (!stop_signal &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

/*
 * Remember message as printed; false if it was printed before.  Each scan
 * repeats some warnings (that PFNs are hidden, for one): a watch prints
 * them once, with the number of the first set.  Past WARNINGS_KEPT
 * distinct messages, new ones are printed without being remembered.
 */
static bool first_warning(struct watch_ctl *ctl, const char *message)
{
	for (size_t i = 0; i < ctl->warning_count; i++) {
		if (!strcmp(ctl->warnings[i], message))
			return false;
	}
	if (ctl->warning_count < WARNINGS_KEPT) {
		char *copy = strdup(message);

		if (copy)
			ctl->warnings[ctl->warning_count++] = copy;
	}
	return true;
}

static void warn_scan(void *ctx, const char *message)
{
	struct watch_ctl *ctl = ctx;

	if (first_warning(ctl, message))
		cli_warn("set %u: %s", ctl->set, message);
}

/* Take one set into the writer and the analyses, and print its line. */
static int take_set(struct watch_ctl *ctl, const pid_t *pids, size_t count,
		    const struct mp_sink *sink)
{
	struct mp_scan_options options = {
		.hash = ctl->hash.id ? ctl->hash.id : MP_HASH_DEFAULT,
		.hash_key = ctl->hash.key,
		.hash_key_size = ctl->hash.key_size,
		.warn = warn_scan,
		.warn_ctx = ctl,
	};
	struct mp_pagecache_report *cache = NULL;
	struct mp_error error = { 0 };
	struct mp_report *report;
	int64_t start = monotonic_ns();
	int rc;

	rc = cli_scan_set(&ctl->options, pids, count, false, &options, sink, &error);
	if (rc == 0 && ctl->cache_analysis)
		rc = mp_pagecache_analysis_report(ctl->cache_analysis, &cache, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	rc = mp_analysis_report(ctl->analysis, &report, &error);
	if (rc < 0) {
		mp_pagecache_report_free(cache);
		return cli_report_error(&error, rc);
	}

	if (ctl->set == 0)
		ctl->first_ns = report->info.monotonic_ns;
	print_set(ctl, report, cache, (uint64_t)(monotonic_ns() - start));
	mp_report_free(report);
	mp_pagecache_report_free(cache);
	ctl->set++;
	return 0;
}

/*
 * The next deadline after a set: start + tick * interval for the next tick
 * still ahead.  Ticks that passed while the set ran are skipped, with a
 * warning, not queued.
 */
static uint64_t next_tick(const struct watch_ctl *ctl, int64_t start, uint64_t tick)
{
	int64_t now = monotonic_ns();
	uint64_t next = tick + 1;

	if (now <= start + (int64_t)next * ctl->interval_ns)
		return next;
	next = (uint64_t)((now - start) / ctl->interval_ns) + 1;
	cli_warn("set %u overran the interval of %.3fs: skipping %" PRIu64 " tick%s",
		 ctl->set - 1, (double)ctl->interval_ns / 1e9, next - tick - 1,
		 plural(next - tick - 1));
	return next;
}

static int watch_loop(struct watch_ctl *ctl, const struct mp_sink *sink)
{
	int64_t start = monotonic_ns();
	struct mp_error error = { 0 };
	uint64_t tick = 0;
	int rc = 0;

	while (!ctl->count || ctl->set < ctl->count) {
		pid_t *pids = NULL;
		size_t count = 0;

		sleep_until(start + (int64_t)tick * ctl->interval_ns);
		if (stop_signal)
			break;
		rc = resolve_targets(ctl, &pids, &count, &error);
		if (rc < 0)
			return cli_report_error(&error, rc);
		if (!count && ctl->tasks) {
			free(pids);
			cli_warn("every target has exited: stopping after %u set%s", ctl->set,
				 plural(ctl->set));
			return 0;
		}
		rc = take_set(ctl, pids, count, sink);
		free(pids);
		if (rc)
			return rc;
		tick = next_tick(ctl, start, tick);
	}
	if (stop_signal)
		cli_warn("stopped by %s after %u set%s", strsignal(stop_signal), ctl->set,
			 plural(ctl->set));
	return 0;
}

/* ------------------------------------------------------------- main */

static int open_outputs(struct watch_ctl *ctl, struct mp_tee **tee)
{
	/* per_task: the line shows the number of tasks in the set. */
	struct mp_analysis_options analysis_options = { .use_zero_pages = -1, .per_task = true };
	struct mp_error error = { 0 };
	struct mp_sink sinks[3];
	size_t sink_count = 2;
	int rc;

	ctl->writer_options.sync = true;
	rc = mp_writer_open(&ctl->writer, ctl->output, &ctl->writer_options, &error);
	if (rc == 0)
		rc = mp_analysis_open(&ctl->analysis, &analysis_options, &error);
	if (rc == 0 && ctl->options.page_cache)
		rc = mp_pagecache_analysis_open(&ctl->cache_analysis, NULL, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);

	sinks[0] = mp_writer_sink(ctl->writer);
	sinks[1] = mp_analysis_sink(ctl->analysis);
	if (ctl->cache_analysis)
		sinks[sink_count++] = mp_pagecache_analysis_sink(ctl->cache_analysis);
	rc = mp_tee_open(tee, sinks, sink_count);
	if (rc < 0) {
		cli_warn("%s", mp_strerror(rc));
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Check the targets once before the first set, as scan does.  A --pid with
 * no process is left out with a warning (exit status 2 at the end).  A
 * watch with no process and no page cache to follow fails at once.
 */
static int check_targets(struct watch_ctl *ctl)
{
	pid_t *pids = NULL;
	size_t count = 0;
	int rc;

	rc = cli_resolve_targets(&ctl->options, NULL, &pids, &count);
	free(pids);
	ctl->tasks = ctl->dynamic || ctl->options.pid_count;
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_ctl ctl = { .interval_ns = 2 * NS_PER_SEC };
	struct mp_error error = { 0 };
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	int rc;

	rc = parse_args(&ctl, argc, argv);
	if (rc == 0)
		rc = cli_hash_load_key(&ctl.hash);
	if (rc == 0)
		rc = check_targets(&ctl);
	if (rc == 0)
		rc = open_outputs(&ctl, &tee);
	if (rc == 0) {
		catch_stop_signals();
		print_header(&ctl);
		sink = mp_tee_sink(tee);
		rc = watch_loop(&ctl, &sink);
	}

	mp_tee_close(tee);
	mp_analysis_close(ctl.analysis);
	mp_pagecache_analysis_close(ctl.cache_analysis);
	if (ctl.writer && mp_writer_close(ctl.writer, &error) < 0 && rc == 0)
		rc = cli_report_error(&error, error.code);
	if (rc == 0 && ctl.options.missing_pids)
		rc = EXIT_RUNTIME;
	cli_targets_free(&ctl.options);
	cli_hash_free(&ctl.hash);
	for (size_t i = 0; i < ctl.warning_count; i++)
		free(ctl.warnings[i]);
	if (ferror(stdout) && rc == 0) {
		cli_warn("write error on standard output");
		rc = EXIT_RUNTIME;
	}
	return rc < 0 ? 0 : rc;
}
