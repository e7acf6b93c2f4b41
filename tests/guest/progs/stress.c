// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stress.c - many scans while the targets fork, exit, map and unmap
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define CHURNERS 3
#define CHURN_AREAS 8		/* areas a churner keeps mapped at once */

struct churn_slots {
	volatile pid_t child[CHURNERS];
};

static struct churn_slots *slots;

/*
 * Map and touch an area, unmap the oldest of the last CHURN_AREAS, and fork
 * a child that exits soon, forever.
 */
static void churn(int slot)
{
	char *areas[CHURN_AREAS] = { 0 };
	size_t sizes[CHURN_AREAS] = { 0 };
	unsigned seed = (unsigned)getpid();

	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */
	for (unsigned n = 0;; n++) {
		unsigned k = n % CHURN_AREAS;
		size_t pages = 1 + rand_r(&seed) % 64;
		pid_t child;

		if (areas[k])
			munmap(areas[k], sizes[k]);
		areas[k] = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		sizes[k] = pages * PAGE;
		if (areas[k] == MAP_FAILED) {
			areas[k] = NULL;
			continue;
		}
		for (size_t i = 0; i < pages; i++)
			areas[k][i * PAGE] = (char)i;
		child = fork();
		if (child == 0) {
			areas[k][0] = 1;
			usleep(2000);
			_exit(0);
		}
		slots->child[slot] = child;
		usleep(2000);
	}
}

static void discard_warning(void *ctx, const char *message)
{
	(void)ctx;
	(void)message;
}

static int scan_once(const pid_t *churners)
{
	pid_t pids[2 * CHURNERS];
	struct mp_kmod_request request = { .target = MP_KMOD_TASKS, .pids = pids };
	struct mp_scan_options options = { .hash = MP_HASH_CRC32, .warn = discard_warning };
	struct collector c = { 0 };
	struct mp_sink sink = collector_sink(&c);
	struct mp_error error = { 0 };
	size_t count = 0;
	int rc;

	for (int i = 0; i < CHURNERS; i++) {
		pids[count++] = churners[i];
		if (slots->child[i] > 0)
			pids[count++] = slots->child[i];
	}
	request.pid_count = count;
	rc = mp_kmod_scan(&request, &options, &sink, &error);
	if (rc < 0)
		note("scan failed: %s", error.message);
	collector_free(&c);
	return rc;
}

/* Start a physical scan, read a little of it and close the file mid-response. */
static int abandon_scan(void)
{
	struct memprint_request request = {
		.size = sizeof(request), .target = MEMPRINT_TARGET_PHYSICAL,
		.hash = MEMPRINT_HASH_SHA1, .fd = -1,
	};
	char buf[65536];
	int fd = open("/dev/memprint", O_RDONLY);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, MEMPRINT_IOC_SCAN, &request) < 0 || read(fd, buf, sizeof(buf)) <= 0) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* A reader killed by SIGKILL in the middle of a long response. */
static int kill_reader(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			abandon_scan();
	}
	usleep(300000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) ? 0 : -1;
}

int check_stress(int argc, char **argv)
{
	int cycles = argc > 2 ? atoi(argv[2]) : 200;
	pid_t churners[CHURNERS];
	int failures = 0;

	slots = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < CHURNERS; i++) {
		churners[i] = fork();
		if (churners[i] == 0)
			churn(i);
	}
	for (int i = 0; i < cycles; i++) {
		if (scan_once(churners) < 0)
			failures++;
		if (i % 25 == 0 && abandon_scan() < 0) {
			note("cycle %d: the abandoned scan failed to start", i);
			failures++;
		}
	}
	if (kill_reader() < 0) {
		note("the killed reader did not die by its signal");
		failures++;
	}
	for (int i = 0; i < CHURNERS; i++)
		stop_child(churners[i]);
	note("%d snapshot cycles, %d failures", cycles, failures);
	return failures ? GUEST_FAIL : GUEST_PASS;
}
