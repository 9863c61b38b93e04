// SPDX-License-Identifier: MIT
/* pyprobe churn PID: the CPU time spent allocating and freeing objects, and where. */
#include <stdio.h>
#include "cli.h"

static const char help[] =
	"Usage: pyprobe churn PID [--seconds N] [--limit N] [--json]\n"
	"Sample process PID's threads for N seconds and measure the share of CPU\n"
	"time spent creating and destroying objects: the allocator, the types'\n"
	"deallocators, free lists and the garbage collector's link/unlink paths,\n"
	"with the native functions and the Python lines responsible. On a build\n"
	"that inlined its allocator into the callers (LTO) the share is a lower\n"
	"bound.\n\n"
	"  -n, --seconds N   length of the sampling window (default 2, 0.1-3600)\n"
	"  -l, --limit N     rows per table (default 20, 1-1000)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

static void print_human(json_t *r)
{
	json_t *c = json_object_get(r, "churn"), *row;
	json_t *roles = json_object_get(c, "by_role");
	long long samples = json_integer_value(json_object_get(c, "samples"));
	size_t i;

	if (!cli_print_sampled_header(r, samples))
		return;
	printf("object churn: %.1f%% of CPU samples (allocating %.1f%%, freeing %.1f%%, GC linking %.1f%%)\n",
	       100 * cli_num(c, "share"), 100 * cli_num(json_object_get(roles, "alloc"), "share"),
	       100 * cli_num(json_object_get(roles, "free"), "share"),
	       100 * cli_num(json_object_get(roles, "gc-link"), "share"));
	if (!json_array_size(json_object_get(c, "functions")))
		return;
	printf("\nfunctions:\n  %6s  %-8s %s\n", "CPU%", "ROLE", "FUNCTION  OBJECT");
	json_array_foreach(json_object_get(c, "functions"), i, row)
		printf("  %6.1f  %-8s %s  %s\n", 100 * cli_num(row, "share"), cli_str(row, "role"),
		       cli_str(row, "symbol"), cli_str(row, "object"));
	printf("\nPython lines:\n  %6s  %s\n", "CPU%", "FILE:LINE (FUNCTION)");
	json_array_foreach(json_object_get(c, "lines"), i, row)
		printf("  %6.1f  %s:%lld (%s)\n", 100 * cli_num(row, "share"), cli_str(row, "file"),
		       json_integer_value(json_object_get(row, "line")), cli_str(row, "function"));
}

int cmd_churn(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_LIMIT, print_human);
}
