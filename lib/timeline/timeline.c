// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timeline.c - sharing over time: opportunities, lifetimes, churn, stable pages
 *
 * The engine is a sink.  While a set streams in, it only appends: each page
 * record with a frame to the records of the set, its PFN to the frames,
 * and its mapping to the mappings of its task.  At the end of the set,
 * when every frame of every digest is known, four passes compute the
 * numbers:
 *
 *   1. the PFNs in a bitmap (or sorted, if they are too high for one): only
 *      the first record of each frame counts it;
 *   2. records sorted by digest: the frames of each digest, so the
 *      opportunities, merged with the open content runs in digest order;
 *   3. per task, its mappings in address order merged with those of the
 *      previous set: churn, new and gone mappings, merge runs;
 *   4. the arrays of this set become those of the previous one.
 *
 * Memory is thus bounded by the records of one set and the mappings of
 * two consecutive sets (docs/timeline.md gives the bytes), whatever the
 * length of the series.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define NS_PER_SEC 1000000000ll
#define DEFAULT_STABLE_SETS 4
/*
 * Below this PFN, a bitmap of the PFNs (32 MiB at most, for 1 TiB of
 * memory) finds the first record of each frame.  Above it, sorting does.
 */
#define BITMAP_PFN_LIMIT (1ull << 28)

struct series_task {
	struct mp_timeline_task public;
	uint64_t set_churn;		/* churn in the current interval */
	uint32_t present;		/* last set the task was in, 0 before its first */
	bool unsorted;			/* its mappings of this set came out of address order */
	struct tl_mapping *current, *previous;
	size_t current_count, current_capacity;
	size_t previous_count, previous_capacity;
};

struct mp_timeline {
	struct mp_timeline_options options;
	struct mp_error error;

	uint32_t set;			/* number of the current set: index + 1 */
	bool in_set;
	bool finished;
	uint32_t digest_size;
	int64_t *times;			/* monotonic start of each set, by index */
	size_t times_capacity;
	struct mp_timeline_set row;	/* the numbers of the current set */

	struct series_task *tasks;	/* every task seen, in order of appearance */
	size_t task_count, task_capacity;
	uint32_t *set_tasks;		/* task index in the set -> index in tasks */
	size_t set_task_count, set_task_capacity;

	struct tl_record *records;	/* of the current set */
	size_t record_count, record_capacity;
	size_t top_counts[TL_TOP_BUCKETS];	/* records by the top byte of their digest */
	struct tl_frame *frames;	/* of the current set's records with a PFN */
	size_t frame_count, frame_capacity;
	uint64_t highest_pfn;		/* of the frames */
	uint64_t *pfn_bitmap;		/* bit per PFN up to highest_pfn, all 0 between sets */
	size_t pfn_bitmap_capacity;	/* 64-bit words */
	void *scratch;			/* for the sorts: record_capacity records */
	size_t scratch_capacity;
	uint64_t *opportunity;		/* bit per record: its digest is an opportunity */
	size_t opportunity_capacity;	/* 64-bit words */
	struct tl_run *runs, *next_runs;	/* open content runs, by digest */
	size_t run_count, run_capacity, next_run_capacity;

	struct mp_lifetimes content, merge;
	size_t histogram_capacity;	/* entries of each runs_by_sets array */
	uint64_t common_mappings, churn;
	uint64_t state_bytes_max;
	int64_t end_ns;			/* t(last + 1), known once the series ends */
};

/* Grow *array to hold at least need elements of size bytes. */
static int reserve(void *array, size_t *capacity, size_t need, size_t size)
{
	void **p = array;
	size_t n = *capacity ? *capacity : 16;
	void *grown;

	if (need <= *capacity)
		return 0;
	while (n < need)
		n *= 2;
	grown = realloc(*p, n * size);
	if (!grown)
		return -ENOMEM;
	*p = grown;
	*capacity = n;
	return 0;
}

/* ------------------------------------------------------------------ runs */

static int64_t set_time(const struct mp_timeline *tl, uint32_t set)
{
	if (set > tl->set || (tl->finished && set == tl->set + 1))
		return tl->end_ns;
	return tl->times[set - 1];
}

/* Grow one run-length histogram to capacity entries, the new ones 0. */
static int grow_histogram(uint64_t **histogram, size_t old, size_t capacity)
{
	uint64_t *grown = realloc(*histogram, capacity * sizeof(**histogram));

	if (!grown)
		return -ENOMEM;
	memset(grown + old, 0, (capacity - old) * sizeof(*grown));
	*histogram = grown;
	return 0;
}

/*
 * Make the run-length histograms indexable by any length up to sets: a run
 * closed after the last set of a series of n sets lasts at most n sets.
 */
static int reserve_histograms(struct mp_timeline *tl, size_t sets)
{
	size_t old = tl->histogram_capacity;
	size_t capacity = old ? old : 64;

	if (sets + 1 <= old)
		return 0;
	while (capacity < sets + 1)
		capacity *= 2;
	if (grow_histogram(&tl->content.runs_by_sets, old, capacity) < 0 ||
	    grow_histogram(&tl->content.censored_runs_by_sets, old, capacity) < 0 ||
	    grow_histogram(&tl->merge.runs_by_sets, old, capacity) < 0 ||
	    grow_histogram(&tl->merge.censored_runs_by_sets, old, capacity) < 0)
		return -ENOMEM;
	tl->histogram_capacity = capacity;
	return 0;
}

/*
 * Count a run that was seen from set start to set end - 1 (set numbers),
 * holding pages savable pages summed over those sets.
 */
static void record_run(struct mp_timeline *tl, struct mp_lifetimes *lifetimes,
		       uint32_t start, uint32_t end, uint64_t pages)
{
	bool censored = start == 1 || end > tl->set;
	int64_t ns = set_time(tl, end) - set_time(tl, start);
	uint64_t *longer_runs = censored ? lifetimes->censored_longer_runs : lifetimes->longer_runs;
	uint64_t *longer_pages = censored ? lifetimes->censored_longer_pages : lifetimes->longer_pages;

	if (censored) {
		lifetimes->censored_runs++;
		lifetimes->censored_pages += pages;
		lifetimes->censored_runs_by_sets[end - start]++;
	} else {
		lifetimes->runs++;
		lifetimes->pages += pages;
		lifetimes->runs_by_sets[end - start]++;
	}

	for (int i = 0; i < MP_LIFETIME_BINS; i++) {
		if (ns <= (NS_PER_SEC << (i + 1)))
			break;
		longer_runs[i]++;
		longer_pages[i] += pages;
	}
}

/* ----------------------------------------------------------------- tasks */

static struct series_task *find_task(struct mp_timeline *tl, int32_t pid)
{
	for (size_t i = tl->task_count; i-- > 0;) {
		if (tl->tasks[i].public.pid == pid)
			return &tl->tasks[i];
	}
	return NULL;
}

static int timeline_task(void *ctx, const struct mp_task *task)
{
	struct mp_timeline *tl = ctx;
	struct series_task *st = find_task(tl, task->pid);

	if (!st) {
		if (reserve(&tl->tasks, &tl->task_capacity, tl->task_count + 1, sizeof(*tl->tasks)) < 0)
			return mp_fail(&tl->error, -ENOMEM, "timeline: task %d: out of memory", task->pid);
		st = &tl->tasks[tl->task_count++];
		memset(st, 0, sizeof(*st));
		st->public.pid = task->pid;
		st->public.first_set = tl->set - 1;
	}
	memcpy(st->public.comm, task->comm, sizeof(st->public.comm));
	st->public.comm[sizeof(st->public.comm) - 1] = '\0';
	st->public.last_set = tl->set - 1;
	st->present = tl->set;

	if (reserve(&tl->set_tasks, &tl->set_task_capacity, tl->set_task_count + 1,
		    sizeof(*tl->set_tasks)) < 0)
		return mp_fail(&tl->error, -ENOMEM, "timeline: task %d: out of memory", task->pid);
	tl->set_tasks[tl->set_task_count++] = st - tl->tasks;

	tl->row.tasks++;
	if (task->ksm.valid) {
		tl->row.ksm_merging_pages += task->ksm.ksm_merging_pages;
		tl->row.ksm_zero_pages += task->ksm.ksm_zero_pages;
	}
	return 0;
}

/* --------------------------------------------------------------- pages */

static int begin_set(void *ctx, const struct mp_set_info *info)
{
	struct mp_timeline *tl = ctx;

	if (tl->finished)
		return mp_fail(&tl->error, -EINVAL, "timeline: set after the end of the series");
	if (tl->in_set)
		return mp_fail(&tl->error, -EBADMSG, "timeline: set %u has no end", tl->set - 1);
	if (reserve(&tl->times, &tl->times_capacity, tl->set + 1, sizeof(*tl->times)) < 0 ||
	    reserve_histograms(tl, tl->set + 1) < 0)
		return mp_fail(&tl->error, -ENOMEM, "timeline: set %u: out of memory", tl->set);

	tl->times[tl->set] = info->monotonic_ns;
	tl->set++;
	tl->in_set = true;
	tl->digest_size = info->digest_size;
	tl->set_task_count = 0;
	tl->record_count = 0;
	memset(tl->top_counts, 0, sizeof(tl->top_counts));
	tl->frame_count = 0;
	tl->highest_pfn = 0;

	memset(&tl->row, 0, sizeof(tl->row));
	tl->row.index = tl->set - 1;
	tl->row.monotonic_ns = info->monotonic_ns;
	tl->row.realtime_ns = info->realtime_ns;
	tl->row.ksm = info->ksm;
	return 0;
}

/*
 * Append the record of a page with a frame.  Without a PFN each page
 * record is a frame of its own.  With one, count_frames() decides.
 */
static int add_record(struct mp_timeline *tl, const struct mp_page *page, uint64_t digest,
		      bool pfn_valid)
{
	uint32_t index = (uint32_t)tl->record_count;
	struct tl_record *record;

	if (tl->record_count >= TL_NO_RECORD)
		return -EOVERFLOW;
	if (reserve(&tl->records, &tl->record_capacity, tl->record_count + 1,
		    sizeof(*tl->records)) < 0)
		return -ENOMEM;
	record = &tl->records[tl->record_count++];
	record->digest = digest;
	record->index = index;
	record->flags = page->flags & MP_PAGE_ZERO_FILLED ? TL_RECORD_ZERO_FILLED : 0;
	tl->top_counts[digest >> 56]++;

	if (!pfn_valid) {
		record->flags |= TL_RECORD_FRAME;
		return 0;
	}
	if (reserve(&tl->frames, &tl->frame_capacity, tl->frame_count + 1,
		    sizeof(*tl->frames)) < 0)
		return -ENOMEM;
	tl->frames[tl->frame_count].pfn = page->pfn;
	tl->frames[tl->frame_count].record = index;
	tl->frame_count++;
	if (page->pfn > tl->highest_pfn)
		tl->highest_pfn = page->pfn;
	return 0;
}

static int add_mapping(struct series_task *task, const struct mp_page *page, uint64_t digest,
		       uint32_t record)
{
	struct tl_mapping *mapping;

	if (reserve(&task->current, &task->current_capacity, task->current_count + 1,
		    sizeof(*task->current)) < 0)
		return -ENOMEM;
	if (task->current_count && task->current[task->current_count - 1].vpn >= page->index)
		task->unsorted = true;
	mapping = &task->current[task->current_count];
	memset(mapping, 0, sizeof(*mapping));
	mapping->vpn = page->index;
	mapping->digest = digest;
	mapping->record = record;
	mapping->order = (uint32_t)task->current_count++;
	return 0;
}

static int add_page(struct mp_timeline *tl, const struct mp_page *page)
{
	bool pfn_valid = page->flags & MP_PAGE_PFN_VALID;
	bool zero_page = pfn_valid && (page->kpageflags & (1ull << MP_KPF_ZERO_PAGE));
	uint32_t record = TL_NO_RECORD;
	uint64_t digest;
	int rc;

	/*
	 * A page without content has nothing to follow.  A page that moved
	 * while it was read may pair a PFN with another frame's content, so
	 * the analysis leaves it out, and so does the timeline.
	 */
	if (page->flags & (MP_PAGE_NO_DIGEST | MP_PAGE_MOVED))
		return 0;
	digest = mp_digest_key(page->digest, tl->digest_size);

	if (!zero_page) {
		record = (uint32_t)tl->record_count;
		rc = add_record(tl, page, digest, pfn_valid);
		if (rc < 0)
			return rc;
	}
	if (page->task == MP_NONE)
		return 0;
	if (page->task >= tl->set_task_count)
		return -EBADMSG;

	if (zero_page)
		tl->row.zero_page_mappings++;
	else
		tl->row.mappings++;
	return add_mapping(&tl->tasks[tl->set_tasks[page->task]], page, digest, record);
}

static int timeline_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct mp_timeline *tl = ctx;

	for (size_t i = 0; i < count; i++) {
		int rc = add_page(tl, &pages[i]);

		if (rc == -EBADMSG)
			return mp_fail(&tl->error, rc, "timeline: set %u: page of task %u, "
				       "which the set did not announce", tl->set - 1, pages[i].task);
		if (rc == -EOVERFLOW)
			return mp_fail(&tl->error, rc, "timeline: set %u: more than %u page "
				       "records", tl->set - 1, TL_NO_RECORD - 1);
		if (rc < 0)
			return mp_fail(&tl->error, rc, "timeline: set %u: out of memory",
				       tl->set - 1);
	}
	return 0;
}

/* ------------------------------------------------------- frames, digests */

/*
 * Mark the first record of each PFN: only that record counts the frame.
 * The bitmap is sized by reserve_set_arrays() and cleared again after use.
 */
static void count_frames_in_bitmap(struct mp_timeline *tl)
{
	uint64_t *bitmap = tl->pfn_bitmap;

	for (size_t i = 0; i < tl->frame_count; i++) {
		uint64_t pfn = tl->frames[i].pfn, bit = 1ull << (pfn % 64);

		if (!(bitmap[pfn / 64] & bit)) {
			bitmap[pfn / 64] |= bit;
			tl->records[tl->frames[i].record].flags |= TL_RECORD_FRAME;
		}
	}
	for (size_t i = 0; i < tl->frame_count; i++)
		bitmap[tl->frames[i].pfn / 64] = 0;
}

/* The same for PFNs too high for a bitmap, which only a damaged or odd file has. */
static void count_frames_by_sorting(struct mp_timeline *tl)
{
	tl_sort_frames(tl->frames, tl->scratch, tl->frame_count);
	for (size_t i = 0; i < tl->frame_count; i++) {
		if (i == 0 || tl->frames[i].pfn != tl->frames[i - 1].pfn)
			tl->records[tl->frames[i].record].flags |= TL_RECORD_FRAME;
	}
}

static void count_frames(struct mp_timeline *tl)
{
	if (tl->highest_pfn < BITMAP_PFN_LIMIT)
		count_frames_in_bitmap(tl);
	else
		count_frames_by_sorting(tl);
}

/* Append a run to the runs of the next set (reserve_set_arrays() made room). */
static void keep_run(struct mp_timeline *tl, size_t *next_count, uint64_t digest, uint32_t start,
		     uint64_t savable)
{
	struct tl_run *run = &tl->next_runs[(*next_count)++];

	run->digest = digest;
	run->start = start;
	run->savable = savable;
}

static void close_content_run(struct mp_timeline *tl, const struct tl_run *run, uint32_t end)
{
	record_run(tl, &tl->content, run->start, end, run->savable);
}

/*
 * Count the digest of the sorted records [first, last), which have frames
 * frames, and carry its content run on.  Open runs of smaller digests
 * have ended, because no record of this set has them.
 */
static void count_digest(struct mp_timeline *tl, size_t first, size_t last, uint64_t frames,
			 bool zero_filled, size_t *open, size_t *next_count)
{
	uint64_t digest = tl->records[first].digest;
	uint32_t start = tl->set;
	uint64_t savable = 0;

	while (*open < tl->run_count && tl->runs[*open].digest < digest)
		close_content_run(tl, &tl->runs[(*open)++], tl->set);
	if (*open < tl->run_count && tl->runs[*open].digest == digest) {
		if (frames >= 2) {
			start = tl->runs[*open].start;
			savable = tl->runs[*open].savable;
		} else {
			close_content_run(tl, &tl->runs[*open], tl->set);
		}
		(*open)++;
	}
	if (frames < 2)
		return;

	tl->row.opportunities++;
	tl->row.duplicate_frames += frames - 1;
	if (!zero_filled)
		tl->row.duplicate_frames_nonzero += frames - 1;
	keep_run(tl, next_count, digest, start, savable + frames - 1);
	for (size_t i = first; i < last; i++) {
		uint32_t index = tl->records[i].index;

		tl->opportunity[index / 64] |= 1ull << (index % 64);
	}
}

/* Group the records by digest: frames, opportunities, content runs. */
static void count_digests(struct mp_timeline *tl)
{
	size_t open = 0, next_count = 0, capacity;
	struct tl_run *swap;

	tl_sort_records(tl->records, tl->scratch, tl->record_count, tl->top_counts);
	memset(tl->opportunity, 0, (tl->record_count + 63) / 64 * sizeof(*tl->opportunity));

	for (size_t first = 0, last; first < tl->record_count; first = last) {
		uint64_t frames = 0;
		bool zero_filled = false;

		for (last = first; last < tl->record_count &&
		     tl->records[last].digest == tl->records[first].digest; last++) {
			if (tl->records[last].flags & TL_RECORD_FRAME) {
				frames++;
				zero_filled = tl->records[last].flags & TL_RECORD_ZERO_FILLED;
			}
		}
		tl->row.frames += frames;
		count_digest(tl, first, last, frames, zero_filled, &open, &next_count);
	}
	while (open < tl->run_count)
		close_content_run(tl, &tl->runs[open++], tl->set);

	swap = tl->runs;
	tl->runs = tl->next_runs;
	tl->next_runs = swap;
	tl->run_count = next_count;
	capacity = tl->run_capacity;
	tl->run_capacity = tl->next_run_capacity;
	tl->next_run_capacity = capacity;
}

/* ------------------------------------------------------------- mappings */

static void close_merge_run(struct mp_timeline *tl, struct tl_mapping *mapping, uint32_t end)
{
	record_run(tl, &tl->merge, mapping->run_start, end, end - mapping->run_start);
	mapping->run_start = 0;
}

/* A mapping of the previous set that this set does not have. */
static void mapping_gone(struct mp_timeline *tl, struct tl_mapping *gone)
{
	tl->row.gone_mappings++;
	if (gone->run_start)
		close_merge_run(tl, gone, tl->set);
}

/* Compare a mapping with the same page of the previous set (NULL if none) for churn. */
static void mapping_follow(struct mp_timeline *tl, struct series_task *task,
			   struct tl_mapping *mapping, struct tl_mapping *before)
{
	if (!before) {
		tl->row.new_mappings++;
		mapping->since = tl->set;
		return;
	}

	tl->row.common_mappings++;
	task->public.common_mappings++;
	mapping->since = before->since;
	mapping->run_start = before->run_start;
	if (mapping->digest != before->digest) {
		tl->row.churn++;
		task->public.churn++;
		task->set_churn++;
		if (mapping->run_start)
			close_merge_run(tl, mapping, tl->set);
		mapping->since = tl->set;
	}
}

/* Open, extend or close the merge run of a mapping of this set. */
static void mapping_update(struct mp_timeline *tl, struct tl_mapping *mapping)
{
	uint32_t record = mapping->record;
	bool opportunity = record != TL_NO_RECORD &&
			   (tl->opportunity[record / 64] >> (record % 64) & 1);

	if (opportunity)
		tl->row.opportunity_mappings++;
	if (mapping->run_start && !opportunity)
		close_merge_run(tl, mapping, tl->set);
	else if (!mapping->run_start && opportunity)
		mapping->run_start = tl->set;

	if (tl->set - mapping->since + 1 >= tl->options.stable_sets)
		tl->row.stable_mappings++;
}

/*
 * Merge the mappings of a task in this set with those of the previous set,
 * both in address order.  A page recorded twice keeps its first record.
 */
static void track_task(struct mp_timeline *tl, struct series_task *task)
{
	struct tl_mapping *before = task->previous, *before_end = before + task->previous_count;
	struct tl_mapping *swap;
	size_t mapping_count = 0, capacity;

	task->set_churn = 0;
	if (task->unsorted)
		tl_sort_mappings(task->current, task->current_count);
	for (size_t i = 0; i < task->current_count; i++) {
		struct tl_mapping mapping = task->current[i];
		struct tl_mapping *match = NULL;

		if (mapping_count && task->current[mapping_count - 1].vpn == mapping.vpn)
			continue;
		while (before < before_end && before->vpn < mapping.vpn)
			mapping_gone(tl, before++);
		if (before < before_end && before->vpn == mapping.vpn)
			match = before++;

		mapping_follow(tl, task, &mapping, match);
		mapping_update(tl, &mapping);
		task->current[mapping_count++] = mapping;
	}
	while (before < before_end)
		mapping_gone(tl, before++);

	if (task->set_churn > task->public.max_churn)
		task->public.max_churn = task->set_churn;
	swap = task->previous;
	task->previous = task->current;
	task->previous_count = mapping_count;
	task->current = swap;
	task->current_count = 0;
	capacity = task->previous_capacity;
	task->previous_capacity = task->current_capacity;
	task->current_capacity = capacity;
}

static void track_tasks(struct mp_timeline *tl)
{
	for (size_t i = 0; i < tl->task_count; i++) {
		struct series_task *task = &tl->tasks[i];

		if (task->present == tl->set) {
			track_task(tl, task);
			continue;
		}
		/* A task that left: every mapping of its last set is gone. */
		for (size_t j = 0; j < task->previous_count; j++)
			mapping_gone(tl, &task->previous[j]);
		task->previous_count = 0;
	}
}

/* ------------------------------------------------------------ set end */

/* Grow the PFN bitmap to words words, the new ones 0. */
static int reserve_bitmap(struct mp_timeline *tl, size_t words)
{
	size_t old = tl->pfn_bitmap_capacity;

	if (reserve(&tl->pfn_bitmap, &tl->pfn_bitmap_capacity, words,
		    sizeof(*tl->pfn_bitmap)) < 0)
		return -ENOMEM;
	memset(tl->pfn_bitmap + old, 0, (tl->pfn_bitmap_capacity - old) * sizeof(*tl->pfn_bitmap));
	return 0;
}

/*
 * Make the arrays of the set end as large as the records need.  An
 * opportunity has two frames or more, so there are at most half as many
 * open runs as records.
 */
static int reserve_set_arrays(struct mp_timeline *tl)
{
	size_t words = (tl->record_count + 63) / 64;

	if (tl->frame_count && tl->highest_pfn < BITMAP_PFN_LIMIT &&
	    reserve_bitmap(tl, tl->highest_pfn / 64 + 1) < 0)
		return -ENOMEM;
	if (reserve(&tl->scratch, &tl->scratch_capacity, tl->record_count,
		    sizeof(struct tl_record)) < 0 ||
	    reserve(&tl->opportunity, &tl->opportunity_capacity, words ? words : 1,
		    sizeof(*tl->opportunity)) < 0 ||
	    reserve(&tl->next_runs, &tl->next_run_capacity, tl->record_count / 2 + 1,
		    sizeof(*tl->next_runs)) < 0)
		return -ENOMEM;
	return 0;
}

static uint64_t state_bytes(const struct mp_timeline *tl)
{
	uint64_t bytes = tl->record_capacity * sizeof(*tl->records) +
			 tl->frame_capacity * sizeof(*tl->frames) +
			 tl->scratch_capacity * sizeof(struct tl_record) +
			 tl->opportunity_capacity * sizeof(*tl->opportunity) +
			 tl->pfn_bitmap_capacity * sizeof(*tl->pfn_bitmap) +
			 (tl->run_capacity + tl->next_run_capacity) * sizeof(*tl->runs);

	for (size_t i = 0; i < tl->task_count; i++)
		bytes += (tl->tasks[i].current_capacity + tl->tasks[i].previous_capacity) *
			 sizeof(struct tl_mapping);
	return bytes;
}

static int timeline_end_set(void *ctx, const struct mp_set_end *end)
{
	struct mp_timeline *tl = ctx;

	if (!tl->in_set)
		return mp_fail(&tl->error, -EBADMSG, "timeline: set end without a set");
	tl->in_set = false;
	tl->row.duration_ns = end->duration_ns;
	if (reserve_set_arrays(tl) < 0)
		return mp_fail(&tl->error, -ENOMEM, "timeline: set %u: out of memory",
			       tl->set - 1);
	if (state_bytes(tl) > tl->state_bytes_max)
		tl->state_bytes_max = state_bytes(tl);

	count_frames(tl);
	count_digests(tl);
	track_tasks(tl);
	tl->common_mappings += tl->row.common_mappings;
	tl->churn += tl->row.churn;

	if (tl->options.set_done)
		return tl->options.set_done(tl->options.set_done_ctx, &tl->row);
	return 0;
}

/* --------------------------------------------------------------- public */

static const struct mp_sink_ops timeline_ops = {
	.begin_set = begin_set,
	.task = timeline_task,
	.pages = timeline_pages,
	.end_set = timeline_end_set,
};

int mp_timeline_open(struct mp_timeline **timeline, const struct mp_timeline_options *options,
		     struct mp_error *error)
{
	struct mp_timeline *tl = calloc(1, sizeof(*tl));

	*timeline = NULL;
	if (!tl)
		return mp_fail(error, -ENOMEM, "timeline: out of memory");
	if (options)
		tl->options = *options;
	if (!tl->options.stable_sets)
		tl->options.stable_sets = DEFAULT_STABLE_SETS;
	*timeline = tl;
	return 0;
}

struct mp_sink mp_timeline_sink(struct mp_timeline *timeline)
{
	struct mp_sink sink = { &timeline_ops, timeline, &timeline->error };

	return sink;
}

/* t(last + 1): the last start plus the mean interval, or plus the last set's duration. */
static int64_t series_end(const struct mp_timeline *tl)
{
	int64_t first = tl->times[0], last = tl->times[tl->set - 1];

	if (tl->set >= 2 && last > first)
		return last + (last - first) / (tl->set - 1);
	return last + (tl->row.duration_ns ? (int64_t)tl->row.duration_ns : 1);
}

/* Close the runs still open after the last set, as lasting until t(last + 1). */
static void close_open_runs(struct mp_timeline *tl)
{
	uint32_t end = tl->set + 1;

	for (size_t i = 0; i < tl->task_count; i++) {
		struct series_task *task = &tl->tasks[i];

		for (size_t j = 0; j < task->previous_count; j++) {
			if (task->previous[j].run_start)
				close_merge_run(tl, &task->previous[j], end);
		}
		task->previous_count = 0;
	}
	for (size_t i = 0; i < tl->run_count; i++)
		close_content_run(tl, &tl->runs[i], end);
	tl->run_count = 0;
}

static int fill_summary(struct mp_timeline *tl, struct mp_timeline_summary *summary)
{
	summary->set_count = tl->set;
	if (tl->set) {
		summary->first_ns = tl->times[0];
		summary->last_ns = tl->times[tl->set - 1];
		summary->end_ns = tl->end_ns;
	}
	summary->common_mappings = tl->common_mappings;
	summary->churn = tl->churn;
	summary->state_bytes_max = tl->state_bytes_max;

	summary->content = tl->content;
	summary->merge = tl->merge;
	memset(&tl->content, 0, sizeof(tl->content));
	memset(&tl->merge, 0, sizeof(tl->merge));

	summary->tasks = calloc(tl->task_count ? tl->task_count : 1, sizeof(*summary->tasks));
	if (!summary->tasks)
		return -ENOMEM;
	for (size_t i = 0; i < tl->task_count; i++)
		summary->tasks[i] = tl->tasks[i].public;
	summary->task_count = tl->task_count;
	return 0;
}

int mp_timeline_finish(struct mp_timeline *timeline, struct mp_timeline_summary **summary,
		       struct mp_error *error)
{
	struct mp_timeline *tl = timeline;
	struct mp_timeline_summary *result;

	*summary = NULL;
	if (tl->finished)
		return mp_fail(error, -EINVAL, "timeline: series already finished");
	if (tl->in_set)
		return mp_fail(error, -EBADMSG, "timeline: set %u has no end", tl->set - 1);

	if (reserve_histograms(tl, tl->set) < 0)
		return mp_fail(error, -ENOMEM, "timeline: out of memory");
	tl->finished = true;
	if (tl->set) {
		tl->end_ns = series_end(tl);
		close_open_runs(tl);
	}

	result = calloc(1, sizeof(*result));
	if (!result || fill_summary(tl, result) < 0) {
		mp_timeline_summary_free(result);
		return mp_fail(error, -ENOMEM, "timeline: out of memory");
	}
	*summary = result;
	return 0;
}

void mp_timeline_summary_free(struct mp_timeline_summary *summary)
{
	if (!summary)
		return;
	free(summary->content.runs_by_sets);
	free(summary->content.censored_runs_by_sets);
	free(summary->merge.runs_by_sets);
	free(summary->merge.censored_runs_by_sets);
	free(summary->tasks);
	free(summary);
}

void mp_timeline_close(struct mp_timeline *timeline)
{
	if (!timeline)
		return;
	for (size_t i = 0; i < timeline->task_count; i++) {
		free(timeline->tasks[i].current);
		free(timeline->tasks[i].previous);
	}
	free(timeline->records);
	free(timeline->frames);
	free(timeline->scratch);
	free(timeline->opportunity);
	free(timeline->pfn_bitmap);
	free(timeline->runs);
	free(timeline->next_runs);
	free(timeline->content.runs_by_sets);
	free(timeline->content.censored_runs_by_sets);
	free(timeline->merge.runs_by_sets);
	free(timeline->merge.censored_runs_by_sets);
	free(timeline->times);
	free(timeline->tasks);
	free(timeline->set_tasks);
	free(timeline);
}
