// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_hashbench.c - the section of memprint report for a hashbench result
 *
 * Reads the JSON that memprint hashbench --json prints (docs/hashbench.md
 * names the keys).  Only that layout is read: an object whose "hashes"
 * array contains flat objects, and a flat "read" object.  Keys are looked up
 * inside each object, so their order and new keys do not matter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report_input.h"

/* The end of the flat object that starts at begin ('{'), or NULL. */
static const char *object_end(const char *begin)
{
	bool quoted = false;

	for (const char *c = begin + 1; *c; c++) {
		if (quoted && *c == '\\' && c[1])
			c++;
		else if (*c == '"')
			quoted = !quoted;
		else if (!quoted && *c == '}')
			return c;
	}
	return NULL;
}

/* The start of the value of key inside [begin, end), or NULL. */
static const char *find_value(const char *begin, const char *end, const char *key)
{
	size_t length = strlen(key);

	for (const char *c = begin; c && c + length + 2 < end; c++) {
		c = memchr(c, '"', (size_t)(end - c));
		if (!c)
			return NULL;
		if (!strncmp(c + 1, key, length) && c[length + 1] == '"') {
			c += length + 2;
			while (c < end && (*c == ' ' || *c == ':' || *c == '\n' || *c == '\t'))
				c++;
			return c < end ? c : NULL;
		}
	}
	return NULL;
}

static double number_of(const char *begin, const char *end, const char *key)
{
	const char *value = find_value(begin, end, key);

	return value ? strtod(value, NULL) : 0;
}

static void string_of(const char *begin, const char *end, const char *key, char *buffer,
		      size_t size)
{
	const char *value = find_value(begin, end, key);
	size_t n = 0;

	if (value && *value == '"')
		for (value++; value < end && *value != '"' && n + 1 < size; value++)
			buffer[n++] = *value;
	buffer[n] = '\0';
}

static int add_hash(struct report_input *input, const char *begin, const char *end)
{
	struct report_hash *hashes = realloc(input->hashes,
					     (input->hash_count + 1) * sizeof(*hashes));
	struct report_hash *h;

	if (!hashes)
		return -ENOMEM;
	input->hashes = hashes;
	h = &hashes[input->hash_count++];
	string_of(begin, end, "hash", h->name, sizeof(h->name));
	h->digest_bits = number_of(begin, end, "digest_bits");
	h->gb_per_s = number_of(begin, end, "gb_per_s");
	h->vs_read = number_of(begin, end, "vs_read");
	h->digests = number_of(begin, end, "digests");
	h->false_positive_groups = number_of(begin, end, "false_positive_groups");
	h->false_positive_pages = number_of(begin, end, "false_positive_pages");
	h->duplicate_overcount = number_of(begin, end, "duplicate_overcount");
	return 0;
}

static int parse_hashes(struct report_input *input, const char *json)
{
	const char *end = json + strlen(json);
	const char *c = find_value(json, end, "hashes");
	const char *read = find_value(json, end, "read");

	if (!c || *c != '[' || !read || *read != '{' || !object_end(read))
		return -EBADMSG;
	input->read_gb_per_s = number_of(read, object_end(read), "gb_per_s");
	for (c++; *c && *c != ']'; c++) {
		const char *close;

		if (*c != '{')
			continue;
		close = object_end(c);
		if (!close || add_hash(input, c, close) < 0)
			return -EBADMSG;
		c = close;
	}
	if (!input->hash_count)
		return -EBADMSG;

	/* The verdict's keys follow the hashes; a result without them has no verdict. */
	string_of(c, end, "recommended", input->recommended, sizeof(input->recommended));
	input->tie_percent = number_of(c, end, "tie_percent");
	string_of(c, end, "fastest_32bit_exact", input->fastest_narrow,
		  sizeof(input->fastest_narrow));
	input->birthday_collisions = number_of(c, end, "birthday_collisions_32bit");

	/* The top-level keys come before "read", outside every nested object. */
	string_of(json, read, "source", input->source, sizeof(input->source));
	input->pages = number_of(json, read, "pages");
	input->contents = number_of(json, read, "contents");
	input->duplicate_pages = number_of(json, read, "duplicate_pages");
	return 0;
}

int report_hashbench_read(struct report_input *input)
{
	FILE *in = fopen(input->path, "r");
	size_t size = 0, capacity = 0, n;
	char *json = NULL;

	if (!in) {
		cli_warn("cannot open %s: %s", input->path, strerror(errno));
		return EXIT_RUNTIME;
	}
	do {
		if (size + 4096 + 1 > capacity) {
			char *bigger = realloc(json, capacity = capacity * 2 + 8192);

			if (!bigger) {
				free(json);
				fclose(in);
				cli_warn("out of memory");
				return EXIT_RUNTIME;
			}
			json = bigger;
		}
		n = fread(json + size, 1, 4096, in);
		size += n;
	} while (n > 0);
	fclose(in);
	json[size] = '\0';
	input->json = json;
	if (parse_hashes(input, json) < 0) {
		cli_warn("%s: not a memprint hashbench --json result", input->path);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* The verdict of memprint hashbench, as its table prints it. */
static void put_verdict(FILE *html, const struct report_input *input)
{
	if (input->recommended[0]) {
		fputs("<p>Recommended: <strong>", html);
		report_put_html(html, input->recommended);
		fprintf(html, "</strong>, the fastest hash of at least 64 bits without false "
			"positives (gaps under %.0f %% are a tie, won by the wider digest).</p>\n",
			input->tie_percent);
	}
	if (input->fastest_narrow[0]) {
		fputs("<p>Fastest of the run: ", html);
		report_put_html(html, input->fastest_narrow);
		fprintf(html, ", without false positives here, but a 32-bit digest is expected "
			"to collide n<sup>2</sup>/2<sup>33</sup> = %.3g times among the %.0f "
			"distinct contents of this run, and 4 times as often at twice the "
			"memory.</p>\n", input->birthday_collisions, input->contents);
	}
}

static void put_table(FILE *html, const struct report_input *input)
{
	fputs("<p>Hash study of ", html);
	report_put_html(html, input->source);
	fprintf(html, ": %.0f pages, %.0f contents, %.0f duplicate pages; reading the pages "
		"alone runs at %.3f GB/s.</p>\n", input->pages, input->contents,
		input->duplicate_pages, input->read_gb_per_s);
	fputs("<table><tr><th>hash</th><th>digest bits</th><th>GB/s</th><th>vs read</th>"
	      "<th>digests</th><th>false-positive groups</th><th>false-positive pages</th>"
	      "<th>duplicate overcount</th></tr>\n", html);
	for (size_t i = 0; i < input->hash_count; i++) {
		const struct report_hash *h = &input->hashes[i];

		fputs("<tr><td>", html);
		report_put_html(html, h->name);
		fprintf(html, "</td><td class=\"n\">%.0f</td><td class=\"n\">%.3f</td>"
			"<td class=\"n\">%.4f</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
			"<td class=\"n\">%.0f</td><td class=\"n\">%.0f</td></tr>\n",
			h->digest_bits, h->gb_per_s, h->vs_read, h->digests,
			h->false_positive_groups, h->false_positive_pages, h->duplicate_overcount);
	}
	fputs("</table>\n", html);
	put_verdict(html, input);
}

static const char *const throughput_series[] = { "throughput" };

int report_hashbench_emit(FILE *html, const struct report_input *input, size_t index,
			  report_figure_fn figure, void *context)
{
	size_t count = input->hash_count + 1;
	const char **labels = calloc(count, sizeof(*labels));
	double *y = calloc(count, sizeof(*y));
	char name[64], command[4200];
	struct plot plot = {
		.name = name, .title = "Page hash throughput", .xlabel = "hash",
		.ylabel = "throughput (GB/s)", .command = command, .kind = PLOT_BARS,
		.series_count = 1, .series = throughput_series, .point_count = count,
		.labels = labels, .y = y,
	};
	int rc = -ENOMEM;

	put_table(html, input);
	snprintf(name, sizeof(name), "%zu-hash-throughput", index + 1);
	snprintf(command, sizeof(command), "memprint hashbench --json (source %s), %s",
		 input->source, input->path);
	if (labels && y) {
		labels[0] = "read (baseline)";
		y[0] = input->read_gb_per_s;
		for (size_t i = 0; i < input->hash_count; i++) {
			labels[i + 1] = input->hashes[i].name;
			y[i + 1] = input->hashes[i].gb_per_s;
		}
		rc = figure(context, &plot);
	}
	free(labels);
	free(y);
	return rc;
}

void report_hashbench_json(FILE *out, const struct report_input *input)
{
	fputs("{\"type\":\"hashbench\",\"file\":", out);
	report_put_json_string(out, input->path);
	fprintf(out, ",\"read_gb_per_s\":%.3f,\"hashes\":[", input->read_gb_per_s);
	for (size_t i = 0; i < input->hash_count; i++) {
		fprintf(out, "%s{\"hash\":", i ? "," : "");
		report_put_json_string(out, input->hashes[i].name);
		fprintf(out, ",\"gb_per_s\":%.3f}", input->hashes[i].gb_per_s);
	}
	fputs("]}", out);
}
