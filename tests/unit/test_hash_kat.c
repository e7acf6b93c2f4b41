// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_hash_kat.c - known-answer tests of every page hash
 *
 * Four fixed pages (all 0x00, all 0xFF, counting bytes i & 0xff, and
 * xorshift64 output from seed 0x9E3779B97F4A7C15) are hashed by libmemprint
 * and by an independent implementation:
 *   xxh64, xxh3, xxh128	xxhsum -H1, -H3, -H2 (Debian package xxhash)
 *   md5, sha1, sha256		md5sum, sha1sum, sha256sum (coreutils)
 *   crc32, crc32ex		python3 zlib.crc32
 *   keyed md5, sha1, sha256	python3 hmac
 *   superfast, pattern		python3 code below, and C code here written
 *				from the definitions
 *   crc32c			a bitwise CRC32C here, checked against RFC 3720
 *   keyed xxh*			libxxhash called directly
 * A missing tool makes its test skip with the reason.
 */
#define XXH_STATIC_LINKING_ONLY
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "testlib.h"

#define PAGES 4
#define HEX_MAX (2 * MP_DIGEST_MAX + 1)

static const char *const page_names[PAGES] = { "zero", "ones", "counting", "random" };
static uint8_t pages[PAGES][MP_PAGE_SIZE];
static char dir[64];
static char paths[PAGES][128];
static char script[128];
static char errors[128];	/* standard error of the last tool run */

static const uint8_t test_key[] = "memprint known-answer key";
#define TEST_KEY_SIZE (sizeof(test_key) - 1)

/*
 * An independent formulation of SuperFastHash and pattern: SuperFastHash
 * over 32-bit little-endian words (the C code below works on bytes), and
 * the digests of the other algorithms from Python's zlib and hmac.
 */
static const char python_source[] =
	"import hmac, struct, sys, zlib\n"
	"M = 0xffffffff\n"
	"def superfast(data):\n"
	"    h = len(data)\n"
	"    for (w,) in struct.iter_unpack('<I', data):\n"
	"        h = (h + (w & 0xffff)) & M\n"
	"        t = (((w >> 16) << 11) ^ h) & M\n"
	"        h = ((h << 16) ^ t) & M\n"
	"        h = (h + (h >> 11)) & M\n"
	"    for left, right in ((3, 5), (4, 17), (25, 6)):\n"
	"        h ^= (h << left) & M\n"
	"        h = (h + (h >> right)) & M\n"
	"    return '%08x' % h\n"
	"alg, key = sys.argv[1], bytes.fromhex(sys.argv[2])\n"
	"for path in sys.argv[3:]:\n"
	"    d = open(path, 'rb').read()\n"
	"    if alg == 'crc32':\n"
	"        print('%08x' % zlib.crc32(d))\n"
	"    elif alg == 'crc32ex':\n"
	"        print(''.join('%08x' % zlib.crc32(d[i:i + 1024]) for i in range(0, 4096, 1024)))\n"
	"    elif alg == 'superfast':\n"
	"        print(superfast(d))\n"
	"    elif alg == 'pattern':\n"
	"        print(bytes(d[1 << b] for b in range(12)).hex() + d[4092:].hex())\n"
	"    else:\n"
	"        print(hmac.new(key, d, alg).hexdigest())\n";

/* ------------------------------------------------------------ fixtures */

static void fill_pages(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	memset(pages[0], 0x00, MP_PAGE_SIZE);
	memset(pages[1], 0xFF, MP_PAGE_SIZE);
	for (size_t i = 0; i < MP_PAGE_SIZE; i++)
		pages[2][i] = (uint8_t)(i & 0xff);

	/* xorshift64 (Marsaglia 2003, shifts 13, 7, 17), each word little-endian */
	for (size_t i = 0; i < MP_PAGE_SIZE; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (int b = 0; b < 8; b++)
			pages[3][i + b] = (uint8_t)(x >> (8 * b));
	}
}

static int write_file(const char *path, const void *data, size_t size)
{
	FILE *file = fopen(path, "wb");

	if (!file)
		return -1;
	if (fwrite(data, 1, size, file) != size) {
		fclose(file);
		return -1;
	}
	return fclose(file) == 0 ? 0 : -1;
}

static int setup_files(void **state)
{
	(void)state;
	fill_pages();
	snprintf(dir, sizeof(dir), "/tmp/memprint-hash-kat-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (int i = 0; i < PAGES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s.page", dir, page_names[i]);
		if (write_file(paths[i], pages[i], MP_PAGE_SIZE) < 0)
			return -1;
	}
	snprintf(script, sizeof(script), "%s/kat.py", dir);
	snprintf(errors, sizeof(errors), "%s/stderr", dir);
	return write_file(script, python_source, strlen(python_source));
}

static int teardown_files(void **state)
{
	(void)state;
	for (int i = 0; i < PAGES; i++)
		unlink(paths[i]);
	unlink(script);
	unlink(errors);
	rmdir(dir);
	return 0;
}

/* ------------------------------------------------------------- helpers */

static void to_hex(const uint8_t *bytes, size_t size, char *hex)
{
	for (size_t i = 0; i < size; i++)
		sprintf(hex + 2 * i, "%02x", bytes[i]);
	hex[2 * size] = '\0';
}

static bool have_tool(const char *name)
{
	char command[128];

	snprintf(command, sizeof(command), "command -v %s >/dev/null 2>&1", name);
	return system(command) == 0;
}

/*
 * Run command and keep the last whitespace-separated hex word of each of
 * its first PAGES output lines ("HASH  FILE" and "XXH3 (FILE) = HASH" both).
 * Standard error goes to a file, because xxhsum writes "\r", spaces and
 * "\r" there, which would break the TAP lines of this test.
 */
static void run_tool(const char *tool_command, char expected[PAGES][HEX_MAX])
{
	char line[512], command[1200];
	FILE *pipe;
	int lines = 0;

	snprintf(command, sizeof(command), "%s 2>'%s'", tool_command, errors);
	pipe = popen(command, "r");
	assert_non_null(pipe);
	while (lines < PAGES && fgets(line, sizeof(line), pipe)) {
		char word[HEX_MAX + 1] = "", *token, *save = NULL;

		for (token = strtok_r(line, " \t\n", &save); token;
		     token = strtok_r(NULL, " \t\n", &save)) {
			if (strspn(token, "0123456789abcdef") == strlen(token) &&
			    strlen(token) < sizeof(word))
				strcpy(word, token);
		}
		strcpy(expected[lines++], word);
	}
	if (pclose(pipe) != 0) {
		FILE *file = fopen(errors, "r");

		line[0] = '\0';
		if (file) {
			if (!fgets(line, sizeof(line), file))
				line[0] = '\0';
			fclose(file);
		}
		fail_msg("command failed: %s: %s", tool_command, line);
	}
	assert_int_equal(lines, PAGES);
}

/* Compare libmemprint's digest of each page with expected (hex). */
static void check_pages(enum mp_hash_id id, const void *key, size_t key_size,
			char expected[PAGES][HEX_MAX])
{
	struct mp_error error = { 0 };
	struct mp_hash *hash;
	uint8_t digest[MP_DIGEST_MAX];
	char hex[HEX_MAX];

	mp_assert_ok(mp_hash_open(&hash, id, key, key_size, &error), &error);
	for (int i = 0; i < PAGES; i++) {
		bool zero = mp_hash_page(hash, pages[i], digest);

		to_hex(digest, mp_hash_digest_size(id), hex);
		if (strcmp(hex, expected[i]) != 0)
			fail_msg("%s%s of page %s: got %s, expected %s", mp_hash_name(id),
				 key ? " (keyed)" : "", page_names[i], hex, expected[i]);
		assert_int_equal(zero, i == 0);
	}
	mp_hash_close(hash);
}

static void check_with_tool(enum mp_hash_id id, const char *tool, const char *options)
{
	char command[1024], expected[PAGES][HEX_MAX];

	if (!have_tool(tool))
		mp_test_skip("%s not found (install Debian package %s)", tool,
			     strcmp(tool, "xxhsum") == 0 ? "xxhash" : "coreutils");
	snprintf(command, sizeof(command), "%s %s '%s' '%s' '%s' '%s'", tool, options,
		 paths[0], paths[1], paths[2], paths[3]);
	run_tool(command, expected);
	check_pages(id, NULL, 0, expected);
}

static void check_with_python(enum mp_hash_id id, const void *key, size_t key_size)
{
	char command[1024], key_hex[2 * 64 + 1] = "", expected[PAGES][HEX_MAX];

	if (!have_tool("python3"))
		mp_test_skip("python3 not found (install Debian package python3)");
	if (key)
		to_hex(key, key_size, key_hex);
	snprintf(command, sizeof(command), "python3 '%s' %s '%s' '%s' '%s' '%s' '%s'", script,
		 mp_hash_name(id), key_hex, paths[0], paths[1], paths[2], paths[3]);
	run_tool(command, expected);
	check_pages(id, key, key_size, expected);
}

/* ------------------------------------------- digests from other programs */

static void test_xxh64_xxhsum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_XXH64, "xxhsum", "-H1");
}

static void test_xxh3_xxhsum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_XXH3, "xxhsum", "-H3");
}

static void test_xxh128_xxhsum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_XXH128, "xxhsum", "-H2");
}

static void test_md5_md5sum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_MD5, "md5sum", "");
}

static void test_sha1_sha1sum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_SHA1, "sha1sum", "");
}

static void test_sha256_sha256sum(void **state)
{
	(void)state;
	check_with_tool(MP_HASH_SHA256, "sha256sum", "");
}

static void test_crc32_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_CRC32, NULL, 0);
}

static void test_crc32ex_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_CRC32EX, NULL, 0);
}

static void test_superfast_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_SUPERFAST, NULL, 0);
}

static void test_pattern_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_PATTERN, NULL, 0);
}

static void test_hmac_md5_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_MD5, test_key, TEST_KEY_SIZE);
}

static void test_hmac_sha1_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_SHA1, test_key, TEST_KEY_SIZE);
}

static void test_hmac_sha256_python(void **state)
{
	(void)state;
	check_with_python(MP_HASH_SHA256, test_key, TEST_KEY_SIZE);
}

/* -------------------------------------- implementations in this test */

/* CRC32C bit by bit: reflected polynomial 0x82F63B78, init and final XOR ~0. */
static uint32_t crc32c_bitwise(const uint8_t *data, size_t size)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < size; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void test_crc32c_rfc3720(void **state)
{
	uint8_t data[32];

	(void)state;
	/* RFC 3720, appendix B.4, CRC examples */
	memset(data, 0x00, sizeof(data));
	assert_int_equal(crc32c_bitwise(data, sizeof(data)), 0x8A9136AA);
	memset(data, 0xFF, sizeof(data));
	assert_int_equal(crc32c_bitwise(data, sizeof(data)), 0x62A8AB43);
	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(crc32c_bitwise(data, sizeof(data)), 0x46DD794E);
	for (int i = 0; i < 32; i++)
		data[i] = (uint8_t)(31 - i);
	assert_int_equal(crc32c_bitwise(data, sizeof(data)), 0x113FDB5C);
}

static void test_crc32c_bitwise(void **state)
{
	char expected[PAGES][HEX_MAX];

	(void)state;
	for (int i = 0; i < PAGES; i++)
		snprintf(expected[i], HEX_MAX, "%08x", crc32c_bitwise(pages[i], MP_PAGE_SIZE));
	check_pages(MP_HASH_CRC32C, NULL, 0, expected);
}

/*
 * SuperFastHash for any length, from its definition, with the tail step
 * for 1-3 bytes; those bytes are signed chars as in Paul Hsieh's code.
 */
static uint32_t superfast_reference(const uint8_t *data, size_t size)
{
	uint32_t hash = (uint32_t)size, tmp;
	size_t groups = size / 4, i;

	for (i = 0; i < groups; i++, data += 4) {
		hash += data[0] | (uint32_t)data[1] << 8;
		tmp = ((data[2] | (uint32_t)data[3] << 8) << 11) ^ hash;
		hash = (hash << 16) ^ tmp;
		hash += hash >> 11;
	}

	switch (size % 4) {
	case 3:
		hash += data[0] | (uint32_t)data[1] << 8;
		hash ^= hash << 16;
		hash ^= (uint32_t)(int32_t)(signed char)data[2] << 18;
		hash += hash >> 11;
		break;
	case 2:
		hash += data[0] | (uint32_t)data[1] << 8;
		hash ^= hash << 11;
		hash += hash >> 17;
		break;
	case 1:
		hash += (uint32_t)(int32_t)(signed char)data[0];
		hash ^= hash << 10;
		hash += hash >> 1;
		break;
	}

	hash ^= hash << 3;
	hash += hash >> 5;
	hash ^= hash << 4;
	hash += hash >> 17;
	hash ^= hash << 25;
	hash += hash >> 6;
	return hash;
}

/*
 * Values published in two other implementations' unit tests: the sfh test
 * of Yandex's C++ util library (bytes 0..255, lengths 256 to 253) and
 * Hashlib.NET's SuperFast tests ("foob", "fooba", "foobar").
 */
static void test_superfast_published(void **state)
{
	uint8_t counting[256];

	(void)state;
	for (int i = 0; i < 256; i++)
		counting[i] = (uint8_t)i;
	assert_int_equal(superfast_reference(counting, 256), 3840866583u);
	assert_int_equal(superfast_reference(counting, 255), 325350515u);
	assert_int_equal(superfast_reference(counting, 254), 2920741773u);
	assert_int_equal(superfast_reference(counting, 253), 3586628615u);
	assert_int_equal(superfast_reference((const uint8_t *)"foob", 4), 0x58C9CBD5u);
	assert_int_equal(superfast_reference((const uint8_t *)"fooba", 5), 0xF9D871C8u);
	assert_int_equal(superfast_reference((const uint8_t *)"foobar", 6), 0xA6BCDCA9u);
}

static void test_superfast_reference(void **state)
{
	char expected[PAGES][HEX_MAX];

	(void)state;
	for (int i = 0; i < PAGES; i++)
		snprintf(expected[i], HEX_MAX, "%08x", superfast_reference(pages[i], MP_PAGE_SIZE));
	check_pages(MP_HASH_SUPERFAST, NULL, 0, expected);
}

/* pattern from its definition: bytes 1, 2, 4, ..., 2048, then bytes 4092-4095. */
static void test_pattern_definition(void **state)
{
	char expected[PAGES][HEX_MAX];

	(void)state;
	for (int i = 0; i < PAGES; i++) {
		uint8_t digest[16];
		int n = 0;

		for (size_t offset = 1; offset <= 2048; offset *= 2)
			digest[n++] = pages[i][offset];
		for (size_t offset = 4092; offset < 4096; offset++)
			digest[n++] = pages[i][offset];
		assert_int_equal(n, 16);
		to_hex(digest, sizeof(digest), expected[i]);
	}
	check_pages(MP_HASH_PATTERN, NULL, 0, expected);
}

/* --------------------------------------------------- keyed xxHash */

static void xxh_expected(enum mp_hash_id id, const void *key, size_t key_size,
			 char expected[PAGES][HEX_MAX])
{
	unsigned char secret[192];
	uint64_t seed = XXH64(key, key_size, 0);

	assert_int_equal(XXH3_generateSecret(secret, sizeof(secret), key, key_size), XXH_OK);
	for (int i = 0; i < PAGES; i++) {
		XXH128_hash_t wide;

		switch (id) {
		case MP_HASH_XXH64:
			snprintf(expected[i], HEX_MAX, "%016llx",
				 (unsigned long long)XXH64(pages[i], MP_PAGE_SIZE, seed));
			break;
		case MP_HASH_XXH3:
			snprintf(expected[i], HEX_MAX, "%016llx",
				 (unsigned long long)XXH3_64bits_withSecret(
					 pages[i], MP_PAGE_SIZE, secret, sizeof(secret)));
			break;
		default:
			wide = XXH3_128bits_withSecret(pages[i], MP_PAGE_SIZE, secret,
						       sizeof(secret));
			snprintf(expected[i], HEX_MAX, "%016llx%016llx",
				 (unsigned long long)wide.high64, (unsigned long long)wide.low64);
			break;
		}
	}
}

static void check_keyed_xxh(enum mp_hash_id id)
{
	static const uint8_t other_key[] = "memprint known-answer kez";
	char expected[PAGES][HEX_MAX], other[PAGES][HEX_MAX];

	xxh_expected(id, test_key, TEST_KEY_SIZE, expected);
	check_pages(id, test_key, TEST_KEY_SIZE, expected);

	/* A key that differs in one bit gives other digests for every page. */
	xxh_expected(id, other_key, TEST_KEY_SIZE, other);
	check_pages(id, other_key, TEST_KEY_SIZE, other);
	for (int i = 0; i < PAGES; i++)
		assert_string_not_equal(expected[i], other[i]);
}

static void test_xxh64_keyed(void **state)
{
	(void)state;
	check_keyed_xxh(MP_HASH_XXH64);
}

static void test_xxh3_keyed(void **state)
{
	(void)state;
	check_keyed_xxh(MP_HASH_XXH3);
}

static void test_xxh128_keyed(void **state)
{
	(void)state;
	check_keyed_xxh(MP_HASH_XXH128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xxh64_xxhsum),
		cmocka_unit_test(test_xxh3_xxhsum),
		cmocka_unit_test(test_xxh128_xxhsum),
		cmocka_unit_test(test_md5_md5sum),
		cmocka_unit_test(test_sha1_sha1sum),
		cmocka_unit_test(test_sha256_sha256sum),
		cmocka_unit_test(test_crc32_python),
		cmocka_unit_test(test_crc32ex_python),
		cmocka_unit_test(test_superfast_python),
		cmocka_unit_test(test_pattern_python),
		cmocka_unit_test(test_hmac_md5_python),
		cmocka_unit_test(test_hmac_sha1_python),
		cmocka_unit_test(test_hmac_sha256_python),
		cmocka_unit_test(test_crc32c_rfc3720),
		cmocka_unit_test(test_crc32c_bitwise),
		cmocka_unit_test(test_superfast_published),
		cmocka_unit_test(test_superfast_reference),
		cmocka_unit_test(test_pattern_definition),
		cmocka_unit_test(test_xxh64_keyed),
		cmocka_unit_test(test_xxh3_keyed),
		cmocka_unit_test(test_xxh128_keyed),
	};

	return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
