// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * options.c - target and hash options shared by scan, snapshot and watch
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

/* Bytes read from a --hash-key file at most: a key is a secret, not data. */
#define HASH_KEY_MAX 4096

int cli_parse_count(const char *arg, unsigned long min, unsigned long max,
		    const char *option, const char *command, unsigned long *value)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		cli_usage_error(command, "invalid %s value '%s': expected a number from %lu to %lu",
				option, arg, min, max);
		return -1;
	}
	*value = v;
	return 0;
}

static int add_pid(struct cli_targets *t, const char *arg, const char *command)
{
	unsigned long pid;

	if (cli_parse_count(arg, 1, INT_MAX, "--pid", command, &pid) < 0)
		return -1;
	if (t->pid_count == t->pid_capacity) {
		size_t n = t->pid_capacity ? t->pid_capacity * 2 : 8;
		pid_t *p = realloc(t->pids, n * sizeof(*p));

		if (!p) {
			cli_warn("out of memory");
			exit(EXIT_RUNTIME);
		}
		t->pids = p;
		t->pid_capacity = n;
	}
	t->pids[t->pid_count++] = (pid_t)pid;
	return 1;
}

static int add_cache_path(struct cli_targets *t, const char *path)
{
	if (t->cache_path_count == t->cache_path_capacity) {
		size_t n = t->cache_path_capacity ? t->cache_path_capacity * 2 : 8;
		const char **p = realloc(t->cache_paths, n * sizeof(*p));

		if (!p) {
			cli_warn("out of memory");
			exit(EXIT_RUNTIME);
		}
		t->cache_paths = p;
		t->cache_path_capacity = n;
	}
	t->cache_paths[t->cache_path_count++] = path;
	return 1;
}

int cli_targets_option(struct cli_targets *t, int opt, const char *arg, const char *command)
{
	switch (opt) {
	case CLI_OPT_PAGE_CACHE:
		t->page_cache = true;
		if (arg && !arg[0]) {
			cli_usage_error(command, "invalid --page-cache value: empty path");
			return -1;
		}
		return arg ? add_cache_path(t, arg) : 1;
	case 'p':
		return add_pid(t, arg, command);
	case 'a':
		t->all = true;
		return 1;
	case CLI_OPT_COMM:
		if (!arg[0] || strlen(arg) > 15) {
			cli_usage_error(command, "invalid --comm value '%s': expected 1 to 15 bytes, "
					"as /proc/PID/comm", arg);
			return -1;
		}
		t->comm = arg;
		return 1;
	case CLI_OPT_CGROUP:
		if (!arg[0]) {
			cli_usage_error(command, "invalid --cgroup value: empty path");
			return -1;
		}
		t->cgroup = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_targets_check(const struct cli_targets *t, const char *command)
{
	if (!t->pid_count && !t->all && !t->comm && !t->cgroup && !t->page_cache) {
		cli_usage_error(command, "no targets: give --pid, --all, --comm, --cgroup or "
				"--page-cache");
		return -1;
	}
	return 0;
}

void cli_targets_get(const struct cli_targets *t, struct mp_targets *out)
{
	memset(out, 0, sizeof(*out));
	out->pids = t->pids;
	out->pid_count = t->pid_count;
	out->all = t->all;
	out->comm = t->comm;
	out->cgroup = t->cgroup;
}

void cli_targets_free(struct cli_targets *t)
{
	free(t->pids);
	t->pids = NULL;
	t->pid_count = t->pid_capacity = 0;
	free(t->cache_paths);
	t->cache_paths = NULL;
	t->cache_path_count = t->cache_path_capacity = 0;
}

int cli_targets_paths(struct cli_targets *t, int argc, char **argv, const char *command)
{
	if (optind < argc && !t->page_cache) {
		cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	for (int i = optind; i < argc; i++) {
		if (!argv[i][0]) {
			cli_usage_error(command, "invalid --page-cache path: empty");
			return -1;
		}
		add_cache_path(t, argv[i]);
	}
	return 0;
}

void cli_page_cache_help(FILE *out)
{
	fputs("      --page-cache [PATH...]  the page cache of the files below each PATH\n"
	      "                        (the arguments after the options, or --page-cache=PATH);\n"
	      "                        without PATH every local disk-backed or tmpfs mount\n", out);
}

/*
 * Check that each --page-cache PATH exists before anything is scanned: the
 * walk skips what it cannot read below a PATH, but a PATH that is missing
 * altogether is a mistake the user should hear of, with exit status 2.
 */
static int check_cache_paths(const struct cli_targets *t)
{
	struct stat st;

	for (size_t i = 0; i < t->cache_path_count; i++) {
		if (stat(t->cache_paths[i], &st) < 0) {
			cli_warn("cannot read --page-cache path '%s': %s", t->cache_paths[i],
				 strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	return 0;
}

/*
 * Leave out each --pid that names no process, with a warning, so that the
 * other targets are still scanned; the command then exits with status 2.
 */
static void drop_missing_pids(struct cli_targets *t, const char *sysroot)
{
	size_t kept = 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < t->pid_count; i++) {
		snprintf(path, sizeof(path), "%s/proc/%d", sysroot ? sysroot : "", (int)t->pids[i]);
		if (access(path, F_OK) == 0) {
			t->pids[kept++] = t->pids[i];
			continue;
		}
		cli_warn("no such process: %d; left out", (int)t->pids[i]);
		t->missing_pids++;
	}
	t->pid_count = kept;
}

/* A --sysroot that is not a directory would make every target look missing. */
static int check_sysroot(const char *sysroot)
{
	struct stat st;

	if (!sysroot || !sysroot[0])
		return 0;
	if (stat(sysroot, &st) < 0) {
		cli_warn("invalid --sysroot '%s': %s", sysroot, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_warn("invalid --sysroot '%s': not a directory", sysroot);
		return EXIT_RUNTIME;
	}
	return 0;
}

int cli_resolve_targets(struct cli_targets *t, const char *sysroot, pid_t **pids,
			size_t *count)
{
	struct mp_error error = { 0 };
	struct mp_targets targets;
	bool had_pids = t->pid_count > 0;
	int rc;

	*pids = NULL;
	*count = 0;
	if (check_sysroot(sysroot))
		return EXIT_RUNTIME;
	if (t->page_cache && check_cache_paths(t))
		return EXIT_RUNTIME;
	drop_missing_pids(t, sysroot);
	if (had_pids && !t->pid_count && !t->all && !t->comm && !t->cgroup && !t->page_cache) {
		cli_warn("no process matches the targets");
		return EXIT_RUNTIME;
	}
	if (t->page_cache && !t->pid_count && !t->all && !t->comm && !t->cgroup)
		return 0;	/* the page cache alone */
	cli_targets_get(t, &targets);
	rc = mp_targets_resolve(&targets, sysroot, pids, count, &error);
	if (rc < 0)
		return cli_report_error(&error, rc);
	if (*count == 0) {
		free(*pids);
		*pids = NULL;
		cli_warn("no process matches the targets");
		return EXIT_RUNTIME;
	}
	return 0;
}

void cli_targets_help(FILE *out)
{
	fputs("Targets (at least one; they add up):\n"
	      "  -p, --pid PID         the process PID (repeatable)\n"
	      "  -a, --all             every user process (kernel threads are skipped)\n"
	      "      --comm NAME       processes whose /proc/PID/comm is NAME exactly\n"
	      "      --cgroup PATH     processes of the cgroup v2 PATH\n", out);
}

int cli_hash_option(struct cli_hash *h, int opt, const char *arg, const char *command)
{
	switch (opt) {
	case 'H':
	case CLI_OPT_HASH:
		h->id = mp_hash_lookup(arg);
		if (h->id == MP_HASH_NONE) {
			cli_usage_error(command, "unknown --hash algorithm '%s': expected pattern, "
					"superfast, crc32, crc32ex, crc32c, md5, sha1, sha256, xxh64, "
					"xxh3 or xxh128", arg);
			return -1;
		}
		return 1;
	case CLI_OPT_HASH_KEY:
		h->key_path = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_hash_check(const struct cli_hash *h, const char *command)
{
	enum mp_hash_id id = h->id ? h->id : MP_HASH_DEFAULT;

	if (h->key_path && !mp_hash_keyable(id)) {
		cli_usage_error(command, "--hash-key needs a keyed hash (xxh3, xxh128, xxh64, md5, "
				"sha1 or sha256), not %s", mp_hash_name(id));
		return -1;
	}
	return 0;
}

int cli_hash_load_key(struct cli_hash *h)
{
	uint8_t buffer[HASH_KEY_MAX + 1];
	ssize_t n;
	int fd;

	if (!h->key_path)
		return 0;
	fd = open(h->key_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_warn("cannot open hash key %s: %s", h->key_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	n = read(fd, buffer, sizeof(buffer));
	close(fd);
	if (n < 0) {
		cli_warn("cannot read hash key %s: %s", h->key_path, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (n == 0 || n > HASH_KEY_MAX) {
		cli_warn("invalid hash key %s: expected 1 to %d bytes", h->key_path, HASH_KEY_MAX);
		return EXIT_RUNTIME;
	}
	h->key = malloc((size_t)n);
	if (!h->key) {
		cli_warn("out of memory");
		return EXIT_RUNTIME;
	}
	memcpy(h->key, buffer, (size_t)n);
	h->key_size = (size_t)n;
	/* The key is a secret: do not leave a copy on the stack. */
	explicit_bzero(buffer, sizeof(buffer));
	return 0;
}

void cli_hash_free(struct cli_hash *h)
{
	if (h->key)
		explicit_bzero(h->key, h->key_size);
	free(h->key);
	h->key = NULL;
	h->key_size = 0;
}

void cli_hash_help(FILE *out)
{
	fputs("Page hash:\n"
	      "  -H, --hash ALG        page hash: pattern, superfast, crc32, crc32ex, crc32c,\n"
	      "                        md5, sha1, sha256, xxh64, xxh3 (default) or xxh128\n"
	      "      --hash-key FILE   key the hash with the bytes of FILE (1 to 4096), so that\n"
	      "                        digests do not reveal low-entropy page contents\n", out);
}

/* Parse --by; -1 after printing a usage error. */
int cli_parse_view(const char *arg, const char *command, enum mp_output_view *view)
{
	if (!strcmp(arg, "task"))
		*view = MP_VIEW_TASK;
	else if (!strcmp(arg, "file"))
		*view = MP_VIEW_FILE;
	else if (!strcmp(arg, "kind"))
		*view = MP_VIEW_KIND;
	else {
		cli_usage_error(command, "invalid --by value '%s': expected task, file or kind",
				arg);
		return -1;
	}
	return 0;
}

/* Exit status for the tasks of a report: 2 when one could not be read. */
int cli_report_status(const struct mp_report *report)
{
	for (size_t i = 0; i < report->task_count; i++) {
		if (report->tasks[i].status == MP_TASK_FAILED)
			return EXIT_RUNTIME;
	}
	return 0;
}

int cli_getopt_error(const char *command, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return cli_usage_error(command, "option '%s' needs an argument", arg);
	if (optopt > 0 && optopt < 0x80 && arg[0] == '-' && arg[1] != '-')
		return cli_usage_error(command, "unknown option '-%c'", optopt);
	return cli_usage_error(command, "unknown option '%s'", arg);
}

/* ---------------------------------------------------------- scan feedback */

static bool progress_shown;

void cli_scan_warn(void *ctx, const char *message)
{
	(void)ctx;
	cli_progress_done();
	cli_warn("%s", message);
}

void cli_scan_progress(void *ctx, uint64_t pages_done, uint64_t tasks_done,
		       uint64_t tasks_total)
{
	(void)ctx;
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\rmemprint: %llu of %llu tasks, %llu pages", (unsigned long long)tasks_done,
		(unsigned long long)tasks_total, (unsigned long long)pages_done);
	progress_shown = true;
}

void cli_progress_done(void)
{
	if (!progress_shown)
		return;
	/* Clear the progress line (ANSI erase to the end of line). */
	fputs("\r\033[K", stderr);
	progress_shown = false;
}

void cli_scan_callbacks(struct mp_scan_options *options)
{
	options->warn = cli_scan_warn;
	options->progress = cli_scan_progress;
}
