// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mp-pc-holder - a process whose memory repeats the page cache in known ways
 *
 * Usage: mp-pc-holder MAPPED COPIED
 *
 * Maps MAPPED shared and read-only and touches every page, so that its
 * mappings are the cached frames themselves.  Reads pages 0, 1, 2, 3 and 0
 * again of COPIED into five private anonymous pages: anonymous copies of
 * cached pages, page 0 twice.  Prints "ready" and waits until stdin closes
 * or a signal ends it; from "ready" on its memory does not change.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static volatile unsigned char sink;

static int map_and_touch(const char *path)
{
	struct stat st;
	unsigned char *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	for (off_t i = 0; i < st.st_size; i += PAGE)
		sink = p[i];
	return 0;
}

/* read(2) straight into the anonymous pages: no other buffer holds the content. */
static int copy_pages(const char *path)
{
	static const off_t pages[5] = { 0, 1, 2, 3, 0 };
	unsigned char *anon;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	anon = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return -1;
	for (int i = 0; i < 5; i++) {
		if (pread(fd, anon + i * PAGE, PAGE, pages[i] * PAGE) != PAGE)
			return -1;
	}
	close(fd);
	return 0;
}

/*
 * Write "ready" to stdout, having run write() and read() once before
 * where it does not count.  Code that runs for the first time faults in
 * its page of text and, by fault-around, up to 15 cached neighbours
 * (fault_around_bytes, 64 KiB by default), which a scan started on "ready"
 * would catch half done.  In an ASan build the interceptors of write() and
 * read() lie in libasan.so, whose text the holder had not run before: 16
 * pages of it came in between two scans of the holder.
 */
static int say_ready(void)
{
	static const char ready[] = "ready\n";
	const ssize_t size = sizeof(ready) - 1;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char byte;

	if (null < 0 || write(null, ready, size) != size)
		return -1;
	close(null);
	if (read(STDIN_FILENO, &byte, 0) < 0)
		return -1;
	return write(STDOUT_FILENO, ready, size) == size ? 0 : -1;
}

int main(int argc, char **argv)
{
	char byte;

	if (argc != 3) {
		fprintf(stderr, "usage: mp-pc-holder MAPPED COPIED\n");
		return 1;
	}
	if (map_and_touch(argv[1]) < 0 || copy_pages(argv[2]) < 0) {
		perror("mp-pc-holder");
		return 2;
	}
	if (say_ready() < 0) {
		perror("mp-pc-holder: stdout");
		return 2;
	}
	while (read(STDIN_FILENO, &byte, 1) > 0)
		;
	return 0;
}
