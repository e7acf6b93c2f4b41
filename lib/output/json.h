/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json.h - a small streaming JSON writer with typed numbers
 *
 * Containers nest; a container opened "inline" keeps its members on one
 * line, so that long arrays of small objects print one object per line.
 * Strings are bytes.  Valid UTF-8 is copied, and control characters, '"'
 * and '\' are escaped.  Any byte that is not part of valid UTF-8 is written
 * as the code point of the same value (\u0080 to \u00ff), as the report
 * printers do.
 */
#ifndef MEMPRINT_OUTPUT_JSON_H
#define MEMPRINT_OUTPUT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MP_JSON_DEPTH_MAX 16

struct mp_json {
	FILE *out;
	int depth;
	bool first;				/* no member written yet at this depth */
	bool inline_from_depth[MP_JSON_DEPTH_MAX + 1];	/* members stay on one line */
};

void mp_json_init(struct mp_json *json, FILE *out);

/* Open an object or array; key is NULL inside arrays and for the root. */
void mp_json_open(struct mp_json *json, const char *key, char bracket, bool single_line);
void mp_json_close(struct mp_json *json, char bracket);

void mp_json_u64(struct mp_json *json, const char *key, uint64_t value);
void mp_json_i64(struct mp_json *json, const char *key, int64_t value);
void mp_json_bool(struct mp_json *json, const char *key, bool value);
void mp_json_null(struct mp_json *json, const char *key);
void mp_json_string(struct mp_json *json, const char *key, const char *value);
void mp_json_bytes(struct mp_json *json, const char *key, const void *bytes, size_t size);
/* Bytes as a string of lowercase hex digits, two per byte. */
void mp_json_hex(struct mp_json *json, const char *key, const void *bytes, size_t size);

/* Length of the valid UTF-8 sequence at s (at most size bytes), 0 if invalid. */
size_t mp_utf8_length(const unsigned char *s, size_t size);
/* Whether size bytes at s are all valid UTF-8. */
bool mp_utf8_valid(const void *s, size_t size);

#endif /* MEMPRINT_OUTPUT_JSON_H */
