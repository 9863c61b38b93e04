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
	"Usage: pyprobe record PID -o FILE [--seconds N] [--format folded|pprof|speedscope|svg]\n"
	"Sample process PID's threads while they run on a CPU for N seconds and write\n"
	"the Python stacks to FILE ('-' for standard output). If the process exits\n"
	"early, the part recorded so far is written.\n\n"
	"  -o, --output FILE   where to write the profile (required)\n"
	"  -f, --format F      folded (flamegraph.pl, inferno; default), pprof\n"
	"                      (gzip-compressed protobuf: go tool pprof, Pyroscope,\n"
	"                      Parca), speedscope (JSON for speedscope.app) or svg\n"
	"                      (a flame graph to open in a browser)\n"
	"  -n, --seconds N     length of the recording (default 2, 0.1-3600)\n"
	"  -h, --help          this help\n";

int cmd_record(const struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	double seconds = PP_CTL_DEFAULT_SECONDS;
	const char *out = NULL, *format = "folded";
	json_t *r, *prof;
	char name[64];
	FILE *f;
	pid_t pid;
	int c, rc, err;

	while ((c = getopt_long(argc, argv, "o:f:n:h", longopts, NULL)) != -1) {
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
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			fputs("Try 'pyprobe record --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || !out) {
		fprintf(stderr, "pyprobe record: expects one PID and -o FILE\nTry 'pyprobe record --help'.\n");
		return EXIT_USAGE;
	}
	pid = cli_parse_pid("record", argv[optind]);
	if (pid < 0)
		return EXIT_USAGE;
	r = cli_call_progress(cli, json_pack("{s:i, s:s, s:i, s:f}", "v", PP_CTL_VERSION, "cmd", "record", "pid",
					     (int)pid, "seconds", seconds),
			      (int)(seconds * 1000) + 30000, false, &rc, seconds);
	if (!r)
		return rc;
	prof = json_object_get(r, "profile");
	f = strcmp(out, "-") ? fopen(out, "we") : stdout;
	if (!f) {
		fprintf(stderr, "pyprobe record: cannot write %s: %s\n", out, strerror(errno));
		json_decref(r);
		return EXIT_FAILED;
	}
	snprintf(name, sizeof(name), "pyprobe pid %d", pid);
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
	fprintf(stderr, "pyprobe: %lld samples, %zu stacks, %.1f s%s -> %s (%s)\n",
		json_integer_value(json_object_get(prof, "samples")), json_array_size(json_object_get(prof, "stacks")),
		json_number_value(json_object_get(r, "window_seconds")),
		json_is_true(json_object_get(r, "partial")) ? " (the process exited: partial profile)" : "", out,
		format);
	json_decref(r);
	return EXIT_OK;
}
