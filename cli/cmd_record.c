// SPDX-License-Identifier: MIT
/* pyprobe record PID -o FILE: a CPU profile with Python stacks, for flame graphs and pprof. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pyprobe/ctl.h"
#include "cli.h"
#include "export.h"

static const char help[] =
	"Usage: pyprobe record PID -o FILE [--seconds N] [--format F] [--tree [--max-tree N]]\n"
	"       pyprobe record --unit NAME | --cgroup PATH -o FILE [--seconds N] [--format F] [--max-tree N]\n"
	"Sample process PID's threads while they run on a CPU for N seconds and write\n"
	"the Python stacks to FILE ('-' for standard output). If the process exits\n"
	"early, the part recorded so far is written.\n\n"
	"  -o, --output FILE   where to write the profile (required)\n"
	"  -f, --format F      folded (flamegraph.pl, inferno; default), pprof\n"
	"                      (gzip-compressed protobuf: go tool pprof, Pyroscope,\n"
	"                      Parca), speedscope (JSON for speedscope.app) or svg\n"
	"                      (a flame graph to open in a browser)\n"
	"  -n, --seconds N     length of the recording (default 2, 0.1-3600)\n"
	"  -w, --wall          wall-clock time, not only CPU time: every thread's time,\n"
	"                      off CPU too, under the Python stack it waited in and a\n"
	"                      leaf naming why ([gil wait], [net io], [file io], [lock],\n"
	"                      [sleep], [poll], [ipc], [child wait]); weights are\n"
	"                      microseconds (folded, speedscope, svg) or nanoseconds\n"
	"                      of cpu, wall and gil_wait (pprof)\n"
	"      --tree          PID and all of its Python descendants in one profile:\n"
	"                      each stack under a frame for its process (\"COMMAND [PID]\"),\n"
	"                      a pprof label pid instead in pprof\n"
	"      --unit NAME     every process of a systemd unit, the same way\n"
	"      --cgroup PATH   every process in a cgroup or below it\n"
	"      --max-tree N    record at most N processes (1-1024; default: the daemon's\n"
	"                      max-tree, 64)\n"
	"  -h, --help          this help\n";

int cmd_record(const struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 'n' },
		{ "wall", no_argument, NULL, 'w' },
		CLI_TARGET_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	double seconds = PP_CTL_DEFAULT_SECONDS;
	const char *out = NULL, *format = "folded";
	struct cli_target target = {};
	bool wall = false;
	json_t *req, *r, *prof;
	char name[128];
	FILE *f;
	int c, rc, err;

	while ((c = getopt_long(argc, argv, "o:f:n:wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			format = optarg;
			if (strcmp(format, "folded") && strcmp(format, "pprof") && strcmp(format, "speedscope") &&
			    strcmp(format, "svg")) {
				fprintf(stderr, "pyprobe record: unknown format '%s' (folded, pprof, speedscope, svg)\n",
					format);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_seconds("record", optarg, &seconds))
				return EXIT_USAGE;
			break;
		case CLI_OPT_TREE:
		case CLI_OPT_MAX_TREE:
		case CLI_OPT_UNIT:
		case CLI_OPT_CGROUP:
			if (cli_target_option("record", c, optarg, &target))
				return EXIT_USAGE;
			break;
		case 'w':
			wall = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			fputs("Try 'pyprobe record --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (!out) {
		fprintf(stderr, "pyprobe record: expects -o FILE\nTry 'pyprobe record --help'.\n");
		return EXIT_USAGE;
	}
	req = cli_target_request("record", &target, argc - optind, argv + optind, seconds);
	if (!req)
		return EXIT_USAGE;
	if (wall)
		json_object_set_new(req, "wall", json_true());
	r = cli_call_progress(cli, req, (int)(seconds * 1000) + 30000, false, &rc, seconds);
	if (!r)
		return rc;
	prof = json_object_get(r, "profile");
	f = strcmp(out, "-") ? fopen(out, "we") : stdout;
	if (!f) {
		fprintf(stderr, "pyprobe record: cannot write %s: %s\n", out, strerror(errno));
		json_decref(r);
		return EXIT_FAILED;
	}
	if (target.group)
		snprintf(name, sizeof(name), "pyprobe %s %.100s", target.group_kind, target.group);
	else
		snprintf(name, sizeof(name), "pyprobe %s %lld", target.tree ? "process tree of" : "pid",
			 json_integer_value(json_object_get(r, "pid")));
	if (!strcmp(format, "pprof"))
		err = export_pprof(f, prof, (long long)(1e9 / json_integer_value(json_object_get(r, "sample_hz"))),
				   (long long)(1e9 * json_number_value(json_object_get(r, "window_seconds"))));
	else if (!strcmp(format, "speedscope"))
		err = export_speedscope(f, prof, name);
	else if (!strcmp(format, "svg"))
		err = export_svg(f, prof, name);
	else
		err = export_folded(f, prof);
	if (f != stdout && fclose(f))
		err = -1;
	if (err) {
		fprintf(stderr, "pyprobe record: writing %s failed\n", out);
		json_decref(r);
		return EXIT_FAILED;
	}
	fputs("pyprobe: ", stderr);
	if (json_object_get(r, "processes"))
		fprintf(stderr, "%zu processes, ", json_array_size(json_object_get(r, "processes")));
	if (json_is_true(json_object_get(prof, "wall")))
		fprintf(stderr, "wall clock: %lld looks at blocked threads, ",
			json_integer_value(json_object_get(prof, "off_cpu_samples")));
	fprintf(stderr, "%lld samples, %zu stacks, %.1f s%s -> %s (%s)\n",
		json_integer_value(json_object_get(prof, "samples")), json_array_size(json_object_get(prof, "stacks")),
		json_number_value(json_object_get(r, "window_seconds")),
		json_is_true(json_object_get(r, "partial")) ? " (the process exited: partial profile)" : "", out,
		format);
	json_decref(r);
	return EXIT_OK;
}
