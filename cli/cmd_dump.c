// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_dump.c - memprint dump: decode a snapshot file to text or JSON
 *
 * Text has one line per record: the record type, then name=value fields,
 * with page records in fixed-width columns.  Byte strings (paths, names) are
 * quoted: '"', '\', newline and tab are escaped as in C, other control
 * characters and every byte that is not part of valid UTF-8 as \xHH.  JSON
 * strings follow lib/output/json.h; a path that is not valid UTF-8 also
 * gets its exact bytes in hex ("path_hex").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "options.h"
#include "output/json.h"

struct dump {
	FILE *out;
	struct mp_json json;
	uint64_t sets;
	uint32_t digest_size;
	uint32_t tasks, regions, files;
};

static void dump_help(void)
{
	fputs("Usage:\n memprint dump [options] FILE\n\n"
	      "Decode a snapshot file: every set, task, region, file and page record,\n"
	      "one line per record.\n"
	      "\nOptions:\n"
	      "  -J, --json     print JSON instead of text\n"
	      "  -h, --help     display this help\n"
	      "\nExit status: 0 success, 1 usage error, 2 runtime failure (an unreadable or\n"
	      "damaged file: the complete sets before the damage are still printed).\n", stdout);
}

/* ------------------------------------------------------------ names */

static const char *const source_names[] = {
	[MP_SOURCE_PROCFS] = "procfs",
	[MP_SOURCE_KMOD] = "kmod",
	[MP_SOURCE_PHYSICAL] = "physical",
	[MP_SOURCE_PAGECACHE] = "pagecache",
	[MP_SOURCE_IMAGE] = "image",
	[MP_SOURCE_SYNTHETIC] = "synthetic",
};

static const char *const region_kind_names[] = {
	[MP_REGION_ANON] = "anon",
	[MP_REGION_ANON_NAMED] = "anon_named",
	[MP_REGION_HEAP] = "heap",
	[MP_REGION_STACK] = "stack",
	[MP_REGION_FILE] = "file",
	[MP_REGION_SHMEM] = "shmem",
	[MP_REGION_KERNEL] = "kernel",
	[MP_REGION_DELETED] = "deleted",
};

static const char *const status_names[] = {
	[MP_TASK_COMPLETE] = "complete",
	[MP_TASK_EXITED] = "exited",
	[MP_TASK_EXECED] = "execed",
	[MP_TASK_FAILED] = "failed",
};

static const char *const skip_names[MP_SKIP_COUNT] = {
	[MP_SKIP_IO_PFNMAP] = "io_pfnmap",
	[MP_SKIP_PROT_NONE] = "prot_none",
	[MP_SKIP_VSYSCALL] = "vsyscall",
	[MP_SKIP_SWAPPED] = "swapped",
	[MP_SKIP_UNREADABLE] = "unreadable",
	[MP_SKIP_MOVED] = "moved",
};

/* A value's name from table, or "unknown-N" (in buffer) for a value it does not list. */
static const char *value_name(const char *const *table, size_t count, uint32_t value,
			      char *buffer, size_t size)
{
	if (value < count && table[value])
		return table[value];
	snprintf(buffer, size, "unknown-%" PRIu32, value);
	return buffer;
}

#define NAME(table, value, buffer) \
	value_name(table, sizeof(table) / sizeof(table[0]), value, buffer, sizeof(buffer))

static const char *hash_name(uint32_t hash, char *buffer, size_t size)
{
	const char *name = hash > MP_HASH_NONE && hash < MP_HASH_COUNT ? mp_hash_name(hash) : NULL;

	if (name)
		return name;
	snprintf(buffer, size, "unknown-%" PRIu32, hash);
	return buffer;
}

/* ------------------------------------------------------------- text */

static void text_bytes(FILE *out, const void *bytes, size_t size)
{
	const unsigned char *s = bytes;

	fputc('"', out);
	for (size_t i = 0, n; i < size; i += n) {
		n = mp_utf8_length(s + i, size - i);
		if (n == 0) {
			fprintf(out, "\\x%02x", s[i]);
			n = 1;
		} else if (s[i] == '"' || s[i] == '\\') {
			fprintf(out, "\\%c", s[i]);
		} else if (s[i] == '\n') {
			fputs("\\n", out);
		} else if (s[i] == '\t') {
			fputs("\\t", out);
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(out, "\\x%02x", s[i]);
		} else {
			fwrite(s + i, 1, n, out);
		}
	}
	fputc('"', out);
}

static void text_ksm(FILE *out, const struct mp_ksm_counters *k)
{
	if (!k->valid) {
		fputs(" ksm=none", out);
		return;
	}
	fprintf(out, " ksm=run:%" PRIu64 ",shared:%" PRIu64 ",sharing:%" PRIu64 ",unshared:%"
		PRIu64 ",volatile:%" PRIu64 ",full_scans:%" PRIu64 ",max_page_sharing:%" PRIu64
		",use_zero_pages:%" PRIu64 ",zero_pages:%" PRIu64, k->run, k->pages_shared,
		k->pages_sharing, k->pages_unshared, k->pages_volatile, k->full_scans,
		k->max_page_sharing, k->use_zero_pages, k->ksm_zero_pages);
}

static void text_index(FILE *out, const char *name, uint32_t index)
{
	if (index == MP_NONE)
		fprintf(out, " %s=%-5s", name, "-");
	else
		fprintf(out, " %s=%-5" PRIu32, name, index);
}

static int text_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct dump *d = ctx;
	char source[32], hash[32];

	d->digest_size = info->digest_size;
	d->tasks = d->regions = d->files = 0;
	fprintf(d->out, "set       %" PRIu64 " host=", d->sets);
	text_bytes(d->out, info->host, strlen(info->host));
	fputs(" kernel=", d->out);
	text_bytes(d->out, info->kernel, strlen(info->kernel));
	fprintf(d->out, " page_size=%" PRIu32 " source=%s hash=%s digest_size=%" PRIu32
		" flags=0x%" PRIx32 " realtime_ns=%" PRId64 " monotonic_ns=%" PRId64
		" boottime_ns=%" PRId64, info->page_size, NAME(source_names, info->source, source),
		hash_name(info->hash, hash, sizeof(hash)), info->digest_size, info->flags,
		info->realtime_ns, info->monotonic_ns, info->boottime_ns);
	text_ksm(d->out, &info->ksm);
	fputc('\n', d->out);
	return 0;
}

static int text_task(void *ctx, const struct mp_task *task)
{
	struct dump *d = ctx;
	const struct mp_ksm_task_stat *k = &task->ksm;

	fprintf(d->out, "task      %" PRIu32 " pid=%" PRId32 " ppid=%" PRId32 " uid=%" PRIu32
		" flags=0x%" PRIx32 " comm=", d->tasks++, task->pid, task->ppid, task->uid,
		task->flags);
	text_bytes(d->out, task->comm, strnlen(task->comm, sizeof(task->comm)));
	if (k->valid)
		fprintf(d->out, " ksm=rmap_items:%" PRIu64 ",zero_pages:%" PRIu64 ",merging_pages:%"
			PRIu64 ",process_profit:%" PRId64 "\n", k->ksm_rmap_items,
			k->ksm_zero_pages, k->ksm_merging_pages, k->ksm_process_profit);
	else
		fputs(" ksm=none\n", d->out);
	return 0;
}

static int text_region(void *ctx, const struct mp_region *r)
{
	struct dump *d = ctx;
	char kind[32];

	fprintf(d->out, "region    %" PRIu32 " task=%" PRIu32 " kind=%s start=0x%" PRIx64
		" end=0x%" PRIx64 " offset=0x%" PRIx64 " dev=%u:%u inode=%" PRIu64
		" prot=%c%c%c%c vm_flags=0x%" PRIx32 " path=", d->regions++, r->task,
		NAME(region_kind_names, r->kind, kind), r->start, r->end, r->offset,
		major(r->dev), minor(r->dev), r->inode, r->prot & MP_PROT_READ ? 'r' : '-',
		r->prot & MP_PROT_WRITE ? 'w' : '-', r->prot & MP_PROT_EXEC ? 'x' : '-',
		r->prot & MP_PROT_SHARED ? 's' : 'p', r->vm_flags);
	text_bytes(d->out, r->path, r->path_size);
	fputc('\n', d->out);
	return 0;
}

static int text_file(void *ctx, const struct mp_file *f)
{
	struct dump *d = ctx;

	fprintf(d->out, "file      %" PRIu32 " dev=%u:%u inode=%" PRIu64 " size=%" PRIu64
		" flags=0x%" PRIx32 " path=", d->files++, major(f->dev), minor(f->dev), f->inode,
		f->size, f->flags);
	text_bytes(d->out, f->path, f->path_size);
	fputc('\n', d->out);
	return 0;
}

static int text_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct dump *d = ctx;

	for (size_t i = 0; i < count; i++) {
		const struct mp_page *p = &pages[i];

		fputs("page     ", d->out);
		text_index(d->out, "task", p->task);
		text_index(d->out, "region", p->region);
		fprintf(d->out, " index=0x%013" PRIx64 " pfn=0x%010" PRIx64 " pagemap=0x%016" PRIx64
			" kpageflags=0x%016" PRIx64 " mapcount=%-5" PRIu32 " flags=0x%02" PRIx32
			" digest=", p->index, p->pfn, p->pagemap, p->kpageflags, p->mapcount,
			p->flags);
		for (uint32_t k = 0; k < d->digest_size; k++)
			fprintf(d->out, "%02x", p->digest[k]);
		fputc('\n', d->out);
	}
	return 0;
}

static int text_task_end(void *ctx, const struct mp_task_end *end)
{
	struct dump *d = ctx;
	char status[32];

	fprintf(d->out, "task_end  task=%" PRIu32 " status=%s pages=%" PRIu64 " skipped=",
		end->task, NAME(status_names, end->status, status), end->pages);
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		fprintf(d->out, "%s%s:%" PRIu64, i ? "," : "", skip_names[i], end->skipped[i]);
	fputc('\n', d->out);
	return 0;
}

static int text_end_set(void *ctx, const struct mp_set_end *end)
{
	struct dump *d = ctx;

	fprintf(d->out, "set_end   flags=0x%" PRIx32 " duration_ns=%" PRIu64, end->flags,
		end->duration_ns);
	text_ksm(d->out, &end->ksm);
	fputc('\n', d->out);
	d->sets++;
	return 0;
}

static const struct mp_sink_ops text_ops = {
	.begin_set = text_begin_set,
	.task = text_task,
	.region = text_region,
	.file = text_file,
	.pages = text_pages,
	.task_end = text_task_end,
	.end_set = text_end_set,
};

/* ------------------------------------------------------------- JSON */

static void json_ksm(struct mp_json *j, const char *key, const struct mp_ksm_counters *k)
{
	if (!k->valid) {
		mp_json_null(j, key);
		return;
	}
	mp_json_open(j, key, '{', true);
	mp_json_u64(j, "run", k->run);
	mp_json_u64(j, "pages_shared", k->pages_shared);
	mp_json_u64(j, "pages_sharing", k->pages_sharing);
	mp_json_u64(j, "pages_unshared", k->pages_unshared);
	mp_json_u64(j, "pages_volatile", k->pages_volatile);
	mp_json_u64(j, "full_scans", k->full_scans);
	mp_json_u64(j, "max_page_sharing", k->max_page_sharing);
	mp_json_u64(j, "use_zero_pages", k->use_zero_pages);
	mp_json_u64(j, "ksm_zero_pages", k->ksm_zero_pages);
	mp_json_close(j, '}');
}

static void json_index(struct mp_json *j, const char *key, uint32_t index)
{
	if (index == MP_NONE)
		mp_json_null(j, key);
	else
		mp_json_u64(j, key, index);
}

static void json_path(struct mp_json *j, const char *path, size_t size)
{
	mp_json_bytes(j, "path", path, size);
	if (!mp_utf8_valid(path, size))
		mp_json_hex(j, "path_hex", path, size);
}

static int json_begin_set(void *ctx, const struct mp_set_info *info)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;
	char source[32], hash[32];

	d->digest_size = info->digest_size;
	d->tasks = d->regions = d->files = 0;
	mp_json_open(j, NULL, '{', false);
	mp_json_u64(j, "set", d->sets);
	mp_json_string(j, "host", info->host);
	mp_json_string(j, "kernel", info->kernel);
	mp_json_u64(j, "page_size", info->page_size);
	mp_json_string(j, "source", NAME(source_names, info->source, source));
	mp_json_string(j, "hash", hash_name(info->hash, hash, sizeof(hash)));
	mp_json_u64(j, "digest_size", info->digest_size);
	mp_json_u64(j, "flags", info->flags);
	mp_json_i64(j, "realtime_ns", info->realtime_ns);
	mp_json_i64(j, "monotonic_ns", info->monotonic_ns);
	mp_json_i64(j, "boottime_ns", info->boottime_ns);
	json_ksm(j, "ksm", &info->ksm);
	mp_json_open(j, "records", '[', false);
	return 0;
}

static int json_task(void *ctx, const struct mp_task *task)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;

	mp_json_open(j, NULL, '{', true);
	mp_json_string(j, "type", "task");
	mp_json_u64(j, "index", d->tasks++);
	mp_json_i64(j, "pid", task->pid);
	mp_json_i64(j, "ppid", task->ppid);
	mp_json_u64(j, "uid", task->uid);
	mp_json_u64(j, "flags", task->flags);
	mp_json_bytes(j, "comm", task->comm, strnlen(task->comm, sizeof(task->comm)));
	if (task->ksm.valid) {
		mp_json_u64(j, "ksm_rmap_items", task->ksm.ksm_rmap_items);
		mp_json_u64(j, "ksm_zero_pages", task->ksm.ksm_zero_pages);
		mp_json_u64(j, "ksm_merging_pages", task->ksm.ksm_merging_pages);
		mp_json_i64(j, "ksm_process_profit", task->ksm.ksm_process_profit);
	}
	mp_json_close(j, '}');
	return 0;
}

static int json_region(void *ctx, const struct mp_region *r)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;
	char kind[32];

	mp_json_open(j, NULL, '{', true);
	mp_json_string(j, "type", "region");
	mp_json_u64(j, "index", d->regions++);
	mp_json_u64(j, "task", r->task);
	mp_json_string(j, "kind", NAME(region_kind_names, r->kind, kind));
	mp_json_u64(j, "start", r->start);
	mp_json_u64(j, "end", r->end);
	mp_json_u64(j, "offset", r->offset);
	mp_json_u64(j, "dev_major", major(r->dev));
	mp_json_u64(j, "dev_minor", minor(r->dev));
	mp_json_u64(j, "inode", r->inode);
	mp_json_u64(j, "prot", r->prot);
	mp_json_u64(j, "vm_flags", r->vm_flags);
	json_path(j, r->path, r->path_size);
	mp_json_close(j, '}');
	return 0;
}

static int json_file(void *ctx, const struct mp_file *f)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;

	mp_json_open(j, NULL, '{', true);
	mp_json_string(j, "type", "file");
	mp_json_u64(j, "index", d->files++);
	mp_json_u64(j, "dev_major", major(f->dev));
	mp_json_u64(j, "dev_minor", minor(f->dev));
	mp_json_u64(j, "inode", f->inode);
	mp_json_u64(j, "size", f->size);
	mp_json_u64(j, "flags", f->flags);
	json_path(j, f->path, f->path_size);
	mp_json_close(j, '}');
	return 0;
}

static int json_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;

	for (size_t i = 0; i < count; i++) {
		const struct mp_page *p = &pages[i];

		mp_json_open(j, NULL, '{', true);
		mp_json_string(j, "type", "page");
		json_index(j, "task", p->task);
		json_index(j, "region", p->region);
		mp_json_u64(j, "index", p->index);
		mp_json_u64(j, "pfn", p->pfn);
		mp_json_u64(j, "pagemap", p->pagemap);
		mp_json_u64(j, "kpageflags", p->kpageflags);
		mp_json_u64(j, "mapcount", p->mapcount);
		mp_json_u64(j, "flags", p->flags);
		mp_json_hex(j, "digest", p->digest, d->digest_size);
		mp_json_close(j, '}');
	}
	return 0;
}

static int json_task_end(void *ctx, const struct mp_task_end *end)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;
	char status[32];

	mp_json_open(j, NULL, '{', true);
	mp_json_string(j, "type", "task_end");
	mp_json_u64(j, "task", end->task);
	mp_json_string(j, "status", NAME(status_names, end->status, status));
	mp_json_u64(j, "pages", end->pages);
	mp_json_open(j, "skipped", '{', true);
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		mp_json_u64(j, skip_names[i], end->skipped[i]);
	mp_json_close(j, '}');
	mp_json_close(j, '}');
	return 0;
}

static int json_end_set(void *ctx, const struct mp_set_end *end)
{
	struct dump *d = ctx;
	struct mp_json *j = &d->json;

	mp_json_close(j, ']');
	mp_json_open(j, "end", '{', false);
	mp_json_u64(j, "flags", end->flags);
	mp_json_u64(j, "duration_ns", end->duration_ns);
	json_ksm(j, "ksm", &end->ksm);
	mp_json_close(j, '}');
	mp_json_close(j, '}');
	d->sets++;
	return 0;
}

static const struct mp_sink_ops json_ops = {
	.begin_set = json_begin_set,
	.task = json_task,
	.region = json_region,
	.file = json_file,
	.pages = json_pages,
	.task_end = json_task_end,
	.end_set = json_end_set,
};

/* ------------------------------------------------------------ command */

/* Print every complete set of the file; returns the exit status. */
static int dump_file(const char *path, bool json)
{
	struct dump d = { .out = stdout };
	struct mp_sink sink = { json ? &json_ops : &text_ops, &d, NULL };
	struct mp_error error = { 0 };
	struct mp_reader *reader;
	unsigned major_version, minor_version;
	int rc;

	rc = mp_reader_open(&reader, path, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	mp_reader_version(reader, &major_version, &minor_version);

	mp_json_init(&d.json, stdout);
	if (json) {
		mp_json_open(&d.json, NULL, '{', false);
		mp_json_open(&d.json, "format", '{', true);
		mp_json_u64(&d.json, "major", major_version);
		mp_json_u64(&d.json, "minor", minor_version);
		mp_json_close(&d.json, '}');
		mp_json_open(&d.json, "sets", '[', false);
	} else {
		printf("format    %u.%u\n", major_version, minor_version);
	}

	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0)
		;
	mp_reader_close(reader);
	if (json) {
		mp_json_close(&d.json, ']');
		mp_json_close(&d.json, '}');
	}

	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn("cannot write output: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return rc < 0 ? cli_report_error(&error, rc) : 0;
}

int cmd_dump(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":Jh", options, NULL)) != -1) {
		switch (opt) {
		case 'J':
			json = true;
			break;
		case 'h':
			dump_help();
			return 0;
		default:
			return cli_getopt_error("dump", opt, argv);
		}
	}
	if (optind == argc)
		return cli_usage_error("dump", "missing snapshot FILE");
	if (argc - optind > 1)
		return cli_usage_error("dump", "unexpected argument '%s': dump reads one FILE",
				       argv[optind + 1]);
	return dump_file(argv[optind], json);
}
