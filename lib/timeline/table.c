// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * table.c - the hash tables of the timeline engine
 *
 * Linear probing keeps a lookup to one or two cache lines; the load stays at
 * most 3/4, so a table has between 4/3 and 8/3 slots per entry once it has
 * grown.  Lookups are written out per entry type because they run once per
 * page record; resizing, deletion and sweeps are shared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "timeline.h"

#define TL_INITIAL_SLOTS 1024
#define TL_HUGE_PAGE (2u << 20)
#define TL_SWEEP_AHEAD 24	/* slots between an entry and the one prefetched for */

/* Size, hash and empty test of an entry type, for the shared code. */
struct tl_layout {
	size_t size;
	uint64_t (*hash)(const void *entry);
	bool (*empty)(const void *entry);
};

static uint64_t mapping_entry_hash(const void *entry)
{
	const struct tl_mapping *m = entry;

	return tl_mapping_hash(m->pid, m->vpn);
}

static bool mapping_entry_empty(const void *entry)
{
	return ((const struct tl_mapping *)entry)->seen == 0;
}

/* Digests are already uniform, but 32-bit ones fill only the low half. */
static uint64_t content_entry_hash(const void *entry)
{
	return tl_mix64(((const struct tl_content *)entry)->digest);
}

static bool content_entry_empty(const void *entry)
{
	return ((const struct tl_content *)entry)->seen == 0;
}

static uint64_t frame_entry_hash(const void *entry)
{
	return tl_mix64(*(const uint64_t *)entry);
}

static bool frame_entry_empty(const void *entry)
{
	return *(const uint64_t *)entry == 0;
}

static const struct tl_layout mapping_layout = {
	sizeof(struct tl_mapping), mapping_entry_hash, mapping_entry_empty
};
static const struct tl_layout content_layout = {
	sizeof(struct tl_content), content_entry_hash, content_entry_empty
};
static const struct tl_layout frame_layout = {
	sizeof(uint64_t), frame_entry_hash, frame_entry_empty
};

static inline void *slot_at(const struct tl_table *table, const struct tl_layout *layout, size_t i)
{
	return (char *)table->slots + i * layout->size;
}

/*
 * Zeroed slots.  Tables of 2 MiB and more request transparent huge pages,
 * because every lookup is a random access, and with 4 KiB pages most of
 * them would also miss the TLB.
 */
static void *alloc_slots(size_t count, size_t size)
{
	size_t bytes = count * size;
	void *slots;

	if (bytes < TL_HUGE_PAGE)
		return calloc(count, size);
	if (posix_memalign(&slots, TL_HUGE_PAGE, bytes) != 0)
		return NULL;
	madvise(slots, bytes, MADV_HUGEPAGE);
	memset(slots, 0, bytes);
	return slots;
}

static int table_init(struct tl_table *table, const struct tl_layout *layout)
{
	table->slots = alloc_slots(TL_INITIAL_SLOTS, layout->size);
	if (!table->slots)
		return -ENOMEM;
	table->mask = TL_INITIAL_SLOTS - 1;
	table->count = 0;
	return 0;
}

/* Double the slots and reinsert every entry. */
static int table_grow(struct tl_table *table, const struct tl_layout *layout)
{
	struct tl_table bigger = { .mask = table->mask * 2 + 1, .count = table->count };

	bigger.slots = alloc_slots(bigger.mask + 1, layout->size);
	if (!bigger.slots)
		return -ENOMEM;

	for (size_t i = 0; i <= table->mask; i++) {
		const void *entry = slot_at(table, layout, i);
		size_t j;

		if (layout->empty(entry))
			continue;
		j = layout->hash(entry) & bigger.mask;
		while (!layout->empty(slot_at(&bigger, layout, j)))
			j = (j + 1) & bigger.mask;
		memcpy(slot_at(&bigger, layout, j), entry, layout->size);
	}
	free(table->slots);
	*table = bigger;
	return 0;
}

/* Make room for one more entry: keep the load at most 3/4. */
static inline int table_reserve(struct tl_table *table, const struct tl_layout *layout)
{
	if ((table->count + 1) * 4 <= (table->mask + 1) * 3)
		return 0;
	return table_grow(table, layout);
}

/*
 * Empty slot i and move later entries of its cluster back so that every
 * entry stays reachable from its home slot (Knuth, TAOCP vol. 3, 6.4,
 * Algorithm R).  An entry moves only from a later slot to an earlier one
 * within the cluster.
 */
static void table_delete_at(struct tl_table *table, const struct tl_layout *layout, size_t i)
{
	size_t j = i;

	for (;;) {
		void *entry;
		size_t home;

		j = (j + 1) & table->mask;
		entry = slot_at(table, layout, j);
		if (layout->empty(entry))
			break;
		home = layout->hash(entry) & table->mask;
		/* The entry may fill the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		memcpy(slot_at(table, layout, i), entry, layout->size);
		i = j;
	}
	memset(slot_at(table, layout, i), 0, layout->size);
	table->count--;
}

/*
 * Start after an empty slot, so that no cluster wraps around the start:
 * a deletion then only moves entries that the sweep has not reached, and
 * the sweep looks at the slot of a deleted entry again.
 */
static void table_sweep(struct tl_table *table, const struct tl_layout *layout,
			bool (*visit)(void *ctx, void *entry),
			void (*ahead)(void *ctx, const void *entry), void *ctx)
{
	size_t slots = table->mask + 1;
	size_t start = 0;

	while (!layout->empty(slot_at(table, layout, start)))
		start++;

	for (size_t step = 1; step <= slots; step++) {
		size_t i = (start + step) & table->mask;
		void *entry = slot_at(table, layout, i);

		if (ahead) {
			const void *later = slot_at(table, layout, (i + TL_SWEEP_AHEAD) & table->mask);

			if (!layout->empty(later))
				ahead(ctx, later);
		}
		while (!layout->empty(entry) && !visit(ctx, entry))
			table_delete_at(table, layout, i);
	}
}

void tl_table_free(struct tl_table *table)
{
	free(table->slots);
	table->slots = NULL;
	table->mask = 0;
	table->count = 0;
}

size_t tl_table_bytes(const struct tl_table *table, size_t entry_size)
{
	return table->slots ? (table->mask + 1) * entry_size : 0;
}

/* ---------------------------------------------------------------- mappings */

int tl_mapping_table_init(struct tl_table *table)
{
	return table_init(table, &mapping_layout);
}

struct tl_mapping *tl_mapping_get(struct tl_table *table, int32_t pid, uint64_t vpn)
{
	struct tl_mapping *slots;
	size_t i;

	if (table_reserve(table, &mapping_layout) < 0)
		return NULL;

	slots = table->slots;
	for (i = tl_mapping_hash(pid, vpn) & table->mask; slots[i].seen; i = (i + 1) & table->mask) {
		if (slots[i].vpn == vpn && slots[i].pid == pid)
			return &slots[i];
	}
	table->count++;
	slots[i].vpn = vpn;
	slots[i].pid = pid;
	return &slots[i];
}

struct mapping_visitor {
	bool (*visit)(void *ctx, struct tl_mapping *mapping);
	void (*ahead)(void *ctx, const struct tl_mapping *mapping);
	void *ctx;
};

static bool visit_mapping(void *ctx, void *entry)
{
	struct mapping_visitor *visitor = ctx;

	return visitor->visit(visitor->ctx, entry);
}

static void mapping_ahead(void *ctx, const void *entry)
{
	struct mapping_visitor *visitor = ctx;

	visitor->ahead(visitor->ctx, entry);
}

void tl_mapping_sweep(struct tl_table *table,
		      bool (*visit)(void *ctx, struct tl_mapping *mapping),
		      void (*ahead)(void *ctx, const struct tl_mapping *mapping), void *ctx)
{
	struct mapping_visitor visitor = { visit, ahead, ctx };

	table_sweep(table, &mapping_layout, visit_mapping, ahead ? mapping_ahead : NULL,
		    &visitor);
}

/* ---------------------------------------------------------------- contents */

int tl_content_table_init(struct tl_table *table)
{
	return table_init(table, &content_layout);
}

struct tl_content *tl_content_find(const struct tl_table *table, uint64_t digest)
{
	struct tl_content *slots = table->slots;

	for (size_t i = tl_mix64(digest) & table->mask; slots[i].seen; i = (i + 1) & table->mask) {
		if (slots[i].digest == digest)
			return &slots[i];
	}
	return NULL;
}

struct tl_content *tl_content_get(struct tl_table *table, uint64_t digest)
{
	struct tl_content *slots;
	size_t i;

	if (table_reserve(table, &content_layout) < 0)
		return NULL;

	slots = table->slots;
	for (i = tl_mix64(digest) & table->mask; slots[i].seen; i = (i + 1) & table->mask) {
		if (slots[i].digest == digest)
			return &slots[i];
	}
	table->count++;
	slots[i].digest = digest;
	return &slots[i];
}

struct content_visitor {
	bool (*visit)(void *ctx, struct tl_content *content);
	void *ctx;
};

static bool visit_content(void *ctx, void *entry)
{
	struct content_visitor *visitor = ctx;

	return visitor->visit(visitor->ctx, entry);
}

void tl_content_sweep(struct tl_table *table,
		      bool (*visit)(void *ctx, struct tl_content *content), void *ctx)
{
	struct content_visitor visitor = { visit, ctx };

	table_sweep(table, &content_layout, visit_content, NULL, &visitor);
}

/* ------------------------------------------------------------------ frames */

int tl_frame_set_init(struct tl_table *set)
{
	return table_init(set, &frame_layout);
}

void tl_frame_set_clear(struct tl_table *set)
{
	memset(set->slots, 0, (set->mask + 1) * sizeof(uint64_t));
	set->count = 0;
}

int tl_frame_set_add(struct tl_table *set, uint64_t pfn)
{
	uint64_t *slots;
	uint64_t stored = pfn + 1;

	if (table_reserve(set, &frame_layout) < 0)
		return -ENOMEM;

	slots = set->slots;
	for (size_t i = tl_mix64(stored) & set->mask;; i = (i + 1) & set->mask) {
		if (slots[i] == stored)
			return 0;
		if (!slots[i]) {
			slots[i] = stored;
			set->count++;
			return 1;
		}
	}
}
