// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timeline.c - sharing over time: opportunities, lifetimes, churn, stable pages
 *
 * The engine is a sink.  While a set streams in, each page record updates
 * the entry of its mapping (churn is decided there, against the digest the
 * mapping had in the previous set) and counts its frame towards its digest.
 * At the end of the set, when the frame count of every digest is known, a
 * sweep over the mappings opens and closes merge runs, and a sweep over the
 * contents opens and closes content runs.  Both sweeps drop what the next
 * set will not need: mappings absent from this set and digests that are not
 * an open run.  Memory is thus bounded by the mappings of two consecutive
 * sets, the digests of one set and the frames of one set (docs/timeline.md
 * gives the bytes), whatever the length of the series.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define NS_PER_SEC 1000000000ll
#define DEFAULT_STABLE_SETS 4
#define PREFETCH_DISTANCE 12	/* page records */

struct series_task {
	struct mp_timeline_task public;
	uint64_t set_churn;		/* churn in the current interval */
};

struct mp_timeline {
	struct mp_timeline_options options;
	struct mp_error error;

	struct tl_table mappings;
	struct tl_table contents;
	struct tl_table frames;

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
	st->set_churn = 0;

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
	tl_frame_set_clear(&tl->frames);

	memset(&tl->row, 0, sizeof(tl->row));
	tl->row.index = tl->set - 1;
	tl->row.monotonic_ns = info->monotonic_ns;
	tl->row.realtime_ns = info->realtime_ns;
	tl->row.ksm = info->ksm;
	return 0;
}

/*
 * Count the frame of a page towards its digest.  Without a PFN each page
 * record is a frame of its own.
 */
static int count_frame(struct mp_timeline *tl, const struct mp_page *page, uint64_t digest,
		       bool pfn_valid)
{
	struct tl_content *content;

	if (pfn_valid) {
		int added = tl_frame_set_add(&tl->frames, page->pfn);

		if (added < 0)
			return added;
		if (!added)
			return 0;
	}

	content = tl_content_get(&tl->contents, digest);
	if (!content)
		return -ENOMEM;
	if (content->seen != tl->set) {
		content->seen = tl->set;
		content->frames = 0;
		content->zero_filled = !!(page->flags & MP_PAGE_ZERO_FILLED);
	}
	content->frames++;
	tl->row.frames++;
	return 0;
}

static void close_merge_run(struct mp_timeline *tl, struct tl_mapping *mapping)
{
	record_run(tl, &tl->merge, mapping->run_start, tl->set, tl->set - mapping->run_start);
	mapping->run_start = 0;
}

/* Compare a mapping with its previous set: churn, new mappings. */
static int track_mapping(struct mp_timeline *tl, const struct mp_page *page, uint64_t digest,
			 bool zero_page)
{
	struct series_task *task = &tl->tasks[tl->set_tasks[page->task]];
	struct tl_mapping *mapping;

	mapping = tl_mapping_get(&tl->mappings, task->public.pid, page->index);
	if (!mapping)
		return -ENOMEM;
	if (mapping->seen == tl->set)
		return 0;	/* a second record of the same page: keep the first */

	if (mapping->seen == tl->set - 1 && mapping->seen) {
		tl->row.common_mappings++;
		task->public.common_mappings++;
		if (mapping->digest != digest) {
			tl->row.churn++;
			task->public.churn++;
			task->set_churn++;
			if (mapping->run_start)
				close_merge_run(tl, mapping);
			mapping->since = tl->set;
		}
	} else {
		tl->row.new_mappings++;
		mapping->since = tl->set;
		mapping->run_start = 0;
	}
	mapping->digest = digest;
	mapping->seen = tl->set;
	mapping->zero_page = zero_page;
	return 0;
}

static int add_page(struct mp_timeline *tl, const struct mp_page *page)
{
	bool pfn_valid = page->flags & MP_PAGE_PFN_VALID;
	bool zero_page = pfn_valid && (page->kpageflags & (1ull << MP_KPF_ZERO_PAGE));
	uint64_t digest;
	int rc;

	if (page->flags & MP_PAGE_NO_DIGEST)
		return 0;
	digest = mp_digest_key(page->digest, tl->digest_size);

	if (!zero_page) {
		rc = count_frame(tl, page, digest, pfn_valid);
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
	return track_mapping(tl, page, digest, zero_page);
}

/* Prefetch the table slots that add_page() will touch for page. */
static void prefetch_page(const struct mp_timeline *tl, const struct mp_page *page)
{
	uint64_t digest = mp_digest_key(page->digest, tl->digest_size);

	if (page->flags & MP_PAGE_NO_DIGEST)
		return;
	tl_content_prefetch(&tl->contents, digest);
	if (page->flags & MP_PAGE_PFN_VALID)
		tl_frame_prefetch(&tl->frames, page->pfn);
	if (page->task < tl->set_task_count)
		tl_mapping_prefetch(&tl->mappings, tl->tasks[tl->set_tasks[page->task]].public.pid,
				    page->index);
}

static int timeline_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	struct mp_timeline *tl = ctx;

	for (size_t i = 0; i < count; i++) {
		int rc;

		if (i + PREFETCH_DISTANCE < count)
			prefetch_page(tl, &pages[i + PREFETCH_DISTANCE]);
		rc = add_page(tl, &pages[i]);

		if (rc == -EBADMSG)
			return mp_fail(&tl->error, rc, "timeline: set %u: page of task %u, "
				       "which the set did not announce", tl->set - 1, pages[i].task);
		if (rc < 0)
			return mp_fail(&tl->error, rc, "timeline: set %u: out of memory",
				       tl->set - 1);
	}
	return 0;
}

/* ------------------------------------------------------------ set end */

static bool is_opportunity(const struct mp_timeline *tl, uint64_t digest)
{
	const struct tl_content *content = tl_content_find(&tl->contents, digest);

	return content && content->seen == tl->set && content->frames >= 2;
}

static void prefetch_content(void *ctx, const struct tl_mapping *mapping)
{
	const struct mp_timeline *tl = ctx;

	tl_content_prefetch(&tl->contents, mapping->digest);
}

/* Open, extend or close the merge run of a mapping.  Drop it if it is gone. */
static bool sweep_mapping(void *ctx, struct tl_mapping *mapping)
{
	struct mp_timeline *tl = ctx;
	uint32_t stable_sets = tl->options.stable_sets;
	bool opportunity;

	if (mapping->seen != tl->set) {
		tl->row.gone_mappings++;
		if (mapping->run_start)
			close_merge_run(tl, mapping);
		return false;
	}

	opportunity = !mapping->zero_page && is_opportunity(tl, mapping->digest);
	if (opportunity)
		tl->row.opportunity_mappings++;
	if (mapping->run_start && !opportunity)
		close_merge_run(tl, mapping);
	else if (!mapping->run_start && opportunity)
		mapping->run_start = tl->set;

	if (tl->set - mapping->since + 1 >= stable_sets)
		tl->row.stable_mappings++;
	return true;
}

/* Open, extend or close the run of a digest.  Keep it only while its run is open. */
static bool sweep_content(void *ctx, struct tl_content *content)
{
	struct mp_timeline *tl = ctx;

	if (content->seen == tl->set && content->frames >= 2) {
		tl->row.opportunities++;
		tl->row.duplicate_frames += content->frames - 1;
		if (!content->zero_filled)
			tl->row.duplicate_frames_nonzero += content->frames - 1;
		if (!content->run_start) {
			content->run_start = tl->set;
			content->savable = 0;
		}
		content->savable += content->frames - 1;
		return true;
	}

	if (content->run_start)
		record_run(tl, &tl->content, content->run_start, tl->set, content->savable);
	return false;
}

static void update_tasks(struct mp_timeline *tl)
{
	for (size_t i = 0; i < tl->set_task_count; i++) {
		struct series_task *task = &tl->tasks[tl->set_tasks[i]];

		if (task->set_churn > task->public.max_churn)
			task->public.max_churn = task->set_churn;
	}
}

static uint64_t state_bytes(const struct mp_timeline *tl)
{
	return tl_table_bytes(&tl->mappings, sizeof(struct tl_mapping)) +
	       tl_table_bytes(&tl->contents, sizeof(struct tl_content)) +
	       tl_table_bytes(&tl->frames, sizeof(uint64_t));
}

static int timeline_end_set(void *ctx, const struct mp_set_end *end)
{
	struct mp_timeline *tl = ctx;

	if (!tl->in_set)
		return mp_fail(&tl->error, -EBADMSG, "timeline: set end without a set");
	tl->in_set = false;
	tl->row.duration_ns = end->duration_ns;
	if (state_bytes(tl) > tl->state_bytes_max)
		tl->state_bytes_max = state_bytes(tl);

	/* The mappings first: they look up the frame counts the content sweep drops. */
	tl_mapping_sweep(&tl->mappings, sweep_mapping, prefetch_content, tl);
	tl_content_sweep(&tl->contents, sweep_content, tl);
	update_tasks(tl);
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

	if (tl_mapping_table_init(&tl->mappings) < 0 || tl_content_table_init(&tl->contents) < 0 ||
	    tl_frame_set_init(&tl->frames) < 0) {
		mp_timeline_close(tl);
		return mp_fail(error, -ENOMEM, "timeline: out of memory");
	}
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

static bool close_mapping(void *ctx, struct tl_mapping *mapping)
{
	struct mp_timeline *tl = ctx;

	if (mapping->run_start)
		record_run(tl, &tl->merge, mapping->run_start, tl->set + 1,
			   tl->set + 1 - mapping->run_start);
	return false;
}

static bool close_content(void *ctx, struct tl_content *content)
{
	struct mp_timeline *tl = ctx;

	if (content->run_start)
		record_run(tl, &tl->content, content->run_start, tl->set + 1, content->savable);
	return false;
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
		tl_mapping_sweep(&tl->mappings, close_mapping, NULL, tl);
		tl_content_sweep(&tl->contents, close_content, tl);
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
	tl_table_free(&timeline->mappings);
	tl_table_free(&timeline->contents);
	tl_table_free(&timeline->frames);
	free(timeline->content.runs_by_sets);
	free(timeline->content.censored_runs_by_sets);
	free(timeline->merge.runs_by_sets);
	free(timeline->merge.censored_runs_by_sets);
	free(timeline->times);
	free(timeline->tasks);
	free(timeline->set_tasks);
	free(timeline);
}
