// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_procfs_events.c - the procfs backend when targets change under it:
 * exit, exec and munmap mid-scan, hidden PFNs for an unprivileged scanner,
 * and --freeze, which must resume its targets on success and on SIGTERM
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "test_procfs_common.h"
#include "source/procfs.h"

#define REGION_SIZE (64u << 20)

/* Act on the first target once the sink has seen its first pages. */
struct mid_scan {
	struct target *target;
	char command;			/* 0: SIGKILL and reap instead */
	bool done;
};

static void act_mid_scan(struct collector *c, const struct mp_page *pages, size_t count)
{
	struct mid_scan *m = c->arg;

	(void)count;
	if (m->done || pages[0].task != 0 || pages[0].index < m->target->region / MP_PAGE_SIZE)
		return;
	m->done = true;
	if (m->command) {
		target_command(m->target, m->command);
		return;
	}
	kill(m->target->pid, SIGKILL);
	waitpid(m->target->pid, NULL, 0);
}

/* Scan two targets, changing the first mid-scan; the second must be whole. */
static struct collector *scan_with_event(char command, struct target t[2], int *rc)
{
	struct mid_scan m = { .target = &t[0], .command = command };
	struct collector *c;
	pid_t pids[2];

	assert_true(target_start(&t[0], FILL_PATTERN, REGION_SIZE));
	assert_true(target_start(&t[1], FILL_PATTERN, REGION_SIZE / 16));
	/* Sorted, as the resolver hands them over; the first scanned is t[0]. */
	pids[0] = t[0].pid;
	pids[1] = t[1].pid;
	c = scan_into(pids, 2, false, false, act_mid_scan, &m, rc);
	assert_true(m.done);
	assert_int_equal(c->end_count, 2);
	assert_int_equal(c->ends[1].status, MP_TASK_COMPLETE);
	assert_int_equal(count_in(c, 1, t[1].region, REGION_SIZE / 16, 0),
			 REGION_SIZE / 16 / MP_PAGE_SIZE);
	return c;
}

static void test_exit_during_scan(void **state)
{
	struct collector *c;
	struct target t[2];
	int rc;

	(void)state;
	mp_test_require_root();
	c = scan_with_event(0, t, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(c->ends[0].status, MP_TASK_EXITED);
	assert_true(count_in(c, 0, t[0].region, REGION_SIZE, 0) < REGION_SIZE / MP_PAGE_SIZE);
	assert_true(c->set_end.flags & MP_SET_END_PARTIAL);
	assert_true(c->warning_count >= 1);
	assert_non_null(strstr(c->warnings[c->warning_count - 1], "exited during the scan"));
	collector_free(c);
	t[0].pid = 0;
	target_stop(&t[1]);
}

static void test_exec_during_scan(void **state)
{
	struct collector *c;
	struct target t[2];
	int rc;

	(void)state;
	mp_test_require_root();
	c = scan_with_event('e', t, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(c->ends[0].status, MP_TASK_EXECED);
	assert_true(count_in(c, 0, t[0].region, REGION_SIZE, 0) < REGION_SIZE / MP_PAGE_SIZE);
	assert_true(c->set_end.flags & MP_SET_END_PARTIAL);
	assert_non_null(strstr(c->warnings[c->warning_count - 1], "executed a new program"));
	collector_free(c);
	target_stop(&t[0]);
	target_stop(&t[1]);
}

static void test_unmap_during_scan(void **state)
{
	struct collector *c;
	struct target t[2];
	size_t recorded;
	int rc;

	(void)state;
	mp_test_require_root();
	c = scan_with_event('u', t, &rc);
	assert_int_equal(rc, 0);
	/* The task is complete: what is gone is no longer its memory. */
	assert_int_equal(c->ends[0].status, MP_TASK_COMPLETE);
	recorded = count_in(c, 0, t[0].region, REGION_SIZE, 0);
	assert_true(recorded > 0);
	assert_true(recorded < REGION_SIZE / MP_PAGE_SIZE);
	collector_free(c);
	target_stop(&t[0]);
	target_stop(&t[1]);
}

/* ------------------------------------------------------- unprivileged */

/* Exit status of the unprivileged scanner: 0, or the number of the failed check. */
static int scan_unprivileged(void)
{
	struct target t;
	struct collector *c;
	size_t pages = REGION_SIZE / 16 / MP_PAGE_SIZE;
	int rc, failed = 0;

	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 1;
	/* A set-id change clears dumpable, which would hide our children's /proc files. */
	prctl(PR_SET_DUMPABLE, 1);
	if (!target_start(&t, FILL_PATTERN, REGION_SIZE / 16))
		return 2;
	c = scan_into(&t.pid, 1, false, false, NULL, NULL, &rc);
	if (rc != 0)
		failed = 3;
	else if (c->info.flags & MP_SET_PFN_VALID)
		failed = 4;
	else if (count_in(c, 0, t.region, REGION_SIZE / 16, 0) != pages)
		failed = 5;
	else if (count_in(c, 0, t.region, REGION_SIZE / 16, MP_PAGE_PFN_VALID) != 0)
		failed = 6;
	else if (c->warning_count != 1 ||
		 strcmp(c->warnings[0],
			"PFNs are hidden without CAP_SYS_ADMIN: shared-frame numbers are off"))
		failed = 7;
	else if (count_in(c, 0, t.region, REGION_SIZE / 16, MP_PAGE_ZERO_FILLED) != pages / 4)
		failed = 8;
	target_stop(&t);
	collector_free(c);
	return failed;
}

static void test_hidden_pfns(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	mp_test_require_root();
	pid = fork();
	if (pid == 0)
		_exit(scan_unprivileged());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------- freeze */

struct freeze_watch {
	pid_t pid;
	char state_seen;
	const char *events;		/* cgroup.events to read, or NULL */
	bool frozen_seen;
};

static void watch_state(struct collector *c, const struct mp_page *pages, size_t count)
{
	struct freeze_watch *w = c->arg;
	char text[512] = "";
	FILE *f;

	(void)pages;
	(void)count;
	if (w->state_seen)
		return;
	w->state_seen = process_state(w->pid);
	if (w->events && (f = fopen(w->events, "r"))) {
		w->frozen_seen = fread(text, 1, sizeof(text) - 1, f) > 0 &&
				 strstr(text, "frozen 1") != NULL;
		fclose(f);
	}
}

/* Poll for up to a second: SIGCONT takes effect when the target is next scheduled. */
static char settled_state(pid_t pid)
{
	char state = 0;

	for (int i = 0; i < 1000; i++) {
		state = process_state(pid);
		if (state != 'T' && state != 't')
			break;
		usleep(1000);
	}
	return state;
}

static void test_freeze_sigstop(void **state)
{
	struct freeze_watch w = { 0 };
	struct collector *c;
	struct target t;
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE / 16));
	w.pid = t.pid;
	c = scan_into(&t.pid, 1, false, true, watch_state, &w, &rc);
	assert_int_equal(rc, 0);
	assert_true(c->info.flags & MP_SET_FROZEN);
	/* The target shares our cgroup, so the freezer cannot be used: SIGSTOP. */
	assert_int_equal(w.state_seen, 'T');
	assert_int_not_equal(settled_state(t.pid), 'T');
	/* Still obeys commands: it runs. */
	target_command(&t, 'q');
	assert_int_equal(waitpid(t.pid, NULL, 0), t.pid);
	t.pid = 0;
	collector_free(c);
}

/* A target that was stopped before the scan is left stopped: its stop is not ours. */
static void test_freeze_keeps_stopped(void **state)
{
	struct collector *c;
	struct target t;
	char before;
	int rc;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE / 16));
	kill(t.pid, SIGSTOP);
	for (int i = 0; i < 1000 && (before = process_state(t.pid)) != 'T'; i++)
		usleep(1000);
	assert_int_equal(before, 'T');
	c = scan_into(&t.pid, 1, false, true, NULL, NULL, &rc);
	assert_int_equal(rc, 0);
	usleep(20000);
	assert_int_equal(process_state(t.pid), 'T');
	kill(t.pid, SIGCONT);
	assert_int_not_equal(settled_state(t.pid), 'T');
	collector_free(c);
	target_stop(&t);
}

static bool make_cgroup(char *dir, size_t size)
{
	char mount[2048];

	mp_cgroup2_mount(NULL, mount, sizeof(mount));
	snprintf(dir, size, "%s/memprint-test-%d", mount, (int)getpid());
	return mkdir(dir, 0755) == 0;
}

static bool move_to_cgroup(const char *dir, pid_t pid)
{
	char path[4200];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f)
		return false;
	ok = fprintf(f, "%d\n", (int)pid) > 0;
	return fclose(f) == 0 && ok;
}

static void test_freeze_cgroup(void **state)
{
	struct freeze_watch w = { 0 };
	char dir[4096], events[4200];
	struct collector *c;
	struct target t;
	int rc;

	(void)state;
	mp_test_require_root();
	if (!make_cgroup(dir, sizeof(dir)))
		mp_test_skip("cannot create a cgroup v2 group: %s", strerror(errno));
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE / 16));
	if (!move_to_cgroup(dir, t.pid)) {
		target_stop(&t);
		rmdir(dir);
		mp_test_skip("cannot move a process into a cgroup v2 group: %s", strerror(errno));
	}
	snprintf(events, sizeof(events), "%s/cgroup.events", dir);
	w.pid = t.pid;
	w.events = events;
	c = scan_into(&t.pid, 1, false, true, watch_state, &w, &rc);
	assert_int_equal(rc, 0);
	assert_true(w.frozen_seen);
	assert_int_not_equal(w.state_seen, 'T');
	assert_true(c->info.flags & MP_SET_FROZEN);
	/* Thawed: it replies to a command. */
	target_command(&t, 'q');
	assert_int_equal(waitpid(t.pid, NULL, 0), t.pid);
	t.pid = 0;
	collector_free(c);
	assert_int_equal(rmdir(dir), 0);
}

/* The scanner of the SIGTERM test: it reports its first pages, then waits to be killed. */
static int report_fd = -1;

static void report_and_wait(struct collector *c, const struct mp_page *pages, size_t count)
{
	(void)c;
	(void)pages;
	(void)count;
	if (report_fd < 0)
		return;
	(void)!write(report_fd, "p", 1);
	report_fd = -1;
	for (;;)
		pause();
}

static void on_sigterm(int signo)
{
	(void)signo;
	mp_freeze_resume_all();
	_exit(3);
}

static void test_freeze_resumed_on_sigterm(void **state)
{
	struct sigaction action = { .sa_handler = on_sigterm };
	struct target t;
	pid_t scanner;
	int report[2], status, rc;
	char c;

	(void)state;
	mp_test_require_root();
	assert_true(target_start(&t, FILL_PATTERN, REGION_SIZE / 16));
	assert_int_equal(pipe(report), 0);
	scanner = fork();
	if (scanner == 0) {
		sigaction(SIGTERM, &action, NULL);
		report_fd = report[1];
		scan_into(&t.pid, 1, false, true, report_and_wait, NULL, &rc);
		_exit(4);
	}
	close(report[1]);
	assert_int_equal(read(report[0], &c, 1), 1);
	assert_int_equal(process_state(t.pid), 'T');
	kill(scanner, SIGTERM);
	assert_int_equal(waitpid(scanner, &status, 0), scanner);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_not_equal(settled_state(t.pid), 'T');
	close(report[0]);
	target_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_during_scan),
		cmocka_unit_test(test_exec_during_scan),
		cmocka_unit_test(test_unmap_during_scan),
		cmocka_unit_test(test_hidden_pfns),
		cmocka_unit_test(test_freeze_sigstop),
		cmocka_unit_test(test_freeze_keeps_stopped),
		cmocka_unit_test(test_freeze_cgroup),
		cmocka_unit_test(test_freeze_resumed_on_sigterm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
