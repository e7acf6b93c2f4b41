// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_report.c - memprint report: one self-contained HTML page of figures
 *
 * Reads snapshot files (one set or a series) and hashbench JSON results.
 * Writes one HTML file that needs nothing outside itself: tables, figures
 * as SVG in data: URIs (drawn by gnuplot in report_plot.c), and the plotted
 * numbers as a JSON block.  A snapshot file goes through the
 * same two sinks as memprint timeline (the analysis of each set and the
 * timeline engine), so the figures show the numbers of memprint analyze
 * and memprint timeline.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "report_input.h"
#include "report_plot.h"

struct report_ctl {
	const char *output;
	const char *png_dir, *svg_dir;
	size_t top;
	char tmpdir[64];
	FILE *html;
	unsigned figure;		/* figures written so far */
	struct report_input *inputs;
	size_t input_count;
};

static void print_help(void)
{
	fputs("Usage:\n memprint report [options] FILE... -o REPORT.html\n"
	      "\n"
	      "Write one self-contained HTML report of snapshot files (a set or a\n"
	      "series written by memprint watch) and memprint hashbench --json results.\n"
	      "The page loads nothing from outside: figures, styles and data are inline.\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output FILE  the HTML file to write, mode 0600 (required)\n"
	      "      --png DIR      also write each figure as DIR/NAME.png (mode 0600)\n"
	      "      --svg DIR      also write each figure as DIR/NAME.svg (mode 0600)\n"
	      "      --top N        rows and bars of the task and file breakdowns (default 10)\n"
	      "  -h, --help         display this help\n"
	      "\n"
	      "A FILE whose first non-blank byte is '{' is read as a hashbench JSON result;\n"
	      "any other as a snapshot file.  Figures are drawn by gnuplot.\n"
	      "Exit status: 0 success, 1 usage error, 2 runtime failure.\n", stdout);
}

static int parse_top(const char *text, size_t *top)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || end == text || *end || value == 0 || value > 1000 || text[0] == '-')
		return -EINVAL;
	*top = value;
	return 0;
}

/*
 * Whether a path contains a control character.  Figure paths go into a gnuplot
 * script as quoted strings, where a newline ends the command; gnuplot then
 * writes the image to its standard output, which is ours.
 */
static bool has_control(const char *path)
{
	for (const unsigned char *c = (const unsigned char *)path; c && *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			return true;
	}
	return false;
}

static int parse_args(struct report_ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "png", required_argument, NULL, 'P' },
		{ "svg", required_argument, NULL, 'S' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cli_getopt_error("report", c, argv);
		switch (c) {
		case 'o':
			ctl->output = optarg;
			break;
		case 'P':
			ctl->png_dir = optarg;
			break;
		case 'S':
			ctl->svg_dir = optarg;
			break;
		case 't':
			if (parse_top(optarg, &ctl->top) < 0)
				return cli_usage_error("report", "invalid --top '%s': "
						       "expected 1 to 1000", optarg);
			break;
		case 'h':
			print_help();
			exit(EXIT_SUCCESS);
		default:
			return cli_usage_error("report", "invalid option");
		}
	}
	if (optind == argc)
		return cli_usage_error("report", "no input file given");
	if (!ctl->output)
		return cli_usage_error("report", "no output file given: use -o REPORT.html");
	if (has_control(ctl->png_dir) || has_control(ctl->svg_dir))
		return cli_usage_error("report", "invalid --png or --svg directory: gnuplot "
				       "cannot write to a name with a control character "
				       "(newline, tab...): choose another");
	return 0;
}

/* ------------------------------------------------------------- HTML text */

static void put_base64(FILE *out, const unsigned char *data, size_t size)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < size; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t left = size - i;

		if (left > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			v |= data[i + 2];
		fputc(digits[v >> 18 & 63], out);
		fputc(digits[v >> 12 & 63], out);
		fputc(left > 1 ? digits[v >> 6 & 63] : '=', out);
		fputc(left > 2 ? digits[v & 63] : '=', out);
	}
}

static int read_whole(const char *path, unsigned char **data, size_t *size)
{
	FILE *in = fopen(path, "rb");
	long length;

	if (!in)
		return -errno;
	if (fseek(in, 0, SEEK_END) < 0 || (length = ftell(in)) < 0 ||
	    fseek(in, 0, SEEK_SET) < 0) {
		fclose(in);
		return -EIO;
	}
	*data = malloc((size_t)length + 1);
	if (!*data) {
		fclose(in);
		return -ENOMEM;
	}
	*size = fread(*data, 1, (size_t)length, in);
	fclose(in);
	return *size == (size_t)length ? 0 : -EIO;
}

/* ------------------------------------------------------------- figures */

/*
 * Open path for writing with mode 0600, as the snapshot writer does: the
 * report names commands, files and paths of the scanned tasks.  An
 * existing regular file that others could read is made private too.
 */
static int open_private(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077) &&
	    fchmod(fd, 0600) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* gnuplot writes into the file it is given and keeps its mode: create it 0600 first. */
static int write_figure_file(const struct plot *plot, enum plot_format format, const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (!dir)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		cli_warn("cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/%s.%s", dir, plot->name, format == PLOT_PNG ? "png" :
		 "svg");
	fd = open_private(path);
	if (fd < 0) {
		cli_warn("cannot write %s: %s", path, strerror(-fd));
		return fd;
	}
	close(fd);
	return plot_render(plot, format, path);
}

/*
 * Draw plot as an SVG image inline, with the number of series in
 * data-series for readers and tests, and the command that gave the data.
 */
static int emit_figure(void *context, const struct plot *plot)
{
	struct report_ctl *ctl = context;
	char path[PATH_MAX];
	unsigned char *svg = NULL;
	size_t size = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/figure.svg", ctl->tmpdir);
	rc = plot_render(plot, PLOT_SVG, path);
	if (rc < 0)
		return rc;
	rc = read_whole(path, &svg, &size);
	unlink(path);
	if (rc < 0) {
		free(svg);
		cli_warn("cannot read the figure gnuplot wrote: %s", strerror(-rc));
		return rc;
	}

	fprintf(ctl->html, "<figure id=\"fig-%s\" data-series=\"%zu\">\n<img alt=\"", plot->name,
		plot->series_count);
	report_put_html(ctl->html, plot->title);
	fputs("\" src=\"data:image/svg+xml;base64,", ctl->html);
	put_base64(ctl->html, svg, size);
	fputs("\">\n<figcaption>", ctl->html);
	report_put_html(ctl->html, plot->title);
	fputs(". Data: <code>", ctl->html);
	report_put_html(ctl->html, plot->command);
	fputs("</code></figcaption>\n</figure>\n", ctl->html);
	free(svg);
	ctl->figure++;

	rc = write_figure_file(plot, PLOT_PNG, ctl->png_dir);
	if (rc == 0)
		rc = write_figure_file(plot, PLOT_SVG, ctl->svg_dir);
	return rc;
}

/* ------------------------------------------------------------- page */

static void put_head(struct report_ctl *ctl)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<title>memprint report</title>\n<style>\n"
	      "body{font-family:'DejaVu Sans',sans-serif;margin:1.5em auto;max-width:1000px;"
	      "color:#202020;background:#fff}\n"
	      "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}\n"
	      "table{border-collapse:collapse;margin:0.8em 0;font-size:0.9em}\n"
	      "th,td{border:1px solid #ccc;padding:0.2em 0.6em}td.n{text-align:right}\n"
	      "th{background:#eef}code{font-size:0.9em}\n"
	      "figure{margin:1em 0}figure img{width:100%;border:1px solid #ddd}\n"
	      "figcaption{font-size:0.85em;color:#444}\n"
	      "</style>\n</head>\n<body>\n<h1>memprint report</h1>\n", ctl->html);
	fputs("<p>Sizes are in MiB of 4 KiB pages; percentages are of frames, the resident "
	      "memory of the set. The terms are those of <code>memprint analyze</code> and "
	      "<code>memprint timeline</code>.</p>\n", ctl->html);
}

static int emit_input(struct report_ctl *ctl, struct report_input *input, size_t index)
{
	fprintf(ctl->html, "<h2 id=\"input-%zu\">", index + 1);
	report_put_html(ctl->html, input->path);
	fputs("</h2>\n", ctl->html);
	if (input->type == INPUT_HASHBENCH)
		return report_hashbench_emit(ctl->html, input, index, emit_figure, ctl);
	return report_series_emit(ctl->html, input, index, ctl->top,
				  emit_figure, ctl);
}

static void put_data_block(struct report_ctl *ctl)
{
	fputs("<script type=\"application/json\" id=\"memprint-data\">\n{\"inputs\":[",
	      ctl->html);
	for (size_t i = 0; i < ctl->input_count; i++) {
		if (i)
			fputc(',', ctl->html);
		report_input_json(ctl->html, &ctl->inputs[i]);
	}
	fputs("]}\n</script>\n", ctl->html);
}

static int write_report(struct report_ctl *ctl)
{
	int rc = 0;

	put_head(ctl);
	for (size_t i = 0; i < ctl->input_count && rc == 0; i++)
		rc = emit_input(ctl, &ctl->inputs[i], i);
	put_data_block(ctl);
	fputs("</body>\n</html>\n", ctl->html);
	return rc;
}

/* ------------------------------------------------------------- main */

static int read_inputs(struct report_ctl *ctl, int argc, char **argv)
{
	ctl->input_count = (size_t)(argc - optind);
	ctl->inputs = calloc(ctl->input_count, sizeof(*ctl->inputs));
	if (!ctl->inputs) {
		cli_warn("out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < ctl->input_count; i++) {
		int rc = report_input_read(&ctl->inputs[i], argv[optind + i], ctl->top);

		if (rc)
			return rc;
	}
	return 0;
}

static int open_output(struct report_ctl *ctl)
{
	int fd;

	snprintf(ctl->tmpdir, sizeof(ctl->tmpdir), "/tmp/memprint-report.XXXXXX");
	if (!mkdtemp(ctl->tmpdir)) {
		cli_warn("cannot create a temporary directory: %s", strerror(errno));
		ctl->tmpdir[0] = '\0';
		return EXIT_RUNTIME;
	}
	fd = open_private(ctl->output);
	if (fd >= 0) {
		ctl->html = fdopen(fd, "w");
		if (!ctl->html) {
			int rc = -errno;

			close(fd);
			fd = rc;
		}
	}
	if (!ctl->html) {
		cli_warn("cannot write %s: %s", ctl->output, strerror(-fd));
		return EXIT_RUNTIME;
	}
	return 0;
}

static int close_output(struct report_ctl *ctl, int status)
{
	if (ctl->html && fclose(ctl->html) != 0 && status == 0) {
		cli_warn("cannot write %s: %s", ctl->output, strerror(errno));
		status = EXIT_RUNTIME;
	}
	if (ctl->tmpdir[0])
		rmdir(ctl->tmpdir);
	for (size_t i = 0; i < ctl->input_count; i++)
		report_input_free(&ctl->inputs[i]);
	free(ctl->inputs);
	return status;
}

int cmd_report(int argc, char **argv)
{
	struct report_ctl ctl = { .top = 10 };
	int status;

	status = parse_args(&ctl, argc, argv);
	if (status)
		return status;
	/* A gnuplot that fails early must not end memprint with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	status = read_inputs(&ctl, argc, argv);
	if (status == 0)
		status = open_output(&ctl);
	if (status == 0 && write_report(&ctl) < 0)
		status = EXIT_RUNTIME;
	return close_output(&ctl, status);
}
