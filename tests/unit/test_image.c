// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_image.c - the memory-image reader on raw and ELF files built here
 *
 * The ELF files are written byte by byte by tests/helpers/mp-craft.h (an
 * x86-64 core with a PT_NOTE and two PT_LOAD segments, as QEMU's
 * dump-guest-memory writes), then damaged in one field at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testlib.h"
#include "helpers/mp-craft.h"

static uint8_t pages[CRAFT_PAGES * CRAFT_PAGE];
static uint8_t buffer[CRAFT_PAGES * CRAFT_PAGE];
static char dir[] = "/tmp/memprint-test-image.XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	craft_pages(pages);
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char command[300];

	(void)state;
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command) == 0 ? 0 : -1;
}

static const char *file_path(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Write an ELF image of all pages, with size bytes of it kept and one header edit. */
static const char *write_elf(const char *name, size_t keep, size_t edit_at, const void *edit,
			     size_t edit_size)
{
	static uint8_t file[CRAFT_ELF_DATA_OFFSET + CRAFT_PAGES * CRAFT_PAGE];

	craft_elf_head(file, CRAFT_PAGES);
	memcpy(file + CRAFT_ELF_DATA_OFFSET, pages, sizeof(pages));
	if (edit_size)
		memcpy(file + edit_at, edit, edit_size);
	assert_int_equal(craft_write_file(file_path(name), file, keep, NULL, 0), 0);
	return path;
}

static void check_open_fails(const char *file, enum mp_image_format format, int code,
			     const char *message)
{
	struct mp_image *image = (struct mp_image *)1;
	struct mp_error error = { 0 };

	assert_int_equal(mp_image_open(&image, file, format, &error), code);
	assert_null(image);
	assert_string_equal(error.message, message);
}

static void test_raw_image_batches(void **state)
{
	struct mp_image_info info;
	struct mp_image *image;
	struct mp_error error = { 0 };
	uint64_t addresses[CRAFT_PAGES];
	size_t done = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(craft_write_file(file_path("ram.raw"), pages, sizeof(pages), "tail", 4), 0);
	mp_assert_ok(mp_image_open(&image, path, MP_IMAGE_AUTO, &error), &error);
	mp_image_get_info(image, &info);
	assert_int_equal(info.format, MP_IMAGE_RAW);
	assert_int_equal(info.pages, CRAFT_PAGES);
	assert_int_equal(info.partial_bytes, 4);
	assert_int_equal(info.segments, 1);
	assert_int_equal(info.machine, 0);

	while ((n = mp_image_read(image, buffer + done * CRAFT_PAGE, 5, addresses + done,
				  &error)) > 0) {
		assert_true(n <= 5);
		done += (size_t)n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(done, CRAFT_PAGES);
	assert_memory_equal(buffer, pages, sizeof(pages));
	for (size_t i = 0; i < CRAFT_PAGES; i++)
		assert_int_equal(addresses[i], i * CRAFT_PAGE);
	mp_image_close(image);
}

static void test_elf_image_segments(void **state)
{
	struct mp_image_info info;
	struct mp_image *image;
	struct mp_error error = { 0 };
	uint64_t addresses[CRAFT_PAGES];

	(void)state;
	assert_int_equal(craft_write_elf(file_path("core.elf"), pages, CRAFT_PAGES), 0);
	mp_assert_ok(mp_image_open(&image, path, MP_IMAGE_AUTO, &error), &error);
	mp_image_get_info(image, &info);
	assert_int_equal(info.format, MP_IMAGE_ELF);
	assert_int_equal(info.pages, CRAFT_PAGES);
	assert_int_equal(info.segments, 2);
	assert_int_equal(info.machine, 62);
	assert_int_equal(info.partial_bytes, 0);
	assert_int_equal(info.unstored_bytes, 0);

	/* A read stops at the end of a segment. */
	assert_int_equal(mp_image_read(image, buffer, CRAFT_PAGES, addresses, &error),
			 CRAFT_ELF_FIRST_PAGES);
	assert_int_equal(mp_image_read(image, buffer + CRAFT_ELF_FIRST_PAGES * CRAFT_PAGE,
				       CRAFT_PAGES, addresses + CRAFT_ELF_FIRST_PAGES, &error),
			 CRAFT_PAGES - CRAFT_ELF_FIRST_PAGES);
	assert_int_equal(mp_image_read(image, buffer, CRAFT_PAGES, NULL, &error), 0);
	assert_memory_equal(buffer, pages, sizeof(pages));
	assert_int_equal(addresses[0], 0);
	assert_int_equal(addresses[CRAFT_ELF_FIRST_PAGES - 1], (CRAFT_ELF_FIRST_PAGES - 1) * 4096);
	assert_int_equal(addresses[CRAFT_ELF_FIRST_PAGES], CRAFT_ELF_SECOND_ADDRESS);
	assert_int_equal(addresses[CRAFT_PAGES - 1],
			 CRAFT_ELF_SECOND_ADDRESS + (CRAFT_PAGES - CRAFT_ELF_FIRST_PAGES - 1) * 4096);
	mp_image_close(image);
}

static void test_elf_read_as_raw(void **state)
{
	struct mp_image_info info;
	struct mp_image *image;
	struct mp_error error = { 0 };

	(void)state;
	assert_int_equal(craft_write_elf(file_path("core.elf"), pages, CRAFT_PAGES), 0);
	mp_assert_ok(mp_image_open(&image, path, MP_IMAGE_RAW, &error), &error);
	mp_image_get_info(image, &info);
	assert_int_equal(info.format, MP_IMAGE_RAW);
	assert_int_equal(info.pages, CRAFT_PAGES);
	assert_int_equal(info.partial_bytes, CRAFT_ELF_DATA_OFFSET);
	mp_image_close(image);
}

static void test_elf_truncated_header(void **state)
{
	char message[512];

	(void)state;
	write_elf("short.elf", 40, 0, NULL, 0);
	snprintf(message, sizeof(message),
		 "invalid ELF image: %s: offset 40: file ends inside the ELF header (40 of 64 bytes)",
		 path);
	check_open_fails(path, MP_IMAGE_AUTO, -EINVAL, message);
}

static void test_elf_bad_magic(void **state)
{
	char message[512];

	(void)state;
	write_elf("magic.elf", sizeof(buffer) + CRAFT_ELF_DATA_OFFSET, 3, "G", 1);
	snprintf(message, sizeof(message),
		 "invalid ELF image: %s: offset 0: bad magic 7f 45 4c 47, expected 7f 45 4c 46",
		 path);
	check_open_fails(path, MP_IMAGE_ELF, -EINVAL, message);
}

static void test_elf_segment_beyond_end(void **state)
{
	size_t keep = CRAFT_ELF_DATA_OFFSET + 10 * CRAFT_PAGE;
	char message[512];

	(void)state;
	write_elf("cut.elf", keep, 0, NULL, 0);
	snprintf(message, sizeof(message),
		 "invalid ELF image: %s: offset 176: PT_LOAD segment 2 (file offset %u, "
		 "36864 bytes) ends beyond the end of the file (%zu bytes)",
		 path, CRAFT_ELF_DATA_OFFSET + CRAFT_ELF_FIRST_PAGES * CRAFT_PAGE, keep);
	check_open_fails(path, MP_IMAGE_AUTO, -EINVAL, message);
}

/* Each damaged header field: where it is, what it is set to, what is reported. */
static void test_elf_bad_fields(void **state)
{
	static const struct {
		size_t at;
		uint8_t bytes[8];
		size_t size;
		const char *why;
	} cases[] = {
		{ 4, { 1 }, 1, "offset 4: ELF class 1 is not supported, expected 2 (ELFCLASS64)" },
		{ 5, { 2 }, 1, "offset 5: ELF data encoding 2 is not supported, "
			       "expected 1 (little-endian)" },
		{ 16, { 2, 0 }, 2, "offset 16: ELF type 2 is not a core file (ET_CORE, 4)" },
		{ 18, { 8, 0 }, 2, "offset 18: ELF machine 8 is not a supported little-endian guest" },
		{ 54, { 32, 0 }, 2, "offset 54: program header size 32, expected 56" },
		{ 56, { 0, 0 }, 2, "offset 56: no program headers" },
		{ 32, { 0, 0, 0, 1 }, 8, "offset 32: program header table (3 entries at offset "
					 "16777216) ends beyond the end of the file (65788 bytes)" },
		{ 56, { 0xff, 0xff }, 2, "offset 40: e_phnum is PN_XNUM but there is no "
					 "section header" },
	};
	char message[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_elf("field.elf", sizeof(pages) + CRAFT_ELF_DATA_OFFSET, cases[i].at,
			  cases[i].bytes, cases[i].size);
		snprintf(message, sizeof(message), "invalid ELF image: %s: %s", path, cases[i].why);
		check_open_fails(path, MP_IMAGE_AUTO, -EINVAL, message);
	}
}

static void test_elf_without_load(void **state)
{
	uint8_t head[CRAFT_ELF_DATA_OFFSET];
	char message[512];

	(void)state;
	/* Turn both PT_LOAD entries (program headers 1 and 2) into PT_NOTE. */
	craft_elf_head(head, CRAFT_PAGES);
	head[64 + 56] = 4;
	head[64 + 112] = 4;
	assert_int_equal(craft_write_file(file_path("noload.elf"), head, sizeof(head), pages,
					  sizeof(pages)), 0);
	snprintf(message, sizeof(message),
		 "invalid ELF image: %s: offset 64: no PT_LOAD segment in 3 program headers", path);
	check_open_fails(path, MP_IMAGE_AUTO, -EINVAL, message);
}

static void test_kdump_rejected(void **state)
{
	char message[512];

	(void)state;
	assert_int_equal(craft_write_file(file_path("vm.kdump"), "KDUMP   \1\0\0\0\0\0\0\0", 16,
					  pages, CRAFT_PAGE), 0);
	snprintf(message, sizeof(message),
		 "unsupported image: %s: offset 0: kdump-compressed format (dump-guest-memory "
		 "-z, -l or -s); dump without them for an ELF image", path);
	check_open_fails(path, MP_IMAGE_AUTO, -EINVAL, message);
}

static void test_missing_and_empty(void **state)
{
	struct mp_image_info info;
	struct mp_image *image;
	struct mp_error error = { 0 };
	char message[512];

	(void)state;
	file_path("missing.raw");
	snprintf(message, sizeof(message), "cannot open image: %s: No such file or directory",
		 path);
	check_open_fails(path, MP_IMAGE_AUTO, -ENOENT, message);

	assert_int_equal(craft_write_file(file_path("empty.raw"), NULL, 0, NULL, 0), 0);
	mp_assert_ok(mp_image_open(&image, path, MP_IMAGE_AUTO, &error), &error);
	mp_image_get_info(image, &info);
	assert_int_equal(info.pages, 0);
	assert_int_equal(mp_image_read(image, buffer, 4, NULL, &error), 0);
	mp_image_close(image);
}

static void test_format_names(void **state)
{
	(void)state;
	assert_int_equal(mp_image_format_lookup("auto"), MP_IMAGE_AUTO);
	assert_int_equal(mp_image_format_lookup("raw"), MP_IMAGE_RAW);
	assert_int_equal(mp_image_format_lookup("elf"), MP_IMAGE_ELF);
	assert_int_equal(mp_image_format_lookup("qcow2"), -1);
	assert_string_equal(mp_image_format_name(MP_IMAGE_ELF), "elf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_image_batches),
		cmocka_unit_test(test_elf_image_segments),
		cmocka_unit_test(test_elf_read_as_raw),
		cmocka_unit_test(test_elf_truncated_header),
		cmocka_unit_test(test_elf_bad_magic),
		cmocka_unit_test(test_elf_segment_beyond_end),
		cmocka_unit_test(test_elf_bad_fields),
		cmocka_unit_test(test_elf_without_load),
		cmocka_unit_test(test_kdump_rejected),
		cmocka_unit_test(test_missing_and_empty),
		cmocka_unit_test(test_format_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
