// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * freeze.c - stop the targets of a scan and always let them run again
 *
 * The cgroup v2 freezer is used when the targets are all the processes
 * of one cgroup (and its children) and the scanner is outside it: it stops
 * every thread and cannot be undone by a stray SIGCONT.  Otherwise each
 * target gets SIGSTOP and the scan waits until /proc/PID/stat shows it
 * stopped.  A target that was already stopped is left as it was found.
 *
 * What was stopped is kept in static storage that mp_freeze_resume_all()
 * reads without locks or allocation, so that a signal handler can resume
 * the targets.  One freeze can be active at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source/procfs.h"

#define FREEZE_TIMEOUT_MS 10000

struct mp_freeze {
	pid_t *stopped;			/* pids that got SIGSTOP from us */
	size_t stopped_count;
	int cgroup_fd;			/* cgroup.freeze we wrote "1" to, or -1 */
};

/* Read by mp_freeze_resume_all(), possibly in a signal handler. */
static pid_t *volatile active_pids;
static volatile sig_atomic_t active_count;
static volatile sig_atomic_t active_cgroup_fd = -1;
static volatile sig_atomic_t active;

void mp_freeze_resume_all(void)
{
	int fd = active_cgroup_fd;
	pid_t *pids = active_pids;
	sig_atomic_t count = active_count;

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (fd >= 0)
		(void)!write(fd, "0", 1);
	for (sig_atomic_t i = 0; pids && i < count; i++)
		kill(pids[i], SIGCONT);
}

static void warn(void (*fn)(void *, const char *), void *ctx, const char *format, ...)
	MP_PRINTF(3, 4);

static void warn(void (*fn)(void *, const char *), void *ctx, const char *format, ...)
{
	char message[512];
	va_list args;

	if (!fn)
		return;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	fn(ctx, message);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- SIGSTOP */

static bool is_stopped_state(char state)
{
	return state == 'T' || state == 't';
}

/* Wait until pid is stopped or gone; false on timeout. */
static bool wait_stopped(const char *sysroot, pid_t pid)
{
	for (long waited = 0; waited < FREEZE_TIMEOUT_MS; waited++) {
		struct mp_proc_stat stat;

		if (mp_proc_read_stat(sysroot, pid, &stat) < 0)
			return true;
		if (is_stopped_state(stat.state) || stat.state == 'Z' || stat.state == 'X')
			return true;
		sleep_ms(1);
	}
	return false;
}

static void stop_each(struct mp_freeze *freeze, const pid_t *pids, size_t count,
		     const char *sysroot, void (*warn_fn)(void *, const char *), void *warn_ctx)
{
	active_pids = freeze->stopped;
	for (size_t i = 0; i < count; i++) {
		struct mp_proc_stat stat;

		if (mp_proc_read_stat(sysroot, pids[i], &stat) < 0 || is_stopped_state(stat.state))
			continue;
		/* Published before the signal, so that a handler resumes it. */
		freeze->stopped[freeze->stopped_count++] = pids[i];
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		active_count = (sig_atomic_t)freeze->stopped_count;
		if (kill(pids[i], SIGSTOP) < 0) {
			active_count = (sig_atomic_t)--freeze->stopped_count;
			continue;
		}
	}
	for (size_t i = 0; i < freeze->stopped_count; i++)
		if (!wait_stopped(sysroot, freeze->stopped[i]))
			warn(warn_fn, warn_ctx, "pid %d did not stop within %d s: scanning it running",
			     (int)freeze->stopped[i], FREEZE_TIMEOUT_MS / 1000);
}

/* ------------------------------------------------------------- cgroup v2 */

/* The cgroup v2 path of pid ("0::/path" in /proc/PID/cgroup) into path. */
static int read_cgroup(const char *sysroot, const char *pid, char *path, size_t size)
{
	char file[4096], text[4096];
	const char *line;
	size_t n;

	if (mp_sysroot_path(file, sizeof(file), sysroot, "/proc/%s/cgroup", pid) < 0 ||
	    mp_read_small_file(file, text, sizeof(text)) < 0)
		return -ENOENT;
	line = strncmp(text, "0::", 3) == 0 ? text : strstr(text, "\n0::");
	if (!line)
		return -ENOENT;
	line += line[0] == '\n' ? 4 : 3;
	n = strcspn(line, "\n");
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(path, line, n);
	path[n] = '\0';
	return 0;
}

static bool contains_pid(const pid_t *pids, size_t count, pid_t pid)
{
	for (size_t i = 0; i < count; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Whether every process of dir and its children is one of pids. */
static bool only_targets(const char *dir, const pid_t *pids, size_t count, int depth)
{
	char path[4096];
	struct dirent *d;
	bool only = true;
	FILE *procs;
	DIR *sub;
	int pid;

	if (depth > 64 || snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return false;
	procs = fopen(path, "re");
	if (!procs)
		return false;
	while (only && fscanf(procs, "%d", &pid) == 1)
		only = contains_pid(pids, count, pid);
	fclose(procs);

	sub = opendir(dir);
	if (!sub)
		return false;
	while (only && (d = readdir(sub))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			only = false;
		else
			only = only_targets(path, pids, count, depth + 1);
	}
	closedir(sub);
	return only;
}

static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Find the one cgroup that holds exactly the targets, and not us; dir gets its directory. */
static bool choose_cgroup(const pid_t *pids, size_t count, const char *sysroot,
			  char *dir, size_t size)
{
	char first[2048], other[2048], mount[2048], pid[24];

	for (size_t i = 0; i < count; i++) {
		snprintf(pid, sizeof(pid), "%d", (int)pids[i]);
		if (read_cgroup(sysroot, pid, i ? other : first, sizeof(first)) < 0)
			return false;
		if (i && strcmp(first, other) != 0)
			return false;
	}
	if (count == 0 || strcmp(first, "/") == 0)
		return false;
	if (read_cgroup(sysroot, "self", other, sizeof(other)) < 0 || is_under(other, first))
		return false;

	mp_cgroup2_mount(sysroot, mount, sizeof(mount));
	if (mp_sysroot_path(dir, size, sysroot, "%s%s", mount, first) < 0)
		return false;
	return only_targets(dir, pids, count, 0);
}

static bool cgroup_frozen(const char *dir)
{
	char path[4096], text[1024];

	if (snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= (int)sizeof(path) ||
	    mp_read_small_file(path, text, sizeof(text)) < 0)
		return false;
	return strstr(text, "frozen 1") != NULL;
}

/* Freeze the cgroup at dir; false (and nothing left frozen) when that fails. */
static bool freeze_cgroup(struct mp_freeze *freeze, const char *dir)
{
	char path[4096];
	int fd;

	if (cgroup_frozen(dir))
		return false;	/* frozen by someone else: not ours to thaw */
	if (snprintf(path, sizeof(path), "%s/cgroup.freeze", dir) >= (int)sizeof(path))
		return false;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	active_cgroup_fd = fd;
	if (write(fd, "1", 1) != 1) {
		active_cgroup_fd = -1;
		close(fd);
		return false;
	}
	freeze->cgroup_fd = fd;
	for (long waited = 0; waited < FREEZE_TIMEOUT_MS; waited++) {
		if (cgroup_frozen(dir))
			return true;
		sleep_ms(1);
	}
	(void)!write(fd, "0", 1);
	active_cgroup_fd = -1;
	freeze->cgroup_fd = -1;
	close(fd);
	return false;
}

/* ------------------------------------------------------------------- API */

int mp_freeze_start(struct mp_freeze **freezep, const pid_t *pids, size_t count,
		    const char *sysroot, void (*warn_fn)(void *, const char *), void *warn_ctx,
		    struct mp_error *error)
{
	struct mp_freeze *freeze;
	char dir[4096];

	*freezep = NULL;
	if (__atomic_exchange_n(&active, 1, __ATOMIC_SEQ_CST))
		return mp_fail(error, -EBUSY, "cannot freeze targets: another freeze is active");
	freeze = calloc(1, sizeof(*freeze));
	if (freeze)
		freeze->stopped = calloc(count ? count : 1, sizeof(*freeze->stopped));
	if (!freeze || !freeze->stopped) {
		free(freeze);
		active = 0;
		return mp_fail(error, -ENOMEM, "cannot freeze targets: out of memory");
	}
	freeze->cgroup_fd = -1;

	if (choose_cgroup(pids, count, sysroot, dir, sizeof(dir)) && freeze_cgroup(freeze, dir)) {
		*freezep = freeze;
		return 0;
	}
	stop_each(freeze, pids, count, sysroot, warn_fn, warn_ctx);
	*freezep = freeze;
	return 0;
}

void mp_freeze_end(struct mp_freeze *freeze)
{
	if (!freeze)
		return;
	mp_freeze_resume_all();
	active_count = 0;
	active_pids = NULL;
	active_cgroup_fd = -1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (freeze->cgroup_fd >= 0)
		close(freeze->cgroup_fd);
	free(freeze->stopped);
	free(freeze);
	active = 0;
}
