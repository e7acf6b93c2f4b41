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
 * analysis, which gives the line printed for it.
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

#define NS_PER_SEC 1000000000ll

struct watch_ctl {
	struct mp_targets targets;
	pid_t *explicit_pids;		/* --pid, still running */
	size_t explicit_count;
	bool dynamic;			/* --all, --comm or --cgroup: resolved each tick */
	int64_t interval_ns;
	uint64_t count;			/* sets to take, 0 for no limit */
	const char *output;
	bool csv;
	bool bytes;
	enum mp_hash_id hash;
	struct mp_writer_options writer_options;

	struct mp_writer *writer;
	struct mp_analysis *analysis;
	int64_t first_ns;		/* monotonic start of the first set */
	uint32_t set;			/* sets taken */
};

static volatile sig_atomic_t stop_signal;

static void print_help(void)
{
	fputs("Usage:\n"
	      " memprint watch [options] TARGETS -o FILE\n\n"
	      "Take a snapshot set of the targets at a fixed interval and append each to\n"
	      "one series file, printing a line of numbers per set.  Analyse the file\n"
	      "with memprint timeline.\n\n"
	      "Targets:\n"
	      " -p, --pid PID          a process (repeatable)\n"
	      " -a, --all              every user process, followed as they start and end\n"
	      "     --comm NAME        the processes named NAME (/proc/PID/comm)\n"
	      "     --cgroup PATH      the processes of a cgroup v2 subtree\n\n"
	      "Options:\n"
	      " -i, --interval TIME    time between set starts (default 2s); suffixes ms, s,\n"
	      "                        m; a plain number is in seconds\n"
	      " -n, --count N          sets to take (default 0: until interrupted)\n"
	      " -o, --output FILE      the series file (created mode 0600)\n"
	      "     --append           add to an existing series file\n"
	      " -H, --hash ALG         page hash (default xxh3)\n"
	      " -z, --compress         zstd-compress the file\n"
	      "     --csv              print CSV lines, not a table\n"
	      " -b, --bytes            print sizes in bytes, not in human units\n"
	      " -h, --help             display this help\n\n"
	      "The watch stops after --count sets, on SIGINT or SIGTERM after the set in\n"
	      "progress, or when every target has exited; the file is valid in each case.\n\n"
	      "Exit status: 0 success, 1 usage error, 2 runtime failure.\n"
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

static int add_pid(struct watch_ctl *ctl, const char *text)
{
	pid_t *pids;
	char *end;
	long pid;

	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT32_MAX)
		return cli_usage_error("watch", "invalid --pid '%s': expected a process id", text);
	pids = realloc(ctl->explicit_pids, (ctl->explicit_count + 1) * sizeof(*pids));
	if (!pids) {
		cli_warn("out of memory");
		return EXIT_RUNTIME;
	}
	pids[ctl->explicit_count++] = (pid_t)pid;
	ctl->explicit_pids = pids;
	return 0;
}

enum { OPT_COMM = 256, OPT_CGROUP, OPT_APPEND, OPT_CSV };

static int parse_option(struct watch_ctl *ctl, int c)
{
	char *end;

	switch (c) {
	case 'p':
		return add_pid(ctl, optarg);
	case 'a':
		ctl->targets.all = true;
		break;
	case OPT_COMM:
		ctl->targets.comm = optarg;
		break;
	case OPT_CGROUP:
		ctl->targets.cgroup = optarg;
		break;
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
	case 'H':
		ctl->hash = mp_hash_lookup(optarg);
		if (ctl->hash == MP_HASH_NONE)
			return cli_usage_error("watch", "unknown --hash '%s'", optarg);
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
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "append", no_argument, NULL, OPT_APPEND },
		{ "hash", required_argument, NULL, 'H' },
		{ "compress", no_argument, NULL, 'z' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:ai:n:o:H:zbh", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error("watch", c, argv);
		rc = parse_option(ctl, c);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (!ctl->explicit_count && !ctl->targets.all && !ctl->targets.comm &&
	    !ctl->targets.cgroup)
		return cli_usage_error("watch", "no target: give --pid, --all, --comm or --cgroup");
	if (!ctl->output)
		return cli_usage_error("watch", "no series file: give -o FILE");
	ctl->dynamic = ctl->targets.all || ctl->targets.comm || ctl->targets.cgroup;
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

	for (size_t i = 0; i < ctl->explicit_count; i++) {
		if (process_running(ctl->explicit_pids[i]))
			ctl->explicit_pids[kept++] = ctl->explicit_pids[i];
	}
	ctl->explicit_count = kept;
}

/*
 * The pids of this tick: the --pid processes still running, and with --all,
 * --comm or --cgroup the processes they match now.
 */
static int resolve_targets(struct watch_ctl *ctl, pid_t **pids, size_t *count,
			   struct mp_error *error)
{
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		drop_exited(ctl);
		ctl->targets.pids = ctl->explicit_pids;
		ctl->targets.pid_count = ctl->explicit_count;
		rc = mp_targets_resolve(&ctl->targets, NULL, pids, count, error);
		/* A --pid process that exited since drop_exited(): look again. */
		if (rc != -ESRCH)
			break;
	}
	return rc;
}

/* ------------------------------------------------------------- output */

static void print_header(const struct watch_ctl *ctl)
{
	if (ctl->csv)
		puts("set,time,timestamp,tasks,frames,shared_frames,duplicate_frames,"
		     "duplicate_frames_nonzero,ksm_saved,ksm_remaining,duration_ms");
	else
		printf("%5s %9s %5s %11s %11s %11s %11s %11s %11s %9s\n", "SET", "TIME", "TASKS",
		       "FRAMES", "SHARED", "DUPLICATE", "NONZERO", "KSM-SAVED", "KSM-REMAIN",
		       "DURATION");
	fflush(stdout);
}

/* A page count as a table cell: MiB with one decimal, or bytes with --bytes. */
static void print_pages(const struct watch_ctl *ctl, uint64_t pages)
{
	if (ctl->bytes)
		printf(" %11" PRIu64, pages * MP_PAGE_SIZE);
	else
		printf(" %10.1fM", (double)pages * MP_PAGE_SIZE / (1024.0 * 1024.0));
}

static void print_set(struct watch_ctl *ctl, const struct mp_report *report,
		      uint64_t duration_ns)
{
	const struct mp_totals *t = &report->totals;
	double time = (double)(report->info.monotonic_ns - ctl->first_ns) / 1e9;

	if (ctl->csv) {
		printf("%u,%.3f,%.3f,%zu,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		       ",%" PRIu64 ",%.3f\n", ctl->set, time,
		       (double)report->info.realtime_ns / 1e9, report->task_count, t->frames,
		       t->shared_frames, t->duplicate_frames, t->duplicate_frames_nonzero,
		       t->ksm_saved, t->ksm_remaining, (double)duration_ns / 1e6);
	} else {
		printf("%5u %9.3f %5zu", ctl->set, time, report->task_count);
		print_pages(ctl, t->frames);
		print_pages(ctl, t->shared_frames);
		print_pages(ctl, t->duplicate_frames);
		print_pages(ctl, t->duplicate_frames_nonzero);
		print_pages(ctl, t->ksm_saved);
		print_pages(ctl, t->ksm_remaining);
		printf(" %8.3fs\n", (double)duration_ns / 1e9);
	}
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

static void warn_scan(void *ctx, const char *message)
{
	const struct watch_ctl *ctl = ctx;

	cli_warn("set %u: %s", ctl->set, message);
}

/* Take one set into the writer and the analysis, and print its line. */
static int take_set(struct watch_ctl *ctl, const pid_t *pids, size_t count,
		    const struct mp_sink *sink)
{
	struct mp_scan_options options = { .hash = ctl->hash, .warn = warn_scan,
					   .warn_ctx = ctl };
	struct mp_error error = { 0 };
	struct mp_report *report;
	int64_t start = monotonic_ns();
	int rc;

	rc = mp_procfs_scan(pids, count, &options, sink, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	rc = mp_analysis_report(ctl->analysis, &report, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);

	if (ctl->set == 0)
		ctl->first_ns = report->info.monotonic_ns;
	print_set(ctl, report, (uint64_t)(monotonic_ns() - start));
	mp_report_free(report);
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
		 next - tick - 1 == 1 ? "" : "s");
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
		if (!count) {
			free(pids);
			cli_warn("every target has exited: stopping after %u sets", ctl->set);
			return 0;
		}
		rc = take_set(ctl, pids, count, sink);
		free(pids);
		if (rc)
			return rc;
		tick = next_tick(ctl, start, tick);
	}
	if (stop_signal)
		cli_warn("stopped by %s after %u sets", strsignal(stop_signal), ctl->set);
	return 0;
}

/* ------------------------------------------------------------- main */

static int open_outputs(struct watch_ctl *ctl, struct mp_tee **tee)
{
	/* per_task: the line shows the number of tasks in the set. */
	struct mp_analysis_options analysis_options = { .use_zero_pages = -1, .per_task = true };
	struct mp_error error = { 0 };
	struct mp_sink sinks[2];
	int rc;

	ctl->writer_options.sync = true;
	rc = mp_writer_open(&ctl->writer, ctl->output, &ctl->writer_options, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	rc = mp_analysis_open(&ctl->analysis, &analysis_options, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);

	sinks[0] = mp_writer_sink(ctl->writer);
	sinks[1] = mp_analysis_sink(ctl->analysis);
	rc = mp_tee_open(tee, sinks, 2);
	if (rc < 0) {
		cli_warn("%s", mp_strerror(rc));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Check the targets once before the first set, so that a wrong --pid fails at once. */
static int check_targets(struct watch_ctl *ctl)
{
	struct mp_error error = { 0 };
	pid_t *pids = NULL;
	size_t count = 0;
	int rc;

	ctl->targets.pids = ctl->explicit_pids;
	ctl->targets.pid_count = ctl->explicit_count;
	rc = mp_targets_resolve(&ctl->targets, NULL, &pids, &count, &error);
	free(pids);
	if (rc < 0)
		return cli_report_error(&error, rc);
	if (!count) {
		cli_warn("no process matches the targets");
		return EXIT_RUNTIME;
	}
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_ctl ctl = { .interval_ns = 2 * NS_PER_SEC, .hash = MP_HASH_DEFAULT };
	struct mp_error error = { 0 };
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	int rc;

	rc = parse_args(&ctl, argc, argv);
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
	if (ctl.writer && mp_writer_close(ctl.writer, &error) < 0 && rc == 0)
		rc = cli_report_error(&error, error.code);
	free(ctl.explicit_pids);
	if (ferror(stdout) && rc == 0) {
		cli_warn("write error on standard output");
		rc = EXIT_RUNTIME;
	}
	return rc < 0 ? 0 : rc;
}
