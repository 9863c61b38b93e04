// SPDX-License-Identifier: MIT
/* pyprobe top PID: where the CPU time goes, by Python function and line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "pyprobe/ctl.h"
#include "cli.h"

static const char help[] =
	"Usage: pyprobe top PID [--seconds N] [--limit N] [--tree [--max-tree N]] [--json]\n"
	"       pyprobe top --unit NAME | --cgroup PATH [--max-tree N] [--seconds N] [--limit N] [--json]\n"
	"Sample process PID's threads while they run on a CPU for N seconds and list\n"
	"the hottest Python functions (by self and total samples) and lines, with the\n"
	"share of samples holding the GIL, in native code, in kernel I/O and in GC.\n\n"
	"  -n, --seconds N   length of the sampling window (default 2, 0.1-3600)\n"
	"  -l, --limit N     rows per table (default 20, 1-1000)\n"
	"      --tree        PID and all of its Python descendants: a row per process\n"
	"                    and the hottest functions of all their samples together\n"
	"      --unit NAME   every process of a systemd unit, the same way\n"
	"      --cgroup PATH every process in a cgroup or below it (a glob may match several)\n"
	"      --max-tree N  observe at most N processes (1-1024; default: the daemon's\n"
	"                    max-tree, 64)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

/* The sampled tables of a profile (one process's, or a tree's together). */
static void print_profile(json_t *prof, json_t *gil_wait)
{
	json_t *share = json_object_get(prof, "share"), *row;
	size_t i;

	printf("samples: %.0f%% holding the GIL, %.0f%% native without it, %.0f%% kernel I/O, %.0f%% in GC, "
	       "%lld without Python frames\n", 100 * cli_num(share, "gil"), 100 * cli_num(share, "native"),
	       100 * cli_num(share, "kernel_io"), 100 * cli_num(share, "gc"),
	       json_integer_value(json_object_get(prof, "no_python_samples")));
	printf("threads waited for the GIL %.2f s (%.0f%% of thread time)\n", cli_num(gil_wait, "seconds"),
	       100 * cli_num(gil_wait, "share_of_thread_time"));
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

/* top --tree: a row per process, then the tables of all their samples together. */
static void print_tree(json_t *r)
{
	json_t *prof = json_object_get(r, "profile"), *p, *hot;
	long long all = json_integer_value(json_object_get(prof, "samples"));
	size_t i;

	cli_print_tree_header(r);
	printf("%lld samples at %lld Hz in all\n", all, json_integer_value(json_object_get(r, "sample_hz")));
	printf("%8s %8s %-15s %7s %6s %8s  %s\n", "PID", "PPID", "COMMAND", "SAMPLES", "SHARE", "GIL-WAIT",
	       "HOTTEST (SELF% OF ITS SAMPLES)");
	json_array_foreach(json_object_get(r, "processes"), i, p) {
		long long n = json_integer_value(json_object_get(p, "samples"));

		if (!cli_print_tree_row(p))
			continue;
		hot = json_object_get(p, "hottest");
		printf("%7lld %5.1f%% %7.2fs  ", n, all ? 100.0 * n / all : 0.0, cli_num(p, "gil_wait_seconds"));
		if (json_is_object(hot))
			printf("%s (%s:%lld) %.0f%%", cli_str(hot, "function"), cli_str(hot, "file"),
			       json_integer_value(json_object_get(hot, "line")), 100 * cli_num(hot, "self_share"));
		else
			printf("-");
		cli_print_tree_joined(p);
	}
	if (!all) {
		printf("no samples: no process ran on a CPU in the window\n");
		return;
	}
	printf("\nall processes together:\n");
	print_profile(prof, json_object_get(r, "gil_wait"));
}

static void print_human(json_t *r)
{
	json_t *prof = json_object_get(r, "profile");

	if (json_object_get(r, "processes")) {
		print_tree(r);
		return;
	}
	if (!cli_print_sampled_header(r, json_integer_value(json_object_get(prof, "samples"))))
		return;
	print_profile(prof, json_object_get(r, "gil_wait"));
}

int cmd_top(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_LIMIT | WIN_TREE, print_human);
}
