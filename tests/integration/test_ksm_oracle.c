// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_ksm_oracle.c - KSM itself as the oracle of memprint's KSM numbers
 *
 * A process has a MADV_MERGEABLE region of known duplicates.  memprint
 * scans it while KSM is stopped and predicts what KSM will save (KSM
 * potential); then KSM runs until it has converged, and its pages_sharing
 * must equal the prediction.  A scan after the merge must find KSM saved
 * equal to pages_sharing and nothing remaining.  A second run with
 * use_zero_pages set checks the zero-filled pages against ksm_zero_pages.
 *
 * KSM settings are machine-wide.  The test takes an exclusive flock on
 * /run/lock/memprint-ksm.lock, skips when another process has mergeable
 * memory or merged pages, saves every setting it changes and restores them
 * in the teardown, which runs also after a failure.  KSM counters left by
 * processes that exited while KSM was stopped are cleared first (run=2).  A
 * forked guard holds the lock too and restores the settings if the test
 * process dies first.  Every test needs root.
 */
#include <ctype.h>
#include <dirent.h>
#include <sys/file.h>
#include <time.h>

#include "layouts.h"

#define KSM_DIR "/sys/kernel/mm/ksm/"
#define LOCK_PATH "/run/lock/memprint-ksm.lock"
#define LOCK_WAIT_SECONDS 300
#define CONVERGE_TIMEOUT_SECONDS 120

/*
 * The mergeable region: 512 pages of content A, 8 pairs of contents B1..B8,
 * 16 unique pages and 32 zero-filled pages, 576 pages in all.
 */
#define A_PAGES 512
#define PAIRS 8
#define UNIQUE_PAGES 16
#define ZERO_PAGES 32
#define REGION_PAGES (A_PAGES + 2 * PAIRS + UNIQUE_PAGES + ZERO_PAGES)

enum { CONTENT_A = 7001, CONTENT_B = 7101, CONTENT_UNIQUE = 7201 };

/*
 * What KSM saves (pages_sharing) once converged, with max_page_sharing 256,
 * which caps the mappings of one KSM page: content A needs
 * ceil(512 / 256) = 2 KSM pages and saves 512 - 2 = 510; each pair saves 1;
 * unique pages save nothing; the 32 zero-filled pages save 32 - 1 = 31,
 * unless use_zero_pages maps each of them to the kernel zero page, which
 * KSM counts in ksm_zero_pages instead.
 */
#define SAVED_A (A_PAGES - 2)
#define SAVED_ZERO (ZERO_PAGES - 1)
#define EXPECTED_SHARING (SAVED_A + PAIRS + SAVED_ZERO)		/* 549 */
#define EXPECTED_SHARING_ZERO_PAGES (SAVED_A + PAIRS)		/* 518 */
/* KSM pages: 2 of A, one per pair, one of zero bytes unless use_zero_pages. */
#define EXPECTED_SHARED (2 + PAIRS + 1)
#define EXPECTED_SHARED_ZERO_PAGES (2 + PAIRS)

/* ------------------------------------------------------------ settings */

struct setting {
	const char *name;
	bool saved;
	char original[64];
};

/* Every setting the test changes; run first, restored last. */
static struct setting settings[] = {
	{ .name = "run" }, { .name = "pages_to_scan" }, { .name = "sleep_millisecs" },
	{ .name = "use_zero_pages" }, { .name = "max_page_sharing" }, { .name = "smart_scan" },
	{ .name = "advisor_mode" },
};

#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

static int read_setting(const char *name, char *value, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(value, (int)size, f))
		value[0] = '\0';
	fclose(f);
	value[strcspn(value, "\n")] = '\0';
	return 0;
}

static int write_setting(const char *name, const char *value)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), KSM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static uint64_t read_counter(const char *name)
{
	char value[64];

	if (read_setting(name, value, sizeof(value)) < 0)
		fail_msg("cannot read " KSM_DIR "%s", name);
	return strtoull(value, NULL, 10);
}

/* advisor_mode reads "[none] scan-time": the selected word is in brackets. */
static void unbracket(char *value)
{
	char *open_bracket = strchr(value, '['), *close_bracket;

	if (!open_bracket || !(close_bracket = strchr(open_bracket, ']')))
		return;
	*close_bracket = '\0';
	memmove(value, open_bracket + 1, strlen(open_bracket + 1) + 1);
}

/* Save the settings this kernel has; a missing one (older kernels) is left alone. */
static void save_settings(void)
{
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		struct setting *s = &settings[i];

		if (read_setting(s->name, s->original, sizeof(s->original)) < 0)
			continue;
		unbracket(s->original);
		s->saved = true;
	}
}

/* Change a saved setting; fails the test if the kernel rejects the value. */
static void change_setting(const char *name, const char *value)
{
	int rc = write_setting(name, value);

	if (rc < 0)
		fail_msg("cannot write %s to " KSM_DIR "%s: %s", value, name, strerror(-rc));
}

static void change_optional_setting(const char *name, const char *value)
{
	for (size_t i = 0; i < SETTING_COUNT; i++)
		if (!strcmp(settings[i].name, name) && settings[i].saved)
			change_setting(name, value);
}

/*
 * Put every saved setting back.  run=2 first unmerges every KSM page and
 * drops the state of processes that exited, so that pages_sharing does not
 * keep stale values and max_page_sharing can be written (the kernel
 * rejects it while KSM pages exist); then the other settings, then run.
 * Safe to call again: it does nothing once restored.
 */
static void restore_settings(void)
{
	if (!settings[0].saved)
		return;
	write_setting("run", "2");
	for (size_t i = SETTING_COUNT - 1; i > 0; i--)
		if (settings[i].saved)
			write_setting(settings[i].name, settings[i].original);
	write_setting("run", settings[0].original);
	for (size_t i = 0; i < SETTING_COUNT; i++)
		settings[i].saved = false;
}

/* ------------------------------------------------------ lock and guard */

struct ksm_test {
	int lock_fd;
	pid_t guard;
	int guard_fd;			/* write end: 'x' ends the guard without a restore */
	struct actor target;
};

static struct ksm_test ksm = { .lock_fd = -1, .guard_fd = -1 };

/* Wait up to LOCK_WAIT_SECONDS for another KSM test to release the lock. */
static bool take_lock(void)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	ksm.lock_fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ksm.lock_fd < 0)
		return false;
	for (int tries = 0; tries < LOCK_WAIT_SECONDS * 10; tries++) {
		if (flock(ksm.lock_fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/*
 * Fork the guard: it shares the lock (flock belongs to the open file,
 * which the guard inherits) and waits on a pipe.  'x' means the test has
 * restored the settings.  The end of file without it means that the test
 * process died, so the guard restores them before it lets the lock go.
 */
static void start_guard(void)
{
	int pipe_fds[2];
	char c;

	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	ksm.guard = fork();
	assert_true(ksm.guard >= 0);
	if (ksm.guard == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(pipe_fds[1]);
		if (read(pipe_fds[0], &c, 1) == 1 && c == 'x')
			_exit(0);
		restore_settings();
		_exit(0);
	}
	close(pipe_fds[0]);
	ksm.guard_fd = pipe_fds[1];
}

static void stop_guard(void)
{
	if (ksm.guard <= 0)
		return;
	(void)!write(ksm.guard_fd, "x", 1);
	close(ksm.guard_fd);
	waitpid(ksm.guard, NULL, 0);
	ksm.guard = 0;
	ksm.guard_fd = -1;
}

static int teardown_ksm(void **state)
{
	(void)state;
	/* The target first: its merged pages are freed, then run=2 clears KSM's state. */
	actor_stop(&ksm.target);
	restore_settings();
	stop_guard();
	if (ksm.lock_fd >= 0) {
		flock(ksm.lock_fd, LOCK_UN);
		close(ksm.lock_fd);
		ksm.lock_fd = -1;
	}
	return 0;
}

/* ------------------------------------------------- mergeable memory */

/* Whether the VmFlags line of smaps has the "mg" flag (MADV_MERGEABLE or merge-any). */
static bool has_mg_flag(const char *line)
{
	for (const char *p = line; (p = strstr(p, " mg")); p += 3) {
		if (p[3] == ' ' || p[3] == '\n' || p[3] == '\0')
			return true;
	}
	return false;
}

/* A field "name N" of /proc/PID/ksm_stat, 0 when absent. */
static uint64_t ksm_stat_field(pid_t pid, const char *name)
{
	char path[64], line[128];
	unsigned long long value = 0;
	size_t length = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ksm_stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, length) && line[length] == ' ')
			value = strtoull(line + length + 1, NULL, 10);
	fclose(f);
	return value;
}

static bool has_mergeable_area(pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "VmFlags:", 8) && has_mg_flag(line);
	fclose(f);
	return found;
}

/* A process other than ours with mergeable memory or merged pages, or 0. */
static pid_t other_mergeable_process(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	pid_t found = 0;

	assert_non_null(proc);
	while (!found && (entry = readdir(proc))) {
		pid_t pid;

		if (!isdigit((unsigned char)entry->d_name[0]))
			continue;
		pid = (pid_t)atoi(entry->d_name);
		if (pid == getpid() || pid == ksm.guard)
			continue;
		if (has_mergeable_area(pid) || ksm_stat_field(pid, "ksm_merging_pages") > 0)
			found = pid;
	}
	closedir(proc);
	return found;
}

/* ------------------------------------------------------------- target */

static void fill_mergeable_region(uint8_t *p)
{
	size_t page = 0;

	for (size_t i = 0; i < A_PAGES; i++)
		fill_content(p + page++ * PAGE, CONTENT_A);
	for (size_t i = 0; i < 2 * PAIRS; i++)
		fill_content(p + page++ * PAGE, CONTENT_B + i / 2);
	for (size_t i = 0; i < UNIQUE_PAGES; i++)
		fill_content(p + page++ * PAGE, CONTENT_UNIQUE + i);
	for (size_t i = 0; i < ZERO_PAGES; i++)
		fill_content(p + page++ * PAGE, 0);
}

static void target_actor(int command_fd, int reply_fd, void *arg)
{
	uint8_t *p = map_anonymous(REGION_PAGES, MAP_PRIVATE);

	(void)arg;
	/* Only the test process may keep the guard waiting. */
	close(ksm.guard_fd);
	if (p == MAP_FAILED)
		_exit(2);
	fill_mergeable_region(p);
	if (madvise(p, REGION_PAGES * PAGE, MADV_MERGEABLE) < 0)
		_exit(2);
	actor_reply(reply_fd, (uintptr_t)p);
	actor_wait_quit(command_fd);
}

/* ---------------------------------------------------------- KSM runs */

static void print_ksm_state(const char *what)
{
	print_message("# %s: run %llu full_scans %llu pages_shared %llu pages_sharing %llu "
		      "pages_unshared %llu pages_volatile %llu ksm_zero_pages %llu\n", what,
		      (unsigned long long)read_counter("run"),
		      (unsigned long long)read_counter("full_scans"),
		      (unsigned long long)read_counter("pages_shared"),
		      (unsigned long long)read_counter("pages_sharing"),
		      (unsigned long long)read_counter("pages_unshared"),
		      (unsigned long long)read_counter("pages_volatile"),
		      (unsigned long long)read_counter("ksm_zero_pages"));
}

/*
 * Run KSM until pages_sharing has merged something and then stayed the same
 * for 3 full scans, and stop it; fails after CONVERGE_TIMEOUT_SECONDS.
 * run=0 leaves merged pages merged.
 */
static void run_ksm_until_converged(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 }, start, now;
	uint64_t sharing, last_sharing = 0, stable_since;

	change_setting("pages_to_scan", "10000");
	change_setting("sleep_millisecs", "10");
	change_setting("run", "1");
	clock_gettime(CLOCK_MONOTONIC, &start);
	stable_since = read_counter("full_scans");
	for (;;) {
		nanosleep(&pause, NULL);
		sharing = read_counter("pages_sharing");
		if (sharing != last_sharing) {
			last_sharing = sharing;
			stable_since = read_counter("full_scans");
		} else if (sharing > 0 && read_counter("full_scans") >= stable_since + 3) {
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > CONVERGE_TIMEOUT_SECONDS) {
			print_ksm_state("KSM state");
			fail_msg("KSM did not converge within %d s", CONVERGE_TIMEOUT_SECONDS);
		}
	}
	change_setting("run", "0");
	print_ksm_state("converged");
}

/*
 * Take the lock, check that KSM is ours alone, save the settings, start the
 * guard, stop KSM and set max_page_sharing and use_zero_pages.
 */
static void prepare_ksm(const char *use_zero_pages)
{
	uint64_t shared, sharing;
	pid_t other;

	if (geteuid() != 0)
		mp_test_skip("needs root to change KSM settings and read PFNs");
	if (access(KSM_DIR "run", W_OK) != 0)
		mp_test_skip("KSM is not in this kernel (no " KSM_DIR "run)");
	if (!take_lock())
		mp_test_skip("another test held " LOCK_PATH " for %d s", LOCK_WAIT_SECONDS);
	other = other_mergeable_process();
	if (other)
		mp_test_skip("process %d has mergeable memory: KSM counters would mix", (int)other);

	save_settings();
	start_guard();
	/*
	 * With no mergeable memory anywhere, merged pages counted now belong
	 * to processes that exited while KSM was stopped: run=2 drops them.
	 */
	if (read_counter("pages_shared") || read_counter("pages_sharing"))
		change_setting("run", "2");
	change_setting("run", "0");
	shared = read_counter("pages_shared");
	sharing = read_counter("pages_sharing");
	if (shared || sharing)
		mp_test_skip("KSM has merged pages already (pages_shared %llu, pages_sharing "
			     "%llu): its counters would mix with ours",
			     (unsigned long long)shared, (unsigned long long)sharing);
	change_setting("max_page_sharing", "256");
	change_setting("use_zero_pages", use_zero_pages);
	/* Smart scan skips pages that did not merge for a while: it would slow convergence. */
	change_optional_setting("smart_scan", "0");
	change_optional_setting("advisor_mode", "none");
}

/* Scan the target, keeping only the records of its region when region is not 0. */
static void scan_target(struct scan_result *s, uint64_t region)
{
	pid_t pid = ksm.target.pid;

	if (region)
		filter_add_range(&s->filter, pid, region, REGION_PAGES);
	scan_layout(s, &pid, 1);
}

/* ---------------------------------------------------------------- tests */

static void test_ksm_potential_oracle(void **state)
{
	struct scan_result before = { 0 }, whole = { 0 }, after = { 0 };
	const struct mp_totals *t;
	uint64_t region, sharing;

	(void)state;
	prepare_ksm("0");
	actor_start(&ksm.target, target_actor, NULL);
	region = actor_receive(&ksm.target);

	/*
	 * Before KSM runs: 576 anonymous frames; groups A{512} B1..B8{2}
	 * zero{32} and 16 unique: 511 + 8 + 31 duplicates, 519 without zero.
	 */
	scan_target(&before, region);
	t = &before.report->totals;
	assert_int_equal(t->mappings, REGION_PAGES);
	assert_int_equal(t->frames, REGION_PAGES);
	assert_int_equal(t->duplicate_frames, 511 + PAIRS + 31);
	assert_int_equal(t->duplicate_frames_nonzero, 511 + PAIRS);
	assert_int_equal(t->zero_filled_frames, ZERO_PAGES);
	assert_int_equal(before.report->max_page_sharing, 256);
	assert_false(before.report->use_zero_pages);
	assert_int_equal(t->ksm_potential, EXPECTED_SHARING);
	assert_int_equal(t->ksm_saved, 0);
	assert_int_equal(t->ksm_remaining, EXPECTED_SHARING);
	/* The whole process: the region is its only mergeable memory. */
	scan_target(&whole, 0);
	assert_int_equal(whole.report->totals.ksm_potential, EXPECTED_SHARING);

	run_ksm_until_converged();
	sharing = read_counter("pages_sharing");
	/* The oracle: what KSM reached is what memprint predicted. */
	assert_int_equal(sharing, t->ksm_potential);
	assert_int_equal(sharing, EXPECTED_SHARING);
	assert_int_equal(read_counter("pages_shared"), EXPECTED_SHARED);

	/*
	 * After the merge: 11 KSM frames (2 of A, 8 pairs, 1 of zero bytes) and
	 * 16 unique anonymous frames; KSM saved (256 - 1) * 2 + 8 + 31.
	 */
	scan_target(&after, region);
	t = &after.report->totals;
	assert_int_equal(t->mappings, REGION_PAGES);
	assert_int_equal(t->frames, EXPECTED_SHARED + UNIQUE_PAGES);
	assert_int_equal(t->ksm_frames, EXPECTED_SHARED);
	assert_int_equal(t->frames_by_kind[MP_KIND_KSM], EXPECTED_SHARED);
	assert_int_equal(t->ksm_saved, sharing);
	assert_int_equal(t->ksm_potential, EXPECTED_SHARING);
	assert_int_equal(t->ksm_remaining, 0);
	/* The two KSM pages of A hold one content: one duplicate frame. */
	assert_int_equal(t->duplicate_frames, 1);
	assert_int_equal(t->saved_by_sharing, EXPECTED_SHARING);
	assert_int_equal(after.report->tasks[0].ksm.ksm_merging_pages,
			 EXPECTED_SHARING + EXPECTED_SHARED);
	scan_result_free(&before);
	scan_result_free(&whole);
	scan_result_free(&after);
}

static void test_ksm_use_zero_pages_oracle(void **state)
{
	struct scan_result before = { 0 }, after = { 0 };
	uint64_t region, sharing, zero_pages_start;
	const struct mp_totals *t;

	(void)state;
	prepare_ksm("1");
	zero_pages_start = read_counter("ksm_zero_pages");
	actor_start(&ksm.target, target_actor, NULL);
	region = actor_receive(&ksm.target);

	/* The zero-filled content leaves the potential: 510 + 8. */
	scan_target(&before, region);
	t = &before.report->totals;
	assert_true(before.report->use_zero_pages);
	assert_int_equal(t->zero_filled_frames, ZERO_PAGES);
	assert_int_equal(t->ksm_potential, EXPECTED_SHARING_ZERO_PAGES);
	assert_int_equal(t->ksm_remaining, EXPECTED_SHARING_ZERO_PAGES);

	run_ksm_until_converged();
	sharing = read_counter("pages_sharing");
	assert_int_equal(sharing, t->ksm_potential);
	assert_int_equal(sharing, EXPECTED_SHARING_ZERO_PAGES);
	assert_int_equal(read_counter("pages_shared"), EXPECTED_SHARED_ZERO_PAGES);
	/* Each zero-filled page now maps the kernel zero page, machine-wide and for the process. */
	assert_int_equal(read_counter("ksm_zero_pages") - zero_pages_start, ZERO_PAGES);
	assert_int_equal(ksm_stat_field(ksm.target.pid, "ksm_zero_pages"), ZERO_PAGES);

	/*
	 * After the merge: the 32 zero-filled pages are zero-page mappings, not
	 * mappings; 10 KSM frames and 16 unique ones remain.
	 */
	scan_target(&after, region);
	t = &after.report->totals;
	assert_int_equal(t->zero_page_mappings, ZERO_PAGES);
	assert_int_equal(t->mappings, REGION_PAGES - ZERO_PAGES);
	assert_int_equal(t->zero_filled_frames, 0);
	assert_int_equal(t->frames, EXPECTED_SHARED_ZERO_PAGES + UNIQUE_PAGES);
	assert_int_equal(t->ksm_frames, EXPECTED_SHARED_ZERO_PAGES);
	assert_int_equal(t->ksm_saved, sharing);
	assert_int_equal(t->ksm_potential, EXPECTED_SHARING_ZERO_PAGES);
	assert_int_equal(t->ksm_remaining, 0);
	/* The report shows the process's ksm_zero_pages beside KSM saved. */
	assert_int_equal(after.report->tasks[0].ksm.ksm_zero_pages, ZERO_PAGES);
	scan_result_free(&before);
	scan_result_free(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ksm_potential_oracle, teardown_ksm),
		cmocka_unit_test_teardown(test_ksm_use_zero_pages_oracle, teardown_ksm),
	};

	/* A failed assertion in a teardown or an exit between tests must not leave KSM changed. */
	atexit(restore_settings);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
