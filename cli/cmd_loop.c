// SPDX-License-Identifier: MIT
/* pyprobe loop PID: event-loop iterations, stalls and what the loop was doing in them. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char help[] =
	"Usage: pyprobe loop PID [--seconds N] [--threshold MS] [--json]\n"
	"Time every iteration of the event loops in process PID for N seconds\n"
	"(asyncio, selectors, tornado, twisted, gevent: any thread that waits in\n"
	"epoll_wait, poll or select), from its wait returning to the next wait.\n"
	"Shows each loop's iteration lengths (p50, p99, max, a histogram), whether\n"
	"it is stalled (iterations over the threshold), saturated (never back to\n"
	"waiting, every iteration short) or healthy, the stalls in time order with\n"
	"what the loop was doing (Python on CPU and where, native code, or a\n"
	"blocking call and which), and the stall sites by total time.\n\n"
	"  -n, --seconds N     length of the window (default 2, 0.1-3600)\n"
	"      --threshold MS  an iteration this long is a stall (default: pyprobed's\n"
	"                      loop-threshold, 100)\n"
	"  -j, --json          print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help          this help\n";

#define MAX_STALLS 20

static void blocked(json_t *b)
{
	json_t *call = json_object_get(b, "syscall");

	if (json_is_string(call))
		printf("%s in %s()", cli_str(b, "bucket"), json_string_value(call));
	else
		printf("%s", cli_str(b, "bucket"));
}

static void print_human(json_t *r)
{
	json_t *l = json_object_get(r, "loop"), *t, *s;
	json_t *threads = json_object_get(l, "threads"), *stalls = json_object_get(l, "stalls");
	size_t i;

	printf("pid %lld: %.1f s window, stall threshold %lld ms\n", json_integer_value(json_object_get(r, "pid")),
	       cli_num(r, "window_seconds"), json_integer_value(json_object_get(l, "threshold_ms")));
	if (!json_array_size(threads)) {
		printf("no event loop: no thread waited in epoll_wait, poll or select\n");
		return;
	}
	printf("%8s %-15s %-9s %8s %6s %8s %8s %8s %7s\n", "TID", "NAME", "STATE", "ITER/S", "BUSY%", "P50ms", "P99ms",
	       "MAXms", "STALLS");
	json_array_foreach(threads, i, t)
		printf("%8lld %-15.15s %-9s %8.0f %6.1f %8.2f %8.2f %8.1f %7lld\n",
		       json_integer_value(json_object_get(t, "tid")), cli_str(t, "name"), cli_str(t, "state"),
		       cli_num(t, "iterations_per_second"), 100 * cli_num(t, "busy_share"), cli_num(t, "p50_ms"),
		       cli_num(t, "p99_ms"), cli_num(t, "max_ms"), json_integer_value(json_object_get(t, "stalls")));
	if (!json_array_size(stalls)) {
		printf("no stalls\n");
		return;
	}
	printf("\nstalls (%lld, worst %.0f ms):\n", json_integer_value(json_object_get(l, "stalls_total")),
	       cli_num(l, "worst_ms"));
	json_array_foreach(stalls, i, s) {
		if (i == MAX_STALLS) {
			printf("  ... %zu more (--json shows all)\n", json_array_size(stalls) - MAX_STALLS);
			break;
		}
		printf("  at %6.2f s  %7.0f ms  thread %lld  ", cli_num(s, "start_seconds"), cli_num(s, "duration_ms"),
		       json_integer_value(json_object_get(s, "tid")));
		if (!strcmp(cli_str(s, "cause"), "blocking")) {
			printf("blocked: ");
			blocked(json_object_get(s, "blocked_in"));
		} else {
			printf("%s", cli_str(s, "cause"));
			if (json_is_number(json_object_get(s, "oncpu_share")))
				printf(" on CPU %.0f%%", 100 * cli_num(s, "oncpu_share"));
		}
		if (json_is_string(json_object_get(s, "site")))
			printf("  at %s", cli_str(s, "site"));
		if (json_is_string(json_object_get(s, "task")))
			printf("  [%s]", cli_str(s, "task"));
		printf("%s\n", json_is_true(json_object_get(s, "ongoing")) ? "  (under way at the end)" : "");
	}
	printf("\nstall sites:\n  %6s %9s %8s  %s\n", "COUNT", "TOTALms", "MAXms", "WHAT");
	json_array_foreach(json_object_get(l, "sites"), i, s) {
		printf("  %6lld %9.0f %8.0f  ", json_integer_value(json_object_get(s, "count")), cli_num(s, "total_ms"),
		       cli_num(s, "max_ms"));
		if (!strcmp(cli_str(s, "cause"), "blocking")) {
			printf("blocked: ");
			blocked(json_object_get(s, "blocked_in"));
		} else {
			printf("%s", cli_str(s, "cause"));
		}
		printf(" at %s\n", json_is_string(json_object_get(s, "site")) ? cli_str(s, "site") : "(no sample)");
	}
}

int cmd_loop(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_THRESHOLD, print_human);
}
