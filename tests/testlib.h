/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testlib.h - helpers for memprint's cmocka tests
 *
 * Tests print TAP (tests/run-tests sets CMOCKA_MESSAGE_OUTPUT=TAP).  A test
 * whose requirement is missing calls mp_test_skip() with the reason, which
 * prints it and marks the test skipped rather than passed or failed.
 */
#ifndef MEMPRINT_TESTLIB_H
#define MEMPRINT_TESTLIB_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "memprint.h"

/* Print "# SKIP reason" and skip the current test. */
#define mp_test_skip(...)					\
	do {							\
		printf("# SKIP ");				\
		printf(__VA_ARGS__);				\
		printf("\n");					\
		fflush(stdout);					\
		skip();						\
	} while (0)

/* Skip the current test unless it runs as root. */
#define mp_test_require_root()					\
	do {							\
		if (geteuid() != 0)				\
			mp_test_skip("needs root (CAP_SYS_ADMIN) to read PFNs"); \
	} while (0)

/* Fail with the library's message when a call returned an error. */
#define mp_assert_ok(call, error)					\
	do {								\
		int mp_rc_ = (call);					\
		if (mp_rc_ < 0)						\
			fail_msg("%s returned %d: %s", #call, mp_rc_,	\
				 (error)->message);			\
	} while (0)

/*
 * Wait until process pid blocks in read(2), as /proc/PID/syscall shows,
 * because only then does its Rss stop changing.  A child that sent "ready"
 * still runs code on its way to read(), and code it runs for the first
 * time faults in its page of text and, by fault-around, up to 15 cached
 * neighbours (fault_around_bytes, 64 KiB by default).  fork() copies no
 * page tables of file mappings without anonymous pages (copy_page_range()
 * in mm/memory.c), so a forked child faults its text in again.  In an ASan
 * build the read() interceptor lies in libasan.so.  Needs root to read the
 * syscall file of another process, and fails after about 10 s.
 */
static inline void mp_test_wait_in_read(pid_t pid)
{
	char path[64], line[256];
	long number;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (int tries = 0; tries < 10000; tries++) {
		FILE *f = fopen(path, "re");
		bool in_read;

		if (!f)
			fail_msg("cannot open %s: %s", path, strerror(errno));
		/* "running" while it runs, else the syscall number and arguments. */
		in_read = fgets(line, sizeof(line), f) && sscanf(line, "%ld", &number) == 1 &&
			  number == SYS_read;
		fclose(f);
		if (in_read)
			return;
		usleep(1000);
	}
	fail_msg("pid %d did not block in read(2) within 10 s", (int)pid);
}

#endif /* MEMPRINT_TESTLIB_H */
