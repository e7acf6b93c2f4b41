// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * task.c - task scans: module against procfs, digests, access control
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define ANON_PAGES 48
#define ZERO_PAGES 8
#define FILE_PAGES 16
#define SHARED_PAGES 4
#define HUGE_SIZE (2u << 20)

/*
 * The kpageflags bits that must agree: those memprint uses, with MMAP (11),
 * UPTODATE (3), SLAB (7), BUDDY (10), SWAPCACHE (13), UNEVICTABLE (18),
 * HWPOISON (19), NOPAGE (20), OFFLINE (23), PGTABLE (26), RESERVED (32)
 * and MLOCKED (33).  Others (referenced, active, dirty, idle) move by
 * themselves between two reads.
 */
#define COMPARED_KPF (1ull << MP_KPF_ANON | 1ull << MP_KPF_KSM | 1ull << MP_KPF_THP |	\
		      1ull << MP_KPF_HUGE | 1ull << MP_KPF_ZERO_PAGE |			\
		      1ull << MP_KPF_SWAPBACKED | 1ull << MP_KPF_COMPOUND_HEAD |	\
		      1ull << MP_KPF_COMPOUND_TAIL | 1ull << MP_KPF_LRU | 1ull << 11 |	\
		      1ull << 3 | 1ull << 7 | 1ull << 10 | 1ull << 13 | 1ull << 18 |	\
		      1ull << 19 | 1ull << 20 | 1ull << 23 | 1ull << 26 | 1ull << 32 |	\
		      1ull << 33)

struct layout {
	pid_t children[2];
	bool hugetlb;			/* a 2 MiB hugetlb page is mapped too */
};

static uint64_t anon_seed(unsigned i)
{
	if (i % 8 == 0)
		return 0;
	if (i % 3 == 0)
		return 1000;
	return 2000 + i;
}

static void touch_read(const char *p, size_t size)
{
	volatile char sink = 0;

	for (size_t i = 0; i < size; i += PAGE)
		sink += p[i];
	(void)sink;
}

static void pause_forever(void)
{
	for (;;)
		pause();
}

/* A child of the layout: the first keeps every page COW-shared, the second writes half. */
static pid_t fork_sharer(char *anon, int writes, int ready)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (int i = 0; i < writes; i++)
		fill_page(anon + i * PAGE, 3000 + i);
	if (write(ready, "c", 1) != 1)
		_exit(1);
	pause_forever();
	return 0;
}

static void build_layout(void *arg)
{
	struct layout *info = arg;
	char *anon, *zero, *huge, *file, *shared;
	int fd, ready[2];
	char byte;

	anon = mmap(NULL, ANON_PAGES * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned i = 0; i < ANON_PAGES; i++) {
		fill_page(anon + i * PAGE, 7);	/* a real page, then its content */
		fill_page(anon + i * PAGE, anon_seed(i));
	}
	zero = mmap(NULL, ZERO_PAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	touch_read(zero, ZERO_PAGES * PAGE);

	huge = mmap(NULL, 2 * HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	huge = (char *)(((uintptr_t)huge + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
	madvise(huge, HUGE_SIZE, MADV_HUGEPAGE);
	for (size_t off = 0; off < HUGE_SIZE; off += PAGE)
		huge[off] = (char)(off >> 12);

	/* Only when the suite reserved hugetlb pages (vm.nr_hugepages). */
	huge = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge != MAP_FAILED) {
		for (size_t off = 0; off < HUGE_SIZE; off += PAGE)
			huge[off] = (char)(off >> 13);
		info->hugetlb = true;
	}

	fd = open("/proc/self/exe", O_RDONLY);
	file = mmap(NULL, FILE_PAGES * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (file != MAP_FAILED)
		touch_read(file, FILE_PAGES * PAGE);

	shared = mmap(NULL, SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (unsigned i = 0; i < SHARED_PAGES; i++)
		fill_page(shared + i * PAGE, 5000 + i);

	if (pipe(ready) < 0)
		return;
	info->children[0] = fork_sharer(anon, 0, ready[1]);
	info->children[1] = fork_sharer(anon, ANON_PAGES / 2, ready[1]);
	for (int i = 0; i < 2; i++)
		if (read(ready[0], &byte, 1) != 1)
			break;
}

static bool same_page(const struct mp_page *a, const struct mp_page *b, size_t digest_size,
		      uint64_t kpf_mask)
{
	return a->pfn == b->pfn && a->mapcount == b->mapcount &&
	       (a->kpageflags & kpf_mask) == (b->kpageflags & kpf_mask) &&
	       (a->flags & MP_PAGE_ZERO_FILLED) == (b->flags & MP_PAGE_ZERO_FILLED) &&
	       !memcmp(a->digest, b->digest, digest_size);
}

static void print_pair(const char *what, const struct page_entry *a, const struct page_entry *b)
{
	note("%s: pid %d page %#llx: procfs pfn %#llx kpf %#llx count %u digest %02x%02x%02x%02x, "
	     "module pfn %#llx kpf %#llx count %u digest %02x%02x%02x%02x", what, (int)a->pid,
	     (unsigned long long)a->page.index, (unsigned long long)a->page.pfn,
	     (unsigned long long)a->page.kpageflags, a->page.mapcount, a->page.digest[0],
	     a->page.digest[1], a->page.digest[2], a->page.digest[3],
	     b ? (unsigned long long)b->page.pfn : 0ull,
	     b ? (unsigned long long)b->page.kpageflags : 0ull, b ? b->page.mapcount : 0,
	     b ? b->page.digest[0] : 0, b ? b->page.digest[1] : 0, b ? b->page.digest[2] : 0,
	     b ? b->page.digest[3] : 0);
}

struct comparison {
	size_t stable, matched, mismatched, missing, extra, moved;
};

/* Compare the module's pages with the procfs pages that did not change around it. */
static void compare_sets(const struct collector *before, const struct collector *module,
			 const struct collector *after, struct comparison *r)
{
	size_t digest_size = before->info.digest_size;
	uint64_t mask = COMPARED_KPF;

	if (before->info.flags & MP_SET_KPF_KSM_BROKEN)
		mask &= ~(1ull << MP_KPF_KSM);
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < before->count; i++) {
		const struct page_entry *a = &before->pages[i];
		const struct page_entry *c = collector_find(after, a->pid, a->page.index);
		const struct page_entry *b;

		if (!c || a->page.pfn != c->page.pfn) {
			r->moved++;
			continue;
		}
		if (!same_page(&a->page, &c->page, digest_size, mask))
			continue;
		r->stable++;
		b = collector_find(module, a->pid, a->page.index);
		if (!b) {
			if (r->missing++ < 5)
				print_pair("missing from the module", a, NULL);
		} else if (!same_page(&a->page, &b->page, digest_size, mask)) {
			if (r->mismatched++ < 5)
				print_pair("different", a, b);
		} else {
			r->matched++;
		}
	}
	for (size_t i = 0; i < module->count; i++) {
		const struct page_entry *b = &module->pages[i];

		if (!collector_find(before, b->pid, b->page.index) &&
		    !collector_find(after, b->pid, b->page.index) && r->extra++ < 5)
			note("only the module has pid %d page %#llx (pfn %#llx)", (int)b->pid,
			     (unsigned long long)b->page.index, (unsigned long long)b->page.pfn);
	}
}

/* Pages of pid whose kpageflags have bit (THP or HUGE). */
static size_t count_flagged(const struct collector *c, pid_t pid, int bit)
{
	size_t count = 0;

	for (size_t i = 0; i < c->count; i++)
		count += c->pages[i].pid == pid && (c->pages[i].page.kpageflags & 1ull << bit);
	return count;
}

/* Frames the parent shares with its first child, which never wrote. */
static size_t shared_frames(const struct collector *c, pid_t parent, pid_t child)
{
	size_t shared = 0;

	for (size_t i = 0; i < c->count; i++) {
		const struct page_entry *p = &c->pages[i];
		const struct page_entry *q;

		if (p->pid != parent || !(p->page.kpageflags & 1ull << MP_KPF_ANON))
			continue;
		q = collector_find(c, child, p->page.index);
		if (q && q->page.pfn == p->page.pfn)
			shared++;
	}
	return shared;
}

int check_compare(int argc, char **argv)
{
	struct layout *info = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				   -1, 0);
	struct collector before = { 0 }, module = { 0 }, after = { 0 };
	struct comparison r;
	pid_t pids[3];
	size_t cow, huge, hugetlb;
	int status = GUEST_FAIL;

	(void)argc;
	(void)argv;
	pids[0] = start_child(build_layout, info);
	pids[1] = info->children[0];
	pids[2] = info->children[1];
	if (pids[0] < 0 || pids[1] <= 0 || pids[2] <= 0) {
		note("cannot start the test processes");
		goto out;
	}
	if (scan_procfs(pids, 3, MP_HASH_XXH64, &before) < 0 ||
	    scan_kmod(pids, 3, MP_HASH_XXH64, &module) < 0 ||
	    scan_procfs(pids, 3, MP_HASH_XXH64, &after) < 0)
		goto out;

	compare_sets(&before, &module, &after, &r);
	cow = shared_frames(&module, pids[0], pids[1]);
	huge = count_flagged(&module, pids[0], MP_KPF_THP);
	hugetlb = count_flagged(&module, pids[0], MP_KPF_HUGE);
	note("procfs %zu pages, module %zu; stable %zu, equal %zu, different %zu, missing %zu, "
	     "extra %zu, PFN changed %zu; COW-shared frames %zu; THP pages %zu, hugetlb pages "
	     "%zu", before.count, module.count, r.stable, r.matched, r.mismatched, r.missing,
	     r.extra, r.moved, cow, huge, hugetlb);
	/* Each process maps at least its anonymous, zero, huge and file pages. */
	if (r.stable < 3 * (ANON_PAGES + ZERO_PAGES + FILE_PAGES))
		note("too few stable pages to compare");
	else if (r.mismatched || r.missing || r.extra || r.moved)
		note("the module's snapshot differs from procfs");
	else if (huge < HUGE_SIZE / PAGE)
		note("the THP area is not PMD-mapped: the huge page path went untested");
	else if (info->hugetlb && hugetlb < HUGE_SIZE / PAGE)
		note("the hugetlb page is mapped but not recorded as such");
	else if (cow < ANON_PAGES)
		note("the child shares %zu frames with its parent, expected at least %u", cow,
		     ANON_PAGES);
	else
		status = GUEST_PASS;
out:
	for (int i = 2; i >= 0; i--)
		stop_child(pids[i]);
	collector_free(&before);
	collector_free(&module);
	collector_free(&after);
	return status;
}

/* ------------------------------------------------------------- digests */

#define HASH_PAGES 32

static void fill_hash_pages(char *buf)
{
	for (unsigned i = 0; i < HASH_PAGES; i++)
		fill_page(buf + i * PAGE, i % 5 == 0 ? 0 : 100 + i);
	memset(buf + 1 * PAGE, 0xff, PAGE);
	memset(buf + 2 * PAGE, 0, PAGE);
	buf[2 * PAGE + PAGE - 1] = 1;		/* zero but for the last byte */
	memcpy(buf + 3 * PAGE, buf + 4 * PAGE, PAGE);
	buf[3 * PAGE + 1000] ^= 1;		/* one byte apart from page 4 */
}

/* Read a whole module response into a malloc'd buffer. */
static char *read_response(int fd, size_t *size)
{
	size_t capacity = 1 << 20, used = 0;
	char *buf = malloc(capacity);
	ssize_t n;

	while (buf && (n = read(fd, buf + used, capacity - used)) > 0) {
		used += (size_t)n;
		if (used == capacity) {
			char *grown = realloc(buf, capacity *= 2);

			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
	}
	*size = used;
	return buf;
}

static int compare_digests(const char *response, size_t size, const char *buf, enum mp_hash_id id)
{
	struct mp_hash *hash;
	struct mp_error error;
	size_t digest_size = mp_hash_digest_size(id), seen = 0, bad = 0;
	uint64_t first = (uintptr_t)buf / PAGE;

	if (mp_hash_open(&hash, id, NULL, 0, &error) < 0) {
		note("%s", error.message);
		return GUEST_FAIL;
	}
	for (size_t off = 0; off + sizeof(struct memprint_rec_header) <= size;) {
		const struct memprint_rec_header *h = (const void *)(response + off);
		const struct memprint_rec_page *p = (const void *)h;
		uint8_t digest[MP_DIGEST_MAX];
		bool zero;

		if (!h->size)
			break;
		off += h->size;
		if (h->type != MEMPRINT_REC_PAGE || p->index < first || p->index >= first + HASH_PAGES)
			continue;
		seen++;
		zero = mp_hash_page(hash, buf + (p->index - first) * PAGE, digest);
		if (memcmp(digest, p->digest, digest_size) ||
		    zero != !!(p->flags & MEMPRINT_PAGE_ZERO_FILLED)) {
			if (bad++ < 3)
				note("page %llu: module digest %02x%02x%02x%02x, user space %02x%02x%02x%02x",
				     (unsigned long long)(p->index - first), p->digest[0], p->digest[1],
				     p->digest[2], p->digest[3], digest[0], digest[1], digest[2],
				     digest[3]);
		}
	}
	mp_hash_close(hash);
	note("%s: %zu pages compared, %zu different", mp_hash_name(id), seen, bad);
	return seen == HASH_PAGES && !bad ? GUEST_PASS : GUEST_FAIL;
}

int check_hash(int argc, char **argv)
{
	enum mp_hash_id id = argc > 2 ? mp_hash_lookup(argv[2]) : MP_HASH_NONE;
	struct memprint_request request = { .size = sizeof(request), .target = MEMPRINT_TARGET_TASK };
	char *buf, *response;
	size_t size;
	int fd, status;

	if (id == MP_HASH_NONE) {
		note("usage: mpguest hash ALGORITHM");
		return GUEST_FAIL;
	}
	buf = mmap(NULL, HASH_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	fill_hash_pages(buf);
	fd = open("/dev/memprint", O_RDONLY);
	if (fd < 0) {
		note("cannot open /dev/memprint: %s", strerror(errno));
		return GUEST_FAIL;
	}
	request.hash = id;
	request.pid = getpid();
	request.fd = -1;
	request.start = (uintptr_t)buf;
	request.end = (uintptr_t)buf + HASH_PAGES * PAGE;
	if (ioctl(fd, MEMPRINT_IOC_SCAN, &request) < 0) {
		note("MEMPRINT_IOC_SCAN with %s failed: %s", argv[2], strerror(errno));
		close(fd);
		return GUEST_FAIL;
	}
	response = read_response(fd, &size);
	close(fd);
	status = response ? compare_digests(response, size, buf, id) : GUEST_FAIL;
	free(response);
	return status;
}

/* The text form: one line per record, starting with the record's name. */
int check_text(int argc, char **argv)
{
	static const char *const kinds[] = { "task ", "region ", "page ", "task_end ", "end error=0" };
	struct memprint_request request = {
		.size = sizeof(request), .target = MEMPRINT_TARGET_TASK,
		.hash = MEMPRINT_HASH_SHA256, .options = MEMPRINT_OPT_TEXT, .fd = -1,
	};
	size_t seen[5] = { 0 }, other = 0, size;
	char *text, *line, *next;
	int fd;

	(void)argc;
	(void)argv;
	request.pid = getpid();
	fd = open("/dev/memprint", O_RDONLY);
	if (fd < 0 || ioctl(fd, MEMPRINT_IOC_SCAN, &request) < 0) {
		note("cannot request a text scan: %s", strerror(errno));
		return GUEST_FAIL;
	}
	text = read_response(fd, &size);
	close(fd);
	if (!text)
		return GUEST_FAIL;
	text[size ? size - 1 : 0] = 0;	/* the last line ends with a newline */
	for (line = text; line && *line; line = next) {
		size_t k;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		for (k = 0; k < 5 && strncmp(line, kinds[k], strlen(kinds[k])); k++)
			;
		if (k < 5)
			seen[k]++;
		else if (other++ < 3)
			note("unexpected line: %.120s", line);
	}
	free(text);
	note("text lines: %zu task, %zu region, %zu page, %zu task_end, %zu end, %zu other",
	     seen[0], seen[1], seen[2], seen[3], seen[4], other);
	return seen[0] == 1 && seen[1] > 3 && seen[2] > 10 && seen[3] == 1 && seen[4] == 1 &&
	       !other ? GUEST_PASS : GUEST_FAIL;
}

/* ------------------------------------------------------ access control */

/* Drop CAP_SYS_ADMIN from the effective set, keeping it permitted. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) < 0)
		return -errno;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

int check_nocap(int argc, char **argv)
{
	struct memprint_request request = {
		.size = sizeof(request), .target = MEMPRINT_TARGET_TASK,
		.hash = MEMPRINT_HASH_CRC32, .fd = -1,
	};
	int fd, fd2, ioctl_errno, open_errno;

	(void)argc;
	(void)argv;
	request.pid = getpid();
	fd = open("/dev/memprint", O_RDONLY);
	if (fd < 0) {
		note("cannot open /dev/memprint as root: %s", strerror(errno));
		return GUEST_FAIL;
	}
	if (drop_sys_admin() < 0) {
		note("cannot drop CAP_SYS_ADMIN: %s", strerror(errno));
		return GUEST_FAIL;
	}
	ioctl_errno = ioctl(fd, MEMPRINT_IOC_SCAN, &request) < 0 ? errno : 0;
	close(fd);
	fd2 = open("/dev/memprint", O_RDONLY);
	open_errno = fd2 < 0 ? errno : 0;
	if (fd2 >= 0)
		close(fd2);
	note("without CAP_SYS_ADMIN: request %s, open %s", strerror(ioctl_errno),
	     strerror(open_errno));
	return ioctl_errno == EPERM && open_errno == EPERM ? GUEST_PASS : GUEST_FAIL;
}

int check_busy(int argc, char **argv)
{
	int fd, fd2, busy_errno, again;

	(void)argc;
	(void)argv;
	fd = open("/dev/memprint", O_RDONLY);
	if (fd < 0) {
		note("cannot open /dev/memprint: %s", strerror(errno));
		return GUEST_FAIL;
	}
	fd2 = open("/dev/memprint", O_RDONLY);
	busy_errno = fd2 < 0 ? errno : 0;
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	again = open("/dev/memprint", O_RDONLY);
	if (again >= 0)
		close(again);
	note("second open: %s; open after close: %s", strerror(busy_errno),
	     again >= 0 ? "ok" : strerror(errno));
	return busy_errno == EBUSY && again >= 0 ? GUEST_PASS : GUEST_FAIL;
}
