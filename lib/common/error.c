// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * error.c - error messages and small file helpers
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

const char *mp_strerror(int code)
{
	if (code == -EBADMSG)
		return "corrupt snapshot data";
	return strerror(code < 0 ? -code : code);
}

void mp_error_clear(struct mp_error *error)
{
	if (!error)
		return;
	error->code = 0;
	error->message[0] = '\0';
}

static void format_message(struct mp_error *error, int code, const char *format, va_list args)
{
	error->code = code;
	vsnprintf(error->message, sizeof(error->message), format, args);
}

int mp_fail(struct mp_error *error, int code, const char *format, ...)
{
	va_list args;

	if (!error)
		return code;
	va_start(args, format);
	format_message(error, code, format, args);
	va_end(args);
	return code;
}

int mp_fail_errno(struct mp_error *error, int code, const char *format, ...)
{
	va_list args;
	size_t used;

	if (!error)
		return code;
	va_start(args, format);
	format_message(error, code, format, args);
	va_end(args);

	used = strlen(error->message);
	snprintf(error->message + used, sizeof(error->message) - used, ": %s",
		 mp_strerror(code));
	return code;
}

int mp_sysroot_path(char *buffer, size_t size, const char *sysroot, const char *format, ...)
{
	va_list args;
	int prefix, rest;

	if (!sysroot)
		sysroot = "";
	prefix = snprintf(buffer, size, "%s", sysroot);
	if (prefix < 0 || (size_t)prefix >= size)
		return -ENAMETOOLONG;

	va_start(args, format);
	rest = vsnprintf(buffer + prefix, size - prefix, format, args);
	va_end(args);
	if (rest < 0 || (size_t)rest >= size - prefix)
		return -ENAMETOOLONG;
	return 0;
}

ssize_t mp_read_small_file(const char *path, char *buffer, size_t size)
{
	ssize_t total = 0, n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	while ((size_t)total < size - 1) {
		n = read(fd, buffer + total, size - 1 - total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buffer[total] = '\0';
	return total;
}
