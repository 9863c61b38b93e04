// SPDX-License-Identifier: MIT
/* status, list and detach: small requests with small replies. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "pyprobe/ctl.h"
#include "cli.h"

#define TIMEOUT_MS 10000

/* Parse "[--json] [--help]" plus, when want_pid, one PID. Returns -1 to exit with *rc. */
static int parse(int argc, char **argv, const char *help, bool want_pid, bool *json, pid_t *pid, int *rc)
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

int cmd_status(const struct cli *cli, int argc, char **argv)
{
	bool json;
	int rc;
	json_t *r, *bpf;

	if (parse(argc, argv, "Usage: pyprobe status [--json]\nShow pyprobed's version, uptime, clients and "
		  "observed processes.\n", false, &json, NULL, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s}", "v", PP_CTL_VERSION, "cmd", "status"), TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	if (json) {
		cli_print_json(r);
	} else {
		bpf = json_object_get(r, "bpf");
		printf("pyprobed %s (pid %lld), up %.0f s\n", json_string_value(json_object_get(r, "version")),
		       json_integer_value(json_object_get(r, "pid")),
		       json_number_value(json_object_get(r, "uptime_seconds")));
		printf("observing %lld process(es), %lld window(s) open, %lld client(s), %lld request(s) served\n",
		       json_integer_value(json_object_get(r, "sessions")), json_integer_value(json_object_get(r, "pending")),
		       json_integer_value(json_object_get(r, "clients")), json_integer_value(json_object_get(r, "requests")));
		printf("probes %s; CPU sampling %lld Hz on %lld CPU(s)\n",
		       json_is_true(json_object_get(bpf, "attached")) ? "attached" : "idle (attached on demand)",
		       json_integer_value(json_object_get(bpf, "sample_hz")),
		       json_integer_value(json_object_get(bpf, "cpus_sampled")));
	}
	json_decref(r);
	return EXIT_OK;
}

int cmd_list(const struct cli *cli, int argc, char **argv)
{
	bool json;
	int rc;
	json_t *r, *a, *s;
	size_t i;

	if (parse(argc, argv, "Usage: pyprobe list [--json]\nList the processes pyprobed is observing now.\n",
		  false, &json, NULL, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s}", "v", PP_CTL_VERSION, "cmd", "list"), TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	a = json_object_get(r, "sessions");
	if (json) {
		cli_print_json(r);
	} else if (json_array_size(a) == 0) {
		printf("no processes are being observed\n");
	} else {
		printf("%8s  %-9s %9s %8s  %s\n", "PID", "PYTHON", "ATTACHED", "REQUESTS", "BUILD");
		json_array_foreach(a, i, s) {
			json_t *py = json_object_get(s, "python");

			printf("%8lld  %-9s %8.1fs %8lld  %s\n", json_integer_value(json_object_get(s, "pid")),
			       json_string_value(json_object_get(py, "version")),
			       json_number_value(json_object_get(s, "attached_seconds")),
			       json_integer_value(json_object_get(s, "requests")),
			       json_string_value(json_object_get(py, "build")));
		}
	}
	json_decref(r);
	return EXIT_OK;
}

int cmd_detach(const struct cli *cli, int argc, char **argv)
{
	bool json;
	pid_t pid;
	int rc;
	json_t *r;

	if (parse(argc, argv, "Usage: pyprobe detach PID [--json]\nStop observing PID now: its probes are removed "
		  "and open windows on it end with an error.\n", true, &json, &pid, &rc))
		return rc;
	r = cli_call(cli, json_pack("{s:i, s:s, s:i}", "v", PP_CTL_VERSION, "cmd", "detach", "pid", (int)pid),
		     TIMEOUT_MS, json, &rc);
	if (!r)
		return rc;
	if (json)
		cli_print_json(r);
	else
		printf("detached from %d\n", pid);
	json_decref(r);
	return EXIT_OK;
}
