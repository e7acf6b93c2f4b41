// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_plot.c - draw the figures of memprint report with gnuplot
 *
 * Each figure is one gnuplot run: the script and the numbers (an inline
 * data block) go down a pipe, the figure comes back as a file.  gnuplot
 * 5.4's svg terminal gives the figures of the HTML page, pngcairo the PNG
 * files.  Text is drawn with "noenhanced" so that file names and commands
 * keep their underscores and carets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "report_plot.h"

/* Print text as a gnuplot single-quoted string: a quote is doubled. */
static void put_quoted(FILE *gp, const char *text)
{
	fputc('\'', gp);
	for (const char *c = text; *c; c++) {
		if (*c == '\'')
			fputc('\'', gp);
		if (*c != '\n')
			fputc(*c, gp);
	}
	fputc('\'', gp);
}

/* A bar label as one double-quoted data column: quotes become apostrophes. */
static void put_label(FILE *gp, const char *text)
{
	fputc('"', gp);
	for (const char *c = text; *c; c++)
		fputc(*c == '"' || *c == '\n' ? '\'' : *c, gp);
	fputc('"', gp);
}

static void put_setting(FILE *gp, const char *setting, const char *text)
{
	fprintf(gp, "set %s ", setting);
	put_quoted(gp, text);
	fputc('\n', gp);
}

static void put_terminal(FILE *gp, enum plot_format format, const char *path)
{
	if (format == PLOT_SVG)
		fputs("set terminal svg size 960,480 dynamic noenhanced "
		      "font 'DejaVu Sans,12' background '#ffffff'\n", gp);
	else
		fputs("set terminal pngcairo size 1280,640 noenhanced "
		      "font 'DejaVu Sans,12' background '#ffffff'\n", gp);
	put_setting(gp, "output", path);
}

static double max_y(const struct plot *plot)
{
	double max = 0;

	for (size_t i = 0; i < plot->series_count * plot->point_count; i++)
		if (plot->y[i] > max)
			max = plot->y[i];
	return max;
}

static void put_frame(FILE *gp, const struct plot *plot)
{
	put_setting(gp, "title", plot->title);
	put_setting(gp, "xlabel", plot->xlabel);
	put_setting(gp, "ylabel", plot->ylabel);
	fputs("set key outside right top vertical box\n"
	      "set grid ytics\n", gp);
	/* Room for rotated bar labels, the x label and the command under them. */
	fprintf(gp, "set bmargin %d\n", plot->kind == PLOT_BARS ? 12 : 6);
	/* All zero (no KSM, say): a fixed range, as gnuplot warns on an empty one. */
	fputs(max_y(plot) > 0 ? "set yrange [0:*]\n" : "set yrange [0:1]\n", gp);
	/* The command sits under the plot, so a figure cut out of the page keeps it. */
	fputs("set label 1 ", gp);
	put_quoted(gp, plot->command);
	fputs(" at screen 0.01,0.025 left font ',9' textcolor rgb '#505050'\n", gp);
}

static void put_data(FILE *gp, const struct plot *plot)
{
	fputs("$data << EOD\n", gp);
	for (size_t i = 0; i < plot->point_count; i++) {
		if (plot->kind == PLOT_BARS)
			put_label(gp, plot->labels[i]);
		else
			fprintf(gp, "%.9g", plot->x[i]);
		for (size_t s = 0; s < plot->series_count; s++)
			fprintf(gp, " %.9g", plot->y[s * plot->point_count + i]);
		fputc('\n', gp);
	}
	fputs("EOD\n", gp);
}

static void put_lines(FILE *gp, const struct plot *plot)
{
	/*
	 * A fixed x range on a log scale, from 1 to the last point, so that the
	 * axis ends at the last threshold memprint timeline prints (the points
	 * start at 2, so one point alone still gives a range).
	 */
	if (plot->logx)
		fprintf(gp, "set logscale x 2\nset xrange [1:%.9g]\n",
			plot->x[plot->point_count - 1] > 1 ? plot->x[plot->point_count - 1] : 2);
	else
		fputs("set xrange [0:*]\n", gp);
	/* Markers only on short lines, because each marker is an SVG element. */
	for (size_t s = 0; s < plot->series_count; s++) {
		fprintf(gp, "%s $data using 1:%zu with %s title ", s ? "," : "plot", s + 2,
			plot->point_count > 60 ? "lines lw 2" : "linespoints lw 2 pt 7 ps 0.6");
		put_quoted(gp, plot->series[s]);
	}
	fputc('\n', gp);
}

static void put_bars(FILE *gp, const struct plot *plot)
{
	fputs("set style data histograms\n"
	      "set style histogram clustered gap 1\n"
	      "set style fill solid 0.85 border -1\n"
	      "set xtics rotate by -25 scale 0\n", gp);
	for (size_t s = 0; s < plot->series_count; s++) {
		fprintf(gp, "%s $data using %zu%s title ", s ? "," : "plot", s + 2,
			s ? "" : ":xtic(1)");
		put_quoted(gp, plot->series[s]);
	}
	fputc('\n', gp);
}

/* Wait for gnuplot; 127 from the shell means it is not installed. */
static int finish_gnuplot(FILE *gp, const struct plot *plot)
{
	int status = pclose(gp);

	if (status == -1) {
		cli_warn("gnuplot: %s: %s", plot->name, strerror(errno));
		return -errno;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		cli_warn("gnuplot not found: install Debian's gnuplot-nox");
		return -ENOENT;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		cli_warn("gnuplot failed on figure %s", plot->name);
		return -EIO;
	}
	return 0;
}

int plot_render(const struct plot *plot, enum plot_format format, const char *path)
{
	FILE *gp;

	fflush(NULL);
	gp = popen("exec gnuplot", "w");
	if (!gp) {
		cli_warn("cannot start gnuplot: %s", strerror(errno));
		return -errno;
	}
	put_terminal(gp, format, path);
	put_frame(gp, plot);
	put_data(gp, plot);
	if (plot->kind == PLOT_BARS)
		put_bars(gp, plot);
	else
		put_lines(gp, plot);
	return finish_gnuplot(gp, plot);
}
