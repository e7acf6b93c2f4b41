/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * options.h - options shared by the commands that scan tasks: the targets
 * (--pid, --all, --comm, --cgroup) and the page hash (--hash, --hash-key)
 *
 * A command adds CLI_TARGET_LONG_OPTIONS and CLI_HASH_LONG_OPTIONS to its
 * getopt_long() table and passes every option to cli_targets_option() and
 * cli_hash_option() before its own.
 */
#ifndef MEMPRINT_CLI_OPTIONS_H
#define MEMPRINT_CLI_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

/* getopt_long() values of the shared long options without a short form. */
enum {
	CLI_OPT_COMM = 0x1000,
	CLI_OPT_CGROUP,
	CLI_OPT_HASH,
	CLI_OPT_HASH_KEY,
	CLI_OPT_PAGE_CACHE,
	CLI_OPT_SHARED_END,	/* a command's own option values start here */
};

#define CLI_TARGET_SHORT_OPTIONS "p:a"

#define CLI_TARGET_LONG_OPTIONS						\
	{ "pid", required_argument, NULL, 'p' },			\
	{ "all", no_argument, NULL, 'a' },				\
	{ "comm", required_argument, NULL, CLI_OPT_COMM },		\
	{ "cgroup", required_argument, NULL, CLI_OPT_CGROUP }

/* --page-cache [PATH...]: in scan, snapshot and watch, beside CLI_TARGET_LONG_OPTIONS. */
#define CLI_PAGE_CACHE_LONG_OPTION					\
	{ "page-cache", optional_argument, NULL, CLI_OPT_PAGE_CACHE }

#define CLI_HASH_SHORT_OPTIONS "H:"

#define CLI_HASH_LONG_OPTIONS						\
	{ "hash", required_argument, NULL, 'H' },			\
	{ "hash-key", required_argument, NULL, CLI_OPT_HASH_KEY }

struct cli_targets {
	pid_t *pids;
	size_t pid_count, pid_capacity;
	bool all;
	const char *comm;
	const char *cgroup;
	bool page_cache;		/* --page-cache: scan the page cache too */
	const char **cache_paths;	/* its paths; none: every local mount */
	size_t cache_path_count, cache_path_capacity;
	size_t missing_pids;		/* --pid values with no process, left out */
};

struct cli_hash {
	enum mp_hash_id id;
	const char *key_path;
	uint8_t *key;		/* read by cli_hash_load_key() */
	size_t key_size;
};

/*
 * Handle opt if it is a target option.  Returns 1 when handled, 0 when opt
 * is not a target option, and -1 after printing a usage error.
 */
int cli_targets_option(struct cli_targets *targets, int opt, const char *arg,
		       const char *command);
/* Check that at least one target was given; -1 after printing a usage error. */
int cli_targets_check(const struct cli_targets *targets, const char *command);
void cli_targets_get(const struct cli_targets *targets, struct mp_targets *out);
void cli_targets_free(struct cli_targets *targets);
void cli_targets_help(FILE *out);
/*
 * Take the arguments left after the options (argv[optind..]) as --page-cache
 * paths.  Returns 0, or -1 after printing a usage error when there are
 * arguments but no --page-cache.
 */
int cli_targets_paths(struct cli_targets *targets, int argc, char **argv, const char *command);
void cli_page_cache_help(FILE *out);

/* Like cli_targets_option(), for --hash and --hash-key. */
int cli_hash_option(struct cli_hash *hash, int opt, const char *arg, const char *command);
/* Check the options together; -1 after printing a usage error. */
int cli_hash_check(const struct cli_hash *hash, const char *command);
/* Read the --hash-key file; returns 0 or EXIT_RUNTIME after printing why. */
int cli_hash_load_key(struct cli_hash *hash);
void cli_hash_free(struct cli_hash *hash);
void cli_hash_help(FILE *out);

/*
 * Parse a count such as --top N: a decimal number from min to max.
 * Returns 0, or -1 after printing a usage error that names option.
 */
int cli_parse_count(const char *arg, unsigned long min, unsigned long max,
		    const char *option, const char *command, unsigned long *value);

/*
 * Resolve the targets into sorted pids (*pids malloc'd).  A --pid with no
 * process is left out with a warning and counted in targets->missing_pids,
 * so that the rest is still scanned.  Returns 0, or EXIT_RUNTIME after
 * printing why, also when no process matches.
 */
int cli_resolve_targets(struct cli_targets *targets, const char *sysroot,
			pid_t **pids, size_t *count);

/* Parse --by task|file|kind; -1 after printing a usage error. */
int cli_parse_view(const char *arg, const char *command, enum mp_output_view *view);

/* Exit status for the tasks of a report: EXIT_RUNTIME when one could not be read. */
int cli_report_status(const struct mp_report *report);

/*
 * Print the usage error for getopt_long()'s ':' (missing argument) or '?'
 * (unknown option), called with opterr 0 and an optstring that starts with
 * ':'.  Returns EXIT_USAGE.
 */
int cli_getopt_error(const char *command, int opt, char **argv);

/* Scan callbacks: warnings on stderr; progress on stderr only when it is a terminal. */
void cli_scan_warn(void *ctx, const char *message);
void cli_scan_progress(void *ctx, uint64_t pages_done, uint64_t tasks_done,
		       uint64_t tasks_total);
/* Erase the progress line, if one was printed. */
void cli_progress_done(void);
/* Set the warning and progress callbacks of options. */
void cli_scan_callbacks(struct mp_scan_options *options);

/*
 * Take one snapshot set of pids (count of them, 0 for the page cache alone)
 * and, with --page-cache, of the page cache, the two scans joined into one
 * set in sink.  kmod scans both through memprint.ko, else through /proc and
 * user space.  Returns 0 or a negative errno value with error filled.
 */
int cli_scan_set(const struct cli_targets *targets, const pid_t *pids, size_t count, bool kmod,
		 const struct mp_scan_options *options, const struct mp_sink *sink,
		 struct mp_error *error);

#endif /* MEMPRINT_CLI_OPTIONS_H */
