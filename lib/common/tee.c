// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tee.c - a sink that forwards every call to several sinks
 *
 * memprint scan feeds the analysis and, with -o, the snapshot writer from
 * one pass over the targets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct mp_tee {
	struct mp_error error;		/* the failing sink's message, for the producer */
	size_t count;
	struct mp_sink sinks[];
};

#define FORWARD(tee, op, ...)						\
	do {								\
		for (size_t i_ = 0; i_ < (tee)->count; i_++) {		\
			const struct mp_sink *s_ = &(tee)->sinks[i_];	\
			int rc_;					\
									\
			if (!s_->ops->op)				\
				continue;				\
			rc_ = s_->ops->op(s_->ctx, __VA_ARGS__);	\
			if (rc_ < 0)					\
				return tee_fail((tee), s_, rc_);	\
		}							\
		return 0;						\
	} while (0)

/* Keep the failing sink's message where the tee's producer looks for it. */
static int tee_fail(struct mp_tee *tee, const struct mp_sink *sink, int code)
{
	if (sink->error && sink->error->message[0])
		mp_fail(&tee->error, code, "%s", sink->error->message);
	else
		mp_error_clear(&tee->error);
	return code;
}

static int tee_begin_set(void *ctx, const struct mp_set_info *info)
{
	FORWARD((struct mp_tee *)ctx, begin_set, info);
}

static int tee_task(void *ctx, const struct mp_task *task)
{
	FORWARD((struct mp_tee *)ctx, task, task);
}

static int tee_region(void *ctx, const struct mp_region *region)
{
	FORWARD((struct mp_tee *)ctx, region, region);
}

static int tee_file(void *ctx, const struct mp_file *file)
{
	FORWARD((struct mp_tee *)ctx, file, file);
}

static int tee_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	FORWARD((struct mp_tee *)ctx, pages, pages, count);
}

static int tee_task_end(void *ctx, const struct mp_task_end *end)
{
	FORWARD((struct mp_tee *)ctx, task_end, end);
}

static int tee_end_set(void *ctx, const struct mp_set_end *end)
{
	FORWARD((struct mp_tee *)ctx, end_set, end);
}

static const struct mp_sink_ops tee_ops = {
	.begin_set = tee_begin_set,
	.task = tee_task,
	.region = tee_region,
	.file = tee_file,
	.pages = tee_pages,
	.task_end = tee_task_end,
	.end_set = tee_end_set,
};

int mp_tee_open(struct mp_tee **tee, const struct mp_sink *sinks, size_t count)
{
	struct mp_tee *t;

	t = malloc(sizeof(*t) + count * sizeof(t->sinks[0]));
	if (!t)
		return -ENOMEM;
	mp_error_clear(&t->error);
	t->count = count;
	memcpy(t->sinks, sinks, count * sizeof(t->sinks[0]));
	*tee = t;
	return 0;
}

struct mp_sink mp_tee_sink(struct mp_tee *tee)
{
	struct mp_sink sink = { .ops = &tee_ops, .ctx = tee, .error = &tee->error };

	return sink;
}

void mp_tee_close(struct mp_tee *tee)
{
	free(tee);
}
