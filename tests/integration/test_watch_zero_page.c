// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_watch_zero_page.c - memprint timeline's churn counts on a series
 * whose mappings include the kernel zero page, checked against
 * hand-worked values
 *
 * A child maps an arena of 32 anonymous pages: pages 0-15 written, each
 * with a content of its own, pages 16-23 only read, so that each maps
 * the kernel zero page, and pages 24-31 never touched (not present).
 * Three sets are taken of the arena alone; before the last one the child
 * writes pages 16-19.  By hand, per set:
 *
 *	set	mappings  zero_page  tracked  common  new  churn
 *	0	16        8          24       0       24   0
 *	1	16        8          24       24      0    0
 *	2	20        4          24       24      0    4
 *
 * tracked_mappings = mappings + zero_page_mappings = common + new.  No
 * content is held by two frames, so there is no opportunity and no run:
 * every share of runs and pages is empty in CSV.  Churn shares: set 0
 * empty (no previous set), set 1 0, set 2 4/24; the series 4/48.
 */
#include <sys/mman.h>

#include "test_watch.h"

#define ARENA_PAGES 32
#define WRITTEN_PAGES 16
#define READ_PAGES 8
#define SETS 3

static struct workload child;
static char series_path[] = "/tmp/memprint-test-zero-page-XXXXXX";

/* ------------------------------------------------------------ the child */

/* Give page a content of its own: every byte is its index + 1. */
static void write_page(uint8_t *arena, size_t page)
{
	memset(arena + page * MP_PAGE_SIZE, (int)(page + 1), MP_PAGE_SIZE);
}

/* Set up the arena, report its address, then write pages 16-19 on "w", exit on EOF. */
static void run_child(int in, int out)
{
	uint8_t *arena = mmap(NULL, ARENA_PAGES * MP_PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile uint8_t sum = 0;
	char line[64], command;

	if (arena == MAP_FAILED)
		_exit(1);
	/* A 4 KiB zero page per read, never a huge zero page. */
	madvise(arena, ARENA_PAGES * MP_PAGE_SIZE, MADV_NOHUGEPAGE);
	for (size_t page = 0; page < WRITTEN_PAGES; page++)
		write_page(arena, page);
	for (size_t page = WRITTEN_PAGES; page < WRITTEN_PAGES + READ_PAGES; page++)
		sum += arena[page * MP_PAGE_SIZE];

	snprintf(line, sizeof(line), "ready %lx\n", (unsigned long)arena);
	if (write(out, line, strlen(line)) < 0)
		_exit(1);
	while (read(in, &command, 1) == 1) {
		for (size_t page = WRITTEN_PAGES; page < WRITTEN_PAGES + 4; page++)
			write_page(arena, page);
		if (write(out, "ok\n", 3) != 3)
			_exit(1);
	}
	_exit(sum);
}

static void start_child(void)
{
	int to_child[2], from_child[2];
	char line[64];
	unsigned long address;

	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);
	child.pid = fork();
	assert_true(child.pid >= 0);
	if (child.pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		run_child(to_child[0], from_child[1]);
	}
	close(to_child[0]);
	close(from_child[1]);
	child.in = fdopen(to_child[1], "w");
	child.out = fdopen(from_child[0], "r");
	assert_non_null(child.in);
	assert_non_null(child.out);
	assert_non_null(fgets(line, sizeof(line), child.out));
	assert_int_equal(sscanf(line, "ready %lx", &address), 1);
	child.first_vpn = address / MP_PAGE_SIZE;
	child.pages = ARENA_PAGES;
}

static void write_child_pages(void)
{
	char line[16];

	fputc('w', child.in);
	fflush(child.in);
	assert_non_null(fgets(line, sizeof(line), child.out));
	assert_string_equal(line, "ok\n");
}

/* ------------------------------------------------------------ the series */

static void write_series(void)
{
	struct mp_writer_options writer_options = { .sync = true };
	struct mp_scan_options scan_options = { .hash = MP_HASH_XXH3 };
	struct arena_filter filter = { .workloads = &child, .workload_count = 1 };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink = { &arena_filter_ops, &filter, NULL };

	mp_assert_ok(mp_writer_open(&writer, series_path, &writer_options, &error), &error);
	filter.next = mp_writer_sink(writer);
	for (int set = 0; set < SETS; set++) {
		if (set == 2)
			write_child_pages();
		mp_assert_ok(mp_procfs_scan(&child.pid, 1, &scan_options, &sink, &error), &error);
	}
	mp_assert_ok(mp_writer_close(writer, &error), &error);
}

static int setup_series(void **state)
{
	int fd;

	(void)state;
	if (geteuid() != 0)
		return 0;
	fd = mkstemp(series_path);
	if (fd < 0)
		return -1;
	close(fd);
	start_child();
	write_series();
	return 0;
}

static int teardown_series(void **state)
{
	int status;

	(void)state;
	if (child.pid > 0) {
		fclose(child.in);
		fclose(child.out);
		waitpid(child.pid, &status, 0);
	}
	unlink(series_path);
	return 0;
}

/* ------------------------------------------------------------ the CSV */

#define MAX_LINES 16
#define MAX_FIELDS 64

/* The CSV that memprint timeline prints, split into lines and fields. */
struct csv {
	char text[16384];
	char *fields[MAX_LINES][MAX_FIELDS];
	size_t field_count[MAX_LINES];
	size_t line_count;
};

/* memprint, as tests/run-tests names it, or beside this test's build directory. */
static void memprint_path(char *path, size_t size)
{
	const char *memprint = getenv("MEMPRINT");
	char exe[4096];
	ssize_t length;

	if (memprint) {
		snprintf(path, size, "%s", memprint);
		return;
	}
	length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(length > 0);
	exe[length] = '\0';
	snprintf(path, size, "%s/../../memprint", dirname(exe));
}

/* Split text in place at newlines and commas; an empty field stays an empty string. */
static void split_csv(struct csv *csv)
{
	char *line = csv->text, *end;

	while (*line && csv->line_count < MAX_LINES) {
		size_t n = 0;

		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		for (char *field = line; n < MAX_FIELDS; field++) {
			csv->fields[csv->line_count][n++] = field;
			field = strchr(field, ',');
			if (!field)
				break;
			*field = '\0';
		}
		csv->field_count[csv->line_count++] = n;
		if (!end)
			break;
		line = end + 1;
	}
}

/* Run memprint timeline with options on the series and keep its CSV. */
static void run_timeline(const char *options, struct csv *csv)
{
	char memprint[4200], command[8400];
	FILE *output;
	size_t size;

	memprint_path(memprint, sizeof(memprint));
	snprintf(command, sizeof(command), "%s timeline --csv %s %s", memprint, options,
		 series_path);
	memset(csv, 0, sizeof(*csv));
	output = popen(command, "r");
	assert_non_null(output);
	size = fread(csv->text, 1, sizeof(csv->text) - 1, output);
	csv->text[size] = '\0';
	assert_int_equal(pclose(output), 0);
	split_csv(csv);
}

/* The field of line under the column key of header line header; fails if there is none. */
static const char *csv_field(const struct csv *csv, size_t header, size_t line, const char *key)
{
	assert_true(line < csv->line_count);
	for (size_t i = 0; i < csv->field_count[header]; i++) {
		if (!strcmp(csv->fields[header][i], key)) {
			assert_true(i < csv->field_count[line]);
			return csv->fields[line][i];
		}
	}
	fail_msg("no column %s", key);
	return NULL;
}

static void assert_field(const struct csv *csv, size_t header, size_t line, const char *key,
			 const char *expected)
{
	const char *value = csv_field(csv, header, line, key);

	if (strcmp(value, expected))
		fail_msg("line %zu, %s: expected '%s', got '%s'", line, key, expected, value);
}

/* ------------------------------------------------------------ the tests */

static void zero_page_set_counts(void **state)
{
	static const char *const mappings[SETS] = { "16", "16", "20" };
	static const char *const zero_page[SETS] = { "8", "8", "4" };
	static const char *const common[SETS] = { "0", "24", "24" };
	static const char *const new[SETS] = { "24", "0", "0" };
	static const char *const churn[SETS] = { "0", "0", "4" };
	struct csv csv;

	(void)state;
	mp_test_require_root();
	run_timeline("", &csv);
	assert_int_equal(csv.line_count, 1 + SETS);
	for (size_t set = 0; set < SETS; set++) {
		assert_field(&csv, 0, set + 1, "mappings", mappings[set]);
		assert_field(&csv, 0, set + 1, "zero_page_mappings", zero_page[set]);
		assert_field(&csv, 0, set + 1, "tracked_mappings", "24");
		assert_field(&csv, 0, set + 1, "common_mappings", common[set]);
		assert_field(&csv, 0, set + 1, "new_mappings", new[set]);
		assert_field(&csv, 0, set + 1, "gone_mappings", "0");
		assert_field(&csv, 0, set + 1, "churn", churn[set]);
		assert_field(&csv, 0, set + 1, "duplicate_frames", "0");
	}
}

/* Line 0 is the header of the sets, line 4 is empty, line 5 the header of the tasks. */
static void zero_page_churn_shares(void **state)
{
	static const char *const shares[SETS] = { "", "0.0000", "0.1667" };
	struct csv csv;

	(void)state;
	mp_test_require_root();
	run_timeline("--churn", &csv);
	assert_int_equal(csv.line_count, 1 + SETS + 1 + 2);
	for (size_t set = 0; set < SETS; set++) {
		assert_field(&csv, 0, set + 1, "tracked_mappings", "24");
		assert_field(&csv, 0, set + 1, "churn_share", shares[set]);
	}
	assert_string_equal(csv.fields[1 + SETS][0], "");
	assert_field(&csv, 5, 6, "common_mappings", "48");
	assert_field(&csv, 5, 6, "churn", "4");
	assert_field(&csv, 5, 6, "churn_share", "0.0833");
}

/* No opportunity, so no run: the rows over all runs have counts of 0 and no share. */
static void zero_page_lifetimes_without_runs(void **state)
{
	struct csv csv;

	(void)state;
	mp_test_require_root();
	run_timeline("--lifetimes", &csv);
	assert_true(csv.line_count >= 3);
	for (size_t line = 1; line < csv.line_count; line++) {
		assert_field(&csv, 0, line, "runs", "0");
		assert_field(&csv, 0, line, "runs_share", "");
		assert_field(&csv, 0, line, "pages", "0");
		assert_field(&csv, 0, line, "pages_share", "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_page_set_counts),
		cmocka_unit_test(zero_page_churn_shares),
		cmocka_unit_test(zero_page_lifetimes_without_runs),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_series, teardown_series);
}
