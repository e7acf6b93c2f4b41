// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_snapshot.c - memprint snapshot: write a snapshot of tasks to a file
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

enum {
	OPT_SOURCE = CLI_OPT_SHARED_END,
	OPT_APPEND,
	OPT_FREEZE,
	OPT_SYSROOT,
	OPT_PHYSICAL,
};

enum snapshot_source {
	SOURCE_PROCFS,
	SOURCE_KMOD,
};

struct snapshot_command {
	struct cli_targets targets;
	struct cli_hash hash;
	enum snapshot_source source;
	struct mp_writer_options writer;
	bool freeze;
	bool physical;			/* --physical: all RAM through the module */
	const char *path;
	const char *sysroot;
};

static void snapshot_help(void)
{
	fputs("Usage:\n memprint snapshot [options] TARGETS -o FILE\n\n"
	      "Write a fingerprint snapshot of the memory of processes to FILE: one record\n"
	      "per present page with its PFN, flags and a digest of its content.\n\n", stdout);
	cli_targets_help(stdout);
	cli_page_cache_help(stdout);
	fputs("\n", stdout);
	cli_hash_help(stdout);
	fputs("\nSnapshot:\n"
	      "  -o, --output FILE     the snapshot file (created with mode 0600)\n"
	      "      --source SOURCE   procfs (default: /proc, no module) or kmod (memprint.ko,\n"
	      "                        whose default hash is xxh64)\n"
	      "      --physical        add a set of every System RAM frame (--source kmod)\n"
	      "  -z, --compress        compress the blocks with zstd\n"
	      "      --append          add the set to the sets already in FILE\n"
	      "      --freeze          stop the targets while they are scanned (procfs)\n"
	      "      --sysroot DIR     read /proc and /sys under DIR\n"
	      "  -h, --help            display this help\n"
	      "\nExit status: 0 success, 1 usage error, 2 runtime failure or a target that\n"
	      "could not be read (the rest is still written).\n", stdout);
}

static int parse_source(struct snapshot_command *cmd, const char *arg)
{
	if (!strcmp(arg, "procfs"))
		cmd->source = SOURCE_PROCFS;
	else if (!strcmp(arg, "kmod"))
		cmd->source = SOURCE_KMOD;
	else
		return cli_usage_error("snapshot", "invalid --source value '%s': expected procfs "
				       "or kmod", arg);
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int snapshot_parse(struct snapshot_command *cmd, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_TARGET_LONG_OPTIONS,
		CLI_PAGE_CACHE_LONG_OPTION,
		CLI_HASH_LONG_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "compress", no_argument, NULL, 'z' },
		{ "append", no_argument, NULL, OPT_APPEND },
		{ "freeze", no_argument, NULL, OPT_FREEZE },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "physical", no_argument, NULL, OPT_PHYSICAL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":" CLI_TARGET_SHORT_OPTIONS CLI_HASH_SHORT_OPTIONS "o:zh", options,
				  NULL)) != -1) {
		rc = cli_targets_option(&cmd->targets, opt, optarg, "snapshot");
		if (rc == 0)
			rc = cli_hash_option(&cmd->hash, opt, optarg, "snapshot");
		if (rc < 0)
			return EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (opt) {
		case 'o':
			cmd->path = optarg;
			break;
		case OPT_SOURCE:
			if (parse_source(cmd, optarg))
				return EXIT_USAGE;
			break;
		case 'z':
			cmd->writer.compress = true;
			break;
		case OPT_APPEND:
			cmd->writer.append = true;
			break;
		case OPT_FREEZE:
			cmd->freeze = true;
			break;
		case OPT_SYSROOT:
			cmd->sysroot = optarg;
			break;
		case OPT_PHYSICAL:
			cmd->physical = true;
			break;
		case 'h':
			snapshot_help();
			return 0;
		default:
			return cli_getopt_error("snapshot", opt, argv);
		}
	}
	if (cli_targets_paths(&cmd->targets, argc, argv, "snapshot") < 0)
		return EXIT_USAGE;
	if (!cmd->path)
		return cli_usage_error("snapshot", "no output file: give -o FILE");
	if (cmd->source == SOURCE_KMOD && cmd->freeze)
		return cli_usage_error("snapshot", "--freeze works with --source procfs only");
	if (cmd->physical && cmd->source != SOURCE_KMOD)
		return cli_usage_error("snapshot", "--physical needs --source kmod");
	if ((!cmd->physical && cli_targets_check(&cmd->targets, "snapshot") < 0) ||
	    cli_hash_check(&cmd->hash, "snapshot") < 0)
		return EXIT_USAGE;
	return -1;
}

/* A sink beside the writer that counts the tasks that could not be read. */
struct failure_counter {
	struct mp_sink next;
	uint64_t failed;
};

static int count_task_end(void *ctx, const struct mp_task_end *end)
{
	struct failure_counter *c = ctx;

	if (end->status == MP_TASK_FAILED)
		c->failed++;
	return 0;
}

static int snapshot_run(struct snapshot_command *cmd, const pid_t *pids, size_t count,
			const struct mp_sink *sink, struct mp_error *error)
{
	struct mp_scan_options sopts = {
		.sysroot = cmd->sysroot,
		/* The module has no xxh3: its default is xxh64. */
		.hash = cmd->hash.id ? cmd->hash.id :
			cmd->source == SOURCE_KMOD ? MP_HASH_XXH64 : MP_HASH_DEFAULT,
		.hash_key = cmd->hash.key,
		.hash_key_size = cmd->hash.key_size,
		.freeze = cmd->freeze,
	};
	struct mp_kmod_request physical = { .target = MP_KMOD_PHYSICAL };
	int rc = 0;

	cli_scan_callbacks(&sopts);
	if (cmd->freeze)
		cli_resume_targets_on_signal();
	/* Tasks and page cache form one set; physical RAM is a set of its own. */
	if (count || cmd->targets.page_cache)
		rc = cli_scan_set(&cmd->targets, pids, count, cmd->source == SOURCE_KMOD, &sopts,
				  sink, error);
	if (rc == 0 && cmd->physical)
		rc = mp_kmod_scan(&physical, &sopts, sink, error);
	return rc;
}

static int snapshot_write(struct snapshot_command *cmd, const pid_t *pids, size_t count,
			  uint64_t *failed, struct mp_error *error)
{
	static const struct mp_sink_ops counter_ops = { .task_end = count_task_end };
	struct failure_counter counter = { 0 };
	struct mp_writer *writer;
	struct mp_sink sinks[2];
	struct mp_tee *tee;
	struct mp_sink sink;
	int rc, close_rc;

	rc = mp_writer_open(&writer, cmd->path, &cmd->writer, error);
	if (rc < 0)
		return rc;
	sinks[0] = mp_writer_sink(writer);
	sinks[1] = (struct mp_sink){ .ops = &counter_ops, .ctx = &counter };
	rc = mp_tee_open(&tee, sinks, 2);
	if (rc == 0) {
		sink = mp_tee_sink(tee);
		rc = snapshot_run(cmd, pids, count, &sink, error);
		mp_tee_close(tee);
	}
	close_rc = mp_writer_close(writer, rc < 0 ? NULL : error);
	*failed = counter.failed;
	return rc < 0 ? rc : close_rc;
}

/* Whether --physical is the only target: no task or page cache to resolve. */
static bool physical_only(const struct snapshot_command *cmd)
{
	const struct cli_targets *t = &cmd->targets;

	return cmd->physical && !t->pid_count && !t->all && !t->comm && !t->cgroup &&
	       !t->page_cache;
}

int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_command cmd = { .source = SOURCE_PROCFS };
	struct mp_error error = { 0 };
	pid_t *pids = NULL;
	size_t count = 0;
	uint64_t failed = 0;
	int status, rc;

	status = snapshot_parse(&cmd, argc, argv);
	if (status >= 0)
		goto out;
	status = cli_hash_load_key(&cmd.hash);
	if (status == 0 && !physical_only(&cmd))
		status = cli_resolve_targets(&cmd.targets, cmd.sysroot, &pids, &count);
	if (status)
		goto out;

	rc = snapshot_write(&cmd, pids, count, &failed, &error);
	if (rc < 0)
		status = cli_report_error(&error, rc);
	else if (failed || cmd.targets.missing_pids)
		status = EXIT_RUNTIME;
out:
	free(pids);
	cli_targets_free(&cmd.targets);
	cli_hash_free(&cmd.hash);
	return status;
}
