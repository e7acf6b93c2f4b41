// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mp-craft-image.c - write the crafted page set of mp-craft.h as memory
 * images, for tests/cli/hashbench_*.sh
 *
 * Usage: mp-craft-image DIR | --hold
 * With --hold, keeps the page set in its own memory, prints "ready" and
 * waits to be killed, for tests that read a live process.  With DIR,
 * writes into DIR:
 *   pages.raw       the 16 pages as a raw image
 *   pages.elf       the same pages as an ELF core (two PT_LOAD segments)
 *   short.elf       the first 40 bytes of pages.elf: a truncated ELF header
 *   magic.elf       pages.elf with byte 3 of the magic set to 'G'
 *   cut.elf         pages.elf cut after 10 pages: segment 2 ends beyond the
 *                   end of the file
 */
#include <stdio.h>
#include <sys/mman.h>

#include "helpers/mp-craft.h"

static uint8_t pages[CRAFT_PAGES * CRAFT_PAGE];
static uint8_t elf[CRAFT_ELF_DATA_OFFSET + CRAFT_PAGES * CRAFT_PAGE];

static int write_in(const char *dir, const char *name, const void *data, size_t size)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = craft_write_file(path, data, size, NULL, 0);
	if (rc < 0)
		fprintf(stderr, "mp-craft-image: cannot write %s: %s\n", path, strerror(-rc));
	return rc;
}

/* Write the page set into fresh anonymous memory of this process and wait. */
static int hold(void)
{
	uint8_t *area = mmap(NULL, sizeof(pages), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (area == MAP_FAILED) {
		perror("mp-craft-image: mmap");
		return 2;
	}
	craft_pages(area);
	printf("ready %p\n", (void *)area);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	uint8_t magic[sizeof(elf)];

	if (argc != 2) {
		fprintf(stderr, "Usage: mp-craft-image DIR | --hold\n");
		return 1;
	}
	if (!strcmp(argv[1], "--hold"))
		return hold();
	craft_pages(pages);
	craft_elf_head(elf, CRAFT_PAGES);
	memcpy(elf + CRAFT_ELF_DATA_OFFSET, pages, sizeof(pages));
	memcpy(magic, elf, sizeof(elf));
	magic[3] = 'G';

	if (write_in(argv[1], "pages.raw", pages, sizeof(pages)) < 0 ||
	    write_in(argv[1], "pages.elf", elf, sizeof(elf)) < 0 ||
	    write_in(argv[1], "short.elf", elf, 40) < 0 ||
	    write_in(argv[1], "magic.elf", magic, sizeof(magic)) < 0 ||
	    write_in(argv[1], "cut.elf", elf, CRAFT_ELF_DATA_OFFSET + 10 * CRAFT_PAGE) < 0)
		return 2;
	return 0;
}
