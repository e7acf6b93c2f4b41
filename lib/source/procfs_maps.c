// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs_maps.c - parse /proc/PID/maps and /proc/PID/smaps
 *
 * A header line reads "start-end perms offset major:minor inode   path".
 * The kernel pads the path to a column and escapes only the newline, as
 * the four bytes "\012" (seq_file_path() in fs/proc/task_mmu.c), so a
 * path is the rest of the line with that one escape undone.  smaps adds
 * "Key: value" lines after each header, VmFlags among them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "source/procfs.h"

int mp_maps_open(struct mp_maps_reader *reader, const char *sysroot, pid_t pid, bool smaps)
{
	char path[4096];
	int rc;

	memset(reader, 0, sizeof(*reader));
	rc = mp_sysroot_path(path, sizeof(path), sysroot, "/proc/%d/%s", (int)pid,
			     smaps ? "smaps" : "maps");
	if (rc < 0)
		return rc;
	reader->file = fopen(path, "re");
	if (!reader->file)
		return -errno;
	reader->smaps = smaps;
	return 0;
}

void mp_maps_close(struct mp_maps_reader *reader)
{
	if (reader->file)
		fclose(reader->file);
	free(reader->line);
	free(reader->next);
	free(reader->path);
	memset(reader, 0, sizeof(*reader));
}

/* Copy src into *path, turning each "\012" into a newline byte. */
static int unescape_path(const char *src, size_t size, char **path, size_t *path_size)
{
	char *out;
	size_t n = 0;

	out = realloc(*path, size + 1);
	if (!out)
		return -ENOMEM;
	*path = out;
	for (size_t i = 0; i < size; i++) {
		if (src[i] == '\\' && i + 4 <= size && memcmp(src + i, "\\012", 4) == 0) {
			out[n++] = '\n';
			i += 3;
			continue;
		}
		out[n++] = src[i];
	}
	out[n] = '\0';
	*path_size = n;
	return 0;
}

static bool ends_with(const char *s, size_t size, const char *suffix)
{
	size_t n = strlen(suffix);

	return size >= n && memcmp(s + size - n, suffix, n) == 0;
}

static bool starts_with(const char *s, size_t size, const char *prefix)
{
	size_t n = strlen(prefix);

	return size >= n && memcmp(s, prefix, n) == 0;
}

/*
 * Tell the kind of an area from its name.  Shared anonymous memory shows
 * as "/dev/zero (deleted)" or, when named, "[anon_shmem:NAME]" (Linux
 * recent kernels); SysV segments as "/SYSV<key> (deleted)"; memfds as
 * "/memfd:NAME (deleted)".  A private /dev/zero mapping contains anonymous
 * pages but keeps the file's name.
 */
static uint32_t classify(const struct mp_region *r, bool *vsyscall)
{
	const char *p = r->path;
	size_t n = r->path_size;
	bool shared = r->prot & MP_PROT_SHARED;

	*vsyscall = false;
	if (n == 0)
		return shared ? MP_REGION_SHMEM : MP_REGION_ANON;
	if (p[0] == '[') {
		if (starts_with(p, n, "[anon_shmem:"))
			return MP_REGION_SHMEM;
		if (starts_with(p, n, "[anon:"))
			return MP_REGION_ANON_NAMED;
		if (n == 6 && memcmp(p, "[heap]", 6) == 0)
			return MP_REGION_HEAP;
		if (starts_with(p, n, "[stack"))
			return MP_REGION_STACK;
		*vsyscall = n == 10 && memcmp(p, "[vsyscall]", 10) == 0;
		return MP_REGION_KERNEL;
	}
	if (starts_with(p, n, "/dev/zero"))
		return shared ? MP_REGION_SHMEM : MP_REGION_ANON;
	if (starts_with(p, n, "/anon_hugepage"))
		return shared ? MP_REGION_SHMEM : MP_REGION_ANON;
	if (starts_with(p, n, "/SYSV") || starts_with(p, n, "/memfd:"))
		return MP_REGION_SHMEM;
	if (ends_with(p, n, " (deleted)"))
		return MP_REGION_DELETED;
	return MP_REGION_FILE;
}

static uint32_t parse_prot(const char *perms)
{
	uint32_t prot = 0;

	if (perms[0] == 'r')
		prot |= MP_PROT_READ;
	if (perms[1] == 'w')
		prot |= MP_PROT_WRITE;
	if (perms[2] == 'x')
		prot |= MP_PROT_EXEC;
	if (perms[3] == 's')
		prot |= MP_PROT_SHARED;
	return prot;
}

int mp_maps_parse_header(const char *line, struct mp_maps_entry *entry,
			 char **path, size_t *path_size)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	char perms[5];
	int consumed = 0, rc;
	const char *rest;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &offset,
		   &major, &minor, &inode, &consumed) != 7 || strlen(perms) != 4)
		return -EINVAL;
	if (start > end || (start | end) & (MP_PAGE_SIZE - 1))
		return -EINVAL;

	rest = line + consumed;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	rc = unescape_path(rest, strlen(rest), path, path_size);
	if (rc < 0)
		return rc;

	memset(entry, 0, sizeof(*entry));
	entry->region.start = start;
	entry->region.end = end;
	entry->region.offset = offset;
	entry->region.dev = makedev(major, minor);
	entry->region.inode = inode;
	entry->region.prot = parse_prot(perms);
	entry->region.path = *path;
	entry->region.path_size = *path_size;
	entry->region.kind = classify(&entry->region, &entry->vsyscall);
	return 0;
}

uint32_t mp_maps_parse_vmflags(const char *value)
{
	static const struct {
		char name[3];
		uint32_t bit;
	} known[] = {
		{ "mg", MP_VM_MERGEABLE }, { "io", MP_VM_IO }, { "pf", MP_VM_PFNMAP },
		{ "ht", MP_VM_HUGETLB }, { "hg", MP_VM_HUGEPAGE }, { "dd", MP_VM_DONTDUMP },
	};
	uint32_t flags = MP_VM_SMAPS;
	const char *p = value;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t\n");
		for (size_t i = 0; n == 2 && i < MP_ARRAY_SIZE(known); i++)
			if (memcmp(p, known[i].name, 2) == 0)
				flags |= known[i].bit;
		p += n;
		if (*p == '\n')
			break;
	}
	return flags;
}

/* An smaps field line starts with "Name:"; a header with "hex-hex ". */
static bool is_header(const char *line)
{
	size_t n = strcspn(line, " ");

	return n > 0 && line[n - 1] != ':';
}

static void chomp(char *line, ssize_t *n)
{
	if (*n > 0 && line[*n - 1] == '\n')
		line[--*n] = '\0';
}

/*
 * Read one line into the current buffer, from the read-ahead when there is
 * one.  Returns 1, 0 at the end of the file, or negative errno.
 */
static int read_line(struct mp_maps_reader *reader)
{
	ssize_t n;

	if (reader->has_next) {
		char *line = reader->line;
		size_t size = reader->line_size;

		reader->line = reader->next;
		reader->line_size = reader->next_size;
		reader->next = line;
		reader->next_size = size;
		reader->has_next = false;
		return 1;
	}
	errno = 0;
	n = getline(&reader->line, &reader->line_size, reader->file);
	if (n < 0)
		return errno ? -errno : 0;
	chomp(reader->line, &n);
	return 1;
}

static void parse_field(const char *line, struct mp_maps_entry *entry)
{
	unsigned long long kib;

	if (strncmp(line, "VmFlags:", 8) == 0)
		entry->region.vm_flags = mp_maps_parse_vmflags(line + 8);
	else if (sscanf(line, "Rss: %llu kB", &kib) == 1)
		entry->rss_bytes = kib * 1024;
	else if (sscanf(line, "Anonymous: %llu kB", &kib) == 1)
		entry->anon_bytes = kib * 1024;
	else if (sscanf(line, "KSM: %llu kB", &kib) == 1) {
		entry->ksm_bytes = kib * 1024;
		entry->has_ksm = true;
	}
}

/* Read smaps field lines up to the next header, which is kept for the next call. */
static int read_fields(struct mp_maps_reader *reader, struct mp_maps_entry *entry)
{
	for (;;) {
		ssize_t n;

		errno = 0;
		n = getline(&reader->next, &reader->next_size, reader->file);
		if (n < 0)
			return errno ? -errno : 0;
		chomp(reader->next, &n);
		if (is_header(reader->next)) {
			reader->has_next = true;
			return 0;
		}
		parse_field(reader->next, entry);
	}
}

int mp_maps_next(struct mp_maps_reader *reader, struct mp_maps_entry *entry)
{
	int rc;

	rc = read_line(reader);
	if (rc <= 0)
		return rc;
	rc = mp_maps_parse_header(reader->line, entry, &reader->path, &reader->path_size);
	if (rc < 0)
		return rc;
	if (reader->smaps) {
		rc = read_fields(reader, entry);
		if (rc < 0)
			return rc;
	}
	return 1;
}
