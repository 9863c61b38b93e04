// SPDX-License-Identifier: MIT
/* pyprobe top PID: where the CPU time goes, by Python function and line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "pyprobe/ctl.h"
#include "cli.h"

static const char help[] =
	"Usage: pyprobe top PID [--seconds N] [--limit N] [--json]\n"
	"Sample process PID's threads while they run on a CPU for N seconds and list\n"
	"the hottest Python functions (by self and total samples) and lines, with the\n"
	"share of samples holding the GIL, in native code, in kernel I/O and in GC.\n\n"
	"  -n, --seconds N   length of the sampling window (default 2, 0.1-3600)\n"
	"  -l, --limit N     rows per table (default 20, 1-1000)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

static void print_human(json_t *r)
{
	json_t *prof = json_object_get(r, "profile");
	json_t *share = json_object_get(prof, "share"), *row;
	long long samples = json_integer_value(json_object_get(prof, "samples"));
	size_t i;

	if (!cli_print_sampled_header(r, samples))
		return;
	printf("samples: %.0f%% holding the GIL, %.0f%% native without it, %.0f%% kernel I/O, %.0f%% in GC, "
	       "%lld without Python frames\n", 100 * cli_num(share, "gil"), 100 * cli_num(share, "native"),
	       100 * cli_num(share, "kernel_io"), 100 * cli_num(share, "gc"),
	       json_integer_value(json_object_get(prof, "no_python_samples")));
	printf("threads waited for the GIL %.2f s (%.0f%% of thread time)\n",
	       cli_num(json_object_get(r, "gil_wait"), "seconds"),
	       100 * cli_num(json_object_get(r, "gil_wait"), "share_of_thread_time"));
	printf("\nfunctions by self samples:\n  %6s %6s  %s\n", "SELF%", "TOTAL%", "FUNCTION (FILE:LINE)");
	json_array_foreach(json_object_get(prof, "functions_by_self"), i, row)
		printf("  %6.1f %6.1f  %s (%s:%lld)\n", 100 * cli_num(row, "self_share"), 100 * cli_num(row, "total_share"),
		       json_string_value(json_object_get(row, "function")), json_string_value(json_object_get(row, "file")),
		       json_integer_value(json_object_get(row, "line")));
	printf("\nnative leaves (where the CPU was in machine code):\n  %6s  %s\n", "SELF%", "FUNCTION  OBJECT (KIND)");
	json_array_foreach(json_object_get(prof, "native_leaves"), i, row)
		printf("  %6.1f  %s  %s (%s)\n", 100 * cli_num(row, "share"),
		       json_string_value(json_object_get(row, "symbol")) ?: "?", json_string_value(json_object_get(row, "object")),
		       json_string_value(json_object_get(row, "kind")));
	printf("\nlines by self samples:\n  %6s %6s  %s\n", "SELF%", "TOTAL%", "FILE:LINE (FUNCTION)");
	json_array_foreach(json_object_get(prof, "lines"), i, row)
		printf("  %6.1f %6.1f  %s:%lld (%s)\n", 100 * cli_num(row, "self_share"), 100 * cli_num(row, "total_share"),
		       json_string_value(json_object_get(row, "file")), json_integer_value(json_object_get(row, "line")),
		       json_string_value(json_object_get(row, "function")));
}

int cmd_top(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_LIMIT, print_human);
}
