// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs_task.c - read the task facts of a snapshot from /proc/PID/stat,
 * status, comm and ksm_stat
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source/procfs.h"

/*
 * Parse /proc/PID/stat.  comm sits in parentheses and may itself hold
 * ')' or spaces, so the fields are counted from the last ')'.
 */
static int parse_stat(const char *text, struct mp_proc_stat *stat)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned long long flags, starttime;
	int ppid;
	size_t n;

	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(stat->comm))
		n = sizeof(stat->comm) - 1;
	memcpy(stat->comm, open + 1, n);
	stat->comm[n] = '\0';

	/* Fields 3 (state), 4 (ppid), 9 (flags) and 22 (starttime). */
	if (sscanf(close + 1, " %c %d %*d %*d %*d %*d %llu %*u %*u %*u %*u %*u %*u %*d %*d "
		   "%*d %*d %*d %*d %llu", &stat->state, &ppid, &flags, &starttime) != 4)
		return -EINVAL;
	stat->ppid = ppid;
	stat->flags = flags;
	stat->starttime = starttime;
	return 0;
}

int mp_proc_read_stat(const char *sysroot, pid_t pid, struct mp_proc_stat *stat)
{
	char path[4096], text[1024];
	ssize_t n;
	int rc;

	rc = mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/stat", (int)pid);
	if (rc < 0)
		return rc;
	n = mp_read_small_file(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	return parse_stat(text, stat);
}

void mp_proc_parse_ksm_stat(const char *text, struct mp_ksm_task_stat *stat, bool *merge_any)
{
	const char *line = text;

	memset(stat, 0, sizeof(*stat));
	*merge_any = false;
	while (line && *line) {
		unsigned long long value;
		long long profit;

		if (sscanf(line, "ksm_rmap_items %llu", &value) == 1)
			stat->ksm_rmap_items = value;
		else if (sscanf(line, "ksm_zero_pages %llu", &value) == 1)
			stat->ksm_zero_pages = value;
		else if (sscanf(line, "ksm_merging_pages %llu", &value) == 1)
			stat->ksm_merging_pages = value;
		else if (sscanf(line, "ksm_process_profit %lld", &profit) == 1)
			stat->ksm_process_profit = profit;
		else if (strncmp(line, "ksm_merge_any: yes", 18) == 0)
			*merge_any = true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	stat->valid = true;
}

static uint32_t read_uid(const char *sysroot, pid_t pid)
{
	char path[4096], text[4096];
	const char *uid;
	unsigned int value;

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/status", (int)pid) < 0 ||
	    mp_read_small_file(path, text, sizeof(text)) < 0)
		return UINT32_MAX;
	uid = strstr(text, "\nUid:");
	if (!uid || sscanf(uid + 5, "%u", &value) != 1)
		return UINT32_MAX;
	return value;
}

/* ksm_stat exists since Linux 6.1; its ksm_merge_any line is newer (6.18 has it). */
static void read_ksm_stat(const char *sysroot, pid_t pid, struct mp_task *task)
{
	char path[4096], text[1024];
	bool merge_any;

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/ksm_stat", (int)pid) < 0 ||
	    mp_read_small_file(path, text, sizeof(text)) < 0)
		return;
	mp_proc_parse_ksm_stat(text, &task->ksm, &merge_any);
	if (merge_any)
		task->flags |= MP_TASK_KSM_MERGE_ANY;
}

/* /proc/PID/comm is the name unabridged by parentheses; stat's copy is the fallback. */
static void read_comm(const char *sysroot, pid_t pid, char *comm, size_t size)
{
	char path[4096], text[64];
	ssize_t n;

	if (mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/comm", (int)pid) < 0)
		return;
	n = mp_read_small_file(path, text, sizeof(text));
	if (n <= 0)
		return;
	if (text[n - 1] == '\n')
		n--;
	if ((size_t)n >= size)
		n = (ssize_t)size - 1;
	memcpy(comm, text, (size_t)n);
	comm[n] = '\0';
}

int mp_proc_read_task(const char *sysroot, pid_t pid, struct mp_task *task,
		      struct mp_proc_stat *stat)
{
	int rc;

	memset(task, 0, sizeof(*task));
	task->pid = pid;
	rc = mp_proc_read_stat(sysroot, pid, stat);
	if (rc < 0)
		return rc;
	task->ppid = stat->ppid;
	memcpy(task->comm, stat->comm, sizeof(task->comm));
	read_comm(sysroot, pid, task->comm, sizeof(task->comm));
	task->uid = read_uid(sysroot, pid);
	if (stat->flags & MP_PF_KTHREAD)
		task->flags |= MP_TASK_KERNEL_THREAD;
	read_ksm_stat(sysroot, pid, task);
	return 0;
}
