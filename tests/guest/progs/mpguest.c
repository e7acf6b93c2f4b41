// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mpguest.c - the checks of the guest suite, one per subcommand
 */
#include <stdio.h>
#include <string.h>

#include "guest.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} checks[] = {
	{ "compare", check_compare },
	{ "hash", check_hash },
	{ "text", check_text },
	{ "physical", check_physical },
	{ "pagecache", check_pagecache },
	{ "pagecache-mount", check_pagecache_mount },
	{ "ksm", check_ksm },
	{ "swap", check_swap },
	{ "stress", check_stress },
	{ "nocap", check_nocap },
	{ "busy", check_busy },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!strcmp(argv[1], checks[i].name))
			return checks[i].run(argc, argv);
	fprintf(stderr, "usage: mpguest CHECK [ARGS]\n");
	return 2;
}
