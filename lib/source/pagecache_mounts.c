// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagecache_mounts.c - which mounts hold page cache that a scan may read
 *
 * A scan without paths walks every local disk-backed or tmpfs mount listed
 * in /proc/self/mountinfo (Documentation/filesystems/proc.rst, 3.5).  It
 * never enters proc, sysfs, devtmpfs or another pseudo file system: their
 * files are not page cache, and reading some of them has side effects.
 */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "source/pagecache.h"

/* File systems with anonymous device numbers that still keep local data. */
static const char *const anonymous_dev_types[] = {
	"tmpfs", "btrfs", "zfs", "bcachefs",
};

/* Block-device file systems that are not local page cache of files. */
static const char *const rejected_types[] = {
	"swap", "devtmpfs",
};

static bool in_list(const char *name, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(name, list[i]))
			return true;
	}
	return false;
}

bool mp_pc_fstype_allowed(const char *fstype, uint64_t dev)
{
	if (in_list(fstype, rejected_types, MP_ARRAY_SIZE(rejected_types)))
		return false;
	if (in_list(fstype, anonymous_dev_types, MP_ARRAY_SIZE(anonymous_dev_types)))
		return true;
	return major(dev) != 0;
}

bool mp_pc_magic_allowed(unsigned long magic)
{
	/* memfd and deleted shared memory live on the kernel's internal shmem mount. */
	return magic == TMPFS_MAGIC;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Split off the next space-separated field of *line; NULL at the end. */
static char *next_field(char **line)
{
	char *start = *line, *end;

	while (*start == ' ')
		start++;
	if (!*start)
		return NULL;
	end = strchr(start, ' ');
	if (end) {
		*end = '\0';
		*line = end + 1;
	} else {
		*line = start + strlen(start);
	}
	return start;
}

/*
 * One line: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE
 * SOURCE SUPER_OPTIONS".  Returns 0, or -EINVAL for a malformed line.
 */
static int parse_line(char *line, struct mp_pc_mount *mount)
{
	char *fields[5], *field, *type;
	unsigned major_nr, minor_nr;

	for (int i = 0; i < 5; i++) {
		fields[i] = next_field(&line);
		if (!fields[i])
			return -EINVAL;
	}
	if (sscanf(fields[2], "%u:%u", &major_nr, &minor_nr) != 2)
		return -EINVAL;
	next_field(&line);	/* mount options */
	do {
		field = next_field(&line);
	} while (field && strcmp(field, "-"));
	type = next_field(&line);
	if (!type)
		return -EINVAL;

	unescape(fields[3]);
	unescape(fields[4]);
	mount->dev = makedev(major_nr, minor_nr);
	mount->root = strdup(fields[3]);
	mount->point = strdup(fields[4]);
	mount->fstype = strdup(type);
	if (!mount->root || !mount->point || !mount->fstype)
		return -ENOMEM;
	return 0;
}

int mp_pc_mounts_parse(const char *text, struct mp_pc_mounts *mounts)
{
	char *copy = strdup(text), *line, *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mp_pc_mount *grown;

		grown = realloc(mounts->mounts, (mounts->count + 1) * sizeof(*grown));
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		mounts->mounts = grown;
		memset(&grown[mounts->count], 0, sizeof(*grown));
		rc = parse_line(line, &grown[mounts->count]);
		mounts->count++;	/* counted even on failure so that free releases it */
		if (rc < 0)
			break;
	}
	free(copy);
	return rc;
}

int mp_pc_mounts_read(const char *sysroot, struct mp_pc_mounts *mounts)
{
	char path[4096];
	char *text = NULL;
	size_t size = 0;
	FILE *file;
	int rc;

	memset(mounts, 0, sizeof(*mounts));
	rc = mp_sysroot_path(path, sizeof(path), sysroot, "/proc/self/mountinfo");
	if (rc < 0)
		return rc;
	file = fopen(path, "re");
	if (!file)
		return -errno;

	/* mountinfo can be larger than one page: read it whole. */
	for (;;) {
		char buffer[4096];
		size_t n = fread(buffer, 1, sizeof(buffer), file);
		char *grown;

		if (n == 0)
			break;
		grown = realloc(text, size + n + 1);
		if (!grown) {
			free(text);
			fclose(file);
			return -ENOMEM;
		}
		text = grown;
		memcpy(text + size, buffer, n);
		size += n;
	}
	fclose(file);
	if (!text)
		return -EINVAL;	/* empty: no mount at all */
	text[size] = '\0';
	rc = mp_pc_mounts_parse(text, mounts);
	free(text);
	return rc;
}

void mp_pc_mounts_free(struct mp_pc_mounts *mounts)
{
	for (size_t i = 0; i < mounts->count; i++) {
		free(mounts->mounts[i].root);
		free(mounts->mounts[i].point);
		free(mounts->mounts[i].fstype);
	}
	free(mounts->mounts);
	mounts->mounts = NULL;
	mounts->count = 0;
}

const struct mp_pc_mount *mp_pc_mounts_find(const struct mp_pc_mounts *mounts, uint64_t dev)
{
	for (size_t i = mounts->count; i > 0; i--) {
		if (mounts->mounts[i - 1].dev == dev)
			return &mounts->mounts[i - 1];
	}
	return NULL;
}

/* Whether path is top or lies below it. */
static bool path_below(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (n > 0 && top[n - 1] == '/')
		n--;	/* "/" covers every absolute path */
	return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

/* Whether a later mount on the same mount point hides this one. */
static bool hidden(const struct mp_pc_mounts *mounts, size_t index)
{
	for (size_t i = index + 1; i < mounts->count; i++) {
		if (!strcmp(mounts->mounts[i].point, mounts->mounts[index].point))
			return true;
	}
	return false;
}

/* Whether an earlier selected mount already covers this device from its root. */
static bool device_covered(const struct mp_pc_mount *const *chosen, size_t count,
			   const struct mp_pc_mount *mount)
{
	for (size_t i = 0; i < count; i++) {
		if (chosen[i]->dev == mount->dev && path_below(mount->root, chosen[i]->root))
			return true;
	}
	return false;
}

int mp_pc_mounts_select(const struct mp_pc_mounts *mounts, const char ***points, size_t *count)
{
	const struct mp_pc_mount **chosen;
	size_t n = 0;

	*points = NULL;
	*count = 0;
	chosen = calloc(mounts->count + 1, sizeof(*chosen));
	if (!chosen)
		return -ENOMEM;
	for (size_t i = 0; i < mounts->count; i++) {
		const struct mp_pc_mount *mount = &mounts->mounts[i];

		if (!mp_pc_fstype_allowed(mount->fstype, mount->dev))
			continue;
		if (path_below(mount->point, "/proc") || path_below(mount->point, "/sys"))
			continue;
		if (hidden(mounts, i))
			continue;
		if (device_covered(chosen, n, mount))
			continue;
		chosen[n++] = mount;
	}

	*points = calloc(n + 1, sizeof(**points));
	if (!*points) {
		free(chosen);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		(*points)[i] = chosen[i]->point;
	*count = n;
	free(chosen);
	return 0;
}
