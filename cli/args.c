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

int cli_target_option(const char *cmd, int c, const char *arg, struct cli_target *t)
{
	char *end;

	switch (c) {
	case CLI_OPT_TREE:
	case CLI_OPT_MAX_TREE:
		t->tree = true;
		if (c == CLI_OPT_TREE)
			return 0;
		t->max_tree = strtol(arg, &end, 10);
		if (*end || end == arg || t->max_tree < 1 || t->max_tree > 1024) {
			fprintf(stderr, "pyprobe %s: --max-tree must be an integer from 1 to 1024, not '%s'\n", cmd, arg);
			return -1;
		}
		return 0;
	case CLI_OPT_UNIT:
	case CLI_OPT_CGROUP:
		if (t->group) {
			fprintf(stderr, "pyprobe %s: give one of --unit and --cgroup\n", cmd);
			return -1;
		}
		t->group_kind = c == CLI_OPT_UNIT ? "unit" : "cgroup";
		t->group = arg;
		return 0;
	}
	return -1;
}

json_t *cli_target_request(const char *cmd, const struct cli_target *t, int nargs, char **args, double seconds)
{
	json_t *req;
	pid_t pid;

	if (t->group) {
		if (nargs != 0) {
			fprintf(stderr, "pyprobe %s: --%s takes the place of the PID\nTry 'pyprobe %s --help'.\n", cmd,
				t->group_kind, cmd);
			return NULL;
		}
		return json_pack("{s:i, s:s, s:s, s:f, s:o*}", "v", PP_CTL_VERSION, "cmd", cmd, t->group_kind, t->group,
				 "seconds", seconds, "max_tree", t->max_tree ? json_integer(t->max_tree) : NULL);
	}
	if (nargs != 1) {
		fprintf(stderr, "pyprobe %s: expects exactly one PID\nTry 'pyprobe %s --help'.\n", cmd, cmd);
		return NULL;
	}
	pid = cli_parse_pid(cmd, args[0]);
	if (pid < 0)
		return NULL;
	req = json_pack("{s:i, s:s, s:i, s:f}", "v", PP_CTL_VERSION, "cmd", cmd, "pid", (int)pid, "seconds", seconds);
	if (req && t->tree)
		json_object_set_new(req, "tree", json_true());
	if (req && t->max_tree)
		json_object_set_new(req, "max_tree", json_integer(t->max_tree));
	return req;
}

int cli_window_cmd(const struct cli *cli, int argc, char **argv, const char *help, unsigned int flags,
		   void (*human)(json_t *reply))
{
	enum { OPT_THRESHOLD = 0x200 };
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 'n' },
		{ "limit", required_argument, NULL, 'l' },
		CLI_TARGET_OPTIONS,
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd = argv[0];
	double seconds = PP_CTL_DEFAULT_SECONDS;
	bool json = false, with_limit = flags & WIN_LIMIT;
	long limit = 20, threshold = 0;
	struct cli_target target = {};
	json_t *req, *r;
	char *end;
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
		case CLI_OPT_TREE:
		case CLI_OPT_MAX_TREE:
		case CLI_OPT_UNIT:
		case CLI_OPT_CGROUP:
			if (!(flags & WIN_TREE)) {
				fprintf(stderr, "pyprobe %s: --%s is for classify, top, gc and record\n", cmd,
					c == CLI_OPT_UNIT ? "unit" : c == CLI_OPT_CGROUP ? "cgroup" : "tree");
				return EXIT_USAGE;
			}
			if (cli_target_option(cmd, c, optarg, &target))
				return EXIT_USAGE;
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
	req = cli_target_request(cmd, &target, argc - optind, argv + optind, seconds);
	if (!req)
		return EXIT_USAGE;
	if (with_limit)
		json_object_set_new(req, "limit", json_integer(limit));
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

void cli_print_tree_header(json_t *r)
{
	json_t *procs = json_object_get(r, "processes"), *p;
	size_t i, observed = 0;

	json_array_foreach(procs, i, p)
		observed += json_is_true(json_object_get(p, "observed"));
	if (json_is_string(json_object_get(r, "group")))
		printf("processes of %s", cli_str(r, "group"));
	else
		printf("process tree of %lld", json_integer_value(json_object_get(r, "pid")));
	printf(", %.1f s window: %zu process%s, %zu observed\n", cli_num(r, "requested_seconds"),
	       json_array_size(procs), json_array_size(procs) == 1 ? "" : "es", observed);
	if (json_is_true(json_object_get(r, "truncated")))
		printf("the tree has more than %lld processes: the first %lld (breadth first) are shown; see --max-tree\n",
		       json_integer_value(json_object_get(r, "max_tree")), json_integer_value(json_object_get(r, "max_tree")));
}

bool cli_print_tree_row(json_t *p)
{
	long long ppid = json_integer_value(json_object_get(p, "ppid"));
	char pp[24];
	json_t *e;

	snprintf(pp, sizeof(pp), ppid ? "%lld" : "-", ppid);
	printf("%8lld %8s %-15.15s ", json_integer_value(json_object_get(p, "pid")), pp, cli_str(p, "comm"));
	if (json_is_true(json_object_get(p, "observed")))
		return true;
	e = json_object_get(p, "error");
	printf("not observed: %s (%s)\n", cli_str(e, "code"), cli_str(e, "message"));
	return false;
}

void cli_print_tree_joined(json_t *p)
{
	if (cli_num(p, "joined_seconds") >= 0.05)
		printf(" (joined at %.1f s)", cli_num(p, "joined_seconds"));
	printf("\n");
}
