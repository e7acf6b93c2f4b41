// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * json.c - a small streaming JSON writer (RFC 8259) with typed numbers
 */
#include <inttypes.h>
#include <string.h>

#include "output/json.h"

void mp_json_init(struct mp_json *json, FILE *out)
{
	memset(json, 0, sizeof(*json));
	json->out = out;
	json->first = true;
}

static bool single_line(const struct mp_json *json)
{
	for (int i = 0; i <= json->depth && i <= MP_JSON_DEPTH_MAX; i++)
		if (json->inline_from_depth[i])
			return true;
	return false;
}

static void newline(struct mp_json *json)
{
	if (single_line(json)) {
		return;
	}
	fputc('\n', json->out);
	for (int i = 0; i < json->depth; i++)
		fputs("  ", json->out);
}

/* Separate a member from the one before it. */
static void next_member(struct mp_json *json)
{
	if (!json->first)
		fputs(single_line(json) ? ", " : ",", json->out);
	json->first = false;
	if (json->depth)
		newline(json);
}

static void key(struct mp_json *json, const char *name)
{
	next_member(json);
	if (name)
		fprintf(json->out, "\"%s\": ", name);
}

void mp_json_open(struct mp_json *json, const char *name, char bracket, bool one_line)
{
	key(json, name);
	fputc(bracket, json->out);
	if (json->depth < MP_JSON_DEPTH_MAX)
		json->depth++;
	json->inline_from_depth[json->depth] = one_line;
	json->first = true;
}

void mp_json_close(struct mp_json *json, char bracket)
{
	bool empty = json->first;
	bool one_line = json->inline_from_depth[json->depth];

	json->inline_from_depth[json->depth] = false;
	if (json->depth)
		json->depth--;
	if (!empty && !one_line)
		newline(json);
	fputc(bracket, json->out);
	json->first = false;
	if (!json->depth)
		fputc('\n', json->out);
}

void mp_json_u64(struct mp_json *json, const char *name, uint64_t value)
{
	key(json, name);
	fprintf(json->out, "%" PRIu64, value);
}

void mp_json_i64(struct mp_json *json, const char *name, int64_t value)
{
	key(json, name);
	fprintf(json->out, "%" PRId64, value);
}

void mp_json_bool(struct mp_json *json, const char *name, bool value)
{
	key(json, name);
	fputs(value ? "true" : "false", json->out);
}

void mp_json_null(struct mp_json *json, const char *name)
{
	key(json, name);
	fputs("null", json->out);
}

size_t mp_utf8_length(const unsigned char *s, size_t size)
{
	size_t length;
	uint32_t code;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		length = 2, code = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		length = 3, code = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		length = 4, code = s[0] & 0x07;
	else
		return 0;
	if (length > size)
		return 0;
	for (size_t i = 1; i < length; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		code = code << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are invalid (RFC 3629). */
	if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
	    (length == 4 && code < 0x10000) || (code >= 0xd800 && code <= 0xdfff) ||
	    code > 0x10ffff)
		return 0;
	return length;
}

bool mp_utf8_valid(const void *bytes, size_t size)
{
	const unsigned char *s = bytes;

	for (size_t i = 0, n; i < size; i += n) {
		n = mp_utf8_length(s + i, size - i);
		if (!n)
			return false;
	}
	return true;
}

void mp_json_bytes(struct mp_json *json, const char *name, const void *bytes, size_t size)
{
	const unsigned char *s = bytes;

	key(json, name);
	fputc('"', json->out);
	for (size_t i = 0, n; i < size; i += n) {
		n = mp_utf8_length(s + i, size - i);
		if (n == 0) {
			fprintf(json->out, "\\u%04x", s[i]);
			n = 1;
		} else if (s[i] == '"' || s[i] == '\\') {
			fprintf(json->out, "\\%c", s[i]);
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(json->out, "\\u%04x", s[i]);
		} else {
			fwrite(s + i, 1, n, json->out);
		}
	}
	fputc('"', json->out);
}

void mp_json_string(struct mp_json *json, const char *name, const char *value)
{
	mp_json_bytes(json, name, value, strlen(value));
}

void mp_json_hex(struct mp_json *json, const char *name, const void *bytes, size_t size)
{
	const unsigned char *s = bytes;

	key(json, name);
	fputc('"', json->out);
	for (size_t i = 0; i < size; i++)
		fprintf(json->out, "%02x", s[i]);
	fputc('"', json->out);
}
