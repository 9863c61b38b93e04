// SPDX-License-Identifier: MIT
/* pyprobe gc PID: how often the garbage collector stops the process, and for how long. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "pyprobe/ctl.h"
#include "cli.h"

static const char help[] =
	"Usage: pyprobe gc PID [--seconds N] [--tree [--max-tree N]] [--json]\n"
	"       pyprobe gc --unit NAME | --cgroup PATH [--max-tree N] [--seconds N] [--json]\n"
	"Observe process PID for N seconds and report its garbage collections per\n"
	"generation: count, pause total and percentiles, objects collected, share of\n"
	"wall time, and a histogram of pause lengths.\n\n"
	"Pauses are timed exactly with the interpreter's USDT probes or uprobes on the\n"
	"collector; above pyprobed --gc-max-rate collections/s they are estimated from\n"
	"CPU samples instead, and the output says so.\n\n"
	"  -n, --seconds N   length of the observation window (default 2, 0.1-3600)\n"
	"      --tree        PID and all of its Python descendants: a row per process\n"
	"                    and their collections together\n"
	"      --unit NAME   every process of a systemd unit, the same way\n"
	"      --cgroup PATH every process in a cgroup or below it (a glob may match several)\n"
	"      --max-tree N  observe at most N processes (1-1024; default: the daemon's\n"
	"                    max-tree, 64)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

static long long integer(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void print_gen(const char *name, json_t *g, bool timed)
{
	printf("  %-5s %11lld %7lld", name, integer(g, "collections"), integer(g, "timed"));
	if (timed)
		printf(" %10.4f %8.3f %8.3f %8.3f %8.3f", cli_num(g, "pause_seconds"), cli_num(g, "p50_ms"), cli_num(g, "p95_ms"),
		       cli_num(g, "p99_ms"), cli_num(g, "max_ms"));
	else
		printf(" %10s %8s %8s %8s %8s", "-", "-", "-", "-", "-");
	printf(" %10lld\n", integer(g, "collected"));
}

/* gc --tree: the collections of all, then a row per process. */
static void print_tree(json_t *r)
{
	json_t *gc = json_object_get(r, "gc"), *p;
	size_t i;

	cli_print_tree_header(r);
	printf("GC: %lld collections in all, paused %.4f s = %.2f%% of the processes' time",
	       integer(gc, "collections"), cli_num(gc, "pause_seconds"), 100 * cli_num(gc, "share_of_process_time"));
	if (json_is_integer(json_object_get(gc, "max_pid")))
		printf("; longest pause %.3f ms in %lld", cli_num(gc, "max_ms"), integer(gc, "max_pid"));
	printf("\n%8s %8s %-15s %11s %10s %7s %8s  %s\n", "PID", "PPID", "COMMAND", "COLLECTIONS", "PAUSE s", "WALL%",
	       "MAX ms", "METHOD");
	json_array_foreach(json_object_get(r, "processes"), i, p) {
		if (!cli_print_tree_row(p))
			continue;
		printf("%11lld ", integer(p, "collections"));
		if (json_is_number(json_object_get(p, "max_ms")))
			printf("%10.4f %6.2f%% %8.3f", cli_num(p, "pause_seconds"), 100 * cli_num(p, "share_of_wall"),
			       cli_num(p, "max_ms"));
		else
			printf("%10s %7s %8s", "-", "-", "-");
		printf("  %s", cli_str(p, "method"));
		cli_print_tree_joined(p);
	}
}

static void print_human(json_t *r)
{
	json_t *py = json_object_get(r, "python"), *gc = json_object_get(r, "gc");
	json_t *gens = json_object_get(gc, "generations"), *hist = json_object_get(gc, "histogram"), *g, *h;
	bool timed = json_object_get(json_object_get(gc, "all"), "pause_seconds") != NULL;
	long long most = 0;
	size_t i;

	if (json_object_get(r, "processes")) {
		print_tree(r);
		return;
	}
	printf("pid %lld: CPython %s (%s), %.1f s window\n", integer(r, "pid"),
	       json_string_value(json_object_get(py, "version")), json_string_value(json_object_get(py, "build")),
	       cli_num(r, "window_seconds"));
	printf("GC: %lld collections, paused %.4f s = %.2f%% of wall time (method: %s)\n",
	       integer(json_object_get(gc, "all"), "collections"), cli_num(gc, "pause_seconds"),
	       100 * cli_num(gc, "share_of_wall"), json_string_value(json_object_get(gc, "method")));
	printf("    %s\n", json_string_value(json_object_get(gc, "note")));
	printf("  %-5s %11s %7s %10s %8s %8s %8s %8s %10s\n", "gen", "collections", "timed", "pause s", "p50 ms",
	       "p95 ms", "p99 ms", "max ms", "collected");
	json_array_foreach(gens, i, g) {
		char name[8];

		snprintf(name, sizeof(name), "%lld", integer(g, "generation"));
		print_gen(name, g, timed);
	}
	print_gen("all", json_object_get(gc, "all"), timed);
	json_array_foreach(hist, i, h)
		if (integer(h, "count") > most)
			most = integer(h, "count");
	if (!most)
		return;
	printf("pause lengths:\n");
	json_array_foreach(hist, i, h) {
		long long n = integer(h, "count"), lo = integer(h, "ge_us");
		int bar = (int)(40.0 * n / most + 0.5);
		char range[32];

		if (!n)
			continue;
		if (i + 1 < json_array_size(hist))
			snprintf(range, sizeof(range), "%lld-%lld us", lo, lo ? 2 * lo : 2);
		else
			snprintf(range, sizeof(range), ">= %lld us", lo);
		printf("  %16s |", range);
		for (int k = 0; k < bar; k++)
			fputs("#", stdout);
		printf(" %lld\n", n);
	}
}

int cmd_gc(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_TREE, print_human);
}
