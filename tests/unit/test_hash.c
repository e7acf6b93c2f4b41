// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_hash.c - the page-hash interface: names, widths, keys, zero-filled
 * detection, batch hashing and digest keys
 *
 * The digests themselves are checked against independent implementations
 * in test_hash_kat.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

struct algo_case {
	const char *name;
	enum mp_hash_id id;
	size_t digest_size;
	bool keyable;
};

static const struct algo_case cases[] = {
	{ "pattern", MP_HASH_PATTERN, 16, false },
	{ "superfast", MP_HASH_SUPERFAST, 4, false },
	{ "crc32", MP_HASH_CRC32, 4, false },
	{ "crc32ex", MP_HASH_CRC32EX, 16, false },
	{ "crc32c", MP_HASH_CRC32C, 4, false },
	{ "md5", MP_HASH_MD5, 16, true },
	{ "sha1", MP_HASH_SHA1, 20, true },
	{ "sha256", MP_HASH_SHA256, 32, true },
	{ "xxh64", MP_HASH_XXH64, 8, true },
	{ "xxh3", MP_HASH_XXH3, 8, true },
	{ "xxh128", MP_HASH_XXH128, 16, true },
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void fill_random(uint8_t *data, size_t size, uint64_t seed)
{
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(next_random(&seed) >> 32);
}

static struct mp_hash *open_plain(enum mp_hash_id id)
{
	struct mp_error error = { 0 };
	struct mp_hash *hash = NULL;

	mp_assert_ok(mp_hash_open(&hash, id, NULL, 0, &error), &error);
	assert_non_null(hash);
	return hash;
}

static void test_names_round_trip(void **state)
{
	(void)state;
	assert_int_equal(CASE_COUNT, MP_HASH_COUNT - 1);
	for (size_t i = 0; i < CASE_COUNT; i++) {
		assert_int_equal(mp_hash_lookup(cases[i].name), cases[i].id);
		assert_string_equal(mp_hash_name(cases[i].id), cases[i].name);
	}
}

static void test_lookup_unknown_name(void **state)
{
	(void)state;
	assert_int_equal(mp_hash_lookup("xxh32"), MP_HASH_NONE);
	assert_int_equal(mp_hash_lookup("XXH3"), MP_HASH_NONE);
	assert_int_equal(mp_hash_lookup("xxh3 "), MP_HASH_NONE);
	assert_int_equal(mp_hash_lookup(""), MP_HASH_NONE);
	assert_int_equal(mp_hash_lookup(NULL), MP_HASH_NONE);
	assert_null(mp_hash_name(MP_HASH_NONE));
	assert_null(mp_hash_name(MP_HASH_COUNT));
}

static void test_digest_widths(void **state)
{
	(void)state;
	for (size_t i = 0; i < CASE_COUNT; i++) {
		assert_int_equal(mp_hash_digest_size(cases[i].id), cases[i].digest_size);
		assert_true(mp_hash_digest_size(cases[i].id) <= MP_DIGEST_MAX);
	}
	assert_int_equal(mp_hash_digest_size(MP_HASH_NONE), 0);
	assert_int_equal(mp_hash_digest_size(MP_HASH_COUNT), 0);
	assert_int_equal(mp_hash_digest_size((enum mp_hash_id)-1), 0);
	assert_int_equal(MP_HASH_DEFAULT, MP_HASH_XXH3);
}

static void test_keyable_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < CASE_COUNT; i++)
		assert_int_equal(mp_hash_keyable(cases[i].id), cases[i].keyable);
	assert_false(mp_hash_keyable(MP_HASH_NONE));
}

static void test_open_unknown_id(void **state)
{
	struct mp_error error = { 0 };
	struct mp_hash *hash = (struct mp_hash *)&error;

	(void)state;
	assert_int_equal(mp_hash_open(&hash, MP_HASH_NONE, NULL, 0, &error), -EINVAL);
	assert_null(hash);
	assert_int_equal(error.code, -EINVAL);
	assert_int_equal(mp_hash_open(&hash, MP_HASH_COUNT, NULL, 0, NULL), -EINVAL);
}

static void test_key_rejected_unkeyable(void **state)
{
	static const char key[] = "secret";
	struct mp_error error;
	struct mp_hash *hash;

	(void)state;
	for (size_t i = 0; i < CASE_COUNT; i++) {
		if (cases[i].keyable)
			continue;
		memset(&error, 0, sizeof(error));
		hash = NULL;
		assert_int_equal(mp_hash_open(&hash, cases[i].id, key, 6, &error), -EINVAL);
		assert_null(hash);
		assert_int_equal(error.code, -EINVAL);
		assert_non_null(strstr(error.message, cases[i].name));
		assert_non_null(strstr(error.message, "cannot be keyed"));
	}
}

static void test_empty_key_rejected(void **state)
{
	struct mp_error error = { 0 };
	struct mp_hash *hash = NULL;

	(void)state;
	assert_int_equal(mp_hash_open(&hash, MP_HASH_XXH3, "", 0, &error), -EINVAL);
	assert_null(hash);
	assert_non_null(strstr(error.message, "empty"));
}

/* Keyed digests repeat, differ from plain ones and change with the key. */
static void test_keyed_digests_differ(void **state)
{
	static const char key_a[] = "key-a", key_b[] = "key-b";
	uint8_t page[MP_PAGE_SIZE], plain[MP_DIGEST_MAX], a[MP_DIGEST_MAX],
		a_again[MP_DIGEST_MAX], b[MP_DIGEST_MAX];
	struct mp_error error = { 0 };

	(void)state;
	fill_random(page, sizeof(page), 42);
	for (size_t i = 0; i < CASE_COUNT; i++) {
		struct mp_hash *hash;
		size_t size = cases[i].digest_size;

		if (!cases[i].keyable)
			continue;
		hash = open_plain(cases[i].id);
		mp_hash_page(hash, page, plain);
		mp_hash_close(hash);

		mp_assert_ok(mp_hash_open(&hash, cases[i].id, key_a, 5, &error), &error);
		mp_hash_page(hash, page, a);
		mp_hash_page(hash, page, a_again);
		mp_hash_close(hash);
		mp_assert_ok(mp_hash_open(&hash, cases[i].id, key_b, 5, &error), &error);
		mp_hash_page(hash, page, b);
		mp_hash_close(hash);

		assert_memory_equal(a, a_again, size);
		assert_memory_not_equal(a, plain, size);
		assert_memory_not_equal(a, b, size);
	}
}

static void test_hash_id_of_hasher(void **state)
{
	(void)state;
	for (size_t i = 0; i < CASE_COUNT; i++) {
		struct mp_hash *hash = open_plain(cases[i].id);

		assert_int_equal(mp_hash_id(hash), cases[i].id);
		mp_hash_close(hash);
	}
	mp_hash_close(NULL);
}

/* One non-zero byte anywhere, even the last one, makes a page not zero-filled. */
static void test_zero_filled_exact(void **state)
{
	static const size_t offsets[] = { 0, 1, 7, 8, 63, 64, 2047, 4032, 4088, 4095 };
	static uint8_t page[MP_PAGE_SIZE];
	uint8_t digest[MP_DIGEST_MAX], zero_digest[MP_DIGEST_MAX];

	(void)state;
	for (size_t i = 0; i < CASE_COUNT; i++) {
		struct mp_hash *hash = open_plain(cases[i].id);
		size_t size = cases[i].digest_size;

		memset(page, 0, sizeof(page));
		assert_true(mp_hash_page(hash, page, zero_digest));
		for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
			page[offsets[k]] = 0x80;
			assert_false(mp_hash_page(hash, page, digest));
			page[offsets[k]] = 0;
		}
		assert_true(mp_hash_page(hash, page, digest));
		assert_memory_equal(digest, zero_digest, size);
		mp_hash_close(hash);
	}
}

/* Only digest_size bytes of the digest buffer are written. */
static void test_digest_tail_untouched(void **state)
{
	uint8_t page[MP_PAGE_SIZE], digest[MP_DIGEST_MAX + 1];

	(void)state;
	fill_random(page, sizeof(page), 7);
	for (size_t i = 0; i < CASE_COUNT; i++) {
		struct mp_hash *hash = open_plain(cases[i].id);
		size_t size = cases[i].digest_size;

		memset(digest, 0xA5, sizeof(digest));
		mp_hash_page(hash, page, digest);
		for (size_t k = size; k < sizeof(digest); k++)
			assert_int_equal(digest[k], 0xA5);
		mp_hash_close(hash);
	}
}

/*
 * A run of pages: random, zero, text-like, a repeat of the first, one whose
 * only non-zero byte is its last, zero, random, zero, random.
 */
#define BATCH 9

static void fill_batch(uint8_t *pages)
{
	memset(pages, 0, BATCH * MP_PAGE_SIZE);
	fill_random(pages, MP_PAGE_SIZE, 1);
	for (size_t i = 0; i < MP_PAGE_SIZE; i++)
		pages[2 * MP_PAGE_SIZE + i] = "memprint page text "[i % 19];
	memcpy(pages + 3 * MP_PAGE_SIZE, pages, MP_PAGE_SIZE);
	pages[5 * MP_PAGE_SIZE - 1] = 1;
	fill_random(pages + 6 * MP_PAGE_SIZE, MP_PAGE_SIZE, 2);
	fill_random(pages + 8 * MP_PAGE_SIZE, MP_PAGE_SIZE, 3);
}

static void check_batch(enum mp_hash_id id, size_t stride, uint8_t *pages)
{
	static const bool expected_zero[BATCH] = { 0, 1, 0, 0, 0, 1, 0, 1, 0 };
	uint8_t digests[BATCH * (MP_DIGEST_MAX + 8)], single[MP_DIGEST_MAX];
	size_t size = mp_hash_digest_size(id);
	bool zero[BATCH];
	struct mp_hash *hash = open_plain(id);

	memset(digests, 0xA5, sizeof(digests));
	mp_hash_pages(hash, pages, BATCH, digests, stride, zero);
	for (size_t p = 0; p < BATCH; p++) {
		bool single_zero = mp_hash_page(hash, pages + p * MP_PAGE_SIZE, single);

		assert_memory_equal(digests + p * stride, single, size);
		assert_int_equal(zero[p], expected_zero[p]);
		assert_int_equal(single_zero, expected_zero[p]);
		for (size_t k = size; k < stride; k++)
			assert_int_equal(digests[p * stride + k], 0xA5);
	}
	assert_memory_equal(digests, digests + 3 * stride, size);

	/* zero_filled may be NULL. */
	memset(digests, 0, sizeof(digests));
	mp_hash_pages(hash, pages, BATCH, digests, stride, NULL);
	assert_memory_equal(digests + 8 * stride, single, size);
	mp_hash_close(hash);
}

static void test_batch_equals_single(void **state)
{
	uint8_t *pages = malloc(BATCH * MP_PAGE_SIZE);

	(void)state;
	assert_non_null(pages);
	fill_batch(pages);
	for (size_t i = 0; i < CASE_COUNT; i++) {
		check_batch(cases[i].id, cases[i].digest_size, pages);
		check_batch(cases[i].id, MP_DIGEST_MAX + 8, pages);
	}
	free(pages);
}

/* Pages need not be aligned: hashing at an odd address gives the same digest. */
static void test_unaligned_page(void **state)
{
	uint8_t *buffer = malloc(MP_PAGE_SIZE + 1);
	uint8_t aligned[MP_DIGEST_MAX], shifted[MP_DIGEST_MAX];
	static uint8_t page[MP_PAGE_SIZE];

	(void)state;
	assert_non_null(buffer);
	fill_random(page, sizeof(page), 9);
	memcpy(buffer + 1, page, MP_PAGE_SIZE);
	for (size_t i = 0; i < CASE_COUNT; i++) {
		struct mp_hash *hash = open_plain(cases[i].id);

		mp_hash_page(hash, page, aligned);
		mp_hash_page(hash, buffer + 1, shifted);
		assert_memory_equal(aligned, shifted, cases[i].digest_size);
		mp_hash_close(hash);
	}
	free(buffer);
}

static void test_digest_key_little_endian(void **state)
{
	static const uint8_t digest[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	(void)state;
	assert_int_equal(mp_digest_key(digest, 16), 0x0807060504030201ull);
	assert_int_equal(mp_digest_key(digest, 8), 0x0807060504030201ull);
	/* A 4-byte digest fills the low 32 bits only. */
	assert_int_equal(mp_digest_key(digest, 4), 0x04030201ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_lookup_unknown_name),
		cmocka_unit_test(test_digest_widths),
		cmocka_unit_test(test_keyable_flags),
		cmocka_unit_test(test_open_unknown_id),
		cmocka_unit_test(test_key_rejected_unkeyable),
		cmocka_unit_test(test_empty_key_rejected),
		cmocka_unit_test(test_keyed_digests_differ),
		cmocka_unit_test(test_hash_id_of_hasher),
		cmocka_unit_test(test_zero_filled_exact),
		cmocka_unit_test(test_digest_tail_untouched),
		cmocka_unit_test(test_batch_equals_single),
		cmocka_unit_test(test_unaligned_page),
		cmocka_unit_test(test_digest_key_little_endian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
