// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - the response buffer: binary records or text lines
 *
 * A scan step appends at most one step's records; read() copies them out
 * before the next step runs, so the buffer never needs to grow.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "memprint_kmod.h"

int mpk_out_init(struct mpk_out *out)
{
	out->buf = kvmalloc(MPK_OUT_SIZE, GFP_KERNEL);
	if (!out->buf)
		return -ENOMEM;
	out->size = MPK_OUT_SIZE;
	mpk_out_reset(out, false);
	return 0;
}

void mpk_out_free(struct mpk_out *out)
{
	kvfree(out->buf);
	out->buf = NULL;
}

void mpk_out_reset(struct mpk_out *out, bool text)
{
	out->head = 0;
	out->tail = 0;
	out->text = text;
	out->records = 0;
}

/* Make room for size bytes; the buffer is sized so that this cannot fail. */
static void *out_reserve(struct mpk_out *out, size_t size)
{
	void *p;

	if (out->head == out->tail) {
		out->head = 0;
		out->tail = 0;
	}
	if (WARN_ON_ONCE(out->tail + size > out->size))
		return NULL;
	p = out->buf + out->tail;
	out->tail += size;
	out->records++;
	return p;
}

static void emit_binary(struct mpk_out *out, u16 type, void *rec, u32 size,
			const char *path, u32 path_size)
{
	struct memprint_rec_header *header = rec;
	u32 total = ALIGN(size + path_size, 8);
	char *p;

	header->type = type;
	header->reserved = 0;
	header->size = total;
	p = out_reserve(out, total);
	if (!p)
		return;
	memcpy(p, rec, size);
	memcpy(p + size, path, path_size);
	memset(p + size + path_size, 0, total - size - path_size);
}

static __printf(2, 3) void out_printf(struct mpk_out *out, const char *fmt,
				       ...)
{
	size_t room;
	va_list args;
	int n;

	if (out->head == out->tail) {
		out->head = 0;
		out->tail = 0;
	}
	room = out->size - out->tail;
	va_start(args, fmt);
	n = vsnprintf(out->buf + out->tail, room, fmt, args);
	va_end(args);
	if (WARN_ON_ONCE(n >= room))
		n = room ? room - 1 : 0;
	out->tail += n;
}

/* Text paths are printed with %pE-style escapes so that a line stays one line. */
static void out_path(struct mpk_out *out, const char *path, u32 path_size)
{
	out_printf(out, " %*pE\n", (int)path_size, path);
}

void mpk_emit_task(struct mpk_out *out, struct memprint_rec_task *rec)
{
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_TASK, rec, sizeof(*rec), NULL, 0);
		return;
	}
	out->records++;
	out_printf(out, "task pid=%d ppid=%d uid=%u comm=%.16s flags=%#x ksm_rmap_items=%llu ksm_merging_pages=%llu ksm_zero_pages=%llu\n",
		   rec->pid, rec->ppid, rec->uid, rec->comm, rec->flags,
		   rec->ksm_rmap_items, rec->ksm_merging_pages,
		   rec->ksm_zero_pages);
}

void mpk_emit_region(struct mpk_out *out, struct memprint_rec_region *rec,
		     const char *path, u32 path_size)
{
	rec->path_size = path_size;
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_REGION, rec, sizeof(*rec),
			    path, path_size);
		return;
	}
	out->records++;
	out_printf(out, "region %llx-%llx kind=%u prot=%#x vm_flags=%#x offset=%llx dev=%llx inode=%llu",
		   rec->start, rec->end, rec->kind, rec->prot, rec->vm_flags,
		   rec->offset, rec->dev, rec->inode);
	out_path(out, path, path_size);
}

void mpk_emit_file(struct mpk_out *out, struct memprint_rec_file *rec,
		   const char *path, u32 path_size)
{
	rec->path_size = path_size;
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_FILE, rec, sizeof(*rec),
			    path, path_size);
		return;
	}
	out->records++;
	out_printf(out, "file dev=%llx inode=%llu size=%llu",
		   rec->dev, rec->inode, rec->size);
	out_path(out, path, path_size);
}

void mpk_emit_page(struct mpk_out *out, struct memprint_rec_page *rec,
		   unsigned int digest_size)
{
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_PAGE, rec, sizeof(*rec), NULL, 0);
		return;
	}
	out->records++;
	out_printf(out, "page %llx pfn=%llx pagemap=%llx kpageflags=%llx count=%u flags=%#x digest=%*phN\n",
		   rec->index, rec->pfn, rec->pagemap >> 55, rec->kpageflags,
		   rec->mapcount, rec->flags, digest_size, rec->digest);
}

void mpk_emit_task_end(struct mpk_out *out, struct memprint_rec_task_end *rec)
{
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_TASK_END, rec, sizeof(*rec),
			    NULL, 0);
		return;
	}
	out->records++;
	out_printf(out, "task_end status=%u pages=%llu skipped_io=%llu skipped_swapped=%llu\n",
		   rec->status, rec->pages, rec->skipped[MPK_SKIP_IO_PFNMAP],
		   rec->skipped[MPK_SKIP_SWAPPED]);
}

void mpk_emit_physical_end(struct mpk_out *out,
			   struct memprint_rec_physical_end *rec)
{
	if (!out->text) {
		emit_binary(out, MEMPRINT_REC_PHYSICAL_END, rec, sizeof(*rec),
			    NULL, 0);
		return;
	}
	out->records++;
	out_printf(out, "physical_end ranges=%llu ram_pages=%llu hashed=%llu offline=%llu reserved=%llu poisoned=%llu buddy=%llu page_offline=%llu unreferenced=%llu\n",
		   rec->ranges, rec->ram_pages, rec->hashed, rec->offline,
		   rec->reserved, rec->poisoned, rec->buddy, rec->page_offline,
		   rec->unreferenced);
}

void mpk_emit_end(struct mpk_out *out, int error)
{
	struct memprint_rec_end rec = { .error = error };

	if (!out->text) {
		rec.records = out->records;
		emit_binary(out, MEMPRINT_REC_END, &rec, sizeof(rec), NULL, 0);
		return;
	}
	out_printf(out, "end error=%d\n", error);
}
