// SPDX-License-Identifier: MIT
/* pyprobe attrs PID: where the CPU time goes in attribute and global lookups. */
#include <stdio.h>
#include "cli.h"

static const char help[] =
	"Usage: pyprobe attrs PID [--seconds N] [--limit N] [--json]\n"
	"Sample process PID's threads for N seconds and find the attribute lookups\n"
	"they spend CPU time on: obj.name loads, method loads, stores, deletes and\n"
	"global/builtin lookups, from the instruction each sampled Python frame is\n"
	"executing, plus native attribute-lookup functions (getattr(), C code).\n"
	"Each spot says whether caching it in a local before its loop would pay:\n"
	"the same name looked up on every iteration with a receiver that does not\n"
	"change inside the loop.\n\n"
	"  -n, --seconds N   length of the sampling window (default 2, 0.1-3600)\n"
	"  -l, --limit N     spots listed (default 20, 1-1000)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

static void print_human(json_t *r)
{
	json_t *a = json_object_get(r, "attrs"), *row;
	long long samples = json_integer_value(json_object_get(a, "samples"));
	size_t i;

	if (!cli_print_sampled_header(r, samples))
		return;
	printf("attribute lookups: %.1f%% of CPU samples (%lld: %lld from bytecode, %lld in native lookup "
	       "functions)\n", 100 * cli_num(a, "share"),
	       json_integer_value(json_object_get(a, "attr_samples")),
	       json_integer_value(json_object_get(a, "bytecode_samples")),
	       json_integer_value(json_object_get(a, "native_samples")));
	if (!json_array_size(json_object_get(a, "spots")))
		return;
	printf("\n  %6s  %-12s %-32s %s\n", "CPU%", "OP", "LOOKUP", "FILE:LINE (FUNCTION)");
	json_array_foreach(json_object_get(a, "spots"), i, row) {
		const char *recv = json_string_value(json_object_get(row, "receiver"));
		const char *name = json_string_value(json_object_get(row, "name"));
		char what[160];

		if (json_object_get(row, "native_function"))
			snprintf(what, sizeof(what), "%s()", cli_str(row, "native_function"));
		else
			snprintf(what, sizeof(what), "%s%s%s", recv ? recv : "", recv ? "." : "", name ? name : "?");
		printf("  %6.1f  %-12s %-32s %s:%lld (%s)\n", 100 * cli_num(row, "share"), cli_str(row, "op"),
		       what, cli_str(row, "file"), json_integer_value(json_object_get(row, "line")),
		       cli_str(row, "function"));
		printf("  %6s  %s%s\n", "", json_is_true(json_object_get(row, "cache_in_local")) ? "CACHE: " : "",
		       cli_str(row, "advice"));
	}
}

int cmd_attrs(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_LIMIT, print_human);
}
