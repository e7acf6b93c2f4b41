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

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

#endif /* MEMPRINT_TESTLIB_H */
