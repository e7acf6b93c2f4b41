// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_format.c - snapshot files: every field of every record written and
 * read back equal, for every digest width, with and without compression,
 * several sets per file, append, and the writer's own checks
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------- a recording sink */

enum event_type { EV_BEGIN, EV_TASK, EV_REGION, EV_FILE, EV_PAGE, EV_TASK_END, EV_END };

struct event {
	enum event_type type;
	union {
		struct mp_set_info info;
		struct mp_task task;
		struct mp_region region;
		struct mp_file file;
		struct mp_page page;
		struct mp_task_end task_end;
		struct mp_set_end end;
	} u;
	char *path;			/* copy of a region's or file's path bytes */
};

struct recording {
	struct event *events;
	size_t count, capacity;
};

static struct event *record_event(struct recording *rec, enum event_type type)
{
	struct event *e;

	if (rec->count == rec->capacity) {
		rec->capacity = rec->capacity ? 2 * rec->capacity : 1024;
		rec->events = realloc(rec->events, rec->capacity * sizeof(*rec->events));
		assert_non_null(rec->events);
	}
	e = &rec->events[rec->count++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static char *copy_bytes(const char *p, size_t size)
{
	char *copy = malloc(size + 1);

	assert_non_null(copy);
	if (size)
		memcpy(copy, p, size);
	return copy;
}

static int rec_begin(void *ctx, const struct mp_set_info *info)
{
	record_event(ctx, EV_BEGIN)->u.info = *info;
	return 0;
}

static int rec_task(void *ctx, const struct mp_task *task)
{
	record_event(ctx, EV_TASK)->u.task = *task;
	return 0;
}

static int rec_region(void *ctx, const struct mp_region *region)
{
	struct event *e = record_event(ctx, EV_REGION);

	e->u.region = *region;
	e->path = copy_bytes(region->path, region->path_size);
	return 0;
}

static int rec_file(void *ctx, const struct mp_file *file)
{
	struct event *e = record_event(ctx, EV_FILE);

	e->u.file = *file;
	e->path = copy_bytes(file->path, file->path_size);
	return 0;
}

static int rec_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	for (size_t i = 0; i < count; i++)
		record_event(ctx, EV_PAGE)->u.page = pages[i];
	return 0;
}

static int rec_task_end(void *ctx, const struct mp_task_end *end)
{
	record_event(ctx, EV_TASK_END)->u.task_end = *end;
	return 0;
}

static int rec_end(void *ctx, const struct mp_set_end *end)
{
	record_event(ctx, EV_END)->u.end = *end;
	return 0;
}

static const struct mp_sink_ops rec_ops = {
	.begin_set = rec_begin, .task = rec_task, .region = rec_region, .file = rec_file,
	.pages = rec_pages, .task_end = rec_task_end, .end_set = rec_end,
};

static void recording_free(struct recording *rec)
{
	for (size_t i = 0; i < rec->count; i++)
		free(rec->events[i].path);
	free(rec->events);
	memset(rec, 0, sizeof(*rec));
}

/* Replay recorded events into a sink, as a source would push them. */
static void replay(const struct recording *rec, size_t first, size_t last,
		   const struct mp_sink *sink)
{
	const struct mp_sink_ops *ops = sink->ops;
	struct mp_error *error = sink->error;

	for (size_t i = first; i < last; i++) {
		const struct event *e = &rec->events[i];

		switch (e->type) {
		case EV_BEGIN:
			mp_assert_ok(ops->begin_set(sink->ctx, &e->u.info), error);
			break;
		case EV_TASK:
			mp_assert_ok(ops->task(sink->ctx, &e->u.task), error);
			break;
		case EV_REGION:
			mp_assert_ok(ops->region(sink->ctx, &e->u.region), error);
			break;
		case EV_FILE:
			mp_assert_ok(ops->file(sink->ctx, &e->u.file), error);
			break;
		case EV_PAGE: {
			size_t n = 1;

			/* Hand on runs of pages in one call, as sources do. */
			while (i + n < last && n < 300 && rec->events[i + n].type == EV_PAGE)
				n++;
			struct mp_page *pages = malloc(n * sizeof(*pages));

			assert_non_null(pages);
			for (size_t k = 0; k < n; k++)
				pages[k] = rec->events[i + k].u.page;
			mp_assert_ok(ops->pages(sink->ctx, pages, n), error);
			free(pages);
			i += n - 1;
			break;
		}
		case EV_TASK_END:
			mp_assert_ok(ops->task_end(sink->ctx, &e->u.task_end), error);
			break;
		case EV_END:
			mp_assert_ok(ops->end_set(sink->ctx, &e->u.end), error);
			break;
		}
	}
}

/* ---------------------------------------- generated sets to write */

static uint64_t rng_state;

/* xorshift64*: fixed seeds make every run write the same records. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void add_info(struct recording *rec, uint32_t digest_size, uint32_t source)
{
	struct mp_set_info *info = &record_event(rec, EV_BEGIN)->u.info;

	strcpy(info->host, "host-with-a-name-of-exactly-sixty-four-bytes-0123456789abcdefghi");
	strcpy(info->kernel, "6.18.0-1-amd64");
	info->page_size = MP_PAGE_SIZE;
	info->source = source;
	info->hash = MP_HASH_XXH3;
	info->digest_size = digest_size;
	info->flags = MP_SET_PFN_VALID | MP_SET_FROZEN | (1u << 30);
	info->realtime_ns = 1764800000123456789;
	info->monotonic_ns = -5;
	info->boottime_ns = INT64_MAX;
	info->ksm = (struct mp_ksm_counters){ true, 1, 2, 3, 4, 5, 6, 256, 1, UINT64_MAX };
}

static const char *const odd_paths[] = {
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/tmp/a name with spaces",
	"/tmp/line\nbreak",
	"/tmp/\xff\xfe not utf-8 \xc3",
	"/memfd:buffer (deleted)",
	"",
};

static void add_task(struct recording *rec, int32_t pid, uint32_t *regions, uint32_t task_index)
{
	struct mp_task *t = &record_event(rec, EV_TASK)->u.task;
	uint32_t count = 3;

	t->pid = pid;
	t->ppid = pid - 1;
	t->uid = 1000 + task_index;
	t->flags = task_index % 2 ? MP_TASK_KSM_MERGE_ANY : 0;
	strcpy(t->comm, task_index == 1 ? "sixteen-chars-xx" : "worker");
	t->ksm = (struct mp_ksm_task_stat){ task_index == 0, 7, 8, 9, -10 };

	for (uint32_t i = 0; i < count; i++) {
		struct event *e = record_event(rec, EV_REGION);
		const char *path = odd_paths[(task_index + i) % ARRAY_SIZE(odd_paths)];
		struct mp_region *r = &e->u.region;

		r->task = task_index;
		r->kind = MP_REGION_ANON + i;
		r->start = 0x7f0000000000ull + ((uint64_t)i << 32);
		r->end = r->start + (1ull << 24);
		r->offset = i * 4096ull;
		r->dev = 0x0801 + i;
		r->inode = 1234567ull * (i + 1);
		r->prot = MP_PROT_READ | (i ? MP_PROT_WRITE : MP_PROT_EXEC);
		r->vm_flags = MP_VM_MERGEABLE | MP_VM_SMAPS;
		e->path = copy_bytes(path, strlen(path));
		r->path = e->path;
		r->path_size = strlen(path);
	}
	*regions += count;
}

/* Pages mixing runs that the encoding predicts with values it cannot. */
static void add_pages(struct recording *rec, uint32_t task, uint32_t region,
		      uint32_t digest_size, size_t count)
{
	uint64_t index = 0x7f0000000ull + rnd() % 1000, pfn = rnd() % (1ull << 36);

	for (size_t i = 0; i < count; i++) {
		struct mp_page *p = &record_event(rec, EV_PAGE)->u.page;
		uint64_t r = rnd();

		p->task = task;
		p->region = region;
		index += r % 8 == 0 ? 1 + r % 300 : 1;
		pfn = r % 5 == 0 ? rnd() : pfn + 1;
		p->index = i % 997 == 5 ? UINT64_MAX - i : index;
		p->pfn = pfn;
		p->pagemap = r % 3 ? MP_PM_PRESENT | MP_PM_EXCLUSIVE : rnd() & ~0ull;
		p->kpageflags = r % 7 ? (1ull << MP_KPF_ANON) | (1ull << MP_KPF_LRU) : rnd();
		p->mapcount = r % 11 ? 1 : (uint32_t)rnd();
		p->flags = r % 13 ? MP_PAGE_PFN_VALID : (uint32_t)rnd();
		for (uint32_t k = 0; k < digest_size; k++)
			p->digest[k] = r % 4 == 0 ? 0 : (uint8_t)rnd();
	}
}

static void add_task_end(struct recording *rec, uint32_t task, uint64_t pages)
{
	struct mp_task_end *end = &record_event(rec, EV_TASK_END)->u.task_end;

	end->task = task;
	end->status = task % 4;
	end->pages = pages;
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		end->skipped[i] = (uint64_t)task * 100 + i + (i == 3 ? UINT64_MAX - 1000 : 0);
}

static void add_end(struct recording *rec, uint32_t flags)
{
	struct mp_set_end *end = &record_event(rec, EV_END)->u.end;

	end->flags = flags;
	end->duration_ns = 987654321;
	end->ksm = (struct mp_ksm_counters){ false, 0, 11, 12, 13, 14, 15, 16, 0, 17 };
}

/* A task set: tasks with regions and pages; pages also without owners. */
static void add_task_set(struct recording *rec, uint32_t digest_size, size_t pages_per_task,
			 uint64_t seed)
{
	uint32_t regions = 0;

	rng_state = seed;
	add_info(rec, digest_size, MP_SOURCE_PROCFS);
	for (uint32_t t = 0; t < 3; t++) {
		add_task(rec, 1000 + (int32_t)t, &regions, t);
		add_pages(rec, t, regions - 3, digest_size, pages_per_task);
		add_pages(rec, t, regions - 1, digest_size, pages_per_task / 3);
		add_pages(rec, t, MP_NONE, digest_size, 5);
		add_task_end(rec, t, pages_per_task);
	}
	add_pages(rec, MP_NONE, MP_NONE, digest_size, 17);
	add_end(rec, MP_SET_END_PARTIAL);
}

/* A page-cache set: files and their cached pages. */
static void add_file_set(struct recording *rec, uint32_t digest_size, uint64_t seed)
{
	rng_state = seed;
	add_info(rec, digest_size, MP_SOURCE_PAGECACHE);
	for (uint32_t i = 0; i < ARRAY_SIZE(odd_paths); i++) {
		struct event *e = record_event(rec, EV_FILE);
		const char *path = odd_paths[i];

		e->u.file = (struct mp_file){ 0x0803, 42 + i, 12345 * i, i == 2 ? 7 : 0, NULL, 0 };
		e->path = copy_bytes(path, strlen(path));
		e->u.file.path = e->path;
		e->u.file.path_size = strlen(path);
		add_pages(rec, MP_NONE, i, digest_size, 50);
	}
	add_end(rec, 0);
}

/* --------------------------------------------------------- checks */

static void assert_ksm_equal(const struct mp_ksm_counters *a, const struct mp_ksm_counters *b)
{
	assert_int_equal(a->valid, b->valid);
	assert_int_equal(a->run, b->run);
	assert_int_equal(a->pages_shared, b->pages_shared);
	assert_int_equal(a->pages_sharing, b->pages_sharing);
	assert_int_equal(a->pages_unshared, b->pages_unshared);
	assert_int_equal(a->pages_volatile, b->pages_volatile);
	assert_int_equal(a->full_scans, b->full_scans);
	assert_int_equal(a->max_page_sharing, b->max_page_sharing);
	assert_int_equal(a->use_zero_pages, b->use_zero_pages);
	assert_int_equal(a->ksm_zero_pages, b->ksm_zero_pages);
}

static void assert_info_equal(const struct mp_set_info *a, const struct mp_set_info *b)
{
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->kernel, b->kernel);
	assert_int_equal(a->page_size, b->page_size);
	assert_int_equal(a->source, b->source);
	assert_int_equal(a->hash, b->hash);
	assert_int_equal(a->digest_size, b->digest_size);
	assert_int_equal(a->flags, b->flags);
	assert_true(a->realtime_ns == b->realtime_ns);
	assert_true(a->monotonic_ns == b->monotonic_ns);
	assert_true(a->boottime_ns == b->boottime_ns);
	assert_ksm_equal(&a->ksm, &b->ksm);
}

static void assert_task_equal(const struct mp_task *a, const struct mp_task *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->ppid, b->ppid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->comm, b->comm);
	assert_int_equal(a->ksm.valid, b->ksm.valid);
	assert_int_equal(a->ksm.ksm_rmap_items, b->ksm.ksm_rmap_items);
	assert_int_equal(a->ksm.ksm_zero_pages, b->ksm.ksm_zero_pages);
	assert_int_equal(a->ksm.ksm_merging_pages, b->ksm.ksm_merging_pages);
	assert_true(a->ksm.ksm_process_profit == b->ksm.ksm_process_profit);
}

static void assert_region_equal(const struct event *a, const struct event *b)
{
	const struct mp_region *x = &a->u.region, *y = &b->u.region;

	assert_int_equal(x->task, y->task);
	assert_int_equal(x->kind, y->kind);
	assert_int_equal(x->start, y->start);
	assert_int_equal(x->end, y->end);
	assert_int_equal(x->offset, y->offset);
	assert_int_equal(x->dev, y->dev);
	assert_int_equal(x->inode, y->inode);
	assert_int_equal(x->prot, y->prot);
	assert_int_equal(x->vm_flags, y->vm_flags);
	assert_int_equal(x->path_size, y->path_size);
	assert_memory_equal(a->path, b->path, x->path_size);
}

static void assert_file_equal(const struct event *a, const struct event *b)
{
	const struct mp_file *x = &a->u.file, *y = &b->u.file;

	assert_int_equal(x->dev, y->dev);
	assert_int_equal(x->inode, y->inode);
	assert_int_equal(x->size, y->size);
	assert_int_equal(x->flags, y->flags);
	assert_int_equal(x->path_size, y->path_size);
	assert_memory_equal(a->path, b->path, x->path_size);
}

static void assert_page_equal(const struct mp_page *a, const struct mp_page *b,
			      uint32_t digest_size)
{
	assert_int_equal(a->task, b->task);
	assert_int_equal(a->region, b->region);
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->pfn, b->pfn);
	assert_int_equal(a->pagemap, b->pagemap);
	assert_int_equal(a->kpageflags, b->kpageflags);
	assert_int_equal(a->mapcount, b->mapcount);
	assert_int_equal(a->flags, b->flags);
	if (digest_size)
		assert_memory_equal(a->digest, b->digest, digest_size);
	for (uint32_t k = digest_size; k < MP_DIGEST_MAX; k++)
		assert_int_equal(b->digest[k], 0);
}

static void assert_task_end_equal(const struct mp_task_end *a, const struct mp_task_end *b)
{
	assert_int_equal(a->task, b->task);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->pages, b->pages);
	for (int i = 0; i < MP_SKIP_COUNT; i++)
		assert_int_equal(a->skipped[i], b->skipped[i]);
}

static void assert_recordings_equal(const struct recording *want, const struct recording *got)
{
	uint32_t digest_size = 0;

	assert_int_equal(want->count, got->count);
	for (size_t i = 0; i < want->count; i++) {
		const struct event *a = &want->events[i], *b = &got->events[i];

		assert_int_equal(a->type, b->type);
		switch (a->type) {
		case EV_BEGIN:
			assert_info_equal(&a->u.info, &b->u.info);
			digest_size = a->u.info.digest_size;
			break;
		case EV_TASK:
			assert_task_equal(&a->u.task, &b->u.task);
			break;
		case EV_REGION:
			assert_region_equal(a, b);
			break;
		case EV_FILE:
			assert_file_equal(a, b);
			break;
		case EV_PAGE:
			assert_page_equal(&a->u.page, &b->u.page, digest_size);
			break;
		case EV_TASK_END:
			assert_task_end_equal(&a->u.task_end, &b->u.task_end);
			break;
		case EV_END:
			assert_int_equal(a->u.end.flags, b->u.end.flags);
			assert_int_equal(a->u.end.duration_ns, b->u.end.duration_ns);
			assert_ksm_equal(&a->u.end.ksm, &b->u.end.ksm);
			break;
		}
	}
}

/* ------------------------------------------------ file helpers */

static char tmpdir[] = "/tmp/memprint-test-format-XXXXXX";

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char command[128];

	(void)state;
	snprintf(command, sizeof(command), "rm -rf '%s'", tmpdir);
	return system(command) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *path, const struct recording *rec, bool compress, bool append)
{
	struct mp_writer_options options = { .compress = compress, .append = append, .sync = true };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;

	mp_assert_ok(mp_writer_open(&writer, path, &options, &error), &error);
	sink = mp_writer_sink(writer);
	replay(rec, 0, rec->count, &sink);
	mp_assert_ok(mp_writer_close(writer, &error), &error);
}

/* Read every set of path; returns how many, and fails on any error. */
static int read_file(const char *path, struct recording *got)
{
	struct mp_sink sink = { &rec_ops, got, NULL };
	struct mp_error error = { 0 };
	struct mp_reader *reader;
	unsigned major, minor;
	int rc, sets = 0;

	mp_assert_ok(mp_reader_open(&reader, path, &error), &error);
	mp_reader_version(reader, &major, &minor);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 0);
	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0)
		sets++;
	mp_assert_ok(rc, &error);
	mp_reader_close(reader);
	return sets;
}

/* ------------------------------------------------------------ tests */

static const uint32_t digest_sizes[] = { 0, 4, 8, 16, 20, 32 };

static void roundtrip(bool compress)
{
	for (size_t i = 0; i < ARRAY_SIZE(digest_sizes); i++) {
		struct recording want = { 0 }, got = { 0 };
		const char *path = tmp_path("roundtrip.mps");

		add_task_set(&want, digest_sizes[i], 3000, 0x1234 + i);
		add_file_set(&want, digest_sizes[i], 0x9876 + i);
		write_file(path, &want, compress, false);
		assert_int_equal(read_file(path, &got), 2);
		assert_recordings_equal(&want, &got);
		recording_free(&want);
		recording_free(&got);
	}
}

static void test_roundtrip_plain(void **state)
{
	(void)state;
	roundtrip(false);
}

static void test_roundtrip_zstd(void **state)
{
	(void)state;
	roundtrip(true);
}

/* Sets large enough for many blocks, so that the per-block page state resets. */
static void test_roundtrip_many_blocks(void **state)
{
	struct recording want = { 0 }, got = { 0 };
	const char *path = tmp_path("large.mps");
	struct stat st;

	(void)state;
	add_task_set(&want, 8, 40000, 77);
	write_file(path, &want, false, false);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 4 * 65536);
	assert_int_equal(read_file(path, &got), 1);
	assert_recordings_equal(&want, &got);
	recording_free(&want);
	recording_free(&got);
}

static void test_file_mode_private(void **state)
{
	struct recording want = { 0 };
	const char *path = tmp_path("mode.mps");
	struct stat st;
	int fd;

	(void)state;
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);

	add_task_set(&want, 8, 10, 1);
	write_file(path, &want, false, false);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	unlink(path);
	write_file(path, &want, true, false);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	recording_free(&want);
}

static void test_append_sets(void **state)
{
	struct recording first = { 0 }, second = { 0 }, got = { 0 };
	const char *path = tmp_path("append.mps");

	(void)state;
	add_task_set(&first, 8, 500, 5);
	add_file_set(&first, 8, 6);
	add_task_set(&second, 8, 700, 7);
	unlink(path);
	write_file(path, &first, false, true);	/* append creates a missing file */
	write_file(path, &second, true, true);

	assert_int_equal(read_file(path, &got), 3);
	for (size_t i = 0; i < second.count; i++) {
		struct event *e = record_event(&first, second.events[i].type);

		*e = second.events[i];
		second.events[i].path = NULL;
	}
	assert_recordings_equal(&first, &got);
	recording_free(&first);
	recording_free(&second);
	recording_free(&got);
}

/* A writer stopped in mid-set leaves the sets before it readable; append cuts the rest. */
static void test_append_after_stopped_writer(void **state)
{
	struct recording one = { 0 }, two = { 0 }, got = { 0 };
	const char *path = tmp_path("stopped.mps");
	struct mp_writer_options options = { 0 };
	struct mp_error error = { 0 };
	struct mp_reader *reader;
	struct mp_writer *writer;
	struct mp_sink sink;
	struct stat st;
	off_t complete;

	(void)state;
	add_task_set(&one, 8, 200, 11);
	add_task_set(&two, 8, 60000, 12);
	write_file(path, &one, false, false);
	assert_int_equal(stat(path, &st), 0);
	complete = st.st_size;

	/* Write most of a large set, then let the process "die": copy the file as it is now. */
	options.append = true;
	mp_assert_ok(mp_writer_open(&writer, path, &options, &error), &error);
	sink = mp_writer_sink(writer);
	replay(&two, 0, two.count - 2, &sink);
	assert_true(mp_writer_bytes(writer) > (uint64_t)complete + 65536);
	{
		char command[600];

		snprintf(command, sizeof(command), "cp '%s' '%s.torn'", path, path);
		assert_int_equal(system(command), 0);
	}
	assert_int_not_equal(mp_writer_close(writer, &error), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, complete);

	/* The torn copy: the complete set reads, then the damage is reported. */
	mp_assert_ok(mp_reader_open(&reader, tmp_path("stopped.mps.torn"), &error), &error);
	sink = (struct mp_sink){ &rec_ops, &got, NULL };
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), 1);
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), -EBADMSG);
	assert_non_null(strstr(error.message, "set is incomplete"));
	mp_reader_close(reader);
	assert_recordings_equal(&one, &got);
	recording_free(&got);

	/* Appending to the torn copy cuts the incomplete set off first. */
	write_file(tmp_path("stopped.mps.torn"), &one, true, true);
	assert_int_equal(read_file(tmp_path("stopped.mps.torn"), &got), 2);
	recording_free(&one);
	recording_free(&two);
	recording_free(&got);
}

static void test_append_rejects_damage(void **state)
{
	struct recording want = { 0 };
	const char *path = tmp_path("damaged.mps");
	struct mp_writer_options options = { .append = true };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	uint8_t byte;
	int fd;

	(void)state;
	add_task_set(&want, 8, 100, 3);
	write_file(path, &want, false, false);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 100), 1);
	byte ^= 0x10;
	assert_int_equal(pwrite(fd, &byte, 1, 100), 1);
	close(fd);

	assert_int_equal(mp_writer_open(&writer, path, &options, &error), -EBADMSG);
	assert_non_null(strstr(error.message, "offset 16: block checksum mismatch"));
	recording_free(&want);
}

/* A set with another hash would make a series compare unlike digests. */
static void test_append_rejects_other_hash(void **state)
{
	struct recording first = { 0 };
	const char *path = tmp_path("other-hash.mps");
	struct mp_writer_options options = { .append = true };
	struct mp_set_info info = { .page_size = MP_PAGE_SIZE, .hash = MP_HASH_SHA256,
				    .digest_size = 32 };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;

	(void)state;
	add_task_set(&first, 8, 100, 9);
	unlink(path);
	write_file(path, &first, false, false);

	mp_assert_ok(mp_writer_open(&writer, path, &options, &error), &error);
	sink = mp_writer_sink(writer);
	assert_int_equal(sink.ops->begin_set(sink.ctx, &info), -EINVAL);
	assert_int_equal(mp_writer_close(writer, &error), -EINVAL);
	assert_non_null(strstr(error.message, "cannot add a sha256 set to"));
	assert_non_null(strstr(error.message, "its sets use xxh3 digests"));
	recording_free(&first);
}

static void test_writer_rejects_bad_records(void **state)
{
	const char *path = tmp_path("bad.mps");
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;
	struct recording rec = { 0 };
	struct mp_page page = { .task = 0, .region = MP_NONE };
	struct mp_task_end end = { .task = 1 };

	(void)state;
	add_info(&rec, 8, MP_SOURCE_SYNTHETIC);
	mp_assert_ok(mp_writer_open(&writer, path, NULL, &error), &error);
	sink = mp_writer_sink(writer);
	assert_int_equal(sink.ops->pages(sink.ctx, &page, 1), -EINVAL);
	assert_int_equal(mp_writer_close(writer, &error), -EINVAL);
	assert_non_null(strstr(error.message, "no set was begun"));

	mp_assert_ok(mp_writer_open(&writer, path, NULL, &error), &error);
	sink = mp_writer_sink(writer);
	mp_assert_ok(sink.ops->begin_set(sink.ctx, &rec.events[0].u.info), &error);
	assert_int_equal(sink.ops->pages(sink.ctx, &page, 1), -EINVAL);
	assert_non_null(strstr(sink.error->message, "task index 0, but 0 tasks"));
	assert_int_equal(sink.ops->task_end(sink.ctx, &end), -EINVAL);
	assert_int_equal(mp_writer_close(writer, &error), -EINVAL);
	recording_free(&rec);

	rec.count = 0;
	add_info(&rec, 33, MP_SOURCE_SYNTHETIC);
	mp_assert_ok(mp_writer_open(&writer, path, NULL, &error), &error);
	sink = mp_writer_sink(writer);
	assert_int_equal(sink.ops->begin_set(sink.ctx, &rec.events[0].u.info), -EINVAL);
	assert_int_equal(mp_writer_close(writer, &error), -EINVAL);
	assert_non_null(strstr(error.message, "digest size 33"));
	recording_free(&rec);
}

/* A set that is begun but not ended is removed at close, leaving the complete sets. */
static void test_close_drops_open_set(void **state)
{
	struct recording want = { 0 }, got = { 0 };
	const char *path = tmp_path("open.mps");
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;

	(void)state;
	add_task_set(&want, 8, 100, 21);
	add_task_set(&want, 8, 30000, 22);
	mp_assert_ok(mp_writer_open(&writer, path, NULL, &error), &error);
	sink = mp_writer_sink(writer);
	replay(&want, 0, want.count - 1, &sink);
	assert_int_equal(mp_writer_close(writer, &error), -EINVAL);
	assert_non_null(strstr(error.message, "was not ended: removed it"));

	assert_int_equal(read_file(path, &got), 1);
	assert_int_equal(got.events[got.count - 1].type, EV_END);
	recording_free(&want);
	recording_free(&got);
}

static void test_writer_counts(void **state)
{
	struct recording want = { 0 };
	const char *path = tmp_path("counts.mps");
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;
	struct stat st;
	uint64_t pages = 0;

	(void)state;
	add_task_set(&want, 8, 1000, 31);
	for (size_t i = 0; i < want.count; i++)
		pages += want.events[i].type == EV_PAGE;
	mp_assert_ok(mp_writer_open(&writer, path, NULL, &error), &error);
	assert_int_equal(mp_writer_bytes(writer), 16);
	sink = mp_writer_sink(writer);
	replay(&want, 0, want.count, &sink);
	assert_int_equal(mp_writer_pages(writer), pages);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(mp_writer_bytes(writer), st.st_size);
	mp_assert_ok(mp_writer_close(writer, &error), &error);
	recording_free(&want);
}

/* A sink error stops reading and is passed back with the sink's message. */
static int failing_task(void *ctx, const struct mp_task *task)
{
	struct mp_error *error = ctx;

	(void)task;
	snprintf(error->message, sizeof(error->message), "analysis full");
	return -ENOSPC;
}

static void test_reader_passes_sink_error(void **state)
{
	struct recording want = { 0 };
	const char *path = tmp_path("sinkerror.mps");
	struct mp_error sink_error = { 0 }, error = { 0 };
	struct mp_sink_ops ops = { .task = failing_task };
	struct mp_sink sink = { &ops, &sink_error, &sink_error };
	struct mp_reader *reader;

	(void)state;
	add_task_set(&want, 8, 10, 41);
	write_file(path, &want, false, false);
	mp_assert_ok(mp_reader_open(&reader, path, &error), &error);
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), -ENOSPC);
	assert_string_equal(error.message, "analysis full");
	assert_int_equal(mp_reader_next_set(reader, &sink, &error), 0);
	mp_reader_close(reader);
	recording_free(&want);
}

/* Reading from a pipe goes through memory rather than mmap. */
static void test_reader_from_pipe(void **state)
{
	struct recording want = { 0 }, got = { 0 };
	char command[700], path[300], fifo[300];

	(void)state;
	snprintf(path, sizeof(path), "%s", tmp_path("pipe.mps"));
	add_task_set(&want, 8, 500, 51);
	write_file(path, &want, true, false);
	snprintf(fifo, sizeof(fifo), "%s", tmp_path("fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(command, sizeof(command), "cat '%s' > '%s' &", path, fifo);
	assert_int_equal(system(command), 0);
	assert_int_equal(read_file(fifo, &got), 1);
	assert_recordings_equal(&want, &got);
	recording_free(&want);
	recording_free(&got);
}

/* Append the set again and again until killed: the child of test_killed_writer. */
static void write_until_killed(const char *path, const struct recording *set)
{
	struct mp_writer_options options = { .append = true };
	struct mp_error error = { 0 };
	struct mp_writer *writer;
	struct mp_sink sink;

	if (mp_writer_open(&writer, path, &options, &error) < 0)
		_exit(1);
	sink = mp_writer_sink(writer);
	for (;;)
		replay(set, 0, set->count, &sink);
}

/*
 * A writer killed with SIGKILL at a random moment leaves every set before
 * the one it was writing readable; appending then cuts the torn tail off.
 */
static void test_killed_writer(void **state)
{
	struct recording set = { 0 }, got = { 0 };
	struct mp_sink sink = { &rec_ops, &got, NULL };
	struct mp_error error = { 0 };
	struct mp_reader *reader;
	char path[300];
	struct stat st;
	int rc, sets = 0, status;
	pid_t child;

	(void)state;
	snprintf(path, sizeof(path), "%s", tmp_path("killed.mps"));
	unlink(path);
	add_task_set(&set, 8, 20000, 61);

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		write_until_killed(path, &set);
	do {
		usleep(20000);
		assert_int_equal(waitpid(child, &status, WNOHANG), 0);
	} while (stat(path, &st) < 0 || st.st_size < 4 * 1024 * 1024);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));

	mp_assert_ok(mp_reader_open(&reader, path, &error), &error);
	while ((rc = mp_reader_next_set(reader, &sink, &error)) > 0)
		sets++;
	mp_reader_close(reader);
	assert_true(sets >= 1);
	assert_int_equal(got.count, sets * set.count);
	if (rc < 0) {
		assert_int_equal(rc, -EBADMSG);
		assert_true(strstr(error.message, "set is incomplete") ||
			    strstr(error.message, "file ends inside"));
	}
	printf("# killed after %d complete sets: %s\n", sets, rc ? error.message : "clean end");

	recording_free(&got);
	write_file(path, &set, false, true);
	assert_int_equal(read_file(path, &got), sets + 1);
	recording_free(&got);
	recording_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_roundtrip_many_blocks),
		cmocka_unit_test(test_file_mode_private),
		cmocka_unit_test(test_append_sets),
		cmocka_unit_test(test_append_after_stopped_writer),
		cmocka_unit_test(test_append_rejects_damage),
		cmocka_unit_test(test_append_rejects_other_hash),
		cmocka_unit_test(test_writer_rejects_bad_records),
		cmocka_unit_test(test_close_drops_open_set),
		cmocka_unit_test(test_writer_counts),
		cmocka_unit_test(test_reader_passes_sink_error),
		cmocka_unit_test(test_reader_from_pipe),
		cmocka_unit_test(test_killed_writer),
	};

	return cmocka_run_group_tests_name("format", tests, setup_dir, remove_dir);
}
