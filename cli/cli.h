/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli.h - shared by the memprint subcommands
 *
 * Exit status, as in util-linux: 0 success, 1 usage error, 2 runtime
 * failure (also a per-target failure after the rest was done).
 */
#ifndef MEMPRINT_CLI_H
#define MEMPRINT_CLI_H

#include "memprint.h"

#define EXIT_USAGE 1
#define EXIT_RUNTIME 2

/* Print "memprint: message" on stderr. */
void cli_warn(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Print "memprint: message\nTry 'memprint CMD --help'." and return EXIT_USAGE. */
int cli_usage_error(const char *command, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Print the library's message for a failed call and return EXIT_RUNTIME. */
int cli_report_error(const struct mp_error *error, int code);

/*
 * Install SIGINT, SIGTERM, SIGHUP and SIGQUIT handlers that resume every
 * target a --freeze scan stopped, then end memprint by the same signal.
 */
void cli_resume_targets_on_signal(void);

/* Each subcommand: argc/argv start at the subcommand's name. */
int cmd_scan(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_hashbench(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif /* MEMPRINT_CLI_H */
