// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_snapshot.c - speed and memory of a procfs snapshot on one core
 *
 * A forked target maps --size bytes of mixed content: a quarter each of
 * zero-filled pages, copies of 64 template pages, xorshift64 random pages
 * and text-like pages.  Measured in the same run, each the best of
 * --repeat runs after one warm-up, because other processes share the
 * cores:
 *
 *   copy       pread of the target's present pages from /proc/PID/mem in
 *              runs of up to 256 KiB (the fastest size here, faster than
 *              4 MiB) into one buffer: the floor of any procfs scan
 *   full dump  the approach fingerprint snapshots replaced: copy the same
 *              memory into a file, then read it back and hash each page
 *   scan       mp_procfs_scan() of the target into a sink that drops
 *              everything, and into the snapshot writer
 *
 * Times are CPU time of the measuring thread.  Rates are of resident
 * memory (4 KiB times pages recorded or copied), ratios against copy.  Peak memory is the VmHWM growth of a forked
 * scanner process over its VmHWM before the scan.
 *
 * Usage: bench_snapshot [--size SIZE[K|M|G]] [--repeat N] [--dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memprint.h"

#define COPY_CHUNK (256u << 10)
#define TEMPLATES 64

struct bench {
	size_t size;			/* bytes of the target region */
	unsigned repeat;
	const char *dir;		/* for the dump file and the snapshot */
	pid_t target;
	uint64_t region;
	int mem_fd;
	uint8_t *buffer;		/* COPY_CHUNK bytes */
	uint64_t present;		/* present pages of the region */
	uint64_t checksum;		/* consumes copied bytes */
};

struct result {
	double seconds;
	uint64_t pages;
	uint64_t bytes_out;		/* snapshot bytes, for the writer row */
};

/*
 * CPU time of this thread: the cores are shared with other processes, and
 * the budget is for one core, so time spent waiting for a core does not
 * count.  The kernel's work for our preads is charged to this thread too.
 */
static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- target */

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Lines of lower-case words and spaces, as in logs, sources and configuration. */
static void fill_words(uint8_t *page, uint64_t *x)
{
	for (size_t i = 0; i < MP_PAGE_SIZE; i++) {
		uint64_t r = next_random(x);

		if (r % 61 == 0)
			page[i] = '\n';
		else if (r % 7 == 0)
			page[i] = ' ';
		else
			page[i] = (uint8_t)('a' + (r >> 8) % 26);
	}
}

static void fill_target(uint8_t *p, size_t pages)
{
	static uint8_t templates[TEMPLATES][MP_PAGE_SIZE];
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (size_t t = 0; t < TEMPLATES; t++)
		for (size_t j = 0; j < MP_PAGE_SIZE; j += 8) {
			uint64_t v = next_random(&x);

			memcpy(templates[t] + j, &v, 8);
		}
	for (size_t i = 0; i < pages; i++) {
		uint8_t *page = p + i * MP_PAGE_SIZE;

		switch (i % 4) {
		case 0:
			memset(page, 0, MP_PAGE_SIZE);
			break;
		case 1:
			memcpy(page, templates[next_random(&x) % TEMPLATES], MP_PAGE_SIZE);
			break;
		case 2:
			for (size_t j = 0; j < MP_PAGE_SIZE; j += 8) {
				uint64_t v = next_random(&x);

				memcpy(page + j, &v, 8);
			}
			break;
		default:
			fill_words(page, &x);
		}
	}
}

/* Fork the target; it fills its region, reports the address and sleeps. */
static int start_target(struct bench *b)
{
	int ready[2];
	uint64_t address = 0;

	if (pipe(ready) < 0)
		return -errno;
	b->target = fork();
	if (b->target < 0)
		return -errno;
	if (b->target == 0) {
		uint8_t *p = mmap(NULL, b->size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			fill_target(p, b->size / MP_PAGE_SIZE);
			address = (uint64_t)(uintptr_t)p;
		}
		(void)!write(ready[1], &address, sizeof(address));
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &address, sizeof(address)) != sizeof(address) || !address) {
		close(ready[0]);
		return -ENOMEM;
	}
	close(ready[0]);
	b->region = address;
	return 0;
}

static void stop_target(struct bench *b)
{
	if (b->target > 0) {
		kill(b->target, SIGKILL);
		waitpid(b->target, NULL, 0);
	}
}

/* --------------------------------------------------------------- copying */

typedef int copy_fn(struct bench *b, const uint8_t *data, size_t size, void *arg);

/*
 * Hand each run of present pages of the region to fn in chunks of at most
 * COPY_CHUNK, read from /proc/PID/mem.  Returns the pages read or -errno.
 */
static int64_t copy_present(struct bench *b, copy_fn *fn, void *arg)
{
	size_t pages = b->size / MP_PAGE_SIZE, batch = COPY_CHUNK / MP_PAGE_SIZE;
	uint64_t entries[COPY_CHUNK / MP_PAGE_SIZE];
	char path[64];
	int64_t done = 0;
	int pagemap;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)b->target);
	pagemap = open(path, O_RDONLY);
	if (pagemap < 0)
		return -errno;
	for (size_t first = 0; first < pages; first += batch) {
		size_t n = pages - first < batch ? pages - first : batch, i = 0;
		uint64_t base = b->region + first * MP_PAGE_SIZE;

		if (pread(pagemap, entries, n * 8, (off_t)(base / MP_PAGE_SIZE * 8)) != (ssize_t)(n * 8))
			break;
		while (i < n) {
			size_t j = i;

			while (j < n && (entries[j] >> 63))
				j++;
			if (j > i) {
				size_t size = (j - i) * MP_PAGE_SIZE;

				if (pread(b->mem_fd, b->buffer, size, (off_t)(base + i * MP_PAGE_SIZE)) !=
				    (ssize_t)size || fn(b, b->buffer, size, arg) < 0) {
					close(pagemap);
					return -EIO;
				}
				done += (int64_t)(j - i);
			}
			i = j + 1;
		}
	}
	close(pagemap);
	return done;
}

static int consume(struct bench *b, const uint8_t *data, size_t size, void *arg)
{
	(void)arg;
	b->checksum += data[0] + data[size - 1];
	return 0;
}

static int write_out(struct bench *b, const uint8_t *data, size_t size, void *arg)
{
	(void)b;
	return write(*(int *)arg, data, size) == (ssize_t)size ? 0 : -EIO;
}

/* The pages are already present: time only the copying, not pagemap. */
static int run_copy(struct bench *b, struct result *r)
{
	double start = now_seconds();
	int64_t pages = copy_present(b, consume, NULL);

	if (pages < 0)
		return (int)pages;
	r->seconds = now_seconds() - start;
	r->pages = (uint64_t)pages;
	return 0;
}

/* Dump to a file, then hash it back page by page. */
static int run_full_dump(struct bench *b, struct result *r)
{
	uint8_t digest[MP_DIGEST_MAX];
	struct mp_hash *hash;
	char path[4096];
	double start;
	int64_t pages;
	ssize_t n;
	int fd;

	if (mp_hash_open(&hash, MP_HASH_XXH3, NULL, 0, NULL) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/bench_snapshot.%d.dump", b->dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		mp_hash_close(hash);
		return -errno;
	}
	start = now_seconds();
	pages = copy_present(b, write_out, &fd);
	lseek(fd, 0, SEEK_SET);
	while (pages >= 0 && (n = read(fd, b->buffer, COPY_CHUNK)) > 0)
		for (ssize_t off = 0; off + MP_PAGE_SIZE <= n; off += MP_PAGE_SIZE)
			b->checksum += mp_hash_page(hash, b->buffer + off, digest) + digest[0];
	r->seconds = now_seconds() - start;
	r->pages = pages < 0 ? 0 : (uint64_t)pages;
	close(fd);
	unlink(path);
	mp_hash_close(hash);
	return pages < 0 ? (int)pages : 0;
}

/* ------------------------------------------------------------- scanning */

static int count_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	(void)pages;
	*(uint64_t *)ctx += count;
	return 0;
}

static const struct mp_sink_ops counting_ops = { .pages = count_pages };

static int run_scan(struct bench *b, struct result *r)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3 };
	struct mp_sink sink = { .ops = &counting_ops, .ctx = &r->pages };
	struct mp_error error;
	double start;
	int rc;

	r->pages = 0;
	start = now_seconds();
	rc = mp_procfs_scan(&b->target, 1, &options, &sink, &error);
	r->seconds = now_seconds() - start;
	if (rc < 0)
		fprintf(stderr, "bench_snapshot: %s\n", error.message);
	return rc;
}

static int run_scan_writer(struct bench *b, struct result *r)
{
	struct mp_scan_options options = { .hash = MP_HASH_XXH3 };
	struct mp_writer_options wopt = { 0 };
	struct mp_writer *writer;
	struct mp_error error;
	struct mp_sink sink;
	char path[4096];
	double start;
	int rc;

	snprintf(path, sizeof(path), "%s/bench_snapshot.%d.mps", b->dir, (int)getpid());
	unlink(path);
	start = now_seconds();
	rc = mp_writer_open(&writer, path, &wopt, &error);
	if (rc == 0) {
		sink = mp_writer_sink(writer);
		rc = mp_procfs_scan(&b->target, 1, &options, &sink, &error);
		r->pages = mp_writer_pages(writer);
		r->bytes_out = mp_writer_bytes(writer);
		if (mp_writer_close(writer, rc < 0 ? NULL : &error) < 0 && rc == 0)
			rc = -EIO;
	}
	r->seconds = now_seconds() - start;
	if (rc < 0)
		fprintf(stderr, "bench_snapshot: %s\n", error.message);
	unlink(path);
	return rc;
}

typedef int run_fn(struct bench *b, struct result *r);

/* One warm-up, then the best of repeat runs. */
static int best_of(struct bench *b, run_fn *fn, struct result *best)
{
	struct result r = { 0 };
	int rc = fn(b, &r);

	best->seconds = 0;
	for (unsigned i = 0; rc == 0 && i < b->repeat; i++) {
		memset(&r, 0, sizeof(r));
		rc = fn(b, &r);
		if (rc == 0 && (!best->seconds || r.seconds < best->seconds))
			*best = r;
	}
	return rc;
}

/* ---------------------------------------------------------------- memory */

static uint64_t vm_hwm_kib(void)
{
	char line[256];
	unsigned long long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Scan in a fresh process and return its VmHWM growth in bytes; *pages
 * gets the pages recorded.  The child reports through a pipe.
 */
static int64_t measure_peak(struct bench *b, uint64_t *pages)
{
	uint64_t reply[2] = { 0, 0 };
	int channel[2];
	pid_t pid;

	if (pipe(channel) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct result r = { 0 };
		uint64_t before = vm_hwm_kib();

		if (run_scan(b, &r) == 0) {
			reply[0] = (vm_hwm_kib() - before) * 1024;
			reply[1] = r.pages;
		}
		(void)!write(channel[1], reply, sizeof(reply));
		_exit(0);
	}
	close(channel[1]);
	if (read(channel[0], reply, sizeof(reply)) != sizeof(reply))
		reply[1] = 0;
	close(channel[0]);
	waitpid(pid, NULL, 0);
	*pages = reply[1];
	return reply[1] ? (int64_t)reply[0] : -EIO;
}

/* ---------------------------------------------------------------- output */

static void print_row(const char *name, const struct result *r, double base_rate)
{
	double bytes = (double)r->pages * MP_PAGE_SIZE;
	double rate = bytes / r->seconds;

	printf("%-22s %10.3f %8.2f %10.2f %6.2f\n", name, r->seconds, rate / 1e9,
	       r->pages / r->seconds / 1e6, rate / base_rate);
}

static int run_all(struct bench *b)
{
	struct result copy, dump, scan, written = { 0 };
	int64_t peak;
	uint64_t peak_pages = 0;
	double base;
	int rc;

	rc = best_of(b, run_copy, &copy);
	if (rc == 0)
		rc = best_of(b, run_full_dump, &dump);
	if (rc == 0)
		rc = best_of(b, run_scan, &scan);
	if (rc < 0)
		return rc;
	base = copy.pages * (double)MP_PAGE_SIZE / copy.seconds;

	printf("target: %zu MiB, %llu present pages; best of %u runs after a warm-up, "
	       "thread CPU time\n",
	       b->size >> 20, (unsigned long long)copy.pages, b->repeat);
	printf("%-22s %10s %8s %10s %6s\n", "case", "seconds", "GB/s", "Mpages/s", "ratio");
	print_row("copy (/proc/PID/mem)", &copy, base);
	print_row("full dump + hash", &dump, base);
	print_row("scan, null sink", &scan, base);
	if (best_of(b, run_scan_writer, &written) == 0) {
		print_row("scan, snapshot writer", &written, base);
		printf("snapshot: %.1f bytes per page\n",
		       (double)written.bytes_out / (double)written.pages);
	}
	peak = measure_peak(b, &peak_pages);
	if (peak >= 0)
		printf("scanner peak memory growth: %lld KiB for %llu pages (%.2f bytes per page, "
		       "constant included)\n", (long long)peak / 1024,
		       (unsigned long long)peak_pages, (double)peak / (double)peak_pages);
	return 0;
}

static int parse_size(const char *text, size_t *size)
{
	char *end;
	unsigned long long value;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || value == 0)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		value <<= 10, end++;
	else if (*end == 'M' || *end == 'm' || *end == '\0')
		value <<= 20, end += *end != '\0';
	else if (*end == 'G' || *end == 'g')
		value <<= 30, end++;
	if (*end || value < MP_PAGE_SIZE)
		return -EINVAL;
	*size = (size_t)value & ~(size_t)(MP_PAGE_SIZE - 1);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bench_snapshot [--size SIZE[K|M|G]] [--repeat N] [--dir DIR]\n"
		"  --size    target memory, MiB without a suffix (default 2G)\n"
		"  --repeat  measured runs per case; the best counts (default 3)\n"
		"  --dir     directory for the dump file and the snapshot (default /var/tmp)\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .size = 2ull << 30, .repeat = 3, .dir = "/var/tmp" };
	char path[64];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &b.size) < 0) {
				fprintf(stderr, "bench_snapshot: invalid --size '%s'\n", optarg);
				return 1;
			}
			break;
		case 'r':
			b.repeat = (unsigned)atoi(optarg);
			if (b.repeat == 0) {
				fprintf(stderr, "bench_snapshot: invalid --repeat '%s'\n", optarg);
				return 1;
			}
			break;
		case 'd':
			b.dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}

	b.buffer = mmap(NULL, COPY_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (b.buffer == MAP_FAILED || start_target(&b) < 0) {
		fprintf(stderr, "bench_snapshot: cannot start a %zu MiB target\n", b.size >> 20);
		stop_target(&b);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)b.target);
	b.mem_fd = open(path, O_RDONLY);
	rc = b.mem_fd < 0 ? -errno : run_all(&b);
	stop_target(&b);
	if (rc < 0) {
		fprintf(stderr, "bench_snapshot: %s\n", strerror(-rc));
		return 2;
	}
	return 0;
}
