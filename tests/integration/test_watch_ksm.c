// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_watch_ksm.c - KSM lag over a series, with KSM running
 *
 * An mp-workload arena of 8 contents x 32 pages is marked mergeable while
 * KSM is stopped, and set 0 is taken.  Then KSM is started, and sets are
 * taken until KSM has merged everything.  With max_page_sharing m, KSM potential is
 * 8 * (32 - ceil(32 / m)) in every set (248 with the default 256), KSM saved
 * starts at 0 and KSM saved + KSM remaining is the potential in each set.
 *
 * KSM settings are machine-wide: the test takes an exclusive lock on
 * /run/lock/memprint-ksm.lock, skips if another process has mergeable
 * memory, and restores run, sleep_millisecs and pages_to_scan when it ends,
 * also after a failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <sys/file.h>
#include <time.h>

#include "test_watch.h"

#define KSM_DIR "/sys/kernel/mm/ksm/"
#define LOCK_PATH "/run/lock/memprint-ksm.lock"
#define CONTENTS 8
#define PAGES_PER_CONTENT 32
#define MAX_SETS 600		/* 60 s of sets 100 ms apart */

static const char *const saved_names[] = { "run", "sleep_millisecs", "pages_to_scan" };

struct ksm_state {
	int lock_fd;
	bool saved;
	char values[3][32];
	struct workload workload;
};

static struct ksm_state ksm = { .lock_fd = -1 };

static int read_setting(const char *name, char *value, size_t size)
{
	char path[128];
	FILE *file;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	file = fopen(path, "re");
	if (!file)
		return -errno;
	if (!fgets(value, (int)size, file))
		value[0] = '\0';
	fclose(file);
	value[strcspn(value, "\n")] = '\0';
	return 0;
}

static int write_setting(const char *name, const char *value)
{
	char path[128];
	FILE *file;
	int rc = 0;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	file = fopen(path, "we");
	if (!file)
		return -errno;
	if (fputs(value, file) < 0)
		rc = -EIO;
	if (fclose(file) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static uint64_t read_number(const char *name)
{
	char value[32];

	assert_int_equal(read_setting(name, value, sizeof(value)), 0);
	return strtoull(value, NULL, 10);
}

static void restore_settings(void)
{
	if (!ksm.saved)
		return;
	/*
	 * Unmerge first (run=2), so that KSM's counters do not keep stale
	 * values for the next KSM test, then the scan rate, then run as it
	 * was.  The test only ran when no other process had mergeable memory.
	 */
	write_setting("run", "2");
	for (size_t i = 1; i < 3; i++)
		write_setting(saved_names[i], ksm.values[i]);
	write_setting("run", ksm.values[0]);
	ksm.saved = false;
}

/* Whether a process other than ours has a mergeable area or KSM merge-any on. */
static bool other_mergeable(pid_t *culprit)
{
	char path[64], line[512];
	struct dirent *entry;
	DIR *proc = opendir("/proc");
	bool found = false;

	assert_non_null(proc);
	while (!found && (entry = readdir(proc))) {
		pid_t pid;
		FILE *file;

		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		pid = (pid_t)atoi(entry->d_name);
		if (pid == getpid() || pid == ksm.workload.pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
		file = fopen(path, "re");
		if (!file)
			continue;
		while (!found && fgets(line, sizeof(line), file))
			found = !strncmp(line, "VmFlags:", 8) && strstr(line, " mg");
		fclose(file);

		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", (int)pid);
		file = fopen(path, "re");
		while (file && !found && fgets(line, sizeof(line), file))
			found = !strcmp(line, "ksm_merge_any: yes\n");
		if (file)
			fclose(file);
		if (found)
			*culprit = pid;
	}
	closedir(proc);
	return found;
}

static int setup_ksm(void **state)
{
	(void)state;
	ksm.lock_fd = -1;
	ksm.workload.pid = 0;
	return 0;
}

static int teardown_ksm(void **state)
{
	(void)state;
	/* The workload's merged pages go first, so that no stale counts stay. */
	stop_workload(&ksm.workload);
	restore_settings();
	if (ksm.lock_fd >= 0) {
		flock(ksm.lock_fd, LOCK_UN);
		close(ksm.lock_fd);
		ksm.lock_fd = -1;
	}
	return 0;
}

/* Take the lock, waiting up to 2 minutes for another KSM test to finish. */
static bool take_lock(void)
{
	ksm.lock_fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ksm.lock_fd < 0)
		return false;
	for (int tries = 0; tries < 1200; tries++) {
		struct timespec pause = { 0, 100 * 1000 * 1000 };

		if (flock(ksm.lock_fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/* ------------------------------------------------------------ the series */

struct ksm_series {
	struct mp_analysis *analysis;
	struct mp_timeline *timeline;
	struct mp_tee *tee;
	struct arena_filter filter;
	struct mp_sink sink;
	struct mp_totals totals[MAX_SETS];
	struct mp_timeline_set rows[MAX_SETS];
	size_t count;
};

static int collect(void *ctx, const struct mp_timeline_set *set)
{
	struct ksm_series *series = ctx;
	struct mp_error error = { 0 };
	struct mp_report *report;
	int rc;

	rc = mp_analysis_report(series->analysis, &report, &error);
	if (rc < 0)
		return rc;
	series->rows[series->count] = *set;
	series->totals[series->count++] = report->totals;
	mp_report_free(report);
	return 0;
}

static void open_series(struct ksm_series *series)
{
	struct mp_timeline_options options = { .set_done = collect, .set_done_ctx = series };
	struct mp_error error = { 0 };
	struct mp_sink sinks[2];

	mp_assert_ok(mp_analysis_open(&series->analysis, NULL, &error), &error);
	mp_assert_ok(mp_timeline_open(&series->timeline, &options, &error), &error);
	sinks[0] = mp_analysis_sink(series->analysis);
	sinks[1] = mp_timeline_sink(series->timeline);
	assert_int_equal(mp_tee_open(&series->tee, sinks, 2), 0);
	series->filter.workloads = &ksm.workload;
	series->filter.workload_count = 1;
	series->filter.next = mp_tee_sink(series->tee);
	series->sink = (struct mp_sink){ &arena_filter_ops, &series->filter, NULL };
}

static const struct mp_totals *take_set(struct ksm_series *series)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3 };
	struct mp_error error = { 0 };

	assert_true(series->count < MAX_SETS);
	mp_assert_ok(mp_procfs_scan(&ksm.workload.pid, 1, &options, &series->sink, &error),
		     &error);
	return &series->totals[series->count - 1];
}

static void close_series(struct ksm_series *series)
{
	mp_tee_close(series->tee);
	mp_timeline_close(series->timeline);
	mp_analysis_close(series->analysis);
}

static void fill_workload(void)
{
	char command[64];

	start_workload(&ksm.workload, CONTENTS * PAGES_PER_CONTENT);
	for (int c = 0; c < CONTENTS; c++) {
		snprintf(command, sizeof(command), "fill %d %d %d", c * PAGES_PER_CONTENT,
			 PAGES_PER_CONTENT, 500 + c);
		workload_command(&ksm.workload, command);
	}
	workload_command(&ksm.workload, "mergeable");
}

static void ksm_lag_until_converged(void **state)
{
	static struct ksm_series series;
	const struct mp_totals *first, *last;
	uint64_t max_page_sharing, potential;
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	pid_t culprit;

	(void)state;
	if (geteuid() != 0)
		mp_test_skip("needs root to change KSM settings and read PFNs");
	if (access(KSM_DIR "run", W_OK) != 0)
		mp_test_skip("KSM is not in this kernel (no " KSM_DIR "run)");
	if (!take_lock())
		mp_test_skip("another test holds " LOCK_PATH);

	fill_workload();
	if (other_mergeable(&culprit))
		mp_test_skip("process %d has mergeable memory: KSM counters would mix", (int)culprit);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(read_setting(saved_names[i], ksm.values[i], sizeof(ksm.values[i])), 0);
	ksm.saved = true;
	max_page_sharing = read_number("max_page_sharing");
	potential = CONTENTS * (PAGES_PER_CONTENT -
				(PAGES_PER_CONTENT + max_page_sharing - 1) / max_page_sharing);

	/* Set 0 with KSM stopped: nothing merged yet. */
	assert_int_equal(write_setting("run", "0"), 0);
	memset(&series, 0, sizeof(series));
	open_series(&series);
	first = take_set(&series);
	assert_int_equal(first->ksm_potential, potential);
	assert_int_equal(first->ksm_saved, 0);
	assert_int_equal(first->ksm_remaining, potential);
	assert_int_equal(series.rows[0].duplicate_frames, CONTENTS * (PAGES_PER_CONTENT - 1));

	assert_int_equal(write_setting("sleep_millisecs", "10"), 0);
	assert_int_equal(write_setting("pages_to_scan", "1000"), 0);
	assert_int_equal(write_setting("run", "1"), 0);
	do {
		nanosleep(&pause, NULL);
		last = take_set(&series);
		assert_int_equal(last->ksm_potential, potential);
		assert_int_equal(last->ksm_saved + last->ksm_remaining, potential);
		assert_true(last->ksm_saved >= series.totals[series.count - 2].ksm_saved);
	} while (last->ksm_remaining && series.count < MAX_SETS);
	if (last->ksm_remaining)
		fail_msg("KSM left %lu pages unmerged after %zu sets",
			 (unsigned long)last->ksm_remaining, series.count);

	/* One more set: the sysfs counters at its start include every merge. */
	take_set(&series);
	assert_int_equal(series.rows[series.count - 1].ksm.pages_shared, CONTENTS);
	assert_int_equal(series.rows[series.count - 1].ksm.pages_sharing, potential);
	assert_int_equal(series.rows[series.count - 1].duplicate_frames, 0);
	assert_int_equal(series.totals[series.count - 1].ksm_frames, CONTENTS);
	print_message("# KSM merged %lu pages within %zu sets\n", (unsigned long)potential,
		      series.count);
	close_series(&series);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ksm_lag_until_converged, setup_ksm, teardown_ksm),
	};

	atexit(restore_settings);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
