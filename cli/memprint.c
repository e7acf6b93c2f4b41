// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * memprint.c - the memprint command: dispatch to subcommands
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Each subcommand adds its line here once it exists. */
static const struct command commands[] = {
	{ "scan", cmd_scan, "snapshot targets through /proc and analyse them now" },
	{ "snapshot", cmd_snapshot, "write a snapshot of targets to a file" },
	{ "analyze", cmd_analyze, "report on the snapshot sets of files" },
	{ "hashbench", cmd_hashbench, "measure page hashes: throughput and false positives" },
	{ "watch", cmd_watch, "snapshot targets at a fixed interval into a series file" },
	{ "timeline", cmd_timeline, "sharing over time: churn, lifetimes, KSM lag" },
	{ "dump", cmd_dump, "decode a snapshot file to text or JSON" },
	{ "report", cmd_report, "write a self-contained HTML report with figures" },
	{ NULL, NULL, NULL },
};

static void print_help(FILE *out)
{
	fputs("Usage:\n memprint COMMAND [options]\n\n"
	      "Measure memory redundancy: which pages hold the same content, how much\n"
	      "is already shared and how much more merging could free.\n\n"
	      "Commands:\n", out);
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\nRun 'memprint COMMAND --help' for a command's options.\n", out);
}

/*
 * Write a message to stderr with control characters as \xNN, as the tables
 * print them: a file name may hold a newline or an escape sequence, which
 * would break the line or drive the terminal.
 */
static void put_message(const char *format, va_list args)
{
	char message[4096];

	vsnprintf(message, sizeof(message), format, args);
	for (const unsigned char *c = (const unsigned char *)message; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", *c);
		else
			fputc(*c, stderr);
	}
}

void cli_warn(const char *format, ...)
{
	va_list args;

	fputs("memprint: ", stderr);
	va_start(args, format);
	put_message(format, args);
	va_end(args);
	fputc('\n', stderr);
}

int cli_usage_error(const char *command, const char *format, ...)
{
	va_list args;

	fputs("memprint: ", stderr);
	va_start(args, format);
	put_message(format, args);
	va_end(args);
	fprintf(stderr, "\nTry 'memprint %s%s--help' for more information.\n",
		command ? command : "", command ? " " : "");
	return EXIT_USAGE;
}

int cli_report_error(const struct mp_error *error, int code)
{
	if (error && error->message[0])
		cli_warn("%s", error->message);
	else
		cli_warn("%s", mp_strerror(code));
	return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("memprint 0.1.0\n");
		return 0;
	}

	for (const struct command *c = commands; c->name; c++) {
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	}
	return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
