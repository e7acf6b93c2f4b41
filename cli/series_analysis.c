// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * series_analysis.c - the per-set analysis of a series file, on a thread
 * of its own
 *
 * The thread reads the file set by set into an analysis and queues the
 * report of each set.  It runs at most QUEUE_LENGTH sets ahead of the
 * caller, so that a caller that stops early does not leave it analysing
 * the whole file, and memory keeps a few reports, not one per set.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "series_analysis.h"

#define QUEUE_LENGTH 4

struct series_analysis {
	pthread_t thread;
	bool threaded;			/* false: the caller feeds the analysis (a pipe) */
	char *path;
	struct mp_reader *reader;	/* used by the thread only, once it runs */
	struct mp_analysis *analysis;

	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t changed;
	struct mp_report *queue[QUEUE_LENGTH];	/* reports not yet taken, a ring */
	size_t first, count;
	uint32_t sets_done;		/* reports queued so far */
	bool finished;			/* the thread queues no more reports */
	int rc;				/* why it finished: 0 at the end of the file */
	struct mp_error error;
	bool stop;			/* the caller wants no more reports */
};

/* Fill error with code and a formatted message; returns code. */
__attribute__((format(printf, 3, 4)))
static int fail(struct mp_error *error, int code, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(error->message, sizeof(error->message), format, args);
	va_end(args);
	error->code = code;
	return code;
}

/* Queue a report, waiting while the queue is full.  -ECANCELED once the caller stops. */
static int queue_report(struct series_analysis *sa, struct mp_report *report)
{
	int rc = 0;

	pthread_mutex_lock(&sa->lock);
	while (sa->count == QUEUE_LENGTH && !sa->stop)
		pthread_cond_wait(&sa->changed, &sa->lock);
	if (sa->stop) {
		rc = -ECANCELED;
	} else {
		sa->queue[(sa->first + sa->count) % QUEUE_LENGTH] = report;
		sa->count++;
		sa->sets_done++;
		pthread_cond_broadcast(&sa->changed);
	}
	pthread_mutex_unlock(&sa->lock);
	if (rc < 0)
		mp_report_free(report);
	return rc;
}

static void finish(struct series_analysis *sa, int rc, const struct mp_error *error)
{
	pthread_mutex_lock(&sa->lock);
	sa->finished = true;
	sa->rc = rc;
	sa->error = *error;
	pthread_cond_broadcast(&sa->changed);
	pthread_mutex_unlock(&sa->lock);
}

/* Read and analyse every set; the same loop as memprint analyze on one file. */
static int analyse_sets(struct series_analysis *sa, struct mp_reader *reader,
			struct mp_analysis *analysis, struct mp_error *error)
{
	struct mp_sink sink = mp_analysis_sink(analysis);

	for (;;) {
		struct mp_report *report;
		int rc = mp_reader_next_set(reader, &sink, error);

		if (rc < 0 && rc != -EBADMSG && sink.error && sink.error->message[0])
			*error = *sink.error;	/* the analysis rejected the set: its message says why */
		if (rc <= 0)
			return rc;
		rc = mp_analysis_report(analysis, &report, error);
		if (rc < 0)
			return rc;
		rc = queue_report(sa, report);
		if (rc < 0)
			return rc;
	}
}

static void *run(void *arg)
{
	struct series_analysis *sa = arg;
	struct mp_error error = { 0 };
	int rc;

	rc = analyse_sets(sa, sa->reader, sa->analysis, &error);
	finish(sa, rc, &error);
	return NULL;
}

static void free_analysis(struct series_analysis *sa)
{
	mp_reader_close(sa->reader);
	mp_analysis_close(sa->analysis);
	pthread_cond_destroy(&sa->changed);
	pthread_mutex_destroy(&sa->lock);
	free(sa->path);
	free(sa);
}

int series_analysis_start(struct series_analysis **analysis, const char *path,
			  const struct mp_analysis_options *options, struct mp_error *error)
{
	struct series_analysis *sa = calloc(1, sizeof(*sa));
	struct mp_error open_error = { 0 };
	struct stat st;
	int rc;

	*analysis = NULL;
	if (!sa || !(sa->path = strdup(path))) {
		free(sa);
		return fail(error, -ENOMEM, "%s: cannot start the analysis: out of memory", path);
	}
	pthread_mutex_init(&sa->lock, NULL);
	pthread_cond_init(&sa->changed, NULL);

	/*
	 * Open the file here, not on the thread: ISA-L picks its CRC code at
	 * the first call and stores the choice, which two threads must not
	 * do at once.  A pipe cannot be read twice: the caller feeds it.
	 */
	rc = mp_analysis_open(&sa->analysis, options, error);
	if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    mp_reader_open(&sa->reader, path, &open_error) == 0)
		sa->threaded = pthread_create(&sa->thread, NULL, run, sa) == 0;
	/*
	 * Without a thread (a file this reader cannot open, whose error the
	 * caller's reader reports, or no thread to be had) the caller feeds
	 * the analysis.
	 */
	if (rc == 0 && !sa->threaded) {
		mp_reader_close(sa->reader);
		sa->reader = NULL;
	}
	if (rc < 0) {
		free_analysis(sa);
		return rc;
	}
	*analysis = sa;
	return 0;
}

bool series_analysis_sink(struct series_analysis *sa, struct mp_sink *sink)
{
	if (sa->threaded)
		return false;
	*sink = mp_analysis_sink(sa->analysis);
	return true;
}

int series_analysis_next(struct series_analysis *sa, struct mp_report **report,
			 struct mp_error *error)
{
	int rc = 0;

	*report = NULL;
	if (!sa->threaded)
		return mp_analysis_report(sa->analysis, report, error);
	pthread_mutex_lock(&sa->lock);
	while (!sa->count && !sa->finished)
		pthread_cond_wait(&sa->changed, &sa->lock);
	if (sa->count) {
		*report = sa->queue[sa->first];
		sa->first = (sa->first + 1) % QUEUE_LENGTH;
		sa->count--;
		pthread_cond_broadcast(&sa->changed);
	} else if (sa->rc < 0) {
		rc = sa->rc;
		*error = sa->error;
	} else {
		/* Both readers read the same file, so this means it changed under them. */
		rc = fail(error, -EIO, "%s: the analysis found %u sets, the timeline more: "
			  "was the file written to while it was read?", sa->path, sa->sets_done);
	}
	pthread_mutex_unlock(&sa->lock);
	return rc;
}

void series_analysis_stop(struct series_analysis *sa)
{
	if (!sa)
		return;
	if (sa->threaded) {
		pthread_mutex_lock(&sa->lock);
		sa->stop = true;
		pthread_cond_broadcast(&sa->changed);
		pthread_mutex_unlock(&sa->lock);
		pthread_join(sa->thread, NULL);
	}

	while (sa->count) {
		mp_report_free(sa->queue[sa->first]);
		sa->first = (sa->first + 1) % QUEUE_LENGTH;
		sa->count--;
	}
	free_analysis(sa);
}
