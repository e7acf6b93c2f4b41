// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * report_json.c - print reports as JSON with typed numbers
 *
 * One report is one object; several (a file with a series of sets) are
 * {"sets": [...]}.  Numbers count 4 KiB pages.  A number that needs PFNs
 * is null when the set has none.  Paths and names are bytes as the kernel
 * gave them: valid UTF-8 is copied, and any other byte is written as the
 * code point of the same value (\u0080 to \u00ff).
 */
#include <string.h>

#include "output/report_output.h"

struct json {
	FILE *out;
	int depth;
	bool first;		/* no member written yet at this depth */
};

static void json_indent(struct json *j)
{
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void json_next(struct json *j)
{
	if (!j->first)
		fputc(',', j->out);
	j->first = false;
	if (j->depth)
		json_indent(j);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void json_string_bytes(struct json *j, const char *text, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;

	fputc('"', j->out);
	for (size_t i = 0; i < size; ) {
		size_t len = utf8_length(s + i, size - i);

		if (len == 0) {
			fprintf(j->out, "\\u%04x", s[i]);
			i++;
			continue;
		}
		if (s[i] == '"' || s[i] == '\\')
			fprintf(j->out, "\\%c", s[i]);
		else if (s[i] < 0x20)
			fprintf(j->out, "\\u%04x", s[i]);
		else
			fwrite(s + i, 1, len, j->out);
		i += len;
	}
	fputc('"', j->out);
}

static void json_key(struct json *j, const char *key)
{
	json_next(j);
	fprintf(j->out, "\"%s\": ", key);
}

static void json_open(struct json *j, const char *key, char bracket)
{
	if (key)
		json_key(j, key);
	else
		json_next(j);
	fputc(bracket, j->out);
	j->depth++;
	j->first = true;
}

static void json_close(struct json *j, char bracket)
{
	bool empty = j->first;

	j->depth--;
	if (!empty)
		json_indent(j);
	fputc(bracket, j->out);
	j->first = false;
}

static void json_u64(struct json *j, const char *key, uint64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%llu", (unsigned long long)value);
}

static void json_i64(struct json *j, const char *key, int64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%lld", (long long)value);
}

static void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

static void json_string(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string_bytes(j, value, strlen(value));
}

static void json_totals(struct json *j, const struct mp_totals *t, bool pfn_valid)
{
	for (size_t i = 0; i < mp_total_field_count; i++) {
		const struct total_field *f = &mp_total_fields[i];

		if (f->needs_pfn && !pfn_valid) {
			json_key(j, f->key);
			fputs("null", j->out);
			continue;
		}
		json_u64(j, f->key, total_value(t, f));
	}
	json_open(j, "opportunities", '{');
	for (size_t i = 0; i < mp_opportunity_field_count; i++)
		json_u64(j, mp_opportunity_fields[i].key, total_value(t, &mp_opportunity_fields[i]));
	json_close(j, '}');
	json_open(j, "frames_by_kind", '{');
	for (int k = 0; k < MP_KIND_COUNT; k++)
		json_u64(j, mp_kind_name(k), t->frames_by_kind[k]);
	json_close(j, '}');
}

static void json_ksm_counters(struct json *j, const char *key, const struct mp_ksm_counters *c)
{
	if (!c->valid) {
		json_key(j, key);
		fputs("null", j->out);
		return;
	}
	json_open(j, key, '{');
	json_u64(j, "run", c->run);
	json_u64(j, "pages_shared", c->pages_shared);
	json_u64(j, "pages_sharing", c->pages_sharing);
	json_u64(j, "pages_unshared", c->pages_unshared);
	json_u64(j, "pages_volatile", c->pages_volatile);
	json_u64(j, "full_scans", c->full_scans);
	json_u64(j, "max_page_sharing", c->max_page_sharing);
	json_u64(j, "use_zero_pages", c->use_zero_pages);
	json_u64(j, "ksm_zero_pages", c->ksm_zero_pages);
	json_close(j, '}');
}

static void json_tasks(struct json *j, const struct mp_report *r)
{
	json_open(j, "tasks", '[');
	for (size_t i = 0; i < r->task_count; i++) {
		const struct mp_task_totals *t = &r->tasks[i];

		json_open(j, NULL, '{');
		json_i64(j, "pid", t->pid);
		json_string(j, "comm", t->comm);
		json_string(j, "status", mp_task_status_name(t->status));
		json_totals(j, &t->totals, r->pfn_valid);
		if (t->ksm.valid) {
			json_u64(j, "ksm_zero_pages", t->ksm.ksm_zero_pages);
			json_u64(j, "ksm_merging_pages", t->ksm.ksm_merging_pages);
			json_u64(j, "ksm_rmap_items", t->ksm.ksm_rmap_items);
			json_i64(j, "ksm_process_profit", t->ksm.ksm_process_profit);
		}
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_files(struct json *j, const struct mp_report *r)
{
	json_open(j, "files", '[');
	for (size_t i = 0; i < r->file_count; i++) {
		const struct mp_file_totals *f = &r->files[i];

		json_open(j, NULL, '{');
		json_string(j, "path", f->path);
		json_u64(j, "dev", f->dev);
		json_u64(j, "inode", f->inode);
		json_totals(j, &f->totals, r->pfn_valid);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_kinds(struct json *j, const struct mp_report *r)
{
	json_open(j, "kinds", '[');
	for (int k = 0; k < MP_KIND_COUNT; k++) {
		json_open(j, NULL, '{');
		json_string(j, "kind", mp_kind_name(k));
		json_totals(j, &r->kinds[k], r->pfn_valid);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_contents(struct json *j, const struct mp_report *r)
{
	char digest[2 * MP_DIGEST_MAX + 1];

	json_open(j, "contents", '[');
	for (size_t i = 0; i < r->content_count; i++) {
		const struct mp_content *c = &r->contents[i];

		mp_format_digest(digest, sizeof(digest), c);
		json_open(j, NULL, '{');
		json_string(j, "digest_key", digest);
		json_u64(j, "frames", c->frames);
		json_u64(j, "mappings", c->mappings);
		json_bool(j, "zero_filled", c->zero_filled);
		json_string(j, "group", mp_group_kind_name(c->group_kind));
		json_bool(j, "external", c->external);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_skipped(struct json *j, const struct mp_report *r)
{
	static const char *const names[MP_SKIP_COUNT] = {
		"io_pfnmap", "prot_none", "vsyscall", "swapped", "unreadable", "moved",
	};

	json_open(j, "skipped", '{');
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		json_u64(j, names[i], r->skipped[i]);
	json_close(j, '}');
}

/* One report; index numbers the sets from 0, as watch, timeline and dump do. */
static void json_report(struct json *j, const struct mp_report *r, size_t index)
{
	json_open(j, NULL, '{');
	json_u64(j, "set", index);
	json_string(j, "host", r->info.host);
	json_string(j, "kernel", r->info.kernel);
	json_string(j, "hash", mp_hash_name(r->info.hash));
	json_i64(j, "realtime_ns", r->info.realtime_ns);
	json_u64(j, "sets", r->sets);
	json_bool(j, "pfn_valid", r->pfn_valid);
	json_totals(j, &r->totals, r->pfn_valid);
	json_u64(j, "moved_pages", r->moved_pages);
	json_u64(j, "partial_tasks", r->partial_tasks);
	json_skipped(j, r);
	json_u64(j, "max_page_sharing", r->max_page_sharing);
	json_bool(j, "use_zero_pages", r->use_zero_pages);
	json_ksm_counters(j, "ksm_start", &r->info.ksm);
	json_ksm_counters(j, "ksm_end", &r->ksm_end);
	json_kinds(j, r);
	if (r->tasks)
		json_tasks(j, r);
	if (r->files)
		json_files(j, r);
	json_contents(j, r);
	json_close(j, '}');
}

int mp_report_print_json(FILE *out, const struct mp_report *const *reports, size_t count,
			 const struct mp_output_options *options)
{
	struct json j = { .out = out, .first = true };

	(void)options;
	if (count == 1) {
		json_report(&j, reports[0], 0);
	} else {
		json_open(&j, NULL, '{');
		json_open(&j, "sets", '[');
		for (size_t i = 0; i < count; i++)
			json_report(&j, reports[i], i);
		json_close(&j, ']');
		json_close(&j, '}');
	}
	fputc('\n', out);
	return 0;
}
