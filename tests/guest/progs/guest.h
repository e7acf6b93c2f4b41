/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guest.h - the checks that run inside the QEMU guest, one per subcommand
 *
 * Each check exits 0 when it passed, 1 when it failed and 77 when its
 * requirement is missing.  It explains itself on stdout in lines starting
 * with "# ", which the suite passes on as TAP diagnostics.
 */
#ifndef MEMPRINT_GUEST_H
#define MEMPRINT_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memprint.h"
#include "../../../kmod/memprint_uapi.h"

#define GUEST_PASS 0
#define GUEST_FAIL 1
#define GUEST_SKIP 77

#define PAGE 4096u

/* Print a diagnostic line ("# ..."). */
void note(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* ----------------------------------------------------------- collector */

/* One page record with the pid it belongs to. */
struct page_entry {
	pid_t pid;
	struct mp_page page;
};

/* A sink that keeps every page record of one set, in memory. */
struct collector {
	struct mp_set_info info;
	pid_t *pids;			/* by task index */
	size_t task_count;
	struct page_entry *pages;
	size_t count, capacity;
	struct mp_file *files;		/* paths copied */
	size_t file_count;
	uint64_t *file_pages;		/* page records per file */
	struct mp_task_end *ends;	/* by task index */
};

struct mp_sink collector_sink(struct collector *c);
void collector_free(struct collector *c);
/* Sort the pages by (pid, index) for lookups. */
void collector_sort(struct collector *c);
const struct page_entry *collector_find(const struct collector *c, pid_t pid, uint64_t index);

/* ------------------------------------------------------------- scans */

int scan_procfs(const pid_t *pids, size_t count, enum mp_hash_id hash, struct collector *c);
int scan_kmod(const pid_t *pids, size_t count, enum mp_hash_id hash, struct collector *c);

/* ------------------------------------------------------------ helpers */

/* Fill a page with content derived from seed (seed 0: all zero bytes). */
void fill_page(void *page, uint64_t seed);
/* Read a number from a /proc or /sys file, or from a "key value" line of it. */
long long read_number(const char *path, const char *key);
/* Start a child that runs fn and then sleeps until killed; returns its pid. */
pid_t start_child(void (*fn)(void *arg), void *arg);
/* Kill and reap a child started with start_child(). */
void stop_child(pid_t pid);
/* Read /proc/PID/pagemap entries for [start, start + count pages). */
int read_pagemap(pid_t pid, uint64_t start, size_t count, uint64_t *entries);

/* ------------------------------------------------------------- checks */

int check_compare(int argc, char **argv);
int check_hash(int argc, char **argv);
int check_text(int argc, char **argv);
int check_physical(int argc, char **argv);
int check_pagecache(int argc, char **argv);
int check_pagecache_mount(int argc, char **argv);
int check_ksm(int argc, char **argv);
int check_swap(int argc, char **argv);
int check_stress(int argc, char **argv);
int check_nocap(int argc, char **argv);
int check_busy(int argc, char **argv);

#endif /* MEMPRINT_GUEST_H */
