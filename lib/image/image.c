// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * image.c - read a memory image page by page
 *
 * A raw image is guest RAM as one file (QEMU's memory-backend-file, a
 * saved ramdump): page n sits at offset n * 4096.  An ELF image is the
 * ELF64 core of QEMU's dump-guest-memory, parsed in elf.c.  Both become a
 * list of segments of whole pages, read here with pread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

static const char *const format_names[] = {
	[MP_IMAGE_AUTO] = "auto",
	[MP_IMAGE_RAW] = "raw",
	[MP_IMAGE_ELF] = "elf",
};

int mp_image_format_lookup(const char *name)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(format_names); i++) {
		if (!strcmp(name, format_names[i]))
			return (int)i;
	}
	return -1;
}

const char *mp_image_format_name(enum mp_image_format format)
{
	if ((size_t)format >= MP_ARRAY_SIZE(format_names))
		return "unknown";
	return format_names[format];
}

int mp_image_pread(struct mp_image *image, void *buffer, size_t size, uint64_t offset,
		      struct mp_error *error)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(image->fd, (char *)buffer + done, size - done,
				  (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mp_fail_errno(error, -errno, "cannot read image: %s: offset %llu",
					     image->path, (unsigned long long)(offset + done));
		if (n == 0)
			return mp_fail(error, -EIO,
				       "cannot read image: %s: offset %llu: file ends early "
				       "(it shrank while being read?)",
				       image->path, (unsigned long long)(offset + done));
		done += (size_t)n;
	}
	return 0;
}

/* Take a file that starts with the ELF magic as ELF, any other as raw. */
static int detect_format(struct mp_image *image, enum mp_image_format *format,
			 struct mp_error *error)
{
	unsigned char magic[4];
	int rc;

	*format = MP_IMAGE_RAW;
	if (image->info.file_size < sizeof(magic))
		return 0;
	rc = mp_image_pread(image, magic, sizeof(magic), 0, error);
	if (rc < 0)
		return rc;
	if (!memcmp(magic, "\177ELF", 4))
		*format = MP_IMAGE_ELF;
	return 0;
}

/*
 * makedumpfile's and QEMU's kdump-compressed formats (dump-guest-memory
 * -z, -l or -s) start with these signatures; they hold compressed pages,
 * which this reader cannot take as raw memory.
 */
static int reject_kdump(struct mp_image *image, struct mp_error *error)
{
	static const char *const signatures[] = { "KDUMP   ", "makedumpfile" };
	char head[16];
	int rc;

	if (image->info.file_size < sizeof(head))
		return 0;
	rc = mp_image_pread(image, head, sizeof(head), 0, error);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < MP_ARRAY_SIZE(signatures); i++) {
		if (!memcmp(head, signatures[i], strlen(signatures[i])))
			return mp_fail(error, -EINVAL,
				       "unsupported image: %s: offset 0: kdump-compressed format "
				       "(dump-guest-memory -z, -l or -s); dump without them for "
				       "an ELF image", image->path);
	}
	return 0;
}

static int setup_raw(struct mp_image *image, struct mp_error *error)
{
	image->segments = calloc(1, sizeof(*image->segments));
	if (!image->segments)
		return mp_fail(error, -ENOMEM, "cannot open image: %s: out of memory",
			       image->path);
	image->segment_count = 1;
	image->segments[0].pages = image->info.file_size / MP_PAGE_SIZE;
	image->info.pages = image->segments[0].pages;
	image->info.partial_bytes = image->info.file_size % MP_PAGE_SIZE;
	image->info.segments = 1;
	return 0;
}

static int open_file(struct mp_image *image, const char *path, struct mp_error *error)
{
	struct stat st;

	image->path = strdup(path);
	if (!image->path)
		return mp_fail(error, -ENOMEM, "cannot open image: %s: out of memory", path);
	image->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (image->fd < 0)
		return mp_fail_errno(error, -errno, "cannot open image: %s", path);
	if (fstat(image->fd, &st) < 0)
		return mp_fail_errno(error, -errno, "cannot open image: %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return mp_fail(error, -EINVAL, "cannot open image: %s: not a regular file", path);

	image->info.file_size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(image->fd, 0, SEEK_END);

		if (end < 0)
			return mp_fail_errno(error, -errno, "cannot open image: %s", path);
		image->info.file_size = (uint64_t)end;
	}
	return 0;
}

int mp_image_open(struct mp_image **result, const char *path, enum mp_image_format format,
		  struct mp_error *error)
{
	struct mp_image *image;
	int rc;

	*result = NULL;
	image = calloc(1, sizeof(*image));
	if (!image)
		return mp_fail(error, -ENOMEM, "cannot open image: %s: out of memory", path);
	image->fd = -1;

	rc = open_file(image, path, error);
	if (rc < 0)
		goto err;
	rc = reject_kdump(image, error);
	if (rc < 0)
		goto err;

	if (format == MP_IMAGE_AUTO) {
		rc = detect_format(image, &format, error);
		if (rc < 0)
			goto err;
	}
	image->info.format = format;

	if (format == MP_IMAGE_ELF)
		rc = mp_image_parse_elf(image, error);
	else if (format == MP_IMAGE_RAW)
		rc = setup_raw(image, error);
	else
		rc = mp_fail(error, -EINVAL, "cannot open image: %s: unknown format %d",
			     path, (int)format);
	if (rc < 0)
		goto err;

	*result = image;
	return 0;

err:
	mp_image_close(image);
	return rc;
}

void mp_image_get_info(const struct mp_image *image, struct mp_image_info *info)
{
	*info = image->info;
}

ssize_t mp_image_read(struct mp_image *image, void *buffer, size_t count, uint64_t *addresses,
		      struct mp_error *error)
{
	const struct mp_image_segment *segment;
	uint64_t offset;
	size_t n;
	int rc;

	while (image->segment < image->segment_count &&
	       image->page >= image->segments[image->segment].pages) {
		image->segment++;
		image->page = 0;
	}
	if (image->segment >= image->segment_count || count == 0)
		return 0;

	/* One pread per call: stop at the end of the segment. */
	segment = &image->segments[image->segment];
	n = count;
	if (n > segment->pages - image->page)
		n = (size_t)(segment->pages - image->page);
	offset = segment->file_offset + image->page * MP_PAGE_SIZE;

	rc = mp_image_pread(image, buffer, n * MP_PAGE_SIZE, offset, error);
	if (rc < 0)
		return rc;
	for (size_t i = 0; addresses && i < n; i++)
		addresses[i] = segment->address + (image->page + i) * MP_PAGE_SIZE;
	image->page += n;
	return (ssize_t)n;
}

void mp_image_close(struct mp_image *image)
{
	if (!image)
		return;
	if (image->fd >= 0)
		close(image->fd);
	free(image->segments);
	free(image->path);
	free(image);
}
