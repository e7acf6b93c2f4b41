// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz_reader.c - libFuzzer harness for the snapshot reader
 *
 * The input is read as a snapshot file and every set is pushed into a sink
 * that reads every byte it is given, so that AddressSanitizer sees any
 * pointer the reader hands out past its data.  Random changes almost never
 * keep a block's CRC-32C valid, which would leave the record decoder
 * untested; so when the first byte of the input is odd, the harness first
 * puts correct checksums into the file header and into every block header
 * it can find.  Built and run by tests/fuzz/run-fuzz.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink_total;

static void touch(const void *bytes, size_t size)
{
	const uint8_t *p = bytes;
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i++)
		sum += p[i];
	sink_total += sum;
}

static int fuzz_begin_set(void *ctx, const struct mp_set_info *info)
{
	(void)ctx;
	touch(info->host, strlen(info->host));
	touch(info->kernel, strlen(info->kernel));
	return 0;
}

static int fuzz_region(void *ctx, const struct mp_region *region)
{
	(void)ctx;
	touch(region->path, region->path_size);
	return 0;
}

static int fuzz_file(void *ctx, const struct mp_file *file)
{
	(void)ctx;
	touch(file->path, file->path_size);
	return 0;
}

static int fuzz_pages(void *ctx, const struct mp_page *pages, size_t count)
{
	(void)ctx;
	touch(pages, count * sizeof(*pages));
	return 0;
}

static int fuzz_task(void *ctx, const struct mp_task *task)
{
	(void)ctx;
	touch(task->comm, strlen(task->comm));
	return 0;
}

static const struct mp_sink_ops fuzz_ops = {
	.begin_set = fuzz_begin_set,
	.task = fuzz_task,
	.region = fuzz_region,
	.file = fuzz_file,
	.pages = fuzz_pages,
};

/* Give the file header and each block header found a correct checksum. */
static void fix_checksums(uint8_t *data, size_t size)
{
	size_t offset = MPF_FILE_HEADER_SIZE;

	if (size < MPF_FILE_HEADER_SIZE)
		return;
	mpf_store_le32(data + 12, mpf_file_header_crc(data));
	while (size - offset >= MPF_BLOCK_HEADER_SIZE) {
		uint8_t *header = data + offset;
		uint32_t stored = mpf_load_le32(header + 8);

		if (stored > size - offset - MPF_BLOCK_HEADER_SIZE)
			break;
		mpf_store_le32(header + 20, mpf_block_crc(header, header + MPF_BLOCK_HEADER_SIZE,
							  stored));
		offset += MPF_BLOCK_HEADER_SIZE + stored;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_sink sink = { &fuzz_ops, NULL, NULL };
	struct mp_error error;
	struct mp_reader *reader;
	char path[64];
	uint8_t *copy;
	int fd;

	if (size == 0)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		fix_checksums(copy, size - 1);

	fd = memfd_create("fuzz.mps", MFD_CLOEXEC);
	if (fd < 0 || write(fd, copy, size - 1) != (ssize_t)(size - 1)) {
		free(copy);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	free(copy);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mp_reader_open(&reader, path, &error) == 0) {
		for (int sets = 0; sets < 1000; sets++) {
			if (mp_reader_next_set(reader, &sink, &error) <= 0)
				break;
		}
		mp_reader_close(reader);
	}
	close(fd);
	return 0;
}
