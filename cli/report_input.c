// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_input.c - tell the inputs of memprint report apart, and the
 * helpers their sections share
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report_input.h"

/*
 * A hashbench result is JSON, so it starts with '{'; a snapshot file
 * starts with its binary magic, never with a brace.  Telling them apart
 * reads the start of the input, so it must be a file that can be read
 * again, not a pipe.
 */
static int sniff_type(const char *path, enum input_type *type)
{
	FILE *in = fopen(path, "rb");
	struct stat st;
	int c;

	if (!in) {
		cli_warn("cannot open %s: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (fstat(fileno(in), &st) == 0 && !S_ISREG(st.st_mode)) {
		fclose(in);
		cli_warn("%s: not a regular file: memprint report reads each input more than "
			 "once, so save a pipe's data to a file first", path);
		return EXIT_RUNTIME;
	}
	do
		c = fgetc(in);
	while (c != EOF && isspace(c));
	fclose(in);
	*type = c == '{' ? INPUT_HASHBENCH : INPUT_SNAPSHOT;
	return 0;
}

int report_input_read(struct report_input *input, const char *path, size_t top)
{
	int rc;

	input->path = path;
	rc = sniff_type(path, &input->type);
	if (rc)
		return rc;
	if (input->type == INPUT_HASHBENCH)
		return report_hashbench_read(input);
	return report_series_read(input, top);
}

void report_input_json(FILE *out, const struct report_input *input)
{
	if (input->type == INPUT_HASHBENCH)
		report_hashbench_json(out, input);
	else
		report_series_json(out, input);
}

void report_input_free(struct report_input *input)
{
	free(input->rows);
	mp_report_free(input->last);
	mp_timeline_summary_free(input->summary);
	free(input->json);
	free(input->hashes);
}

void report_put_html(FILE *out, const char *text)
{
	for (const char *c = text; *c; c++) {
		switch (*c) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*c, out);
		}
	}
}

/* A JSON string that is also safe inside an HTML script element. */
void report_put_json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == '<' || *c == '>' || *c == '&')
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

double report_mib(uint64_t pages)
{
	return (double)pages * 4096.0 / (1024.0 * 1024.0);
}
