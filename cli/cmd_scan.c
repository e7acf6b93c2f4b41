// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_scan.c - memprint scan: snapshot tasks through /proc and analyse
 * them at once, optionally writing the snapshot too
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum {
	OPT_JSON = CLI_OPT_SHARED_END,
	OPT_CSV,
	OPT_TOP,
	OPT_BYTES,
	OPT_BY,
	OPT_FREEZE,
	OPT_SYSROOT,
};

struct scan_command {
	struct cli_targets targets;
	struct cli_hash hash;
	struct mp_output_options output;
	bool freeze;
	bool compress;
	const char *snapshot_path;
	const char *sysroot;
};

static void scan_help(void)
{
	fputs("Usage:\n memprint scan [options] TARGETS\n\n"
	      "Snapshot the memory of processes through /proc and report how much of it\n"
	      "is already shared, how much more merging could free, and where.\n\n", stdout);
	cli_targets_help(stdout);
	cli_page_cache_help(stdout);
	fputs("\n", stdout);
	cli_hash_help(stdout);
	fputs("\nOutput:\n"
	      "      --by VIEW         task, file or kind: one row per task, file or kind\n"
	      "      --top N           rows of each list (default 10)\n"
	      "  -b, --bytes           print sizes in bytes, not in human units\n"
	      "  -J, --json            print JSON (numbers count 4 KiB pages)\n"
	      "      --csv             print CSV (numbers count 4 KiB pages)\n"
	      "\nScan:\n"
	      "      --freeze          stop the targets while they are scanned\n"
	      "  -o, --output FILE     also write the snapshot to FILE (mode 0600)\n"
	      "  -z, --compress        compress the snapshot file with zstd\n"
	      "      --sysroot DIR     read /proc and /sys under DIR\n"
	      "  -h, --help            display this help\n"
	      "\nExit status: 0 success, 1 usage error, 2 runtime failure or a target that\n"
	      "could not be read (the rest is still reported).\n", stdout);
}

/* Returns -1 to go on, or the exit status. */
static int scan_parse(struct scan_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_TARGET_LONG_OPTIONS,
		CLI_PAGE_CACHE_LONG_OPTION,
		CLI_HASH_LONG_OPTIONS,
		{ "json", no_argument, NULL, 'J' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "bytes", no_argument, NULL, 'b' },
		{ "by", required_argument, NULL, OPT_BY },
		{ "freeze", no_argument, NULL, OPT_FREEZE },
		{ "output", required_argument, NULL, 'o' },
		{ "compress", no_argument, NULL, 'z' },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long top;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" CLI_TARGET_SHORT_OPTIONS CLI_HASH_SHORT_OPTIONS "Jbo:zh", options,
				  NULL)) != -1) {
		rc = cli_targets_option(&cmd->targets, opt, optarg, "scan");
		if (rc == 0)
			rc = cli_hash_option(&cmd->hash, opt, optarg, "scan");
		if (rc < 0)
			return EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (opt) {
		case 'J':
			if (cmd->output.format == MP_OUTPUT_CSV)
				return cli_usage_error("scan", "--json and --csv exclude each other");
			cmd->output.format = MP_OUTPUT_JSON;
			break;
		case OPT_CSV:
			if (cmd->output.format == MP_OUTPUT_JSON)
				return cli_usage_error("scan", "--json and --csv exclude each other");
			cmd->output.format = MP_OUTPUT_CSV;
			break;
		case OPT_TOP:
			if (cli_parse_count(optarg, 1, 1000000, "--top", "scan", &top) < 0)
				return EXIT_USAGE;
			cmd->output.top = top;
			break;
		case 'b':
			cmd->output.bytes = true;
			break;
		case OPT_BY:
			if (cli_parse_view(optarg, "scan", &cmd->output.by) < 0)
				return EXIT_USAGE;
			break;
		case OPT_FREEZE:
			cmd->freeze = true;
			break;
		case 'o':
			cmd->snapshot_path = optarg;
			break;
		case 'z':
			cmd->compress = true;
			break;
		case OPT_SYSROOT:
			cmd->sysroot = optarg;
			break;
		case 'h':
			scan_help();
			return 0;
		default:
			return cli_getopt_error("scan", opt, argv);
		}
	}
	if (cli_targets_paths(&cmd->targets, argc, argv, "scan") < 0)
		return EXIT_USAGE;
	if (cmd->compress && !cmd->snapshot_path)
		return cli_usage_error("scan", "--compress needs --output FILE");
	if (cli_targets_check(&cmd->targets, "scan") < 0 || cli_hash_check(&cmd->hash, "scan") < 0)
		return EXIT_USAGE;
	return -1;
}

/* Scan pids and the page cache as one set into the analyses and, with -o, the writer. */
static int scan_run(struct scan_command *cmd, const pid_t *pids, size_t count,
		    struct mp_analysis *analysis, struct mp_pagecache_analysis *cache_analysis,
		    struct mp_error *error)
{
	struct mp_writer_options wopts = { .compress = cmd->compress };
	struct mp_scan_options sopts = {
		.sysroot = cmd->sysroot,
		.hash = cmd->hash.id ? cmd->hash.id : MP_HASH_DEFAULT,
		.hash_key = cmd->hash.key,
		.hash_key_size = cmd->hash.key_size,
		.freeze = cmd->freeze,
	};
	struct mp_sink sinks[3] = { mp_analysis_sink(analysis) };
	size_t sink_count = 1;
	struct mp_writer *writer = NULL;
	struct mp_tee *tee = NULL;
	struct mp_sink sink;
	int rc;

	cli_scan_callbacks(&sopts);
	if (cmd->freeze)
		cli_resume_targets_on_signal();
	if (cmd->snapshot_path) {
		rc = mp_writer_open(&writer, cmd->snapshot_path, &wopts, error);
		if (rc < 0)
			return rc;
		sinks[sink_count++] = mp_writer_sink(writer);
	}
	if (cache_analysis)
		sinks[sink_count++] = mp_pagecache_analysis_sink(cache_analysis);
	rc = mp_tee_open(&tee, sinks, sink_count);
	if (rc < 0) {
		mp_writer_close(writer, NULL);
		return rc;
	}
	sink = mp_tee_sink(tee);
	rc = cli_scan_set(&cmd->targets, pids, count, false, &sopts, &sink, error);
	mp_tee_close(tee);
	if (writer) {
		int close_rc = mp_writer_close(writer, rc < 0 ? NULL : error);

		if (rc == 0)
			rc = close_rc;
	}
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_command cmd = { .output.format = MP_OUTPUT_TABLE };
	struct mp_analysis_options aopts = { .per_task = true, .per_file = true,
					     .use_zero_pages = -1 };
	const struct mp_report *reports[1];
	const struct mp_pagecache_report *caches[1];
	struct mp_analysis *analysis = NULL;
	struct mp_pagecache_analysis *cache_analysis = NULL;
	struct mp_pagecache_report *cache_report = NULL;
	struct mp_report *report = NULL;
	struct mp_error error = { 0 };
	pid_t *pids = NULL;
	size_t count = 0;
	int status;

	status = scan_parse(&cmd, argc, argv);
	if (status >= 0)
		goto out;
	aopts.top = cmd.output.top;
	status = cli_hash_load_key(&cmd.hash);
	if (status == 0)
		status = cli_resolve_targets(&cmd.targets, cmd.sysroot, &pids, &count);
	if (status)
		goto out;

	status = mp_analysis_open(&analysis, &aopts, &error);
	if (status == 0 && cmd.targets.page_cache) {
		struct mp_pagecache_analysis_options copts = { .top = cmd.output.top };

		status = mp_pagecache_analysis_open(&cache_analysis, &copts, &error);
	}
	if (status == 0)
		status = scan_run(&cmd, pids, count, analysis, cache_analysis, &error);
	if (status == 0)
		status = mp_analysis_report(analysis, &report, &error);
	if (status == 0 && cache_analysis)
		status = mp_pagecache_analysis_report(cache_analysis, &cache_report, &error);
	if (status < 0) {
		status = cli_report_error(&error, status);
		goto out;
	}
	reports[0] = report;
	caches[0] = cache_report;
	if (mp_report_print_with_pagecache(stdout, reports, caches, 1, &cmd.output, &error) < 0) {
		status = cli_report_error(&error, error.code);
		goto out;
	}
	status = cli_report_status(report);
	if (cmd.targets.missing_pids)
		status = EXIT_RUNTIME;
out:
	mp_report_free(report);
	mp_analysis_close(analysis);
	mp_pagecache_report_free(cache_report);
	mp_pagecache_analysis_close(cache_analysis);
	free(pids);
	cli_targets_free(&cmd.targets);
	cli_hash_free(&cmd.hash);
	return status;
}
