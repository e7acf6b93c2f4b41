// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_hashbench.c - memprint hashbench: throughput and false positives of
 * every page hash on the pages of a memory image or of live processes
 *
 * The pages are read once into a buffer of at most --max-memory bytes;
 * beyond it reading stops with a warning.  Then the engine in
 * lib/hashbench/ times each algorithm (best of --repeat passes, after a
 * warm-up) beside a plain read of the same buffer, and counts its false
 * positives against a byte-by-byte comparison of the pages.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libsmartcols/libsmartcols.h>

#include "options.h"

#define DEFAULT_MAX_MEMORY (4ull << 30)
#define DEFAULT_REPEAT 5
#define IMAGE_BATCH 256			/* pages per image read: 1 MiB */

enum output_mode { OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_CSV };

/* The pages read, in a buffer reserved at --max-memory and filled in order. */
struct page_buffer {
	uint8_t *pages;
	size_t count;
	size_t capacity;		/* pages */
	uint64_t pages_offered;		/* pages the source had, read or not */
};

struct hashbench_ctl {
	enum mp_hash_id hashes[MP_HASH_COUNT];
	size_t hash_count;
	unsigned repeat;
	uint64_t max_memory;		/* bytes */
	enum output_mode output;
	bool bytes;
	struct cli_targets targets;
	const char *image;
	enum mp_image_format image_format;
	struct page_buffer buffer;
	bool truncated;			/* reading stopped at --max-memory */
	char source[4200];		/* what was read, for the header */
};

static void print_help(void)
{
	fputs("Usage:\n"
	      " memprint hashbench [options] TARGETS\n"
	      " memprint hashbench [options] --image FILE\n\n"
	      "Measure every page hash on real memory: single-core throughput beside a\n"
	      "plain memory read of the same pages, and false positives (pages with\n"
	      "equal digests but different content, confirmed byte by byte).\n\n", stdout);
	cli_targets_help(stdout);
	fputs("\nOr a memory image:\n"
	      "  -i, --image FILE      a raw guest-RAM file or a QEMU dump-guest-memory\n"
	      "                        ELF core\n"
	      "      --image-format FMT  auto (default), raw or elf\n\n"
	      "Options:\n"
	      "  -H, --hash LIST       comma-separated algorithms, or all (default)\n"
	      "  -r, --repeat N        timed rounds, best pass kept (default 5)\n"
	      "  -m, --max-memory SIZE  read at most SIZE bytes of pages (default 4GiB);\n"
	      "                        suffixes K, M, G, T (KiB...) or KB, MB, GB, TB\n"
	      "  -J, --json            JSON output\n"
	      "      --csv             CSV output\n"
	      "  -b, --bytes           print sizes in bytes\n"
	      "  -h, --help            display this help\n\n"
	      "Algorithms: pattern superfast crc32 crc32ex crc32c md5 sha1 sha256 xxh64\n"
	      "            xxh3 xxh128\n\n"
	      "Exit status: 0 success, 1 usage error, 2 runtime failure.\n"
	      "See memprint-hashbench(1) for the counts reported.\n",
	      stdout);
}

/* ------------------------------------------------------------- options */

static int parse_hash_list(struct hashbench_ctl *ctl, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	ctl->hash_count = 0;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		enum mp_hash_id id = mp_hash_lookup(name);

		if (!strcmp(name, "all")) {
			ctl->hash_count = 0;
			for (int i = MP_HASH_NONE + 1; i < MP_HASH_COUNT; i++)
				ctl->hashes[ctl->hash_count++] = (enum mp_hash_id)i;
			break;
		}
		if (id == MP_HASH_NONE) {
			rc = cli_usage_error("hashbench", "invalid --hash: unknown algorithm '%s'",
					     name);
			break;
		}
		for (size_t i = 0; i < ctl->hash_count && id != MP_HASH_NONE; i++) {
			if (ctl->hashes[i] == id)
				id = MP_HASH_NONE;
		}
		if (id != MP_HASH_NONE)
			ctl->hashes[ctl->hash_count++] = id;
	}
	if (rc == 0 && ctl->hash_count == 0)
		rc = cli_usage_error("hashbench", "invalid --hash: empty list");
	free(copy);
	return rc;
}

/* Parse "4G", "512MiB", "1GB" or a plain byte count, as util-linux does. */
static int parse_size(const char *text, uint64_t *size)
{
	static const char units[] = "KMGTPE";
	uint64_t value, base = 1024, multiple = 1;
	const char *unit;
	char *end;

	errno = 0;
	if (*text < '0' || *text > '9')
		return -EINVAL;
	value = strtoull(text, &end, 10);
	if (errno)
		return -errno;
	if (*end) {
		unit = strchr(units, end[0] & ~0x20);
		if (!unit)
			return -EINVAL;
		if (!strcmp(end + 1, "B"))
			base = 1000;
		else if (end[1] && strcmp(end + 1, "iB"))
			return -EINVAL;
		for (const char *u = units; u <= unit; u++)
			multiple *= base;
	}
	if (value > UINT64_MAX / multiple)
		return -ERANGE;
	*size = value * multiple;
	return 0;
}

static int parse_repeat(struct hashbench_ctl *ctl, const char *text)
{
	unsigned long value;

	if (cli_parse_count(text, 1, 1000, "--repeat", "hashbench", &value) < 0)
		return EXIT_USAGE;
	ctl->repeat = (unsigned)value;
	return 0;
}

/* Check that exactly one input was given: targets or an image. */
static int check_input(struct hashbench_ctl *ctl)
{
	bool targets = ctl->targets.pid_count || ctl->targets.all || ctl->targets.comm ||
		       ctl->targets.cgroup;

	if (targets && ctl->image)
		return cli_usage_error("hashbench", "give targets or --image, not both");
	if (!targets && !ctl->image)
		return cli_usage_error("hashbench", "no input: give --pid, --all, --comm, "
				       "--cgroup or --image FILE");
	return 0;
}

static int parse_args(struct hashbench_ctl *ctl, int argc, char **argv)
{
	enum { OPT_CSV = CLI_OPT_SHARED_END, OPT_IMAGE_FORMAT };
	static const struct option options[] = {
		CLI_TARGET_LONG_OPTIONS,
		{ "image", required_argument, NULL, 'i' },
		{ "image-format", required_argument, NULL, OPT_IMAGE_FORMAT },
		{ "hash", required_argument, NULL, 'H' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'J' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc, format;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" CLI_TARGET_SHORT_OPTIONS "i:H:r:m:Jbh", options,
				NULL)) != -1) {
		rc = cli_targets_option(&ctl->targets, c, optarg, "hashbench");
		if (rc < 0)
			return EXIT_USAGE;
		if (rc > 0)
			continue;
		switch (c) {
		case 'i':
			ctl->image = optarg;
			break;
		case OPT_IMAGE_FORMAT:
			format = mp_image_format_lookup(optarg);
			if (format < 0)
				return cli_usage_error("hashbench", "invalid --image-format '%s': "
						       "expected auto, raw or elf", optarg);
			ctl->image_format = (enum mp_image_format)format;
			break;
		case 'H':
			rc = parse_hash_list(ctl, optarg);
			break;
		case 'r':
			rc = parse_repeat(ctl, optarg);
			break;
		case 'm':
			if (parse_size(optarg, &ctl->max_memory) < 0 ||
			    ctl->max_memory < MP_PAGE_SIZE)
				return cli_usage_error("hashbench", "invalid --max-memory '%s': "
						       "expected a size of at least 4KiB", optarg);
			break;
		case 'J':
			if (ctl->output == OUTPUT_CSV)
				return cli_usage_error("hashbench", "--json and --csv exclude each other");
			ctl->output = OUTPUT_JSON;
			break;
		case OPT_CSV:
			if (ctl->output == OUTPUT_JSON)
				return cli_usage_error("hashbench", "--json and --csv exclude each other");
			ctl->output = OUTPUT_CSV;
			break;
		case 'b':
			ctl->bytes = true;
			break;
		case 'h':
			print_help();
			exit(0);
		default:
			return cli_getopt_error("hashbench", c, argv);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("hashbench", "unexpected argument '%s'", argv[optind]);
	return check_input(ctl);
}

/* ------------------------------------------------------------- reading */

/*
 * Reserve the whole --max-memory as address space: only the pages written
 * take memory, so a small input costs little.
 */
static int reserve_buffer(struct hashbench_ctl *ctl)
{
	struct page_buffer *buffer = &ctl->buffer;
	size_t bytes = (size_t)(ctl->max_memory / MP_PAGE_SIZE * MP_PAGE_SIZE);

	buffer->pages = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buffer->pages == MAP_FAILED) {
		buffer->pages = NULL;
		cli_warn("cannot reserve the page buffer: %" PRIu64 " bytes (--max-memory): %s",
			 ctl->max_memory, strerror(errno));
		return EXIT_RUNTIME;
	}
	buffer->capacity = bytes / MP_PAGE_SIZE;
	return 0;
}

static int read_image(struct hashbench_ctl *ctl)
{
	struct page_buffer *buffer = &ctl->buffer;
	struct mp_error error = { 0 };
	struct mp_image_info info;
	struct mp_image *image;
	ssize_t n = 0;
	int rc;

	rc = mp_image_open(&image, ctl->image, ctl->image_format, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	mp_image_get_info(image, &info);
	buffer->pages_offered = info.pages;

	while (buffer->count < buffer->capacity) {
		size_t want = buffer->capacity - buffer->count;

		if (want > IMAGE_BATCH)
			want = IMAGE_BATCH;
		n = mp_image_read(image, buffer->pages + buffer->count * MP_PAGE_SIZE, want,
				  NULL, &error);
		if (n <= 0)
			break;
		buffer->count += (size_t)n;
	}
	mp_image_close(image);
	if (n < 0)
		return cli_report_error(&error, (int)n);

	snprintf(ctl->source, sizeof(ctl->source), "%s image %s",
		 mp_image_format_name(info.format), ctl->image);
	ctl->truncated = buffer->pages_offered > buffer->count;
	if (info.partial_bytes)
		cli_warn("%s: %" PRIu64 " bytes of partial pages at segment ends were not read",
			 ctl->image, info.partial_bytes);
	return 0;
}

/* Frames already read, by PFN + 1 (0 marks a free slot): open addressing. */
struct pfn_set {
	uint64_t *slots;
	size_t mask;
	size_t used;
};

/* Add pfn; returns 1 if it was new, 0 if it was there, -ENOMEM. */
static int pfn_set_add(struct pfn_set *set, uint64_t pfn)
{
	size_t i;

	if ((set->used + 1) * 2 > set->mask + 1 || !set->slots) {
		size_t size = set->slots ? (set->mask + 1) * 2 : 1u << 16;
		struct pfn_set grown = { calloc(size, sizeof(uint64_t)), size - 1, 0 };

		if (!grown.slots)
			return -ENOMEM;
		for (i = 0; set->slots && i <= set->mask; i++) {
			if (set->slots[i])
				pfn_set_add(&grown, set->slots[i] - 1);
		}
		free(set->slots);
		*set = grown;
	}
	for (i = (size_t)(pfn * 0x9e3779b97f4a7c15ull >> 20) & set->mask; set->slots[i];
	     i = (i + 1) & set->mask) {
		if (set->slots[i] == pfn + 1)
			return 0;
	}
	set->slots[i] = pfn + 1;
	set->used++;
	return 1;
}

/* State of the content hook that copies live pages into the buffer. */
struct live_read {
	struct page_buffer *buffer;
	struct pfn_set frames;
	bool full;			/* stopped at --max-memory */
};

/*
 * Copy each page the scan read into the buffer: with PFNs, each frame once
 * and never the kernel zero page, which is no frame of the set.
 */
static int copy_live_pages(void *ctx, const struct mp_page *pages, const void *data,
			   size_t count)
{
	struct live_read *live = ctx;
	struct page_buffer *buffer = live->buffer;

	for (size_t i = 0; i < count; i++) {
		const struct mp_page *page = &pages[i];

		if (page->flags & MP_PAGE_PFN_VALID) {
			int rc;

			if (page->kpageflags & (1ull << MP_KPF_ZERO_PAGE))
				continue;
			rc = pfn_set_add(&live->frames, page->pfn);
			if (rc <= 0)
				return rc;
		}
		if (buffer->count == buffer->capacity) {
			live->full = true;
			return -ENOBUFS;
		}
		memcpy(buffer->pages + buffer->count * MP_PAGE_SIZE,
		       (const uint8_t *)data + i * MP_PAGE_SIZE, MP_PAGE_SIZE);
		buffer->count++;
		buffer->pages_offered++;
	}
	return 0;
}

static int resolve_pids(struct hashbench_ctl *ctl, pid_t **pids, size_t *count)
{
	pid_t self = getpid();
	size_t kept = 0;
	int rc;

	rc = cli_resolve_targets(&ctl->targets, NULL, pids, count);
	if (rc)
		return rc;
	/* Our own buffer contains copies of the other pages: leave it out. */
	for (size_t i = 0; i < *count; i++) {
		if ((*pids)[i] != self)
			(*pids)[kept++] = (*pids)[i];
	}
	*count = kept;
	if (kept == 0) {
		free(*pids);
		cli_warn("no process to read: hashbench does not read itself");
		return EXIT_RUNTIME;
	}
	return 0;
}

static int read_live(struct hashbench_ctl *ctl)
{
	static const struct mp_sink_ops no_records;
	struct live_read live = { .buffer = &ctl->buffer };
	struct mp_scan_options options = {
		.hash = MP_HASH_DEFAULT,
		.page_data = copy_live_pages,
		.page_data_ctx = &live,
	};
	struct mp_error error = { 0 };
	struct mp_sink sink = { &no_records, NULL, &error };
	size_t count;
	pid_t *pids;
	int rc;

	rc = resolve_pids(ctl, &pids, &count);
	if (rc)
		return rc;
	cli_scan_callbacks(&options);
	rc = mp_procfs_scan(pids, count, &options, &sink, &error);
	cli_progress_done();
	free(pids);
	free(live.frames.slots);
	if (rc < 0 && !live.full)
		return cli_report_error(&error, rc);

	snprintf(ctl->source, sizeof(ctl->source), "%zu process%s, %s", count,
		 count == 1 ? "" : "es",
		 live.frames.used ? "each frame once" : "every mapping (PFNs hidden)");
	ctl->truncated = live.full;
	return 0;
}

/* ------------------------------------------------------------- output */

static void format_size(const struct hashbench_ctl *ctl, uint64_t bytes, char *text,
			size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double value = (double)bytes;
	size_t unit = 0;

	if (ctl->bytes) {
		snprintf(text, size, "%" PRIu64, bytes);
		return;
	}
	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(text, size, "%" PRIu64 " B", bytes);
	else
		snprintf(text, size, "%.1f %s", value, units[unit]);
}

static bool exact(const struct mp_hashbench_result *r)
{
	return !r->false_positive_pages && !r->false_positive_groups;
}

static size_t digest_bits(const struct mp_hashbench_result *r)
{
	return mp_hash_digest_size(r->hash) * 8;
}

/* The fastest measured algorithm without false-positive pages, or NULL. */
static const struct mp_hashbench_result *fastest_exact(const struct mp_hashbench_result *results,
						       size_t count)
{
	const struct mp_hashbench_result *best = NULL;

	for (size_t i = 0; i < count; i++) {
		if (!exact(&results[i]))
			continue;
		if (!best || results[i].bytes_per_second > best->bytes_per_second)
			best = &results[i];
	}
	return best;
}

/*
 * Throughputs closer than this are a tie: on a shared machine the best of
 * a few passes still varies by some percent from run to run.
 */
#define TIE_PERCENT 3.0
#define RECOMMEND_MIN_BITS 64

/*
 * Whether a hash may be recommended: no false positive in this run and a
 * digest of at least 64 bits, because a 32-bit one collides at the
 * birthday rate however clean one run was.  CRCs are left out because
 * they are linear: pages of one structure collide whatever the width (a
 * block that ends in its own CRC, as xz blocks do, made crc32ex collide
 * on real memory).  pattern is left out because it samples a few bytes.
 */
static bool recommendable(const struct mp_hashbench_result *r)
{
	switch (r->hash) {
	case MP_HASH_PATTERN:
	case MP_HASH_CRC32:
	case MP_HASH_CRC32C:
	case MP_HASH_CRC32EX:
		return false;
	default:
		return exact(r) && digest_bits(r) >= RECOMMEND_MIN_BITS;
	}
}

/*
 * Pick the hash to recommend: of the recommendable ones, the fastest.  A
 * tie (within TIE_PERCENT) goes to the default hash, so that the verdict
 * does not flip from run to run on noise, and otherwise to the widest
 * digest, then the fastest.  Returns NULL when no hash qualifies.
 */
static const struct mp_hashbench_result *
fastest_recommendable(const struct mp_hashbench_result *results, size_t count)
{
	const struct mp_hashbench_result *fastest = NULL;

	for (size_t i = 0; i < count; i++) {
		const struct mp_hashbench_result *r = &results[i];

		if (recommendable(r) && (!fastest || r->bytes_per_second > fastest->bytes_per_second))
			fastest = r;
	}
	return fastest;
}

static const struct mp_hashbench_result *recommend(const struct mp_hashbench_result *results,
						   size_t count)
{
	const struct mp_hashbench_result *fastest = fastest_recommendable(results, count);
	const struct mp_hashbench_result *best = NULL;

	for (size_t i = 0; fastest && i < count; i++) {
		const struct mp_hashbench_result *r = &results[i];

		if (!recommendable(r) ||
		    r->bytes_per_second < fastest->bytes_per_second * (1 - TIE_PERCENT / 100))
			continue;
		if (r->hash == MP_HASH_DEFAULT)
			return r;	/* a tie goes to the default, so runs agree */
		if (!best || digest_bits(r) > digest_bits(best) ||
		    (digest_bits(r) == digest_bits(best) &&
		     r->bytes_per_second > best->bytes_per_second))
			best = r;
	}
	return best;
}

/* The fastest hash of the run, when it has a 32-bit digest and no false positive. */
static const struct mp_hashbench_result *fastest_narrow(const struct mp_hashbench_result *results,
							size_t count)
{
	const struct mp_hashbench_result *fastest = NULL;

	for (size_t i = 0; i < count; i++) {
		if (!fastest || results[i].bytes_per_second > fastest->bytes_per_second)
			fastest = &results[i];
	}
	if (fastest && exact(fastest) && digest_bits(fastest) <= 32)
		return fastest;
	return NULL;
}

/* Expected collisions of a 32-bit digest among n distinct contents: n^2 / 2^33. */
static double birthday_collisions(uint64_t contents)
{
	return (double)contents * (double)contents / 8589934592.0;
}

static void print_verdict(const struct mp_hashbench_summary *s,
			  const struct mp_hashbench_result *results, size_t count)
{
	const struct mp_hashbench_result *best = recommend(results, count);
	const struct mp_hashbench_result *top = fastest_recommendable(results, count);
	const struct mp_hashbench_result *narrow = fastest_narrow(results, count);

	if (best && top && top != best)
		printf("\nRecommended: %s (%.2f GB/s, %zu-bit digest, no false positive): "
		       "within %.0f %% of %s (%.2f GB/s), a tie, %s\n",
		       mp_hash_name(best->hash), best->bytes_per_second / 1e9, digest_bits(best),
		       TIE_PERCENT, mp_hash_name(top->hash), top->bytes_per_second / 1e9,
		       best->hash == MP_HASH_DEFAULT ? "and the default hash" :
						       "with a wider digest");
	else if (best)
		printf("\nRecommended: %s (%.2f GB/s, %zu-bit digest): the fastest hash of at "
		       "least %d bits, not a CRC, without false positives\n",
		       mp_hash_name(best->hash), best->bytes_per_second / 1e9, digest_bits(best),
		       RECOMMEND_MIN_BITS);
	else
		printf("\nNo hash of at least %d bits, not a CRC, without false positives was "
		       "measured.\n", RECOMMEND_MIN_BITS);
	if (!narrow)
		return;
	printf("Fastest of the run: %s (%.2f GB/s), without false positives here, but a "
	       "32-bit digest\nis expected to collide n^2/2^33 = %.3g times among the "
	       "%" PRIu64 " distinct contents\nof this run, and 4 times as often at twice the "
	       "memory", mp_hash_name(narrow->hash), narrow->bytes_per_second / 1e9,
	       birthday_collisions(s->contents), s->contents);
	for (size_t i = 0; i < count; i++) {
		if (!exact(&results[i]) && digest_bits(&results[i]) <= 32) {
			printf(" (%s, also 32-bit, collided in this run)",
			       mp_hash_name(results[i].hash));
			break;
		}
	}
	printf(".\n");
}

static void add_cell(struct libscols_line *line, size_t column, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void add_cell(struct libscols_line *line, size_t column, const char *format, ...)
{
	char text[64];
	va_list args;

	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	scols_line_set_data(line, column, text);
}

static const char *const table_columns[] = {
	"HASH", "BITS", "GB/S", "PAGES/S", "VS-READ", "DIGESTS", "FP-GROUPS", "FP-PAGES",
	"FP-ZERO", "OVERCOUNT", "SHA256-FP-GROUPS", "SHA256-FP-PAGES",
};

static void add_result_line(struct libscols_table *table, const struct mp_hashbench_result *r,
			    const struct mp_hashbench_result *read)
{
	struct libscols_line *line = scols_table_new_line(table, NULL);

	if (!line)
		return;
	if (r->hash == MP_HASH_NONE) {
		scols_line_set_data(line, 0, "read");
		scols_line_set_data(line, 1, "-");
	} else {
		scols_line_set_data(line, 0, mp_hash_name(r->hash));
		add_cell(line, 1, "%zu", mp_hash_digest_size(r->hash) * 8);
	}
	add_cell(line, 2, "%.2f", r->bytes_per_second / 1e9);
	add_cell(line, 3, "%.0f", r->pages_per_second);
	add_cell(line, 4, "%.2f", r->bytes_per_second / read->bytes_per_second);
	if (r->hash == MP_HASH_NONE)
		return;
	add_cell(line, 5, "%" PRIu64, r->digests);
	add_cell(line, 6, "%" PRIu64, r->false_positive_groups);
	add_cell(line, 7, "%" PRIu64, r->false_positive_pages);
	add_cell(line, 8, "%" PRIu64, r->false_positive_zero);
	add_cell(line, 9, "%" PRIu64, r->duplicate_overcount);
	add_cell(line, 10, "%" PRIu64, r->sha256_groups);
	add_cell(line, 11, "%" PRIu64, r->sha256_pages);
}

static void print_table(const struct hashbench_ctl *ctl, const struct mp_hashbench_summary *s,
			const struct mp_hashbench_result *read,
			const struct mp_hashbench_result *results)
{
	struct libscols_table *table = scols_new_table();
	char size[32];

	format_size(ctl, s->pages * MP_PAGE_SIZE, size, sizeof(size));
	printf("Source:    %s\n", ctl->source);
	printf("Pages:     %" PRIu64 " (%s), %" PRIu64 " zero-filled, %" PRIu64
	       " distinct contents, %" PRIu64 " duplicate pages\n",
	       s->pages, size, s->zero_filled_pages, s->contents, s->duplicate_pages);
	printf("Timing:    one core, best of %u round%s after a warm-up round, each round one\n"
	       "           pass of every algorithm in turn\n\n", ctl->repeat,
	       ctl->repeat == 1 ? "" : "s");
	if (!table)
		return;
	for (size_t i = 0; i < sizeof(table_columns) / sizeof(table_columns[0]); i++)
		scols_table_new_column(table, table_columns[i], 0, i ? SCOLS_FL_RIGHT : 0);
	add_result_line(table, read, read);
	for (size_t i = 0; i < ctl->hash_count; i++)
		add_result_line(table, &results[i], read);
	scols_print_table(table);
	scols_unref_table(table);

	print_verdict(s, results, ctl->hash_count);
	if (s->reference_collisions)
		printf("Note: %" PRIu64 " sha256 digests are shared by different contents.\n",
		       s->reference_collisions);
}

static void print_json_string(const char *text)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	}
	putchar('"');
}

static void print_json_speed(const struct mp_hashbench_result *r,
			     const struct mp_hashbench_result *read)
{
	printf("\"seconds\": %.9f, \"gb_per_s\": %.3f, \"pages_per_s\": %.0f, \"vs_read\": %.4f",
	       r->best_seconds, r->bytes_per_second / 1e9, r->pages_per_second,
	       r->bytes_per_second / read->bytes_per_second);
}

static void print_json_result(const struct mp_hashbench_result *r,
			      const struct mp_hashbench_result *read, bool last)
{
	printf("    {\"hash\": \"%s\", \"digest_bits\": %zu, ", mp_hash_name(r->hash),
	       mp_hash_digest_size(r->hash) * 8);
	print_json_speed(r, read);
	printf(", \"digests\": %" PRIu64 ", \"false_positive_groups\": %" PRIu64
	       ", \"false_positive_pages\": %" PRIu64 ", \"false_positive_zero\": %" PRIu64
	       ", \"duplicate_overcount\": %" PRIu64 ", \"sha256_false_positive_groups\": %" PRIu64
	       ", \"sha256_false_positive_pages\": %" PRIu64 "}%s\n",
	       r->digests, r->false_positive_groups, r->false_positive_pages,
	       r->false_positive_zero, r->duplicate_overcount, r->sha256_groups, r->sha256_pages,
	       last ? "" : ",");
}

/* A member whose value is the name of a hash, or null. */
static void print_json_name(const char *key, const struct mp_hashbench_result *r)
{
	if (r)
		printf("  \"%s\": \"%s\",\n", key, mp_hash_name(r->hash));
	else
		printf("  \"%s\": null,\n", key);
}

static void print_json(const struct hashbench_ctl *ctl, const struct mp_hashbench_summary *s,
		       const struct mp_hashbench_result *read,
		       const struct mp_hashbench_result *results)
{
	const struct mp_hashbench_result *best = fastest_exact(results, ctl->hash_count);
	const struct mp_hashbench_result *narrow = fastest_narrow(results, ctl->hash_count);

	printf("{\n  \"source\": ");
	print_json_string(ctl->source);
	printf(",\n  \"pages\": %" PRIu64 ",\n  \"pages_offered\": %" PRIu64
	       ",\n  \"truncated\": %s,\n  \"max_memory\": %" PRIu64
	       ",\n  \"zero_filled_pages\": %" PRIu64 ",\n  \"contents\": %" PRIu64
	       ",\n  \"duplicate_pages\": %" PRIu64 ",\n  \"reference_collisions\": %" PRIu64
	       ",\n  \"repeat\": %u,\n  \"read\": {",
	       s->pages, ctl->buffer.pages_offered,
	       ctl->truncated ? "true" : "false", ctl->max_memory,
	       s->zero_filled_pages, s->contents, s->duplicate_pages, s->reference_collisions,
	       ctl->repeat);
	print_json_speed(read, read);
	printf("},\n  \"hashes\": [\n");
	for (size_t i = 0; i < ctl->hash_count; i++)
		print_json_result(&results[i], read, i + 1 == ctl->hash_count);
	printf("  ],\n");
	print_json_name("fastest_exact", best);
	print_json_name("recommended", recommend(results, ctl->hash_count));
	printf("  \"tie_percent\": %.0f,\n", TIE_PERCENT);
	print_json_name("fastest_32bit_exact", narrow);
	printf("  \"birthday_collisions_32bit\": %.6g\n}\n", birthday_collisions(s->contents));
}

static void print_csv(const struct hashbench_ctl *ctl, const struct mp_hashbench_result *read,
		      const struct mp_hashbench_result *results)
{
	printf("hash,digest_bits,seconds,gb_per_s,pages_per_s,vs_read,digests,"
	       "false_positive_groups,false_positive_pages,false_positive_zero,"
	       "duplicate_overcount,sha256_false_positive_groups,sha256_false_positive_pages\n");
	printf("read,,%.9f,%.3f,%.0f,1.0000,,,,,,,\n", read->best_seconds,
	       read->bytes_per_second / 1e9, read->pages_per_second);
	for (size_t i = 0; i < ctl->hash_count; i++) {
		const struct mp_hashbench_result *r = &results[i];

		printf("%s,%zu,%.9f,%.3f,%.0f,%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		       ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		       mp_hash_name(r->hash), mp_hash_digest_size(r->hash) * 8, r->best_seconds,
		       r->bytes_per_second / 1e9, r->pages_per_second,
		       r->bytes_per_second / read->bytes_per_second, r->digests,
		       r->false_positive_groups, r->false_positive_pages, r->false_positive_zero,
		       r->duplicate_overcount, r->sha256_groups, r->sha256_pages);
	}
}

/* ------------------------------------------------------------- measuring */

static int measure(struct hashbench_ctl *ctl, struct mp_hashbench_summary *summary,
		   struct mp_hashbench_result *read, struct mp_hashbench_result *results)
{
	bool progress = isatty(STDERR_FILENO);
	struct mp_error error = { 0 };
	struct mp_hashbench *bench;
	int rc;

	if (progress)
		fprintf(stderr, "memprint: comparing %zu pages byte by byte\n", ctl->buffer.count);
	rc = mp_hashbench_open(&bench, ctl->buffer.pages, ctl->buffer.count, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	mp_hashbench_get_summary(bench, summary);

	if (progress)
		fprintf(stderr, "memprint: timing %zu algorithms in %u rounds\n", ctl->hash_count,
			ctl->repeat + 1);
	rc = mp_hashbench_time(bench, ctl->hashes, ctl->hash_count, ctl->repeat, read, results,
			       &error);
	for (size_t i = 0; rc == 0 && i < ctl->hash_count; i++) {
		if (progress)
			fprintf(stderr, "memprint: counting false positives of %s (%zu of %zu)\n",
				mp_hash_name(ctl->hashes[i]), i + 1, ctl->hash_count);
		rc = mp_hashbench_count(bench, ctl->hashes[i], &results[i], &error);
	}
	mp_hashbench_close(bench);
	if (rc < 0)
		return cli_report_error(&error, rc);
	return 0;
}

static int read_input(struct hashbench_ctl *ctl)
{
	char size[32];
	int rc;

	rc = reserve_buffer(ctl);
	if (rc)
		return rc;
	rc = ctl->image ? read_image(ctl) : read_live(ctl);
	if (rc)
		return rc;

	if (ctl->buffer.count == 0) {
		cli_warn("no pages read from %s", ctl->source);
		return EXIT_RUNTIME;
	}
	if (ctl->truncated && ctl->image) {
		format_size(ctl, ctl->max_memory, size, sizeof(size));
		cli_warn("read the first %zu of %" PRIu64 " pages: --max-memory is %s; "
			 "the rest was not measured", ctl->buffer.count,
			 ctl->buffer.pages_offered, size);
	} else if (ctl->truncated) {
		format_size(ctl, ctl->max_memory, size, sizeof(size));
		cli_warn("stopped reading at %zu pages: --max-memory is %s; the rest of the "
			 "targets was not measured", ctl->buffer.count, size);
	}
	return 0;
}

int cmd_hashbench(int argc, char **argv)
{
	struct hashbench_ctl ctl = {
		.repeat = DEFAULT_REPEAT,
		.max_memory = DEFAULT_MAX_MEMORY,
	};
	struct mp_hashbench_result read, results[MP_HASH_COUNT];
	struct mp_hashbench_summary summary;
	int rc;

	rc = parse_hash_list(&ctl, "all");
	if (rc == 0)
		rc = parse_args(&ctl, argc, argv);
	if (rc == 0)
		rc = read_input(&ctl);
	if (rc == 0)
		rc = measure(&ctl, &summary, &read, results);
	if (rc == 0) {
		if (ctl.output == OUTPUT_JSON)
			print_json(&ctl, &summary, &read, results);
		else if (ctl.output == OUTPUT_CSV)
			print_csv(&ctl, &read, results);
		else
			print_table(&ctl, &summary, &read, results);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			cli_warn("write error on standard output: %s", strerror(errno));
			rc = EXIT_RUNTIME;
		}
	}
	/* A --pid that named no process was left out with a warning. */
	if (rc == 0 && ctl.targets.missing_pids)
		rc = EXIT_RUNTIME;
	if (ctl.buffer.pages)
		munmap(ctl.buffer.pages, ctl.buffer.capacity * MP_PAGE_SIZE);
	cli_targets_free(&ctl.targets);
	return rc;
}
