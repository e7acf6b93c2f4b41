/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timeline.h - state that the timeline engine keeps between snapshot sets
 *
 * Three open-addressing hash tables with linear probing, each resized to
 * keep its load at most 3/4:
 *   - mappings: one entry per mapping (pid, virtual page) of the current
 *     and the previous set, with its digest and its open merge run;
 *   - contents: one entry per digest of the current set, and per digest
 *     whose content run is still open;
 *   - frames: the PFNs seen in the current set, emptied at each set.
 * Entries that are no longer needed are removed by backward-shift deletion,
 * so no table keeps tombstones and memory follows the live state.
 */
#ifndef MEMPRINT_TIMELINE_H
#define MEMPRINT_TIMELINE_H

#include "internal.h"

/* Set numbers in the tables are the set index + 1, so that 0 means "none". */
struct tl_mapping {
	uint64_t vpn;
	uint64_t digest;		/* mp_digest_key() of the page's digest */
	int32_t pid;
	uint32_t seen : 31;		/* last set the mapping was present in; 0: empty slot */
	uint32_t zero_page : 1;		/* mapped the kernel zero page in that set */
	uint32_t since;			/* first set of the current digest, present throughout */
	uint32_t run_start;		/* first set of the open merge run, 0 if none */
};

struct tl_content {
	uint64_t digest;
	uint64_t savable;		/* open run: frames - 1 summed over its sets */
	uint32_t frames;		/* distinct frames in set `seen` */
	uint32_t seen;			/* last set the digest was present in; 0: empty slot */
	uint32_t run_start;		/* first set of the open content run, 0 if none */
	uint32_t zero_filled;
};

/* An open-addressing table of fixed-size entries; slots is a power of two. */
struct tl_table {
	void *slots;
	size_t mask;			/* slot count - 1 */
	size_t count;			/* entries in use */
};

/* The finaliser of SplitMix64 (Steele, Lea, Flood, OOPSLA 2014): a bijective mix. */
static inline uint64_t tl_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t tl_mapping_hash(int32_t pid, uint64_t vpn)
{
	return tl_mix64(vpn ^ ((uint64_t)(uint32_t)pid << 40) ^ ((uint64_t)(uint32_t)pid >> 24));
}

/*
 * Start loading the home slot of a key into the cache.  Lookups are random
 * accesses into tables larger than the caches, so the engine asks for the
 * slots of a page a few records ahead of the one it works on.
 */
static inline void tl_mapping_prefetch(const struct tl_table *table, int32_t pid, uint64_t vpn)
{
	const struct tl_mapping *slots = table->slots;

	__builtin_prefetch(&slots[tl_mapping_hash(pid, vpn) & table->mask], 1);
}

static inline void tl_content_prefetch(const struct tl_table *table, uint64_t digest)
{
	const struct tl_content *slots = table->slots;

	__builtin_prefetch(&slots[tl_mix64(digest) & table->mask], 1);
}

static inline void tl_frame_prefetch(const struct tl_table *set, uint64_t pfn)
{
	const uint64_t *slots = set->slots;

	__builtin_prefetch(&slots[tl_mix64(pfn + 1) & set->mask], 1);
}

int tl_mapping_table_init(struct tl_table *table);
/*
 * Find the entry of (pid, vpn), or add one with only its key set (seen == 0)
 * for the caller to fill; NULL when memory runs out.  Pointers are valid
 * until the next insertion.
 */
struct tl_mapping *tl_mapping_get(struct tl_table *table, int32_t pid, uint64_t vpn);

int tl_content_table_init(struct tl_table *table);
struct tl_content *tl_content_get(struct tl_table *table, uint64_t digest);
/* The entry of digest, or NULL. */
struct tl_content *tl_content_find(const struct tl_table *table, uint64_t digest);

/* The frame set stores PFN + 1 per slot, 0 for an empty slot. */
int tl_frame_set_init(struct tl_table *set);
void tl_frame_set_clear(struct tl_table *set);
/* Add pfn; returns 1 if it was new, 0 if already there, -ENOMEM. */
int tl_frame_set_add(struct tl_table *set, uint64_t pfn);

/*
 * Visit every entry once and remove those for which visit returns false.
 * visit must not insert into the table.  ahead (may be NULL) is called
 * with an entry a few slots before visit is, to prefetch what visit reads.
 */
void tl_mapping_sweep(struct tl_table *table,
		      bool (*visit)(void *ctx, struct tl_mapping *mapping),
		      void (*ahead)(void *ctx, const struct tl_mapping *mapping), void *ctx);
void tl_content_sweep(struct tl_table *table,
		      bool (*visit)(void *ctx, struct tl_content *content), void *ctx);

void tl_table_free(struct tl_table *table);
/* Bytes of slots a table holds. */
size_t tl_table_bytes(const struct tl_table *table, size_t entry_size);

#endif /* MEMPRINT_TIMELINE_H */
