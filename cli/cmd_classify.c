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
	"Usage: pyprobe classify PID [--seconds N] [--tree [--max-tree N]] [--json]\n"
	"       pyprobe classify --unit NAME | --cgroup PATH [--max-tree N] [--seconds N] [--json]\n"
	"Observe process PID for N seconds and say why it is slow: io-bound,\n"
	"cpu-bound-python, cpu-bound-native, gil-contended, bursty, idle or mixed,\n"
	"with how busy it was, each thread's role (cpu-python, cpu-native, io,\n"
	"gil-starved, lock-wait, waiting-on-process, idle), who held the GIL while\n"
	"others waited, and advice. The process is not restarted or modified.\n\n"
	"  -n, --seconds N   length of the observation window (default 2, 0.1-3600)\n"
	"      --tree        PID and all of its descendants in one window (a server's\n"
	"                    master and workers, a pool and its children; processes\n"
	"                    that start during the window join it): a row per process\n"
	"                    and a verdict for the whole; non-Python ones are listed\n"
	"      --unit NAME   every process of a systemd unit (web.service, or a slice's\n"
	"                    units), as a tree: a row each and a verdict for the whole\n"
	"      --cgroup PATH every process in a cgroup or below it, or in those a glob\n"
	"                    matches (/system.slice/docker-ID.scope, /kubepods/*)\n"
	"      --max-tree N  observe at most N processes (1-1024; default: the daemon's\n"
	"                    max-tree, 64)\n"
	"  -j, --json        print the daemon's reply as JSON (docs/protocol.md)\n"
	"  -h, --help        this help\n";

#define NB (sizeof(pp_bucket_names) / sizeof(pp_bucket_names[0]))
#define MAX_ROWS 40
/* Past this many threads, the table is preceded by one line per (name, role) group. */
#define GROUP_FROM 12

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

/* "busy: 45% (thread 4242 python3), bursts of 700 ms every 1.6 s" */
static void print_busy(json_t *v)
{
	const char *pat = cli_str(v, "pattern");
	json_t *tid = json_object_get(v, "deciding_tid");
	json_t *peers = json_object_get(v, "waiting_on");
	size_t i;
	json_t *p;

	if (json_is_integer(tid)) {
		printf("busy: %.0f%% of the window (thread %lld)", 100 * cli_num(v, "utilization"),
		       json_integer_value(tid));
		if (!strcmp(pat, "bursts") && cli_num(v, "burst_every_ms") > 0)
			printf(", bursts of %.0f ms every %.0f ms", cli_num(v, "burst_ms"), cli_num(v, "burst_every_ms"));
		else if (!strcmp(pat, "bursts"))
			printf(", bursts of %.0f ms (too few to tell how often)", cli_num(v, "burst_ms"));
		else
			printf(", %s", pat);
		printf("\n");
	}
	if (json_array_size(peers)) {
		printf("waits on:");
		json_array_foreach(peers, i, p)
			printf("%s pid %lld (%s) %.1f s", i ? "," : "", json_integer_value(json_object_get(p, "pid")),
			       cli_str(p, "comm"), cli_num(p, "seconds"));
		printf("\n");
	}
}

/* The thread that held the GIL while others waited, and what it did meanwhile. */
static void print_holder(json_t *gil)
{
	json_t *h = json_array_get(json_object_get(gil, "holders"), 0), *wh, *b;
	const char *sep = "";
	const char *k;
	json_t *val;

	if (!h || cli_num(h, "seconds") <= 0)
		return;
	wh = json_object_get(h, "while");
	if (json_integer_value(json_object_get(h, "tid")))
		printf("GIL held by: thread %lld (%s), %.2f s of the others' wait:", json_integer_value(json_object_get(h, "tid")),
		       cli_str(h, "name"), cli_num(h, "seconds"));
	else
		printf("GIL in hand-over (free or unknown holder): %.2f s of the waits:", cli_num(h, "seconds"));
	json_object_foreach(wh, k, val) {
		double x = json_real_value(val);

		if (x <= 0.005 * cli_num(h, "seconds"))
			continue;
		printf("%s %s %.0f%%", sep, k, 100 * x / cli_num(h, "seconds"));
		sep = ",";
	}
	b = json_object_get(h, "blocked_in");
	if (b && json_is_string(json_object_get(b, "syscall")))
		printf(" (blocked in %s)", cli_str(b, "syscall"));
	printf("\n");
}

/* One line per group of threads with the same name and role: "64 x worker: io 93%". */
static void print_groups(json_t **rows, size_t n, double win)
{
	bool *done = calloc(n, sizeof(*done));

	if (!done)
		return;
	printf("thread groups:\n");
	for (size_t i = 0; i < n; i++) {
		const char *name = cli_str(rows[i], "name"), *role = cli_str(json_object_get(rows[i], "role"), "name");
		double share = 0, util = 0;
		size_t count = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < n; j++) {
			json_t *rj = json_object_get(rows[j], "role");

			if (done[j] || strcmp(name, cli_str(rows[j], "name")) || strcmp(role, cli_str(rj, "name")))
				continue;
			done[j] = true;
			count++;
			share += cli_num(rj, "share");
			util += cli_num(rows[j], "utilization");
		}
		printf("  %4zu x %-15.15s %s %.0f%%, busy %.0f%%\n", count, name, role, 100 * share / count,
		       100 * util / count);
	}
	free(done);
	(void)win;
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
	print_busy(v);
	print_lines("why:", json_object_get(v, "reasons"));
	print_lines("advice:", json_object_get(v, "advice"));
	printf("GIL: %.2f s waited (acquire %.2f s in %lld waits, forced hand-off %.2f s in %lld)\n",
	       cli_num(gil, "wait_seconds"), cli_num(gil, "acquire_seconds"),
	       json_integer_value(json_object_get(gil, "acquire_waits")), cli_num(gil, "handoff_seconds"),
	       json_integer_value(json_object_get(gil, "handoff_waits")));
	print_holder(gil);
	if (json_integer_value(json_object_get(cpu, "samples")))
		printf("CPU: %.2f s on CPU; %lld samples at %lld Hz, %.0f%% running Python with the GIL\n",
		       cli_num(cpu, "oncpu_seconds"), json_integer_value(json_object_get(cpu, "samples")),
		       json_integer_value(json_object_get(cpu, "sample_hz")), 100 * cli_num(cpu, "python_share"));
	else
		printf("CPU: %.2f s on CPU; no samples taken\n", cli_num(cpu, "oncpu_seconds"));
	if (!rows || !n)
		goto out;
	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(threads, i);
	qsort(rows, n, sizeof(*rows), by_busy);
	if (n >= GROUP_FROM)
		print_groups(rows, n, win);
	printf("threads (%% of the window):\n%8s %-15s %-18s", "TID", "NAME", "ROLE");
	for (size_t b = 0; b < NB; b++)
		printf(" %5s", pp_bucket_short[b]);
	printf("  python\n");
	for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
		json_t *t = rows[i], *sec = json_object_get(t, "seconds"), *smp = json_object_get(t, "samples");
		long long g = json_integer_value(json_object_get(smp, "gil"));
		long long ng = json_integer_value(json_object_get(smp, "nogil"));

		printf("%8lld %-15.15s %-18s", json_integer_value(json_object_get(t, "tid")),
		       json_string_value(json_object_get(t, "name")),
		       cli_str(json_object_get(t, "role"), "name"));
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

/* classify --tree: the service verdict, then a row per process. */
static void print_tree(json_t *r)
{
	json_t *svc = json_object_get(r, "service"), *p;
	size_t i;

	cli_print_tree_header(r);
	printf("service: %s (%s)\n", cli_str(svc, "label"), cli_str(svc, "summary"));
	print_lines("why:", json_object_get(svc, "reasons"));
	print_lines("advice:", json_object_get(svc, "advice"));
	printf("%8s %8s %-15s %-18s %5s %5s  %s\n", "PID", "PPID", "COMMAND", "LABEL", "CONF", "CPU%", "TOP REASON");
	json_array_foreach(json_object_get(r, "processes"), i, p) {
		double win = cli_num(p, "window_seconds");

		if (!cli_print_tree_row(p))
			continue;
		printf("%-18s %5.2f %4.0f%%  %s", cli_str(p, "label"), cli_num(p, "confidence"),
		       win > 0 ? 100 * cli_num(p, "cpu_seconds") / win : 0.0,
		       json_is_string(json_object_get(p, "reason")) ? cli_str(p, "reason") : "");
		cli_print_tree_joined(p);
	}
}

static void print_reply(json_t *r)
{
	if (json_object_get(r, "processes"))
		print_tree(r);
	else
		print_human(r);
}

int cmd_classify(const struct cli *cli, int argc, char **argv)
{
	return cli_window_cmd(cli, argc, argv, help, WIN_TREE, print_reply);
}
