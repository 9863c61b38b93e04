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

int cli_window_cmd(const struct cli *cli, int argc, char **argv, const char *help, unsigned int flags,
		   void (*human)(json_t *reply))
{
	enum { OPT_TREE = 0x100, OPT_MAX_TREE, OPT_THRESHOLD, OPT_UNIT, OPT_CGROUP };
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 'n' },
		{ "limit", required_argument, NULL, 'l' },
		{ "tree", no_argument, NULL, OPT_TREE },
		{ "max-tree", required_argument, NULL, OPT_MAX_TREE },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "unit", required_argument, NULL, OPT_UNIT },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd = argv[0];
	double seconds = PP_CTL_DEFAULT_SECONDS;
	bool json = false, with_limit = flags & WIN_LIMIT, tree = false;
	long limit = 20, max_tree = 0, threshold = 0;
	const char *group_kind = NULL, *group = NULL;
	json_t *req, *r;
	char *end;
	pid_t pid;
	int c, rc;

	while ((c = getopt_long(argc, argv, with_limit ? "n:l:jh" : "n:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_seconds(cmd, optarg, &seconds))
				return EXIT_USAGE;
			break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (!with_limit || *end || end == optarg || limit < 1 || limit > 1000) {
				fprintf(stderr, "pyprobe %s: --limit must be an integer from 1 to 1000, not '%s'\n", cmd,
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TREE:
		case OPT_MAX_TREE:
			if (!(flags & WIN_TREE)) {
				fprintf(stderr, "pyprobe %s: --tree is for classify only\n", cmd);
				return EXIT_USAGE;
			}
			tree = true;
			if (c == OPT_TREE)
				break;
			max_tree = strtol(optarg, &end, 10);
			if (*end || end == optarg || max_tree < 1 || max_tree > 1024) {
				fprintf(stderr, "pyprobe %s: --max-tree must be an integer from 1 to 1024, not '%s'\n",
					cmd, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_UNIT:
		case OPT_CGROUP:
			if (!(flags & WIN_TREE)) {
				fprintf(stderr, "pyprobe %s: --unit and --cgroup are for classify only\n", cmd);
				return EXIT_USAGE;
			}
			if (group) {
				fprintf(stderr, "pyprobe %s: give one of --unit and --cgroup\n", cmd);
				return EXIT_USAGE;
			}
			group_kind = c == OPT_UNIT ? "unit" : "cgroup";
			group = optarg;
			break;
		case OPT_THRESHOLD:
			threshold = strtol(optarg, &end, 10);
			if (!(flags & WIN_THRESHOLD)) {
				fprintf(stderr, "pyprobe %s: --threshold is for loop only\n", cmd);
				return EXIT_USAGE;
			}
			if (*end || end == optarg || threshold < 1 || threshold > 60000) {
				fprintf(stderr, "pyprobe %s: --threshold must be an integer from 1 to 60000 (ms), not '%s'\n",
					cmd, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'pyprobe %s --help'.\n", cmd);
			return EXIT_USAGE;
		}
	}
	if (group) {
		if (argc - optind != 0) {
			fprintf(stderr, "pyprobe %s: --%s takes the place of the PID\nTry 'pyprobe %s --help'.\n", cmd,
				group_kind, cmd);
			return EXIT_USAGE;
		}
		req = json_pack("{s:i, s:s, s:s, s:f}", "v", PP_CTL_VERSION, "cmd", cmd, group_kind, group, "seconds",
				seconds);
	} else {
		if (argc - optind != 1) {
			fprintf(stderr, "pyprobe %s: expects exactly one PID\nTry 'pyprobe %s --help'.\n", cmd, cmd);
			return EXIT_USAGE;
		}
		pid = cli_parse_pid(cmd, argv[optind]);
		if (pid < 0)
			return EXIT_USAGE;
		req = json_pack("{s:i, s:s, s:i, s:f}", "v", PP_CTL_VERSION, "cmd", cmd, "pid", (int)pid, "seconds",
				seconds);
	}
	if (with_limit)
		json_object_set_new(req, "limit", json_integer(limit));
	if (tree && !group)
		json_object_set_new(req, "tree", json_true());
	if (max_tree)
		json_object_set_new(req, "max_tree", json_integer(max_tree));
	if (threshold)
		json_object_set_new(req, "threshold_ms", json_integer(threshold));
	r = cli_call(cli, req, (int)(seconds * 1000) + 30000, json, &rc);
	if (!r)
		return rc;
	if (json)
		cli_print_json(r);
	else
		human(r);
	json_decref(r);
	return EXIT_OK;
}

double cli_num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

const char *cli_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "?";
}

bool cli_print_sampled_header(json_t *r, long long samples)
{
	json_t *py = json_object_get(r, "python");

	printf("pid %lld: CPython %s (%s), %.1f s window, %lld samples at %lld Hz\n",
	       json_integer_value(json_object_get(r, "pid")), cli_str(py, "version"), cli_str(py, "build"),
	       cli_num(r, "window_seconds"), samples, json_integer_value(json_object_get(r, "sample_hz")));
	if (!samples)
		printf("no samples: the process did not run on a CPU in the window\n");
	return samples > 0;
}
