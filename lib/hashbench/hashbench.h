/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hashbench.h - private interface of the hash measurement engine
 *
 * contents.c partitions the pages into contents by byte comparison,
 * hashbench.c counts the algorithms' false positives against that
 * partition, and timing.c times them.
 */
#ifndef MEMPRINT_HASHBENCH_HASHBENCH_H
#define MEMPRINT_HASHBENCH_HASHBENCH_H

#include "internal.h"

#define MP_HASHBENCH_REFERENCE MP_HASH_SHA256	/* the reference of the old method */

/* The pages' partition into contents (exact) and into reference digests. */
struct mp_contents {
	uint32_t *content;		/* content id of each page */
	uint32_t *reference;		/* reference-digest id of each page */
	uint32_t zero_content;		/* content id of the zero-filled pages, MP_NONE if none */
	struct mp_hashbench_summary summary;
};

struct mp_hashbench {
	const uint8_t *pages;
	size_t count;
	struct mp_contents contents;
	volatile uint64_t read_sink;	/* consumes the read baseline's result */
};

/*
 * Partition count pages twice: pages i and j get the same reference id
 * when their digests under key are equal, and the same content id when
 * their bytes are equal (memcmp).  Content ids are numbered in the order
 * of the reference ids, so that sorting pages by content id also sorts
 * them by reference id.  The summary's reference_collisions counts the key
 * digests that more than one content shares.  Free with mp_contents_free().
 */
int mp_contents_classify(struct mp_contents *contents, const uint8_t *pages, size_t count,
			 enum mp_hash_id key, struct mp_error *error);
void mp_contents_free(struct mp_contents *contents);

#endif /* MEMPRINT_HASHBENCH_HASHBENCH_H */
