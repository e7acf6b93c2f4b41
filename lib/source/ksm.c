// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksm.c - KSM's machine-wide counters from /sys/kernel/mm/ksm
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Read one counter; a file the kernel does not have leaves *value at 0. */
static int read_counter(const char *sysroot, const char *name, uint64_t *value)
{
	char path[4096], text[64];
	char *end;
	ssize_t n;
	int rc;

	*value = 0;
	rc = mp_sysroot_path(path, sizeof(path), sysroot, "/sys/kernel/mm/ksm/%s", name);
	if (rc < 0)
		return rc;
	n = mp_read_small_file(path, text, sizeof(text));
	if (n < 0)
		return (int)n;
	errno = 0;
	*value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	return 0;
}

int mp_ksm_read_counters(const char *sysroot, struct mp_ksm_counters *counters,
			 struct mp_error *error)
{
	static const struct {
		const char *name;
		size_t offset;
	} files[] = {
		{ "pages_shared", offsetof(struct mp_ksm_counters, pages_shared) },
		{ "pages_sharing", offsetof(struct mp_ksm_counters, pages_sharing) },
		{ "pages_unshared", offsetof(struct mp_ksm_counters, pages_unshared) },
		{ "pages_volatile", offsetof(struct mp_ksm_counters, pages_volatile) },
		{ "full_scans", offsetof(struct mp_ksm_counters, full_scans) },
		{ "max_page_sharing", offsetof(struct mp_ksm_counters, max_page_sharing) },
		{ "use_zero_pages", offsetof(struct mp_ksm_counters, use_zero_pages) },
		{ "ksm_zero_pages", offsetof(struct mp_ksm_counters, ksm_zero_pages) },
	};
	int rc;

	memset(counters, 0, sizeof(*counters));
	rc = read_counter(sysroot, "run", &counters->run);
	if (rc == -ENOENT)
		return 0;	/* no KSM in this kernel: valid stays false */
	if (rc < 0)
		return mp_fail_errno(error, rc, "cannot read KSM counters: %s/sys/kernel/mm/ksm/run",
				     sysroot ? sysroot : "");

	/* Older kernels lack some of these files (ksm_zero_pages is recent): they read as 0. */
	for (size_t i = 0; i < MP_ARRAY_SIZE(files); i++) {
		uint64_t *value = (uint64_t *)((char *)counters + files[i].offset);

		rc = read_counter(sysroot, files[i].name, value);
		if (rc < 0 && rc != -ENOENT)
			return mp_fail_errno(error, rc, "cannot read KSM counter %s", files[i].name);
	}
	counters->valid = true;
	return 0;
}
