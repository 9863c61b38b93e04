// SPDX-License-Identifier: MIT
/* pyprobe classify PID: the verdict, the evidence per thread, the advice. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pyprobe/buckets.h"
#include "pyprobe/ctl.h"
#include "cli.h"

static const char help[] =
	"Usage: pyprobe classify PID [--seconds N] [--json]\n"
	"Observe process PID for N seconds and say why it is slow: io-bound,\n"
	"cpu-bound-python, cpu-bound-native, gil-contended, idle or mixed, with the\n"
	"evidence per thread and advice. The process is not restarted or modified.\n\n"
	"  -n, --seconds N   length of the observation window (default 2, 0.1-3600)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

#define NB (sizeof(pp_bucket_names) / sizeof(pp_bucket_names[0]))
#define MAX_ROWS 40

static void print_lines(const char *title, json_t *a)
{
	size_t i;
	json_t *s;

	if (!json_array_size(a))
		return;
	printf("%s\n", title);
	json_array_foreach(a, i, s)
		printf("  - %s\n", json_string_value(s));
}

static double thread_busy(json_t *t)
{
	json_t *sec = json_object_get(t, "seconds");

	return cli_num(sec, "oncpu") + cli_num(sec, "runqueue") + cli_num(sec, "gil_wait");
}

static int by_busy(const void *a, const void *b)
{
	double x = thread_busy(*(json_t *const *)a), y = thread_busy(*(json_t *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

static void print_human(json_t *r)
{
	json_t *py = json_object_get(r, "python"), *v = json_object_get(r, "verdict");
	json_t *gil = json_object_get(r, "gil"), *cpu = json_object_get(r, "cpu");
	json_t *threads = json_object_get(r, "threads");
	double win = cli_num(r, "window_seconds");
	size_t n = json_array_size(threads);
	json_t **rows = calloc(n ? n : 1, sizeof(*rows));

	printf("pid %lld: CPython %s (%s), %.1f s window\n", json_integer_value(json_object_get(r, "pid")),
	       json_string_value(json_object_get(py, "version")), json_string_value(json_object_get(py, "build")),
	       win);
	printf("verdict: %s (confidence %.2f)\n", json_string_value(json_object_get(v, "label")),
	       cli_num(v, "confidence"));
	if (json_array_size(json_object_get(v, "traits"))) {
		size_t i;
		json_t *t;

		printf("traits:");
		json_array_foreach(json_object_get(v, "traits"), i, t)
			printf(" %s", json_string_value(t));
		printf("\n");
	}
	print_lines("why:", json_object_get(v, "reasons"));
	print_lines("advice:", json_object_get(v, "advice"));
	printf("GIL: %.2f s waited (acquire %.2f s in %lld waits, forced hand-off %.2f s in %lld)\n",
	       cli_num(gil, "wait_seconds"), cli_num(gil, "acquire_seconds"),
	       json_integer_value(json_object_get(gil, "acquire_waits")), cli_num(gil, "handoff_seconds"),
	       json_integer_value(json_object_get(gil, "handoff_waits")));
	printf("CPU: %.2f s on CPU; %lld samples at %lld Hz, %.0f%% running Python with the GIL\n",
	       cli_num(cpu, "oncpu_seconds"), json_integer_value(json_object_get(cpu, "samples")),
	       json_integer_value(json_object_get(cpu, "sample_hz")), 100 * cli_num(cpu, "python_share"));
	if (!rows || !n)
		goto out;
	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(threads, i);
	qsort(rows, n, sizeof(*rows), by_busy);
	printf("threads (%% of the window):\n%8s %-15s", "TID", "NAME");
	for (size_t b = 0; b < NB; b++)
		printf(" %5s", pp_bucket_short[b]);
	printf("  python\n");
	for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
		json_t *t = rows[i], *sec = json_object_get(t, "seconds"), *smp = json_object_get(t, "samples");
		long long g = json_integer_value(json_object_get(smp, "gil"));
		long long ng = json_integer_value(json_object_get(smp, "nogil"));

		printf("%8lld %-15.15s", json_integer_value(json_object_get(t, "tid")),
		       json_string_value(json_object_get(t, "name")));
		for (size_t b = 0; b < NB; b++) {
			double p = win > 0 ? 100 * cli_num(sec, pp_bucket_names[b]) / win : 0;

			if (p < 0.05)
				printf(" %5s", ".");
			else
				printf(" %5.1f", p);
		}
		if (g + ng)
			printf("  %5.0f%%", 100.0 * g / (g + ng));
		else
			printf("  %6s", "-");
		printf("%s\n", json_is_true(json_object_get(t, "exited")) ? "  (exited)" : "");
	}
	if (n > MAX_ROWS)
		printf("  ... %zu more threads (--json shows all)\n", n - MAX_ROWS);
out:
	free(rows);
}

int cmd_classify(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, false, print_human);
}
