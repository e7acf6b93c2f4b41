// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * targets.c - turn --pid, --all, --comm and --cgroup into a list of pids
 *
 * The options add up: the result is the union, sorted and without
 * duplicates.  --all, --comm and --cgroup leave out kernel threads (they
 * have no mm to scan) and the calling process (its scan buffers would be
 * part of the snapshot); an explicit --pid is taken as given.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "source/procfs.h"

struct pid_list {
	pid_t *pids;
	size_t count, capacity;
};

static int add_pid(struct pid_list *list, pid_t pid)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? list->capacity * 2 : 64;
		pid_t *pids = realloc(list->pids, capacity * sizeof(*pids));

		if (!pids)
			return -ENOMEM;
		list->pids = pids;
		list->capacity = capacity;
	}
	list->pids[list->count++] = pid;
	return 0;
}

/* A process worth scanning: it exists, has an mm, and is not us. */
static bool is_user_process(const char *sysroot, pid_t pid)
{
	struct mp_proc_stat stat;

	if (pid == getpid())
		return false;
	if (mp_proc_read_stat(sysroot, pid, &stat) < 0)
		return false;
	return !(stat.flags & MP_PF_KTHREAD);
}

static bool comm_matches(const char *sysroot, pid_t pid, const char *comm)
{
	char path[4096], text[64];
	ssize_t n;

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/comm", (int)pid) < 0)
		return false;
	n = mp_read_small_file(path, text, sizeof(text));
	if (n <= 0)
		return false;
	if (text[n - 1] == '\n')
		text[n - 1] = '\0';
	return strcmp(text, comm) == 0;
}

/* Add every process of /proc that is a user process and, with comm, has that name. */
static int scan_proc(const struct mp_targets *targets, const char *sysroot,
		     struct pid_list *list, struct mp_error *error)
{
	char path[4096];
	struct dirent *d;
	DIR *dir;
	int rc = 0;

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc") < 0 || !(dir = opendir(path)))
		return mp_fail_errno(error, -errno, "cannot list processes: %s", path);
	while (rc == 0 && (d = readdir(dir))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (!isdigit((unsigned char)d->d_name[0]) || *end || pid <= 0)
			continue;
		if (!is_user_process(sysroot, (pid_t)pid))
			continue;
		if (targets->all || comm_matches(sysroot, (pid_t)pid, targets->comm))
			rc = add_pid(list, (pid_t)pid);
	}
	closedir(dir);
	return rc < 0 ? mp_fail(error, rc, "cannot list processes: out of memory") : 0;
}

/* ---------------------------------------------------------------- cgroups */

void mp_cgroup2_mount(const char *sysroot, char *mount, size_t size)
{
	char path[4096], line[4096], point[4096];
	FILE *f;

	snprintf(mount, size, "/sys/fs/cgroup");
	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/self/mountinfo") < 0 ||
	    !(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (sep && strncmp(sep, " - cgroup2 ", 11) == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
			snprintf(mount, size, "%s", point);
			break;
		}
	}
	fclose(f);
}

/*
 * Find the directory of cgroup: an absolute path that names a cgroup
 * directory is taken as is, anything else is relative to the cgroup2
 * mount ("--cgroup system.slice/foo.service").
 */
static int cgroup_dir(const char *sysroot, const char *cgroup, char *dir, size_t size)
{
	char mount[2048], probe[4096];

	if (cgroup[0] == '/' &&
	    mp_sysroot_path(probe, sizeof(probe), sysroot, "%s/cgroup.procs", cgroup) == 0 &&
	    access(probe, R_OK) == 0)
		return mp_sysroot_path(dir, size, sysroot, "%s", cgroup);
	mp_cgroup2_mount(sysroot, mount, sizeof(mount));
	while (cgroup[0] == '/')
		cgroup++;
	return mp_sysroot_path(dir, size, sysroot, "%s/%s", mount, cgroup);
}

/* Explain where --cgroup looks, since cgroup v1 and v2 trees can both be mounted. */
static int cgroup_not_found(const char *sysroot, const char *cgroup, struct mp_error *error)
{
	char mount[4096];

	mp_cgroup2_mount(sysroot, mount, sizeof(mount));
	return mp_fail(error, -ENOENT, "cgroup not found: %s: give a cgroup v2 directory, "
		       "absolute or relative to the cgroup2 mount %s", cgroup, mount);
}

/*
 * Check that dir is on a cgroup v2 file system: a cgroup v1 hierarchy, or
 * any directory that happens to hold a cgroup.procs file, would name other
 * processes than the user meant.  Under a sysroot (a captured tree for
 * tests) there is no file system type to check.
 */
static int check_cgroup2(const char *sysroot, const char *cgroup, const char *dir,
			 struct mp_error *error)
{
	char mount[4096];
	struct statfs fs;

	if (sysroot && sysroot[0])
		return 0;
	if (statfs(dir, &fs) < 0)
		return mp_fail_errno(error, -errno, "cannot read cgroup: %s", dir);
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return 0;
	mp_cgroup2_mount(sysroot, mount, sizeof(mount));
	return mp_fail(error, -EINVAL, "invalid cgroup: %s: %s is not on a cgroup v2 file system; "
		       "give a cgroup v2 directory, absolute or relative to the cgroup2 mount %s",
		       cgroup, dir, mount);
}

/* Add the processes of dir and of every cgroup below it. */
static int read_cgroup_tree(const char *dir, const char *sysroot, struct pid_list *list,
			    struct mp_error *error, int depth)
{
	char path[4096];
	struct dirent *d;
	DIR *sub;
	FILE *procs;
	int pid, rc = 0;

	if (depth > 128 || snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return mp_fail(error, -ENAMETOOLONG, "cannot read cgroup: %s: path too long", dir);
	procs = fopen(path, "re");
	if (!procs)
		return mp_fail_errno(error, -errno, "cannot read cgroup: %s", path);
	while (rc == 0 && fscanf(procs, "%d", &pid) == 1)
		if (is_user_process(sysroot, pid))
			rc = add_pid(list, pid);
	fclose(procs);
	if (rc < 0)
		return mp_fail(error, rc, "cannot read cgroup: out of memory");

	sub = opendir(dir);
	if (!sub)
		return mp_fail_errno(error, -errno, "cannot read cgroup: %s", dir);
	while (rc == 0 && (d = readdir(sub))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			rc = mp_fail(error, -ENAMETOOLONG, "cannot read cgroup: %s: path too long",
				     dir);
		else
			rc = read_cgroup_tree(path, sysroot, list, error, depth + 1);
	}
	closedir(sub);
	return rc;
}

/* ----------------------------------------------------------------- result */

static int compare_pids(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void sort_unique(struct pid_list *list)
{
	size_t kept = 0;

	if (!list->count)
		return;
	qsort(list->pids, list->count, sizeof(*list->pids), compare_pids);
	for (size_t i = 1; i < list->count; i++)
		if (list->pids[i] != list->pids[kept])
			list->pids[++kept] = list->pids[i];
	list->count = kept + 1;
}

/* Add the explicit pids, each of which must exist. */
static int add_explicit(const struct mp_targets *targets, const char *sysroot,
			struct pid_list *list, struct mp_error *error)
{
	for (size_t i = 0; i < targets->pid_count; i++) {
		struct mp_proc_stat stat;
		pid_t pid = targets->pids[i];
		int rc;

		if (pid <= 0)
			return mp_fail(error, -EINVAL, "invalid pid: %d", (int)pid);
		rc = mp_proc_read_stat(sysroot, pid, &stat);
		if (rc == -ENOENT)
			return mp_fail(error, -ESRCH, "no such process: %d", (int)pid);
		if (rc < 0)
			return mp_fail_errno(error, rc, "cannot read process %d", (int)pid);
		rc = add_pid(list, pid);
		if (rc < 0)
			return mp_fail(error, rc, "cannot list processes: out of memory");
	}
	return 0;
}

int mp_targets_resolve(const struct mp_targets *targets, const char *sysroot,
		       pid_t **pids, size_t *count, struct mp_error *error)
{
	struct pid_list list = { 0 };
	char dir[4096];
	int rc;

	*pids = NULL;
	*count = 0;
	rc = add_explicit(targets, sysroot, &list, error);
	if (rc == 0 && (targets->all || targets->comm))
		rc = scan_proc(targets, sysroot, &list, error);
	if (rc == 0 && targets->cgroup) {
		rc = cgroup_dir(sysroot, targets->cgroup, dir, sizeof(dir));
		if (rc < 0)
			mp_fail(error, rc, "invalid cgroup: %s: path too long", targets->cgroup);
		else if (access(dir, F_OK) < 0)
			rc = cgroup_not_found(sysroot, targets->cgroup, error);
		else
			rc = check_cgroup2(sysroot, targets->cgroup, dir, error);
		if (rc == 0)
			rc = read_cgroup_tree(dir, sysroot, &list, error, 0);
	}
	if (rc < 0) {
		free(list.pids);
		return rc;
	}
	sort_unique(&list);
	*pids = list.pids;
	*count = list.count;
	return 0;
}
