// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * signals.c - resume frozen targets when memprint is interrupted
 *
 * With --freeze the targets are stopped while they are scanned.  The
 * library resumes them when the scan returns, but a signal that ends
 * memprint mid-scan would leave them stopped, so the commands that freeze
 * install these handlers.
 */
#include <signal.h>
#include <string.h>

#include "cli.h"

static const int resume_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Resume the targets, then end by the same signal, so the exit status shows it. */
static void resume_and_reraise(int signal_number)
{
	mp_freeze_resume_all();
	signal(signal_number, SIG_DFL);
	raise(signal_number);
}

void cli_resume_targets_on_signal(void)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = resume_and_reraise;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < sizeof(resume_signals) / sizeof(resume_signals[0]); i++)
		sigaddset(&action.sa_mask, resume_signals[i]);

	for (size_t i = 0; i < sizeof(resume_signals) / sizeof(resume_signals[0]); i++)
		sigaction(resume_signals[i], &action, NULL);
}
