// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_watch.c - the cost of a watch: time per set, and timeline analysis
 * speed on a series
 *
 * Child processes of --pages pages each (every fourth page holds one of
 * 1024 shared contents)
 * are forked by the benchmark and wait for orders on a pipe.  Rows, each
 * measured in the same run:
 *
 *   copy out            reading the child's present pages through
 *                       /proc/PID/mem: the floor of any procfs snapshot
 *   set, static         one watch set (scan, snapshot writer, per-set
 *                       analysis) of a child that does not change
 *   set, 10 % changing  the same, the child rewriting 10 % of its pages
 *                       between sets (the rewrite is not timed)
 *   read series         reading a --sets series of two children (10 %
 *                       changing) from its file into no sink
 *   + analysis          the same with a per-set analysis report
 *   + timeline          the same with the timeline engine too, on one
 *                       thread
 *   memprint timeline   the command itself on the same file, which runs
 *                       the analysis on a second thread
 *
 * Set rows keep the best and the median of --sets sets; series rows the
 * best of --repeat passes, because other processes share the cores.
 *
 * Usage: bench_watch [--pages N] [--sets N] [--repeat N]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memprint.h"

#define PAGE 4096
#define COPY_CHUNK 256			/* pages per /proc/PID/mem read */

struct child {
	pid_t pid;
	int orders;			/* write end: 'r' rewrite, 'q' quit */
	int replies;			/* read end: one byte per order done */
	uint64_t first_page;		/* the arena's address / PAGE */
};

struct options {
	unsigned long pages;
	unsigned sets;
	unsigned repeat;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_watch: %s: %s\n", what, why);
	exit(2);
}

/* ---------------------------------------------------------------- children */

static void fill_page(uint64_t *words, uint64_t content)
{
	uint64_t x = content * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < PAGE / sizeof(*words); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[i] = x;
	}
}

/* The child: every fourth page holds one of 1024 shared contents; 10 % rewritten per order. */
static void child_main(unsigned long pages, int orders, int replies)
{
	uint8_t *arena = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t round = 0;
	char order;

	if (arena == MAP_FAILED)
		_exit(1);
	for (unsigned long p = 0; p < pages; p++)
		fill_page((uint64_t *)(arena + p * PAGE), p % 4 == 0 ? p / 4 % 1024 + 1 : p + pages);
	if (write(replies, &arena, sizeof(arena)) != sizeof(arena))
		_exit(1);

	while (read(orders, &order, 1) == 1 && order == 'r') {
		round++;
		for (unsigned long p = round % 10; p < pages; p += 10)
			fill_page((uint64_t *)(arena + p * PAGE), round << 32 | p);
		if (write(replies, &order, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void start_child(struct child *child, unsigned long pages)
{
	int orders[2], replies[2];
	uint8_t *arena;

	if (pipe(orders) < 0 || pipe(replies) < 0)
		die("pipe", strerror(errno));
	child->pid = fork();
	if (child->pid < 0)
		die("fork", strerror(errno));
	if (child->pid == 0) {
		close(orders[1]);
		close(replies[0]);
		child_main(pages, orders[0], replies[1]);
	}
	close(orders[0]);
	close(replies[1]);
	child->orders = orders[1];
	child->replies = replies[0];
	if (read(child->replies, &arena, sizeof(arena)) != sizeof(arena))
		die("child", "did not start");
	child->first_page = (uint64_t)(uintptr_t)arena / PAGE;
}

static void rewrite_child(const struct child *child)
{
	char order = 'r';

	if (write(child->orders, &order, 1) != 1 || read(child->replies, &order, 1) != 1)
		die("child", "did not rewrite its pages");
}

static void stop_child(struct child *child)
{
	char order = 'q';

	if (write(child->orders, &order, 1) != 1)
		perror("bench_watch: child");
	close(child->orders);
	close(child->replies);
	waitpid(child->pid, NULL, 0);
}

/* ---------------------------------------------------------------- rows */

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_row(const char *name, double seconds, double median, uint64_t pages,
		      double baseline)
{
	printf("%-22s %10.2f ms %10.2f ms %9.0f MB/s %8.2f\n", name, seconds * 1e3,
	       median * 1e3, pages * (double)PAGE / seconds / 1e6,
	       baseline > 0 ? seconds / baseline : 1.0);
}

/* Read the child's arena through /proc/PID/mem, best of repeat passes. */
static double copy_out(const struct child *child, unsigned long pages, unsigned repeat)
{
	static uint8_t buffer[COPY_CHUNK * PAGE];
	char path[64];
	double best = 1e30;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)child->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, strerror(errno));
	for (unsigned r = 0; r < repeat; r++) {
		double start = now_seconds();

		for (unsigned long p = 0; p < pages; p += COPY_CHUNK) {
			size_t count = pages - p < COPY_CHUNK ? pages - p : COPY_CHUNK;
			off_t offset = (off_t)((child->first_page + p) * PAGE);

			if (pread(fd, buffer, count * PAGE, offset) != (ssize_t)(count * PAGE))
				die(path, "short read");
		}
		if (now_seconds() - start < best)
			best = now_seconds() - start;
	}
	close(fd);
	return best;
}

struct watch_sinks {
	struct mp_writer *writer;
	struct mp_analysis *analysis;
	struct mp_tee *tee;
	struct mp_sink sink;
};

static void open_watch_sinks(struct watch_sinks *w, const char *path)
{
	struct mp_writer_options writer_options = { .sync = true };
	struct mp_error error = { 0 };
	struct mp_sink sinks[2];

	if (mp_writer_open(&w->writer, path, &writer_options, &error) < 0 ||
	    mp_analysis_open(&w->analysis, NULL, &error) < 0)
		die("open", error.message);
	sinks[0] = mp_writer_sink(w->writer);
	sinks[1] = mp_analysis_sink(w->analysis);
	if (mp_tee_open(&w->tee, sinks, 2) < 0)
		die("tee", "out of memory");
	w->sink = mp_tee_sink(w->tee);
}

static void close_watch_sinks(struct watch_sinks *w)
{
	struct mp_error error = { 0 };

	mp_tee_close(w->tee);
	mp_analysis_close(w->analysis);
	if (mp_writer_close(w->writer, &error) < 0)
		die("close", error.message);
}

/* One watch set of pids: scan into the writer and the analysis, then report. */
static double watch_set(struct watch_sinks *w, const pid_t *pids, size_t count)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3 };
	struct mp_error error = { 0 };
	struct mp_report *report;
	double start = now_seconds();

	if (mp_procfs_scan(pids, count, &options, &w->sink, &error) < 0 ||
	    mp_analysis_report(w->analysis, &report, &error) < 0)
		die("set", error.message);
	mp_report_free(report);
	return now_seconds() - start;
}

/* Time sets of one child; with changing, the child rewrites 10 % before each. */
static void bench_sets(const char *name, struct child *child, const struct options *o,
		       bool changing, double baseline)
{
	char path[] = "/tmp/bench_watch-XXXXXX";
	double *times = calloc(o->sets, sizeof(*times));
	struct watch_sinks w;
	int fd = mkstemp(path);

	if (fd < 0 || !times)
		die("setup", strerror(errno));
	close(fd);
	open_watch_sinks(&w, path);
	for (unsigned s = 0; s < o->sets; s++) {
		if (changing)
			rewrite_child(child);
		times[s] = watch_set(&w, &child->pid, 1);
	}
	close_watch_sinks(&w);
	unlink(path);

	qsort(times, o->sets, sizeof(*times), compare_doubles);
	print_row(name, times[0], times[o->sets / 2], o->pages, baseline);
	free(times);
}

/* ---------------------------------------------------------------- series */

static void write_series(const char *path, const struct options *o)
{
	struct child children[2];
	struct watch_sinks w;
	pid_t pids[2];

	for (int i = 0; i < 2; i++) {
		start_child(&children[i], o->pages);
		pids[i] = children[i].pid;
	}
	open_watch_sinks(&w, path);
	for (unsigned s = 0; s < o->sets; s++) {
		for (int i = 0; i < 2 && s; i++)
			rewrite_child(&children[i]);
		watch_set(&w, pids, 2);
	}
	close_watch_sinks(&w);
	for (int i = 0; i < 2; i++)
		stop_child(&children[i]);
}

struct series_sinks {
	struct mp_analysis *analysis;
	struct mp_timeline *timeline;
	struct mp_tee *tee;
};

static int report_set(void *ctx, const struct mp_timeline_set *set)
{
	struct mp_analysis *analysis = ctx;
	struct mp_report *report;
	int rc;

	(void)set;
	rc = mp_analysis_report(analysis, &report, NULL);
	if (rc == 0)
		mp_report_free(report);
	return rc;
}

static int count_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	(void)pages;
	*(uint64_t *)ctx += count;
	return 0;
}

/*
 * Read the series into a page counter (level 0), the analysis (1) or both
 * (2); returns seconds.  *pages gets the page records (level 0) or the
 * mappings the timeline compared (level 2).
 */
static double read_series(const char *path, int level, uint64_t *pages)
{
	static const struct mp_sink_ops counter_ops = { .pages = count_pages };
	struct mp_timeline_summary *summary = NULL;
	struct mp_timeline_options options = { 0 };
	struct mp_error error = { 0 };
	struct series_sinks s = { 0 };
	struct mp_sink sink = { &counter_ops, pages, NULL }, sinks[2];
	struct mp_reader *reader;
	double start = now_seconds();
	int rc;

	if (level >= 1 && mp_analysis_open(&s.analysis, NULL, &error) < 0)
		die("analysis", error.message);
	options.set_done = report_set;
	options.set_done_ctx = s.analysis;
	if (level == 2 && mp_timeline_open(&s.timeline, &options, &error) < 0)
		die("timeline", error.message);
	if (level >= 1) {
		sinks[0] = mp_analysis_sink(s.analysis);
		sinks[1] = level == 2 ? mp_timeline_sink(s.timeline) : sinks[0];
		if (mp_tee_open(&s.tee, sinks, level) < 0)
			die("tee", "out of memory");
		sink = mp_tee_sink(s.tee);
	}

	if (mp_reader_open(&reader, path, &error) < 0)
		die("read", error.message);
	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0) {
		if (level == 1)
			report_set(s.analysis, NULL);
	}
	if (rc < 0)
		die("read", error.message);
	if (level == 2 && mp_timeline_finish(s.timeline, &summary, &error) < 0)
		die("timeline", error.message);
	mp_reader_close(reader);

	if (summary)
		*pages = summary->common_mappings;
	mp_timeline_summary_free(summary);
	mp_timeline_close(s.timeline);
	mp_tee_close(s.tee);
	mp_analysis_close(s.analysis);
	return now_seconds() - start;
}

/* The memprint command built beside this benchmark (build/memprint), or NULL. */
static char *find_memprint(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	strcpy(slash, "/../memprint");
	return access(path, X_OK) == 0 ? path : NULL;
}

/* Run memprint timeline FILE with its output to /dev/null; returns seconds. */
static double run_timeline_command(char *memprint, char *path)
{
	char *argv[] = { memprint, "timeline", path, NULL };
	posix_spawn_file_actions_t actions;
	double start = now_seconds();
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, memprint, &actions, NULL, argv, NULL) != 0)
		die(memprint, "cannot start");
	posix_spawn_file_actions_destroy(&actions);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die(memprint, "timeline failed");
	return now_seconds() - start;
}

static void bench_command(char *path, const struct options *o, uint64_t records,
			  double baseline)
{
	char *memprint = find_memprint();
	double best = 1e30;

	if (!memprint) {
		printf("%-22s (build/memprint not found: not measured)\n", "memprint timeline");
		return;
	}
	for (unsigned r = 0; r < o->repeat; r++) {
		double seconds = run_timeline_command(memprint, path);

		if (seconds < best)
			best = seconds;
	}
	printf("%-22s %8.3f s %11.1f M %12.2f\n", "memprint timeline", best,
	       records / best / 1e6, best / baseline);
}

static void bench_series(const struct options *o)
{
	static const char *const names[] = { "read series", "+ analysis", "+ timeline" };
	char path[] = "/tmp/bench_watch-series-XXXXXX";
	uint64_t records = 0, compared = 0;
	double best[3], baseline = 0;
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp", strerror(errno));
	close(fd);
	write_series(path, o);

	read_series(path, 0, &records);
	printf("\n%u sets of 2 children x %lu pages (%lu page records in all); best of %u\n",
	       o->sets, o->pages, (unsigned long)records, o->repeat);
	printf("%-22s %10s %13s %12s\n", "case", "time", "records/s", "ratio");
	for (int level = 0; level < 3; level++) {
		best[level] = 1e30;
		for (unsigned r = 0; r < o->repeat; r++) {
			uint64_t counted = 0;
			double seconds = read_series(path, level, &counted);

			if (level == 2)
				compared = counted;
			if (seconds < best[level])
				best[level] = seconds;
		}
		if (level == 0)
			baseline = best[0];
		printf("%-22s %8.3f s %11.1f M %12.2f\n", names[level], best[level],
		       records / best[level] / 1e6, best[level] / baseline);
	}
	bench_command(path, o, records, baseline);
	unlink(path);
	printf("timeline compared %lu mappings between consecutive sets\n",
	       (unsigned long)compared);
}

/* ---------------------------------------------------------------- main */

static void parse_options(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "sets", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "p:s:r:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pages = strtoul(optarg, NULL, 0);
			break;
		case 's':
			o->sets = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->repeat = (unsigned)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: bench_watch [--pages N] [--sets N] [--repeat N]\n");
			exit(1);
		}
	}
	if (!o->pages || o->sets < 2 || !o->repeat) {
		fprintf(stderr, "bench_watch: --pages and --repeat must be at least 1, --sets 2\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct options o = { .pages = 65536, .sets = 200, .repeat = 3 };
	struct child child;
	double baseline;

	parse_options(&o, argc, argv);
	start_child(&child, o.pages);

	printf("one child of %lu pages (%.0f MiB); set rows: best and median of %u sets\n",
	       o.pages, o.pages * (double)PAGE / (1 << 20), o.sets);
	printf("%-22s %13s %13s %14s %8s\n", "case", "best", "median", "rate", "ratio");
	baseline = copy_out(&child, o.pages, o.sets);
	print_row("copy out", baseline, baseline, o.pages, baseline);
	bench_sets("set, static", &child, &o, false, baseline);
	bench_sets("set, 10 % changing", &child, &o, true, baseline);
	stop_child(&child);

	bench_series(&o);
	return 0;
}
