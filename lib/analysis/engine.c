// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * engine.c - turn the slots of a set into frames, content groups and the
 * totals of the report
 *
 * Every total, of the set or of one task, file or kind, comes from
 * account_group() applied to the records of one content that fall in that
 * part, so that all parts follow the same definitions (docs/analysis.md).
 * A content of one record, the most common case, takes account_lone(),
 * which adds the same numbers without the group bookkeeping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "analysis/analysis.h"

/* The records a part of the set counts as its frames, for account_group(). */
enum scope {
	SCOPE_FRAMES,	/* whole frames: the set, a file, a kind */
	SCOPE_TASK,	/* one task's mappings: each record is a frame of the task */
};

/* The content group of one key within one part of the set. */
struct group {
	uint64_t frames;
	uint64_t mapped_frames;		/* frames with at least one mapping in the part */
	uint64_t mappings;
	uint64_t eligible;
	unsigned kinds;			/* bit 0: anonymous frames, bit 1: file-backed */
	uint32_t task;			/* the first task seen, MP_NONE before */
	bool several_tasks;
	bool zero;
	bool lone_private;		/* its only frame is private */
};

/* Content groups larger than this are split by part with a map, not sorted. */
#define PART_SORT_MAX 8

/* One part's group within a large content group. */
struct part_group {
	uint32_t id;
	bool used;
	struct group group;
};

struct engine {
	struct mp_analysis *analysis;
	uint64_t max_page_sharing;
	bool use_zero_pages;
	size_t top;
	struct mp_totals set;
	struct mp_totals kinds[MP_KIND_COUNT];
	struct mp_totals *files;	/* by global file id */
	struct mp_content *contents;	/* min-heap of the top contents */
	size_t content_count;
	struct slot *scratch;
	size_t in_place_min;		/* buckets of more slots are sorted in place */
	uint32_t *counts;
	struct part_group *part_map;
	size_t part_map_size;		/* a power of two */
	uint32_t *part_used;		/* the map slots in use */
	size_t part_used_count;
};

static uint32_t record_file(const struct slot *s)
{
	return s->record.file_flags >> RECORD_FILE_SHIFT;
}

static uint32_t record_kind(const struct slot *s)
{
	return s->record.file_flags & RECORD_KIND_MASK;
}

static bool kind_is_anonymous(uint32_t kind)
{
	return kind == MP_KIND_ANON || kind == MP_KIND_KSM;
}

static void group_init(struct group *g, const struct slot *first)
{
	memset(g, 0, sizeof(*g));
	g->task = MP_NONE;
	g->zero = first->record.file_flags & RECORD_ZERO;
}

static void add_frame(struct mp_totals *t, struct group *g, const struct slot *s,
		      enum scope scope)
{
	uint32_t flags = s->record.file_flags;
	uint32_t kind = record_kind(s);
	bool shared = scope == SCOPE_TASK ? s->record.mappings >= 2 : flags & RECORD_SHARED;

	g->frames++;
	g->mapped_frames += s->record.task != MP_NONE;
	g->kinds |= kind_is_anonymous(kind) ? 1 : 2;
	g->lone_private = !shared && !(flags & RECORD_KMAP2);

	t->frames_by_kind[kind]++;
	t->shared_frames += shared;
	t->shared_frames_kernel += !!(flags & RECORD_KMAP2);
	t->zero_filled_frames += !!(flags & RECORD_ZERO);
	if (kind == MP_KIND_KSM) {
		t->ksm_frames++;
		/* KSM saved is mappings - 1 per KSM frame: the -1 of frames with mappings. */
		if (s->record.task != MP_NONE)
			t->ksm_saved--;
	}
}

/* Add one record to its group, and its per-frame numbers to the part's totals. */
static void add_record(struct mp_totals *t, struct group *g, const struct slot *r,
		       enum scope scope)
{
	g->mappings += r->record.mappings;
	g->eligible += r->record.eligible;
	if (record_kind(r) == MP_KIND_KSM)
		t->ksm_saved += r->record.mappings;
	if (r->record.task != MP_NONE) {
		if (g->task == MP_NONE)
			g->task = r->record.task;
		else if (r->record.task != g->task)
			g->several_tasks = true;
	}
	if (scope == SCOPE_TASK || (r->record.file_flags & RECORD_FRAME))
		add_frame(t, g, r, scope);
}

/* KSM keeps one page per max_page_sharing mappings of a content. */
static uint64_t ksm_potential(const struct engine *e, uint64_t m, bool zero)
{
	/* One mapping always keeps its page; this skips the division for most frames. */
	if (m < 2 || (zero && e->use_zero_pages))
		return 0;
	return m - (m + e->max_page_sharing - 1) / e->max_page_sharing;
}

static void add_opportunities(struct mp_opportunities *o, const struct group *g,
			      uint64_t duplicates)
{
	if (g->kinds == 1)
		o->anonymous += duplicates;
	else if (g->kinds == 2)
		o->named += duplicates;
	else
		o->mixed += duplicates;
	if (g->several_tasks)
		o->external += duplicates;
	else
		o->internal += duplicates;
}

/*
 * Add the numbers of a whole content group of a part to the part's totals.
 * set_frames is the size of the content's group in the whole set.
 */
static void finish_group(const struct engine *e, struct mp_totals *t, const struct group *g,
			 uint64_t set_frames)
{
	uint64_t duplicates;

	t->mappings += g->mappings;
	t->frames += g->frames;
	t->saved_by_sharing += g->mappings - g->mapped_frames;
	t->ksm_potential += ksm_potential(e, g->eligible, g->zero);
	if (set_frames >= 2)
		t->frames_with_duplicates += g->frames;
	if (g->frames == 1 && g->lone_private)
		t->private_frames++;
	if (g->frames < 2)
		return;

	duplicates = g->frames - 1;
	t->duplicate_frames += duplicates;
	if (!g->zero)
		t->duplicate_frames_nonzero += duplicates;
	add_opportunities(&t->opportunities, g, duplicates);
}

static void account_group(const struct engine *e, struct mp_totals *t, struct group *g,
			  const struct slot *s, size_t count, enum scope scope,
			  uint64_t set_frames)
{
	group_init(g, s);
	for (size_t i = 0; i < count; i++)
		add_record(t, g, &s[i], scope);
	finish_group(e, t, g, set_frames);
}

/* ------------------------------------------------------- the top contents */

static bool content_less(const struct mp_content *a, const struct mp_content *b)
{
	if (a->frames != b->frames)
		return a->frames < b->frames;
	return a->mappings < b->mappings;
}

static void heap_sift_down(struct mp_content *heap, size_t count, size_t i)
{
	for (;;) {
		size_t least = i, l = 2 * i + 1, r = l + 1;
		struct mp_content t;

		if (l < count && content_less(&heap[l], &heap[least]))
			least = l;
		if (r < count && content_less(&heap[r], &heap[least]))
			least = r;
		if (least == i)
			return;
		t = heap[i];
		heap[i] = heap[least];
		heap[least] = t;
		i = least;
	}
}

static void heap_sift_up(struct mp_content *heap, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct mp_content t;

		if (!content_less(&heap[i], &heap[parent]))
			return;
		t = heap[i];
		heap[i] = heap[parent];
		heap[parent] = t;
		i = parent;
	}
}

static void fill_content(const struct engine *e, struct mp_content *c, uint64_t mixed,
			 const struct group *g)
{
	size_t size = e->analysis->digest_size < 8 ? e->analysis->digest_size : 8;

	memset(c, 0, sizeof(*c));
	mp_store_le64(c->digest, key_unmix(mixed));
	memset(c->digest + size, 0, sizeof(c->digest) - size);
	c->digest_size = (uint32_t)size;
	c->frames = g->frames;
	c->mappings = g->mappings;
	c->zero_filled = g->zero;
	if (g->kinds == 1)
		c->group_kind = 0;
	else if (g->kinds == 2)
		c->group_kind = 1;
	else
		c->group_kind = 2;
	c->external = g->several_tasks;
}

static void offer_content(struct engine *e, uint64_t mixed, const struct group *g)
{
	struct mp_content c;

	if (g->frames < 2 || !e->top)
		return;
	fill_content(e, &c, mixed, g);
	if (e->content_count < e->top) {
		e->contents[e->content_count] = c;
		heap_sift_up(e->contents, e->content_count++);
	} else if (content_less(&e->contents[0], &c)) {
		e->contents[0] = c;
		heap_sift_down(e->contents, e->content_count, 0);
	}
}

/* --------------------------------------------------- splitting a group */

enum part {
	PART_TASK,
	PART_FILE,
	PART_KIND,
};

static uint32_t part_of(const struct slot *s, enum part part)
{
	switch (part) {
	case PART_TASK:
		return s->record.task;
	case PART_FILE:
		return record_file(s);
	default:
		return record_kind(s);
	}
}

static void sort_by_part(struct slot *s, size_t count, enum part part)
{
	for (size_t i = 1; i < count; i++) {
		struct slot t = s[i];
		uint32_t key = part_of(&t, part);
		size_t j = i;

		while (j > 0 && part_of(&s[j - 1], part) > key) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = t;
	}
}

static struct mp_totals *part_totals(struct engine *e, enum part part, uint32_t id)
{
	switch (part) {
	case PART_TASK:
		return id == MP_NONE ? NULL : &e->analysis->tasks[id].out.totals;
	case PART_FILE:
		return id == 0 ? NULL : &e->files[id];
	default:
		return &e->kinds[id];
	}
}

/* The number of ids a part can take: the map of a group needs no more slots. */
static size_t part_count(const struct engine *e, enum part part)
{
	switch (part) {
	case PART_TASK:
		return e->analysis->task_count;
	case PART_FILE:
		return e->analysis->file_count;
	default:
		return MP_KIND_COUNT;
	}
}

/* The group of part id in a large content group, from the open-addressing map. */
static struct part_group *find_part(struct engine *e, uint32_t id, const struct slot *first)
{
	size_t mask = e->part_map_size - 1;
	size_t i = (id * 0x9e3779b1u) & mask;

	while (e->part_map[i].used && e->part_map[i].id != id)
		i = (i + 1) & mask;
	if (!e->part_map[i].used) {
		e->part_map[i].used = true;
		e->part_map[i].id = id;
		group_init(&e->part_map[i].group, first);
		e->part_used[e->part_used_count++] = (uint32_t)i;
	}
	return &e->part_map[i];
}

static int grow_part_map(struct engine *e, size_t count)
{
	size_t size = e->part_map_size ? e->part_map_size : 64;

	while (size < 2 * count)
		size *= 2;
	if (size == e->part_map_size)
		return 0;
	free(e->part_map);
	free(e->part_used);
	e->part_map = calloc(size, sizeof(*e->part_map));
	e->part_used = malloc(size * sizeof(*e->part_used));
	e->part_map_size = e->part_map ? size : 0;
	return e->part_map && e->part_used ? 0 : -ENOMEM;
}

/*
 * Split a large content group by part in one pass: each part's group
 * builds up in a map, so the cost stays linear however many parts share
 * the content (the zero-filled content of every task, for example).
 */
static int account_parts_mapped(struct engine *e, const struct slot *s, size_t count,
				enum part part, uint64_t set_frames)
{
	enum scope scope = part == PART_TASK ? SCOPE_TASK : SCOPE_FRAMES;
	int rc = grow_part_map(e, count < part_count(e, part) ? count : part_count(e, part));

	if (rc < 0)
		return rc;
	e->part_used_count = 0;
	for (size_t i = 0; i < count; i++) {
		uint32_t id = part_of(&s[i], part);
		struct mp_totals *t = part_totals(e, part, id);

		if (t)
			add_record(t, &find_part(e, id, &s[i])->group, &s[i], scope);
	}
	for (size_t i = 0; i < e->part_used_count; i++) {
		struct part_group *p = &e->part_map[e->part_used[i]];

		finish_group(e, part_totals(e, part, p->id), &p->group, set_frames);
		p->used = false;
	}
	return 0;
}

static int account_parts(struct engine *e, struct slot *s, size_t count, enum part part,
			 uint64_t set_frames)
{
	enum scope scope = part == PART_TASK ? SCOPE_TASK : SCOPE_FRAMES;
	struct group g;

	if (count > PART_SORT_MAX)
		return account_parts_mapped(e, s, count, part, set_frames);
	if (count > 1)
		sort_by_part(s, count, part);
	for (size_t start = 0; start < count; ) {
		uint32_t id = part_of(&s[start], part);
		struct mp_totals *t = part_totals(e, part, id);
		size_t end = start + 1;

		while (end < count && part_of(&s[end], part) == id)
			end++;
		if (t)
			account_group(e, t, &g, s + start, end - start, scope, set_frames);
		start = end;
	}
	return 0;
}

/*
 * Add a content group of one record (a frame alone in its group, mapped by
 * at most one task) to a part's totals.  Every part that has the record
 * has the whole group, so the numbers are the same in each part and skip
 * the group bookkeeping of account_group().  A lone frame shared within its
 * task carries RECORD_SHARED exactly when it has two or more mappings.
 */
static void account_lone(const struct engine *e, struct mp_totals *t, const struct slot *r)
{
	uint32_t flags = r->record.file_flags;
	uint32_t kind = flags & RECORD_KIND_MASK;
	uint32_t mapped = r->record.task != MP_NONE;
	uint32_t shared = !!(flags & RECORD_SHARED);
	uint32_t kmap2 = !!(flags & RECORD_KMAP2);

	t->mappings += r->record.mappings;
	t->frames++;
	t->frames_by_kind[kind]++;
	t->saved_by_sharing += r->record.mappings - mapped;
	t->shared_frames += shared;
	t->shared_frames_kernel += kmap2;
	t->zero_filled_frames += !!(flags & RECORD_ZERO);
	t->private_frames += !shared && !kmap2;
	if (kind == MP_KIND_KSM) {
		t->ksm_frames++;
		t->ksm_saved += r->record.mappings - mapped;
	}
	t->ksm_potential += ksm_potential(e, r->record.eligible, flags & RECORD_ZERO);
}

static void account_lone_content(struct engine *e, const struct slot *r)
{
	const struct mp_analysis_options *o = &e->analysis->options;
	uint32_t file = record_file(r);

	account_lone(e, &e->set, r);
	if (o->per_task && r->record.task != MP_NONE)
		account_lone(e, &e->analysis->tasks[r->record.task].out.totals, r);
	if (o->per_file && file)
		account_lone(e, &e->files[file], r);
	account_lone(e, &e->kinds[record_kind(r)], r);
}

/* Every field of struct mp_totals is a uint64_t count, so totals add word by word. */
_Static_assert(sizeof(struct mp_totals) % sizeof(uint64_t) == 0, "mp_totals holds counts only");

/* Two counts at once: GCC 12 at -O2 left the plain loop scalar (callgrind). */
typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8), may_alias));

static void totals_add(struct mp_totals *t, const struct mp_totals *delta)
{
	const size_t words = sizeof(*t) / sizeof(uint64_t);
	u64x2 *dst = (u64x2 *)t;
	const u64x2 *src = (const u64x2 *)delta;

	for (size_t i = 0; i < words / 2; i++)
		dst[i] += src[i];
	if (words % 2)
		((uint64_t *)t)[words - 1] += ((const uint64_t *)delta)[words - 1];
}

/* The parts that every record of a group shares. */
struct sameness {
	bool task, file, kind;
};

static void find_sameness(struct sameness *same, const struct slot *s, size_t count)
{
	uint32_t task = 0, file_flags = 0;

	for (size_t i = 1; i < count; i++) {
		task |= s[i].record.task ^ s[0].record.task;
		file_flags |= s[i].record.file_flags ^ s[0].record.file_flags;
	}
	same->task = !task;
	same->file = !(file_flags >> RECORD_FILE_SHIFT);
	same->kind = !(file_flags & RECORD_KIND_MASK);
}

/*
 * Account a content group for the set, then for each part.  A group whose
 * records all lie in one part is that part's whole group, with the same
 * numbers as the set's.  This is true for a task too: one task in a group
 * means one record per frame, and that record counts all of the frame's
 * mappings.  Other groups are split by part.
 */
static int account_content(struct engine *e, struct slot *s, size_t count)
{
	const struct mp_analysis_options *o = &e->analysis->options;
	uint64_t mixed = s[0].sort;
	struct mp_totals delta;
	struct sameness same;
	struct group g;
	int rc = 0;

	if (count == 1) {
		account_lone_content(e, s);
		return 0;
	}
	memset(&delta, 0, sizeof(delta));
	group_init(&g, s);
	for (size_t i = 0; i < count; i++)
		add_record(&delta, &g, &s[i], SCOPE_FRAMES);
	finish_group(e, &delta, &g, g.frames);
	totals_add(&e->set, &delta);
	offer_content(e, mixed, &g);
	find_sameness(&same, s, count);

	if (o->per_task && same.task && s[0].record.task != MP_NONE)
		totals_add(&e->analysis->tasks[s[0].record.task].out.totals, &delta);
	else if (o->per_task)
		rc = account_parts(e, s, count, PART_TASK, g.frames);

	if (rc == 0 && o->per_file && same.file && record_file(s))
		totals_add(&e->files[record_file(s)], &delta);
	else if (rc == 0 && o->per_file)
		rc = account_parts(e, s, count, PART_FILE, g.frames);

	if (rc == 0 && same.kind)
		totals_add(&e->kinds[record_kind(s)], &delta);
	else if (rc == 0)
		rc = account_parts(e, s, count, PART_KIND, g.frames);
	return rc;
}

/* ------------------------------------------------------------ the stages */

static bool entry_has_digest(const struct slot *s)
{
	return !(s->sort & ENTRY_NO_DIGEST);
}

static int compare_entry_task(const void *a, const void *b)
{
	uint32_t x = ((const struct slot *)a)->entry.task, y = ((const struct slot *)b)->entry.task;

	return x < y ? -1 : x > y;
}

/* The frame-wide facts of one run of entries with the same PFN. */
struct frame {
	uint64_t key;
	uint32_t file;
	uint32_t flags;		/* RECORD_* but RECORD_FRAME */
	bool eligible_kind;
};

static void describe_frame(struct frame *f, const struct slot *s, size_t count)
{
	size_t with_digest = 0, mappings = 0;
	uint32_t kind = s[0].sort & ENTRY_KIND_MASK;
	bool kmap2 = false;

	while (with_digest < count && !entry_has_digest(&s[with_digest]))
		with_digest++;
	if (with_digest == count)
		with_digest = 0;
	f->key = s[with_digest].entry.key;
	f->file = 0;
	for (size_t i = 0; i < count; i++) {
		mappings += s[i].entry.task != MP_NONE;
		kmap2 |= s[i].sort & ENTRY_KMAP2;
		if (!f->file)
			f->file = s[i].entry.file;
	}
	f->flags = kind | f->file << RECORD_FILE_SHIFT;
	if (s[with_digest].sort & ENTRY_ZERO)
		f->flags |= RECORD_ZERO;
	if (kmap2)
		f->flags |= RECORD_KMAP2;
	if (mappings >= 2)
		f->flags |= RECORD_SHARED;
	f->eligible_kind = kind_is_anonymous(kind);
}

/* The record of a frame with one entry: most frames of most sets. */
static int emit_lone_frame(struct mp_analysis *a, const struct slot *s)
{
	uint32_t kind = s->sort & ENTRY_KIND_MASK;
	uint32_t task = s->entry.task;
	struct slot r;

	r.sort = s->entry.key;
	r.record.task = task;
	r.record.file_flags = kind | s->entry.file << RECORD_FILE_SHIFT | RECORD_FRAME |
			      ((s->sort & ENTRY_ZERO) ? RECORD_ZERO : 0) |
			      ((s->sort & ENTRY_KMAP2) ? RECORD_KMAP2 : 0);
	r.record.mappings = task != MP_NONE;
	r.record.eligible = task != MP_NONE && kind_is_anonymous(kind) &&
			    (s->sort & ENTRY_MERGEABLE);
	return bucket_push(&a->groups[key_bucket(r.sort)], &r);
}

/*
 * Turn one frame (entries of one PFN, sorted by task so that the entries
 * without a task come last) into one record per task that maps it, or one
 * record without a task for a frame that no task maps.
 */
static int emit_frame(struct mp_analysis *a, struct slot *s, size_t count)
{
	struct frame f;
	size_t start = 0;

	if (count == 1)
		return emit_lone_frame(a, s);
	if (count > 1) {
		if (count > 24)
			qsort(s, count, sizeof(*s), compare_entry_task);
		else
			for (size_t i = 1; i < count; i++) {
				struct slot t = s[i];
				size_t j = i;

				while (j > 0 && s[j - 1].entry.task > t.entry.task) {
					s[j] = s[j - 1];
					j--;
				}
				s[j] = t;
			}
	}
	describe_frame(&f, s, count);

	while (start < count) {
		uint32_t task = s[start].entry.task;
		size_t end = start + 1, mergeable;
		struct slot r;
		int rc;

		while (end < count && s[end].entry.task == task)
			end++;
		if (task == MP_NONE && start > 0)
			break;
		mergeable = 0;
		for (size_t i = start; i < end; i++)
			mergeable += !!(s[i].sort & ENTRY_MERGEABLE);

		r.sort = f.key;
		r.record.task = task;
		r.record.file_flags = f.flags | (start == 0 ? RECORD_FRAME : 0);
		r.record.mappings = task == MP_NONE ? 0 : (uint32_t)(end - start);
		r.record.eligible = task == MP_NONE || !f.eligible_kind ? 0 : (uint32_t)mergeable;
		rc = bucket_push(&a->groups[key_bucket(f.key)], &r);
		if (rc < 0)
			return rc;
		start = end;
	}
	return 0;
}

static int grow_scratch(struct engine *e, size_t *capacity, size_t count)
{
	struct slot *p;

	if (count <= *capacity)
		return 0;
	p = realloc(e->scratch, count * sizeof(*p));
	if (!p)
		return -ENOMEM;
	e->scratch = p;
	*capacity = count;
	return 0;
}

/* The sorted slots of one bucket. */
struct sorted {
	struct slot *slots;
	size_t count;
	size_t gathered_bytes;	/* a mapping of its own to unmap after use, or 0 */
};

/*
 * Sort a bucket whose keys agree above bit high.  A bucket of ordinary size
 * is sorted into the scratch array, and its chunks go back to the arena at
 * once.  A bucket many times the average (a content that most frames share,
 * such as the zero-filled page) is gathered into a mapping of its own and
 * sorted in place, so that no scratch array of its size is needed; the
 * caller unmaps it after use.
 */
static int sort_bucket(struct engine *e, struct bucket *bucket, unsigned high,
		       size_t *scratch_capacity, struct sorted *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = bucket_flush(bucket);
	if (rc < 0)
		return rc;
	out->count = bucket->count;
	if (!bucket->count)
		return 0;
	if (bucket->count > e->in_place_min) {
		rc = bucket_gather(bucket, &out->slots, &out->gathered_bytes);
		if (rc == 0)
			radix_sort_in_place(out->slots, out->count, e->counts);
		return rc;
	}
	rc = grow_scratch(e, scratch_capacity, bucket->count);
	if (rc < 0)
		return rc;
	radix_sort_bucket(bucket, e->scratch, high, e->counts);
	out->slots = e->scratch;
	return 0;
}

static void sorted_free(struct sorted *sorted)
{
	if (sorted->gathered_bytes)
		munmap(sorted->slots, sorted->gathered_bytes);
	sorted->gathered_bytes = 0;
}

/* Sort buckets larger than 8 times the average in place, but none under 64 Ki slots. */
static void choose_in_place_min(struct engine *e, const struct bucket *buckets)
{
	size_t total = 0;

	for (unsigned b = 0; b < MP_BUCKETS; b++)
		total += buckets[b].count + buckets[b].staged;
	e->in_place_min = total / MP_BUCKETS * 8;
	if (e->in_place_min < 65536)
		e->in_place_min = 65536;
}

static uint64_t entry_pfn(const struct slot *s)
{
	return s->sort >> ENTRY_PFN_SHIFT;
}

/* First stage: entries to records, one PFN bucket at a time. */
static int pair_frames(struct engine *e, size_t *scratch_capacity)
{
	struct mp_analysis *a = e->analysis;

	/* The low bits of the PFN choose the bucket; the flags sit below the PFN. */
	unsigned high = ENTRY_PFN_SHIFT + 63 - __builtin_clzll(a->max_pfn | 1);

	choose_in_place_min(e, a->frames);
	for (unsigned b = 0; b < MP_BUCKETS; b++) {
		struct sorted sorted;
		struct slot *s;
		int rc;

		rc = sort_bucket(e, &a->frames[b], high, scratch_capacity, &sorted);
		s = sorted.slots;
		for (size_t start = 0; rc == 0 && start < sorted.count; ) {
			uint64_t pfn = entry_pfn(&s[start]);
			size_t end = start + 1;

			while (end < sorted.count && entry_pfn(&s[end]) == pfn)
				end++;
			rc = emit_frame(a, s + start, end - start);
			start = end;
		}
		sorted_free(&sorted);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Second stage: records to content groups, one key bucket at a time. */
static int group_contents(struct engine *e, size_t *scratch_capacity)
{
	struct mp_analysis *a = e->analysis;

	choose_in_place_min(e, a->groups);
	for (unsigned b = 0; b < MP_BUCKETS; b++) {
		struct sorted sorted;
		struct slot *s;
		int rc;

		/* The top bits of the key choose the bucket. */
		rc = sort_bucket(e, &a->groups[b], 63 - MP_BUCKET_BITS, scratch_capacity,
				 &sorted);
		s = sorted.slots;
		for (size_t start = 0; rc == 0 && start < sorted.count; ) {
			uint64_t key = s[start].sort;
			size_t end = start + 1;

			while (end < sorted.count && s[end].sort == key)
				end++;
			rc = account_content(e, s + start, end - start);
			start = end;
		}
		sorted_free(&sorted);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ the report */

static void finish_totals(struct mp_totals *t)
{
	t->ksm_remaining = t->ksm_potential > t->ksm_saved ? t->ksm_potential - t->ksm_saved : 0;
}

static int compare_tasks(const void *a, const void *b)
{
	const struct mp_task_totals *x = a, *y = b;

	if (x->totals.frames_with_duplicates != y->totals.frames_with_duplicates)
		return x->totals.frames_with_duplicates > y->totals.frames_with_duplicates ? -1 : 1;
	if (x->totals.frames != y->totals.frames)
		return x->totals.frames > y->totals.frames ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int compare_files(const void *a, const void *b)
{
	const struct mp_file_totals *x = a, *y = b;

	if (x->totals.frames_with_duplicates != y->totals.frames_with_duplicates)
		return x->totals.frames_with_duplicates > y->totals.frames_with_duplicates ? -1 : 1;
	if (x->totals.frames != y->totals.frames)
		return x->totals.frames > y->totals.frames ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int compare_contents(const void *a, const void *b)
{
	const struct mp_content *x = a, *y = b;

	if (content_less(x, y))
		return 1;
	return content_less(y, x) ? -1 : 0;
}

static int report_tasks(struct engine *e, struct mp_report *r)
{
	struct mp_analysis *a = e->analysis;

	if (!a->options.per_task || !a->task_count)
		return 0;
	r->tasks = calloc(a->task_count, sizeof(*r->tasks));
	if (!r->tasks)
		return -ENOMEM;
	for (size_t i = 0; i < a->task_count; i++) {
		r->tasks[i] = a->tasks[i].out;
		finish_totals(&r->tasks[i].totals);
	}
	r->task_count = a->task_count;
	qsort(r->tasks, r->task_count, sizeof(*r->tasks), compare_tasks);
	return 0;
}

static int report_files(struct engine *e, struct mp_report *r)
{
	struct mp_analysis *a = e->analysis;
	size_t count = 0;

	if (!a->options.per_file || a->file_count <= 1)
		return 0;
	r->files = calloc(a->file_count - 1, sizeof(*r->files));
	if (!r->files)
		return -ENOMEM;
	for (size_t id = 1; id < a->file_count; id++) {
		struct mp_file_totals *f = &r->files[count];

		if (!e->files[id].frames)
			continue;
		f->dev = a->files[id].dev;
		f->inode = a->files[id].inode;
		f->totals = e->files[id];
		finish_totals(&f->totals);
		/* The path is taken over, not copied: analysis_reset() skips NULL paths. */
		f->path = a->files[id].path;
		a->files[id].path = NULL;
		count++;
	}
	qsort(r->files, count, sizeof(*r->files), compare_files);
	for (size_t i = e->top; i < count; i++)
		free(r->files[i].path);
	r->file_count = count < e->top ? count : e->top;
	return 0;
}

static int report_contents(struct engine *e, struct mp_report *r)
{
	qsort(e->contents, e->content_count, sizeof(*e->contents), compare_contents);
	r->contents = e->contents;
	r->content_count = e->content_count;
	e->contents = NULL;
	return 0;
}

static void fill_report(struct engine *e, struct mp_report *r)
{
	struct mp_analysis *a = e->analysis;

	r->info = a->info;
	r->pfn_valid = a->pfn_valid;
	r->partial_tasks = a->partial_tasks;
	memcpy(r->skipped, a->skipped, sizeof(r->skipped));
	r->moved_pages = a->moved_pages;
	r->ksm_end = a->ksm_end;
	r->sets = a->sets;
	r->max_page_sharing = e->max_page_sharing;
	r->use_zero_pages = e->use_zero_pages;

	e->set.zero_page_mappings = a->zero_page_mappings;
	finish_totals(&e->set);
	r->totals = e->set;
	for (int k = 0; k < MP_KIND_COUNT; k++) {
		finish_totals(&e->kinds[k]);
		r->kinds[k] = e->kinds[k];
	}
}

static void choose_ksm_parameters(struct engine *e)
{
	const struct mp_analysis_options *o = &e->analysis->options;
	const struct mp_ksm_counters *ksm = &e->analysis->info.ksm;

	e->max_page_sharing = 256;
	if (o->max_page_sharing)
		e->max_page_sharing = o->max_page_sharing;
	else if (ksm->valid && ksm->max_page_sharing)
		e->max_page_sharing = ksm->max_page_sharing;

	if (o->use_zero_pages >= 0)
		e->use_zero_pages = o->use_zero_pages;
	else
		e->use_zero_pages = ksm->valid && ksm->use_zero_pages;
}

static int engine_init(struct engine *e, struct mp_analysis *a)
{
	memset(e, 0, sizeof(*e));
	e->analysis = a;
	e->top = a->options.top ? a->options.top : 10;
	choose_ksm_parameters(e);
	e->counts = malloc(3 * RADIX_COUNTS * sizeof(*e->counts));
	e->files = calloc(a->file_count, sizeof(*e->files));
	e->contents = calloc(e->top, sizeof(*e->contents));
	if (!e->counts || !e->files || !e->contents)
		return -ENOMEM;
	return 0;
}

static void engine_free(struct engine *e)
{
	free(e->counts);
	free(e->files);
	free(e->contents);
	free(e->scratch);
	free(e->part_map);
	free(e->part_used);
}

int analysis_compute(struct mp_analysis *a, struct mp_report *r, struct mp_error *error)
{
	size_t scratch_capacity = 0;
	struct engine e;
	int rc;

	rc = engine_init(&e, a);
	if (rc == 0)
		rc = pair_frames(&e, &scratch_capacity);
	if (rc == 0)
		rc = group_contents(&e, &scratch_capacity);
	if (rc == 0) {
		fill_report(&e, r);
		rc = report_tasks(&e, r);
	}
	if (rc == 0)
		rc = report_files(&e, r);
	if (rc == 0)
		rc = report_contents(&e, r);
	engine_free(&e);
	if (rc < 0)
		return mp_fail_errno(error, rc, "analysis: cannot compute the report");
	return 0;
}
