// SPDX-License-Identifier: MIT
/* Argument parsing shared by the small commands. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include "pyprobe/ctl.h"
#include "cli.h"

/* Parse "[--json] [--help]" plus, when want_pid, one PID. Returns -1 to exit with *rc. */
int cli_parse_simple(int argc, char **argv, const char *help, bool want_pid, bool *json, pid_t *pid, int *rc)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	*json = false;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'h') {
			fputs(help, stdout);
			*rc = EXIT_OK;
			return -1;
		} else {
			fprintf(stderr, "Try 'pyprobe %s --help'.\n", argv[0]);
			*rc = EXIT_USAGE;
			return -1;
		}
	}
	if (argc - optind != (want_pid ? 1 : 0)) {
		fprintf(stderr, "pyprobe %s: %s\nTry 'pyprobe %s --help'.\n", argv[0],
			want_pid ? "expects exactly one PID" : "takes no arguments", argv[0]);
		*rc = EXIT_USAGE;
		return -1;
	}
	if (want_pid && (*pid = cli_parse_pid(argv[0], argv[optind])) < 0) {
		*rc = EXIT_USAGE;
		return -1;
	}
	return 0;
}

int cli_parse_seconds(const char *cmd, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < PP_CTL_MIN_SECONDS || v > PP_CTL_MAX_SECONDS) {
		fprintf(stderr, "pyprobe %s: --seconds must be a number from %g to %g, not '%s'\n", cmd,
			PP_CTL_MIN_SECONDS, PP_CTL_MAX_SECONDS, s);
		return -1;
	}
	*out = v;
	return 0;
}
